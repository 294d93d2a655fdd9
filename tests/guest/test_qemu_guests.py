"""test_qemu_guests.py: real guests on a stack started with CNOVA_VIRT=qemu
(scripts/stack.sh; TCG where there is no /dev/kvm). Skipped, with the
reason, when the stack under test runs on libvirt's test driver.

A guest image of three images, as Nova boots a kernel directly: a kernel
(aki), a busybox initramfs whose /init writes a line to ttyS0 (ari), and a
small raw machine image (ami) naming both in kernel_id / ramdisk_id. The
kernel is CNOVA_GUEST_KERNEL (e.g. scripts/guest-image.sh's), else the
newest /boot/vmlinuz-*; the initramfs is CNOVA_GUEST_INITRD, else built
here from busybox-static. The images go to the image service by Glance's
upload API (POST /v2/images, PUT /v2/images/{id}/file) where it has one;
otherwise they are placed: rows in the registry, and the bytes served by
this test at the compute hosts' [glance] api_servers, which must then be a
free local port (start the stack with CNOVA_GLANCE_URL=http://127.0.0.1:PORT).

Run against such a stack (CNOVA_BASE, CNOVA_RUN as for tests/api):
  cd tests/guest && /usr/bin/python3 -m unittest test_qemu_guests -v
Guests are few and short-lived: one booted, stopped, started, rebooted and
deleted; then 20 m1.tiny booted at once and deleted."""
import configparser, glob, gzip, hashlib, http.server, io, json, os, socketserver, stat
import subprocess, sys, threading, time, unittest, urllib.parse, uuid

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "api"))
from common import RUN, psql, request, server_show  # noqa: E402

PROJECT = "guests"
TOKEN = "admin:" + PROJECT
BOOT_LINE = "cnova-guest: booted"
SLOW = 300  # seconds: TCG on two shared cores, a 60 s clean-shutdown wait


def cpio_newc(files):
    """An initramfs: [(path, mode, bytes or symlink target)] as newc cpio."""
    out = io.BytesIO()

    def entry(name, mode, data, ino):
        name_b = name.encode() + b"\0"
        hdr = "070701" + "".join(f"{v:08X}" for v in (
            ino, mode, 0, 0, 1, 0, len(data), 0, 0, 0, 0, len(name_b), 0))
        out.write(hdr.encode() + name_b)
        out.write(b"\0" * ((4 - (110 + len(name_b)) % 4) % 4))
        out.write(data)
        out.write(b"\0" * ((4 - len(data) % 4) % 4))

    for i, (name, mode, data) in enumerate(files, 1):
        entry(name, mode, data, i)
    entry("TRAILER!!!", 0, b"", 0)
    return gzip.compress(out.getvalue(), 1)


INIT = f"""#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc; mount -t sysfs sys /sys; mount -t devtmpfs dev /dev
echo "{BOOT_LINE} $(uname -r) $(cat /proc/uptime)" > /dev/ttyS0
while :; do sleep 3600; done
"""


def read(path):
    with open(path, "rb") as f:
        return f.read()


def guest_files():
    """(kernel bytes, initramfs bytes), or a reason to skip."""
    kernel = os.environ.get("CNOVA_GUEST_KERNEL") or (sorted(glob.glob("/boot/vmlinuz-*")) or [None])[-1]
    if not kernel or not os.access(kernel, os.R_OK):
        return None, ("no guest kernel: set CNOVA_GUEST_KERNEL (scripts/guest-image.sh) or "
                      "install linux-image-cloud-amd64")
    initrd = os.environ.get("CNOVA_GUEST_INITRD")
    if initrd:
        return (read(kernel), read(initrd)), None
    busybox = "/bin/busybox"
    ldd = subprocess.run(["ldd", busybox], capture_output=True, text=True) \
        if os.path.exists(busybox) else None
    if not ldd or "not a dynamic" not in ldd.stdout + ldd.stderr:
        return None, "no static /bin/busybox (busybox-static) for the initramfs"
    d = stat.S_IFDIR | 0o755
    ramdisk = cpio_newc([("bin", d, b""), ("dev", d, b""), ("proc", d, b""), ("sys", d, b""),
                         ("bin/busybox", stat.S_IFREG | 0o755, read(busybox)),
                         ("init", stat.S_IFREG | 0o755, INIT.encode())])
    return (read(kernel), ramdisk), None


class Files(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *a):
        pass


def compute_confs():
    out = []
    for path in sorted(glob.glob(os.path.join(RUN, "compute-*.conf"))):
        c = configparser.ConfigParser(interpolation=None, strict=False)
        c.read(path)
        out.append(c)
    return out


def virsh(uri, *args):
    return subprocess.run(["virsh", "-q", "-c", uri, *args], capture_output=True, text=True,
                          timeout=60).stdout


def wait_for(what, fn, seconds=SLOW, every=0.5):
    deadline = time.time() + seconds
    while True:
        v = fn()
        if v:
            return v
        if time.time() > deadline:
            raise AssertionError(f"{what}: not after {seconds} s")
        time.sleep(every)


class QemuGuests(unittest.TestCase):
    server = None

    @classmethod
    def setUpClass(cls):
        try:
            virt = read(os.path.join(RUN, "virt")).decode().strip()
        except OSError:
            virt = "unknown"
        if virt != "qemu":
            raise unittest.SkipTest(
                f"the stack under test ({RUN}) is not on QEMU (hypervisor: {virt}): start it with "
                "CNOVA_VIRT=qemu; stack.sh says why when QEMU cannot run")
        confs = compute_confs()
        cls.uris = [c.get("compute", "libvirt_uri") for c in confs]
        cls.instances = [c.get("DEFAULT", "instances_path") for c in confs]
        files, why = guest_files()
        if why:
            raise unittest.SkipTest(why)
        cls.httpd = None
        cls.images = cls.publish(*files, confs[0].get("glance", "api_servers"))
        r = request("PUT", f"/v2.1/os-quota-sets/{PROJECT}", {"quota_set": {
            "instances": 40, "cores": 40, "ram": 40 * 512}})
        assert r.status == 200, r

    @classmethod
    def tearDownClass(cls):
        if cls.httpd:
            cls.httpd.shutdown()
            cls.httpd.server_close()

    @classmethod
    def publish(cls, kernel, ramdisk, api_servers):
        """The guest's images in the image service: {kind: id}. "machine"
        boots with Nova's default command line, "quiet" with its own
        os_command_line (a quiet kernel: 20 of them boot at once)."""
        ids = {k: str(uuid.uuid4()) for k in ("kernel", "ramdisk", "machine", "quiet")}
        boot = {"kernel_id": ids["kernel"], "ramdisk_id": ids["ramdisk"]}
        root = b"\0" * (1 << 20)
        images = [("kernel", kernel, "aki", {}), ("ramdisk", ramdisk, "ari", {}),
                  ("machine", root, "ami", boot),
                  ("quiet", root, "ami", dict(boot, os_command_line="console=ttyS0 quiet"))]
        for i, (k, data, fmt, props) in enumerate(images):
            r = request("POST", "/image/v2/images", dict(
                props, id=ids[k], name=f"cnova-guest-{k}", disk_format=fmt,
                container_format=fmt, visibility="public"))
            if i == 0 and r.status in (404, 405, 501):
                break  # no upload API (yet)
            assert r.status in (200, 201), r
            r = request("PUT", f"/image/v2/images/{ids[k]}/file", raw=data,
                        ctype="application/octet-stream")
            assert r.status in (200, 204), r
        else:
            return ids
        # no upload API: the registry's rows, and the bytes served here
        u = urllib.parse.urlsplit(api_servers.split(",")[0])
        if u.hostname not in ("127.0.0.1", "localhost") or not u.port:
            raise unittest.SkipTest("the image service has no upload API and [glance] "
                                    f"api_servers ({api_servers}) is not a local port to serve "
                                    "images on: start the stack with "
                                    "CNOVA_GLANCE_URL=http://127.0.0.1:<free port>")
        top = os.path.join(RUN, "guest-images")
        for k, data, fmt, props in images:
            d = os.path.join(top, u.path.strip("/"), "v2", "images", ids[k])
            os.makedirs(d, exist_ok=True)
            with open(os.path.join(d, "file"), "wb") as f:
                f.write(data)
            psql("INSERT INTO images (id, name, status, size, disk_format, container_format,"
                 f" visibility) VALUES ('{ids[k]}', 'cnova-guest-{k}', 'active', {len(data)},"
                 f" '{fmt}', '{fmt}', 'public')")
            for key, val in props.items():
                psql(f"INSERT INTO image_properties VALUES ('{ids[k]}', '{key}', '{val}')")
        handler = lambda *a, **kw: Files(*a, directory=top, **kw)  # noqa: E731
        socketserver.TCPServer.allow_reuse_address = True
        try:
            cls.httpd = socketserver.ThreadingTCPServer(("127.0.0.1", u.port), handler)
        except OSError as e:
            raise unittest.SkipTest(f"the image service has no upload API and port {u.port} of "
                                    f"[glance] api_servers is taken ({e})")
        threading.Thread(target=cls.httpd.serve_forever, daemon=True).start()
        return ids

    # ---- helpers ----

    def boot(self, name, image="machine", flavor="1"):
        # a port on the shared network: its bridge need not exist here
        r = request("POST", "/v2.1/servers", {"server": {
            "name": name, "imageRef": self.images[image], "flavorRef": flavor}}, token=TOKEN)
        self.assertEqual(r.status, 202, r)
        return r.json["server"]["id"]

    def settled(self, sid, status, seconds=SLOW):
        def check():
            s = server_show(sid, token=TOKEN)
            if s["status"] == "ERROR":
                raise AssertionError(f"{sid} went to ERROR: {s.get('fault')}")
            return s if s["status"] == status and s["OS-EXT-STS:task_state"] is None else None
        return wait_for(f"{sid} {status}", check, seconds)

    def action(self, sid, body):
        r = request("POST", f"/v2.1/servers/{sid}/action", body, token=TOKEN)
        self.assertEqual(r.status, 202, r)

    def console(self, sid, length=None):
        body = {"os-getConsoleOutput": {} if length is None else {"length": length}}
        r = request("POST", f"/v2.1/servers/{sid}/action", body, token=TOKEN)
        self.assertEqual(r.status, 200, r)
        return r.json["output"]

    def boots(self, sid):
        return self.console(sid).count(BOOT_LINE)

    def delete_all(self, sids):
        for sid in sids:
            r = request("DELETE", f"/v2.1/servers/{sid}", token=TOKEN)
            self.assertIn(r.status, (204, 404), r)
        for sid in sids:
            wait_for(f"{sid} deleted", lambda: request(
                "GET", f"/v2.1/servers/{sid}", token=TOKEN).status == 404)

    def assertNothingLeft(self, sids):
        for uri in self.uris:
            names = virsh(uri, "list", "--all", "--uuid")
            for sid in sids:
                self.assertNotIn(sid, names, f"domain of {sid} left on {uri}")
        # nothing of theirs, nor of any server gone before them (the image
        # cache _base may stay)
        live = set(psql("SELECT string_agg(uuid::text, ' ') FROM instances"
                        " WHERE deleted = 0").split())
        for path in self.instances:
            left = [p for p in glob.glob(os.path.join(path, "*"))
                    if os.path.basename(p) != "_base" and os.path.basename(p) not in live]
            self.assertEqual(left, [], f"files left under {path}")
            for sid in sids:
                self.assertFalse(os.path.exists(os.path.join(path, sid)))

    # ---- tests ----

    def test_1_kernel_boot_console_and_power(self):
        t0 = time.time()
        sid = self.boot("qg-kernel")
        self.addCleanup(request, "DELETE", f"/v2.1/servers/{sid}", token=TOKEN)
        s = self.settled(sid, "ACTIVE")
        t_active = time.time() - t0
        self.assertEqual(s["OS-EXT-STS:power_state"], 1)
        wait_for("the guest's boot line in its console", lambda: self.boots(sid) >= 1, 120)
        t_console = time.time() - t0
        print(f"\n  POST -> ACTIVE {t_active:.1f} s, -> first console line {t_console:.1f} s",
              file=sys.stderr)
        out = self.console(sid)
        self.assertIn("Linux version", out)
        self.assertGreater(len(out.splitlines()), 5)
        # Nova's tail: the last `length` pieces of the log split at newlines
        # (the text after the last newline, often "", is one of them)
        tail = self.console(sid, 3)
        self.assertLessEqual(len(tail.split("\n")), 3)
        self.assertTrue(self.console(sid).endswith(tail))
        self.assertEqual(self.console(sid, 0), "")

        # stop: the guest ignores ACPI, so the host destroys it after
        # [DEFAULT] shutdown_timeout; start boots it again
        self.action(sid, {"os-stop": None})
        s = self.settled(sid, "SHUTOFF")
        self.assertEqual(s["OS-EXT-STS:power_state"], 4)
        self.action(sid, {"os-start": None})
        s = self.settled(sid, "ACTIVE")
        self.assertEqual(s["OS-EXT-STS:power_state"], 1)
        wait_for("a second boot", lambda: self.boots(sid) >= 2, 120)
        self.action(sid, {"reboot": {"type": "HARD"}})
        s = self.settled(sid, "ACTIVE")
        self.assertEqual(s["OS-EXT-STS:power_state"], 1)
        wait_for("a third boot", lambda: self.boots(sid) >= 3, 120)

        # pause and suspend keep the guest's memory: no new boot after them
        self.action(sid, {"pause": None})
        self.assertEqual(self.settled(sid, "PAUSED")["OS-EXT-STS:power_state"], 3)
        self.action(sid, {"unpause": None})
        self.assertEqual(self.settled(sid, "ACTIVE")["OS-EXT-STS:power_state"], 1)
        self.action(sid, {"suspend": None})
        self.assertEqual(self.settled(sid, "SUSPENDED")["OS-EXT-STS:power_state"], 4)
        self.action(sid, {"resume": None})
        self.assertEqual(self.settled(sid, "ACTIVE")["OS-EXT-STS:power_state"], 1)
        time.sleep(2)
        self.assertEqual(self.boots(sid), 3)

        self.delete_all([sid])
        self.assertNothingLeft([sid])

    def test_2_twenty_tiny_servers_at_once(self):
        t0 = time.time()
        sids = [self.boot(f"qg-many-{i}", "quiet") for i in range(20)]
        try:
            for sid in sids:
                s = self.settled(sid, "ACTIVE")
                self.assertEqual(s["OS-EXT-STS:power_state"], 1)
            print(f"\n  20 x m1.tiny: all ACTIVE {time.time() - t0:.1f} s after the first POST",
                  file=sys.stderr)
            # the quiet image's own command line: the kernel says little
            wait_for("the 20th guest's boot line", lambda: self.boots(sids[-1]) >= 1, 120)
            self.assertNotIn("Linux version", self.console(sids[-1]))
        finally:
            self.delete_all(sids)
        self.assertNothingLeft(sids)


if __name__ == "__main__":
    unittest.main()
