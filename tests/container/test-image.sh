#!/usr/bin/env bash
# End-to-end test of the container image on a real Docker Engine: start a private dockerd, make
# the Debian base offline, build the Dockerfile, run the image against the fake hub, check it.
#
# usage: tests/container/test-image.sh [--keep] [--install-deps]
#   --keep          keep the engine's data (images, build cache) in $PULLGUARD_CONTAINER_CACHE/dockerd
#                   so the next run rebuilds only what changed; without it everything created
#                   here (containers, images, engine data) is removed at the end
#   --install-deps  apt-get install docker.io and debootstrap when they are missing
# environment:
#   PULLGUARD_CONTAINER_CACHE   default build-container/ at the top of the repo (rootfs tarball,
#                               kept engine data); see deploy/docker/make-base-image.sh
# Needs root, docker.io (dockerd, containerd, runc, docker), debootstrap, python3, curl and the
# Debian archive. No Docker Hub: the base image is made with debootstrap. Exits 0 on PASS.
# shellcheck disable=SC2317  # functions run by traps and bg_wait
set -uo pipefail
set -m  # background jobs get their own process group: an interrupt can stop a whole step

keep=0
install_deps=0
for arg in "$@"; do
  case "$arg" in
    --keep) keep=1 ;;
    --install-deps) install_deps=1 ;;
    -h | --help) sed -n '2,14p' "$0"; exit 0 ;;
    *) echo "test-image: unknown argument: $arg" >&2; exit 64 ;;
  esac
done

top="$(cd "$(dirname "$0")/../.." && pwd)"
cache="${PULLGUARD_CONTAINER_CACHE:-$top/build-container}"
image=pullguard:test
base=pullguard-base:bookworm
container="pullguard-test-$$"

die() { echo "test-image: $*" >&2; echo "FAIL"; exit 1; }
[ "$(id -u)" = 0 ] || die "must run as root (dockerd, debootstrap)"

# --- requirements --------------------------------------------------------------------------------
missing=()
for tool in dockerd:docker.io containerd:containerd runc:runc debootstrap:debootstrap \
  python3:python3 curl:curl; do
  command -v "${tool%%:*}" >/dev/null 2>&1 || missing+=("${tool#*:}")
done
# The Docker CLI from Debian's docker.io matches its dockerd; another docker in PATH may be a
# newer CLI that wants BuildKit plugins this engine does not have.
docker=/usr/bin/docker
[ -x "$docker" ] || missing+=(docker.io)
if [ ${#missing[@]} -gt 0 ]; then
  mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort -u)
  if [ "$install_deps" = 1 ]; then
    echo "test-image: installing ${missing[*]}"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" \
      >/dev/null || die "apt-get install ${missing[*]} failed"
  else
    die "missing Debian packages: ${missing[*]} (install them with:" \
      "apt-get install --no-install-recommends ${missing[*]}, or rerun with --install-deps)"
  fi
fi

# --- bookkeeping ---------------------------------------------------------------------------------
passed=0
failed=0
ok() { passed=$((passed + 1)); echo "ok   $*"; }
bad() { failed=$((failed + 1)); echo "FAIL $*"; }

now() { date +%s.%N; }
since() { awk -v a="$(now)" -v b="$1" 'BEGIN { printf "%.1f", a - b }'; }
t_start="$(now)"
phases=()
phase_t="$t_start"
phase_name=""
phase() {  # closes the running phase, opens the next
  local t
  t="$(now)"
  [ -n "$phase_name" ] && phases+=("$(printf '%-28s %7s s' "$phase_name" "$(since "$phase_t")")")
  phase_name="$1"
  phase_t="$t"
  [ -n "$1" ] && echo "=== $1"
}

work="$(mktemp -d /tmp/pg-ct.XXXXXX)"  # short: the API socket path must stay under 108 bytes
if [ "$keep" = 1 ]; then
  data_root="$cache/dockerd"
  mkdir -p "$data_root"
  exec 9>"$cache/dockerd.lock"
  flock -n 9 || die "another test run is using $data_root"
else
  data_root="$work/data"
fi
export DOCKER_HOST="unix://$work/docker.sock"
# BuildKit (built into this engine and its CLI; no buildx plugin, no Docker Hub for the builtin
# Dockerfile frontend) is 2-3 times faster than the classic builder on vfs, which copies the
# whole root at every step.
export DOCKER_BUILDKIT=1
dockerd_pid=""
containerd_pid=""
hub_pid=""
child=""  # the long step running now (its process group)
# Runs a step in the background and waits, so that a signal is handled at once, not after it.
bg_wait() {
  "$@" &
  child=$!
  wait "$child"
  local rc=$?
  child=""
  return "$rc"
}

cleanup() {
  local rc=$? t0
  t0="$(now)"
  trap - EXIT INT TERM
  if [ -n "$child" ]; then
    kill -TERM -- "-$child" 2>/dev/null
    wait "$child" 2>/dev/null
  fi
  if [ -n "$dockerd_pid" ]; then
    "$docker" rm -f "$container" >/dev/null 2>&1
    if [ "$keep" = 0 ]; then
      "$docker" rmi -f "$image" "$base" >/dev/null 2>&1
      "$docker" builder prune -af >/dev/null 2>&1
    fi
    kill -TERM "$dockerd_pid" 2>/dev/null
    for _ in $(seq 1 100); do kill -0 "$dockerd_pid" 2>/dev/null || break; sleep 0.2; done
    kill -0 "$dockerd_pid" 2>/dev/null && { echo "test-image: dockerd did not stop; killing" >&2; kill -KILL "$dockerd_pid"; }
    if [ -n "$containerd_pid" ]; then
      for _ in $(seq 1 50); do kill -0 "$containerd_pid" 2>/dev/null || break; sleep 0.2; done
      kill -0 "$containerd_pid" 2>/dev/null && kill -KILL "$containerd_pid"
    fi
  fi
  [ -n "$hub_pid" ] && kill -TERM "$hub_pid" 2>/dev/null && wait "$hub_pid" 2>/dev/null
  # Nothing of ours may stay mounted before the tree goes.
  awk -v w="$work" 'index($2, w) == 1 { print $2 }' /proc/mounts | sort -r | xargs -r -n1 umount -l
  rm -rf "$work"
  echo "tear-down: $(since "$t0") s"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- engine --------------------------------------------------------------------------------------
phase "start dockerd (vfs)"
mkdir -p "$work/exec"
dockerd --data-root "$data_root" --exec-root "$work/exec" --pidfile "$work/dockerd.pid" \
  -H "$DOCKER_HOST" --iptables=false --ip6tables=false --bridge=none --storage-driver=vfs \
  >"$work/dockerd.log" 2>&1 &
dockerd_pid=$!
for _ in $(seq 1 150); do
  "$docker" version >/dev/null 2>&1 && break
  kill -0 "$dockerd_pid" 2>/dev/null || { tail -n 20 "$work/dockerd.log"; die "dockerd exited"; }
  sleep 0.2
done
"$docker" version >/dev/null 2>&1 || { tail -n 20 "$work/dockerd.log"; die "dockerd did not answer"; }
containerd_pid="$(pgrep -P "$dockerd_pid" -x containerd || true)"
# A kept engine may hold containers of an interrupted build; they are all ours.
[ "$keep" = 1 ] && "$docker" container prune -f >/dev/null
echo "dockerd $("$docker" version --format '{{.Server.Version}}') pid $dockerd_pid" \
  "(containerd pid ${containerd_pid:-none}), data root $data_root"

# --- images --------------------------------------------------------------------------------------
phase "base image (debootstrap)"
DOCKER="$docker" PULLGUARD_CONTAINER_CACHE="$cache" \
  bg_wait "$top/deploy/docker/make-base-image.sh" --tag "$base" || die "make-base-image.sh failed"

phase "docker build"
revision="$(git -C "$top" rev-parse --short=12 HEAD 2>/dev/null || echo unknown)"
build_args=(--network host --build-arg "BASE_IMAGE=$base" --build-arg "REVISION=$revision")
apt_proxy=""
eval "$(apt-config shell apt_proxy Acquire::http::Proxy)"
[ -n "$apt_proxy" ] && [ "$apt_proxy" != DIRECT ] && build_args+=(--build-arg "http_proxy=$apt_proxy")
if ! bg_wait "$docker" build --progress=plain "${build_args[@]}" -t "$image" "$top" \
  >"$work/build.log" 2>&1; then
  tail -n 40 "$work/build.log"
  die "docker build failed"
fi
# The steps that took a second or more (plain progress: "#N [stage i/n] CMD", "#N DONE 1.2s").
awk '/^#[0-9]+ \[/ { step[$1] = substr($0, length($1) + 2, 90) }
     /^#[0-9]+ DONE / { t = $3; sub(/s$/, "", t); if (t + 0 >= 1 && $1 in step) printf "  %6.1f s  %s\n", t, step[$1] }
     /^#[0-9]+ CACHED/ { cached++ }
     END { printf "  (%d steps cached)\n", cached }' "$work/build.log"
if [ "$keep" = 1 ]; then  # superseded compile layers pile up otherwise
  "$docker" builder prune -f --keep-storage 4GB >/dev/null
fi
size="$("$docker" image inspect --format '{{.Size}}' "$image")"
size_mib="$(awk -v s="$size" 'BEGIN { printf "%.1f", s / 1048576 }')"
echo "image $image: $size_mib MiB"

# --- run against the fake hub --------------------------------------------------------------------
phase "run against fake hub"
python3 "$top/tests/fakehub/fakehub.py" --host 127.0.0.1 --port 0 >"$work/hub.out" 2>"$work/hub.err" &
hub_pid=$!
hub_port=""
for _ in $(seq 1 50); do
  hub_port="$(head -n1 "$work/hub.out" 2>/dev/null | sed -n 's/.*"port": *\([0-9]*\).*/\1/p')"
  [ -n "$hub_port" ] && break
  sleep 0.1
done
[ -n "$hub_port" ] || { cat "$work/hub.err"; die "fake hub did not start"; }
port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
mkdir -p "$work/config"
cat >"$work/config/pullguard.json" <<EOF
{
  "registry": {"url": "http://127.0.0.1:$hub_port"},
  "probe": {"interval_seconds": 10, "timeout_seconds": 5},
  "identities": [{"name": "anonymous"}],
  "web": {"listen_address": "127.0.0.1:$port"}
}
EOF
chmod 644 "$work/config/pullguard.json"
echo "fake hub on 127.0.0.1:$hub_port, pullguard on 127.0.0.1:$port"
# The image's own command line and config path; only the file is replaced, read-only.
"$docker" run -d --name "$container" --network host \
  -e "PULLGUARD_HEALTHCHECK_ADDRESS=127.0.0.1:$port" \
  --health-interval=1s --health-timeout=3s --health-retries=3 \
  -v "$work/config/pullguard.json:/etc/pullguard/pullguard.json:ro" \
  "$image" >/dev/null || die "docker run failed"

# --- checks --------------------------------------------------------------------------------------
phase "checks"
running() { [ "$("$docker" inspect --format '{{.State.Running}}' "$container" 2>/dev/null)" = true ]; }
want='pullguard_ratelimit_remaining{identity="anonymous",family="any",source="127.0.0.1"} 100'
metrics=""
for _ in $(seq 1 150); do
  metrics="$(curl -fsS --max-time 2 "http://127.0.0.1:$port/metrics" 2>/dev/null)"
  grep -qxF "$want" <<<"$metrics" && break
  running || break
  sleep 0.2
done
if grep -qxF "$want" <<<"$metrics"; then
  ok "/metrics: $want"
else
  bad "/metrics has no '$want'"
  grep pullguard_ratelimit <<<"$metrics"
  "$docker" logs "$container" 2>&1 | tail -n 20
fi

uid="$("$docker" exec "$container" id -u 2>/dev/null)"
gid="$("$docker" exec "$container" id -g 2>/dev/null)"
host_pid="$("$docker" inspect --format '{{.State.Pid}}' "$container")"
host_uid="$(ps -o uid= -p "$host_pid" 2>/dev/null | tr -d ' ')"
config_user="$("$docker" inspect --format '{{.Config.User}}' "$container")"
if [ "$uid" = 10001 ] && [ "$gid" = 10001 ] && [ "$host_uid" = 10001 ] && [ "$config_user" = 10001:10001 ]; then
  ok "runs as uid 10001 gid 10001 (USER $config_user; pid $host_pid on the host has uid $host_uid)"
else
  bad "not the non-root user: exec id $uid:$gid, host process uid '$host_uid', USER '$config_user'"
fi

# Polls the container's health for up to 30 s; leaves the last status in $health.
wait_healthy() {
  health=""
  for _ in $(seq 1 60); do
    health="$("$docker" inspect --format '{{if .State.Health}}{{.State.Health.Status}}{{end}}' "$container")"
    [ "$health" = healthy ] && break
    running || break
    sleep 0.5
  done
}

wait_healthy
if [ "$health" = healthy ]; then
  ok "HEALTHCHECK reports healthy"
else
  bad "HEALTHCHECK status '$health'"
  "$docker" inspect --format '{{json .State.Health}}' "$container"
fi
# The probe must be able to fail: aim it at a port where nothing listens.
health_cmd="$("$docker" image inspect --format '{{index .Config.Healthcheck.Test 3}}' "$image")"
if "$docker" exec -e PULLGUARD_HEALTHCHECK_ADDRESS=127.0.0.1:1 "$container" bash -c "$health_cmd" \
  >/dev/null 2>&1; then
  bad "HEALTHCHECK command succeeds against a closed port"
else
  ok "HEALTHCHECK command fails against a closed port"
fi

# shellcheck disable=SC2016  # expanded by the container's sh
# Inside the running container (each `docker run` on vfs copies the whole image: slow).
tools="$("$docker" exec "$container" sh -c \
  'for t in gcc g++ cc c++ cpp clang cmake make ninja ld as curl wget; do command -v $t; done; true')"
devpkgs="$("$docker" exec "$container" sh -c \
  "dpkg-query -W -f '\${Package}\n' |
    grep -E -- '-dev\$|^(gcc|g\+\+|cpp|clang)(-[0-9.]+)?\$|^(cmake|binutils|make|ninja-build|build-essential)\$'; true")"
if [ -z "$tools" ] && [ -z "$devpkgs" ]; then
  ok "no compiler, build tool, curl or wget; no -dev package"
else
  bad "build tools in the final image: $tools $devpkgs"
fi

lists="$("$docker" exec "$container" ls -A /var/lib/apt/lists)"
if [ -z "$lists" ]; then ok "apt lists removed"; else bad "apt lists left: $lists"; fi

bin_version="$("$docker" exec "$container" pullguard --version)"
label() { "$docker" image inspect --format "{{index .Config.Labels \"org.opencontainers.image.$1\"}}" "$image"; }
if [ "$(label title)" = pullguard ] && [ -n "$(label description)" ] &&
  [ "$bin_version" = "pullguard $(label version) (revision $revision)" ] &&
  [ "$(label revision)" = "$revision" ]; then
  ok "OCI labels: version $(label version), revision $(label revision) ($bin_version)"
else
  bad "OCI labels: title '$(label title)' version '$(label version)' revision '$(label revision)'" \
    "vs '$bin_version', git $revision"
fi

t0="$(now)"
"$docker" stop -t 10 "$container" >/dev/null
stop_s="$(since "$t0")"
exit_code="$("$docker" inspect --format '{{.State.ExitCode}}' "$container")"
if [ "$exit_code" = 0 ] && awk -v s="$stop_s" 'BEGIN { exit !(s < 5) }'; then
  ok "docker stop: exit 0 after $stop_s s (SIGTERM handled as PID 1)"
else
  bad "docker stop: exit code $exit_code after $stop_s s"
fi
"$docker" logs "$container" >"$work/pullguard.log" 2>&1
grep -q 'shutting down' "$work/pullguard.log" || echo "note: no 'shutting down' line in the log"

# As shipped: default config (0.0.0.0:10217) and default health address, in a network namespace
# of its own (no bridge here, so no route out: probes fail, the daemon still serves).
"$docker" rm -f "$container" >/dev/null 2>&1
"$docker" run -d --name "$container" --network none --health-interval=1s "$image" >/dev/null
wait_healthy
if [ "$health" = healthy ]; then
  ok "shipped config and HEALTHCHECK defaults: healthy (--network none, 0.0.0.0:10217)"
else
  bad "shipped config: health '$health'"
  "$docker" logs "$container" 2>&1 | tail -n 10
fi

phase "clean up"
"$docker" rm -f "$container" >/dev/null 2>&1
phase ""

echo
echo "image size: $size_mib MiB ($size bytes)"
echo "phases:"
printf '  %s\n' "${phases[@]}"
printf '  %-28s %7s s\n' "total (before tear-down)" "$(since "$t_start")"
if [ "$failed" = 0 ]; then
  echo "PASS: $passed passed, $failed failed"
  exit 0
fi
echo "FAIL: $passed passed, $failed failed"
exit 1
