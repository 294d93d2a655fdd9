#!/usr/bin/env bash
# bench/run.sh [PATH...] — throughput and latency of the API through nginx,
# against the ceiling of a libfcgi hello-world pool behind the same nginx.
# Prints figures, never passes or fails on them.
#
# Starts its own stack (run-bench/, ports 18874 / PG 30432 / AMQP 26672 /
# dist 31672, node cnova-bench@localhost) plus bench/hello-fcgi, runs
#   wrk -t2 -c32 -d10s --latency -H 'X-Auth-Token: admin:admin'
# against /hello and each PATH (default /v2.1/, /v2.1/os-services,
# /v2.1/flavors/detail, /v2.1/os-keypairs, /v2.1/limits, and /v2.1/servers
# and /servers/detail over 10 servers it boots first), prints
# a table, and stops everything it started.
#
# Knobs: CNOVA_BIN (build/), BENCH_DURATION (10s), BENCH_CONNECTIONS (32),
# BENCH_THREADS (2), BENCH_KEEP=1 (leave the stack running afterwards).
#
# bench-servers: bench/servers.sh measures the build pipeline instead (1000
# servers in a burst across 4 compute hosts: servers/s to ACTIVE, p50/p99
# time-to-ACTIVE, no host over capacity, no instance lost).
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$REPO"

export CNOVA_BIN=${CNOVA_BIN:-$REPO/build}
case $CNOVA_BIN in /*) ;; *) CNOVA_BIN=$REPO/$CNOVA_BIN ;; esac
export CNOVA_RUN=$REPO/run-bench
export CNOVA_PORT=18874 CNOVA_METADATA_PORT=18875 CNOVA_PG_PORT=30432 CNOVA_RMQ_PORT=26672 CNOVA_RMQ_DIST_PORT=31672
export CNOVA_RMQ_NODE=cnova-bench@localhost
export CNOVA_VIRT=test # simulated hosts: the bench measures the control plane
export CNOVA_COMPUTE_HOSTS=${CNOVA_COMPUTE_HOSTS:-compute1}
export CNOVA_API_WORKERS=${CNOVA_API_WORKERS:-0} # 0 = 2 x cores, as the hello pool below
export CNOVA_HELLO_SOCKET=$CNOVA_RUN/hello-fcgi.sock

DURATION=${BENCH_DURATION:-10s}
CONNS=${BENCH_CONNECTIONS:-32}
THREADS=${BENCH_THREADS:-2}
TOKEN='X-Auth-Token: admin:admin'
BASE=http://127.0.0.1:$CNOVA_PORT
HELLO_BIN=${HELLO_BIN:-$CNOVA_BIN/hello-fcgi}
HELLO_PID=$CNOVA_RUN/pids/hello-fcgi.pid
WORKERS=$((2 * $(nproc)))

if [ $# -gt 0 ]; then PATHS=("$@"); else
    PATHS=(/v2.1/ /v2.1/os-services /v2.1/flavors/detail /v2.1/os-keypairs /v2.1/limits /v2.1/servers
        /v2.1/servers/detail)
fi

command -v wrk >/dev/null || { echo "bench: wrk not installed (scripts/deps.sh)" >&2; exit 1; }
[ -x "$HELLO_BIN" ] || { echo "bench: $HELLO_BIN not built (make $HELLO_BIN)" >&2; exit 1; }

cleanup() {
    local rc=$?
    if [ "${BENCH_KEEP:-0}" = 1 ]; then
        echo "bench: stack left running; stop with: CNOVA_RUN=$CNOVA_RUN scripts/stack.sh stop; kill \$(cat $HELLO_PID)"
        exit $rc
    fi
    if [ -s "$HELLO_PID" ]; then
        local pid
        pid=$(cat "$HELLO_PID")
        if kill -TERM "$pid" 2>/dev/null; then
            for _ in $(seq 50); do
                kill -0 "$pid" 2>/dev/null && [ "$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)" != Z ] || break
                sleep 0.1
            done
        fi
        rm -f "$HELLO_PID"
    fi
    scripts/stack.sh stop >/dev/null || echo "bench: stack.sh stop failed" >&2
    exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

mkdir -p "$CNOVA_RUN/pids" "$CNOVA_RUN/log"
if ! { [ -s "$HELLO_PID" ] && kill -0 "$(cat "$HELLO_PID")" 2>/dev/null; }; then
    nohup "$HELLO_BIN" "$CNOVA_HELLO_SOCKET" "$WORKERS" </dev/null >>"$CNOVA_RUN/log/hello-fcgi.log" 2>&1 &
    echo $! >"$HELLO_PID"
fi
for _ in $(seq 50); do [ -S "$CNOVA_HELLO_SOCKET" ] && break; sleep 0.1; done
[ -S "$CNOVA_HELLO_SOCKET" ] || { echo "bench: hello-fcgi did not start (see $CNOVA_RUN/log/hello-fcgi.log)" >&2; exit 1; }

scripts/stack.sh start >"$CNOVA_RUN/log/stack-start.log" 2>&1 ||
    { cat "$CNOVA_RUN/log/stack-start.log" >&2; echo "bench: stack did not start" >&2; exit 1; }

# The server rows read 10 servers of the admin project: boot them once
# (a second run on a kept stack finds them) and wait until they settle.
seed_servers() {
    local n
    n=$(curl -s -H "$TOKEN" "$BASE/v2.1/servers" | grep -o '"id"' | wc -l)
    if [ "$n" -lt 10 ]; then
        curl -s -o /dev/null -H "$TOKEN" -H 'Content-Type: application/json' \
            -H 'OpenStack-API-Version: compute 2.37' -d '{"server": {"name": "bench",
            "imageRef": "80292edd-18c0-4446-9fa4-994b39a2dc15", "flavorRef": "1",
            "networks": "none", "min_count": 10, "max_count": 10}}' "$BASE/v2.1/servers"
    fi
    for _ in $(seq 100); do
        curl -s -H "$TOKEN" "$BASE/v2.1/servers/detail" | grep -q '"status":"BUILD"' || return 0
        sleep 0.3
    done
    echo "bench: the seeded servers did not settle" >&2
}
case " ${PATHS[*]} " in *" /v2.1/servers"*) seed_servers ;; esac

# wrk_row URL: "status req/s p50_ms p99_ms non2xx"
wrk_row() {
    local url=$1 status out
    status=$(curl -s -o /dev/null -w '%{http_code}' -H "$TOKEN" "$url" || echo 000)
    out=$(wrk -t"$THREADS" -c"$CONNS" -d"$DURATION" --latency -H "$TOKEN" "$url" 2>&1) || true
    printf '%s\n' "$out" >>"$CNOVA_RUN/log/wrk.log"
    printf '%s\n' "$out" | awk -v status="$status" '
        function ms(v) {
            if (v ~ /us$/) return substr(v, 1, length(v) - 2) / 1000
            if (v ~ /ms$/) return substr(v, 1, length(v) - 2) + 0
            if (v ~ /s$/)  return substr(v, 1, length(v) - 1) * 1000
            return v + 0
        }
        $1 == "50%"           { p50 = ms($2) }
        $1 == "99%"           { p99 = ms($2) }
        /^Requests\/sec:/     { rps = $2 }
        /Non-2xx or 3xx/      { bad = $NF }
        END { printf "%s %.0f %.3f %.3f %d\n", status, rps, p50, p99, bad }'
}

echo "cnova bench: wrk -t$THREADS -c$CONNS -d$DURATION --latency, nginx + $WORKERS FastCGI workers each," \
    "$(nproc) cores, $(date -u +%Y-%m-%dT%H:%MZ)"
read -r hs hrps hp50 hp99 hbad < <(wrk_row "$BASE/hello")
printf '%-28s %6s %10s %9s %9s %9s %8s\n' url status req/s p50_ms p99_ms non-2xx %hello
line() { printf '%-28s %6s %10s %9s %9s %9s %8s\n' "$@"; }
line /hello "$hs" "$hrps" "$hp50" "$hp99" "$hbad" 100%
for p in "${PATHS[@]}"; do
    read -r s rps p50 p99 bad < <(wrk_row "$BASE$p")
    pct=$(awk -v a="$rps" -v b="$hrps" 'BEGIN { if (b > 0) printf "%.0f%%", 100 * a / b; else print "-" }')
    line "$p" "$s" "$rps" "$p50" "$p99" "$bad" "$pct"
done
echo "(raw wrk output: $CNOVA_RUN/log/wrk.log)"
