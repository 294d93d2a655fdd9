"""faults.py — the fault matrix: a storm of boots (deletes, resizes) against
a private stack on simulated hosts, one process of the stack killed with -9
part-way through and started again with `scripts/stack.sh start`, then the
outcome read back: every accepted request done (ACTIVE / gone / resized),
none in ERROR, nothing doubled (guests on each hypervisor = the servers the
database puts there; each node's usage = the claims its instances and
migrations hold; one create action per server). Used by
tests/faults/test_fault_matrix.py (small storms, assertions) and
bench/faults.sh (`python3 tests/faults/faults.py --boots 400`, the figures).

The stack is the one the CNOVA_* environment names (scripts/stack.sh's
knobs); `Stack.fresh()` starts it from an empty run folder."""
import argparse, concurrent.futures, http.client, json, os, signal, subprocess, sys, threading
import time, uuid

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# The rows: what is killed. "compute" is the second compute host;
# "rabbitmq" the first broker (the one everything publishes to),
# "rabbitmq-2" the second (where every worker also consumes).
FAULTS = ["none", "api-worker", "api-master", "nginx", "conductor-worker", "conductor",
          "scheduler", "compute", "rabbitmq", "rabbitmq-2", "postgresql"]

# scripts/stack.sh's knobs for a fault stack, unless the environment sets them
DEFAULTS = {
    "CNOVA_RUN": os.path.join(REPO, "run-faults"),
    "CNOVA_BIN": os.path.join(REPO, "build"),
    "CNOVA_PORT": "17774", "CNOVA_METADATA_PORT": "17775", "CNOVA_PG_PORT": "17432",
    "CNOVA_RMQ_PORT": "17672", "CNOVA_RMQ_DIST_PORT": "27672",
    "CNOVA_RMQ_NODE": "cnova-faults@localhost",
    "CNOVA_COMPUTE_HOSTS": "c1 c2 c3 c4", "CNOVA_VIRT": "test", "CNOVA_API_WORKERS": "4",
}
# A simulated host's guests live in its cnova-compute process; a real
# hypervisor's outlive the agent. Resuming them when the agent starts again
# (Nova's option) makes killing a compute what it is on a real host.
CONF_EXTRA = "DEFAULT\tresume_guests_state_on_host_boot\ttrue"


def stack_env():
    env = dict(os.environ)
    for k, v in DEFAULTS.items():
        env.setdefault(k, v)
    env.pop("CNOVA_HOST_SIZE", None)  # Nova's fake driver's size
    env["CNOVA_CONF_EXTRA"] = CONF_EXTRA
    return env


class Stack:
    def __init__(self, env=None):
        self.env = env or stack_env()
        self.run = self.env["CNOVA_RUN"]
        self.port = int(self.env["CNOVA_PORT"])
        self.hosts = self.env["CNOVA_COMPUTE_HOSTS"].split()

    # ---- the stack as a whole
    def stack(self, verb, check=True, timeout=300):
        r = subprocess.run([os.path.join(REPO, "scripts", "stack.sh"), verb], env=self.env,
                           capture_output=True, text=True, timeout=timeout)
        if check and r.returncode:
            raise RuntimeError(f"stack.sh {verb} failed:\n{r.stdout[-2000:]}\n{r.stderr[-2000:]}")
        return r

    def fresh(self):
        self.stack("stop", check=False)
        if os.path.isdir(self.run):  # all but the sanitizers' reports
            subprocess.run(["rm", "-rf"] + [os.path.join(self.run, e) for e in os.listdir(self.run)
                                            if e != "asan"], check=True)
        self.stack("start")
        # every host reported (its node row) and up
        deadline = time.time() + 120
        while time.time() < deadline:
            if self.sql("SELECT count(*) FROM compute_nodes WHERE deleted = 0") == str(len(self.hosts)):
                return
            time.sleep(0.5)
        raise RuntimeError("the compute hosts did not report")

    def stop(self):
        self.stack("stop", check=False)

    def restart(self):
        """scripts/stack.sh start: starts what is missing. A PostgreSQL
        killed with -9 can refuse to start for a moment (its old backends
        still hold the shared memory): tried again then."""
        last = None
        for _ in range(20):
            try:
                return self.stack("start")
            except RuntimeError as e:
                last = e
                time.sleep(1)
        raise last

    # ---- reading it
    def sql(self, q, tries=1):
        for i in range(tries):
            r = subprocess.run(["psql", "-h", "127.0.0.1", "-p", self.env["CNOVA_PG_PORT"], "-U",
                                "cnova", "-d", "cnova", "-qAtc", q], capture_output=True, text=True)
            if r.returncode == 0:
                return r.stdout.strip()
            time.sleep(0.5)
        raise RuntimeError(f"psql: {r.stderr.strip()}")

    def rows(self, q, tries=1):
        out = self.sql(q, tries)
        return [l.split("|") for l in out.splitlines()] if out else []

    def call(self, method, path, body=None, token="admin:admin", timeout=60):
        """(status, json or None); status 0 when the connection failed."""
        h = {"X-Auth-Token": token, "Accept": "application/json"}
        data = None
        if body is not None:
            data = json.dumps(body)
            h["Content-Type"] = "application/json"
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            c.request(method, path, data, h)
            r = c.getresponse()
            raw = r.read()
            try:
                return r.status, json.loads(raw) if raw else None, dict(r.getheaders())
            except ValueError:
                return r.status, None, dict(r.getheaders())
        except OSError:
            return 0, None, {}
        finally:
            c.close()

    def guests(self, host):
        """Domains the hypervisor of `host` has (its compute's ping)."""
        r = subprocess.run([os.path.join(self.env["CNOVA_BIN"], "cnova-conductor"), "--config",
                            os.path.join(self.run, "cnova.conf"), "--ping", f"compute.{host}"],
                           capture_output=True, text=True, timeout=90, env=self.env)
        if r.returncode:
            raise RuntimeError(f"ping compute.{host}: {r.stderr.strip()}")
        return json.loads(r.stdout)["hypervisor"]["instances"]

    # ---- the processes
    def _pidfile(self, name):
        return os.path.join(self.run, "pids", f"{name}.pid")

    @staticmethod
    def _read_pid(path):
        with open(path) as f:
            return int(f.read().split()[0])

    @staticmethod
    def _children(parent):
        kids = []
        for pid in os.listdir("/proc"):
            if pid.isdigit():
                try:
                    with open(f"/proc/{pid}/stat") as f:
                        if int(f.read().rsplit(")", 1)[1].split()[1]) == parent:
                            kids.append(int(pid))
                except (OSError, IndexError, ValueError):
                    pass
        return sorted(kids)

    def _private(self, name):
        f = os.path.join(self.run, f"{name}.dir")
        if os.path.exists(f):
            with open(f) as fh:
                return fh.read().strip()
        return os.path.join(self.run, name)

    def target(self, fault):
        """The pid that fault `fault` kills."""
        if fault in ("api-worker", "conductor-worker"):
            parent = self._read_pid(self._pidfile("cnova-api" if fault == "api-worker"
                                                  else "cnova-conductor"))
            kids = self._children(parent)
            if not kids:
                raise RuntimeError(f"{fault}: no worker of {parent}")
            return kids[0]
        files = {"api-master": self._pidfile("cnova-api"),
                 "nginx": os.path.join(self.run, "nginx", "nginx.pid"),
                 "conductor": self._pidfile("cnova-conductor"),
                 "scheduler": self._pidfile("cnova-scheduler"),
                 "compute": self._pidfile(f"cnova-compute-{self.hosts[min(1, len(self.hosts) - 1)]}"),
                 "rabbitmq": os.path.join(self._private("rmq"), "pid"),
                 "rabbitmq-2": os.path.join(self._private("rmq2"), "pid"),
                 "postgresql": os.path.join(self._private("pg"), "data", "postmaster.pid")}
        return self._read_pid(files[fault])

    @staticmethod
    def _gone(pid):
        try:
            with open(f"/proc/{pid}/stat") as f:
                return f.read().rsplit(") ", 1)[1].startswith("Z")
        except (FileNotFoundError, IndexError):
            return True

    def inject(self, fault):
        """kill -9 of the fault's process, then stack.sh start. Returns the
        seconds from the kill to the end of stack.sh start."""
        if fault == "none":
            return 0.0
        pid = self.target(fault)
        t0 = time.time()
        os.kill(pid, signal.SIGKILL)
        deadline = t0 + 60
        while not self._gone(pid) and time.time() < deadline:
            time.sleep(0.05)
        r = self.restart()
        out = r.stdout + r.stderr
        for _ in range(3):
            # A start that took the killed process for a live one (seen once
            # in a CI rehearsal: "cnova-conductor: already running" with the
            # pid just killed) would leave the component down for the row:
            # said in the log, and started again.
            if fault in ("api-worker", "conductor-worker") or self._target_or_none(fault) != pid:
                break
            time.sleep(0.5)
            r = self.restart()
            out += f"(the killed pid {pid} was taken for running; stack.sh start again)\n"
            out += r.stdout + r.stderr
        with open(os.path.join(self.run, "log", "faults.log"), "a") as f:
            f.write(f"{time.strftime('%H:%M:%S')} kill -9 {fault} (pid {pid}), stack.sh start:\n"
                    f"{out}")
        return time.time() - t0

    def _target_or_none(self, fault):
        try:
            return self.target(fault)
        except (OSError, ValueError, RuntimeError):
            return None


def _storm(items, par, fn, fault, stack, fault_at):
    """Runs fn(item) for every item, `par` at a time; once `fault_at` of
    them were sent, injects the fault (in its own thread). Returns
    [(item, fn's answer)], and the fault's restart seconds."""
    sent = [0]
    lock = threading.Lock()
    ready = threading.Event()
    restart = [None]

    def one(item):
        with lock:
            sent[0] += 1
            if sent[0] >= fault_at:
                ready.set()
        return item, fn(item)

    def faulter():
        ready.wait()
        restart[0] = stack.inject(fault)

    ft = threading.Thread(target=faulter)
    ft.start()
    with concurrent.futures.ThreadPoolExecutor(par) as ex:
        out = list(ex.map(one, items))
    ready.set()
    ft.join()
    return out, restart[0]


def _wait(stack, uuids, done_sql, bound):
    """Polls until every instance of `uuids` satisfies done_sql (a condition
    on instances i) or `bound` seconds pass; returns the seconds waited."""
    t0 = time.time()
    arr = "{" + ",".join(uuids) + "}"
    while uuids:
        try:
            left = int(stack.sql(f"SELECT count(*) FROM instances i WHERE uuid = ANY('{arr}'::uuid[]) "
                                 f"AND deleted = 0 AND NOT ({done_sql})"))
        except RuntimeError:
            left = -1  # the database is restarting
        if left == 0 or time.time() - t0 > bound:
            break
        time.sleep(0.3)
    return time.time() - t0


def project_setup(stack, project):
    st, _, _ = stack.call("PUT", f"/v2.1/os-quota-sets/{project}",
                          {"quota_set": {"instances": -1, "cores": -1, "ram": -1}})
    if st != 200:
        raise RuntimeError(f"quota of {project}: {st}")


def checks(stack):
    """What must hold whatever was killed: guests per hypervisor = servers
    the database has there, node usage = claims, one create action each."""
    out = {}
    for h in stack.hosts:
        want = int(stack.sql(f"SELECT count(*) FROM instances WHERE deleted = 0 AND host = '{h}'", 20))
        got = stack.guests(h)
        if want != got:
            out[f"guests on {h}"] = f"{got} guests, {want} servers"
    bad = stack.rows(
        "SELECT cn.host, cn.vcpus_used, cn.memory_mb_used, cn.running_vms, "
        "coalesce(c.v, 0), coalesce(c.m, 0), coalesce(c.n, 0) FROM compute_nodes cn LEFT JOIN "
        "(SELECT node, sum(v) v, sum(m) m, count(*) FILTER (WHERE inst) n FROM ("
        "SELECT (claim->>'node_id')::int node, (claim->>'vcpus')::int v, "
        "(claim->>'memory_mb')::int m, true inst FROM instances WHERE deleted = 0 AND claim IS NOT NULL "
        "UNION ALL SELECT (claim->>'node_id')::int, (claim->>'vcpus')::int, "
        "(claim->>'memory_mb')::int, true FROM migrations WHERE claim IS NOT NULL "
        "AND claim <> '{}'::jsonb) x GROUP BY node) c ON c.node = cn.id WHERE cn.deleted = 0 AND "
        "(cn.vcpus_used <> coalesce(c.v, 0) OR cn.memory_mb_used <> coalesce(c.m, 0) "
        "OR cn.running_vms <> coalesce(c.n, 0))", 20)
    for b in bad:
        out[f"usage of {b[0]}"] = f"used vcpus/MiB/vms {b[1]}/{b[2]}/{b[3]}, claims {b[4]}/{b[5]}/{b[6]}"
    dup = stack.sql("SELECT count(*) FROM (SELECT instance_uuid FROM instance_actions "
                    "WHERE action = 'create' GROUP BY instance_uuid HAVING count(*) > 1) x", 20)
    if dup != "0":
        out["create actions"] = f"{dup} servers with more than one"
    # the API's view of the claims: os-hypervisors/statistics
    st, body, _ = stack.call("GET", "/v2.1/os-hypervisors/statistics")
    claimed = int(stack.sql("SELECT count(*) FROM instances WHERE deleted = 0 AND claim IS NOT NULL", 20))
    if st != 200 or body["hypervisor_statistics"]["running_vms"] < claimed:
        out["hypervisor statistics"] = f"{st} {body}, {claimed} claims"
    return out


def _settled_api(stack, token, retries=60):
    """Waits until the API answers (after a fault it may be restarting)."""
    for _ in range(retries):
        if stack.call("GET", "/v2.1/flavors", token=token)[0] == 200:
            return
        time.sleep(0.5)


def boot_storm(stack, fault, n, par, bound, project=None):
    project = project or f"f-{fault}-{uuid.uuid4().hex[:6]}"
    token = f"admin:{project}"
    project_setup(stack, project)
    image = stack.sql("SELECT id FROM images ORDER BY created_at LIMIT 1")

    def boot(i):
        st, body, hdr = stack.call("POST", "/v2.1/servers", {"server": {
            "name": f"{project}-{i}", "imageRef": image, "flavorRef": "1"}}, token=token)
        sid = (body or {}).get("server", {}).get("id")
        # the API's own 503 (the database is away) says when to retry;
        # nginx's (no API worker answered) is nginx's config
        msg = str((body or {}).get("serviceUnavailable", {}).get("message", ""))
        api_503 = st == 503 and msg.startswith("The server is currently")
        return st, sid, api_503, bool(hdr.get("Retry-After"))

    res, restart = _storm(range(n), par, boot, fault, stack, max(1, int(n * 0.3)))
    accepted = [r[1] for _, r in res if r[0] == 202]
    answers = {}
    for _, r in res:
        answers[r[0]] = answers.get(r[0], 0) + 1
    api_503 = sum(1 for _, r in res if r[2])
    no_retry_after = sum(1 for _, r in res if r[2] and not r[3])
    waited = _wait(stack, accepted, "i.vm_state <> 'building' AND i.task_state IS NULL", bound)
    arr = "{" + ",".join(accepted) + "}"
    st = stack.rows(
        "SELECT count(*) FILTER (WHERE vm_state = 'active'), count(*) FILTER (WHERE vm_state = 'error'), "
        "coalesce(percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM launched_at - created_at)), 0), "
        "coalesce(percentile_cont(0.99) WITHIN GROUP (ORDER BY extract(epoch FROM launched_at - created_at)), 0), "
        "coalesce(max(extract(epoch FROM launched_at - created_at)), 0) "
        f"FROM instances WHERE uuid = ANY('{arr}'::uuid[]) AND deleted = 0", 20)[0]
    _settled_api(stack, token)
    return {"kind": "boot", "fault": fault, "project": project, "token": token, "sent": n,
            "accepted": len(accepted), "answers": answers, "no_retry_after": no_retry_after, "api_503": api_503,
            "active": int(st[0]), "error": int(st[1]), "p50": float(st[2]), "p99": float(st[3]),
            "max": float(st[4]), "waited": waited, "restart": restart, "uuids": accepted}


def retrying(call, again_ok, bound=90):
    """call() -> status, sent again while the stack cannot answer (0, 502,
    503: a client honouring Retry-After), up to `bound` seconds. A status
    in again_ok on a later try (409 for a resize, 404 for a delete) means
    an earlier try was taken after all: 202/204 then."""
    deadline = time.time() + bound
    st = call()
    while st in (0, 502, 503) and time.time() < deadline:
        time.sleep(1)
        st = call()
        if st in again_ok:
            return 202
    return st


def project_servers(stack, project):
    return [r[0] for r in stack.rows(f"SELECT uuid FROM instances WHERE project_id = '{project}' "
                                     "AND deleted = 0", 20)]


def delete_storm(stack, fault, project, par, bound):
    """Every server of the project deleted, `par` at a time (each sent
    again while the stack answers 503), the fault part-way."""
    token = f"admin:{project}"
    uuids = project_servers(stack, project)

    def delete(u):
        return retrying(lambda: stack.call("DELETE", f"/v2.1/servers/{u}", token=token)[0], (404,))

    res, restart = _storm(uuids, par, delete, fault, stack, max(1, int(len(uuids) * 0.3)))
    accepted = [u for u, st in res if st in (202, 204)]
    t0 = time.time()
    _wait(stack, accepted, "false", bound)
    waited = time.time() - t0
    arr = "{" + ",".join(accepted) + "}"
    left = int(stack.sql(f"SELECT count(*) FROM instances WHERE uuid = ANY('{arr}'::uuid[]) "
                         "AND deleted = 0", 20))
    err = int(stack.sql(f"SELECT count(*) FROM instances WHERE uuid = ANY('{arr}'::uuid[]) "
                        "AND vm_state = 'error'", 20))
    _settled_api(stack, token)
    return {"kind": "delete", "fault": fault, "sent": len(uuids), "accepted": len(accepted),
            "left": left, "error": err, "waited": waited, "restart": restart}


def cleanup(stack, project, bound=120):
    """Deletes what is left of the project (requests a fault refused)."""
    token = f"admin:{project}"
    deadline = time.time() + bound
    while time.time() < deadline:
        left = project_servers(stack, project)
        if not left:
            return True
        for u in left:
            stack.call("DELETE", f"/v2.1/servers/{u}", token=token)
        _wait(stack, left, "false", 30)
    return not project_servers(stack, project)


def resize_storm(stack, fault, n, par, bound):
    """n servers booted (no fault), then resized to m1.small all at once
    with the fault part-way, each confirmed once VERIFY_RESIZE."""
    b = boot_storm(stack, "none", n, par, bound)
    project, token, uuids = b["project"], b["token"], b["uuids"]

    def resize(u):
        return retrying(lambda: stack.call("POST", f"/v2.1/servers/{u}/action",
                                           {"resize": {"flavorRef": "2"}}, token=token)[0], (409,))

    res, restart = _storm(uuids, par, resize, fault, stack, max(1, int(len(uuids) * 0.3)))
    accepted = [u for u, st in res if st == 202]
    t0 = time.time()
    _wait(stack, accepted, "i.task_state IS NULL", bound)
    arr = "{" + ",".join(accepted) + "}"
    resized = [r[0] for r in stack.rows(f"SELECT uuid FROM instances WHERE uuid = ANY('{arr}'::uuid[]) "
                                        "AND vm_state = 'resized' AND task_state IS NULL", 20)]
    confirm = {}
    for u in resized:
        st = retrying(lambda: stack.call("POST", f"/v2.1/servers/{u}/action", {"confirmResize": None},
                                         token=token)[0], ())
        confirm[st] = confirm.get(st, 0) + 1
    _wait(stack, accepted, "i.task_state IS NULL AND i.vm_state <> 'resized'", bound)
    waited = time.time() - t0
    st = stack.rows("SELECT count(*) FILTER (WHERE vm_state = 'active' AND flavor->>'name' = 'm1.small'), "
                    "count(*) FILTER (WHERE vm_state = 'error') "
                    f"FROM instances WHERE uuid = ANY('{arr}'::uuid[]) AND deleted = 0", 20)[0]
    return {"kind": "resize", "fault": fault, "project": project, "sent": len(uuids),
            "accepted": len(accepted), "resized": len(resized), "confirm": confirm,
            "active": int(st[0]), "error": int(st[1]), "waited": waited, "restart": restart}


def fmt(r):
    f = r["fault"]
    rs = f"{r['restart']:.1f}" if r.get("restart") else "-"
    if r["kind"] == "boot":
        return (f"boot   {f:17} sent {r['sent']:4}  accepted {r['accepted']:4}  ACTIVE {r['active']:4}  "
                f"ERROR {r['error']:3}  p50 {r['p50']:6.2f} s  p99 {r['p99']:6.2f} s  max {r['max']:6.2f} s  "
                f"restart {rs} s  answers {r['answers']}")
    if r["kind"] == "delete":
        return (f"delete {f:17} sent {r['sent']:4}  accepted {r['accepted']:4}  left {r['left']:4}  "
                f"ERROR {r['error']:3}  all gone in {r['waited']:6.2f} s  restart {rs} s")
    return (f"resize {f:17} sent {r['sent']:4}  accepted {r['accepted']:4}  VERIFY_RESIZE {r['resized']:4}  "
            f"ACTIVE m1.small {r['active']:4}  ERROR {r['error']:3}  settled in {r['waited']:6.2f} s  "
            f"restart {rs} s  confirm {r['confirm']}")


def main():
    ap = argparse.ArgumentParser(description="the fault matrix, figures printed")
    ap.add_argument("--boots", type=int, default=400)
    ap.add_argument("--par", type=int, default=8)
    ap.add_argument("--resizes", type=int, default=0, help="servers per resize storm (0: none)")
    ap.add_argument("--faults", default=",".join(FAULTS))
    ap.add_argument("--bound", type=int, default=600, help="seconds a storm may take to settle")
    ap.add_argument("--keep", action="store_true", help="leave the stack running")
    a = ap.parse_args()
    s = Stack()
    s.fresh()
    ok = True
    try:
        for fault in a.faults.split(","):
            b = boot_storm(s, fault, a.boots, a.par, a.bound)
            print(fmt(b), flush=True)
            d = delete_storm(s, fault, b["project"], a.par, a.bound)
            print(fmt(d), flush=True)
            cleanup(s, b["project"])
            if a.resizes:
                r = resize_storm(s, fault, a.resizes, a.par, a.bound)
                print(fmt(r), flush=True)
                cleanup(s, r["project"])
            bad = checks(s)
            print(f"checks {fault:17} {'NOT OK: ' + str(bad) if bad else 'OK (guests = servers, usage = claims, one create each)'}",
                  flush=True)
            ok = ok and not bad and b["active"] == b["accepted"] and not b["error"] and not d["left"]
    finally:
        if not a.keep:
            s.stop()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
