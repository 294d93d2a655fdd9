"""common.py: what every black-box API test shares: an HTTP client for the
stack under test (CNOVA_BASE, started by scripts/test.sh), the route table
and Nova's response schemas from api/, and a response-schema check."""
import csv, http.client, json, os, re, subprocess, time, unittest, urllib.parse, uuid

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BASE = os.environ.get("CNOVA_BASE", "http://127.0.0.1:8774")
RUN = os.environ.get("CNOVA_RUN", os.path.join(REPO, "run"))
FAKE = "9f2b4c1e-5d6a-4b7c-8e9f-0a1b2c3d4e5f"
REQ_ID = re.compile(r"^req-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


class Response:
    def __init__(self, status, headers, data):
        self.status, self.headers, self.data = status, headers, data
        try:
            self.json = json.loads(data) if data else None
        except ValueError:
            self.json = None

    def header(self, name):
        return self.headers.get(name.lower())

    def __repr__(self):
        return f"<{self.status} {self.data[:200]!r}>"


def request(method, path, body=None, token="admin:admin", version=None, ctype=None,
            headers=None, raw=None):
    u = urllib.parse.urlsplit(BASE)
    h = {"Accept": "application/json"}
    if token is not None:
        h["X-Auth-Token"] = token
    if version is not None:
        h["OpenStack-API-Version"] = "compute " + version
    if raw is None and body is not None:
        raw = json.dumps(body).encode()
    if raw is not None:
        h["Content-Type"] = ctype or "application/json"
    h.update(headers or {})
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
    try:
        conn.request(method, path, body=raw, headers=h)
        r = conn.getresponse()
        return Response(r.status, {k.lower(): v for k, v in r.getheaders()}, r.read())
    finally:
        conn.close()


def routes():
    with open(os.path.join(REPO, "api", "routes.tsv"), newline="") as f:
        return list(csv.DictReader(f, delimiter="\t"))


def fill(template):
    return re.sub(r"\{[^}]+\}", FAKE, template)


_schemas = None


def response_schema(method, path, version, action=None):
    """Nova's response schema for a route at a microversion ("2.53"), or None."""
    global _schemas
    if _schemas is None:
        with open(os.path.join(REPO, "api", "schemas.json")) as f:
            _schemas = json.load(f)["entries"]
    v = tuple(int(x) for x in version.split("."))
    for e in _schemas:
        if (e["method"], e["path"], e["action"]) != (method, path, action):
            continue
        for s in e["schemas"]:
            lo = tuple(int(x) for x in s["min"].split("."))
            hi = tuple(int(x) for x in s["max"].split(".")) if s["max"] else (99, 999)
            if s["kind"] == "response" and lo <= v <= hi:
                return s["schema"]
    return None


class ApiTest(unittest.TestCase):
    def assertFault(self, r, status, name, message=None):
        """Nova's error body: {"<name>": {"code": status, "message": "..."}}."""
        self.assertEqual(r.status, status, r)
        self.assertIsInstance(r.json, dict, r)
        self.assertEqual(list(r.json), [name], r)
        self.assertEqual(r.json[name]["code"], status)
        self.assertIsInstance(r.json[name]["message"], str)
        if message is not None:
            self.assertIn(message, r.json[name]["message"])
        self.assertRegex(r.header("x-openstack-request-id") or "", REQ_ID)

    def assertLikeSample(self, body, relpath, nullable=()):
        """Same keys and JSON types as Nova's sample, field by field.
        `nullable`: paths ("$.flavor.description") where null may stand for
        the sample's value and vice versa."""
        diffs = [d for d in shape_diff(body, sample(relpath)) if d.split(":")[0] not in nullable]
        self.assertEqual(diffs, [], f"response differs from {relpath}")

    def assertMatchesSchema(self, body, method, path, version, action=None):
        import jsonschema
        schema = response_schema(method, path, version, action)
        self.assertIsNotNone(schema, f"no response schema for {method} {path} at {version}")
        jsonschema.Draft202012Validator(
            schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER).validate(body)


def stop_process(pidfile, sig):
    """Sends `sig` to the stack process of `pidfile` and waits (up to a
    minute) until it has exited, so that scripts/stack.sh start, which
    skips a process still alive, starts it again. Returns its pid."""
    with open(pidfile) as f:
        pid = int(f.read().split()[0])
    os.kill(pid, sig)
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            with open(f"/proc/{pid}/stat") as f:
                if f.read().rsplit(") ", 1)[1].startswith("Z"):
                    break  # exited; init has not reaped it yet
        except (FileNotFoundError, IndexError):
            break
        time.sleep(0.1)
    return pid


SETTLE = 60  # seconds a server's build or action may take under ASan


def server_show(sid, version="2.73", token="admin:admin"):
    r = request("GET", f"/v2.1/servers/{sid}", token=token, version=version)
    assert r.status == 200, r
    return r.json["server"]


def server_wait(sid, status, seconds=SETTLE):
    """Polls the server until it shows `status` with no task; its view."""
    deadline = time.time() + seconds
    while True:
        s = server_show(sid)
        if s["status"] == status and s["OS-EXT-STS:task_state"] is None:
            return s
        if time.time() > deadline:
            raise AssertionError(f"{sid} not {status} after {seconds} s: {s['status']} "
                                 f"{s['OS-EXT-STS:vm_state']}/{s['OS-EXT-STS:task_state']}")
        time.sleep(0.3)


class ServerFixtures(ApiTest):
    """Servers a test class boots (each subclass keeps its own `servers`
    list), unlocked and deleted when the class ends."""
    servers = []

    @classmethod
    def boot(cls, token, image, flavor="1", prefix="srv", wait=True, **fields):
        server = {"name": f"{prefix}-" + uuid.uuid4().hex[:6], "imageRef": image,
                  "flavorRef": flavor}
        server.update(fields)
        r = request("POST", "/v2.1/servers", {"server": server}, token=token)
        assert r.status == 202, r
        sid = r.json["server"]["id"]
        cls.servers.append(sid)
        if wait:
            server_wait(sid, "ACTIVE")
        return sid

    wait = staticmethod(server_wait)

    @classmethod
    def tearDownClass(cls):
        while cls.servers:
            sid = cls.servers.pop()
            psql(f"UPDATE instances SET locked = false WHERE uuid = '{sid}'")
            request("DELETE", f"/v2.1/servers/{sid}")


def sample(relpath, base=None):
    """A Nova api-sample (api/samples/<relpath>), with its example host made ours."""
    with open(os.path.join(REPO, "api", "samples", relpath)) as f:
        return json.loads(f.read().replace("http://openstack.example.com", base or BASE))


def shape_diff(got, want, path="$"):
    """Differences between two JSON documents in shape: the same keys at every
    level and the same JSON type for every value (lists: every element of
    `got` against the first element of `want`). Values are not compared."""
    kind = lambda v: "number" if isinstance(v, (int, float)) and not isinstance(v, bool) else type(v).__name__
    if want is None or got is None:
        return [] if want is got or want is None and got is None else [f"{path}: {kind(got)} != {kind(want)}"]
    if kind(got) != kind(want):
        return [f"{path}: {kind(got)} != {kind(want)}"]
    if isinstance(want, dict):
        out = [f"{path}: missing key {k!r}" for k in want if k not in got]
        out += [f"{path}: unexpected key {k!r}" for k in got if k not in want]
        for k in want:
            if k in got:
                out += shape_diff(got[k], want[k], f"{path}.{k}")
        return out
    if isinstance(want, list) and want:
        return [d for i, g in enumerate(got) for d in shape_diff(g, want[0], f"{path}[{i}]")]
    return []


def psql(sql):
    port = os.environ.get("CNOVA_PG_PORT", "15432")
    return subprocess.run(["psql", "-h", "127.0.0.1", "-p", port, "-U", "cnova", "-d", "cnova",
                           "-Atc", sql], capture_output=True, text=True, check=True).stdout.strip()
