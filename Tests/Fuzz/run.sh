#!/usr/bin/env bash
# Builds the libFuzzer harness (Tests/Fuzz/FuzzTargets.swift + Sources/DevinBridge) with
# AddressSanitizer and runs each target for a bounded time on its seed corpus.
#
#   Tests/Fuzz/run.sh [seconds per target, default 20] [target ...]
#
# FUZZ_SEED=N fixes libFuzzer's random seed, so a run follows the same sequence of inputs as any
# other run with that seed (CI uses FUZZ_SEED=1: a longer local run with it covers what CI tries).
#
# New inputs go to a temporary directory (the corpus in the repo is only read); a crash leaves
# its input as Tests/Fuzz/crash-* and makes this script exit non-zero.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
seconds=${1:-20}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(cgi signature tickets config body)

build=$root/.build-fuzz
mkdir -p "$build"
echo "fuzz: building the harness"
swiftc -sanitize=fuzzer,address -parse-as-library -O -module-name DevinBridgeFuzz \
    -I "$root/Sources/COpenSSL" -lcrypto \
    $(find "$root/Sources/DevinBridge" -name '*.swift' | sort) "$here/FuzzTargets.swift" \
    -o "$build/fuzz-bridge" 2>&1 | grep -v 'Cannot export local symbol' || true
[ -x "$build/fuzz-bridge" ] || { echo "fuzz: build failed" >&2; exit 1; }

status=0
for target in "${targets[@]}"; do
    work=$(mktemp -d)
    seeds=("$here/corpus/$target")
    [ "$target" = tickets ] && seeds+=("$root/Tests/Fixtures/webhooks")
    echo "fuzz: $target for ${seconds}s"
    if ! FUZZ_TARGET=$target "$build/fuzz-bridge" "$work" "${seeds[@]}" \
            -max_total_time="$seconds" -max_len=65536 -timeout=10 -rss_limit_mb=2048 \
            -artifact_prefix="$here/crash-$target-" -print_final_stats=1 \
            ${FUZZ_SEED:+-seed="$FUZZ_SEED"} > "$work.log" 2>&1; then
        echo "fuzz: $target FOUND A PROBLEM:" >&2
        tail -40 "$work.log" >&2
        status=1
    else
        grep -E '^stat::number_of_executed_units|^Done' "$work.log" | sed "s/^/fuzz: $target: /"
    fi
    rm -rf "$work" "$work.log"
done
rm -rf "${TMPDIR:-/tmp}"/devin-bridge-fuzz-*
exit $status
