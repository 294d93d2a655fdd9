"""The real clients against the stack: `openstack availability zone list`
and `openstack server group create/list/show/delete` (Debian's
python3-openstackclient, no Keystone: --os-auth-type none for a member,
admin_token with admin:admin for the admin)."""
import json, os, unittest, uuid

from clients import run_openstack


def openstack(*args, admin=False, version="2.1"):
    return run_openstack(*args, admin=admin, version=version)


def ok(testcase, p):
    testcase.assertEqual(p.returncode, 0, p.stderr)
    return json.loads(p.stdout) if p.stdout.strip() else None


class AvailabilityZoneClient(unittest.TestCase):
    def test_zone_list(self):
        zones = ok(self, openstack("availability", "zone", "list", "--compute", "-f", "json"))
        self.assertIn({"Zone Name": "nova", "Zone Status": "available"}, zones)

    def test_zone_list_long_as_admin(self):
        rows = ok(self, openstack("availability", "zone", "list", "--compute", "--long",
                                  "-f", "json", admin=True))
        hosts = {(r["Zone Name"], r["Host Name"], r["Service Name"]) for r in rows}
        for h in os.environ.get("CNOVA_COMPUTE_HOSTS", "compute1").split():
            self.assertIn(("nova", h, "nova-compute"), hosts)
        # the conductor and scheduler run on this machine's host name
        self.assertIn(("internal", "nova-conductor"), {(z, b) for z, _, b in hosts})


class ServerGroupClient(unittest.TestCase):
    def roundtrip(self, version, policy, extra=()):
        name = "cli-" + uuid.uuid4().hex[:8]
        g = ok(self, openstack("server", "group", "create", "--policy", policy, *extra, name,
                               "-f", "json", version=version))
        self.assertEqual(g["name"], name)
        self.assertIn(policy, json.dumps(g))
        listed = ok(self, openstack("server", "group", "list", "-f", "json", version=version))
        self.assertIn(g["id"], [x["ID"] for x in listed])
        shown = ok(self, openstack("server", "group", "show", name, "-f", "json", version=version))
        self.assertEqual(shown["id"], g["id"])
        ok(self, openstack("server", "group", "delete", g["id"], version=version))
        listed = ok(self, openstack("server", "group", "list", "-f", "json", version=version))
        self.assertNotIn(g["id"], [x["ID"] for x in listed])
        return g

    def test_create_list_delete_2_1(self):
        self.roundtrip("2.1", "affinity")

    def test_soft_policy_2_15(self):
        self.roundtrip("2.15", "soft-anti-affinity")

    def test_rules_2_64(self):
        g = self.roundtrip("2.64", "anti-affinity", ("--rule", "max_server_per_host=2"))
        self.assertIn("max_server_per_host", json.dumps(g))

    def test_all_projects_as_admin(self):
        g = ok(self, openstack("server", "group", "create", "--policy", "affinity",
                               "cli-" + uuid.uuid4().hex[:8], "-f", "json"))
        try:
            rows = ok(self, openstack("server", "group", "list", "--all-projects", "--long",
                                      "-f", "json", admin=True))
            self.assertIn(g["id"], [x["ID"] for x in rows])
        finally:
            ok(self, openstack("server", "group", "delete", g["id"]))

    def test_delete_missing_fails(self):
        p = openstack("server", "group", "delete", str(uuid.uuid4()))
        self.assertNotEqual(p.returncode, 0)


if __name__ == "__main__":
    unittest.main()
