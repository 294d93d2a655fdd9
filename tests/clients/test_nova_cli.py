"""The nova command itself (Debian's python3-novaclient shell, not only the
library): flavor-list, keypair-add/list/delete, boot --poll with the image
given by id and by name (novaclient looks images up in the image service:
cnova's own read API over its image registry), list, show, delete."""
import os, time, unittest, uuid

from clients import NOVA, nova_cli, table

CIRROS = "80292edd-18c0-4446-9fa4-994b39a2dc15"  # seeded by 007_images_seed.sql
CIRROS_NAME = "cirros-0.6.2-x86_64-disk"


@unittest.skipUnless(os.path.exists(NOVA), "python3-novaclient is not installed")
class NovaCli(unittest.TestCase):
    def nova(self, *args, **kw):
        rc, out, err = nova_cli(*args, **kw)
        self.assertEqual(rc, 0, f"nova {' '.join(args)}: {err[-800:]}")
        return out

    def test_flavor_list(self):
        rows = {r["Name"]: r for r in table(self.nova("flavor-list"))}
        self.assertEqual((rows["m1.tiny"]["ID"], rows["m1.tiny"]["Memory_MiB"],
                          rows["m1.tiny"]["VCPUs"]), ("1", "512", "1"))
        self.assertIn("m1.xlarge", rows)

    def test_keypair_add_list_delete(self):
        name = "nkp-" + uuid.uuid4().hex[:8]
        token = f"u-{name}:p-{name}"
        out = self.nova("keypair-add", name, token=token, version="2.2")
        self.assertIn("PRIVATE KEY", out)
        rows = {r["Name"]: r for r in table(self.nova("keypair-list", token=token, version="2.2"))}
        self.assertEqual(rows[name]["Type"], "ssh")
        rc, _, err = nova_cli("keypair-add", name, token=token, version="2.2")
        self.assertNotEqual(rc, 0)
        self.assertIn("already exists", err)
        self.nova("keypair-delete", name, token=token, version="2.2")
        self.assertNotIn(name, {r["Name"] for r in table(self.nova("keypair-list", token=token))})

    def boot(self, name, image, *extra, token):
        rc, out, err = nova_cli("boot", "--flavor", "m1.tiny", "--image", image, *extra, "--poll",
                                name, token=token, version="2.37")
        rows = {r["Property"]: r["Value"] for r in table(out)}
        if rows.get("id"):
            self.addCleanup(nova_cli, "delete", rows["id"], token=token)
        self.assertEqual(rc, 0, err[-800:])
        return rows["id"]

    def test_boot_by_id_and_by_name_list_show_delete(self):
        tag = uuid.uuid4().hex[:8]
        token = f"u-{tag}:p-{tag}"
        first = self.boot("nb-id-" + tag, CIRROS, "--nic", "none", token=token)
        second = self.boot("nb-name-" + tag, CIRROS_NAME, "--nic", "auto", token=token)
        listed = {r["ID"]: r for r in table(self.nova("list", token=token))}
        self.assertEqual(listed[first]["Status"], "ACTIVE")
        self.assertEqual(listed[second]["Status"], "ACTIVE")
        self.assertIn("private=", listed[second]["Networks"])
        shown = {r["Property"]: r["Value"] for r in table(self.nova("show", first, token=token))}
        self.assertEqual(shown["status"], "ACTIVE")
        self.assertEqual(shown["image"], f"{CIRROS_NAME} ({CIRROS})")
        self.assertEqual(shown["flavor"], "m1.tiny (1)")
        rc, _, err = nova_cli("boot", "--flavor", "m1.tiny", "--image", "no-such-image",
                              "--nic", "none", "x-" + tag, token=token, version="2.37")
        self.assertNotEqual(rc, 0)
        self.assertIn("No Image matching no-such-image", err)
        self.nova("delete", first, second, token=token)
        for _ in range(100):
            if not {first, second} & {r["ID"] for r in table(self.nova("list", token=token))}:
                break
            time.sleep(0.2)
        else:
            self.fail("the servers were not deleted")
        rc, _, err = nova_cli("show", first, token=token)
        self.assertNotEqual(rc, 0)


if __name__ == "__main__":
    unittest.main()
