#!/usr/bin/env bash
# Builds a local Debian 12 base image (pullguard-base:bookworm) without Docker Hub: debootstrap
# a minbase root from the Debian archive this machine's apt uses, update it, strip it, import it.
#
# usage: deploy/docker/make-base-image.sh [--tag NAME] [--refresh]
#   --tag NAME   image to create (default pullguard-base:bookworm)
#   --refresh    debootstrap again even if the cached root tarball exists
# environment:
#   PULLGUARD_CONTAINER_CACHE   cache directory (default: build-container/ at the top of the repo);
#                               holds debian-bookworm-minbase-<arch>.tar, reused by later runs
#   PULLGUARD_DEBIAN_MIRROR     archive for bookworm and bookworm-updates (default: from apt's sources)
#   PULLGUARD_DEBIAN_SECURITY   archive for bookworm-security (default: from apt's sources)
#   DOCKER                      docker client to use (default: docker); DOCKER_HOST as usual
#   http_proxy                  taken from apt's Acquire::http::Proxy when that is set
# Needs root, debootstrap and a running Docker Engine.
set -euo pipefail
trap 'exit 130' INT TERM  # so that the EXIT trap cleans up

tag=pullguard-base:bookworm
refresh=0
while [ $# -gt 0 ]; do
  case "$1" in
    --tag) tag="$2"; shift 2 ;;
    --refresh) refresh=1; shift ;;
    -h | --help) sed -n '2,15p' "$0"; exit 0 ;;
    *) echo "make-base-image: unknown argument: $1" >&2; exit 64 ;;
  esac
done

top="$(cd "$(dirname "$0")/../.." && pwd)"
cache="${PULLGUARD_CONTAINER_CACHE:-$top/build-container}"
docker="${DOCKER:-docker}"
suite=bookworm
arch="$(dpkg --print-architecture)"
tarball="$cache/debian-$suite-minbase-$arch.tar"

die() { echo "make-base-image: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || die "must run as root (debootstrap and chroot)"
command -v debootstrap >/dev/null || die "debootstrap is missing: apt-get install debootstrap"
command -v "$docker" >/dev/null || die "docker client '$docker' is missing: apt-get install docker.io"

# The archive apt already reaches here (deb822 or one-line sources alike), unless overridden.
repo_for() {
  # shellcheck disable=SC2016  # apt-get's own $(FIELD) placeholders
  apt-get indextargets --format '$(RELEASE) $(REPO_URI)' 2>/dev/null |
    awk -v r="$1" '$1 == r { print $2; exit }'
}
mirror="${PULLGUARD_DEBIAN_MIRROR:-$(repo_for "$suite")}"
security="${PULLGUARD_DEBIAN_SECURITY:-$(repo_for "$suite-security")}"
mirror="${mirror:-http://deb.debian.org/debian/}"
security="${security:-http://deb.debian.org/debian-security/}"

# If apt goes through a proxy, debootstrap (wget) and the chroot's apt must too.
apt_proxy=""
eval "$(apt-config shell apt_proxy Acquire::http::Proxy)"
if [ -n "$apt_proxy" ] && [ "$apt_proxy" != DIRECT ]; then
  export http_proxy="$apt_proxy"
  echo "make-base-image: using apt's proxy $apt_proxy"
fi

build_rootfs() {
  local work root
  work="$(mktemp -d "${TMPDIR:-/tmp}/pullguard-base.XXXXXX")"
  root="$work/rootfs"
  # shellcheck disable=SC2064  # expand now: the variables are local
  trap "umount -l '$root/proc' 2>/dev/null || true; rm -rf '$work'" EXIT

  echo "make-base-image: debootstrap --variant=minbase $suite from $mirror"
  debootstrap --variant=minbase --arch="$arch" --components=main "$suite" "$root" "$mirror" \
    >"$work/debootstrap.log" 2>&1 || { tail -n 30 "$work/debootstrap.log" >&2; die "debootstrap failed"; }

  # Sources as in Debian's own images: the release, its updates and the security archive.
  rm -f "$root/etc/apt/sources.list"
  cat >"$root/etc/apt/sources.list.d/debian.sources" <<EOF
Types: deb
URIs: ${mirror%/}
Suites: $suite $suite-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: ${security%/}
Suites: $suite-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
  # Small images, as debuerreotype builds them: no docs, man pages or translations from later
  # installs, no package cache, compressed lists, no daemons started by postinst scripts.
  cat >"$root/etc/dpkg/dpkg.cfg.d/docker" <<'EOF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/groff/*
path-exclude /usr/share/lintian/*
path-exclude /usr/share/linda/*
path-exclude /usr/share/locale/*
EOF
  cat >"$root/etc/apt/apt.conf.d/docker-clean" <<'EOF'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
EOF
  printf 'Acquire::GzipIndexes "true";\nAcquire::Languages "none";\n' \
    >"$root/etc/apt/apt.conf.d/docker-gzip-indexes"
  printf 'APT::Install-Recommends "false";\nAPT::AutoRemove::SuggestsImportant "false";\n' \
    >"$root/etc/apt/apt.conf.d/docker-no-recommends"
  # Keep apt's date checks as lenient as the host's, so an archive the host accepts works inside.
  local v
  for key in Acquire::Check-Valid-Until Acquire::Check-Date; do
    v="$(apt-config dump "$key" | awk -v k="$key" '$1 == k { gsub(/[";]/, "", $2); print $2 }')"
    if [ "$v" = false ]; then echo "$key \"false\";" >>"$root/etc/apt/apt.conf.d/docker-archive-dates"; fi
  done
  printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
  chmod 755 "$root/usr/sbin/policy-rc.d"

  # Bring in bookworm-updates and security fixes (debootstrap only reads the release).
  echo "make-base-image: apt-get dist-upgrade from $suite-updates and $suite-security"
  cp /etc/resolv.conf "$root/etc/resolv.conf"
  mount -t proc proc "$root/proc"
  chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive \
    ${http_proxy:+http_proxy="$http_proxy"} \
    sh -c 'apt-get update -qq && apt-get dist-upgrade -y -qq && apt-get clean' \
    >"$work/upgrade.log" 2>&1 || { tail -n 30 "$work/upgrade.log" >&2; die "apt-get dist-upgrade failed"; }
  umount "$root/proc"

  # Strip what a container never reads; Docker provides resolv.conf, hosts and hostname.
  rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/* "$root"/var/cache/debconf/*-old \
    "$root"/var/lib/dpkg/*-old "$root"/usr/share/man/* "$root"/usr/share/info/* \
    "$root"/usr/share/locale/* "$root"/usr/share/lintian "$root"/usr/share/linda "$root"/tmp/* \
    "$root"/var/tmp/* "$root"/var/log/apt/* "$root"/root/.bash_history
  find "$root/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete
  find "$root/usr/share/doc" -mindepth 1 -type d -empty -delete
  find "$root/var/log" -type f -delete
  : >"$root/etc/resolv.conf"
  : >"$root/etc/machine-id"
  echo localhost >"$root/etc/hostname"

  mkdir -p "$cache"
  tar --numeric-owner --xattrs -C "$root" -cf "$tarball.tmp" .
  mv "$tarball.tmp" "$tarball"
  printf 'suite=%s\nmirror=%s\nsecurity=%s\ncreated=%s\n' "$suite" "$mirror" "$security" \
    "$(date -u +%Y-%m-%dT%H:%M:%SZ)" >"$tarball.info"
  rm -rf "$work"
  trap - EXIT
}

if [ "$refresh" = 1 ] || [ ! -s "$tarball" ]; then
  build_rootfs
else
  echo "make-base-image: reusing $tarball ($(sed -n 's/^created=//p' "$tarball.info" 2>/dev/null))"
fi

# Import again only when the tarball changed: a new import is a new image ID, which would throw
# away the build cache of every image built on it.
stamp="$({ cat "$tarball.info" 2>/dev/null || stat -c '%s %Y' "$tarball"; } | sha256sum | cut -c1-16)"
# The stamp goes in the import comment, not a label: labels would be inherited by every image
# built on this one.
comment="debootstrap --variant=minbase $suite $mirror (rootfs $stamp)"
if [ "$("$docker" image inspect --format '{{.Comment}}' "$tag" 2>/dev/null)" = "$comment" ]; then
  echo "make-base-image: $tag is up to date"
else
  "$docker" import \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'CMD ["bash"]' \
    --message "$comment" \
    "$tarball" "$tag" >/dev/null
fi
size="$("$docker" image inspect --format '{{.Size}}' "$tag")"
echo "make-base-image: $tag ($((size / 1024 / 1024)) MiB)"
