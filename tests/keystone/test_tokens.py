"""Token validation in Keystone mode (fcgi-api/keystone.c), against the
stack's real Keystone: 401 with WWW-Authenticate for a missing, refused,
truncated, forged or oversized token; 403 for a member on an admin route;
each token asked about once per cache period (counted in Keystone's own
access log); a Keystone outage answers 503, never 401, while tokens already
validated keep working; X-Service-Token checked too."""
import json, os, subprocess, sys, time, unittest, urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "api"))
from common import REPO, RUN, request  # noqa: E402

KS = "http://127.0.0.1:%s" % os.environ.get("CNOVA_KEYSTONE_PORT", "15000")
PASSWORD = os.environ.get("CNOVA_KEYSTONE_PASSWORD", "secret")
UWSGI_LOG = os.path.join(RUN, "keystone", "uwsgi.log")


def token(user, project):
    body = {"auth": {"identity": {"methods": ["password"], "password": {"user": {
        "name": user, "domain": {"id": "default"}, "password": PASSWORD}}},
        "scope": {"project": {"name": project, "domain": {"id": "default"}}}}}
    req = urllib.request.Request(KS + "/v3/auth/tokens?nocatalog", data=json.dumps(body).encode(),
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as r:
        return r.headers["X-Subject-Token"]


def validations():
    """GET /v3/auth/tokens seen by Keystone so far."""
    with open(UWSGI_LOG, errors="replace") as f:
        return sum(1 for line in f if "GET /v3/auth/tokens" in line)


def asked(fn):
    """How many validations Keystone served while fn ran."""
    before = validations()
    fn()
    time.sleep(0.2)
    return validations() - before


class TokenTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.demo = token("demo", "demo")

    def assert_401(self, r):
        self.assertEqual(r.status, 401, r)
        self.assertEqual(r.header("WWW-Authenticate"), 'Keystone uri="%s"' % KS)
        self.assertEqual(r.json["unauthorized"]["code"], 401)

    def test_valid_token_cached(self):
        t = token("demo", "demo")
        n = asked(lambda: [self.assertEqual(request("GET", "/v2.1/flavors/detail", token=t).status, 200)
                           for _ in range(5)])
        self.assertEqual(n, 1, "a valid token is validated once per cache period")

    def test_missing_and_refused(self):
        self.assert_401(request("GET", "/v2.1/servers", token=None))
        self.assert_401(request("GET", "/v2.1/servers", token=""))
        forged = "gAAAAAB" + "x" * 176
        truncated = self.demo[:-10]
        for bad in (forged, truncated):
            n = asked(lambda: [self.assert_401(request("GET", "/v2.1/servers", token=bad)) for _ in range(4)])
            self.assertEqual(n, 1, "a refused token reaches Keystone once")

    def test_never_asked(self):
        """Tokens no Keystone could have issued are refused here."""
        oversized = "a" * 8200
        spaced = self.demo[:20] + " " + self.demo[20:]
        def go():
            for bad in (oversized, spaced):
                r = request("GET", "/v2.1/servers", token=bad)
                self.assertIn(r.status, (400, 401), r)  # nginx may refuse a huge header first
        self.assertEqual(asked(go), 0)

    def test_member_on_admin_route(self):
        r = request("GET", "/v2.1/os-hypervisors", token=self.demo)
        self.assertEqual(r.status, 403, r)
        self.assertEqual(r.json["forbidden"]["message"],
                         "Policy doesn't allow os_compute_api:os-hypervisors:list to be performed.")
        admin = token("admin", "admin")
        self.assertEqual(request("GET", "/v2.1/os-hypervisors", token=admin).status, 200)

    def test_context_from_token(self):
        """The server belongs to the token's project and user (ids, not names)."""
        r = request("GET", "/v2.1/limits", token=self.demo)
        self.assertEqual(r.status, 200, r)
        r = request("POST", "/v2.1/os-keypairs", token=self.demo, version="2.92",
                    body={"keypair": {"name": "kt-%d" % os.getpid(), "public_key":
                          "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBXs8Hbj0dnSGSTIPYvxyOd0pWMbtW0vW4W4AWdt+uaW t"}})
        self.assertEqual(r.status, 201, r)
        self.assertRegex(r.json["keypair"]["user_id"], "^[0-9a-f]{32}$")
        request("DELETE", "/v2.1/os-keypairs/kt-%d" % os.getpid(), token=self.demo)

    def test_service_token(self):
        nova = token("nova", "service")
        ok = request("GET", "/v2.1/flavors", token=self.demo, headers={"X-Service-Token": nova})
        self.assertEqual(ok.status, 200, ok)
        self.assert_401(request("GET", "/v2.1/flavors", token=self.demo,
                                headers={"X-Service-Token": "forged-service-token"}))

    def test_zz_keystone_outage(self):
        """Keystone down: 503 for a token not yet validated, 200 for one
        that is; back up: the new token works (no API restart)."""
        known = token("demo", "demo")
        self.assertEqual(request("GET", "/v2.1/flavors", token=known).status, 200)
        fresh = token("demo", "demo")
        env = dict(os.environ)
        stack = os.path.join(REPO, "scripts", "stack.sh")
        with open(os.path.join(RUN, "keystone", "uwsgi.pid")) as f:
            pid = int(f.read())
        os.kill(pid, 2)  # SIGINT: uwsgi stops (TERM would reload)
        for _ in range(100):
            try:
                os.kill(pid, 0)
                time.sleep(0.1)
            except ProcessLookupError:
                break
        try:
            r = request("GET", "/v2.1/flavors", token=fresh)
            self.assertEqual(r.status, 503, r)
            self.assertEqual(r.json["serviceUnavailable"]["code"], 503)
            self.assertTrue(r.header("Retry-After"))
            self.assertEqual(request("GET", "/v2.1/flavors", token=known).status, 200)
        finally:
            subprocess.run([stack, "start"], env=env, check=True, stdout=subprocess.DEVNULL)
        self.assertEqual(request("GET", "/v2.1/flavors", token=fresh).status, 200)


if __name__ == "__main__":
    unittest.main()
