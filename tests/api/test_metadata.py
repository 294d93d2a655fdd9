"""test_metadata.py: the metadata service face (what guests read at
169.254.169.254; nginx's metadata server on CNOVA_METADATA_PORT): requests
signed as Neutron's metadata proxy signs them (X-Instance-ID, X-Tenant-ID,
X-Instance-ID-Signature = HMAC-SHA256 of the instance id with the run
folder's [neutron] metadata_proxy_shared_secret); the OpenStack files per
version, the EC2 tree, the guest password, and Nova's 400 / 403 / 404."""
import base64, hashlib, hmac, http.client, json, os, socket, subprocess, tempfile, time
import unittest

from common import REPO, RUN, ServerFixtures, psql, request

MD_PORT = int(os.environ.get("CNOVA_METADATA_PORT", "8775"))
IMAGE = "70a599e0-31e7-49b7-b260-868f441e862b"
PROJECT = "md-proj"
MEMBER = "md-member:" + PROJECT
USER_DATA = b"#!/bin/sh\necho hello-from-user-data\n"


def secret():
    with open(os.path.join(RUN, "metadata-secret")) as f:
        return f.read().strip()


def md(path, instance=None, tenant=PROJECT, sign=True, method="GET", body=None, headers=None):
    h = dict(headers or {})
    if instance:
        h["X-Instance-ID"] = instance
        h["X-Tenant-ID"] = tenant
        if sign:
            h["X-Instance-ID-Signature"] = hmac.new(secret().encode(), instance.encode(),
                                                    hashlib.sha256).hexdigest()
    conn = http.client.HTTPConnection("127.0.0.1", MD_PORT, timeout=30)
    try:
        conn.request(method, path, body=body, headers=h)
        r = conn.getresponse()
        return r.status, r.getheader("Content-Type") or "", r.read()
    finally:
        conn.close()


class Guests(ServerFixtures):
    """Two servers of PROJECT: one with a key, user_data and metadata, one
    bare."""
    servers = []

    @classmethod
    def setUpClass(cls):
        r = request("POST", "/v2.1/os-keypairs", {"keypair": {"name": "md-key"}}, token=MEMBER)
        assert r.status in (200, 201), r
        cls.key = r.json["keypair"]["public_key"]
        cls.sid = cls.boot(MEMBER, IMAGE, prefix="md", key_name="md-key",
                           user_data=base64.b64encode(USER_DATA).decode(),
                           metadata={"role": "web"})
        cls.bare = cls.boot(MEMBER, IMAGE, prefix="md")

    @classmethod
    def tearDownClass(cls):
        super().tearDownClass()
        request("DELETE", "/v2.1/os-keypairs/md-key", token=MEMBER)


class Metadata(Guests):
    servers = []

    def get(self, path, sid=None, status=200):
        st, ctype, data = md(path, sid or self.sid)
        self.assertEqual(st, status, (path, data))
        return ctype, data

    def test_1_listings(self):
        st, ctype, data = md("/")  # no identity needed for the root
        self.assertEqual(st, 200)
        self.assertTrue(ctype.startswith("text/plain"))
        self.assertEqual(data.decode().split("\n")[-2:], ["2009-04-04", "latest"])
        _, data = self.get("/openstack")
        versions = data.decode().split("\n")
        self.assertEqual(versions[0], "2012-08-10")
        self.assertEqual(versions[-1], "latest")
        _, data = self.get("/openstack/latest")
        self.assertEqual(data.decode().split("\n"),
                         ["meta_data.json", "user_data", "password", "vendor_data.json",
                          "network_data.json", "vendor_data2.json"])
        _, data = self.get("/openstack/2012-08-10")
        self.assertEqual(data.decode().split("\n"), ["meta_data.json", "user_data"])
        # no user_data: neither listed nor served
        _, data = self.get("/openstack/latest", sid=self.bare)
        self.assertNotIn("user_data", data.decode().split("\n"))
        self.get("/openstack/latest/user_data", sid=self.bare, status=404)

    def test_2_meta_data_json(self):
        ctype, data = self.get("/openstack/latest/meta_data.json")
        self.assertTrue(ctype.startswith("application/json"))
        m = json.loads(data)
        name = psql(f"SELECT display_name FROM instances WHERE uuid = '{self.sid}'")
        host = psql(f"SELECT hostname FROM instances WHERE uuid = '{self.sid}'")
        self.assertEqual(m["uuid"], self.sid)
        self.assertEqual(m["name"], name)
        self.assertEqual(m["hostname"], host + ".novalocal")
        self.assertEqual(m["meta"], {"role": "web"})
        self.assertEqual(m["public_keys"], {"md-key": self.key})
        self.assertEqual(m["keys"], [{"name": "md-key", "type": "ssh", "data": self.key}])
        self.assertEqual(m["launch_index"], 0)
        self.assertEqual(m["availability_zone"], "nova")
        self.assertEqual(m["project_id"], PROJECT)
        self.assertEqual(len(base64.b64decode(m["random_seed"])), 512)
        self.assertEqual(m["devices"], [])
        self.assertEqual(m["dedicated_cpus"], [])
        # what each version had
        old = json.loads(self.get("/openstack/2012-08-10/meta_data.json")[1])
        for k in ("random_seed", "project_id", "devices", "dedicated_cpus"):
            self.assertNotIn(k, old)
        self.assertIn("project_id", json.loads(self.get("/openstack/2015-10-15/meta_data.json")[1]))
        # no key, no metadata: neither key
        bare = json.loads(self.get("/openstack/latest/meta_data.json", sid=self.bare)[1])
        for k in ("public_keys", "keys", "meta"):
            self.assertNotIn(k, bare)

    def test_3_user_data_network_vendor(self):
        self.assertEqual(self.get("/openstack/latest/user_data")[1], USER_DATA)
        net = json.loads(self.get("/openstack/latest/network_data.json")[1])
        port = psql(f"SELECT id || ' ' || mac_address FROM ports WHERE instance_uuid ="
                    f" '{self.sid}'").split()
        self.assertEqual(net["links"], [{"id": "tap" + port[0][:11], "vif_id": port[0],
                                         "type": "bridge", "mtu": None,
                                         "ethernet_mac_address": port[1]}])
        self.assertEqual(net["networks"][0]["type"], "ipv4_dhcp")
        self.assertEqual(net["networks"][0]["link"], "tap" + port[0][:11])
        self.assertEqual(json.loads(self.get("/openstack/latest/vendor_data.json")[1]), {})
        self.assertEqual(json.loads(self.get("/openstack/latest/vendor_data2.json")[1]),
                         {"static": {}})
        self.get("/openstack/2013-04-04/vendor_data.json", status=404)
        self.get("/openstack/latest/nothing", status=404)
        self.get("/openstack/1999-01-01/meta_data.json", status=404)

    def test_4_ec2_tree(self):
        listing = self.get("/latest/meta-data/")[1].decode().split("\n")
        for k in ("ami-id", "block-device-mapping/", "hostname", "instance-id", "local-ipv4",
                  "placement/", "public-keys/", "security-groups"):
            self.assertIn(k, listing)
        self.assertEqual(listing, sorted(listing))
        iid = psql(f"SELECT id FROM instances WHERE uuid = '{self.sid}'")
        self.assertEqual(self.get("/latest/meta-data/instance-id")[1].decode(),
                         "i-%08x" % int(iid))
        ip = psql(f"SELECT host(f.address) FROM fixed_ips f JOIN ports p ON p.id = f.port_id"
                  f" WHERE p.instance_uuid = '{self.sid}'")
        self.assertEqual(self.get("/latest/meta-data/local-ipv4")[1].decode(), ip)
        self.assertEqual(self.get("/latest/meta-data/public-keys/")[1], b"0=md-key")
        self.assertEqual(self.get("/latest/meta-data/public-keys/0/")[1], b"openssh-key")
        self.assertEqual(self.get("/latest/meta-data/public-keys/0/openssh-key")[1].decode(),
                         self.key)
        self.assertEqual(self.get("/2009-04-04/meta-data/placement/availability-zone")[1],
                         b"nova")
        self.assertEqual(self.get("/latest/user-data")[1], USER_DATA)
        # the same tree under /ec2, and per version (1.0 had no instance-type)
        self.assertEqual(self.get("/ec2/latest/meta-data/instance-id")[1],
                         self.get("/latest/meta-data/instance-id")[1])
        self.assertNotIn("instance-type", self.get("/1.0/meta-data/")[1].decode().split("\n"))
        self.get("/latest/meta-data/nothing", status=404)
        self.get("/1999/meta-data/", status=404)

    def test_5_password(self):
        sid = self.bare
        path = "/openstack/latest/password"
        self.assertEqual(md(path, sid)[::2], (200, b""))
        self.assertEqual(md(path, sid, method="POST", body=b"x" * 257)[0], 400)
        self.assertEqual(md(path, sid, method="POST", body=b"secret-pw")[0], 200)
        self.assertEqual(md(path, sid)[::2], (200, b"secret-pw"))
        # set once; the compute API shows it (os-server-password)
        self.assertEqual(md(path, sid, method="POST", body=b"again")[0], 409)
        r = request("GET", f"/v2.1/servers/{sid}/os-server-password", token=MEMBER)
        self.assertEqual(r.json, {"password": "secret-pw"})
        self.assertEqual(md(path, sid, method="PUT", body=b"x")[0], 400)
        self.get("/openstack/2012-08-10/password", sid=sid, status=404)

    def test_6_identity_errors(self):
        path = "/openstack/latest/meta_data.json"
        st, _, data = md(path)
        self.assertEqual((st, data.split(b"\n")[2]),
                         (400, b"X-Instance-ID header is missing from request."))
        st, _, data = md(path, self.sid, sign=False)
        self.assertEqual((st, data.split(b"\n")[2]),
                         (400, b"X-Instance-ID-Signature header is missing from request."))
        st, _, data = md(path, headers={"X-Instance-ID": self.sid,
                                        "X-Instance-ID-Signature": "0" * 64})
        self.assertEqual((st, data.split(b"\n")[2]),
                         (400, b"X-Tenant-ID header is missing from request."))
        # a signature of another id, or with another secret: 403
        for bad in (hmac.new(secret().encode(), self.bare.encode(), hashlib.sha256).hexdigest(),
                    hmac.new(b"guess", self.sid.encode(), hashlib.sha256).hexdigest(), "x"):
            st, _, data = md(path, headers={"X-Instance-ID": self.sid, "X-Tenant-ID": PROJECT,
                                            "X-Instance-ID-Signature": bad})
            self.assertEqual((st, data.split(b"\n")[2]), (403, b"Invalid proxy request signature."))
        # another project, an unknown or malformed id: 404, nothing leaks
        self.assertEqual(md(path, self.sid, tenant="other-proj")[0], 404)
        self.assertEqual(md(path, "9f2b4c1e-5d6a-4b7c-8e9f-0a1b2c3d4e5f")[0], 404)
        self.assertEqual(md(path, "not-a-uuid'; --")[0], 404)
        # the compute API's port does not serve metadata, nor this port the API
        self.assertEqual(request("GET", path).status, 404)
        st, _, _ = md("/v2.1/servers", self.sid)
        self.assertEqual(st, 404)


class Proxy(Guests):
    """cnova-metadata-proxy (what runs in each qdhcp namespace), here on
    loopback: the guest is told apart by its address in the ports file."""
    servers = []

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.dir = tempfile.mkdtemp(prefix="mdproxy-")
        cls.ports = os.path.join(cls.dir, "ports")
        with open(cls.ports, "w") as f:
            f.write(f"127.0.0.1 {cls.sid} {PROJECT}\n")
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            cls.port = s.getsockname()[1]
        exe = os.path.join(os.environ.get("CNOVA_BIN", os.path.join(REPO, "build")),
                           "cnova-metadata-proxy")
        cls.proc = subprocess.Popen(
            [exe, "--config", os.path.join(RUN, "cnova.conf"), "--ports", cls.ports,
             "--upstream", os.path.join(RUN, "metadata.sock"), "--listen", "127.0.0.1",
             "--port", str(cls.port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", cls.port), timeout=1).close()
                break
            except OSError:
                assert time.time() < deadline, "the proxy did not start"
                time.sleep(0.1)

    @classmethod
    def tearDownClass(cls):
        cls.proc.terminate()
        cls.proc.wait(10)
        os.unlink(cls.ports)
        os.rmdir(cls.dir)
        super().tearDownClass()

    def via(self, path, headers=None, method="GET", body=None):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            r = conn.getresponse()
            return r.status, r.read()
        finally:
            conn.close()

    def test_1_guest_reads_its_own(self):
        st, data = self.via("/openstack/latest/meta_data.json")
        self.assertEqual(st, 200, data)
        self.assertEqual(json.loads(data)["uuid"], self.sid)
        self.assertEqual(self.via("/latest/meta-data/instance-id")[1].decode(),
                         "i-%08x" % int(psql(f"SELECT id FROM instances"
                                             f" WHERE uuid = '{self.sid}'")))
        # a guest naming another instance (with any signature) is still itself
        forged = {"X-Instance-ID": self.bare, "X-Tenant-ID": PROJECT,
                  "X-Instance-ID-Signature": "0" * 64, "X-Forwarded-For": "10.9.9.9"}
        st, data = self.via("/openstack/latest/meta_data.json", headers=forged)
        self.assertEqual((st, json.loads(data)["uuid"]), (200, self.sid))
        # a POST body goes through (the password, set once)
        self.assertEqual(self.via("/openstack/latest/password", method="POST",
                                  body=b"via-proxy")[0], 200)
        self.assertEqual(self.via("/openstack/latest/password"), (200, b"via-proxy"))

    def test_2_unknown_guest(self):
        with open(self.ports, "w") as f:
            f.write(f"10.0.0.99 {self.sid} {PROJECT}\n")
        try:
            self.assertEqual(self.via("/openstack/latest/meta_data.json")[0], 404)
        finally:
            with open(self.ports, "w") as f:
                f.write(f"127.0.0.1 {self.sid} {PROJECT}\n")


if __name__ == "__main__":
    unittest.main()
