#!/bin/sh
# Configures a Release build for packaging in build-pkg/ (prefix /usr), builds it and runs cpack:
# a .deb always, an .rpm when rpmbuild is installed (`apt-get install rpm`). Prints the paths.
# Usage: tests/packaging/build-packages.sh [build-dir]   (default: <repo>/build-pkg)
set -eu

root=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$root/build-pkg}

generator=
if command -v ninja >/dev/null 2>&1; then generator="-G Ninja"; fi
# Debian's hardening flags (fortify, stack protector, relro, bindnow, PIE), as a Debian package
# build would use them.
cxxflags='' ldflags=''
if command -v dpkg-buildflags >/dev/null 2>&1; then
  cd "$root"  # -ffile-prefix-map maps the current directory
  export DEB_BUILD_MAINT_OPTIONS=hardening=+all
  cxxflags="$(dpkg-buildflags --get CPPFLAGS) $(dpkg-buildflags --get CXXFLAGS)"
  ldflags=$(dpkg-buildflags --get LDFLAGS)
fi
# shellcheck disable=SC2086  # $generator is empty or two words
cmake -S "$root" -B "$build" $generator -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_INSTALL_PREFIX=/usr -DPULLGUARD_BUILD_TESTS=OFF \
  -DCMAKE_CXX_FLAGS="$cxxflags" -DCMAKE_EXE_LINKER_FLAGS="$ldflags" >/dev/null
cmake --build "$build" --target pullguard

generators=DEB
if command -v rpmbuild >/dev/null 2>&1; then
  generators="DEB;RPM"
else
  echo "rpmbuild not found: skipping the RPM (apt-get install rpm)" >&2
fi

cd "$build"
rm -f pullguard_*.deb pullguard-*.rpm
cpack -G "$generators" >cpack.log 2>&1 || { cat cpack.log >&2; exit 1; }
for package in "$build"/pullguard_*.deb "$build"/pullguard-*.rpm; do
  [ -e "$package" ] && echo "$package"
done
exit 0
