"""os-keypairs at every microversion that changes it (2.1, 2.2, 2.10, 2.35,
2.92, latest, and /v2): generated and imported keys, fingerprints checked
against ssh-keygen / openssl and Nova's own algorithm (pyca/cryptography),
sample shapes and response schemas, admins acting for other users,
pagination, quota, and every error path with Nova's wording."""
import base64, hashlib, os, subprocess, tempfile, unittest, uuid

from common import ApiTest, BASE, psql, request, sample

SAMPLES = "os-keypairs"
IMPORT_KEY = sample(f"{SAMPLES}/keypairs-import-post-req.json")["keypair"]["public_key"]
IMPORT_FP = "1e:2c:9b:56:79:4b:45:77:f9:ca:7a:98:2c:b0:d5:3c"


def uid():
    return "kp" + uuid.uuid4().hex[:10]


def nova_fingerprint(public_key):
    """Nova's crypto.generate_fingerprint, as a reference (None = invalid)."""
    from cryptography.hazmat.primitives import serialization
    try:
        serialization.load_ssh_public_key(public_key.encode())
        raw = hashlib.md5(base64.b64decode(public_key.split(" ")[1])).hexdigest()
    except Exception:
        return None
    return ":".join(a + b for a, b in zip(raw[::2], raw[1::2]))


def keygen_md5(public_key):
    """ssh-keygen -l -E md5 of a public key line."""
    with tempfile.NamedTemporaryFile("w", suffix=".pub") as f:
        f.write(public_key + "\n")
        f.flush()
        out = subprocess.run(["ssh-keygen", "-l", "-E", "md5", "-f", f.name],
                             capture_output=True, text=True, check=True).stdout
    return out.split()[1].removeprefix("MD5:")


def new_ssh_key(kind):
    """A fresh OpenSSH public key line of type kind ("ed25519", "ecdsa -b 384" ...)."""
    with tempfile.TemporaryDirectory() as d:
        subprocess.run(["ssh-keygen", "-q", "-N", "", "-C", "me@host", "-f", d + "/k", "-t",
                        *kind.split()], check=True, capture_output=True)
        with open(d + "/k.pub") as f:
            return f.read().strip()


def new_cert():
    """A self-signed PEM certificate and its SHA1 fingerprint (openssl)."""
    with tempfile.TemporaryDirectory() as d:
        subprocess.run(["openssl", "req", "-x509", "-nodes", "-newkey", "rsa:1024", "-keyout",
                        d + "/k", "-out", d + "/c", "-subj", "/CN=kp", "-days", "30"],
                       check=True, capture_output=True)
        fp = subprocess.run(["openssl", "x509", "-in", d + "/c", "-noout", "-fingerprint",
                             "-sha1"], capture_output=True, text=True, check=True).stdout
        with open(d + "/c") as f:
            return f.read(), fp.strip().split("=")[1].lower()


class KeypairTest(ApiTest):
    def setUp(self):
        self.user = uid()
        self.token = f"{self.user}:{self.user}-proj"

    def create(self, version, token=None, status=None, **kp):
        kp.setdefault("name", uid())
        r = request("POST", "/v2.1/os-keypairs", {"keypair": kp}, token=token or self.token,
                    version=version)
        if status:
            self.assertEqual(r.status, status, r)
        return r

    def check(self, r, method, path, version, sample_path):
        self.assertMatchesSchema(r.json, method, path, version)
        self.assertLikeSample(r.json, f"{SAMPLES}/{sample_path}")


class Create(KeypairTest):
    def test_generate_21(self):
        r = self.create("2.1", status=200)
        self.check(r, "POST", "/os-keypairs", "2.1", "keypairs-post-resp.json")
        kp = r.json["keypair"]
        self.assertEqual(kp["user_id"], self.user)
        self.assertTrue(kp["private_key"].startswith("-----BEGIN RSA PRIVATE KEY-----\n"))
        self.assertTrue(kp["public_key"].startswith("ssh-rsa AAAA"))
        self.assertTrue(kp["public_key"].endswith(" Generated-by-Nova"))
        self.assertEqual(kp["fingerprint"], keygen_md5(kp["public_key"]))
        self.assertEqual(kp["fingerprint"], nova_fingerprint(kp["public_key"]))
        # the private key is the public key's pair, RSA 2048
        with tempfile.NamedTemporaryFile("w") as f:
            f.write(kp["private_key"])
            f.flush()
            os.chmod(f.name, 0o600)
            pub = subprocess.run(["ssh-keygen", "-y", "-f", f.name], capture_output=True,
                                 text=True, check=True).stdout.split()
        self.assertEqual(pub[1], kp["public_key"].split()[1])
        self.assertIn("2048", subprocess.run(["ssh-keygen", "-l", "-f", "/dev/stdin"],
                                             input=kp["public_key"], capture_output=True,
                                             text=True).stdout)

    def test_generate_22_to_291(self):
        for v, folder in (("2.2", "v2.2"), ("2.10", "v2.10"), ("2.35", "v2.35"), ("2.91", "v2.35")):
            r = self.create(v, status=201, type="ssh")
            self.check(r, "POST", "/os-keypairs", v, f"{folder}/keypairs-post-resp.json")
            self.assertEqual(r.json["keypair"]["type"], "ssh")
            self.assertEqual(r.json["keypair"]["fingerprint"],
                             keygen_md5(r.json["keypair"]["public_key"]))

    def test_generate_gone_at_292(self):
        for v in ("2.92", "latest"):
            r = self.create(v)
            self.assertFault(r, 400, "badRequest", "'public_key' is a required property")

    def test_import_every_version(self):
        for v, folder, status in (("2.1", "", 200), ("2.2", "v2.2/", 201), ("2.10", "v2.10/", 201),
                                  ("2.92", "v2.92/", 201), ("latest", "v2.92/", 201)):
            r = self.create(v, status=status, public_key=IMPORT_KEY)
            self.check(r, "POST", "/os-keypairs", "2.104" if v == "latest" else v,
                       f"{folder}keypairs-import-post-resp.json")
            self.assertEqual(r.json["keypair"]["fingerprint"], IMPORT_FP)
            self.assertEqual(r.json["keypair"]["public_key"], IMPORT_KEY)
            self.assertNotIn("private_key", r.json["keypair"])

    def test_import_every_key_type(self):
        for kind in ("rsa -b 2048", "ed25519", "ecdsa -b 256", "ecdsa -b 384", "ecdsa -b 521"):
            key = new_ssh_key(kind)
            r = self.create("2.92", status=201, public_key=key)
            fp = r.json["keypair"]["fingerprint"]
            self.assertEqual(fp, keygen_md5(key), kind)
            self.assertEqual(fp, nova_fingerprint(key), kind)

    def test_import_x509(self):
        cert, fp = new_cert()
        name = uid()
        r = self.create("2.2", status=201, name=name, type="x509", public_key=cert)
        self.assertEqual(r.json["keypair"]["type"], "x509")
        self.assertEqual(r.json["keypair"]["fingerprint"], fp)
        r = request("GET", f"/v2.1/os-keypairs/{name}", token=self.token, version="2.2")
        self.assertEqual((r.json["keypair"]["type"], r.json["keypair"]["public_key"]), ("x509", cert))

    def test_generate_x509(self):
        r = self.create("2.2", status=201, type="x509")
        kp = r.json["keypair"]
        self.assertTrue(kp["public_key"].startswith("-----BEGIN CERTIFICATE-----"))
        with tempfile.TemporaryDirectory() as d:
            with open(d + "/c", "w") as f:
                f.write(kp["public_key"])
            fp = subprocess.run(["openssl", "x509", "-in", d + "/c", "-noout", "-fingerprint",
                                 "-sha1", "-subject"], capture_output=True, text=True,
                                check=True).stdout
            with open(d + "/p12", "wb") as f:
                f.write(base64.b64decode(kp["private_key"]))
            p12 = subprocess.run(["openssl", "pkcs12", "-in", d + "/p12", "-passin", "pass:",
                                  "-nodes"], capture_output=True, text=True)
        self.assertIn(kp["fingerprint"].upper(), fp)
        self.assertIn(f"CN = {self.user}", fp)
        self.assertEqual(p12.returncode, 0, p12.stderr)
        self.assertIn("PRIVATE KEY", p12.stdout)

    def test_invalid_keys(self):
        for key in ("", "ssh-rsa", "not a key", "ssh-rsa AAAAB3NzaC1yc2EAAAA=",
                    "ssh-ed25519 " + IMPORT_KEY.split()[1], IMPORT_KEY[:80]):
            self.assertIsNone(nova_fingerprint(key))
            for v in ("2.1", "2.92"):
                r = self.create(v, public_key=key)
                self.assertFault(r, 400, "badRequest")
                self.assertEqual(r.json["badRequest"]["message"],
                                 "Keypair data is invalid: failed to generate fingerprint")
        r = self.create("2.2", type="x509", public_key="garbage")
        self.assertFault(r, 400, "badRequest", "Keypair data is invalid: failed to generate X509 "
                                               "fingerprint. Error message: ")

    def test_duplicate_and_reuse_after_delete(self):
        name = uid()
        self.create("2.2", status=201, name=name)
        r = self.create("2.2", name=name, public_key=IMPORT_KEY)
        self.assertFault(r, 409, "conflictingRequest")
        self.assertEqual(r.json["conflictingRequest"]["message"], f"Key pair '{name}' already exists.")
        # another user may use the same name
        self.create("2.2", token=uid(), status=201, name=name)
        r = request("DELETE", f"/v2.1/os-keypairs/{name}", token=self.token, version="2.2")
        self.assertEqual(r.status, 204)
        self.create("2.2", status=201, name=name, public_key=IMPORT_KEY)

    def test_name_rules(self):
        self.assertFault(self.create("2.1", name="a@b.c", public_key=IMPORT_KEY), 400, "badRequest")
        self.assertFault(self.create("2.91", name="a.b", public_key=IMPORT_KEY), 400, "badRequest")
        self.assertFault(self.create("2.1", name=" lead"), 400, "badRequest")
        self.assertFault(self.create("2.1", name=""), 400, "badRequest")
        self.assertFault(self.create("2.1", name="x" * 256), 400, "badRequest")
        r = self.create("2.92", status=201, name="me.and.myself@this.nice.domain.com mooh.",
                        public_key=IMPORT_KEY)
        self.check(r, "POST", "/os-keypairs", "2.92", "v2.92/keypairs-import-post-resp.json")

    def test_fields_by_version(self):
        self.assertFault(self.create("2.1", type="ssh"), 400, "badRequest")
        self.assertFault(self.create("2.2", type="rsa"), 400, "badRequest")
        self.assertFault(self.create("2.9", user_id="x"), 400, "badRequest")
        self.assertFault(request("POST", "/v2.1/os-keypairs", {"name": "x"}, token=self.token),
                         400, "badRequest")

    def test_admin_creates_for_another_user(self):
        other = uid()
        r = self.create("2.10", token="admin:admin", status=201, user_id=other)
        self.check(r, "POST", "/os-keypairs", "2.10", "v2.10/keypairs-post-resp.json")
        self.assertEqual(r.json["keypair"]["user_id"], other)
        name = r.json["keypair"]["name"]
        r = request("GET", f"/v2.1/os-keypairs/{name}", token=other, version="2.10")
        self.assertEqual(r.status, 200)
        # not the admin's own
        r = request("GET", f"/v2.1/os-keypairs/{name}", token="admin:admin", version="2.10")
        self.assertFault(r, 404, "itemNotFound")

    def test_member_cannot_create_for_another_user(self):
        r = self.create("2.10", user_id=uid())
        self.assertFault(r, 403, "forbidden")
        self.assertEqual(r.json["forbidden"]["message"],
                         "Policy doesn't allow os_compute_api:os-keypairs:create to be performed.")
        # naming oneself is fine
        self.create("2.10", status=201, user_id=self.user)

    def test_legacy_v2(self):
        r = request("POST", "/v2/os-keypairs", {"keypair": {"name": uid()}}, token=self.token)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(set(r.json["keypair"]),
                         {"name", "public_key", "fingerprint", "user_id", "private_key"})

    def test_quota(self):
        project = uid()
        token = f"{self.user}:{project}"
        psql(f"INSERT INTO quotas (project_id, resource, hard_limit) VALUES ('{project}', 'key_pairs', 1)")
        self.create("2.2", token=token, status=201)
        for kp in ({}, {"public_key": IMPORT_KEY}, {"public_key": "bad"}):
            r = self.create("2.2", token=token, **kp)
            self.assertFault(r, 403, "forbidden")
            self.assertEqual(r.json["forbidden"]["message"], "Quota exceeded, too many key pairs.")


class ListShowDelete(KeypairTest):
    def names(self, r):
        return [k["keypair"]["name"] for k in r.json["keypairs"]]

    def test_list_every_version(self):
        self.create("2.2", status=201, public_key=IMPORT_KEY)
        for v, folder in (("2.1", ""), ("2.2", "v2.2/"), ("2.10", "v2.10/"), ("2.35", "v2.35/"),
                          ("2.92", "v2.35/"), ("latest", "v2.35/")):
            r = request("GET", "/v2.1/os-keypairs", token=self.token, version=v)
            self.assertEqual(r.status, 200, r)
            self.assertMatchesSchema(r.json, "GET", "/os-keypairs", "2.104" if v == "latest" else v)
            body = dict(r.json)
            if folder == "v2.35/":
                self.assertNotIn("keypairs_links", body)
                body["keypairs_links"] = [{"href": BASE, "rel": "next"}]
            self.assertLikeSample(body, f"{SAMPLES}/{folder}keypairs-list-resp.json")
            self.assertEqual(r.json["keypairs"][0]["keypair"]["fingerprint"], IMPORT_FP)

    def test_list_only_own(self):
        mine = self.create("2.2", status=201).json["keypair"]["name"]
        self.create("2.2", token=uid(), status=201)
        r = request("GET", "/v2.1/os-keypairs", token=self.token, version="2.2")
        self.assertEqual(self.names(r), [mine])

    def test_pagination(self):
        names = sorted(uid() for _ in range(3))
        for n in reversed(names):
            self.create("2.35", status=201, name=n)
        r = request("GET", "/v2.1/os-keypairs?limit=2", token=self.token, version="2.35")
        self.check(r, "GET", "/os-keypairs", "2.35", "v2.35/keypairs-list-resp.json")
        self.assertEqual(self.names(r), names[:2])
        link = r.json["keypairs_links"][0]["href"]
        self.assertTrue(link.startswith(BASE + "/v2.1/os-keypairs?"), link)
        self.assertIn(f"marker={names[1]}", link)
        r = request("GET", link[len(BASE):], token=self.token, version="2.35")
        self.assertEqual(self.names(r), names[2:])
        self.assertNotIn("keypairs_links", r.json)
        r = request("GET", f"/v2.1/os-keypairs?marker={names[0]}", token=self.token, version="2.35")
        self.assertEqual(self.names(r), names[1:])
        r = request("GET", "/v2.1/os-keypairs?limit=0", token=self.token, version="2.35")
        self.assertEqual(r.json, {"keypairs": []})
        r = request("GET", "/v2.1/os-keypairs?limit=3", token=self.token, version="2.35")
        self.assertEqual(self.names(r), names)
        self.assertIn("keypairs_links", r.json)
        # before 2.35 limit and marker are ignored
        r = request("GET", "/v2.1/os-keypairs?limit=1&marker=nope", token=self.token, version="2.34")
        self.assertEqual(self.names(r), names)

    def test_pagination_errors(self):
        r = request("GET", "/v2.1/os-keypairs?marker=nope", token=self.token, version="2.35")
        self.assertFault(r, 400, "badRequest")
        self.assertEqual(r.json["badRequest"]["message"], "Marker nope could not be found.")
        for q in ("limit=-1", "limit=x"):
            self.assertFault(request("GET", f"/v2.1/os-keypairs?{q}", token=self.token,
                                     version="2.35"), 400, "badRequest")
        self.assertFault(request("GET", "/v2.1/os-keypairs?foo=1", token=self.token,
                                 version="2.75"), 400, "badRequest")
        r = request("GET", "/v2.1/os-keypairs?foo=1", token=self.token, version="2.74")
        self.assertEqual(r.status, 200)

    def test_admin_lists_another_user(self):
        other = uid()
        names = sorted(self.create("2.2", token=other, status=201).json["keypair"]["name"]
                       for _ in range(2))
        r = request("GET", f"/v2.1/os-keypairs?user_id={other}&limit=1", token="admin:admin",
                    version="2.35")
        self.check(r, "GET", "/os-keypairs", "2.35", "v2.35/keypairs-list-user2-resp.json")
        self.assertEqual(self.names(r), names[:1])
        self.assertIn(f"user_id={other}", r.json["keypairs_links"][0]["href"])
        r = request("GET", f"/v2.1/os-keypairs?user_id={other}", token="admin:admin", version="2.10")
        self.assertEqual(self.names(r), names)
        # before 2.10 ?user_id is ignored: the admin's own list
        r = request("GET", f"/v2.1/os-keypairs?user_id={other}", token="admin:admin", version="2.9")
        self.assertNotIn(names[0], self.names(r))
        r = request("GET", f"/v2.1/os-keypairs?user_id={other}", token=self.token, version="2.10")
        self.assertFault(r, 403, "forbidden",
                         "Policy doesn't allow os_compute_api:os-keypairs:index to be performed.")
        r = request("GET", f"/v2.1/os-keypairs?user_id={other}", token=self.token, version="2.9")
        self.assertEqual(r.status, 200)

    def test_show_every_version(self):
        name = self.create("2.2", status=201, public_key=IMPORT_KEY).json["keypair"]["name"]
        for v, folder in (("2.1", ""), ("2.2", "v2.2/"), ("2.10", "v2.10/"), ("2.35", "v2.10/"),
                          ("2.92", "v2.10/"), ("latest", "v2.10/")):
            r = request("GET", f"/v2.1/os-keypairs/{name}", token=self.token, version=v)
            self.assertEqual(r.status, 200, r)
            self.check(r, "GET", "/os-keypairs/{id}", "2.104" if v == "latest" else v,
                       f"{folder}keypairs-get-resp.json")
            kp = r.json["keypair"]
            self.assertEqual((kp["name"], kp["user_id"], kp["fingerprint"], kp["deleted"]),
                             (name, self.user, IMPORT_FP, False))
            self.assertRegex(kp["created_at"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}$")

    def test_show_errors(self):
        r = request("GET", "/v2.1/os-keypairs/nope", token=self.token, version="2.1")
        self.assertFault(r, 404, "itemNotFound")
        self.assertEqual(r.json["itemNotFound"]["message"], f"Keypair nope not found for user {self.user}")
        name = self.create("2.2", status=201).json["keypair"]["name"]
        r = request("GET", f"/v2.1/os-keypairs/{name}", token=uid(), version="2.2")
        self.assertFault(r, 404, "itemNotFound")
        r = request("GET", f"/v2.1/os-keypairs/{name}?user_id={self.user}", token="admin:admin",
                    version="2.10")
        self.assertEqual(r.json["keypair"]["user_id"], self.user)
        r = request("GET", f"/v2.1/os-keypairs/{name}?user_id={self.user}", token=uid(),
                    version="2.10")
        self.assertFault(r, 403, "forbidden",
                         "Policy doesn't allow os_compute_api:os-keypairs:show to be performed.")
        self.assertFault(request("GET", f"/v2.1/os-keypairs/{name}?foo=1", token=self.token,
                                 version="2.75"), 400, "badRequest")

    def test_delete(self):
        for v, status in (("2.1", 202), ("2.2", 204), ("2.10", 204), ("latest", 204)):
            name = self.create("2.2", status=201).json["keypair"]["name"]
            r = request("DELETE", f"/v2.1/os-keypairs/{name}", token=self.token, version=v)
            self.assertEqual(r.status, status, r)
            self.assertEqual(r.data, b"")
            r = request("DELETE", f"/v2.1/os-keypairs/{name}", token=self.token, version=v)
            self.assertFault(r, 404, "itemNotFound")
            self.assertEqual(r.json["itemNotFound"]["message"],
                             f"Keypair {name} not found for user {self.user}")
            self.assertFault(request("GET", f"/v2.1/os-keypairs/{name}", token=self.token), 404,
                             "itemNotFound")
        self.assertEqual(psql(f"SELECT count(*) FROM key_pairs WHERE user_id = '{self.user}'"
                              " AND deleted = 0"), "0")

    def test_delete_for_another_user(self):
        name = self.create("2.2", status=201).json["keypair"]["name"]
        r = request("DELETE", f"/v2.1/os-keypairs/{name}?user_id={self.user}", token=uid(),
                    version="2.10")
        self.assertFault(r, 403, "forbidden",
                         "Policy doesn't allow os_compute_api:os-keypairs:delete to be performed.")
        r = request("DELETE", f"/v2.1/os-keypairs/{name}?user_id={self.user}",
                    token="admin:admin", version="2.9")
        self.assertFault(r, 404, "itemNotFound")  # ?user_id ignored before 2.10
        r = request("DELETE", f"/v2.1/os-keypairs/{name}?user_id={self.user}",
                    token="admin:admin", version="2.10")
        self.assertEqual(r.status, 204)


if __name__ == "__main__":
    unittest.main()
