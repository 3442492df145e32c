#!/usr/bin/env bash
# Builds the libFuzzer targets with clang in build-fuzz/ and runs each for N seconds (first
# argument, default 20) on a scratch copy of its seed corpus, so the seeds in git stay small.
# Exits non-zero if the build fails or any target crashes; reproducers land in build-fuzz/.
set -euo pipefail

seconds="${1:-20}"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
build="$root/build-fuzz"
targets=(ratelimit challenge token docker_config history config)

cd "$root"
CC=clang CXX=clang++ cmake -S . -B "$build" -DPULLGUARD_FUZZ=ON -DPULLGUARD_BUILD_TESTS=OFF
# Only the fuzz targets: they do not depend on the rest of agent/ compiling.
cmake --build "$build" --target pullguard_fuzzers -j "$(nproc)"

scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
artifacts="$build/fuzz-artifacts"
mkdir -p "$artifacts"

failed=()
for name in "${targets[@]}"; do
  cp -r "tests/fuzz/corpus/$name" "$scratch/$name"
  echo "== ${name}_fuzz for ${seconds}s"
  if ! "$build/tests/fuzz/${name}_fuzz" -max_total_time="$seconds" -timeout=10 \
      -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$artifacts/${name}-" \
      "$scratch/$name"; then
    failed+=("$name")
  fi
done

if ((${#failed[@]})); then
  echo "fuzz: crashes in: ${failed[*]}; reproducers in $artifacts" >&2
  exit 1
fi
echo "fuzz: all ${#targets[@]} targets ran ${seconds}s without a crash"
