#!/usr/bin/env bash
# bench/servers.sh — the build pipeline under a burst: BENCH_SERVERS (1000)
# servers requested in parallel (BENCH_PARALLEL = 32 at a time) across four
# compute hosts (c1..c4, libvirt test driver, 64 vCPUs / 256 GiB / 2000 GB
# each, cpu_allocation_ratio 4 -> 1024 one-vCPU slots). Prints servers/s to
# ACTIVE and p50/p99 time-to-ACTIVE (launched_at - created_at), and checks
# that no host is over capacity and that no instance is lost (every one
# ACTIVE, or ERROR with a fault). Figures only: it fails only when the
# checks do. Boots through POST /servers when it answers 202, else writes
# instances + outbox rows as the API does.
#
# Own stack: run-bench-servers/, ports 18894 / PG 30494 / AMQP 26694 / dist
# 31694, node cnova-bench-servers@localhost. Knobs: CNOVA_BIN (build/),
# BENCH_SERVERS, BENCH_PARALLEL, BENCH_BATCH (servers per POST, 10), BENCH_VIA=db (write the rows directly even
# when the API works: the pipeline alone), BENCH_KEEP=1 (leave it running).
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$REPO"

export CNOVA_BIN=${CNOVA_BIN:-$REPO/build}
case $CNOVA_BIN in /*) ;; *) CNOVA_BIN=$REPO/$CNOVA_BIN ;; esac
export CNOVA_RUN=$REPO/run-bench-servers
export CNOVA_PORT=18894 CNOVA_METADATA_PORT=18895 CNOVA_PG_PORT=30494 CNOVA_RMQ_PORT=26694 CNOVA_RMQ_DIST_PORT=31694
export CNOVA_RMQ_NODE=cnova-bench-servers@localhost
export CNOVA_COMPUTE_HOSTS="c1 c2 c3 c4"
export CNOVA_VIRT=test # simulated hosts: the bench measures the control plane
export CNOVA_API_WORKERS=${CNOVA_API_WORKERS:-0}
N=${BENCH_SERVERS:-1000}
PAR=${BENCH_PARALLEL:-32}
PIDS=$CNOVA_RUN/pids

cleanup() {
    local rc=$?
    if [ "${BENCH_KEEP:-0}" = 1 ]; then
        echo "bench: stack left running; stop with: CNOVA_RUN=$CNOVA_RUN scripts/stack.sh stop"
    else
        scripts/stack.sh stop >/dev/null || echo "bench: stack.sh stop failed" >&2
    fi
    exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# A fresh database each time: the figures are for an empty cloud.
scripts/stack.sh stop >/dev/null 2>&1 || true
rm -rf "$CNOVA_RUN"
mkdir -p "$CNOVA_RUN/log"
scripts/stack.sh start >"$CNOVA_RUN/log/stack-start.log" 2>&1 ||
    { cat "$CNOVA_RUN/log/stack-start.log" >&2; echo "bench: stack did not start" >&2; exit 1; }

# Resize the four hosts: restart each cnova-compute with [compute] vcpus /
# memory_mb / local_gb set (stack.sh writes every host's config alike).
for h in $CNOVA_COMPUTE_HOSTS; do
    conf=$CNOVA_RUN/compute-$h.conf pidf=$PIDS/cnova-compute-$h.pid
    kill -TERM "$(cat "$pidf")" 2>/dev/null || true
    for _ in $(seq 100); do kill -0 "$(cat "$pidf")" 2>/dev/null || break; sleep 0.1; done
    sed -i -e 's/^vcpus = .*/vcpus = 64/' -e 's/^memory_mb = .*/memory_mb = 262144/' \
        -e 's/^local_gb = .*/local_gb = 2000/' -e 's/^update_resources_interval = .*/update_resources_interval = 5/' "$conf"
    setsid nohup "$CNOVA_BIN/cnova-compute" --config "$conf" </dev/null >>"$CNOVA_RUN/log/cnova-compute-$h.log" 2>&1 &
    echo $! >"$pidf"
done

PSQL=(psql -h 127.0.0.1 -p "$CNOVA_PG_PORT" -U cnova -d cnova -qAt)
for _ in $(seq 120); do
    [ "$("${PSQL[@]}" -c "SELECT count(*) FROM compute_nodes WHERE vcpus = 64 AND memory_mb = 262144")" = 4 ] && break
    sleep 0.5
done

BENCH_VIA=${BENCH_VIA:-api} CNOVA_BASE=http://127.0.0.1:$CNOVA_PORT N=$N PAR=$PAR PG_PORT=$CNOVA_PG_PORT /usr/bin/python3 - <<'PY'
import concurrent.futures, http.client, json, os, subprocess, sys, time, uuid

N, PAR, PG = int(os.environ["N"]), int(os.environ["PAR"]), os.environ["PG_PORT"]
PROJECT, TOKEN = "bench", "admin:bench"

def psql(sql):
    return subprocess.run(["psql", "-h", "127.0.0.1", "-p", PG, "-U", "cnova", "-d", "cnova",
                           "-qAtc", sql], capture_output=True, text=True, check=True).stdout.strip()

def call(method, path, body=None):
    c = http.client.HTTPConnection("127.0.0.1", int(os.environ["CNOVA_BASE"].rsplit(":", 1)[1]), timeout=60)
    h = {"X-Auth-Token": TOKEN, "Content-Type": "application/json", "Accept": "application/json"}
    c.request(method, path, json.dumps(body) if body is not None else None, h)
    r = c.getresponse()
    data = r.read()
    c.close()
    return r.status, (json.loads(data) if data else None)

image = psql("SELECT id FROM images ORDER BY created_at LIMIT 1")
call("PUT", f"/v2.1/os-quota-sets/{PROJECT}", {"quota_set": {"instances": -1, "cores": -1, "ram": -1}})
st, fl = call("POST", "/v2.1/flavors", {"flavor": {"name": "bench.1", "ram": 256, "vcpus": 1, "disk": 1}})
flavor = fl["flavor"]["id"] if st == 200 else None

def q(v):
    return "'" + str(v).replace("'", "''") + "'"

def insert(batch):
    """One transaction per batch, as POST /servers with min_count would write it."""
    f = {"flavorid": "bench.1", "name": "bench.1", "vcpus": 1, "memory_mb": 256, "root_gb": 1,
         "ephemeral_gb": 0, "swap": 0, "extra_specs": {}}
    spec = {"scheduler_hints": {}, "image": {"id": image, "min_disk": 0, "min_ram": 0, "properties": {}},
            "num_instances": 1}
    sql = ["BEGIN;"]
    for i in batch:
        u = str(uuid.uuid4())
        sql.append("INSERT INTO instances (uuid, project_id, user_id, display_name, image_ref, flavor, "
                   "vcpus, memory_mb, root_gb, reservation_id, request_spec) VALUES "
                   f"({q(u)}, {q(PROJECT)}, 'admin', 'bench-{i}', {q(image)}, {q(json.dumps(f))}, 1, 256, 1, "
                   f"'r-bench', {q(json.dumps(spec))}); INSERT INTO outbox (topic, method, args) VALUES "
                   f"('conductor', 'build_instances', {q(json.dumps({'instance_uuids': [u]}))});")
    sql.append("COMMIT;")
    psql(" ".join(sql))

use_api = False
if flavor and os.environ.get("BENCH_VIA") != "db":
    st, _ = call("POST", "/v2.1/servers", {"server": {"name": "bench-probe", "flavorRef": flavor, "imageRef": image}})
    use_api = st == 202
    N -= 1 if use_api else 0

BATCH = max(1, int(os.environ.get("BENCH_BATCH", "10")))

def boot(batch):
    """One POST /servers for the whole batch (min_count = max_count), as a
    client asking for many servers at once does."""
    n = len(batch)
    st, b = call("POST", "/v2.1/servers", {"server": {"name": f"bench-{batch[0]}", "flavorRef": flavor,
                                                       "imageRef": image, "min_count": n, "max_count": n}})
    if st != 202:
        raise SystemExit(f"POST /servers: {st} {b}")

t0 = time.time()
with concurrent.futures.ThreadPoolExecutor(PAR if use_api else 4) as ex:
    if use_api:
        list(ex.map(boot, [list(range(i, min(i + BATCH, N))) for i in range(0, N, BATCH)]))
    else:  # batches of 20 rows per transaction (one psql each)
        list(ex.map(insert, [range(i, min(i + 20, N)) for i in range(0, N, 20)]))
t_req = time.time() - t0
total = int(psql(f"SELECT count(*) FROM instances WHERE project_id = '{PROJECT}'"))
deadline = time.time() + 600
while True:
    left = int(psql(f"SELECT count(*) FROM instances WHERE project_id = '{PROJECT}' AND "
                    "(vm_state = 'building' OR task_state IS NOT NULL)"))
    if left == 0 or time.time() > deadline:
        break
    time.sleep(0.2)
t_all = time.time() - t0

stats = psql(
    "SELECT count(*) FILTER (WHERE vm_state = 'active'), count(*) FILTER (WHERE vm_state = 'error'), "
    "count(*) FILTER (WHERE vm_state = 'error' AND NOT EXISTS (SELECT 1 FROM instance_faults f "
    "WHERE f.instance_uuid = i.uuid)), count(*) FILTER (WHERE vm_state NOT IN ('active', 'error')), "
    "percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM launched_at - created_at)), "
    "percentile_cont(0.99) WITHIN GROUP (ORDER BY extract(epoch FROM launched_at - created_at)), "
    "extract(epoch FROM max(launched_at) - min(created_at)) "
    f"FROM instances i WHERE project_id = '{PROJECT}'").split("|")
active, error, error_nofault, other = map(int, stats[:4])
p50, p99, span = (float(x or 0) for x in stats[4:7])
over = psql("SELECT string_agg(host, ',') FROM compute_nodes WHERE vcpus_used > vcpus * cpu_allocation_ratio "
            "OR memory_mb_used > memory_mb * ram_allocation_ratio - reserved_host_memory_mb "
            "OR local_gb_used > local_gb * disk_allocation_ratio")
mismatch = psql(
    "SELECT string_agg(host, ',') FROM (SELECT cn.host, cn.vcpus_used, count(i.id) n FROM compute_nodes cn "
    "LEFT JOIN instances i ON (i.claim->>'node_id')::int = cn.id AND i.deleted = 0 GROUP BY cn.id) x "
    "WHERE vcpus_used <> n")
per_host = psql("SELECT string_agg(host || '=' || running_vms || '/' || (vcpus * cpu_allocation_ratio)::int, ' ' "
                "ORDER BY host) FROM compute_nodes")

how = f"POST /servers of {BATCH} (min_count), {PAR} in parallel" if use_api else "instances + outbox rows, 4 x 20-row transactions in parallel"
print(f"cnova bench-servers: {total} servers via {how}, "
      f"4 hosts, {os.cpu_count()} cores, {time.strftime('%Y-%m-%dT%H:%MZ', time.gmtime())}")
print(f"  requests sent in     {t_req:8.2f} s ({total / t_req:.0f} req/s)")
print(f"  all settled in       {t_all:8.2f} s")
print(f"  servers/s to ACTIVE  {active / span if span else 0:8.1f}   (first request to last ACTIVE: {span:.2f} s)")
print(f"  time-to-ACTIVE       p50 {p50 * 1000:.0f} ms   p99 {p99 * 1000:.0f} ms")
print(f"  ACTIVE {active}   ERROR {error} (without a fault: {error_nofault})   other {other}")
print(f"  hosts (running/slots): {per_host}")
ok = other == 0 and error_nofault == 0 and not over and not mismatch and active + error == total
print(f"  checks: over capacity: {over or 'none'}; usage != claims: {mismatch or 'none'}; lost: {other + error_nofault}"
      f" -> {'OK' if ok else 'FAILED'}")
sys.exit(0 if ok else 1)
PY
