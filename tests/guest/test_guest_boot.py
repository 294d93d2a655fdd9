"""test_guest_boot.py — a real guest on a real host network, black box.

Builds the test guest with scripts/guest-image.sh, lays out a network of its
own with workers/compute/hostnet.c (through build/tests/hostnet-cli: bridge,
qdhcp- namespace, dnsmasq), then boots QEMU (TCG) on it four times:
  1. with a config drive (ISO9660 "config-2" on the IDE cdrom, as Nova's
     libvirt driver attaches it on the pc machine, then on a virtio disk):
     hostname, SSH key and a "#!" user_data;
  2. without one, the metadata served at 169.254.169.254 inside the
     namespace (the route option 121 hands out), and the first port's
     address moved to a new MAC (port_remove releases the lease); then the
     same with only the EC2 paths;
and each time waits for the banner on the serial console and SSHes in from
the namespace. Last it ensures the network again (the same dnsmasq; a dead
one restarted), tears it down and checks nothing is left.
Prints the seconds from QEMU's start to the banner and to SSH-ready.

Run as root:  /usr/bin/python3 -m unittest -v tests/guest/test_guest_boot.py
(CNOVA_BIN: the build folder holding tests/hostnet-cli, default build/;
CNOVA_GUEST_KEEP=1 keeps the serial logs)."""
import contextlib
import json
import os
import random
import re
import select
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import unittest
import uuid

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BIN = os.environ.get("CNOVA_BIN", os.path.join(REPO, "build"))
CLI = os.path.join(BIN, "tests", "hostnet-cli")
WAIT = 120  # seconds: the bound of every wait
BANNER = re.compile(r"cnova-guest (\S+) up in ([0-9.]+) s")
TOOLS = ["qemu-system-x86_64", "ip", "dnsmasq", "genisoimage", "ssh", "ssh-keygen"]


def run(*argv, check=True, timeout=WAIT):
    r = subprocess.run(argv, timeout=timeout, capture_output=True, text=True)
    if check and r.returncode:
        raise AssertionError(f"{' '.join(argv)}: exit {r.returncode}: {r.stderr.strip()}")
    return r


def alive(pid):
    """True while pid runs (a zombie waiting for its reaper does not)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def missing():
    if os.geteuid() != 0:
        return "needs root (bridges, namespaces, taps)"
    gone = [t for t in TOOLS if not shutil.which(t)]
    if gone:
        return "missing " + ", ".join(gone) + " (apt-get install qemu-system-x86 iproute2 " \
            "dnsmasq-base genisoimage openssh-client)"
    return None


@unittest.skipIf(missing(), missing())
class GuestBoot(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="cnova-guest-", dir="/var/tmp")
        os.chmod(cls.tmp, 0o755)  # dnsmasq reads its files as nobody
        cls.image = os.path.join(REPO, "build", "guest-image")
        r = subprocess.run([os.path.join(REPO, "scripts", "guest-image.sh"), cls.image],
                           capture_output=True, text=True, timeout=600)
        if r.returncode:
            raise RuntimeError("guest-image.sh failed:\n" + r.stderr + r.stdout)
        print(r.stdout.strip(), file=sys.stderr)
        b = os.path.relpath(BIN, REPO)
        run("make", "-s", "-C", REPO, "B=" + b, "SAN=" + ("1" if "asan" in b else "0"),
            os.path.join(b, "tests", "hostnet-cli"), timeout=300)
        cls.net = "cafe" + str(uuid.uuid4())[4:]  # unique per run: names everything
        cls.bridge, cls.netns = run(CLI, "names", cls.net).stdout.split()
        cls.tap = "tgn" + cls.net[-8:]  # the guest's tap, as libvirt would add it
        cls.state = os.path.join(cls.tmp, "state")
        third = random.randint(16, 250)
        cls.prefix = f"10.231.{third}"
        cls.ip = f"{cls.prefix}.11"
        run(CLI, "ensure", cls.state, cls.net, f"{cls.prefix}.0/24", f"{cls.prefix}.1",
            f"{cls.prefix}.2", "1450")
        run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", os.path.join(cls.tmp, "key"))
        with open(os.path.join(cls.tmp, "key.pub")) as f:
            cls.pubkey = f.read().strip()
        cls.qemu = None

    @classmethod
    def tearDownClass(cls):
        cls.stop_qemu()
        run(CLI, "teardown", cls.state, cls.net, check=False)  # when test_3 did not
        run("ip", "link", "del", cls.tap, check=False)
        if os.environ.get("CNOVA_GUEST_KEEP"):
            print(f"serial logs kept in {cls.tmp}", file=sys.stderr)
        else:
            shutil.rmtree(cls.tmp, ignore_errors=True)

    # ---- helpers ----

    @classmethod
    def stop_qemu(cls):
        if cls.qemu and cls.qemu.poll() is None:
            cls.qemu.terminate()  # by its pid: the Popen we started
            try:
                cls.qemu.wait(20)
            except subprocess.TimeoutExpired:
                cls.qemu.kill()
                cls.qemu.wait(20)
        cls.qemu = None
        run("ip", "link", "del", cls.tap, check=False)

    def meta(self, hostname):
        return {"uuid": str(uuid.uuid4()), "hostname": hostname + ".novalocal",
                "name": hostname, "public_keys": {"test": self.pubkey + "\n"},
                "launch_index": 0, "availability_zone": "nova", "meta": {}}

    def write_metadata(self, root, hostname):
        d = os.path.join(root, "openstack", "latest")
        os.makedirs(d)
        with open(os.path.join(d, "meta_data.json"), "w") as f:
            json.dump(self.meta(hostname), f)
        with open(os.path.join(d, "user_data"), "w") as f:
            f.write("#!/bin/sh\necho hello-from-user-data\n")

    def boot(self, mac, extra, name):
        """Starts QEMU on the bridge; returns (serial log path, start time)."""
        run("ip", "tuntap", "add", "dev", self.tap, "mode", "tap")
        run("ip", "link", "set", self.tap, "master", self.bridge, "mtu", "1450", "up")
        log = os.path.join(self.tmp, name + ".log")
        argv = ["qemu-system-x86_64", "-machine", "pc", "-m", "256", "-nographic", "-no-reboot",
                "-kernel", os.path.join(self.image, "vmlinuz"),
                "-initrd", os.path.join(self.image, "initrd.img"),
                "-append", "console=ttyS0 panic=-1 quiet",
                "-netdev", f"tap,id=n0,ifname={self.tap},script=no,downscript=no",
                "-device", f"virtio-net-pci,netdev=n0,mac={mac}",
                "-monitor", f"unix:{self.monitor()},server=on,wait=off"] + extra
        t0 = time.monotonic()
        with open(log, "wb") as out:
            type(self).qemu = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out,
                                               stderr=subprocess.STDOUT)
        return log, t0

    @classmethod
    def monitor(cls):
        return os.path.join(cls.tmp, "qemu.monitor")

    def power_button(self):
        """Presses the ACPI power button (what a clean shutdown does) and
        returns the seconds until QEMU exits."""
        t0 = time.monotonic()
        with socket.socket(socket.AF_UNIX) as s:
            s.connect(self.monitor())
            s.sendall(b"system_powerdown\n")
            self.qemu.wait(WAIT)
        return time.monotonic() - t0

    def wait_banner(self, log, t0):
        deadline = t0 + WAIT
        while time.monotonic() < deadline:
            with open(log, errors="replace") as f:
                text = f.read()
            m = BANNER.search(text)
            if m:
                return text, m, time.monotonic() - t0
            self.assertIsNone(self.qemu.poll(), "qemu exited:\n" + text[-2000:])
            time.sleep(0.2)
        self.fail(f"no banner in {WAIT} s:\n" + text[-2000:])

    def ssh(self, *command, timeout=10):
        return run("ip", "netns", "exec", self.netns, "ssh", "-i", os.path.join(self.tmp, "key"),
                   "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
                   "-o", "BatchMode=yes", "-o", "ConnectTimeout=5", "-o", "LogLevel=ERROR",
                   f"root@{self.ip}", *command, check=False, timeout=timeout)

    def wait_ssh(self, t0):
        deadline = t0 + WAIT
        while True:
            r = self.ssh("hostname")
            if r.returncode == 0:
                return r.stdout.strip(), time.monotonic() - t0
            if time.monotonic() > deadline:
                self.fail(f"no SSH in {WAIT} s: {r.stderr}")
            time.sleep(0.5)

    def report(self, what, banner_s, guest_s, ssh_s):
        print(f"\n  {what}: banner {banner_s:.1f} s after qemu start (guest uptime "
              f"{guest_s} s), SSH ready at {ssh_s:.1f} s", file=sys.stderr)

    # ---- the tests, in order ----

    def config_drive_boot(self, hostname, drive, what):
        cd = os.path.join(self.tmp, hostname)
        self.write_metadata(cd, hostname)
        iso = os.path.join(self.tmp, hostname + ".config")
        run("genisoimage", "-quiet", "-o", iso, "-V", "config-2", "-r", "-J", cd)
        log, t0 = self.boot(self.mac1, ["-drive", f"file={iso},{drive},format=raw,readonly=on"],
                            hostname)
        text, m, banner_s = self.wait_banner(log, t0)
        self.assertEqual(m.group(1), hostname)
        self.assertIn("cnova-guest: config drive", text, text)
        out = text.index("hello-from-user-data")  # user_data ran, on the console
        self.assertLess(out, m.start())
        host, ssh_s = self.wait_ssh(t0)
        self.assertEqual(host, hostname)
        self.report(what, banner_s, m.group(2), ssh_s)
        return text

    def test_1_config_drive_cdrom(self):
        mac = "fa:16:3e:" + self.net[-6:-4] + ":" + self.net[-4:-2] + ":" + self.net[-2:]
        type(self).mac1 = mac
        run(CLI, "port-add", self.state, self.net, mac, self.ip, "vm-drive")
        # on the IDE bus, as Nova's libvirt driver attaches it on the pc machine
        text = self.config_drive_boot("vm-drive", "if=ide,index=0,media=cdrom",
                                      "config drive on the IDE cdrom")
        self.assertIn("config drive /dev/sr0", text)
        # what the lease set up: the MTU and the route to the metadata address
        r = self.ssh("cat /sys/class/net/eth0/mtu; ip route; echo $SHELL; readlink /bin/sh")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("1450", r.stdout.split())
        self.assertIn(f"169.254.169.254 via {self.prefix}.2", r.stdout)
        self.assertIn(f"default via {self.prefix}.1", r.stdout)
        self.assertIn("busybox", r.stdout)
        self.stop_qemu()

    def test_1_config_drive_virtio(self):
        text = self.config_drive_boot("vm-vdisk", "if=virtio", "config drive on a virtio disk")
        self.assertIn("config drive /dev/vda", text)
        took = self.power_button()
        with open(os.path.join(self.tmp, "vm-vdisk.log"), errors="replace") as f:
            self.assertIn("ACPI power button: powering off", f.read())
        print(f"  powered off by the ACPI button in {took:.1f} s", file=sys.stderr)
        self.stop_qemu()

    @contextlib.contextmanager
    def metadata_server(self, www):
        """An HTTP server on 169.254.169.254:80 in the namespace serving www
        (where the metadata proxy will be)."""
        server = subprocess.Popen(["ip", "netns", "exec", self.netns, "/usr/bin/python3", "-u",
                                   "-m", "http.server", "80", "--bind", "169.254.169.254",
                                   "--directory", www], stdin=subprocess.DEVNULL,
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        try:
            ready, _, _ = select.select([server.stdout], [], [], 30)
            self.assertTrue(ready, "the metadata server did not start")
            self.assertIn(b"Serving HTTP", server.stdout.readline())
            yield
        finally:
            self.stop_qemu()
            server.terminate()  # by its pid: the Popen we started
            server.wait(20)
            server.stdout.close()

    def metadata_boot(self, mac, hostname, what):
        log, t0 = self.boot(mac, [], hostname)
        text, m, banner_s = self.wait_banner(log, t0)
        self.assertEqual(m.group(1), hostname, text)
        self.assertIn("hello-from-user-data", text)
        host, ssh_s = self.wait_ssh(t0)
        self.assertEqual(host, hostname)
        self.report(what, banner_s, m.group(2), ssh_s)
        return text

    def test_2_metadata_service(self):
        www = os.path.join(self.tmp, "www")
        self.write_metadata(www, "vm-metadata")
        with self.metadata_server(www):
            # the address moves to a new port: the old lease must be released
            run(CLI, "port-remove", self.state, self.net, self.mac1)
            mac = "fa:16:3e:00:" + self.net[-4:-2] + ":" + self.net[-2:]
            type(self).mac2 = mac
            run(CLI, "port-add", self.state, self.net, mac, self.ip, "-")
            text = self.metadata_boot(mac, "vm-metadata", "metadata service")
            self.assertIn("cnova-guest: metadata service http://169.254.169.254\n", text)

    def test_2_metadata_service_ec2(self):
        www = os.path.join(self.tmp, "ec2")
        d = os.path.join(www, "latest", "meta-data")
        os.makedirs(os.path.join(d, "public-keys", "0"))
        for path, text in (("meta-data/public-keys/0/openssh-key", self.pubkey + "\n"),
                           ("meta-data/hostname", "vm-ec2.novalocal"),
                           ("user-data", "#!/bin/sh\necho hello-from-user-data\n")):
            with open(os.path.join(www, "latest", path), "w") as f:
                f.write(text)
        with self.metadata_server(www):
            text = self.metadata_boot(self.mac2, "vm-ec2", "metadata service, EC2 paths")
            self.assertIn("metadata service http://169.254.169.254 (EC2)", text)

    def test_3_ensure_again_and_teardown(self):
        pidfile = os.path.join(self.state, "dhcp", self.net, "pid")

        def running_dnsmasq():
            with open(pidfile) as f:
                pid = int(f.read())
            self.assertTrue(alive(pid))
            return pid

        ensure = (CLI, "ensure", self.state, self.net, f"{self.prefix}.0/24", f"{self.prefix}.1",
                  f"{self.prefix}.2", "1450")
        first = running_dnsmasq()
        run(*ensure)  # nothing changed: the same dnsmasq, told to reread
        self.assertEqual(running_dnsmasq(), first)
        os.kill(first, 15)  # a dnsmasq we started: as if it had died
        for _ in range(100):
            if not alive(first):
                break
            time.sleep(0.05)
        run(*ensure)  # found missing, started again
        dnsmasq = running_dnsmasq()
        self.assertNotEqual(dnsmasq, first)
        run(CLI, "teardown", self.state, self.net)
        links = run("ip", "-o", "link", "show").stdout
        short = self.net[:11]
        for name in (self.bridge, "tap" + short, "ns-" + short, self.tap):
            self.assertNotIn(name + ":", links.replace("@", ":"))
        self.assertNotIn(self.netns, run("ip", "netns", "list").stdout)
        self.assertFalse(alive(dnsmasq), "dnsmasq still runs")
        self.assertFalse(os.path.exists(os.path.join(self.state, "dhcp", self.net)))
        run(CLI, "teardown", self.state, self.net)  # twice is fine


if __name__ == "__main__":
    unittest.main(verbosity=2)
