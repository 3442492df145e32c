# Installs the files that make pullguard a system service (unit, defaults file, configuration,
# docs) and configures CPack to build a .deb and, where rpmbuild exists, an .rpm from them.

include(GNUInstallDirs)
find_package(PkgConfig QUIET)
cmake_path(GET CMAKE_CURRENT_LIST_DIR PARENT_PATH _pg_root)

set(PULLGUARD_SYSTEMD_UNITDIR "" CACHE STRING "systemd system unit directory (empty: systemd.pc's \
for a /usr prefix, else <prefix>/lib/systemd/system)")
set(PULLGUARD_PACKAGE_MAINTAINER "pullguard developers <dev@pullguard.invalid>" CACHE STRING
    "Maintainer field of the .deb and Packager of the .rpm")

# systemd.pc says where a /usr install puts units: /lib/systemd/system on Debian 12,
# /usr/lib/systemd/system where /usr is merged in the package manager's view too.
set(_pg_pc_unitdir "")
if(PKG_CONFIG_FOUND)
  pkg_get_variable(_pg_pc_unitdir systemd systemdsystemunitdir)
endif()

# The unit, /etc/default/pullguard and the configuration live outside the prefix. Their
# directories are resolved when installing, with the prefix in use then: `cmake --install build
# --prefix /usr` on a tree configured for /usr/local still puts them in /etc and /lib/systemd.
# The rule for sysconfdir is GNUInstallDirs' (prefix / or /usr: /etc; /opt/x: /etc/opt/x).
set(_pg_install_vars "
set(_pg_sysconfdir_rel [[${CMAKE_INSTALL_SYSCONFDIR}]])
set(_pg_unitdir_override [[${PULLGUARD_SYSTEMD_UNITDIR}]])
set(_pg_pc_unitdir [[${_pg_pc_unitdir}]])
set(_pg_src [[${_pg_root}]])
set(_pg_docdir [[${CMAKE_INSTALL_DOCDIR}]])
set(_pg_deb_changelog [[${CMAKE_CURRENT_BINARY_DIR}/packaging/deb/changelog.gz]])
")
install(CODE "${_pg_install_vars}")
install(CODE [[
  set(_pg_prefix "${CMAKE_INSTALL_PREFIX}")
  if(IS_ABSOLUTE "${_pg_sysconfdir_rel}")
    set(_pg_etc "${_pg_sysconfdir_rel}")
  elseif(_pg_prefix MATCHES "^/(usr/?)?$")
    set(_pg_etc "/${_pg_sysconfdir_rel}")
  elseif(_pg_prefix MATCHES "^/opt/" AND NOT _pg_prefix MATCHES "^/opt/homebrew/")
    set(_pg_etc "/${_pg_sysconfdir_rel}${_pg_prefix}")
  else()
    set(_pg_etc "${_pg_prefix}/${_pg_sysconfdir_rel}")
  endif()

  # cpack names its generator in PULLGUARD_CPACK_GENERATOR (see the project config file below).
  if("$ENV{PULLGUARD_CPACK_GENERATOR}" STREQUAL "RPM")
    set(_pg_unitdir "/usr/lib/systemd/system")
  elseif(_pg_unitdir_override)
    set(_pg_unitdir "${_pg_unitdir_override}")
  elseif(_pg_prefix MATCHES "^/(usr/?)?$" AND IS_ABSOLUTE "${_pg_pc_unitdir}")
    set(_pg_unitdir "${_pg_pc_unitdir}")
  else()
    set(_pg_unitdir "lib/systemd/system")
  endif()
  if(NOT IS_ABSOLUTE "${_pg_unitdir}")
    string(REGEX REPLACE "/$" "" _pg_prefix_noslash "${_pg_prefix}")
    set(_pg_unitdir "${_pg_prefix_noslash}/${_pg_unitdir}")
  endif()

  file(INSTALL "${_pg_src}/systemd/pullguard.service" DESTINATION "${_pg_unitdir}"
       PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)

  # Configuration installed straight onto a live system (no DESTDIR) is never overwritten:
  # it is the operator's file once it exists, as a conffile is for dpkg.
  foreach(_pg_pair "systemd/pullguard.default;default;pullguard"
                   "deploy/pullguard.json;pullguard;pullguard.json")
    list(GET _pg_pair 0 _pg_from)
    list(GET _pg_pair 1 _pg_dir)
    list(GET _pg_pair 2 _pg_name)
    set(_pg_dest "${_pg_etc}/${_pg_dir}")
    if("$ENV{DESTDIR}" STREQUAL "" AND EXISTS "${_pg_dest}/${_pg_name}")
      message(STATUS "Keeping existing: ${_pg_dest}/${_pg_name}")
      continue()
    endif()
    file(INSTALL "${_pg_src}/${_pg_from}" DESTINATION "${_pg_dest}" RENAME "${_pg_name}"
         PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)
  endforeach()

  if("$ENV{PULLGUARD_CPACK_GENERATOR}" STREQUAL "DEB" AND EXISTS "${_pg_deb_changelog}")
    file(INSTALL "${_pg_deb_changelog}" DESTINATION "${_pg_prefix}/${_pg_docdir}"
         PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)
  endif()
]])

install(FILES ${_pg_root}/README.md DESTINATION ${CMAKE_INSTALL_DOCDIR})
install(FILES ${_pg_root}/systemd/README.md DESTINATION ${CMAKE_INSTALL_DOCDIR}
        RENAME README.systemd.md)
file(GLOB _pg_examples CONFIGURE_DEPENDS ${_pg_root}/docs/examples/*.json)
install(FILES ${_pg_examples} DESTINATION ${CMAKE_INSTALL_DOCDIR}/examples)
# Prometheus rules and the Grafana dashboard, for monitoring setups to load from the package
# (exporters/prometheus/README.md says how).
install(FILES ${_pg_root}/exporters/prometheus/alerts.yml
        DESTINATION ${CMAKE_INSTALL_DATADIR}/pullguard/prometheus)
install(FILES ${_pg_root}/exporters/prometheus/dashboard.json
        DESTINATION ${CMAKE_INSTALL_DATADIR}/pullguard/grafana)

# --- CPack -------------------------------------------------------------------------------------

set(CPACK_PACKAGE_NAME pullguard)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "${PULLGUARD_PACKAGE_MAINTAINER}")
set(CPACK_PACKAGE_VENDOR "pullguard developers")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "Docker Hub pull rate-limit monitor for Prometheus")
set(CPACK_PACKAGE_DESCRIPTION
    "pullguard watches the remaining Docker Hub pull budget of every identity a host
pulls with (anonymous, or a Docker ID) by sending free HEAD requests for a
manifest, and serves it as Prometheus metrics, so the budget is seen falling
before pulls fail with toomanyrequests. The service runs under systemd with a
dynamic user.")
set(CPACK_STRIP_FILES ON)
set(CPACK_PACKAGE_RELOCATABLE OFF)
set(CPACK_SOURCE_GENERATOR TGZ)
set(CPACK_SOURCE_IGNORE_FILES "/\\.git/" "/build[^/]*/" "/cmake-build[^/]*/" "/__pycache__/")
set(CPACK_GENERATOR DEB)
find_program(PULLGUARD_RPMBUILD rpmbuild)
if(PULLGUARD_RPMBUILD)
  list(APPEND CPACK_GENERATOR RPM)
endif()

# DEB: Depends computed by dpkg-shlibdeps, plus the CA bundle libcurl needs for https and procps
# for the unit's ExecReload=/bin/kill (procps is not Essential; a minbase root lacks it).
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "ca-certificates, procps")
set(CPACK_DEBIAN_COMPRESSION_TYPE xz)
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${CMAKE_CURRENT_LIST_DIR}/deb/conffiles ${CMAKE_CURRENT_LIST_DIR}/deb/postinst
    ${CMAKE_CURRENT_LIST_DIR}/deb/prerm ${CMAKE_CURRENT_LIST_DIR}/deb/postrm)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)

# Debian wants a changelog in every binary package: one entry for this version and revision,
# dated by the commit, compressed the way dh_compress does it.
find_program(PULLGUARD_GZIP gzip)
execute_process(COMMAND git log -1 --format=%cD WORKING_DIRECTORY ${_pg_root}
                OUTPUT_VARIABLE _pg_date OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
if(NOT _pg_date)
  string(TIMESTAMP _pg_date "%a, %d %b %Y %H:%M:%S +0000" UTC)
endif()
if(PULLGUARD_GZIP)
  set(_pg_changelog ${CMAKE_CURRENT_BINARY_DIR}/packaging/deb/changelog)
  file(WRITE ${_pg_changelog}
       "pullguard (${PROJECT_VERSION}) unstable; urgency=medium\n\n"
       "  * Built from revision ${PULLGUARD_REVISION} with CPack.\n\n"
       " -- ${PULLGUARD_PACKAGE_MAINTAINER}  ${_pg_date}\n")
  execute_process(COMMAND ${PULLGUARD_GZIP} -9nf ${_pg_changelog})
endif()

# RPM: requirements computed by rpmbuild; the unit goes to /usr/lib/systemd/system there, and the
# scriptlets are what %systemd_post, %systemd_preun and %systemd_postun_with_restart expand to.
set(CPACK_RPM_FILE_NAME RPM-DEFAULT)
set(CPACK_RPM_PACKAGE_RELEASE 1)
set(CPACK_RPM_PACKAGE_GROUP "System Environment/Daemons")
set(CPACK_RPM_PACKAGE_DESCRIPTION "${CPACK_PACKAGE_DESCRIPTION}")
set(CPACK_RPM_PACKAGE_AUTOREQ ON)
set(CPACK_RPM_PACKAGE_REQUIRES "ca-certificates")
set(CPACK_RPM_USER_FILELIST "%config(noreplace) /etc/pullguard/pullguard.json"
                            "%config(noreplace) /etc/default/pullguard")
set(CPACK_RPM_EXCLUDE_FROM_AUTO_FILELIST_ADDITION
    /etc/default /usr/lib/systemd /usr/lib/systemd/system)
set(_pg_rpm_dir ${CMAKE_CURRENT_BINARY_DIR}/packaging/rpm)
file(WRITE ${_pg_rpm_dir}/post.sh [[
if [ "$1" -eq 1 ]; then
  systemctl --no-reload preset pullguard.service >/dev/null 2>&1 || :
fi
]])
file(WRITE ${_pg_rpm_dir}/preun.sh [[
if [ "$1" -eq 0 ]; then
  systemctl --no-reload disable --now pullguard.service >/dev/null 2>&1 || :
fi
]])
file(WRITE ${_pg_rpm_dir}/postun.sh [[
if [ -d /run/systemd/system ]; then
  systemctl daemon-reload >/dev/null 2>&1 || :
  if [ "$1" -ge 1 ]; then
    systemctl try-restart pullguard.service >/dev/null 2>&1 || :
  fi
fi
]])
set(CPACK_RPM_POST_INSTALL_SCRIPT_FILE ${_pg_rpm_dir}/post.sh)
set(CPACK_RPM_PRE_UNINSTALL_SCRIPT_FILE ${_pg_rpm_dir}/preun.sh)
set(CPACK_RPM_POST_UNINSTALL_SCRIPT_FILE ${_pg_rpm_dir}/postun.sh)

# Read by cpack once per generator; the install code above runs in the same process.
set(CPACK_PROJECT_CONFIG_FILE ${CMAKE_CURRENT_BINARY_DIR}/packaging/project-config.cmake)
file(WRITE ${CPACK_PROJECT_CONFIG_FILE} [[
set(ENV{PULLGUARD_CPACK_GENERATOR} "${CPACK_GENERATOR}")
]])

include(CPack)
