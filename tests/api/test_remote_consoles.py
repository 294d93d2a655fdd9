"""test_remote_consoles.py: remote consoles end to end — a server is booted
on libvirt's test driver, POST /servers/{id}/remote-consoles (2.6+) and the
old os-getVNCConsole / os-getSPICEConsole / os-getSerialConsole actions
(2.1-2.5) ask its compute host over an RPC call where the VNC console
listens, and the API stores a hashed console auth token that
GET /os-console-auth-tokens/{token} (admin, 2.31+) resolves. Nova's errors:
disabled protocols and wrong types (400), no host or a rejected task state
(409), unknown or foreign servers (404), a guest its host does not have
(404), a dead host (500 after the call timeout), and the tokens of a
deleted server going with it."""
import configparser, hashlib, http.client, json, os, re, time, unittest, urllib.parse, uuid

from common import BASE, FAKE, RUN, ApiTest, psql, request

IMAGE = "70a599e0-31e7-49b7-b260-868f441e862b"  # seeded by 007_images_seed.sql
PROJECT = "rc-proj"
MEMBER = "rc-member:" + PROJECT
OTHER = "rc-other:rc-other-proj"
SETTLE = 60  # seconds a build may take under ASan
TOKEN_URL = re.compile(r"^http://127\.0\.0\.1:6080/vnc_auto\.html\?path=%3Ftoken%3D"
                       r"([0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12})$")
RC = "/servers/{server_id}/remote-consoles"
TOKENS = "/os-console-auth-tokens/{id}"


def setUpModule():
    for res in ("instances", "cores", "ram"):
        psql(f"INSERT INTO quotas (project_id, resource, hard_limit) VALUES ('{PROJECT}', '{res}',"
             f" -1) ON CONFLICT (project_id, resource) DO UPDATE SET hard_limit = -1")


def show(sid):
    r = request("GET", f"/v2.1/servers/{sid}", version="2.73")
    return r.json["server"] if r.status == 200 else None


def boot():
    r = request("POST", "/v2.1/servers", {"server": {
        "name": "rc-" + uuid.uuid4().hex[:6], "imageRef": IMAGE, "flavorRef": "1"}}, token=MEMBER)
    assert r.status == 202, r
    sid = r.json["server"]["id"]
    deadline = time.time() + SETTLE
    while True:
        s = show(sid)
        if s and s["status"] == "ACTIVE" and s["OS-EXT-STS:task_state"] is None:
            return sid
        if time.time() > deadline:
            raise AssertionError(f"{sid} not ACTIVE after {SETTLE} s: {s}")
        time.sleep(0.3)


def create(sid, protocol, ctype, version="2.6", token=MEMBER):
    return request("POST", f"/v2.1/servers/{sid}/remote-consoles",
                   {"remote_console": {"protocol": protocol, "type": ctype}},
                   token=token, version=version)


def action(sid, name, ctype, version="2.1", token=MEMBER):
    return request("POST", f"/v2.1/servers/{sid}/action", {name: {"type": ctype}},
                   token=token, version=version)


def token_show(token, version="2.31", auth="admin:admin", query=""):
    return request("GET", f"/v2.1/os-console-auth-tokens/{token}{query}", token=auth,
                   version=version)


def token_of(url):
    m = TOKEN_URL.match(url)
    assert m, url
    return m.group(1)


def sha256(token):
    return hashlib.sha256(token.encode()).hexdigest()


def call_timeout():
    c = configparser.ConfigParser(interpolation=None, strict=False)
    c.read(os.path.join(RUN, "cnova.conf"))
    return c.getint("rpc", "call_timeout", fallback=60)


class RemoteConsoles(ApiTest):
    @classmethod
    def setUpClass(cls):
        cls.sid = boot()

    @classmethod
    def tearDownClass(cls):
        request("DELETE", f"/v2.1/servers/{cls.sid}")

    def setUp(self):
        # whatever a test changed, the server is back as booted
        row = psql(f"SELECT host, vm_state, coalesce(task_state, '') FROM instances"
                   f" WHERE uuid = '{self.sid}'").split("|")
        self.addCleanup(psql, f"UPDATE instances SET host = '{row[0]}', vm_state = '{row[1]}',"
                              f" task_state = NULLIF('{row[2]}', '') WHERE uuid = '{self.sid}'")

    def vnc_port(self):
        """The port cnova defines on the test driver: 5900 + 2 * (id mod 29000)."""
        return 5900 + 2 * (int(psql(f"SELECT id FROM instances WHERE uuid = '{self.sid}'")) % 29000)

    # ---- POST /servers/{id}/remote-consoles ----

    def test_create_vnc_each_version(self):
        for v in ("2.6", "2.8", "2.98", "2.99", "latest"):
            r = create(self.sid, "vnc", "novnc", version=v)
            self.assertEqual(r.status, 200, (v, r))
            self.assertLikeSample(r.json, "os-remote-consoles/v2.6/create-vnc-console-resp.json")
            self.assertMatchesSchema(r.json, "POST", RC, "2.104" if v == "latest" else v)
            rc = r.json["remote_console"]
            self.assertEqual((rc["protocol"], rc["type"]), ("vnc", "novnc"))
            token = token_of(rc["url"])
            # only the hash is stored, with where the console listens
            row = psql(f"SELECT console_type, host, port, instance_uuid,"
                       f" internal_access_path IS NULL, access_url_base,"
                       f" expires - extract(epoch FROM now())::bigint FROM console_auth_tokens"
                       f" WHERE token_hash = '{sha256(token)}'").split("|")
            self.assertEqual(row[:6], ["novnc", "127.0.0.1", str(self.vnc_port()), self.sid, "t",
                                       "http://127.0.0.1:6080/vnc_auto.html"])
            self.assertTrue(590 <= int(row[6]) <= 600, row)
            self.assertEqual(psql(f"SELECT count(*) FROM console_auth_tokens"
                                  f" WHERE token_hash = '{token}'"), "0")

    def test_tokens_are_unique(self):
        a = token_of(create(self.sid, "vnc", "novnc").json["remote_console"]["url"])
        b = token_of(create(self.sid, "vnc", "novnc").json["remote_console"]["url"])
        self.assertNotEqual(a, b)

    def test_create_disabled_and_invalid_types(self):
        cases = [
            ("2.6", "rdp", "rdp-html5", "Unavailable console type rdp."),
            ("2.6", "spice", "spice-html5", "Unavailable console type spice-html5."),
            ("2.6", "serial", "serial", "Unavailable console type serial."),
            ("2.8", "mks", "webmks", "Unavailable console type webmks."),
            ("2.99", "spice", "spice-direct", "Unavailable console type spice-direct."),
            ("2.6", "vnc", "xvpvnc", "Invalid console type xvpvnc"),
            ("2.6", "vnc", "serial", "Invalid console type serial"),
            ("2.8", "vnc", "webmks", "Invalid console type webmks"),
        ]
        for v, protocol, ctype, msg in cases:
            r = create(self.sid, protocol, ctype, version=v)
            self.assertFault(r, 400, "badRequest", msg)
            self.assertEqual(r.json["badRequest"]["message"], msg)

    def test_create_schema_per_version(self):
        # mks and webmks from 2.8, spice-direct from 2.99, nothing else ever
        for v, protocol, ctype in (("2.7", "mks", "webmks"), ("2.7", "vnc", "webmks"),
                                   ("2.98", "spice", "spice-direct"), ("2.99", "vnc", "vnc"),
                                   ("2.99", "telnet", "novnc")):
            self.assertFault(create(self.sid, protocol, ctype, version=v), 400, "badRequest")
        for body in ({}, {"remote_console": {"protocol": "vnc"}},
                     {"remote_console": {"type": "novnc"}},
                     {"remote_console": {"protocol": "vnc", "type": "novnc", "x": 1}}):
            r = request("POST", f"/v2.1/servers/{self.sid}/remote-consoles", body, token=MEMBER,
                        version="2.6")
            self.assertFault(r, 400, "badRequest")

    def test_create_not_before_2_6(self):
        self.assertFault(create(self.sid, "vnc", "novnc", version="2.5"), 404, "itemNotFound")

    def test_create_unknown_and_foreign_server(self):
        r = create(FAKE, "vnc", "novnc")
        self.assertFault(r, 404, "itemNotFound", f"Instance {FAKE} could not be found.")
        self.assertFault(create(self.sid, "vnc", "novnc", token=OTHER), 404, "itemNotFound")
        # an admin may ask for anyone's console
        self.assertEqual(create(self.sid, "vnc", "novnc", token="admin:admin").status, 200)

    def test_not_ready_without_host(self):
        psql(f"UPDATE instances SET host = NULL WHERE uuid = '{self.sid}'")
        for r in (create(self.sid, "vnc", "novnc"), action(self.sid, "os-getVNCConsole", "novnc")):
            self.assertFault(r, 409, "conflictingRequest", f"Instance {self.sid} is not ready")

    def test_rejected_task_states(self):
        for ts in ("deleting", "migrating"):
            psql(f"UPDATE instances SET task_state = '{ts}' WHERE uuid = '{self.sid}'")
            r = action(self.sid, "os-getVNCConsole", "novnc")
            self.assertFault(r, 409, "conflictingRequest",
                             f"Cannot 'get_vnc_console' instance {self.sid} while it is in "
                             f"task_state {ts}")
            self.assertFault(create(self.sid, "vnc", "novnc"), 409, "conflictingRequest")

    # ---- the old actions, 2.1-2.5 ----

    def test_old_actions(self):
        for v in ("2.1", "2.5"):
            r = action(self.sid, "os-getVNCConsole", "novnc", version=v)
            self.assertEqual(r.status, 200, r)
            self.assertLikeSample(r.json, "os-remote-consoles/get-vnc-console-post-resp.json")
            self.assertMatchesSchema(r.json, "POST", "/servers/{id}/action", v, "os-getVNCConsole")
            self.assertEqual(r.json["console"]["type"], "novnc")
            self.assertEqual(token_show(token_of(r.json["console"]["url"])).status, 200)
            self.assertFault(action(self.sid, "os-getSPICEConsole", "spice-html5", version=v), 400,
                             "badRequest", "Unavailable console type spice-html5.")
            self.assertFault(action(self.sid, "os-getSerialConsole", "serial", version=v), 400,
                             "badRequest", "Unavailable console type serial.")
            self.assertFault(action(self.sid, "os-getVNCConsole", "xvpvnc", version=v), 400,
                             "badRequest", "Invalid console type xvpvnc")
        # schema: the type is required and one of the action's own
        self.assertFault(action(self.sid, "os-getSPICEConsole", "novnc"), 400, "badRequest")
        r = request("POST", f"/v2.1/servers/{self.sid}/action", {"os-getVNCConsole": {}},
                    token=MEMBER)
        self.assertFault(r, 400, "badRequest")
        # gone from 2.6, RDP gone altogether
        self.assertFault(action(self.sid, "os-getVNCConsole", "novnc", version="2.6"), 404,
                         "itemNotFound")
        self.assertEqual(action(self.sid, "os-getRDPConsole", "rdp-html5").status, 410)
        self.assertFault(action(FAKE, "os-getVNCConsole", "novnc"), 404, "itemNotFound",
                         f"Instance {FAKE} could not be found.")
        self.assertFault(action(self.sid, "os-getVNCConsole", "novnc", token=OTHER), 404,
                         "itemNotFound")

    # ---- GET /os-console-auth-tokens/{id} ----

    def test_token_show(self):
        token = token_of(create(self.sid, "vnc", "novnc").json["remote_console"]["url"])
        for v in ("2.31", "2.98", "2.99", "latest"):
            r = token_show(token, version=v)
            self.assertEqual(r.status, 200, (v, r))
            self.assertLikeSample(r.json, "os-console-auth-tokens/v2.31/"
                                  "get-console-connect-info-get-resp.json",
                                  nullable=("$.console.internal_access_path",))
            self.assertMatchesSchema(r.json, "GET", TOKENS, "2.104" if v == "latest" else v)
            self.assertEqual(r.json["console"], {"instance_uuid": self.sid, "host": "127.0.0.1",
                                                 "port": self.vnc_port(),
                                                 "internal_access_path": None})
        # unknown query parameters: allowed before 2.99, not from it
        self.assertEqual(token_show(token, version="2.98", query="?x=1").status, 200)
        self.assertFault(token_show(token, version="2.99", query="?x=1"), 400, "badRequest")

    def test_token_show_before_2_31(self):
        token = token_of(create(self.sid, "vnc", "novnc").json["remote_console"]["url"])
        for v in ("2.1", "2.30"):
            self.assertFault(token_show(token, version=v), 400, "badRequest",
                             "The server could not comply with the request")

    def test_token_unknown_expired_and_policy(self):
        self.assertFault(token_show("no-such-token"), 404, "itemNotFound", "Token not found")
        token = token_of(create(self.sid, "vnc", "novnc").json["remote_console"]["url"])
        # admin only
        self.assertFault(token_show(token, auth=MEMBER), 403, "forbidden")
        psql(f"UPDATE console_auth_tokens SET expires = extract(epoch FROM now())::bigint - 1"
             f" WHERE token_hash = '{sha256(token)}'")
        self.assertFault(token_show(token), 404, "itemNotFound", "Token not found")
        # expired rows are swept when the next token is made
        create(self.sid, "vnc", "novnc")
        self.assertEqual(psql(f"SELECT count(*) FROM console_auth_tokens"
                              f" WHERE token_hash = '{sha256(token)}'"), "0")

    def test_spice_direct_token_tls_port(self):
        # spice-direct needs [spice] enabled on the host: its row as the API
        # stores one, then the 2.99 view of it
        token = str(uuid.uuid4())
        psql(f"INSERT INTO console_auth_tokens (token_hash, console_type, host, port, tls_port,"
             f" instance_uuid, access_url_base, expires) VALUES ('{sha256(token)}',"
             f" 'spice-direct', '127.0.0.1', 5901, 5902, '{self.sid}',"
             f" 'http://127.0.0.1:13002/nova', extract(epoch FROM now())::bigint + 600)")
        r = token_show(token, version="2.99")
        self.assertEqual(r.status, 200, r)
        self.assertLikeSample(r.json, "os-console-auth-tokens/v2.99/"
                              "get-console-connect-info-get-resp.json")
        self.assertMatchesSchema(r.json, "GET", TOKENS, "2.99")
        self.assertEqual(r.json["console"]["tls_port"], 5902)
        r = token_show(token, version="2.98")
        self.assertNotIn("tls_port", r.json["console"])
        self.assertMatchesSchema(r.json, "GET", TOKENS, "2.98")


class HostTrouble(ApiTest):
    """Instances recorded on a host that does not have their guest, or on
    one that does not answer. The host's power-state sync reaps a guest the
    database places elsewhere, so these use a server of their own."""

    @classmethod
    def setUpClass(cls):
        cls.victim, cls.healthy = boot(), boot()

    @classmethod
    def tearDownClass(cls):
        for sid in (cls.victim, cls.healthy):
            request("DELETE", f"/v2.1/servers/{sid}")

    def setUp(self):
        row = psql(f"SELECT host, vm_state FROM instances WHERE uuid = '{self.victim}'").split("|")
        self.addCleanup(psql, f"UPDATE instances SET host = '{row[0]}', vm_state = '{row[1]}'"
                              f" WHERE uuid = '{self.victim}'")

    def test_guest_missing_on_its_host(self):
        # recorded on the other host, which has no such guest: Nova's
        # InstanceNotFound, or InstanceNotReady while building
        host = psql(f"SELECT host FROM instances WHERE uuid = '{self.victim}'")
        other = "compute2" if host == "compute1" else "compute1"
        psql(f"UPDATE instances SET host = '{other}' WHERE uuid = '{self.victim}'")
        self.assertFault(create(self.victim, "vnc", "novnc"), 404, "itemNotFound",
                         f"Instance {self.victim} could not be found.")
        psql(f"UPDATE instances SET vm_state = 'building' WHERE uuid = '{self.victim}'")
        self.assertFault(action(self.victim, "os-getVNCConsole", "novnc"), 409, "conflictingRequest",
                         f"Instance {self.victim} is not ready")

    def test_dead_host_answers_after_the_call_timeout(self):
        # a host with no consumer: the call times out, Nova's 500, no hang
        psql(f"UPDATE instances SET host = 'rc-dead-host' WHERE uuid = '{self.victim}'")
        limit = call_timeout()
        u = urllib.parse.urlsplit(BASE)
        conn = http.client.HTTPConnection(u.hostname, u.port, timeout=limit + 60)
        t0 = time.time()
        try:
            conn.request("POST", f"/v2.1/servers/{self.victim}/remote-consoles",
                         body=json.dumps({"remote_console": {"protocol": "vnc", "type": "novnc"}}),
                         headers={"X-Auth-Token": MEMBER, "Content-Type": "application/json",
                                  "OpenStack-API-Version": "compute 2.6"})
            resp = conn.getresponse()
            status, body = resp.status, json.loads(resp.read())
        finally:
            conn.close()
        elapsed = time.time() - t0
        self.assertEqual(status, 500, body)
        self.assertIn("MessagingTimeout", body["computeFault"]["message"])
        self.assertGreaterEqual(elapsed, limit - 1)
        self.assertLess(elapsed, limit + 15)
        # and the API worker that waited serves the next call normally
        for _ in range(4):
            self.assertEqual(create(self.healthy, "vnc", "novnc").status, 200)


class ConsoleTokensOnDelete(ApiTest):
    def test_delete_removes_tokens(self):
        sid = boot()
        tokens = [token_of(create(sid, "vnc", "novnc").json["remote_console"]["url"])
                  for _ in range(2)]
        self.assertEqual(psql(f"SELECT count(*) FROM console_auth_tokens"
                              f" WHERE instance_uuid = '{sid}'"), "2")
        self.assertEqual(request("DELETE", f"/v2.1/servers/{sid}", token=MEMBER).status, 204)
        deadline = time.time() + SETTLE
        while show(sid) is not None and time.time() < deadline:
            time.sleep(0.3)
        self.assertIsNone(show(sid))
        self.assertEqual(psql(f"SELECT count(*) FROM console_auth_tokens"
                              f" WHERE instance_uuid = '{sid}'"), "0")
        for t in tokens:
            self.assertFault(token_show(t), 404, "itemNotFound", "Token not found")


if __name__ == "__main__":
    unittest.main()
