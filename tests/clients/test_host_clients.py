"""`openstack host list/show/set` (os-hosts, at 2.1) with Debian's
python3-openstackclient, as the admin (admin_token admin:admin)."""
import json, os, unittest

from clients import run_openstack


def ok(testcase, p):
    testcase.assertEqual(p.returncode, 0, p.stderr)
    return json.loads(p.stdout) if p.stdout.strip() else None


class HostClient(unittest.TestCase):
    hosts = os.environ.get("CNOVA_COMPUTE_HOSTS", "compute1").split()

    def test_list_and_show(self):
        rows = ok(self, run_openstack("host", "list", "-f", "json"))
        pairs = {(r["Host Name"], r["Service"], r["Zone"]) for r in rows}
        for h in self.hosts:
            self.assertIn((h, "compute", "nova"), pairs)
        rows = ok(self, run_openstack("host", "show", self.hosts[0], "-f", "json"))
        self.assertEqual([r["Project"] for r in rows[:3]], ["(total)", "(used_now)", "(used_max)"])
        self.assertTrue(all(r["Host"] == self.hosts[0] for r in rows))
        p = run_openstack("host", "show", "no-such-host")
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("HTTP 404", p.stderr)

    def test_set_disable_enable(self):
        h = self.hosts[-1]
        try:
            self.assertEqual(run_openstack("host", "set", "--disable", h).returncode, 0)
        finally:
            p = run_openstack("host", "set", "--enable", h)
        self.assertEqual(p.returncode, 0, p.stderr)
        p = run_openstack("host", "set", "--enable-maintenance", h)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("HTTP 501", p.stderr)


if __name__ == "__main__":
    unittest.main()
