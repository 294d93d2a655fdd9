#!/usr/bin/env bash
# bench/soak.sh — the soak: SOAK_SECONDS (1200) of mixed load (reads, boots,
# stop/start/reboot, deletes) across SOAK_WORKERS (8) projects on a private
# stack of simulated hosts, sampling RSS and open fds of every cnova process
# and nginx. Prints a table of growth after warm-up and fails (exit 1) on any
# error answer, a process grown past the tolerance, a dead API worker, or the
# database and the hypervisors disagreeing (bench/soak.py says how).
#
# Own stack: run-soak/ (fresh each run), ports 18974 / PG 30574 / AMQP 26774 /
# dist 31774, node cnova-soak@localhost, two compute hosts; every CNOVA_*
# port knob of scripts/stack.sh overrides these. Knobs: CNOVA_BIN (build/),
# SOAK_SECONDS, SOAK_WORKERS, SOAK_SERVERS, SOAK_WARMUP, SOAK_RSS_TOLERANCE,
# SOAK_FD_TOLERANCE (bench/soak.py), SOAK_KEEP=1 (leave the stack running).
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$REPO"

export CNOVA_BIN=${CNOVA_BIN:-$REPO/build}
case $CNOVA_BIN in /*) ;; *) CNOVA_BIN=$REPO/$CNOVA_BIN ;; esac
export CNOVA_RUN=${CNOVA_RUN:-$REPO/run-soak}
export CNOVA_PORT=${CNOVA_PORT:-18974} CNOVA_METADATA_PORT=${CNOVA_METADATA_PORT:-18975}
export CNOVA_PG_PORT=${CNOVA_PG_PORT:-30574} CNOVA_RMQ_PORT=${CNOVA_RMQ_PORT:-26774}
export CNOVA_RMQ_DIST_PORT=${CNOVA_RMQ_DIST_PORT:-31774} CNOVA_RMQ_NODE=${CNOVA_RMQ_NODE:-cnova-soak@localhost}
export CNOVA_VIRT=test # simulated hosts: the soak is about the control plane
export CNOVA_COMPUTE_HOSTS=${CNOVA_COMPUTE_HOSTS:-compute1 compute2}
export CNOVA_BASE=http://127.0.0.1:$CNOVA_PORT

cleanup() {
    local rc=$?
    if [ "${SOAK_KEEP:-0}" = 1 ]; then
        echo "soak: stack left running; stop with: CNOVA_RUN=$CNOVA_RUN scripts/stack.sh stop"
    else
        scripts/stack.sh stop >/dev/null || echo "soak: stack.sh stop failed" >&2
    fi
    exit $rc
}

# a fresh stack: stop one left running by an earlier soak, then start anew
scripts/stack.sh stop >/dev/null 2>&1 || true
rm -rf "$CNOVA_RUN"
trap cleanup EXIT
trap 'exit 130' INT TERM
mkdir -p "$CNOVA_RUN/log"
scripts/stack.sh start >"$CNOVA_RUN/log/stack-start.log" 2>&1 ||
    { cat "$CNOVA_RUN/log/stack-start.log" >&2; echo "soak: stack did not start" >&2; exit 1; }
echo "soak: ${SOAK_SECONDS:-1200} s on $CNOVA_BASE ($CNOVA_BIN)"
/usr/bin/python3 bench/soak.py
