#!/usr/bin/env bash
# Builds and runs the benchmarks against the fake hub on loopback and prints one table:
# the probe-cycle bench (pullguard vs plain libcurl), then the real daemon with 10 identities:
# RSS over time, /metrics latency under wrk paced to ~1,000 requests/s (vs /-/healthy on the
# same server), and the token requests the hub saw. Every process started here is stopped by
# its PID on exit. Knobs (environment): see the defaults below and bench/README.md.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${BUILD_DIR:-$ROOT/build}
CYCLES=${CYCLES:-1000}           # probe bench: cycles per run
ROUNDS=${ROUNDS:-3}              # probe bench: runs per side (medians)
SETTLE=${SETTLE_SECONDS:-25}     # daemon: seconds before the first RSS reading
RATE=${RATE:-1000}               # wrk: target requests/s
WRK_SECONDS=${WRK_SECONDS:-12}   # wrk: seconds per measured run
CONNECTIONS=${WRK_CONNECTIONS:-2}
SOAK=${SOAK_SECONDS:-30}         # daemon: idle seconds after the load, then RSS again
SHORT_TTL=${SHORT_TTL:-60}       # second hub+daemon with this token TTL; 0 skips it
PULLGUARD=${PULLGUARD_BIN:-$BUILD/pullguard}  # another build of the daemon, to compare
DAEMON_ENV=${DAEMON_ENV:-}       # e.g. "MALLOC_ARENA_MAX=1": extra environment for the daemons
SKIP_BENCH=${SKIP_BENCH:-0}      # 1: daemon part only
TTL=300                          # the fake hub's default token lifetime
USERS=(bench1:pw-bench-1 bench2:pw-bench-2 bench3:pw-bench-3 bench4:pw-bench-4
       bench5:pw-bench-5)

# Set by start_hub and start_daemon (printf -v), named after the hub or daemon.
HUB_URL_main="" HUB_URL_short="" PID_main="" ADDR_main="" START_main="" ADDR_short="" START_short=""

TMP=$(mktemp -d /tmp/pullguard-bench.XXXXXX)
PIDS=()
cleanup() {
  local pid
  for pid in "${PIDS[@]}"; do
    if kill -0 "$pid" 2>/dev/null; then
      kill -TERM "$pid" 2>/dev/null || true
      for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -KILL "$pid" 2>/dev/null || true
    fi
  done
  wait 2>/dev/null || true
  rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

for tool in wrk python3 cmake; do
  command -v "$tool" >/dev/null || { echo "run.sh: $tool is not installed" >&2; exit 1; }
done

echo "== building pullguard and pullguard_probe_bench in $BUILD" >&2
cmake --build "$BUILD" --target pullguard_probe_bench pullguard >&2

# start_hub NAME ARGS...: sets HUB_URL_<NAME>.
start_hub() {
  local name=$1
  shift
  local user_args=()
  for user in "${USERS[@]}"; do user_args+=(--user "$user"); done
  python3 "$ROOT/tests/fakehub/fakehub.py" --port-file "$TMP/$name.port" "${user_args[@]}" "$@" \
    >"$TMP/$name.out" 2>"$TMP/$name.err" &
  PIDS+=($!)
  for _ in $(seq 100); do [[ -s $TMP/$name.port ]] && break; sleep 0.1; done
  local port
  port=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["port"])' "$TMP/$name.port")
  printf -v "HUB_URL_$name" '%s' "http://127.0.0.1:$port"
}

# write_config FILE HUB_URL: 5 anonymous identities and 5 fake-hub accounts, interval 10 s.
write_config() {
  python3 - "$1" "$2" "$TMP" "${USERS[@]}" <<'EOF'
import json, os, sys
path, hub, tmp, users = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
identities = [{"name": f"anonymous-{i}"} for i in range(1, 6)]
for i, user in enumerate(users, 1):
    name, password = user.split(":", 1)
    secret = os.path.join(tmp, f"password-{name}")
    with open(secret, "w") as handle:
        handle.write(password + "\n")
    os.chmod(secret, 0o600)
    identities.append({"name": f"user-{i}", "username": name, "password_file": secret})
config = {"registry": {"url": hub}, "probe": {"interval_seconds": 10},
          "identities": identities, "web": {"listen_address": "127.0.0.1:0"}}
with open(path, "w") as handle:
    json.dump(config, handle, indent=1)
EOF
}

# start_daemon NAME CONFIG: sets PID_<NAME>, ADDR_<NAME>, START_<NAME>.
start_daemon() {
  # shellcheck disable=SC2086 # DAEMON_ENV is a list of NAME=VALUE words
  # Its budget history goes to the scratch dir, never the host's /var/lib/pullguard.
  env $DAEMON_ENV "$PULLGUARD" --config.file "$2" --storage.path "$TMP/state-$1" \
    2>"$TMP/$1.log" &
  local pid=$!
  PIDS+=("$pid")
  printf -v "PID_$1" '%s' "$pid"
  printf -v "START_$1" '%s' "$(date +%s.%N)"
  local address=""
  for _ in $(seq 100); do
    address=$(sed -n 's/.*msg=listening address=\([^ ]*\).*/\1/p' "$TMP/$1.log" | head -1)
    [[ -n $address ]] && break
    kill -0 "$pid" 2>/dev/null || { cat "$TMP/$1.log" >&2; exit 1; }
    sleep 0.1
  done
  [[ -n $address ]] || { echo "run.sh: daemon $1 did not listen" >&2; exit 1; }
  printf -v "ADDR_$1" '%s' "$address"
}

kib() { awk -v k="$2:" '$1 == k {print $2}' "/proc/$1/status"; }
rollup() { awk -v k="$2:" '$1 == k {print $2}' "/proc/$1/smaps_rollup"; }
# CPU nanoseconds the process's threads have run (schedstat: exact, unlike /proc/PID/stat ticks).
cpu_ns() { cat /proc/"$1"/task/*/schedstat | awk '{ns += $1} END {printf "%.0f", ns}'; }
mib() { awk -v k="$1" 'BEGIN {printf "%.2f", k / 1024}'; }

# The paced wrk script: each connection waits a random 0/1 ms step around WRK_DELAY_MS after
# every response, so fractional mean delays (and so any target rate) are reachable.
cat >"$TMP/pace.lua" <<'EOF'
local mean = tonumber(os.getenv("WRK_DELAY_MS") or "2")
local base = math.floor(mean)
local fraction = mean - base
function delay()
  if math.random() < fraction then return base + 1 end
  return base
end
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "wrkstats requests=%d duration_us=%d errors=%d p50_us=%d p90_us=%d p99_us=%d max_us=%d\n",
    summary.requests, summary.duration, e.connect + e.read + e.write + e.status + e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
end
EOF

stat_of() { sed -n "s/.*\b$2=\([0-9.]*\).*/\1/p" "$1" | head -1; }

# paced_wrk NAME URL [wrk args...]: a 3 s calibration run finds the per-connection overhead,
# then the measured run uses the mean delay that should give RATE; writes $TMP/NAME.wrk.
paced_wrk() {
  local name=$1 url=$2
  shift 2
  local period_ms
  period_ms=$(awk -v c="$CONNECTIONS" -v r="$RATE" 'BEGIN {printf "%.3f", c * 1000 / r}')
  WRK_DELAY_MS=$period_ms wrk -t1 -c"$CONNECTIONS" -d3s -s "$TMP/pace.lua" "$@" "$url" \
    >"$TMP/$name.cal" 2>&1
  local delay_ms
  delay_ms=$(awk -v c="$CONNECTIONS" -v p="$period_ms" -v n="$(stat_of "$TMP/$name.cal" requests)" \
    -v us="$(stat_of "$TMP/$name.cal" duration_us)" 'BEGIN {
      overhead = (n > 0) ? c * us / 1000 / n - p : 0; d = p - overhead;
      printf "%.3f", (d < 0) ? 0 : d }')
  WRK_DELAY_MS=$delay_ms wrk -t1 -c"$CONNECTIONS" -d"${WRK_SECONDS}s" --latency \
    -s "$TMP/pace.lua" "$@" "$url" >"$TMP/$name.wrk" 2>&1
  echo "$delay_ms" >"$TMP/$name.delay"
}

wrk_rate() {
  awk -v n="$(stat_of "$1" requests)" -v us="$(stat_of "$1" duration_us)" \
    'BEGIN {printf "%.0f", n / (us / 1e6)}'
}
wrk_ms() { awk -v us="$(stat_of "$1" "$2")" 'BEGIN {printf "%.3f", us / 1000}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {if (b > 0) printf "%.2f", a / b}'; }

# --- 1. probe-cycle bench ------------------------------------------------------------------
start_hub main
user_args=()
for user in "${USERS[@]}"; do user_args+=(--user "$user"); done
if [[ $SKIP_BENCH == 1 ]]; then
  printf 'probe-cycle bench skipped (SKIP_BENCH=1)\n\n| figure | pullguard | baseline | ratio |\n|---|---:|---:|---:|\n' \
    >"$TMP/bench.txt"
else
  echo "== probe-cycle bench: $CYCLES cycles x $ROUNDS rounds against $HUB_URL_main" >&2
  "$BUILD/bench/pullguard_probe_bench" --cycles "$CYCLES" --rounds "$ROUNDS" "${user_args[@]}" \
    "$HUB_URL_main" >"$TMP/bench.txt"
fi

# --- 2. the daemon ---------------------------------------------------------------------------
python3 -c 'import sys,urllib.request; urllib.request.urlopen(urllib.request.Request(sys.argv[1] + "/_control/reset", data=b"{}", method="POST"))' "$HUB_URL_main"
write_config "$TMP/main.json" "$HUB_URL_main"
if [[ $SHORT_TTL != 0 ]]; then
  start_hub short --token-ttl "$SHORT_TTL"
  write_config "$TMP/short.json" "$HUB_URL_short"
  start_daemon short "$TMP/short.json"
fi
start_daemon main "$TMP/main.json"
echo "== daemon pid $PID_main on $ADDR_main; settling ${SETTLE}s" >&2
sleep "$SETTLE"
rss_settled=$(kib "$PID_main" VmRSS)
echo "== wrk, paced to $RATE/s with $CONNECTIONS connections, ${WRK_SECONDS}s per run" >&2
paced_wrk healthy_ka "http://$ADDR_main/-/healthy"
paced_wrk metrics_ka "http://$ADDR_main/metrics"
paced_wrk healthy_nc "http://$ADDR_main/-/healthy" -H "Connection: close"
paced_wrk metrics_nc "http://$ADDR_main/metrics" -H "Connection: close"
rss_loaded=$(kib "$PID_main" VmRSS)
echo "== idle ${SOAK}s" >&2
idle_start_ns=$(cpu_ns "$PID_main")
sleep "$SOAK"
idle_ns=$(($(cpu_ns "$PID_main") - idle_start_ns))
rss_soaked=$(kib "$PID_main" VmRSS)
hwm=$(kib "$PID_main" VmHWM)
threads=$(kib "$PID_main" Threads)
pss=$(rollup "$PID_main" Pss)
anon=$(rollup "$PID_main" Anonymous)
python3 "$ROOT/bench/smaps_breakdown.py" "$PID_main" --top 6 >"$TMP/smaps.txt"
now=$(date +%s.%N)
seconds_main=$(awk -v a="$START_main" -v b="$now" 'BEGIN {printf "%.0f", b - a}')
python3 "$ROOT/bench/token_report.py" "http://$ADDR_main" "$HUB_URL_main" "$TTL" "$seconds_main" \
  >"$TMP/tokens.txt"
if [[ $SHORT_TTL != 0 ]]; then
  seconds_short=$(awk -v a="$START_short" -v b="$now" 'BEGIN {printf "%.0f", b - a}')
  python3 "$ROOT/bench/token_report.py" "http://$ADDR_short" "$HUB_URL_short" "$SHORT_TTL" \
    "$seconds_short" >>"$TMP/tokens.txt"
fi

# --- 3. the table ----------------------------------------------------------------------------
latency_row() {  # LABEL METRICS_FILE HEALTHY_FILE
  local m=$2 h=$3
  echo "| /metrics vs /-/healthy, $1: achieved requests/s | $(wrk_rate "$m") | $(wrk_rate "$h") | |"
  for p in p50_us p99_us max_us; do
    echo "| … ${p%_us} latency, ms | $(wrk_ms "$m" $p) | $(wrk_ms "$h" $p) |" \
      "$(ratio "$(stat_of "$m" $p)" "$(stat_of "$h" $p)") |"
  done
  echo "| … errors | $(stat_of "$m" errors) | $(stat_of "$h" errors) | |"
}
echo
echo "\$ ${DAEMON_ENV:+$DAEMON_ENV }bench/run.sh   # $(nproc) cores, $(uname -r), daemon $PULLGUARD"
grep -v '^|' "$TMP/bench.txt" | sed -n '1p'
echo
grep '^|' "$TMP/bench.txt"
echo "| **daemon**: 10 identities, interval 10 s; wrk -t1 -c$CONNECTIONS paced to $RATE/s, ${WRK_SECONDS} s | /metrics | /-/healthy | ratio |"
echo "| RSS ${SETTLE} s after start, MiB | $(mib "$rss_settled") | | |"
latency_row "keep-alive (as Prometheus scrapes), $CONNECTIONS conns" \
  "$TMP/metrics_ka.wrk" "$TMP/healthy_ka.wrk"
latency_row "new connection per request" "$TMP/metrics_nc.wrk" "$TMP/healthy_nc.wrk"
echo "| RSS after the wrk runs / after ${SOAK} s more, MiB | $(mib "$rss_loaded") / $(mib "$rss_soaked") | | |"
echo "| RSS growth after the load → ${SOAK} s later, KiB | $((rss_soaked - rss_loaded)) | | |"
echo "| peak RSS (VmHWM) / PSS / anonymous (private) memory, MiB | $(mib "$hwm") / $(mib "$pss") / $(mib "$anon") | | |"
echo "| threads | $threads | | |"
echo "| daemon CPU while only probing (${SOAK} s idle, all threads), ms per 10 s cycle of 10 probes |" \
  "$(awk -v ns="$idle_ns" -v s="$SOAK" 'BEGIN {printf "%.3f", ns / 1e6 / (s / 10)}') | | |"
grep "^|" "$TMP/tokens.txt"

echo
grep -v '^|' "$TMP/bench.txt" | sed -n '2,$p' | sed '/^$/d'
p99_ka=$(wrk_ms "$TMP/metrics_ka.wrk" p99_us)
p99_nc=$(wrk_ms "$TMP/metrics_nc.wrk" p99_us)
verdict() { if awk "BEGIN {exit !($1)}"; then echo met; else echo "NOT MET"; fi; }
echo "daemon:"
echo "  RSS < 8 MiB: $(mib "$rss_soaked") MiB after the soak: $(verdict "$rss_soaked < 8192")"
echo "  RSS not growing (after load → ${SOAK} s later within 64 KiB):" \
  "$((rss_soaked - rss_loaded)) KiB: $(verdict "$rss_soaked - $rss_loaded <= 64")"
echo "  /metrics p99 < 2 ms at ~$RATE/s, keep-alive: $p99_ka ms at $(wrk_rate "$TMP/metrics_ka.wrk")/s:" \
  "$(verdict "$p99_ka < 2 && $(wrk_rate "$TMP/metrics_ka.wrk") >= 0.9 * $RATE")"
echo "  /metrics p99 < 2 ms at ~$RATE/s, new connections: $p99_nc ms at" \
  "$(wrk_rate "$TMP/metrics_nc.wrk")/s:" \
  "$(verdict "$p99_nc < 2 && $(wrk_rate "$TMP/metrics_nc.wrk") >= 0.9 * $RATE")"
sed -n 's/^VERDICT /  /p' "$TMP/tokens.txt"
echo
echo "daemon memory by mapping (/proc/PID/smaps, after the soak):"
cat "$TMP/smaps.txt"
