#!/bin/sh
# Stages `cmake --install` of the packaging build and checks the file list, the contents and
# that the staged binary accepts the staged configuration. Covers the prefix chosen at install
# time (/usr -> /etc and systemd's unit dir; /usr/local and /opt/pullguard per GNUInstallDirs)
# and that a direct install keeps an existing configuration.
# Usage: tests/packaging/test-install-tree.sh [build-dir]   (default: <repo>/build-pkg)
set -u

root=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$root/build-pkg}
if [ ! -x "$build/pullguard" ]; then
  echo "FAIL: $build/pullguard missing; run tests/packaging/build-packages.sh first" >&2
  exit 1
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
pass() { echo "ok:   $*"; }

# What systemd.pc says for a /usr install (/lib/systemd/system on Debian 12).
unitdir=$(pkg-config --variable=systemdsystemunitdir systemd 2>/dev/null)
[ -n "$unitdir" ] || unitdir=/usr/lib/systemd/system

# expected_files PREFIX ETC UNITDIR: the sorted list of files an install must create.
expected_files() {
  {
    echo "$1/bin/pullguard"
    echo "$3/pullguard.service"
    echo "$2/default/pullguard"
    echo "$2/pullguard/pullguard.json"
    echo "$1/share/doc/pullguard/README.md"
    echo "$1/share/doc/pullguard/README.systemd.md"
    echo "$1/share/pullguard/prometheus/alerts.yml"
    echo "$1/share/pullguard/grafana/dashboard.json"
    for example in "$root"/docs/examples/*.json; do
      echo "$1/share/doc/pullguard/examples/${example##*/}"
    done
  } | sed 's|//*|/|g' | sort
}

# check_tree NAME STAGE PREFIX ETC UNITDIR
check_tree() {
  name=$1 stage=$2 prefix=$3 etc=$4 units=$5
  expected_files "$prefix" "$etc" "$units" >"$tmp/expected"
  (cd "$stage" && find . -type f -o -type l) | sed 's|^\.||' | sort >"$tmp/actual"
  if diff -u "$tmp/expected" "$tmp/actual" >"$tmp/diff"; then
    pass "$name: file list ($(wc -l <"$tmp/actual") files)"
  else
    fail "$name: file list differs (- expected, + installed)"
    sed 's/^/      /' "$tmp/diff"
    return
  fi
  for pair in "systemd/pullguard.service:$units/pullguard.service" \
    "systemd/pullguard.default:$etc/default/pullguard" \
    "deploy/pullguard.json:$etc/pullguard/pullguard.json" \
    "systemd/README.md:$prefix/share/doc/pullguard/README.systemd.md" \
    "exporters/prometheus/alerts.yml:$prefix/share/pullguard/prometheus/alerts.yml" \
    "exporters/prometheus/dashboard.json:$prefix/share/pullguard/grafana/dashboard.json"; do
    if cmp -s "$root/${pair%%:*}" "$stage/${pair#*:}"; then
      pass "$name: ${pair#*:} is ${pair%%:*}"
    else
      fail "$name: ${pair#*:} differs from ${pair%%:*}"
    fi
  done
  for file in "$etc/pullguard/pullguard.json" "$etc/default/pullguard" \
    "$units/pullguard.service"; do
    mode=$(stat -c %a "$stage$file")
    if [ "$mode" = 644 ]; then
      pass "$name: $file mode 644"
    else
      fail "$name: $file mode $mode, want 644"
    fi
  done
  if "$stage$prefix/bin/pullguard" --config.check \
    --config.file "$stage$etc/pullguard/pullguard.json" >"$tmp/check" 2>&1; then
    pass "$name: pullguard --config.check on the installed config"
  else
    fail "$name: --config.check: $(cat "$tmp/check")"
  fi
}

# 1. DESTDIR staging of the packaging tree (configured with prefix /usr), as CPack does it.
DESTDIR="$tmp/usr-stage" cmake --install "$build" >"$tmp/log" 2>&1 || { cat "$tmp/log"; exit 1; }
check_tree "DESTDIR, prefix /usr" "$tmp/usr-stage" /usr /etc "$unitdir"

# 2. The prefix given at install time decides where /etc-like files go, not the configured one.
DESTDIR="$tmp/local-stage" cmake --install "$build" --prefix /usr/local >"$tmp/log" 2>&1 ||
  { cat "$tmp/log"; exit 1; }
check_tree "DESTDIR, --prefix /usr/local" "$tmp/local-stage" /usr/local /usr/local/etc \
  /usr/local/lib/systemd/system
DESTDIR="$tmp/opt-stage" cmake --install "$build" --prefix /opt/pullguard >"$tmp/log" 2>&1 ||
  { cat "$tmp/log"; exit 1; }
check_tree "DESTDIR, --prefix /opt/pullguard" "$tmp/opt-stage" /opt/pullguard /etc/opt/pullguard \
  /opt/pullguard/lib/systemd/system

# 3. Installing again without DESTDIR keeps an edited configuration, as dpkg keeps a conffile.
direct="$tmp/direct"
cmake --install "$build" --prefix "$direct" >"$tmp/log" 2>&1 || { cat "$tmp/log"; exit 1; }
echo '{"identities": [{"name": "edited"}]}' >"$direct/etc/pullguard/pullguard.json"
cmake --install "$build" --prefix "$direct" >"$tmp/log" 2>&1 || { cat "$tmp/log"; exit 1; }
if grep -q edited "$direct/etc/pullguard/pullguard.json" &&
  grep -q "Keeping existing: $direct/etc/pullguard/pullguard.json" "$tmp/log"; then
  pass "direct install keeps an existing configuration"
else
  fail "direct install overwrote the existing configuration"
fi

if [ "$failures" -eq 0 ]; then
  echo "PASS: install tree"
else
  echo "FAIL: install tree ($failures failures)"
  exit 1
fi
