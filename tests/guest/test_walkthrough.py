"""test_walkthrough.py: the seed's walkthrough on real guests, as a new user
runs it against a stack started with CNOVA_VIRT=qemu (skipped, with the
reason, on simulated hosts):

    nova keypair-add test > test.pem
    nova boot --image IMAGE --flavor 1 --key-name test --user-data script.sh ...
    nova console-log TestInstance1      # the guest's boot and script output
    ip netns exec qdhcp-NETWORK ssh -i test.pem root@IP hostname

with scripts/guest-image.sh's tiny guest, which the stack registers in the
image service as kernel (aki), ramdisk (ari) and machine (ami) images. One guest
reads its config drive, one the metadata service (through the proxy in
the network's namespace); a snapshot's bytes land in the image service and
boot; an interface attached gets its lease and loses it when detached;
security group rules open and close the guests' taps (nftables); rescue
boots the rescue disk with the guest's own second, unrescue its own again;
a resize onto the same host keeps what the guest wrote and grows its disk;
a qcow2 cloud image uploaded with `openstack image create` boots from its
own disk, and from a volume made of it; a volume attaches to a running guest
and stays attached through a resize; a rebuild keeps the config drive;
deleting the servers leaves no domain, file, lease, namespace or tap.
Prints the seconds from POST to the console banner and to SSH-ready."""
import os, re, subprocess, sys, tempfile, time, unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "api"))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "clients"))
from common import REPO, RUN, psql, request  # noqa: E402
from clients import BASE, OPENSTACK, nova_cli  # noqa: E402

PROJECT = "walk"
TOKEN = "walker:" + PROJECT
NET = psql("SELECT id FROM networks WHERE label = 'private'")  # the shared one
NS = "qdhcp-" + NET
BANNER = re.compile(r"cnova-guest (\S+) up in ([0-9.]+) s \(([0-9.]+)/")
SLOW = 240  # seconds: TCG on two shared cores


def nova(*args, version="2.1"):
    rc, out, err = nova_cli(*args, token=TOKEN, version=version, project=PROJECT)
    assert rc == 0, (args, out, err)
    return out


def ssh(key, ip, *cmd):
    return subprocess.run(
        ["ip", "netns", "exec", NS, "ssh", "-i", key, "-o", "StrictHostKeyChecking=no", "-o",
         "UserKnownHostsFile=/dev/null", "-o", "ConnectTimeout=5", "-o", "BatchMode=yes",
         f"root@{ip}", *cmd], capture_output=True, text=True, timeout=30)


class Walkthrough(unittest.TestCase):
    figures = {}

    @classmethod
    def setUpClass(cls):
        try:
            with open(os.path.join(RUN, "virt")) as f:
                virt = f.read().strip()
        except OSError:
            virt = "unknown"
        if virt != "qemu":
            raise unittest.SkipTest(f"the stack under test ({RUN}) is not on QEMU ({virt})")
        # the stack registered scripts/guest-image.sh's tiny guest (stack.sh)
        r = request("GET", "/image/v2/images?name=cnova-tiny")
        assert r.status == 200 and len(r.json["images"]) == 1, r
        cls.ami = r.json["images"][0]["id"]
        cls.kernel = r.json["images"][0]["kernel_id"]
        cls.images = []  # the ones the tests make
        cls.tmp = tempfile.mkdtemp(prefix="walk-")
        cls.key = os.path.join(cls.tmp, "test.pem")
        # before 2.92 the API makes the key pair (as the seed's walkthrough)
        with open(cls.key, "w") as f:
            f.write(nova("keypair-add", "test", version="2.91"))
        os.chmod(cls.key, 0o600)
        cls.script = os.path.join(cls.tmp, "script.sh")
        with open(cls.script, "w") as f:
            f.write("#!/bin/sh\necho hello-from-user-data $(hostname)\n")
        cls.servers = {}

    @classmethod
    def tearDownClass(cls):
        for sid in cls.servers.values():
            request("DELETE", f"/v2.1/servers/{sid}", token=TOKEN)
        request("DELETE", "/v2.1/os-keypairs/test", token=TOKEN)
        for iid in cls.images:
            request("DELETE", f"/image/v2/images/{iid}")
        for name in ("test.pem", "script.sh"):
            try:
                os.unlink(os.path.join(cls.tmp, name))
            except OSError:
                pass
        os.rmdir(cls.tmp)
        if cls.figures:
            print("\nreal guests (TCG):", ", ".join(f"{k} {v:.1f} s" for k, v in
                                                   cls.figures.items()), file=sys.stderr)

    def boot(self, name, image, *extra):
        t0 = time.time()
        out = nova("boot", *(["--image", image] if image else []), "--flavor", "1", "--key-name",
                   "test", "--user-data", self.script, *extra, name)
        sid = re.search(r"\|\s+id\s+\|\s+([0-9a-f-]{36})", out).group(1)
        self.servers[name] = sid
        return sid, t0

    def banner(self, name, t0):
        """Waits for the guest's banner on its console (os-getConsoleOutput)."""
        deadline = time.time() + SLOW
        while True:
            rc, log, _ = nova_cli("console-log", name, token=TOKEN, project=PROJECT)
            m = BANNER.search(log) if rc == 0 else None
            if m:
                return log, m.group(3), time.time() - t0
            self.assertLess(time.time(), deadline, f"{name}: no banner in\n{log[-2000:]}")
            time.sleep(1)

    def ssh_ready(self, ip, t0):
        deadline = time.time() + 60
        while True:
            r = ssh(self.key, ip, "hostname")
            if r.returncode == 0:
                return r.stdout.strip(), time.time() - t0
            self.assertLess(time.time(), deadline, f"no ssh to {ip}: {r.stderr}")
            time.sleep(1)

    def test_1_config_drive_console_and_ssh(self):
        # by name, as a user would: nova looks it up in the image service
        sid, t0 = self.boot("TestInstance1", "cnova-tiny", "--config-drive", "true")
        log, ip, t_banner = self.banner("TestInstance1", t0)
        self.assertIn("cnova-guest: config drive", log)
        self.assertIn("hello-from-user-data testinstance1", log)
        # the address the IPAM gave the port is the one DHCP handed out
        r = request("GET", f"/v2.1/servers/{sid}", token=TOKEN)
        self.assertEqual(r.json["server"]["addresses"]["private"][0]["addr"], ip)
        self.assertEqual(r.json["server"]["config_drive"], "True")
        host, t_ssh = self.ssh_ready(ip, t0)
        self.assertEqual(host, "testinstance1")
        self.figures.update({"POST to banner": t_banner, "POST to SSH": t_ssh})
        # the console's tail, as Nova cuts it (the log's last line ends with
        # a newline: the last 2 "lines" are that line and "")
        rc, tail, _ = nova_cli("console-log", "--length", "2", "TestInstance1", token=TOKEN,
                               project=PROJECT)
        self.assertEqual(tail.strip().splitlines(), [log.strip().splitlines()[-1]])

    def test_2_metadata_service(self):
        sid, t0 = self.boot("Md2", self.ami)
        log, ip, _ = self.banner("Md2", t0)
        self.assertIn("cnova-guest: metadata service http://169.254.169.254", log)
        self.assertIn("hello-from-user-data md2", log)
        self.assertEqual(self.ssh_ready(ip, t0)[0], "md2")
        # from the guest itself: its own instance id, signed by the proxy
        r = ssh(self.key, ip, "echo -e 'GET /openstack/latest/meta_data.json HTTP/1.0\\r\\n\\r\\n'"
                " | nc 169.254.169.254 80")
        self.assertIn(f'"uuid": "{sid}"', r.stdout)

    def test_3_snapshot_boots(self):
        sid = self.servers["TestInstance1"]
        r = request("POST", f"/v2.1/servers/{sid}/action", {"createImage": {"name": "walk-snap"}},
                    token=TOKEN, version="2.45")
        self.assertEqual(r.status, 202, r)
        snap = r.json["image_id"]
        self.images.append(snap)
        deadline = time.time() + SLOW
        while True:
            img = request("GET", f"/image/v2/images/{snap}", token=TOKEN).json
            if img["status"] == "active":
                break
            self.assertLess(time.time(), deadline, img)
            time.sleep(1)
        # its bytes are in the image service: the guest's disk, as qcow2
        self.assertEqual(img["disk_format"], "qcow2")
        self.assertTrue(img["checksum"] and img["size"] > 0, img)
        self.assertEqual(img["virtual_size"], 1024 ** 3)  # grown to m1.tiny's root_gb
        self.assertEqual(img["kernel_id"], self.kernel)
        _, t0 = self.boot("FromSnap", snap)
        log, ip, _ = self.banner("FromSnap", t0)
        self.assertEqual(self.ssh_ready(ip, t0)[0], "fromsnap")

    def test_3b_interface_attach_detach(self):
        sid = self.servers["FromSnap"]
        r = request("POST", f"/v2.1/servers/{sid}/os-interface",
                    {"interfaceAttachment": {"net_id": NET}}, token=TOKEN)
        self.assertEqual(r.status, 200, r)
        att = r.json["interfaceAttachment"]
        hosts = os.path.join(RUN, "net", "dhcp", NET, "hosts")
        lease = f"{att['mac_addr']},{att['fixed_ips'][0]['ip_address']},fromsnap"

        def leases():
            with open(hosts) as f:
                return f.read().split()

        deadline = time.time() + SLOW
        while lease not in leases():
            self.assertLess(time.time(), deadline, f"no lease {lease}: {leases()}")
            time.sleep(0.5)
        r = request("DELETE", f"/v2.1/servers/{sid}/os-interface/{att['port_id']}", token=TOKEN)
        self.assertEqual(r.status, 202, r)
        while lease in leases():
            self.assertLess(time.time(), deadline, f"lease {lease} kept")
            time.sleep(0.5)

    def test_3c_shelve_unshelve_boots_the_snapshot(self):
        sid = self.servers["Md2"]
        r = request("POST", f"/v2.1/servers/{sid}/action", {"shelve": None}, token=TOKEN)
        self.assertEqual(r.status, 202, r)
        self.wait_status(sid, "SHELVED_OFFLOADED")
        # offloaded: no guest, no folder, its port off the host's network
        for d in os.listdir(os.path.join(RUN, "instances")):
            self.assertNotIn(sid, os.listdir(os.path.join(RUN, "instances", d)))
        t0 = time.time()
        r = request("POST", f"/v2.1/servers/{sid}/action", {"unshelve": None}, token=TOKEN)
        self.assertEqual(r.status, 202, r)
        self.wait_status(sid, "ACTIVE")
        # booted from its shelved snapshot (Nova's unshelve), plugged again
        log, ip, _ = self.banner("Md2", t0)
        self.assertEqual(self.ssh_ready(ip, t0)[0], "md2")

    def test_3d_security_groups_filter_the_taps(self):
        """Two guests of the project's default group (no rules: nothing
        gets in but from the namespace and replies); a rule from the group
        itself lets ICMP in, its delete shuts it again."""
        a, b = (request("GET", f"/v2.1/servers/{self.servers[n]}", token=TOKEN).json["server"]
                ["addresses"]["private"][0]["addr"] for n in ("TestInstance1", "FromSnap"))

        def pings(expect):
            deadline = time.time() + 30
            while True:
                r = ssh(self.key, a, "ping", "-c", "1", "-W", "1", b)
                if (r.returncode == 0) == expect:
                    return
                self.assertLess(time.time(), deadline, f"ping {a} -> {b}: {r.stdout}{r.stderr}")
                time.sleep(1)

        pings(False)
        groups = request("GET", "/v2.1/os-security-groups", token=TOKEN).json["security_groups"]
        gid = [g["id"] for g in groups if g["name"] == "default"][0]
        r = request("POST", "/v2.1/os-security-group-rules", {"security_group_rule": {
            "parent_group_id": gid, "ip_protocol": "icmp", "from_port": -1, "to_port": -1,
            "group_id": gid}}, token=TOKEN)
        self.assertEqual(r.status, 200, r)
        rule = r.json["security_group_rule"]["id"]
        self.addCleanup(request, "DELETE", f"/v2.1/os-security-group-rules/{rule}", token=TOKEN)
        pings(True)
        # the host's table holds the group members' addresses as the rule's sources
        self.assertIn(f"ip saddr {a} ip protocol icmp accept", subprocess.run(
            ["nft", "list", "ruleset", "bridge"], capture_output=True, text=True).stdout)
        r = request("DELETE", f"/v2.1/os-security-group-rules/{rule}", token=TOKEN)
        self.assertEqual(r.status, 202, r)
        pings(False)
        # what comes from the network's namespace always gets in (ssh above)
        self.assertEqual(self.ssh_ready(b, time.time())[0], "fromsnap")

    def test_3e_rescue_boots_the_rescue_disk_then_unrescue(self):
        """Nova's libvirt rescue: the guest boots the rescue image's disk
        with its own root disk second (vdb); unrescue boots its own again
        and the rescue files go."""
        sid = self.servers["TestInstance1"]
        folder = [os.path.join(RUN, "instances", d, sid) for d in os.listdir(
            os.path.join(RUN, "instances")) if os.path.isdir(os.path.join(RUN, "instances", d, sid))]
        self.assertEqual(len(folder), 1)
        t0 = time.time()
        nova("rescue", "TestInstance1")
        self.wait_status(sid, "RESCUE")
        for f in ("disk.rescue", "kernel.rescue", "ramdisk.rescue", "unrescue.xml", "disk"):
            self.assertTrue(os.path.exists(os.path.join(folder[0], f)), f)
        ip = request("GET", f"/v2.1/servers/{sid}", token=TOKEN).json["server"]["addresses"][
            "private"][0]["addr"]
        self.ssh_ready(ip, t0)
        disks = ssh(self.key, ip, "ls", "/sys/block").stdout.split()
        self.assertEqual([d for d in disks if d.startswith("vd")], ["vda", "vdb"], disks)
        t0 = time.time()
        nova("unrescue", "TestInstance1")
        self.wait_status(sid, "ACTIVE")
        self.ssh_ready(ip, t0)
        disks = ssh(self.key, ip, "ls", "/sys/block").stdout.split()
        self.assertEqual([d for d in disks if d.startswith("vd")], ["vda"], disks)
        for f in ("disk.rescue", "kernel.rescue", "ramdisk.rescue", "unrescue.xml"):
            self.assertFalse(os.path.exists(os.path.join(folder[0], f)), f)

    def test_3f_resize_on_the_same_host_keeps_the_disk_and_grows_it(self):
        """allow_resize_to_same_host (the one-host stack sets it, as DevStack
        does): what the guest wrote to its root disk survives a resize, a
        revert and a confirm; the disk grows to the new flavor's root_gb and
        is back to the old size after the revert."""
        name, sid = "TestInstance1", self.servers["TestInstance1"]
        r = request("POST", "/v2.1/flavors", {"flavor": {
            "name": "walk-2g", "ram": 256, "vcpus": 1, "disk": 2, "id": "walk-2g"}})
        self.assertIn(r.status, (200, 409), r)
        self.addCleanup(request, "DELETE", "/v2.1/flavors/walk-2g")
        ip = request("GET", f"/v2.1/servers/{sid}", token=TOKEN).json["server"]["addresses"][
            "private"][0]["addr"]
        mark = f"cnova-{sid[:8]}"
        r = ssh(self.key, ip, "sh", "-c", f"'echo {mark} | dd of=/dev/vda bs=512 seek=8 conv=fsync'")
        self.assertEqual(r.returncode, 0, r.stderr)

        def disk(t0):
            self.ssh_ready(ip, t0)
            r = ssh(self.key, ip, "sh", "-c",
                    "'cat /sys/block/vda/size; dd if=/dev/vda bs=512 skip=8 count=1 2>/dev/null'")
            size, data = r.stdout.split("\n", 1)
            return int(size) * 512 >> 30, data.split("\0", 1)[0].strip()

        def resize(body, status):
            t0 = time.time()
            r = request("POST", f"/v2.1/servers/{sid}/action", body, token=TOKEN)
            self.assertEqual(r.status, 204 if "confirmResize" in body else 202, r)
            self.wait_status(sid, status)
            return t0

        self.assertEqual(disk(time.time()), (1, mark))
        self.assertEqual(disk(resize({"resize": {"flavorRef": "walk-2g"}}, "VERIFY_RESIZE")),
                         (2, mark))
        self.assertEqual(disk(resize({"revertResize": None}, "ACTIVE")), (1, mark))
        self.assertEqual(disk(resize({"resize": {"flavorRef": "walk-2g"}}, "VERIFY_RESIZE")),
                         (2, mark))
        self.assertEqual(disk(resize({"confirmResize": None}, "ACTIVE")), (2, mark))
        # the files kept for a revert go once the resize is confirmed (the
        # host's next power-state sync)
        kept = [os.path.join(RUN, "instances", d, sid + "_resize")
                for d in os.listdir(os.path.join(RUN, "instances"))]
        deadline = time.time() + 120
        while any(os.path.exists(k) for k in kept):
            self.assertLess(time.time(), deadline, f"{kept} kept after the confirm")
            time.sleep(2)

    def test_3g_an_uploaded_cloud_image_boots_from_its_own_disk(self):
        """A qcow2 whole-disk image as users upload them (MBR, a partition,
        a boot loader: scripts/guest-disk.sh), no kernel_id: `openstack
        image create --file`, then the BIOS boots it from the root disk."""
        disk = os.path.join(self.tmp, "cloud.qcow2")
        subprocess.run([os.path.join(REPO, "scripts", "guest-disk.sh"), os.path.join(RUN, "guest"),
                        disk], check=True, capture_output=True, timeout=600)
        p = subprocess.run(
            [OPENSTACK, "--os-auth-type", "admin_token", "--os-token", TOKEN, "--os-endpoint",
             BASE + "/image/v2", "image", "create", "--file", disk, "--disk-format", "qcow2",
             "--container-format", "bare", "-f", "value", "-c", "id", "walk-cloud"],
            capture_output=True, text=True, timeout=300,
            env={k: v for k, v in os.environ.items() if not k.startswith("OS_")})
        os.unlink(disk)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.images.append(p.stdout.strip())
        sid, t0 = self.boot("Cloudy", "walk-cloud")
        log, ip, t_banner = self.banner("Cloudy", t0)
        self.assertIn("SYSLINUX", log)  # its own boot loader, from its own disk
        self.assertEqual(self.ssh_ready(ip, t0)[0], "cloudy")
        self.figures["POST to banner (cloud image)"] = t_banner

    def test_3h_boot_from_volume_and_attach_a_volume(self):
        """Boot from volume: the cloud image copied into a new volume's file
        (as Cinder makes one), the guest booting from it; then a blank
        volume attached to the running guest and detached; delete takes the
        delete_on_termination volume's file, the other stays for its owner."""
        image = self.images[-1]  # test_3g's cloud image
        sid, t0 = self.boot("Bfv", None, "--block-device",
                            f"source=image,id={image},dest=volume,size=1,bootindex=0,shutdown=remove")
        log, ip, _ = self.banner("Bfv", t0)
        self.assertIn("SYSLINUX", log)
        self.assertEqual(self.ssh_ready(ip, t0)[0], "bfv")
        s = request("GET", f"/v2.1/servers/{sid}", token=TOKEN).json["server"]
        self.assertEqual(s["image"], "")
        vols = s["os-extended-volumes:volumes_attached"]
        self.assertEqual(len(vols), 1, vols)
        boot = os.path.join(RUN, "volumes", "volume-" + vols[0]["id"])
        self.assertTrue(os.path.exists(boot))
        # a blank volume attached to the running guest shows up in it
        r = request("POST", "/v2.1/os-volumes", {"volume": {"size": 1}}, token=TOKEN)
        self.assertEqual(r.status, 200, r)
        vid = r.json["volume"]["id"]
        self.addCleanup(request, "DELETE", f"/v2.1/os-volumes/{vid}", token=TOKEN)
        r = request("POST", f"/v2.1/servers/{sid}/os-volume_attachments",
                    {"volumeAttachment": {"volumeId": vid}}, token=TOKEN)
        self.assertEqual(r.status, 200, r)
        deadline = time.time() + SLOW
        while "vdb" not in ssh(self.key, ip, "ls", "/sys/block").stdout.split():
            self.assertLess(time.time(), deadline, "the attached volume never showed up")
            time.sleep(1)
        while request("GET", f"/v2.1/os-volumes/{vid}", token=TOKEN).json["volume"][
                "status"] != "in-use":
            self.assertLess(time.time(), deadline, "the volume never went in-use")
            time.sleep(1)
        # a resize defines the guest again: from its boot volume, with the
        # attached one (Nova's finish_migration reconnects the volumes)
        r = request("POST", "/v2.1/flavors", {"flavor": {
            "name": "walk-bfv", "ram": 256, "vcpus": 1, "disk": 0, "id": "walk-bfv"}})
        self.assertIn(r.status, (200, 409), r)
        self.addCleanup(request, "DELETE", "/v2.1/flavors/walk-bfv")
        t1 = time.time()
        r = request("POST", f"/v2.1/servers/{sid}/action", {"resize": {"flavorRef": "walk-bfv"}},
                    token=TOKEN)
        self.assertEqual(r.status, 202, r)
        self.wait_status(sid, "VERIFY_RESIZE")
        self.assertEqual(self.ssh_ready(ip, t1)[0], "bfv")
        self.assertIn("vdb", ssh(self.key, ip, "ls", "/sys/block").stdout.split(),
                      "the attached volume is gone from the resized guest")
        r = request("POST", f"/v2.1/servers/{sid}/action", {"confirmResize": None}, token=TOKEN)
        self.assertEqual(r.status, 204, r)
        self.wait_status(sid, "ACTIVE")
        r = request("DELETE", f"/v2.1/servers/{sid}/os-volume_attachments/{vid}", token=TOKEN)
        self.assertEqual(r.status, 202, r)
        while request("GET", f"/v2.1/os-volumes/{vid}", token=TOKEN).json["volume"][
                "status"] != "available":
            self.assertLess(time.time(), deadline, "the volume never came back")
            time.sleep(1)
        request("DELETE", f"/v2.1/servers/{self.servers.pop('Bfv')}", token=TOKEN)
        while os.path.exists(boot):
            self.assertLess(time.time(), deadline, f"{boot} left behind")
            time.sleep(1)

    def test_3i_rebuild_keeps_the_config_drive(self):
        """A rebuild gives the guest a new root disk from the image and,
        as Nova's spawn does, its config drive made anew: the rebuilt
        guest reads it (and its user data) at boot."""
        name, sid = "TestInstance1", self.servers["TestInstance1"]
        t0 = time.time()
        r = request("POST", f"/v2.1/servers/{sid}/action", {"rebuild": {"imageRef": self.ami}},
                    token=TOKEN)
        self.assertEqual(r.status, 202, r)
        self.wait_status(sid, "ACTIVE")
        log, ip, _ = self.banner(name, t0)
        self.assertIn("cnova-guest: config drive", log)
        self.assertIn("hello-from-user-data testinstance1", log)
        self.assertEqual(self.ssh_ready(ip, t0)[0], "testinstance1")

    def wait_status(self, sid, status):
        deadline = time.time() + SLOW
        while True:
            s = request("GET", f"/v2.1/servers/{sid}", token=TOKEN).json["server"]
            if s["status"] == status and s["OS-EXT-STS:task_state"] is None:
                return s
            self.assertLess(time.time(), deadline, f"{sid}: {s['status']}")
            time.sleep(1)

    def test_4_delete_leaves_nothing(self):
        for name in list(self.servers):
            request("DELETE", f"/v2.1/servers/{self.servers.pop(name)}", token=TOKEN)
        deadline = time.time() + SLOW
        while request("GET", "/v2.1/servers", token=TOKEN).json["servers"]:
            self.assertLess(time.time(), deadline, "servers not deleted")
            time.sleep(1)
        for d in os.listdir(os.path.join(RUN, "instances")):
            self.assertEqual(os.listdir(os.path.join(RUN, "instances", d)), ["_base"])
        # the network went with its last port: namespace, bridge, veth,
        # dnsmasq, metadata proxy, leases
        self.assertNotIn(NS, subprocess.run(["ip", "netns", "list"], capture_output=True,
                                            text=True).stdout)
        links = subprocess.run(["ip", "-o", "link"], capture_output=True, text=True).stdout
        self.assertNotIn("brq" + NET[:11], links)
        self.assertNotIn("tap" + NET[:11], links)
        self.assertEqual([d for d in os.listdir(os.path.join(RUN, "net", "dhcp"))
                          if not d.startswith(".")], [])
        self.assertEqual(os.listdir(os.path.join(RUN, "net", "ports")), [])
        self.assertEqual(psql("SELECT count(*) FROM instances WHERE deleted = 0 AND"
                              f" project_id = '{PROJECT}'"), "0")

    def test_5_bad_input(self):
        # user_data over Nova's limit (65535 bytes of base64): 400, nothing made
        r = request("POST", "/v2.1/servers", {"server": {
            "name": "too-much", "imageRef": self.ami, "flavorRef": "1",
            "user_data": "QUFB" * 16384}}, token=TOKEN)
        self.assertEqual(r.status, 400, r)
        # an image that is not what it claims: refused at upload
        r = request("POST", "/image/v2/images", {"name": "liar", "disk_format": "qcow2",
                                                 "container_format": "bare"}, token=TOKEN)
        iid = r.json["id"]
        self.images.append(iid)
        r = request("PUT", f"/image/v2/images/{iid}/file", raw=b"not a qcow2" * 100,
                    ctype="application/octet-stream", token=TOKEN)
        self.assertEqual(r.status, 400, r)
        self.assertEqual(request("GET", f"/image/v2/images/{iid}", token=TOKEN).json["status"],
                         "queued")


if __name__ == "__main__":
    unittest.main()
