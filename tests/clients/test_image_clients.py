"""The openstack command against the image service's write API: `image
create --file` uploads a qcow2 made by qemu-img (openstacksdk: POST
/v2/images, PUT .../file, checksum verified), `image save` downloads it
byte for byte, `image set`/`show`/`delete`. The image endpoint is the
stack's /image (keystoneauth's version discovery reads Glance's version
document there); with --os-auth-type none that endpoint is given with
--os-endpoint, as the compute endpoint is for compute commands."""
import hashlib, json, os, subprocess, tempfile, unittest, uuid

from clients import BASE, OPENSTACK, need_clients

IMAGE_ENDPOINT = BASE + "/image"


def image_cli(*args, admin=False, check=True):
    """Runs `openstack` with the image endpoint; (returncode, stdout, stderr)."""
    auth = (["--os-auth-type", "admin_token", "--os-token", "admin:admin"] if admin
            else ["--os-auth-type", "none"])
    p = subprocess.run([OPENSTACK, *auth, "--os-endpoint", IMAGE_ENDPOINT, *args],
                       capture_output=True, text=True, timeout=180,
                       env={k: v for k, v in os.environ.items() if not k.startswith("OS_")})
    if check and p.returncode:
        raise AssertionError(f"{' '.join(args)} failed ({p.returncode}): {p.stderr[-800:]}")
    return p.returncode, p.stdout, p.stderr


@need_clients
class ImageClients(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()
        self.name = "cli-img-" + uuid.uuid4().hex[:8]

    def tearDown(self):
        image_cli("image", "delete", self.name, admin=True, check=False)
        self.dir.cleanup()

    def test_create_save_round_trip(self):
        # a qcow2 holding 3 MiB of random data (so more than a header), 200 MiB virtual
        raw, src = os.path.join(self.dir.name, "disk.raw"), os.path.join(self.dir.name, "disk.qcow2")
        with open(raw, "wb") as f:
            f.write(os.urandom(3 * 1024 * 1024))
        for cmd in (["convert", "-f", "raw", "-O", "qcow2", raw, src],
                    ["resize", "-f", "qcow2", src, "200M"]):
            subprocess.run(["qemu-img", *cmd], check=True, capture_output=True)
        with open(src, "rb") as f:
            data = f.read()
        _, out, _ = image_cli("image", "create", "--file", src, "--disk-format", "qcow2",
                              "--container-format", "bare", "--property", "os_distro=cirros",
                              self.name, "-f", "json")
        created = json.loads(out)
        self.assertEqual(created["name"], self.name)
        self.assertGreater(len(data), 3 * 1024 * 1024)
        _, out, _ = image_cli("image", "show", self.name, "-f", "json")
        img = json.loads(out)
        self.assertEqual((img["status"], img["size"], img["disk_format"]),
                         ("active", len(data), "qcow2"))
        self.assertEqual(img["checksum"], hashlib.md5(data).hexdigest())
        self.assertEqual(img["virtual_size"], 200 * 1024 * 1024)
        self.assertEqual(img["properties"]["os_distro"], "cirros")
        dst = os.path.join(self.dir.name, "saved.qcow2")
        image_cli("image", "save", "--file", dst, self.name)
        with open(dst, "rb") as f:
            self.assertEqual(f.read(), data)
        image_cli("image", "set", "--property", "hw_disk_bus=virtio", "--min-ram", "256",
                  self.name)
        _, out, _ = image_cli("image", "show", self.name, "-f", "json")
        img = json.loads(out)
        self.assertEqual((img["min_ram"], img["properties"]["hw_disk_bus"]), (256, "virtio"))
        _, out, _ = image_cli("image", "list", "-f", "json")
        self.assertIn(self.name, {i["Name"] for i in json.loads(out)})
        image_cli("image", "delete", self.name)
        rc, _, _ = image_cli("image", "show", self.name, check=False)
        self.assertNotEqual(rc, 0)

    def test_wrong_format_is_refused(self):
        src = os.path.join(self.dir.name, "disk.raw")
        with open(src, "wb") as f:
            f.write(os.urandom(100000))
        rc, _, err = image_cli("image", "create", "--file", src, "--disk-format", "qcow2",
                               "--container-format", "bare", self.name, check=False)
        self.assertNotEqual(rc, 0)
        self.assertIn("400", err)
