"""The real clients against the stack's key pairs: `openstack keypair
create/list/show/delete` (generated and imported keys, fingerprints checked
with ssh-keygen) and novaclient's keypairs.create/get/list/delete, the
library behind `nova keypair-add`."""
import os, subprocess, tempfile, unittest, uuid

from clients import need_clients, novaclient, openstack


def md5(pub_path):
    out = subprocess.run(["ssh-keygen", "-l", "-E", "md5", "-f", pub_path], capture_output=True,
                         text=True, check=True).stdout
    return out.split()[1].removeprefix("MD5:")


@need_clients
class OpenstackKeypair(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.addCleanup(self.tmp.cleanup)

    def test_generate_list_delete(self):
        name = "kpc-" + uuid.uuid4().hex[:8]
        rc, private, _ = openstack("keypair", "create", name, admin=False)
        self.assertTrue(private.startswith("-----BEGIN RSA PRIVATE KEY-----"), private)
        # the private key works with OpenSSH, and its public half has the listed fingerprint
        key = os.path.join(self.tmp.name, "k")
        with open(key, "w") as f:
            f.write(private)
        os.chmod(key, 0o600)
        with open(key + ".pub", "w") as f:
            f.write(subprocess.run(["ssh-keygen", "-y", "-f", key], capture_output=True,
                                   text=True, check=True).stdout)
        _, rows, _ = openstack("keypair", "list", "-f", "json", admin=False)
        fps = {r["Name"]: r["Fingerprint"] for r in rows}
        self.assertEqual(fps[name], md5(key + ".pub"))
        openstack("keypair", "delete", name, admin=False)
        _, rows, _ = openstack("keypair", "list", "-f", "json", admin=False)
        self.assertNotIn(name, {r["Name"] for r in rows})
        rc, _, err = openstack("keypair", "delete", name, admin=False, check=False)
        self.assertNotEqual(rc, 0)
        self.assertIn(f"Keypair {name} not found for user", err)

    def test_import_at_292(self):
        name = "me.and@kpc-" + uuid.uuid4().hex[:8]
        key = os.path.join(self.tmp.name, "k")
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", key], check=True)
        _, kp, _ = openstack("keypair", "create", "--public-key", key + ".pub", name, "-f", "json",
                             admin=False, version="2.92")
        self.assertEqual((kp["name"], kp["type"], kp["fingerprint"]), (name, "ssh", md5(key + ".pub")))
        _, shown, _ = openstack("keypair", "show", name, "-f", "json", admin=False, version="2.92")
        self.assertEqual(shown["fingerprint"], kp["fingerprint"])
        rc, _, err = openstack("keypair", "create", "--public-key", key + ".pub", name,
                               admin=False, version="2.92", check=False)
        self.assertNotEqual(rc, 0)
        self.assertIn(f"Key pair '{name}' already exists.", err)
        openstack("keypair", "delete", name, admin=False, version="2.92")


class NovaclientKeypair(unittest.TestCase):
    def test_keypair_add_get_list_delete(self):
        name = "kpn-" + uuid.uuid4().hex[:8]
        user = "kpn" + uuid.uuid4().hex[:8]
        got = novaclient(
            f"kp = nova.keypairs.create({name!r})\n"
            f"same = nova.keypairs.get({name!r})\n"
            "names = [k.name for k in nova.keypairs.list()]\n"
            "print(json.dumps({'private': kp.private_key, 'fp': kp.fingerprint,\n"
            "                  'type': kp.type, 'same_fp': same.fingerprint, 'names': names}))\n"
            f"nova.keypairs.delete({name!r})\n", version="2.2", token=user)
        self.assertTrue(got["private"].startswith("-----BEGIN RSA PRIVATE KEY-----"))
        self.assertEqual((got["type"], got["same_fp"]), ("ssh", got["fp"]))
        self.assertIn(name, got["names"])
        # an admin adds one for another user (2.10), then lists that user's
        got = novaclient(
            f"kp = nova.keypairs.create({name!r}, user_id={user!r})\n"
            f"names = [k.name for k in nova.keypairs.list(user_id={user!r})]\n"
            f"nova.keypairs.delete({name!r}, user_id={user!r})\n"
            f"left = [k.name for k in nova.keypairs.list(user_id={user!r})]\n"
            "print(json.dumps({'user': kp.user_id, 'names': names, 'left': left}))\n",
            version="2.10")
        self.assertEqual(got, {"user": user, "names": [name], "left": []})


if __name__ == "__main__":
    unittest.main()
