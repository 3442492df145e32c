#!/bin/bash
# Installs the built .deb with apt into a clean Debian 12 root (debootstrap --variant=minbase
# plus systemd, cached as a tarball in build-pkg/) so its Depends are resolved from the
# archive, then checks the binary, the shipped configuration, the conffiles, the installed unit
# (systemd-analyze verify, any output fails), `dpkg -r` and `dpkg -P`.
# Needs root, debootstrap, and the Debian archive this machine's apt uses (or
# PULLGUARD_DEBIAN_MIRROR). Usage: tests/packaging/test-deb-install.sh [pullguard_*.deb]
set -u

repo=$(cd "$(dirname "$0")/../.." && pwd)
newest_deb() {
  find "$repo/build-pkg" -maxdepth 1 -name 'pullguard_*.deb' -printf '%T@ %p\n' 2>/dev/null |
    sort -rn | head -n 1 | cut -d' ' -f2-
}
deb=${1:-$(newest_deb)}
start=$(date +%s)

if [ "$(id -u)" -ne 0 ]; then echo "FAIL: needs root (debootstrap, chroot)"; exit 1; fi
if [ -z "$deb" ] || [ ! -f "$deb" ]; then
  echo "FAIL: no package; run tests/packaging/build-packages.sh first"; exit 1
fi
if ! command -v debootstrap >/dev/null; then
  echo "FAIL: debootstrap missing (apt-get install debootstrap)"; exit 1
fi
deb=$(cd "$(dirname "$deb")" && pwd)/$(basename "$deb")
work=$repo/build-pkg
mkdir -p "$work"
cache=${PULLGUARD_ROOT_CACHE:-$work/debian12-minbase-systemd.tar.gz}

results=()
failures=0
check() {  # check NAME COMMAND...: runs COMMAND, records PASS/FAIL under NAME with its time
  local name=$1 t0; shift
  t0=$(date +%s.%N)
  if "$@"; then
    results+=("PASS  $name  [$(elapsed_since "$t0")]")
  else
    results+=("FAIL  $name  [$(elapsed_since "$t0")]"); failures=$((failures + 1))
  fi
}
elapsed_since() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f s", b - a }'; }
phase() { echo "== $1 ($(($(date +%s) - start)) s)"; }

# --- the archive this machine's apt uses: "<suite> <uri>" per line -----------------------------
host_suites() {
  local f
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] || continue
    awk 'BEGIN { RS = ""; FS = "\n" }
      { types = uris = suites = ""; enabled = 1
        for (i = 1; i <= NF; i++) {
          if ($i ~ /^Types:/) types = substr($i, 7)
          else if ($i ~ /^URIs:/) uris = substr($i, 6)
          else if ($i ~ /^Suites:/) suites = substr($i, 8)
          else if ($i ~ /^Enabled:[ \t]*no/) enabled = 0
        }
        if (!enabled || types !~ /(^|[ \t])deb([ \t]|$)/) next
        nu = split(uris, u, /[ \t]+/); ns = split(suites, s, /[ \t]+/)
        for (j = 1; j <= ns; j++)
          for (k = 1; k <= nu; k++)
            if (s[j] != "" && u[k] != "") print s[j], u[k]
      }' "$f"
  done
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [ -f "$f" ] || continue
    sed -e 's/#.*//' -e 's/\[[^]]*\]//' "$f" | awk '$1 == "deb" { print $3, $2 }'
  done
}
suite_uri() { host_suites | awk -v s="$1" '$1 == s { print $2; exit }'; }
mirror=${PULLGUARD_DEBIAN_MIRROR:-$(suite_uri bookworm)}
if [ -z "$mirror" ]; then
  echo "FAIL: no bookworm entry in /etc/apt/sources*; set PULLGUARD_DEBIAN_MIRROR"; exit 1
fi

# --- the root: extracted from the cache, or debootstrapped once and cached ---------------------
root=$(mktemp -d "$work/deb-root.XXXXXX")
mounted=()
cleanup() {
  local m
  for m in "${mounted[@]}"; do umount "$m" || umount -l "$m"; done
  if grep -q " $root/" /proc/mounts; then
    echo "WARNING: something is still mounted under $root; not deleting it" >&2
  else
    rm -rf "$root"
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [ -f "$cache" ]; then
  phase "unpacking the cached Debian 12 root $(basename "$cache")"
  tar -C "$root" --numeric-owner -xzf "$cache" || { echo "FAIL: cannot unpack $cache"; exit 1; }
else
  phase "debootstrap --variant=minbase --include=systemd bookworm from $mirror"
  if ! debootstrap --variant=minbase --include=systemd bookworm "$root" "$mirror" \
    >"$root.debootstrap.log" 2>&1; then
    tail -n 20 "$root.debootstrap.log"; rm -f "$root.debootstrap.log"
    echo "FAIL: debootstrap"; exit 1
  fi
  rm -f "$root.debootstrap.log"
  tar -C "$root" --numeric-owner -czf "$cache.tmp.$$" . && mv "$cache.tmp.$$" "$cache"
fi

{
  echo "deb $mirror bookworm main"
  for suite in bookworm-updates bookworm-security; do
    uri=$(suite_uri "$suite")
    if [ -n "$uri" ]; then echo "deb $uri $suite main"; fi
  done
} >"$root/etc/apt/sources.list"
cp -L /etc/resolv.conf "$root/etc/resolv.conf"
# As in image builds: no service may start (there is no systemd running here anyway).
printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
chmod 755 "$root/usr/sbin/policy-rc.d"
mount -t proc proc "$root/proc" && mounted+=("$root/proc")
cp "$deb" "$root/tmp/"
pkg=/tmp/$(basename "$deb")

in_root() {
  chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LC_ALL=C.UTF-8 \
    DEBIAN_FRONTEND=noninteractive "$@"
}
# quiet NAME COMMAND...: true when COMMAND exits 0 and writes nothing to stderr.
quiet() {
  local name=$1; shift
  local err rc; err=$(mktemp)
  "$@" 2>"$err"; rc=$?
  if [ $rc -eq 0 ] && [ ! -s "$err" ]; then rm -f "$err"; return 0; fi
  echo "   $name: exit $rc, stderr:"; sed 's/^/     /' "$err"; rm -f "$err"; return 1
}

# --- install ------------------------------------------------------------------------------------
phase "apt-get install $pkg"
install_ok() {
  in_root apt-get update -q >"$root.apt.log" 2>&1 &&
    in_root apt-get install -y -q --no-install-recommends "$pkg" >>"$root.apt.log" 2>&1
  local rc=$?
  [ $rc -eq 0 ] || tail -n 30 "$root.apt.log"
  grep '^Setting up' "$root.apt.log" | sed 's/^/   /'
  rm -f "$root.apt.log"
  return $rc
}
check "apt-get install $(basename "$deb") (Depends from the archive)" install_ok

version=$(dpkg-deb -f "$deb" Version)
version_ok() {
  local out; out=$(in_root pullguard --version) || return 1
  echo "   $out"
  case "$out" in "pullguard $version "*) return 0 ;; *) return 1 ;; esac
}
check "pullguard --version reports $version" version_ok
config_ok() {
  local out rc
  out=$(in_root pullguard --config.check --config.file /etc/pullguard/pullguard.json 2>&1)
  rc=$?
  echo "   exit $rc: $out"
  return $rc
}
check "pullguard --config.check --config.file /etc/pullguard/pullguard.json" config_ok
conffiles_ok() {
  local listed
  # shellcheck disable=SC2016  # ${Conffiles} is dpkg-query's, not the shell's
  listed=$(in_root dpkg-query --showformat='${Conffiles}' --show pullguard)
  echo "$listed" | sed '/^$/d; s/^/  /'
  echo "$listed" | grep -q '^ /etc/pullguard/pullguard.json [0-9a-f]\{32\}$' &&
    echo "$listed" | grep -q '^ /etc/default/pullguard [0-9a-f]\{32\}$'
}
check "conffiles: /etc/pullguard/pullguard.json and /etc/default/pullguard" conffiles_ok
unit=$(in_root dpkg -L pullguard | grep '/systemd/system/pullguard\.service$')
verify_ok() {
  [ -n "$unit" ] || { echo "   no unit in dpkg -L pullguard"; return 1; }
  local out; out=$(in_root systemd-analyze verify --man=no "$unit" 2>&1)
  local rc=$?
  [ $rc -eq 0 ] && [ -z "$out" ] && return 0
  echo "   exit $rc:"; printf '%s\n' "$out" | sed 's/^/     /'; return 1
}
check "systemd-analyze verify --man=no $unit: exit 0, no output" verify_ok
check "postinst enabled the unit for boot (multi-user.target.wants)" \
  test -L "$root/etc/systemd/system/multi-user.target.wants/pullguard.service"
check "postinst created no user (DynamicUser=yes)" \
  sh -c "! grep -q pullguard '$root/etc/passwd'"
echo "   $(in_root systemd-analyze security --offline=yes pullguard.service 2>&1 | tail -n 1)"

# --- remove, then purge -------------------------------------------------------------------------
phase "dpkg -r pullguard"
check "dpkg -r pullguard: exit 0, nothing on stderr" quiet "dpkg -r" in_root dpkg -r pullguard
check "after remove: the binary is gone" test ! -e "$root/usr/bin/pullguard"
check "after remove: the conffiles stay" \
  test -f "$root/etc/pullguard/pullguard.json" -a -f "$root/etc/default/pullguard"
# shellcheck disable=SC2016  # ${Status} is dpkg-query's
check "after remove: status is config-files" \
  test "$(in_root dpkg-query -W -f='${Status}' pullguard)" = "deinstall ok config-files"

phase "dpkg -P pullguard"
# What StateDirectory= with DynamicUser=yes leaves behind once the service has run.
mkdir -p "$root/var/lib/private/pullguard" && touch "$root/var/lib/private/pullguard/state"
ln -s private/pullguard "$root/var/lib/pullguard"
check "dpkg -P pullguard: exit 0, nothing on stderr" quiet "dpkg -P" in_root dpkg -P pullguard
check "after purge: /etc/pullguard and /etc/default/pullguard are gone" \
  test ! -e "$root/etc/pullguard" -a ! -e "$root/etc/default/pullguard"
check "after purge: /var/lib/pullguard and /var/lib/private/pullguard are gone" \
  test ! -e "$root/var/lib/pullguard" -a ! -L "$root/var/lib/pullguard" \
  -a ! -e "$root/var/lib/private/pullguard"
check "after purge: no enable or mask symlinks left" \
  test ! -L "$root/etc/systemd/system/multi-user.target.wants/pullguard.service" \
  -a ! -L "$root/etc/systemd/system/pullguard.service"
check "after purge: dpkg knows no pullguard" \
  sh -c "! chroot '$root' dpkg-query -W pullguard >/dev/null 2>&1"

# --- summary ------------------------------------------------------------------------------------
echo
printf '%s\n' "${results[@]}"
elapsed=$(($(date +%s) - start))
if [ "$failures" -eq 0 ]; then
  echo "PASS: $(basename "$deb") in a clean Debian 12 root (${#results[@]} checks, ${elapsed} s)"
else
  echo "FAIL: $failures of ${#results[@]} checks (${elapsed} s)"
  exit 1
fi
