#!/usr/bin/env bash
# bench/keystone.sh — what Keystone mode costs (issue #15's benchmark):
#   1. GET /v2.1/flavors/detail in noauth2 (token admin:admin);
#   2. the same in Keystone mode with one demo token (cache warm);
#   3. the same with BENCH_TOKENS (1000) distinct demo tokens in rotation
#      (and, to show wrk's cost of its Lua script, one token through it):
#      a first pass validates each one, then wrk rotates over all of them
#      for BENCH_DURATION; Keystone's own access log counts the
#      validations it served (expected: each token once per
#      token_cache_time, 300 s).
# Prints figures, never passes or fails. Its own stack (run-bench-ks/,
# ports 18674 / PG 30632 / AMQP 26872 / dist 31872 / Keystone 30700),
# stopped at the end.
#
# Knobs: CNOVA_BIN (build/), BENCH_DURATION (10s), BENCH_CONNECTIONS (32),
# BENCH_THREADS (2), BENCH_TOKENS (1000).
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$REPO"

export CNOVA_BIN=${CNOVA_BIN:-$REPO/build}
case $CNOVA_BIN in /*) ;; *) CNOVA_BIN=$REPO/$CNOVA_BIN ;; esac
export CNOVA_RUN=$REPO/run-bench-ks
export CNOVA_PORT=18674 CNOVA_METADATA_PORT=18675 CNOVA_PG_PORT=30632 CNOVA_RMQ_PORT=26872 CNOVA_RMQ_DIST_PORT=31872
export CNOVA_RMQ_NODE=cnova-bench-ks@localhost CNOVA_KEYSTONE_PORT=30700
export CNOVA_VIRT=test CNOVA_COMPUTE_HOSTS=compute1 CNOVA_API_WORKERS=${CNOVA_API_WORKERS:-0}

DURATION=${BENCH_DURATION:-10s}
CONNS=${BENCH_CONNECTIONS:-32}
THREADS=${BENCH_THREADS:-2}
NTOKENS=${BENCH_TOKENS:-1000}
URL=http://127.0.0.1:$CNOVA_PORT/v2.1/flavors/detail
KS=http://127.0.0.1:$CNOVA_KEYSTONE_PORT
PASSWORD=${CNOVA_KEYSTONE_PASSWORD:-secret}
UWSGI_LOG=$CNOVA_RUN/keystone/uwsgi.log

command -v wrk >/dev/null || { echo "bench: wrk not installed (scripts/deps.sh)" >&2; exit 1; }
trap 'scripts/stack.sh stop >/dev/null 2>&1 || true' EXIT
mkdir -p "$CNOVA_RUN/log"

start() {
    CNOVA_AUTH=$1 scripts/stack.sh start >"$CNOVA_RUN/log/bench-start-$1.log" 2>&1 ||
        { tail -n 30 "$CNOVA_RUN/log/bench-start-$1.log" >&2; echo "bench: the $1 stack did not start" >&2; exit 1; }
}

# row LABEL WRK-ARGS...: "label  req/s  p50  p99  non-2xx"
row() {
    local label=$1 out
    shift
    out=$(wrk -t"$THREADS" -c"$CONNS" -d"$DURATION" --latency "$@" "$URL" 2>&1) || true
    printf '%s\n' "$out" >>"$CNOVA_RUN/log/wrk.log"
    printf '%s\n' "$out" | awk -v label="$label" '
        $1 == "50%" { p50 = $2 } $1 == "99%" { p99 = $2 }
        /^Requests\/sec:/ { rps = $2 } /Non-2xx/ { bad = $NF }
        END { printf "%-44s %10s %9s %9s %8s\n", label, rps, p50, p99, bad + 0 }'
}

validations() { grep -c 'GET /v3/auth/tokens' "$UWSGI_LOG" 2>/dev/null || echo 0; }

printf '%-44s %10s %9s %9s %8s\n' "GET /v2.1/flavors/detail" "req/s" p50 p99 non-2xx
start noauth2
row "noauth2 (admin:admin)" -H 'X-Auth-Token: admin:admin'
scripts/stack.sh stop >/dev/null
start keystone

tok=$(/usr/bin/python3 bench/ks_tokens.py "$KS" demo demo "$PASSWORD" 1)
curl -s -o /dev/null -H "X-Auth-Token: $tok" "$URL"
row "keystone, one token (cache warm)" -H "X-Auth-Token: $tok"

t0=$(date +%s)
/usr/bin/python3 bench/ks_tokens.py "$KS" demo demo "$PASSWORD" "$NTOKENS" >"$CNOVA_RUN/tokens.txt"
n=$(wc -l <"$CNOVA_RUN/tokens.txt")
v0=$(validations)
# the first pass: every token validated once (16 at a time)
xargs -P 16 -I{} curl -s -o /dev/null -H 'X-Auth-Token: {}' "$URL" <"$CNOVA_RUN/tokens.txt"
v1=$(validations)
# the same Lua script over one token, for wrk's own cost of it
for _ in $(seq "$n"); do echo "$tok"; done >"$CNOVA_RUN/one-token.txt"
export TOKENS_FILE=$CNOVA_RUN/one-token.txt
row "keystone, one token through tokens.lua" -s bench/tokens.lua
export TOKENS_FILE=$CNOVA_RUN/tokens.txt
row "keystone, $n tokens in rotation" -s bench/tokens.lua
v2=$(validations)
echo
echo "tokens: $n distinct (minted in $(($(date +%s) - t0)) s with the first pass)"
echo "Keystone validations: first pass $((v1 - v0)), during the rotation $((v2 - v1)) (each token once per token_cache_time)"
