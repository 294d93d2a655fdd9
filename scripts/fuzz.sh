#!/usr/bin/env bash
# fuzz.sh — `make fuzz`: builds the libFuzzer targets of fuzz/ with clang
# under ASan and UBSan into build-fuzz/ (installing clang and libFuzzer from
# Debian when missing), seeds each from the API contract in api/
# (scripts/fuzz-seeds.py), then runs each for its share of FUZZ_SECONDS:
# the total for all targets (default 600), split evenly. FUZZ_TARGETS
# ("router query" ...) picks some. Prints per target the executions, the
# corpus size and the crashes; exits non-zero on any crash (or leak or
# timeout), printing its reproducer's path. The corpus (build-fuzz/corpus/)
# is kept and grows from run to run.
set -euo pipefail
cd "$(dirname "$0")/.."

TOTAL=${FUZZ_SECONDS:-600}
B=build-fuzz

# clang and its compiler-rt (libFuzzer, the sanitizers' runtimes)
scripts/deps.sh clang libclang-rt-dev

echo "fuzz: building the targets into $B/ (clang, libFuzzer, ASan+UBSan)" >&2
mkdir -p "$B"
nice -n 10 make --no-print-directory FUZZ=1 -j2 fuzzers >"$B/build.log" 2>&1 || {
    tail -n 30 "$B/build.log" >&2
    echo "fuzz: build failed (whole log: $B/build.log)" >&2
    exit 2
}

targets=()
if [ -n "${FUZZ_TARGETS:-}" ]; then
    for t in $FUZZ_TARGETS; do targets+=("fuzz_${t#fuzz_}"); done
else
    for f in fuzz/fuzz_*.c; do t=${f#fuzz/}; targets+=("${t%.c}"); done
fi
share=$((TOTAL / ${#targets[@]}))
[ "$share" -ge 1 ] || share=1

mkdir -p "$B/corpus" "$B/logs"
/usr/bin/python3 scripts/fuzz-seeds.py "$B/corpus"

printf '%-20s %8s %12s %9s %8s %8s\n' target seconds executions exec/s corpus crashes
failed=()
for t in "${targets[@]}"; do
    [ -x "$B/fuzz/$t" ] || { echo "fuzz: no target $t" >&2; exit 2; }
    art="$B/crashes/$t/"
    mkdir -p "$art" "$B/corpus/$t"
    log="$B/logs/$t.log"
    start=$(date +%s)
    rc=0
    nice -n 10 "$B/fuzz/$t" -max_total_time="$share" -timeout=10 -print_final_stats=1 \
        -artifact_prefix="$art" "$B/corpus/$t" >"$log" 2>&1 || rc=$?
    secs=$(($(date +%s) - start))
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    execs=${execs:-?}
    # libFuzzer's corpus at the end (the inputs that add coverage); the
    # folder keeps every input it ever saved
    corpus=$(grep -o 'corp: [0-9]*' "$log" | tail -n 1 | cut -d' ' -f2 || true)
    corpus=${corpus:-?}
    mapfile -t found < <(grep -o "Test unit written to .*" "$log" | sed 's/^Test unit written to //')
    rate=$([ "$execs" != "?" ] && [ "$secs" -gt 0 ] && echo $((execs / secs)) || echo "?")
    printf '%-20s %8s %12s %9s %8s %8s\n' "$t" "$secs" "$execs" "$rate" "$corpus" "${#found[@]}"
    if [ "$rc" -ne 0 ] || [ "${#found[@]}" -ne 0 ]; then
        failed+=("$t")
        for f in "${found[@]}"; do echo "  crash: $f (reproduce: $B/fuzz/$t $f)"; done
        [ "${#found[@]}" -ne 0 ] || echo "  $t exited $rc without a reproducer: see $log"
        grep -m1 -E "ERROR: |runtime error:" "$log" | sed 's/^/  /' || true
    fi
done

if [ "${#failed[@]}" -ne 0 ]; then
    echo "fuzz: FAILED: ${failed[*]} (logs in $B/logs/)"
    exit 1
fi
echo "fuzz: ${#targets[@]} targets, ${share}s each, no crash"
