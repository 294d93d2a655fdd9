"""The real clients against the stack: `openstack flavor list/show/create/
set/delete` (Debian's python3-openstackclient, admin_token admin:admin for
the admin, --os-auth-type none for a member) and novaclient's flavors API
(as a library: the nova command needs Keystone)."""
import unittest, uuid

from clients import need_clients, novaclient, openstack


@need_clients
class FlavorClients(unittest.TestCase):
    def test_list_and_show(self):
        _, flavors, _ = openstack("flavor", "list", "-f", "json", admin=False)
        names = {f["Name"] for f in flavors}
        self.assertTrue({"m1.tiny", "m1.small", "m1.medium", "m1.large", "m1.xlarge"} <= names)
        _, f, _ = openstack("flavor", "show", "m1.small", "-f", "json", admin=False)
        self.assertEqual((f["id"], f["ram"], f["disk"], f["vcpus"]), ("2", 2048, 20, 1))
        _, f, _ = openstack("flavor", "show", "1", "-f", "json", version="2.61")
        self.assertEqual(f["name"], "m1.tiny")

    def test_create_set_show_delete(self):
        name = "cli-" + uuid.uuid4().hex[:8]
        _, f, _ = openstack("flavor", "create", "--ram", "1024", "--disk", "5", "--vcpus", "2",
                            "--private", "--property", "hw:cpu_policy=shared",
                            "--description", "made by the client", name, "-f", "json",
                            version="2.55")
        try:
            self.assertEqual((f["name"], f["ram"], f["disk"], f["vcpus"]), (name, 1024, 5, 2))
            self.assertFalse(f["os-flavor-access:is_public"])
            _, shown, _ = openstack("flavor", "show", f["id"], "-f", "json", version="2.61")
            self.assertEqual(shown["description"], "made by the client")
            self.assertEqual(shown["properties"], {"hw:cpu_policy": "shared"})
            _, private, _ = openstack("flavor", "list", "--private", "-f", "json")
            self.assertIn(name, {x["Name"] for x in private})
        finally:
            openstack("flavor", "delete", f["id"])
        rc, _, err = openstack("flavor", "show", f["id"], check=False)
        self.assertNotEqual(rc, 0)

    def test_member_cannot_create(self):
        rc, _, err = openstack("flavor", "create", "--ram", "64", "--vcpus", "1", "x-" + uuid.uuid4().hex[:6],
                               admin=False, check=False)
        self.assertNotEqual(rc, 0)
        self.assertIn("403", err)

    def test_novaclient_flavor_list(self):
        got = novaclient("print(json.dumps(sorted((f.id, f.name, f.ram) for f in nova.flavors.list())))")
        self.assertIn(["1", "m1.tiny", 512], got)
        got = novaclient("f = nova.flavors.get('3'); print(json.dumps([f.name, f.vcpus, f.get_keys()]))",
                         version="2.61")
        self.assertEqual(got, ["m1.medium", 2, {}])

    def test_novaclient_private_flavor_access(self):
        # (`openstack flavor set --project` resolves the project in Keystone)
        got = novaclient(
            "import uuid\n"
            "f = nova.flavors.create('nc-' + uuid.uuid4().hex[:8], 128, 1, 1, is_public=False)\n"
            "nova.flavor_access.add_tenant_access(f, 'proj-y')\n"
            "acc = [a.tenant_id for a in nova.flavor_access.list(flavor=f)]\n"
            "f.set_keys({'hw:numa_nodes': '1'})\n"
            "keys = f.get_keys()\n"
            "nova.flavor_access.remove_tenant_access(f, 'proj-y')\n"
            "left = nova.flavor_access.list(flavor=f)\n"
            "f.delete()\n"
            "print(json.dumps([acc, keys, len(left)]))", version="2.86")
        self.assertEqual(got, [["proj-y"], {"hw:numa_nodes": "1"}, 0])


if __name__ == "__main__":
    unittest.main()
