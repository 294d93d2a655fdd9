"""The real clients against the stack: `openstack limits show --absolute`
(Debian's python3-openstackclient, no Keystone) and novaclient's quotas and
quota_classes managers (what `openstack quota show/set` call for compute).
`openstack quota show` itself also asks Keystone (project lookup), Cinder
and Neutron at the same endpoint, so without them it cannot complete."""
import json, unittest, uuid

from clients import ENDPOINT, run_openstack


def openstack(*args, admin=False, version="2.1"):
    return run_openstack(*args, admin=admin, version=version)


def nova(version="2.1", token="admin:admin"):
    from keystoneauth1 import session, token_endpoint
    from novaclient import client
    s = session.Session(auth=token_endpoint.Token(ENDPOINT, token))
    return client.Client(version, session=s)


class LimitsClient(unittest.TestCase):
    def absolute(self, **kw):
        p = openstack("limits", "show", "--absolute", "-f", "json", **kw)
        self.assertEqual(p.returncode, 0, p.stderr)
        return {row["Name"]: row["Value"] for row in json.loads(p.stdout)}

    def test_absolute_as_member(self):
        a = self.absolute()
        for name, value in (("maxTotalInstances", 10), ("maxTotalCores", 20), ("maxTotalRAMSize", 51200),
                            ("maxTotalKeypairs", 100), ("maxServerGroups", 10),
                            ("maxServerGroupMembers", 10), ("maxImageMeta", 128),
                            ("totalInstancesUsed", 0)):
            self.assertEqual(a[name], value, name)

    def test_absolute_latest_as_admin(self):
        # (the CLI merges in the "volume" limits, read from the same endpoint
        # without a microversion, so older names show up too)
        a = self.absolute(admin=True, version="2.57")
        self.assertEqual((a["maxServerMeta"], a["maxTotalKeypairs"], a["totalServerGroupsUsed"]),
                         (128, 100, 0))


class NovaclientQuotas(unittest.TestCase):
    def test_show_set_defaults_delete(self):
        project = "cli-" + uuid.uuid4().hex[:8]
        c = nova("2.57")
        q = c.quotas.get(project)
        self.assertEqual((q.id, q.instances, q.key_pairs), (project, 10, 100))
        self.assertFalse(hasattr(q, "injected_files"))
        c.quotas.update(project, cores=7, force=True)
        self.assertEqual(c.quotas.get(project).cores, 7)
        c.quotas.update(project, user_id="u1", cores=3)
        self.assertEqual(c.quotas.get(project, user_id="u1").cores, 3)
        detail = c.quotas.get(project, detail=True)
        self.assertEqual(detail.cores, {"in_use": 0, "limit": 7, "reserved": 0})
        self.assertEqual(c.quotas.defaults(project).cores, 20)
        c.quotas.delete(project)
        self.assertEqual(c.quotas.get(project).cores, 20)

    def test_member_sees_own_project_only(self):
        project = "cli-" + uuid.uuid4().hex[:8]
        from novaclient import exceptions
        c = nova(token=f"someone:{project}")
        self.assertEqual(c.quotas.get(project).instances, 10)
        with self.assertRaises(exceptions.Forbidden):
            c.quotas.get("another-project")

    def test_quota_classes(self):
        cls = "cli" + uuid.uuid4().hex[:8]
        c = nova("2.50")
        self.assertEqual(c.quota_classes.get("default").server_groups, 10)
        c.quota_classes.update(cls, instances=50)
        got = c.quota_classes.get(cls)
        self.assertEqual((got.id, got.instances, got.cores), (cls, 50, 20))


if __name__ == "__main__":
    unittest.main()
