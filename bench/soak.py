"""soak.py — the driver of bench/soak.sh: mixed load on a running stack for
SOAK_SECONDS, sampling every cnova process's RSS and open fds, then a table
of growth after warm-up, the error count and a database/hypervisor check.
Exit 1 when an answer was an error, a process grew past the tolerance, an
API worker died or the database and the hypervisors disagree.

Load: SOAK_WORKERS threads, each with its own project (token user:project)
and its own servers (at most SOAK_SERVERS each), so no two threads race on
one server: reads (lists, details, flavors, limits, hypervisors, keypairs,
the thread's servers), boots, stop/start/reboot on settled servers, and
deletes. Environment: CNOVA_BASE, CNOVA_RUN, SOAK_SECONDS (1200),
SOAK_WORKERS (8), SOAK_SERVERS (4), SOAK_PAUSE (seconds each thread waits
between two steps, 0.02), SOAK_WARMUP (a fifth of the run), SOAK_SETTLE
(seconds waited for a power-state sync before the check, 65),
SOAK_RSS_TOLERANCE (MiB a process kind may grow after warm-up, 16 + 10%),
SOAK_FD_TOLERANCE (fds, 8)."""
import http.client, json, os, random, statistics, sys, threading, time, urllib.parse

BASE = os.environ.get("CNOVA_BASE", "http://127.0.0.1:8774")
RUN = os.environ["CNOVA_RUN"]
SECONDS = int(os.environ.get("SOAK_SECONDS", "1200"))
WORKERS = int(os.environ.get("SOAK_WORKERS", "8"))
SERVERS = int(os.environ.get("SOAK_SERVERS", "4"))
WARMUP = int(os.environ.get("SOAK_WARMUP", str(SECONDS // 5)))
RSS_TOL = float(os.environ.get("SOAK_RSS_TOLERANCE", "16"))
FD_TOL = int(os.environ.get("SOAK_FD_TOLERANCE", "8"))
IMAGE = "80292edd-18c0-4446-9fa4-994b39a2dc15"
SAMPLE_EVERY = 5
U = urllib.parse.urlsplit(BASE)

PAUSE = float(os.environ.get("SOAK_PAUSE", "0.02"))
errors, counts, lock = [], {}, threading.Lock()


def call(method, path, token, body=None, want=(200,)):
    """One request (kept-alive connections would hide fd leaks in nginx's
    favour: a fresh one each time, as most clients do). Records errors."""
    h = {"X-Auth-Token": token, "Accept": "application/json",
         "OpenStack-API-Version": "compute 2.79"}
    raw = None
    if body is not None:
        raw, h["Content-Type"] = json.dumps(body).encode(), "application/json"
    conn = http.client.HTTPConnection(U.hostname, U.port, timeout=60)
    try:
        conn.request(method, path, body=raw, headers=h)
        r = conn.getresponse()
        status, data = r.status, r.read()
    except (OSError, http.client.HTTPException) as e:
        status, data = 0, repr(e).encode()
    finally:
        conn.close()
    with lock:
        key = f"{method} {status}"
        counts[key] = counts.get(key, 0) + 1
        if status not in want and len(errors) < 1000:
            errors.append(f"{method} {path}: {status} {data[:200]!r}")
    try:
        return status, json.loads(data) if data else None
    except ValueError:
        return status, None


class Tenant(threading.Thread):
    """One project's load: its own servers, acted on only when settled."""

    def __init__(self, n, stop):
        super().__init__(daemon=True)
        self.token, self.stop, self.servers = f"soak{n}:soak-p{n}", stop, {}

    def refresh(self, sid):
        status, doc = call("GET", f"/v2.1/servers/{sid}", self.token, want=(200, 404))
        if status == 404:
            self.servers.pop(sid, None)
        elif status == 200:
            s = doc["server"]
            if s["status"] == "ERROR":
                with lock:
                    errors.append(f"server {sid} went ERROR: {s.get('fault')}")
                self.delete(sid)
            else:
                self.servers[sid] = (s["status"], s["OS-EXT-STS:task_state"])

    def settled(self):
        return [sid for sid, (st, task) in self.servers.items()
                if st in ("ACTIVE", "SHUTOFF") and task is None]

    def delete(self, sid):
        call("DELETE", f"/v2.1/servers/{sid}", self.token, want=(204,))
        self.servers[sid] = ("DELETING", "deleting")

    def step(self):
        op = random.random()
        ready = self.settled()
        if op < 0.55:
            path = random.choice(["/v2.1/servers", "/v2.1/servers/detail", "/v2.1/flavors/detail",
                                  "/v2.1/limits", "/v2.1/os-keypairs", "/v2.1/os-availability-zone",
                                  "/v2.1/servers/detail?status=ACTIVE&limit=2"])
            call("GET", path, self.token)
            if random.random() < 0.1:  # an admin's view too
                call("GET", random.choice(["/v2.1/os-hypervisors/detail", "/v2.1/os-services",
                                           "/v2.1/servers/detail?all_tenants=1&limit=50"]),
                     "admin:admin")
        elif op < 0.75:
            for sid in list(self.servers):
                self.refresh(sid)
        elif op < 0.85 and len(self.servers) < SERVERS:
            body = {"server": {"name": f"soak-{random.randrange(1 << 30):x}", "imageRef": IMAGE,
                               "flavorRef": "1", "networks": "none"}}
            status, doc = call("POST", "/v2.1/servers", self.token, body, want=(202,))
            if status == 202:
                self.servers[doc["server"]["id"]] = ("BUILD", "scheduling")
        elif op < 0.95 and ready:
            sid = random.choice(ready)
            st = self.servers[sid][0]
            act = random.choice(["os-stop", "reboot"]) if st == "ACTIVE" else "os-start"
            body = {act: {"type": "SOFT"} if act == "reboot" else None}
            call("POST", f"/v2.1/servers/{sid}/action", self.token, body, want=(202,))
            self.servers[sid] = (st, "acting")
        elif ready:
            self.delete(random.choice(ready))

    def run(self):
        while not self.stop.wait(PAUSE):
            self.step()

    def settle(self, seconds):
        """Waits until every server of the thread is settled or gone."""
        deadline = time.time() + seconds
        while time.time() < deadline:
            for sid in list(self.servers):
                self.refresh(sid)
            if len(self.settled()) == len(self.servers):
                return
            time.sleep(1)
        errors.append(f"{self.token}: servers not settled: {self.servers}")

    def drain(self, seconds):
        """Deletes what is left and waits until it is gone."""
        deadline = time.time() + seconds
        while self.servers and time.time() < deadline:
            for sid in list(self.servers):
                self.refresh(sid)
            for sid in self.settled():
                self.delete(sid)
            time.sleep(1)
        return list(self.servers)


def processes():
    """{pid: kind} of every cnova process and nginx."""
    out = {}
    pids = os.path.join(RUN, "pids")
    for name in os.listdir(pids):
        try:
            with open(os.path.join(pids, name)) as f:
                pid = int(f.read().split()[0])
        except (OSError, ValueError, IndexError):
            continue
        kind = name[:-4]
        kind = "cnova-compute" if kind.startswith("cnova-compute") else kind
        out[pid] = kind + (" (master)" if kind in ("cnova-api", "cnova-conductor", "cnova-scheduler") else "")
    try:
        with open(os.path.join(RUN, "nginx", "nginx.pid")) as f:
            out[int(f.read())] = "nginx (master)"
    except (OSError, ValueError):
        pass
    # the pools' workers (the compute's children are short-lived commands)
    parents = {pid: kind.split()[0] for pid, kind in out.items()
               if kind.split()[0] in ("cnova-api", "nginx", "cnova-conductor", "cnova-scheduler")}
    for p in os.listdir("/proc"):
        if not p.isdigit():
            continue
        try:
            with open(f"/proc/{p}/stat") as f:
                ppid = int(f.read().rsplit(") ", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        if ppid in parents:
            out[int(p)] = parents[ppid] + " (worker)"
    return out


def measure(pid):
    """(RSS MiB, open fds) of a process, or None when it is gone."""
    try:
        with open(f"/proc/{pid}/status") as f:
            rss = next(int(l.split()[1]) for l in f if l.startswith("VmRSS:"))
        return rss / 1024, len(os.listdir(f"/proc/{pid}/fd"))
    except (OSError, StopIteration):
        return None


def sample():
    """{kind: (total RSS MiB, total fds, processes)}, {pid: kind}."""
    procs, out = processes(), {}
    for pid, kind in procs.items():
        m = measure(pid)
        if m:
            rss, fds, n = out.get(kind, (0, 0, 0))
            out[kind] = (rss + m[0], fds + m[1], n + 1)
    return out, procs


def consistency():
    """Problems between the database and the hypervisors: every server of
    a host is claimed there (os-hypervisors' running_vms), each ACTIVE one
    runs (power state 1) and each SHUTOFF one is shut down (4), as the
    computes' power-state sync sees the domains; no compute had to define a
    missing domain again or reap a domain the database did not have."""
    problems = []
    _, doc = call("GET", "/v2.1/servers/detail?all_tenants=1", "admin:admin")
    on_host, bad_power = {}, []
    for s in doc["servers"]:
        host = s.get("OS-EXT-SRV-ATTR:host")
        on_host[host] = on_host.get(host, 0) + 1
        want = {"ACTIVE": 1, "SHUTOFF": 4}.get(s["status"])
        if want is None or s["OS-EXT-STS:power_state"] != want:
            bad_power.append((s["id"], s["status"], s["OS-EXT-STS:power_state"]))
    _, doc = call("GET", "/v2.1/os-hypervisors/detail", "admin:admin", want=(200,))
    claimed = {h["service"]["host"]: h["running_vms"] for h in doc["hypervisors"]}
    for host in set(claimed) | set(on_host) - {None}:
        if claimed.get(host, 0) != on_host.get(host, 0):
            problems.append(f"host {host}: {on_host.get(host, 0)} servers, running_vms {claimed.get(host)}")
    if bad_power:
        problems.append(f"servers whose power state disagrees: {bad_power[:5]}")
    for name in os.listdir(os.path.join(RUN, "log")):
        if name.startswith("cnova-compute"):
            with open(os.path.join(RUN, "log", name), errors="replace") as f:
                n = sum(1 for l in f if "domain was missing" in l or "reaping domain" in l)
            if n:
                problems.append(f"{name}: {n} domains defined again or reaped")
    return problems, sum(on_host.values()), sum(claimed.values())


def main():
    stop = threading.Event()
    tenants = [Tenant(n, stop) for n in range(WORKERS)]
    start = time.time()
    for t in tenants:
        t.start()
    series, worker_pids, died = [], None, []
    while time.time() - start < SECONDS:
        time.sleep(SAMPLE_EVERY)
        kinds, procs = sample()
        series.append((time.time() - start, kinds))
        api = {p for p, k in procs.items() if k == "cnova-api (worker)"}
        if worker_pids is not None and worker_pids - api:
            died += sorted(worker_pids - api)
        worker_pids = api
        done = sum(counts.values())
        print(f"soak: {time.time() - start:6.0f} s  {done} requests  {len(errors)} errors", flush=True)
    stop.set()
    for t in tenants:
        t.join(120)
    for t in tenants:
        t.settle(180)
    # one power-state sync cycle (60 s) after the last change, then compare
    time.sleep(int(os.environ.get("SOAK_SETTLE", "65")))
    problems, servers, claimed = consistency()
    left = [sid for t in tenants for sid in t.drain(180)]
    if left:
        errors.append(f"{len(left)} servers not deleted in time: {left[:5]}")
    _, doc = call("GET", "/v2.1/os-hypervisors/detail", "admin:admin")
    if any(h["running_vms"] for h in doc["hypervisors"]):
        problems.append(f"claims left after every delete: {[h['running_vms'] for h in doc['hypervisors']]}")

    # RSS and fds: median over the first minute after warm-up against the last minute
    def window(lo, hi):
        rows = [k for t, k in series if lo <= t < hi]
        return {kind: (statistics.median(r[kind][0] for r in rows if kind in r),
                       statistics.median(r[kind][1] for r in rows if kind in r),
                       max(r[kind][2] for r in rows if kind in r))
                for kind in sorted({k for r in rows for k in r})}
    warm, end = window(WARMUP, WARMUP + 60), window(SECONDS - 60, SECONDS + 1)
    grew = []
    print()
    print(f"{'process kind':24} {'n':>3} {'RSS warm MiB':>13} {'RSS end MiB':>12} {'growth':>8}"
          f" {'fds warm':>9} {'fds end':>8} {'growth':>7}")
    for kind in sorted(set(warm) & set(end)):
        (r0, f0, n), (r1, f1, _) = warm[kind], end[kind]
        print(f"{kind:24} {n:3d} {r0:13.1f} {r1:12.1f} {r1 - r0:+8.1f} {f0:9.0f} {f1:8.0f} {f1 - f0:+7.0f}")
        if r1 - r0 > RSS_TOL + 0.1 * r0 or f1 - f0 > FD_TOL:
            grew.append(kind)
    total = sum(counts.values())
    print()
    print(f"requests: {total} in {SECONDS} s ({total / SECONDS:.0f}/s), "
          + ", ".join(f"{k}: {v}" for k, v in sorted(counts.items())))
    print(f"error answers: {len(errors)}" + (" (at least)" if len(errors) >= 1000 else ""))
    for e in errors[:10]:
        print("  " + e)
    print(f"servers at the end of the load: {servers} (claimed on the hypervisors: {claimed}); "
          f"database and hypervisors: {'agree' if not problems else 'DISAGREE'}")
    for p in problems:
        print("  " + p)
    if died:
        print(f"API workers that died: {died}")
    if grew:
        print(f"grew past the tolerance ({RSS_TOL:.0f} MiB + 10%, {FD_TOL} fds): {', '.join(grew)}")
    ok = not (errors or problems or died or grew)
    print("soak: " + ("PASS" if ok else "FAIL"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
