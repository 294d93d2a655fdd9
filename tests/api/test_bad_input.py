"""Bad input on every route (issue #16). For each row of api/routes.tsv, at
the oldest and the newest microversion of the row, requests generated from
the row's request and query schemas (api/request-schemas.json): wrong JSON
types for every field, strings of every Unicode class and of SQL and JSON
metacharacters, numbers past 64 bits, deep nesting, invalid UTF-8, NUL
bytes, 1 MB strings, negative and huge limits, markers and path ids that are
not UUIDs. Every answer is a 2xx/3xx or a 4xx with Nova's error body, never
a 5xx; the API workers keep their PIDs and no sanitizer report appears. What
a case creates (a 2xx POST) is deleted again. A second pass runs the
server's own routes on a server that exists, so that what the schemas let
through reaches the handlers. 501 notImplemented (a route cnova does not
serve) is an answer, not a failure. BAD_INPUT_LOG=FILE appends every wrong
answer there."""
import copy, http.client, itertools, json, os, re, threading, urllib.parse
from concurrent.futures import ThreadPoolExecutor

from common import BASE, FAKE, REPO, RUN, ServerFixtures, request, routes

IMAGE = "70a599e0-31e7-49b7-b260-868f441e862b"  # seeded by 007_images_seed.sql

FAULTS = {"badRequest", "unauthorized", "forbidden", "itemNotFound", "badMethod",
          "notAcceptable", "conflictingRequest", "overLimit", "badMediaType",
          "notImplemented", "computeFault"}  # computeFault: any other code, as 410 Gone
MAX_BODY = int(os.environ.get("CNOVA_MAX_BODY", "1048576"))
RAW = "@@raw@@"  # a string the JSON text of a case replaces with raw bytes

# Strings of every Unicode class and of metacharacters, for every string field.
NASTY = [
    "a\u0301\u0308\u20dd",  # combining marks
    "\u202eevil\u200f\u05d0\u0628",  # right-to-left
    "\U0001f600\U0001f469\u200d\U0001f4bb",  # emoji, ZWJ
    "\x01\x1b[2J\x7f\u0085\u009b",  # control characters
    "\ue000\U000f0000\U0010fffd",  # private use
    "\ud800",  # a lone surrogate (as the escape \ud800)
    "a\x00b",  # NUL (as the escape \u0000)
    "x' OR '1'='1'; DROP TABLE instances; --",
    '"}]},{"a":[\\',  # JSON metacharacters
    "%s%n%x%_\\\\*?",  # printf and LIKE
]
# Raw JSON tokens put where a field's value goes.
RAW_VALUES = [b'"\xff\xfe\xc0\x80"', b'"a\x00b"', b"18446744073709551616",
              b"-9223372036854775809", b"1e400", b"1" + b"0" * 400,
              b"[" * 5000 + b"]" * 5000, b'{"a":' * 5000 + b"1" + b"}" * 5000,
              b'"' + b"x" * (MAX_BODY - 4096) + b'"']
# Whole bodies.
RAW_BODIES = [b"\x00", b"\xff\xfe", b"[]", b'"x"', b"null", b"0", b"{", b'{"a":1,"a":2}',
              b"{}" + b" " * 10 + b"{}", b'{"' + b"k" * (MAX_BODY + 10) + b'":1}']
# Query parameter values (already percent-encoded where raw).
QUERY = [urllib.parse.quote(s, safe="") for s in NASTY if s != "\ud800"] + [
    "%FF%FE", "%00", "-1", "99999999999999999999999", "-9223372036854775809", "1e400",
    "x" * 4000, "%ED%A0%80"]
LIMITS = ["-1", "0", "9223372036854775807", "18446744073709551616", "abc", "1.5", ""]
MARKERS = ["not-a-uuid", FAKE, "-1", "%00", "%27"]
# Path ids that are not UUIDs (never an id that exists, such as flavor "1").
BAD_IDS = ["not-a-uuid", "-1", "2147483648", "99999999999999999999999", "%00", "%FF%FE",
           "%27%3B%20DROP%20TABLE%20instances%3B--", "%E2%80%AE%F0%9F%98%80", "x" * 3000]
WRONG = [("string", "x"), ("integer", 7), ("number", 1.5), ("boolean", True), ("null", None),
         ("array", [1]), ("object", {"a": 1})]
SAMPLES = ["x", "1", FAKE, "10.0.0.1", "10.0.0.0/24", "2020-01-01T00:00:00Z", "ab-1", "a.b"]


def mv(v):
    return tuple(int(x) for x in v.split("."))


with open(os.path.join(REPO, "api", "request-schemas.json")) as f:
    SCHEMAS = json.load(f)["schemas"]


def schema_of(row, kind, version):
    action = None if row["action"] == "-" else row["action"]
    for e in SCHEMAS:
        if (e["kind"], e["method"], e["path"], e["action"]) != (kind, row["method"], row["path"], action):
            continue
        lo, hi = mv(e["min"]), mv(e["max"]) if e["max"] else (99, 999)
        if lo <= mv(version) <= hi:
            return e["schema"]
    return None


def types(s):
    t = s.get("type")
    return set(t) if isinstance(t, list) else {t} if t else set()


def example(s, depth=0):
    """A value the schema (probably) accepts: required fields only."""
    if not isinstance(s, dict) or depth > 8:
        return "x"
    if "enum" in s:
        return s["enum"][0]
    for k in ("oneOf", "anyOf", "allOf"):
        if k in s and not s.get("type"):
            return example(s[k][0], depth + 1)
    t = types(s) - {"null"}
    t = sorted(t)[0] if t else "string"
    if t == "object":
        props = s.get("properties", {})
        return {k: example(props.get(k, {}), depth + 1) for k in s.get("required", [])}
    if t == "array":
        return [example(s.get("items", {}), depth + 1) for _ in range(s.get("minItems", 0))]
    if t in ("integer", "number"):
        return max(s.get("minimum", 1), 1) if "maximum" not in s or s["maximum"] >= 1 else s["maximum"]
    if t == "boolean":
        return True
    if s.get("format") == "uuid":
        return FAKE
    pat = s.get("pattern")
    for c in SAMPLES:
        if not pat or re.search(pat, c):
            return c * max(1, s.get("minLength", 1) // len(c) + (s.get("minLength", 1) % len(c) > 0))
    return "x"


def fields(s, path=(), depth=0):
    """(path, schema) of every property, nested objects included."""
    if not isinstance(s, dict) or depth > 3:
        return
    for k, sub in sorted((s.get("properties") or {}).items()):
        yield path + (k,), sub
        if isinstance(sub, dict):
            yield from fields(sub, path + (k,), depth + 1)
    # a map (metadata, extra specs): its keys are any names of a pattern
    for sub in list((s.get("patternProperties") or {}).values())[:1]:
        yield path + (None,), sub


def put(body, schema, path, value):
    """A copy of `body` with `value` at `path`, parents made from the schema."""
    body = copy.deepcopy(body)
    node, s = body, schema
    for k in path[:-1]:
        s = (s.get("properties") or {}).get(k, {})
        if not isinstance(node.get(k), dict):
            node[k] = example(s) if "object" in types(s) or not types(s) else {}
            if not isinstance(node[k], dict):
                node[k] = {}
        node = node[k]
    node[path[-1]] = value
    return body


def body_cases(schema):
    """(label, raw body) of every bad body the schema suggests."""
    base = example(schema)
    if not isinstance(base, dict):
        base = {}
    out = []
    leaf = None
    for path, s in fields(schema):
        if path[-1] is None:  # a map: nasty keys, then nasty values
            out += [(f"key {n!r}", put(base, schema, path[:-1] + (n,), example(s))) for n in NASTY]
            out += [(f"value {n!r}", put(base, schema, path[:-1] + ("k",), n)) for n in NASTY]
            continue
        label = ".".join(path)
        t = types(s)
        for name, v in WRONG:
            if name not in t and not (name == "integer" and "number" in t):
                out.append((f"{label}={name}", put(base, schema, path, v)))
        if "string" in t or not t:
            out += [(f"{label}={n!r}", put(base, schema, path, n)) for n in NASTY]
            leaf = leaf or path
        if t & {"integer", "number"}:
            out.append((f"{label}=raw big", put(base, schema, path, RAW)))
            leaf = leaf or path
    cases = [(label, json.dumps(b).replace(f'"{RAW}"', "18446744073709551616").encode())
             for label, b in out]
    where = put(base, schema, leaf, RAW) if leaf else dict(base, x=RAW)
    text = json.dumps(where).encode()
    cases += [(f"raw {v[:24]!r}", text.replace(f'"{RAW}"'.encode(), v)) for v in RAW_VALUES]
    return cases


class Sender(threading.local):
    """One kept-alive connection per thread (all of them in `opened`)."""
    opened = []

    def __init__(self):
        u = urllib.parse.urlsplit(BASE)
        self.host, self.port, self.conn = u.hostname, u.port, None

    def send(self, method, url, raw, version, headers=None):
        h = {"X-Auth-Token": "admin:admin", "Accept": "application/json",
             "OpenStack-API-Version": "compute " + version}
        if raw is not None:
            h["Content-Type"] = "application/json"
        h.update(headers or {})
        for attempt in range(2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=60)
                self.opened.append(self.conn)
            try:
                self.conn.request(method, url, body=raw, headers=h)
                r = self.conn.getresponse()
                data = r.read()
                if r.getheader("connection", "").lower() == "close":
                    self.conn.close()
                    self.conn = None
                return r.status, data
            except (http.client.HTTPException, OSError):
                self.conn.close()
                self.conn = None
                if attempt:
                    raise


def api_pids():
    """PIDs of the API master and its workers."""
    with open(os.path.join(RUN, "pids", "cnova-api.pid")) as f:
        master = f.read().split()[0]
    kids = set()
    for p in os.listdir("/proc"):
        try:
            with open(f"/proc/{p}/stat") as f:
                if p.isdigit() and f.read().rsplit(") ", 1)[1].split()[1] == master:
                    kids.add(p)
        except (OSError, IndexError):
            pass
    return {master} | kids


def reports():
    d = os.path.join(RUN, "asan")
    return set(os.listdir(d)) if os.path.isdir(d) else set()


def cases(rows, real=None):
    """(method, url, raw body, version, label) of every case of the rows;
    `real`: {path parameter: an id that exists} (others get FAKE)."""
    latest = request("GET", "/v2.1/").json["version"]["version"]
    real = real or {}
    ids = lambda t: re.sub(r"\{([^}]+)\}", lambda p: real.get(p.group(1), FAKE), t)
    for row in rows:
        lo = "2.1" if row["min_version"] == "2.0" else row["min_version"]
        hi = latest if row["max_version"] == "-" else row["max_version"]
        m, tpl = row["method"], row["path"]
        action = None if row["action"] == "-" else row["action"]
        for v in sorted({lo, hi}, key=mv):
            url = "/v2.1" + ids(tpl)
            req = schema_of(row, "request", v)
            base = None
            if req is not None:
                ex = example(req)
                base = json.dumps(ex).encode()
                for label, raw in body_cases(req):
                    yield m, url, raw, v, label
            elif m in ("POST", "PUT"):
                base = json.dumps({action: None} if action else {}).encode()
            if m in ("POST", "PUT"):
                for raw in RAW_BODIES:
                    yield m, url, raw, v, f"body {raw[:16]!r}"
            for p in re.findall(r"\{[^}]+\}", tpl):
                for bad in BAD_IDS:
                    path = tpl.replace(p, bad)
                    yield m, "/v2.1" + ids(path), base, v, f"id {bad[:20]}"
            q = schema_of(row, "query", v)
            if q is None and m != "GET":
                continue
            names = sorted((q or {}).get("properties", {})) or ["name"]
            for name in names:
                values = LIMITS if name == "limit" else MARKERS if name == "marker" else QUERY
                for val in values:
                    yield m, f"{url}?{name}={val}", base, v, f"?{name}={val[:20]}"
            for q in ("limit=1&limit=x&marker=&marker=" + FAKE, "%FF%FE=1", "%00=1", "=1&&=&%=%"):
                yield m, f"{url}?{q}", base, v, f"?{q}"


# Headers (bytes: http.client sends them as they are), on one route of each
# resource.
HEADERS = [
    {"OpenStack-API-Version": b"compute 2.\xff\xfe"},
    {"OpenStack-API-Version": "compute 2.99999999999999999999"},
    {"OpenStack-API-Version": "compute -2.-1, compute 2.1, compute " + "9" * 100},
    {"X-OpenStack-Nova-API-Version": "2.1e3"},
    {"X-Auth-Token": b"user:proj\xff\xfe"},
    {"X-Auth-Token": b"\xe2\x80\xae\xf0\x9f\x98\x80:\xc0\x80"},
    {"X-Auth-Token": "x' OR '1'='1:p'; DROP TABLE instances; --"},
    {"X-Auth-Token": "a" * 300 + ":" + "b" * 300},
    {"X-Auth-Token": ":"}, {"X-Auth-Token": "admin:admin:admin"}, {"X-Auth-Token": "u:%00"},
    {"Content-Type": "application/json; charset=\xff"},
    {"Content-Type": "application/json" + ";" * 500},
    {"X-Openstack-Request-Id": b"req-\xff' --"},
]


def header_cases():
    seen = set()
    for row in routes():
        key = (row["method"], row["path"].split("/")[1])
        if key in seen or row["path"].count("{"):
            continue
        seen.add(key)
        url = "/v2.1" + row["path"]
        v = "2.1" if row["min_version"] == "2.0" else row["min_version"]
        raw = b"{}" if row["method"] in ("POST", "PUT") else None
        for h in HEADERS:
            yield row["method"], url, raw, v, f"header {h}", h


def verdict(status, data):
    """None when the answer is acceptable, else why not."""
    if status >= 500 and not (status == 501 and b'"notImplemented"' in data):
        return "5xx"  # 501: a route cnova does not serve yet, said so
    if status < 400:
        return None
    try:
        doc = json.loads(data)
    except ValueError:
        return "not JSON"
    if not isinstance(doc, dict) or len(doc) != 1:
        return "not a fault body"
    name, fault = next(iter(doc.items()))
    if name not in FAULTS or not isinstance(fault, dict) or fault.get("code") != status \
            or not isinstance(fault.get("message"), str):
        return "not a fault body"
    if "ERROR: " in fault["message"] and "invalid regular expression" not in fault["message"]:
        return "PostgreSQL refused what the API let through"  # (a bad regex filter is 400)
    return None


def created(url, data):
    """The URL that deletes what a 2xx POST created, or None."""
    try:
        doc = json.loads(data)
    except ValueError:
        return None
    if not isinstance(doc, dict) or len(doc) != 1:
        return None
    obj = next(iter(doc.values()))
    if not isinstance(obj, dict):
        return None
    ident = obj.get("id", obj.get("name"))
    if ident is None or isinstance(ident, (dict, list)):
        return None
    return url.split("?")[0] + "/" + urllib.parse.quote(str(ident), safe="")


# Actions the deep pass leaves out: they delete, move or replace the server
# or create images, and would end the pass's subject or outlive it.
DESTRUCTIVE = {"forceDelete", "createImage", "createBackup", "migrate", "resize", "os-migrateLive",
               "evacuate", "shelve", "shelveOffload", "unshelve", "rescue", "rebuild", "restore",
               "lock", "confirmResize", "revertResize", "os-resetState"}


class BadInput(ServerFixtures):
    servers = []

    def run_cases(self, generated):
        """Sends every case, 4 at a time; asserts every answer and that the
        stack survived. What a 2xx POST created is deleted."""
        pids, before = api_pids(), reports()
        sender, failures, cleanup, counts = Sender(), [], [], {"n": 0}
        lock = threading.Lock()

        def run(case):
            m, url, raw, v, label, *headers = case
            try:
                status, data = sender.send(m, url, raw, v, *headers)
            except (http.client.HTTPException, OSError) as e:
                status, data = 0, repr(e).encode()
            why = "no answer" if status == 0 else verdict(status, data)
            with lock:
                counts["n"] += 1
                counts[status] = counts.get(status, 0) + 1
                if why:
                    failures.append(f"{m} {url[:120]} @{v} [{label}]: {status} {why} {data[:160]!r}")
                if m == "POST" and 200 <= status < 300 and "/action" not in url:
                    gone = created(url, data)
                    if gone:
                        cleanup.append(gone)

        with ThreadPoolExecutor(4) as pool:
            list(pool.map(run, generated))
        for conn in sender.opened:
            conn.close()
        if os.environ.get("BAD_INPUT_LOG"):  # every wrong answer, for a look
            with open(os.environ["BAD_INPUT_LOG"], "a") as f:
                f.write("\n".join(failures + [repr(counts)] + cleanup) + "\n")
        for url in cleanup:
            request("DELETE", url)
        self.assertEqual(failures[:40], [], f"{len(failures)} answers are wrong; by status: {counts}")
        self.assertEqual(api_pids(), pids, "an API worker died")
        self.assertEqual(reports() - before, set(), "sanitizer reports appeared")
        return counts

    def test_every_route_refuses_bad_input_with_a_fault(self):
        """Every route, its path ids made up: the validator and the lookups."""
        counts = self.run_cases(cases(routes()))
        self.assertGreater(counts["n"], 20000)
        self.assertGreater(counts.get(400, 0), 10000)

    def test_a_real_server_refuses_bad_input_with_a_fault(self):
        """The server's own routes on a server that exists, so that what
        the schemas let through reaches the handlers (and the compute)."""
        sid = self.boot("admin:admin", IMAGE, prefix="bad-input")
        rows = [r for r in routes() if r["action"] not in DESTRUCTIVE
                and (r["method"], r["path"]) != ("DELETE", "/servers/{id}")]
        own = [r for r in rows if r["path"].startswith("/servers/{id}")]
        sub = [r for r in rows if r["path"].startswith("/servers/{server_id}/")]
        generated = itertools.chain(cases(own, {"id": sid}), cases(sub, {"server_id": sid}))
        counts = self.run_cases(generated)
        self.assertGreater(counts.get(400, 0), 1000)
        self.assertGreater(counts.get(200, 0) + counts.get(202, 0), 100)
        self.assertEqual(request("GET", f"/v2.1/servers/{sid}").status, 200)

    def test_bad_headers_get_a_fault(self):
        counts = self.run_cases(header_cases())
        self.assertGreater(counts["n"], 500)

    def test_token_bytes_are_latin1(self):
        """noauth2 reads the token's bytes as Latin-1, as WSGI hands Nova
        its headers: a project named with any byte works as any other."""
        token = {"X-Auth-Token": b"u\xe9:p\xff\xfe"}
        sender = Sender()
        body = json.dumps({"keypair": {"name": "latin1-kp"}}).encode()
        self.assertEqual(sender.send("POST", "/v2.1/os-keypairs", body, "2.1", token)[0], 200)
        status, data = sender.send("GET", "/v2.1/os-keypairs", None, "2.1", token)
        self.assertEqual(status, 200)
        self.assertEqual([k["keypair"]["name"] for k in json.loads(data)["keypairs"]], ["latin1-kp"])
        self.assertEqual(sender.send("DELETE", "/v2.1/os-keypairs/latin1-kp", None, "2.1", token)[0], 202)
        status, data = sender.send("GET", "/v2.1/servers", None, "2.1", token)
        self.assertEqual((status, json.loads(data)), (200, {"servers": []}))
        for conn in sender.opened:
            conn.close()
