#!/usr/bin/env bash
# test.sh BUILD_DIR — runs every test: the cmocka unit tests, then the
# black-box API and client tests against a private stack (its own run folder
# and ports, started here and stopped on exit), the fault matrix
# (tests/faults, on a stack it starts itself), Keystone mode (tests/keystone)
# and the real-guest tests. Sanitizer reports written by
# any stack process fail the run. Ends with the summary line; exit 1 on any
# failure.
set -uo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
B=${1:-build-asan}
cd "$REPO"
PY=/usr/bin/python3
failed=0 passed=0 tests=0 tfail=0 tskip=0
note() { printf '== %s\n' "$*"; }

# ---- unit tests (from the repo root: they read api/) ----
for t in "$B"/tests/test_*; do
    [ -x "$t" ] || continue
    note "unit: $(basename "$t")"
    if "$t"; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "FAILED: $t"; fi
done

# ---- a private stack for the black-box tests ----
export CNOVA_RUN=$REPO/run-test CNOVA_BIN=$REPO/$B
# ports of their own, none shared with `make run` (8774, 15432, 15672, 25672) or `make bench`
export CNOVA_PORT=18774 CNOVA_METADATA_PORT=18775 CNOVA_PG_PORT=15532 CNOVA_RMQ_PORT=15772 CNOVA_RMQ_DIST_PORT=25772
export CNOVA_RMQ_NODE=cnova-test@localhost CNOVA_COMPUTE_HOSTS="compute1 compute2"
export CNOVA_API_WORKERS=4
# nginx cuts slow clients after 10 s (60 s by default): test_nginx_limits sees it
export CNOVA_CLIENT_TIMEOUT=10
# simulated hosts of the test driver's own size, as the suite was written
# for (tests/guest/ runs against a QEMU stack of its own)
export CNOVA_VIRT=test CNOVA_HOST_SIZE="0 0 0"
export CNOVA_BASE=http://127.0.0.1:$CNOVA_PORT
# Sanitizer reports of the stack's processes land in files we check at the end.
rm -rf "$CNOVA_RUN/asan"; mkdir -p "$CNOVA_RUN/asan"
export ASAN_OPTIONS="log_path=$CNOVA_RUN/asan/asan:detect_leaks=1"
export UBSAN_OPTIONS="log_path=$CNOVA_RUN/asan/ubsan:print_stacktrace=1"
# the stack starts as root and drops nothing: keep LSan from tripping on ptrace limits
stop_stack() { scripts/stack.sh stop >/dev/null 2>&1 || true; }
trap stop_stack EXIT
note "starting a private stack on $CNOVA_BASE"
if ! scripts/stack.sh start; then
    echo "FAILED: the test stack did not start"; tail -n 30 "$CNOVA_RUN"/log/*.log 2>/dev/null
    exit 1
fi

# run_suite DIR: one folder of black-box tests against the stack up now
run_suite() {
    local suite=$1 out
    [ -d "$suite" ] || return 0
    note "black-box: $suite"
    # beside the build: a suite that makes its own stack (tests/faults)
    # empties that stack's run folder
    out=$REPO/$B/$(basename "$suite").out
    if "$PY" tests/run_suite.py "$suite" 2>&1 | tee "$out"; then
        passed=$((passed + 1))
    else
        failed=$((failed + 1)); echo "FAILED: $suite"
    fi
    read -r n f e s < <(sed -n 's/^RESULT tests=\([0-9]*\) failures=\([0-9]*\) errors=\([0-9]*\) skipped=\([0-9]*\)$/\1 \2 \3 \4/p' "$out")
    tests=$((tests + ${n:-0})); tfail=$((tfail + ${f:-0} + ${e:-0})); tskip=$((tskip + ${s:-0}))
}
for suite in tests/api tests/clients; do run_suite "$suite"; done

stop_stack
trap - EXIT

# ---- the fault matrix: four simulated hosts of their own, which
# tests/faults starts and stops itself (it kills their processes) ----
# use_stack NAME VIRT HOSTS P: the environment of the private stack NAME
# (run-NAME) on ports P774 (API), P775 (metadata), P432 (PostgreSQL), P672
# (AMQP) and (P+10)672 (Erlang distribution), its sanitizer reports in
# run-NAME/asan
use_stack() {
    export CNOVA_RUN=$REPO/run-$1 CNOVA_VIRT=$2 CNOVA_COMPUTE_HOSTS=$3
    export CNOVA_PORT=${4}774 CNOVA_METADATA_PORT=${4}775 CNOVA_PG_PORT=${4}432 CNOVA_RMQ_PORT=${4}672
    export CNOVA_RMQ_DIST_PORT=$(($4 + 10))672 CNOVA_RMQ_NODE=cnova-$1@localhost
    export CNOVA_BASE=http://127.0.0.1:$CNOVA_PORT
    unset CNOVA_HOST_SIZE
    mkdir -p "$CNOVA_RUN/asan"
    export ASAN_OPTIONS="log_path=$CNOVA_RUN/asan/asan:detect_leaks=1"
    export UBSAN_OPTIONS="log_path=$CNOVA_RUN/asan/ubsan:print_stacktrace=1"
}
run_faults_suite() {
    use_stack faults test "c1 c2 c3 c4" 17
    trap stop_stack EXIT
    run_suite tests/faults
    stop_stack
    trap - EXIT
}
rm -rf "$REPO/run-faults/asan"
run_faults_suite

# ---- Keystone mode: a stack of its own with a private Keystone
# (CNOVA_AUTH=keystone), driven by the real clients through its catalog ----
run_keystone_suite() {
    use_stack keystone test compute1 16
    # (16+10)672 is make bench's AMQP port
    export CNOVA_RMQ_DIST_PORT=26572 CNOVA_AUTH=keystone CNOVA_KEYSTONE_PORT=16500
    trap stop_stack EXIT
    note "starting a private Keystone-mode stack on $CNOVA_BASE (Keystone on :$CNOVA_KEYSTONE_PORT)"
    if ! scripts/stack.sh start; then
        echo "FAILED: the Keystone-mode stack did not start"; tail -n 30 "$CNOVA_RUN"/log/*.log 2>/dev/null
        failed=$((failed + 1))
    else
        run_suite tests/keystone
    fi
    stop_stack
    trap - EXIT
    unset CNOVA_AUTH CNOVA_KEYSTONE_PORT
}
rm -rf "$REPO/run-keystone/asan"
run_keystone_suite

# ---- real guests: a stack of its own on QEMU (TCG without /dev/kvm) ----
# tests/guest skip, saying why, where the stack falls back to simulated hosts
run_guest_suite() {
    use_stack guest qemu compute1 19
    trap stop_stack EXIT
    note "starting a private QEMU stack on $CNOVA_BASE"
    if ! scripts/stack.sh start; then
        echo "FAILED: the QEMU stack did not start"; tail -n 30 "$CNOVA_RUN"/log/*.log 2>/dev/null
        failed=$((failed + 1))
        return
    fi
    run_suite tests/guest
    stop_stack
    trap - EXIT
}
rm -rf "$REPO/run-guest/asan"
run_guest_suite

reports=$(find "$REPO/run-test/asan" "$REPO/run-faults/asan" "$REPO/run-keystone/asan" "$REPO/run-guest/asan" \
    -type f 2>/dev/null | head -20)
if [ -n "$reports" ]; then
    note "sanitizer reports from the stack's processes:"
    for f in $reports; do echo "--- $f"; head -n 40 "$f"; done
    failed=$((failed + 1))
fi
note "summary: $passed suites passed, $failed failed; black-box tests: $tests run, $tfail failed, $tskip skipped"
[ "$failed" -eq 0 ]
