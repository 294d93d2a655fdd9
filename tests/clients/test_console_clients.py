"""The real client against remote consoles: `openstack console url show`
(Debian's python3-openstackclient, which posts /servers/{id}/remote-consoles
through openstacksdk) on a server booted on libvirt's test driver: the
noVNC URL with its token, which the admin-only os-console-auth-tokens API
then resolves, and Nova's 400 for a console type the host has not enabled."""
import json, re, unittest, urllib.request, uuid

from clients import ENDPOINT, need_clients, openstack

CIRROS = "80292edd-18c0-4446-9fa4-994b39a2dc15"  # seeded by 007_images_seed.sql
def token_show(token):
    """GET /os-console-auth-tokens/{token} as admin at 2.31: (status, body)."""
    req = urllib.request.Request(f"{ENDPOINT}/os-console-auth-tokens/{token}", headers={
        "X-Auth-Token": "admin:admin", "OpenStack-API-Version": "compute 2.31"})
    with urllib.request.urlopen(req, timeout=30) as r:
        return r.status, json.loads(r.read())


URL = re.compile(r"^http://127\.0\.0\.1:6080/vnc_auto\.html\?path=%3Ftoken%3D([0-9a-f-]{36})$")


@need_clients
class ConsoleClients(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.name = "cli-rc-" + uuid.uuid4().hex[:8]
        rc, out, err = openstack("server", "create", "--flavor", "m1.tiny", "--image", CIRROS,
                                 "--wait", cls.name, "-f", "json", check=False)
        if rc:
            openstack("server", "delete", cls.name, check=False)
            raise unittest.SkipTest(f"the build pipeline did not bring {cls.name} to ACTIVE: "
                                    f"{err[-300:]}")
        cls.sid = out["id"]

    @classmethod
    def tearDownClass(cls):
        openstack("server", "delete", "--wait", cls.sid, check=False)

    def test_console_url_show_novnc(self):
        for args in ((), ("--novnc",)):
            _, out, _ = openstack("console", "url", "show", *args, self.name, "-f", "json",
                                  version="2.6")
            self.assertEqual((out["protocol"], out["type"]), ("vnc", "novnc"))
            m = URL.match(out["url"])
            self.assertTrue(m, out["url"])
            # the token the client got is one the proxy can resolve
            status, body = token_show(m.group(1))
            self.assertEqual(status, 200, body)
            self.assertEqual(body["console"]["instance_uuid"], self.sid)
            self.assertEqual(body["console"]["host"], "127.0.0.1")

    def test_console_url_show_as_member_of_another_project(self):
        rc, _, err = openstack("console", "url", "show", self.sid, admin=False, check=False)
        self.assertNotEqual(rc, 0)
        self.assertIn(f"No Server found for {self.sid}", err)  # the client looks it up first

    def test_console_url_show_disabled_types(self):
        for flag, msg in (("--spice", "Unavailable console type spice-html5."),
                          ("--serial", "Unavailable console type serial.")):
            rc, _, err = openstack("console", "url", "show", flag, self.sid, check=False,
                                   version="2.6")
            self.assertNotEqual(rc, 0)
            self.assertIn(msg, err)


if __name__ == "__main__":
    unittest.main()
