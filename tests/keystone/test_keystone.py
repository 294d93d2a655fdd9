"""Keystone mode (CNOVA_AUTH=keystone): a stack whose API validates
Keystone tokens, driven by the real clients through Keystone's catalog
(`openstack --os-cloud` with the stack's clouds.yaml, the `nova` command
with its openrc) and over plain HTTP for the 401/403 answers.

scripts/test.sh starts the stack (run-keystone, CNOVA_AUTH=keystone) and
exports CNOVA_BASE, CNOVA_RUN and CNOVA_KEYSTONE_PORT."""
import json, os, subprocess, unittest, urllib.error, urllib.request, uuid

BASE = os.environ.get("CNOVA_BASE", "http://127.0.0.1:8774")
RUN = os.environ.get("CNOVA_RUN", os.path.join(os.path.dirname(__file__), "..", "..", "run"))
KS = "http://127.0.0.1:%s" % os.environ.get("CNOVA_KEYSTONE_PORT", "15000")
PASSWORD = os.environ.get("CNOVA_KEYSTONE_PASSWORD", "secret")
CLOUDS = os.path.join(RUN, "clouds.yaml")
OPENRC = os.path.join(RUN, "openrc")
CIRROS = "80292edd-18c0-4446-9fa4-994b39a2dc15"  # seeded by 007_images_seed.sql


def client_env():
    """The caller's environment without OS_* (clouds.yaml or openrc decide)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("OS_")}
    env["OS_CLIENT_CONFIG_FILE"] = CLOUDS
    return env


def osc(cloud, *args, check=True):
    """`openstack --os-cloud CLOUD ARGS -f json`: (returncode, parsed stdout, stderr)."""
    p = subprocess.run(["/usr/bin/openstack", "--os-cloud", cloud, *args, "-f", "json"],
                       capture_output=True, text=True, timeout=300, env=client_env())
    if check and p.returncode:
        raise AssertionError(f"openstack {' '.join(args)} failed: {p.stderr[-800:]}")
    try:
        out = json.loads(p.stdout) if p.stdout.strip() else None
    except ValueError:
        out = p.stdout
    return p.returncode, out, p.stderr


def osc_plain(cloud, *args):
    """`openstack --os-cloud CLOUD ARGS` for commands that print no JSON."""
    return subprocess.run(["/usr/bin/openstack", "--os-cloud", cloud, *args],
                          capture_output=True, text=True, timeout=300, env=client_env())


def nova(cloud, *args):
    """The nova command with the stack's openrc for CLOUD (novaclient's shell
    reads only OS_* variables): the CompletedProcess."""
    return subprocess.run(["bash", "-c", '. "$1" "$2" && shift 2 && exec /usr/bin/nova "$@"',
                           "nova", OPENRC, cloud, *args],
                          capture_output=True, text=True, timeout=300, env=client_env())


def keystone_token(user, project):
    """(token, body of POST /v3/auth/tokens) for USER scoped to PROJECT."""
    body = {"auth": {"identity": {"methods": ["password"], "password": {"user": {
        "name": user, "domain": {"id": "default"}, "password": PASSWORD}}},
        "scope": {"project": {"name": project, "domain": {"id": "default"}}}}}
    req = urllib.request.Request(KS + "/v3/auth/tokens", json.dumps(body).encode(),
                                 {"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=60) as r:
        return r.headers["X-Subject-Token"], json.loads(r.read())["token"]


def api(method, path, token=None, body=None):
    """(status, headers, parsed body) of one request to the compute API."""
    headers = {"Accept": "application/json"}
    if token is not None:
        headers["X-Auth-Token"] = token
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    req = urllib.request.Request(BASE + path, data, headers, method=method)
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            raw = r.read()
            return r.status, r.headers, json.loads(raw) if raw else None
    except urllib.error.HTTPError as e:
        raw = e.read()
        try:
            return e.code, e.headers, json.loads(raw) if raw else None
        except ValueError:
            return e.code, e.headers, raw


class KeystoneMode(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tokens, cls.projects = {}, {}
        for user, project in (("admin", "admin"), ("demo", "demo"),
                              ("demo-reader", "demo"), ("alt_demo", "alt_demo")):
            tok, body = keystone_token(user, project)
            cls.tokens[user] = tok
            cls.projects[project] = body["project"]["id"]

    def test_token_issue_and_catalog(self):
        _, tok, _ = osc("cnova-demo", "token", "issue")
        self.assertEqual(tok["project_id"], self.projects["demo"])
        _, catalog, _ = osc("cnova-demo", "catalog", "list")
        by_type = {c["Type"]: c for c in catalog}
        self.assertEqual({"compute", "image", "identity"} - set(by_type), set())
        self.assertEqual(by_type["compute"]["Name"], "nova")
        self.assertEqual(by_type["image"]["Name"], "glance")
        urls = {e["interface"]: e["url"] for e in by_type["compute"]["Endpoints"]}
        self.assertEqual(urls, {i: BASE + "/v2.1" for i in ("public", "internal", "admin")})
        urls = {e["interface"]: e["url"] for e in by_type["image"]["Endpoints"]}
        self.assertEqual(urls["public"], BASE + "/image")
        self.assertTrue(all(e["region"] == "RegionOne" for e in by_type["compute"]["Endpoints"]))

    def test_roles_and_implied_roles(self):
        _, tok = keystone_token("nova", "service")
        self.assertEqual({r["name"] for r in tok["roles"]} >= {"service", "admin"}, True)
        _, tok = keystone_token("demo", "demo")
        self.assertEqual({r["name"] for r in tok["roles"]}, {"member", "reader"})
        _, tok = keystone_token("demo-reader", "demo")
        self.assertEqual({r["name"] for r in tok["roles"]}, {"reader"})
        _, tok = keystone_token("admin", "admin")
        self.assertEqual({r["name"] for r in tok["roles"]}, {"admin", "member", "reader"})

    def test_version_documents_need_no_token(self):
        status, _, body = api("GET", "/v2.1/")
        self.assertEqual(status, 200, body)
        self.assertEqual(body["version"]["id"], "v2.1")

    def assert_unauthorized(self, status, headers, body):
        self.assertEqual(status, 401, body)
        self.assertIn("Keystone uri=", headers.get("WWW-Authenticate", ""))
        self.assertIn(KS, headers.get("WWW-Authenticate", ""))

    def test_missing_token_is_401(self):
        self.assert_unauthorized(*api("GET", "/v2.1/servers"))

    def test_bogus_token_is_401(self):
        self.assert_unauthorized(*api("GET", "/v2.1/servers", token="bogus-" + uuid.uuid4().hex))
        self.assert_unauthorized(*api("GET", "/v2.1/flavors", token="gAAAAAB" + "x" * 180))
        # noauth2's user:project means nothing here
        self.assert_unauthorized(*api("GET", "/v2.1/servers", token="admin:admin"))

    def test_member_on_admin_route_is_403_admin_is_200(self):
        status, _, body = api("GET", "/v2.1/os-hypervisors", token=self.tokens["demo"])
        self.assertEqual(status, 403, body)
        self.assertIn("forbidden", body)
        status, _, body = api("GET", "/v2.1/os-hypervisors", token=self.tokens["admin"])
        self.assertEqual(status, 200, body)
        self.assertIn("hypervisors", body)

    def test_reader_reads(self):
        status, _, body = api("GET", "/v2.1/servers", token=self.tokens["demo-reader"])
        self.assertEqual(status, 200, body)
        status, _, body = api("GET", "/v2.1/flavors", token=self.tokens["demo-reader"])
        self.assertEqual(status, 200, body)

    def test_openstack_server_create_list_delete(self):
        name = "ks-osc-" + uuid.uuid4().hex[:8]
        rc, server, err = osc("cnova-demo", "server", "create", "--flavor", "m1.tiny",
                              "--image", CIRROS, "--wait", name, check=False)
        if rc:
            osc_plain("cnova-demo", "server", "delete", name)
            self.fail(f"server create --wait failed: {err[-800:]}")
        self.addCleanup(osc_plain, "cnova-admin", "server", "delete", server["id"])
        self.assertEqual(server["status"], "ACTIVE")
        # the server belongs to the token's Keystone project and user
        self.assertEqual(server["project_id"], self.projects["demo"])
        _, rows, _ = osc("cnova-demo", "server", "list")
        self.assertIn((server["id"], name, "ACTIVE"), {(r["ID"], r["Name"], r["Status"]) for r in rows})
        # another project does not see it; the reader of its project does
        _, rows, _ = osc("cnova-alt-demo", "server", "list")
        self.assertNotIn(server["id"], {r["ID"] for r in rows})
        status, _, _ = api("GET", "/v2.1/servers/" + server["id"], token=self.tokens["alt_demo"])
        self.assertEqual(status, 404)
        status, _, _ = api("GET", "/v2.1/servers/" + server["id"], token=self.tokens["demo-reader"])
        self.assertEqual(status, 200)
        # the admin sees every project's
        _, rows, _ = osc("cnova-admin", "server", "list", "--all-projects")
        self.assertIn(server["id"], {r["ID"] for r in rows})
        p = osc_plain("cnova-demo", "server", "delete", "--wait", server["id"])
        self.assertEqual(p.returncode, 0, p.stderr[-800:])
        _, rows, _ = osc("cnova-demo", "server", "list")
        self.assertNotIn(server["id"], {r["ID"] for r in rows})

    def test_nova_command_through_the_catalog(self):
        p = nova("cnova-demo", "flavor-list")
        self.assertEqual(p.returncode, 0, p.stderr[-800:])
        self.assertIn("m1.tiny", p.stdout)
        name = "ks-nova-" + uuid.uuid4().hex[:8]
        p = nova("cnova-demo", "boot", "--flavor", "m1.tiny", "--image", CIRROS, "--nic", "none",
                 "--poll", name)
        self.addCleanup(nova, "cnova-demo", "delete", name)
        self.assertEqual(p.returncode, 0, p.stderr[-800:])
        p = nova("cnova-demo", "list")
        self.assertEqual(p.returncode, 0, p.stderr[-800:])
        self.assertIn(name, p.stdout)
        self.assertIn("ACTIVE", [l for l in p.stdout.splitlines() if name in l][0])
        p = nova("cnova-alt-demo", "list")
        self.assertEqual(p.returncode, 0, p.stderr[-800:])
        self.assertNotIn(name, p.stdout)
        p = nova("cnova-demo", "delete", name)
        self.assertEqual(p.returncode, 0, p.stderr[-800:])


if __name__ == "__main__":
    unittest.main()
