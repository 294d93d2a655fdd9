"""The real clients against /servers: `openstack server create --wait`,
list, show, set, delete (Debian's python3-openstackclient; admin via
admin_token, members via --os-auth-type none) and novaclient's servers API
as a library. Booting to ACTIVE needs the build pipeline; when it does
not finish a build the boot tests skip and say so."""
import unittest, uuid

from clients import need_clients, novaclient, openstack

CIRROS = "80292edd-18c0-4446-9fa4-994b39a2dc15"  # seeded by 007_images_seed.sql


@need_clients
class ServerClients(unittest.TestCase):
    def boot(self, name, admin=True):
        rc, out, err = openstack("server", "create", "--flavor", "m1.tiny", "--image", CIRROS,
                                 "--wait", name, "-f", "json", admin=admin, check=False)
        if rc:
            # clean up whatever was made, then decide: API failure or pipeline?
            openstack("server", "delete", name, admin=admin, check=False)
            if "Error creating server" in err or "ERROR" in err:
                self.skipTest(f"the build pipeline did not bring {name} to ACTIVE: {err[-300:]}")
            self.fail(f"server create failed: {err[-800:]}")
        self.addCleanup(openstack, "server", "delete", out["id"], check=False)
        return out

    def test_create_wait_list_show_delete(self):
        name = "cli-" + uuid.uuid4().hex[:8]
        server = self.boot(name)
        self.assertEqual(server["status"], "ACTIVE")
        self.assertEqual(server["flavor"], "m1.tiny (1)")
        self.assertTrue(server["adminPass"])
        _, rows, _ = openstack("server", "list", "-f", "json")
        self.assertIn((server["id"], name, "ACTIVE"), {(r["ID"], r["Name"], r["Status"]) for r in rows})
        _, rows, _ = openstack("server", "list", "--long", "-f", "json", version="2.92")
        self.assertIn(server["id"], {r["ID"] for r in rows})
        _, shown, _ = openstack("server", "show", name, "-f", "json", version="2.79")
        self.assertEqual(shown["id"], server["id"])
        self.assertEqual(shown["OS-EXT-STS:vm_state"], "active")
        openstack("server", "set", "--name", name + "-x", name)
        _, shown, _ = openstack("server", "show", server["id"], "-f", "json")
        self.assertEqual(shown["name"], name + "-x")
        openstack("server", "delete", "--wait", server["id"])
        _, rows, _ = openstack("server", "list", "-f", "json")
        self.assertNotIn(server["id"], {r["ID"] for r in rows})

    def test_member_create_and_errors(self):
        name = "cli-m-" + uuid.uuid4().hex[:8]
        server = self.boot(name, admin=False)
        rc, _, err = openstack("server", "show", server["id"], "-f", "json", admin=True,
                               check=False)
        self.assertEqual(rc, 0, err)  # the admin sees every project's servers
        openstack("server", "delete", "--wait", server["id"], admin=False)
        rc, _, err = openstack("server", "show", server["id"], admin=False, check=False)
        self.assertNotEqual(rc, 0)
        self.assertIn("No server with a name or ID", err)

    def test_create_with_unknown_flavor_fails(self):
        rc, _, err = openstack("server", "create", "--flavor", "no-such-flavor", "--image",
                               CIRROS, "x", check=False)
        self.assertNotEqual(rc, 0)

    def test_novaclient_servers(self):
        got = novaclient(
            "import time, uuid\n"
            "name = 'nc-' + uuid.uuid4().hex[:8]\n"
            f"s = nova.servers.create(name, {CIRROS!r}, '1', meta={{'k': 'v'}})\n"
            "for _ in range(60):\n"
            "    s = nova.servers.get(s.id)\n"
            "    if s.status != 'BUILD': break\n"
            "    time.sleep(1)\n"
            "listed = [x.id for x in nova.servers.list(search_opts={'name': name})]\n"
            "out = [s.status, s.name == name, s.metadata, listed == [s.id],\n"
            "       s.flavor['id'], s.image['id']]\n"
            "nova.servers.delete(s)\n"
            "print(json.dumps(out))")
        if got[0] != "ACTIVE":
            self.skipTest(f"the build pipeline left the server in {got[0]}")
        self.assertEqual(got, ["ACTIVE", True, {"k": "v"}, True, "1", CIRROS])

    def test_novaclient_microversion_fields(self):
        got = novaclient(
            "import uuid\n"
            "name = 'nc-' + uuid.uuid4().hex[:8]\n"
            f"s = nova.servers.create(name, {CIRROS!r}, '1', nics='none', tags=['x'],\n"
            "                        description='d')\n"
            "s = nova.servers.get(s.id)\n"
            "out = [s.description, s.tags, sorted(s.flavor), s.locked]\n"
            "nova.servers.delete(s)\n"
            "print(json.dumps(out))", version="2.73")
        self.assertEqual(got[0:2], ["d", ["x"]])
        self.assertEqual(got[2], ["disk", "ephemeral", "extra_specs", "original_name", "ram",
                                  "swap", "vcpus"])
        self.assertFalse(got[3])


if __name__ == "__main__":
    unittest.main()
