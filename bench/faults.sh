#!/usr/bin/env bash
# bench/faults.sh — the fault matrix at bench size: for each row, a storm of
# FAULTS_BOOTS (400) single boots, FAULTS_PAR (8) at a time, with one process
# of the stack killed with -9 part-way and started again with
# `scripts/stack.sh start`, then a delete storm the same way, and (with
# FAULTS_RESIZES > 0) a resize storm; prints accepted, ACTIVE, ERROR and the
# p50/p99/max time to ACTIVE of each row, and the checks (guests on the
# hypervisors = servers, usage = claims). Figures only: it fails only when
# the checks do. The driver is tests/faults/faults.py (the test's, with
# bigger numbers); FAULTS_ROWS picks rows (comma-separated, its FAULTS).
#
# Own stack: run-bench-faults/, ports 18974 / PG 30574 / AMQP 26774 / dist
# 31774, node cnova-bench-faults@localhost, four simulated hosts c1..c4.
set -euo pipefail
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$REPO"
export CNOVA_BIN=${CNOVA_BIN:-$REPO/build}
case $CNOVA_BIN in /*) ;; *) CNOVA_BIN=$REPO/$CNOVA_BIN ;; esac
export CNOVA_RUN=$REPO/run-bench-faults
export CNOVA_PORT=18974 CNOVA_METADATA_PORT=18975 CNOVA_PG_PORT=30574 CNOVA_RMQ_PORT=26774
export CNOVA_RMQ_DIST_PORT=31774 CNOVA_RMQ_NODE=cnova-bench-faults@localhost
export CNOVA_COMPUTE_HOSTS="c1 c2 c3 c4" CNOVA_VIRT=test CNOVA_API_WORKERS=${CNOVA_API_WORKERS:-4}
unset CNOVA_HOST_SIZE
rows=${FAULTS_ROWS:-}
echo "cnova bench-faults: ${FAULTS_BOOTS:-400} boots per row, ${FAULTS_PAR:-8} at a time, 4 simulated hosts, $(nproc) cores, $(date -u +%Y-%m-%dT%H:%MZ)"
exec /usr/bin/python3 tests/faults/faults.py --boots "${FAULTS_BOOTS:-400}" --par "${FAULTS_PAR:-8}" \
    --resizes "${FAULTS_RESIZES:-40}" ${rows:+--faults "$rows"}
