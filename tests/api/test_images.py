"""Nova's image proxy API (/images up to 2.35, /images/{id}/metadata up to
2.38) served from the built-in registry: the seeded images, list and detail
with every filter and paging, show and delete, the six metadata routes,
compared with Nova's samples and response schemas; visibility, ownership,
quota and the routes' version limits."""
import hashlib, os, socket, subprocess, tempfile, time, unittest, uuid

from common import BASE, RUN, ApiTest, psql, request, sample

CIRROS = "80292edd-18c0-4446-9fa4-994b39a2dc15"
FAKE7 = "70a599e0-31e7-49b7-b260-868f441e862b"  # auto_disk_config True
FAKE6 = "a440c04b-79fa-479c-bed1-0b816eaec379"  # auto_disk_config False
SEEDED = [CIRROS, "155d900f-4e14-4e4c-a73d-069cbf4541e6", "a2459075-d96c-40d5-893e-577ff92e721c",
          "76fa36fc-c930-4bf3-8c8a-ea2a2420deb6", "cedef40a-ed67-4d10-800e-17455edce175",
          "c905cedb-7281-47e4-8a62-f26bc5fc4c77", FAKE6, FAKE7]
VERSIONS = ["2.1", "2.35"]
ALTERNATE = lambda n: tuple(f"$.images[{i}].links[2]" for i in range(n))
DETAIL_SAMPLE = sample("images/images-details-get-resp.json")["images"]


def make_image(owner, visibility="private", name=None, props=None, protected=False,
               min_ram=0, min_disk=0, status="active"):
    iid = str(uuid.uuid4())
    psql(f"INSERT INTO images (id, name, status, size, disk_format, container_format, min_disk,"
         f" min_ram, visibility, owner, protected) VALUES ('{iid}', '{name or 'img-' + iid[:8]}',"
         f" '{status}', 1024, 'qcow2', 'bare', {min_disk}, {min_ram}, '{visibility}', '{owner}',"
         f" {str(protected).lower()})")
    for k, v in (props or {}).items():
        psql(f"INSERT INTO image_properties VALUES ('{iid}', '{k}', '{v}')")
    return iid


class ImageFixtures(ApiTest):
    """A project of the test's own and the images it makes (removed after)."""
    def setUp(self):
        self.project = "im" + uuid.uuid4().hex[:10]
        self.token = f"u{self.project}:{self.project}"
        self.made = []

    def tearDown(self):
        for iid in self.made:
            psql(f"DELETE FROM images WHERE id = '{iid}'")
        psql(f"DELETE FROM quotas WHERE project_id = '{self.project}'")

    def image(self, **kw):
        kw.setdefault("owner", self.project)
        iid = make_image(**kw)
        self.made.append(iid)
        return iid


class Images(ImageFixtures):
    def like_detail_sample(self, img):
        """An image against the sample entry of the same id (the seeded
        images are Nova's sample images), else one of the same shape."""
        want = [s for s in DETAIL_SAMPLE if s["id"] == img["id"]]
        if not want:
            want = [s for s in DETAIL_SAMPLE
                    if ("OS-DCF:diskConfig" in s) == ("OS-DCF:diskConfig" in img)]
        self.assertEqual(set(img) - {"server"}, set(want[0]), img)
        for k in ("id", "name", "status", "created", "updated"):
            self.assertIsInstance(img[k], str)
        for k in ("minRam", "minDisk", "progress", "OS-EXT-IMG-SIZE:size"):
            self.assertIsInstance(img[k], int)
        self.assertEqual([l["rel"] for l in img["links"]], ["self", "bookmark", "alternate"])
        self.assertEqual(img["links"][2]["type"], "application/vnd.openstack.image")
        self.assertTrue(img["links"][2]["href"].endswith("/images/" + img["id"]))

    # ---- the seeded images ----

    def test_seeded_images(self):
        for v in VERSIONS:
            with self.subTest(version=v):
                r = request("GET", "/v2.1/images", version=v)
                self.assertEqual(r.status, 200, r)
                # (the helper holds every link to the first one; the third
                # is the "alternate" link with its "type", as in the sample)
                self.assertLikeSample(r.json, "images/images-list-get-resp.json",
                                      nullable=ALTERNATE(len(r.json["images"])))
                self.assertMatchesSchema(r.json, "GET", "/images", v)
                ids = [i["id"] for i in r.json["images"]]
                self.assertTrue(set(SEEDED) <= set(ids), ids)
                self.assertNotIn("images_links", r.json)
                d = request("GET", "/v2.1/images/detail", version=v)
                self.assertEqual(d.status, 200, d)
                self.assertMatchesSchema(d.json, "GET", "/images/detail", v)
                for img in d.json["images"]:
                    self.like_detail_sample(img)
                self.assertEqual([i["id"] for i in d.json["images"]], ids)

    def test_show_like_sample(self):
        for v in VERSIONS:
            with self.subTest(version=v):
                r = request("GET", f"/v2.1/images/{FAKE7}", version=v)
                self.assertEqual(r.status, 200, r)
                self.assertLikeSample(r.json, "images/image-get-resp.json",
                                      nullable=("$.image.links[2]",))
                self.assertMatchesSchema(r.json, "GET", "/images/{id}", v)
                want = sample("images/image-get-resp.json")["image"]
                got = r.json["image"]
                for k in ("id", "name", "minRam", "minDisk", "metadata", "status", "progress",
                          "OS-EXT-IMG-SIZE:size", "OS-DCF:diskConfig", "created", "updated"):
                    self.assertEqual(got[k], want[k], k)
        r = request("GET", f"/v2.1/images/{FAKE6}")
        self.assertEqual(r.json["image"]["OS-DCF:diskConfig"], "MANUAL")
        r = request("GET", f"/v2.1/images/{CIRROS}")
        self.assertEqual(r.json["image"]["name"], "cirros-0.6.2-x86_64-disk")
        self.assertNotIn("OS-DCF:diskConfig", r.json["image"])
        self.assertMatchesSchema(r.json, "GET", "/images/{id}", "2.1")

    def test_server_link_status_and_progress(self):
        server = str(uuid.uuid4())
        iid = self.image(visibility="public", props={"instance_uuid": server}, status="saving")
        r = request("GET", f"/v2.1/images/{iid}", token=self.token)
        img = r.json["image"]
        self.assertEqual((img["status"], img["progress"]), ("SAVING", 50))
        self.assertEqual(img["server"]["id"], server)
        self.assertEqual([l["rel"] for l in img["server"]["links"]], ["self", "bookmark"])
        self.assertTrue(img["server"]["links"][0]["href"].endswith("/v2.1/servers/" + server))
        self.assertMatchesSchema(r.json, "GET", "/images/{id}", "2.1")
        # server filter: a server URL or its id
        for value in (server, f"http://x/v2.1/servers/{server}"):
            got = request("GET", f"/v2.1/images?server={value}", token=self.token)
            self.assertEqual([i["id"] for i in got.json["images"]], [iid])

    # ---- filters and paging ----

    def test_filters(self):
        a = self.image(name="flt-a", min_ram=512, min_disk=5, props={"image_type": "snapshot",
                                                                      "architecture": "aarch64"})
        b = self.image(name="flt-b", min_ram=2048, min_disk=20)
        c = self.image(name="flt-c", status="queued")
        mine = {a, b, c}

        def ids(q):
            r = request("GET", "/v2.1/images/detail?" + q, token=self.token)
            self.assertEqual(r.status, 200, r)
            return {i["id"] for i in r.json["images"]} & mine
        self.assertEqual(ids("name=flt-a"), {a})
        self.assertEqual(ids("minRam=1024"), {b})
        self.assertEqual(ids("minDisk=5"), {a, b})
        self.assertEqual(ids("type=snapshot"), {a})
        self.assertEqual(ids("property-architecture=aarch64"), {a})
        self.assertEqual(ids("status=SAVING".replace("SAVING", "queued")), {c})
        self.assertEqual(ids("status=ACTIVE"), {a, b})
        self.assertEqual(ids("changes-since=2000-01-01T00:00:00Z"), mine)
        self.assertEqual(ids("changes-since=2999-01-01T00:00:00Z"), set())
        self.assertEqual(request("GET", "/v2.1/images?status=queued", token=self.token)
                         .json["images"][0]["id"], c)
        for q in ("minRam=abc", "minDisk=-1", "changes-since=yesterday"):
            with self.subTest(query=q):
                self.assertFault(request("GET", "/v2.1/images?" + q), 400, "badRequest")

    def test_paging(self):
        for path in ("/v2.1/images", "/v2.1/images/detail"):
            with self.subTest(path=path):
                r = request("GET", path + "?limit=3")
                self.assertEqual(r.status, 200, r)
                self.assertEqual(len(r.json["images"]), 3)
                link = r.json["images_links"][0]
                self.assertEqual(link["rel"], "next")
                last = r.json["images"][-1]["id"]
                self.assertIn(f"{path}?limit=3&marker={last}", link["href"])
                self.assertMatchesSchema(r.json, "GET", path[5:], "2.1")
                seen = [i["id"] for i in r.json["images"]]
                while "images_links" in r.json:
                    r = request("GET", path + "?limit=3&marker=" + seen[-1])
                    self.assertEqual(r.status, 200, r)
                    seen += [i["id"] for i in r.json["images"]]
                everything = [i["id"] for i in request("GET", path).json["images"]]
                self.assertEqual(seen, everything)
        self.assertFault(request("GET", "/v2.1/images?marker=" + str(uuid.uuid4())), 400,
                         "badRequest", "could not be found")
        self.assertFault(request("GET", "/v2.1/images?limit=-1"), 400, "badRequest")
        self.assertFault(request("GET", "/v2.1/images?limit=abc"), 400, "badRequest")

    # ---- visibility, show and delete ----

    def test_visibility(self):
        private = self.image()
        other = "u-other:other" + uuid.uuid4().hex[:6]
        self.assertEqual(request("GET", f"/v2.1/images/{private}", token=self.token).status, 200)
        self.assertEqual(request("GET", f"/v2.1/images/{private}").status, 200)  # admin
        self.assertFault(request("GET", f"/v2.1/images/{private}", token=other), 404,
                         "itemNotFound", "Image not found.")
        listed = [i["id"] for i in request("GET", "/v2.1/images", token=other).json["images"]]
        self.assertNotIn(private, listed)
        self.assertIn(CIRROS, listed)
        for bad in (str(uuid.uuid4()), "not-a-uuid"):
            self.assertFault(request("GET", f"/v2.1/images/{bad}"), 404, "itemNotFound",
                             "Image not found.")
            self.assertFault(request("DELETE", f"/v2.1/images/{bad}"), 404, "itemNotFound",
                             "Image not found.")

    def test_delete(self):
        public = self.image(visibility="public", owner="someone-else")
        self.assertFault(request("DELETE", f"/v2.1/images/{public}", token=self.token), 403,
                         "forbidden", "You are not allowed to delete the image.")
        protected = self.image(protected=True)
        self.assertFault(request("DELETE", f"/v2.1/images/{protected}", token=self.token), 403,
                         "forbidden", "You are not allowed to delete the image.")
        mine = self.image()
        r = request("DELETE", f"/v2.1/images/{mine}", token=self.token, version="2.35")
        self.assertEqual((r.status, r.data), (204, b""), r)
        self.assertFault(request("GET", f"/v2.1/images/{mine}", token=self.token), 404,
                         "itemNotFound")
        self.assertEqual(psql(f"SELECT status, deleted FROM images WHERE id = '{mine}'"),
                         "deleted|t")
        r = request("DELETE", f"/v2.1/images/{public}")  # admin may
        self.assertEqual(r.status, 204, r)

    def test_version_limits(self):
        for path in ("/v2.1/images", "/v2.1/images/detail", f"/v2.1/images/{CIRROS}"):
            for v in ("2.36", "latest"):
                self.assertFault(request("GET", path, version=v), 404, "itemNotFound")
        self.assertFault(request("DELETE", f"/v2.1/images/{CIRROS}", version="2.36"), 404,
                         "itemNotFound")
        meta = f"/v2.1/images/{CIRROS}/metadata"
        self.assertEqual(request("GET", meta, version="2.38").status, 200)
        for v in ("2.39", "latest"):
            self.assertFault(request("GET", meta, version=v), 404, "itemNotFound")
            self.assertFault(request("GET", meta + "/architecture", version=v), 404,
                             "itemNotFound")
        # the legacy /v2 API serves them too
        self.assertEqual(request("GET", f"/v2/images/{CIRROS}").status, 200)


class ImageMetadata(ApiTest):
    def setUp(self):
        self.project = "imm" + uuid.uuid4().hex[:10]
        self.token = f"u{self.project}:{self.project}"
        self.iid = make_image(self.project, props={"architecture": "x86_64",
                                                   "auto_disk_config": "True",
                                                   "kernel_id": "nokernel",
                                                   "ramdisk_id": "nokernel"})
        self.base = f"/v2.1/images/{self.iid}/metadata"

    def tearDown(self):
        psql(f"DELETE FROM images WHERE id = '{self.iid}'")
        psql(f"DELETE FROM quotas WHERE project_id = '{self.project}'")

    def call(self, method, path="", body=None, version=None, token=None):
        return request(method, self.base + path, body, token=token or self.token, version=version)

    def test_every_route_like_samples(self):
        for v in ("2.1", "2.38"):
            with self.subTest(version=v):
                r = self.call("GET", version=v)
                self.assertEqual(r.json, sample("images/image-metadata-get-resp.json"))
                self.assertMatchesSchema(r.json, "GET", "/images/{image_id}/metadata", v)
                r = self.call("GET", "/kernel_id", version=v)
                self.assertEqual(r.json, sample("images/image-meta-key-get.json"))
                self.assertMatchesSchema(r.json, "GET", "/images/{image_id}/metadata/{id}", v)
                r = self.call("POST", body=sample("images/image-metadata-post-req.json"), version=v)
                self.assertEqual((r.status, r.json),
                                 (200, sample("images/image-metadata-post-resp.json")), r)
                self.assertMatchesSchema(r.json, "POST", "/images/{image_id}/metadata", v)
                r = self.call("PUT", "/auto_disk_config",
                              sample("images/image-meta-key-put-req.json"), version=v)
                self.assertEqual((r.status, r.json),
                                 (200, sample("images/image-meta-key-put-resp.json")), r)
                self.assertMatchesSchema(r.json, "PUT", "/images/{image_id}/metadata/{id}", v)
                r = self.call("PUT", body=sample("images/image-metadata-put-req.json"), version=v)
                self.assertEqual((r.status, r.json),
                                 (200, sample("images/image-metadata-put-resp.json")), r)
                self.assertMatchesSchema(r.json, "PUT", "/images/{image_id}/metadata", v)
                self.assertEqual(self.call("GET").json,
                                 sample("images/image-metadata-put-resp.json"))
                r = self.call("DELETE", "/Label", version=v)
                self.assertEqual((r.status, r.data), (204, b""), r)
                self.assertEqual(self.call("GET").json, {"metadata": {"auto_disk_config": "True"}})
                # shown in the image too
                img = request("GET", f"/v2.1/images/{self.iid}", token=self.token).json["image"]
                self.assertEqual(img["metadata"], {"auto_disk_config": "True"})
                self.call("PUT", body={"metadata": {"architecture": "x86_64",
                                                     "auto_disk_config": "True",
                                                     "kernel_id": "nokernel",
                                                     "ramdisk_id": "nokernel"}})

    def test_errors(self):
        self.assertFault(self.call("GET", "/nokey"), 404, "itemNotFound",
                         "The resource could not be found.")
        self.assertFault(self.call("DELETE", "/nokey"), 404, "itemNotFound",
                         "Invalid metadata key")
        self.assertFault(self.call("PUT", "/kernel_id", {"meta": {"other": "x"}}), 400,
                         "badRequest", "Request body and URI mismatch")
        for body in ({}, {"metadata": {"k": 1}}, {"metadata": {"": "v"}}, {"metadata": "x"}):
            self.assertFault(self.call("POST", body=body), 400, "badRequest")
        self.assertFault(self.call("PUT", "/k", {"meta": {"k": "v", "j": "w"}}), 400,
                         "badRequest")
        unknown = f"/v2.1/images/{uuid.uuid4()}/metadata"
        for m, p, b in (("GET", "", None), ("GET", "/k", None), ("POST", "", {"metadata": {}}),
                        ("PUT", "", {"metadata": {}}), ("PUT", "/k", {"meta": {"k": "v"}}),
                        ("DELETE", "/k", None)):
            with self.subTest(method=m, path=p):
                self.assertFault(request(m, unknown + p, b, token=self.token), 404,
                                 "itemNotFound", "Image not found.")

    def test_not_owner(self):
        other = "u-x:other" + uuid.uuid4().hex[:6]
        self.assertFault(self.call("GET", token=other), 404, "itemNotFound")
        base = f"/v2.1/images/{CIRROS}/metadata"
        for m, p, b in (("POST", "", {"metadata": {"a": "b"}}), ("PUT", "", {"metadata": {}}),
                        ("PUT", "/a", {"meta": {"a": "b"}}), ("DELETE", "/architecture", None)):
            with self.subTest(method=m, path=p):
                self.assertFault(request(m, base + p, b, token=self.token), 403, "forbidden",
                                 f"Not authorized for image {CIRROS}.")

    def test_quota(self):
        psql(f"INSERT INTO quotas (project_id, resource, hard_limit)"
             f" VALUES ('{self.project}', 'metadata_items', 5)")
        self.assertEqual(self.call("POST", body={"metadata": {"a": "1"}}).status, 200)
        self.assertFault(self.call("POST", body={"metadata": {"b": "1"}}), 403, "forbidden",
                         "Image metadata limit exceeded")
        self.assertFault(self.call("PUT", "/b", {"meta": {"b": "1"}}), 403, "forbidden",
                         "Image metadata limit exceeded")
        self.assertEqual(self.call("PUT", "/a", {"meta": {"a": "2"}}).status, 200)
        self.assertEqual(self.call("PUT", body={"metadata": {"x": "1"}}).json,
                         {"metadata": {"x": "1"}})


class ImageService(ImageFixtures):
    """The Image service's read API (Glance v2 shape) over the same
    registry: at /image/v2/images and under the compute endpoint, where a
    client given only the compute URL (`nova boot --image`) looks."""
    PREFIXES = ["/image/v2/images", "/v2.1/v2/images", "/v2.1/someproject/v2/images"]

    def test_show_is_glance_shaped(self):
        iid = self.image(visibility="shared", props={"os_distro": "cirros", "hw_disk_bus": "virtio"})
        for prefix in self.PREFIXES:
            r = request("GET", f"{prefix}/{iid}", token=self.token)
            self.assertEqual(r.status, 200, r)
            img = r.json
            self.assertEqual((img["id"], img["status"], img["visibility"], img["owner"]),
                             (iid, "active", "shared", self.project))
            self.assertEqual((img["size"], img["min_ram"], img["min_disk"]), (1024, 0, 0))
            self.assertEqual((img["disk_format"], img["container_format"]), ("qcow2", "bare"))
            self.assertIs(img["protected"], False)
            self.assertEqual(img["tags"], [])
            self.assertEqual(img["self"], f"/v2/images/{iid}")
            self.assertEqual(img["file"], f"/v2/images/{iid}/file")
            self.assertEqual((img["os_distro"], img["hw_disk_bus"]), ("cirros", "virtio"))
            self.assertRegex(img["created_at"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
            self.assertIsNone(r.header("OpenStack-API-Version"))
            self.assertTrue(r.header("x-openstack-request-id").startswith("req-"))

    def test_visibility_as_in_the_compute_api(self):
        mine = self.image()
        other = self.image(owner="someone-else")
        self.assertEqual(request("GET", f"/image/v2/images/{mine}", token=self.token).status, 200)
        self.assertFault(request("GET", f"/image/v2/images/{other}", token=self.token), 404,
                         "itemNotFound", f"No image found with ID {other}")
        self.assertEqual(request("GET", f"/image/v2/images/{other}").status, 200)  # admin
        ids = {i["id"] for i in request("GET", "/image/v2/images", token=self.token).json["images"]}
        self.assertIn(mine, ids)
        self.assertIn(CIRROS, ids)
        self.assertNotIn(other, ids)

    def test_list_filters(self):
        a = self.image(name="svc-" + self.project)
        b = self.image(name="svc2-" + self.project)
        r = request("GET", f"/v2.1/v2/images?name=svc-{self.project}", token=self.token)
        self.assertEqual(r.status, 200, r)
        self.assertEqual([i["id"] for i in r.json["images"]], [a])
        self.assertEqual((r.json["first"], r.json["schema"]), ("/v2/images", "/v2/schemas/images"))
        r = request("GET", f"/image/v2/images?id=in:{a},{b},{CIRROS}", token=self.token)
        self.assertEqual({i["id"] for i in r.json["images"]}, {a, b, CIRROS})
        r = request("GET", f"/image/v2/images?name=in:svc-{self.project},svc2-{self.project}",
                    token=self.token)
        self.assertEqual([i["id"] for i in r.json["images"]], [b, a])  # newest first
        r = request("GET", "/image/v2/images?name=no-such-image", token=self.token)
        self.assertEqual(r.json["images"], [])

    def test_schemas_describe_the_images(self):
        # python-glanceclient (and Horizon through it) builds its image model
        # from GET /v2/schemas/image before it lists images
        import jsonschema
        self.image(props={"os_distro": "cirros"})
        for prefix in ("/image/v2/schemas", "/v2.1/v2/schemas"):
            r = request("GET", f"{prefix}/image", token=self.token)
            self.assertEqual(r.status, 200, r)
            image = r.json
            self.assertEqual(image["name"], "image")
            self.assertEqual(image["additionalProperties"], {"type": "string"})
            jsonschema.Draft4Validator.check_schema(image)
            r = request("GET", f"{prefix}/images", token=self.token)
            self.assertEqual(r.status, 200, r)
            self.assertEqual(r.json["name"], "images")
            self.assertEqual(r.json["properties"]["images"]["items"], image)
        page = request("GET", "/image/v2/images", token=self.token).json
        jsonschema.validate(page, r.json)  # every image of the page, too
        self.assertFault(request("GET", "/image/v2/schemas/image", token=None), 401,
                         "unauthorized")
        self.assertFault(request("GET", "/image/v2/schemas/member", token=self.token), 404,
                         "itemNotFound")

    def test_metadefs_catalog_is_empty(self):
        # Horizon's Metadata step and "Update Metadata" dialogs ask for it
        import jsonschema
        r = request("GET", "/image/v2/schemas/metadefs/namespace", token=self.token)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json["name"], "namespace")
        jsonschema.Draft4Validator.check_schema(r.json)
        r = request("GET", "/image/v2/metadefs/namespaces?resource_types=OS::Nova::Server",
                    token=self.token)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json["namespaces"], [])
        self.assertEqual(r.json["schema"], "/v2/schemas/metadefs/namespaces")
        self.assertFault(request("GET", "/image/v2/metadefs/namespaces", token=None), 401,
                         "unauthorized")

    def test_errors(self):
        self.assertFault(request("GET", f"/image/v2/images/{CIRROS}", token=None), 401,
                         "unauthorized")
        r = request("PUT", "/image/v2/images", body={"name": "x"})
        self.assertFault(r, 405, "badMethod")
        self.assertEqual(r.header("Allow"), "GET, POST")
        r = request("POST", f"/image/v2/images/{CIRROS}/file")
        self.assertFault(r, 405, "badMethod")
        self.assertEqual(r.header("Allow"), "GET, PUT")
        self.assertFault(request("GET", "/image/v2/images/not-a-uuid"), 404, "itemNotFound")
        self.assertFault(request("GET", f"/image/v2/images/{CIRROS}/file/x"), 404, "itemNotFound")
        # the seeded images are records without data in the store
        r = request("GET", f"/image/v2/images/{CIRROS}/file")
        self.assertEqual((r.status, r.data), (204, b""), r)
        self.assertFault(request("GET", "/v2.1/a/b/v2/images"), 404, "itemNotFound")
        # the legacy /v2 compute API keeps Nova's image proxy
        r = request("GET", f"/v2/images/{CIRROS}")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json["image"]["id"], CIRROS)


IMAGES = "/image/v2/images"
PATCH = "application/openstack-images-v2.1-json-patch"
DATA_DIR = os.path.join(RUN, "images")


def qemu_img(*args):
    subprocess.run(["qemu-img", *args], check=True, capture_output=True)


def qcow2_bytes(size="64M", backing=None):
    """A qcow2 image made by qemu-img (optionally over a backing file)."""
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "disk.qcow2")
        if backing:
            qemu_img("create", "-f", "qcow2", "-b", backing, "-F", "raw", path, size)
        else:
            qemu_img("create", "-f", "qcow2", path, size)
        with open(path, "rb") as f:
            return f.read()


def raw_upload(path, token, declared, sent, extra_headers=""):
    """PUT image data over a socket of our own: `declared` as Content-Length
    but only the bytes `sent`, then the write side closed (a client that
    went away mid-upload). Returns what the server answered, maybe b""."""
    host, port = BASE_HOST_PORT
    s = socket.create_connection((host, port), timeout=30)
    try:
        s.sendall((f"PUT {path} HTTP/1.1\r\nHost: {host}:{port}\r\nX-Auth-Token: {token}\r\n"
                   f"Content-Type: application/octet-stream\r\nContent-Length: {declared}\r\n"
                   f"{extra_headers}Connection: close\r\n\r\n").encode())
        if sent:
            s.sendall(sent)
        s.shutdown(socket.SHUT_WR)
        out = b""
        while True:
            try:
                chunk = s.recv(65536)
            except (ConnectionResetError, socket.timeout):
                break
            if not chunk:
                break
            out += chunk
        return out
    finally:
        s.close()


def _base_host_port():
    import urllib.parse
    u = urllib.parse.urlsplit(BASE)
    return u.hostname, u.port


BASE_HOST_PORT = _base_host_port()


class ImageServiceWrite(ImageFixtures):
    """Glance v2's write API: create, upload and download of real bytes,
    JSON-patch update, delete; the image's status through an upload, and
    what a failed upload leaves (the image queued again, no file)."""

    def tearDown(self):
        for iid in self.made:
            for name in (iid, iid + ".part"):
                try:
                    os.remove(os.path.join(DATA_DIR, name))
                except FileNotFoundError:
                    pass
        super().tearDown()

    def post(self, body, token=None, prefix=IMAGES):
        r = request("POST", prefix, body, token=token or self.token)
        if r.status == 201:
            self.made.append(r.json["id"])
        return r

    def create(self, token=None, prefix=IMAGES, **body):
        return self.post(body, token, prefix)

    def new(self, disk="raw", container="bare", **body):
        r = self.create(disk_format=disk, container_format=container, **body)
        self.assertEqual(r.status, 201, r)
        return r.json["id"]

    def upload(self, iid, data, token=None, ctype="application/octet-stream", prefix=IMAGES):
        return request("PUT", f"{prefix}/{iid}/file", token=token or self.token, raw=data,
                       ctype=ctype)

    def show(self, iid, token=None):
        r = request("GET", f"{IMAGES}/{iid}", token=token or self.token)
        self.assertEqual(r.status, 200, r)
        return r.json

    def patch(self, iid, ops, token=None, ctype=PATCH):
        import json
        return request("PATCH", f"{IMAGES}/{iid}", token=token or self.token,
                       raw=json.dumps(ops).encode(), ctype=ctype)

    def assertNoData(self, iid):
        self.assertFalse(os.path.exists(os.path.join(DATA_DIR, iid)))
        self.assertFalse(os.path.exists(os.path.join(DATA_DIR, iid + ".part")))

    # ---- create ----

    def test_versions_document(self):
        for path in ("/image", "/image/", "/image/v2", "/image/v2/"):
            r = request("GET", path, token=None)
            self.assertEqual(r.status, 300, r)
            current = [v for v in r.json["versions"] if v["status"] == "CURRENT"]
            self.assertEqual(len(current), 1)
            self.assertTrue(current[0]["links"][0]["href"].endswith("/image/v2/"))

    def test_create_defaults(self):
        for prefix in (IMAGES, "/v2.1/v2/images", f"/v2.1/{self.project}/v2/images"):
            with self.subTest(prefix=prefix):
                r = self.create(prefix=prefix)
                self.assertEqual(r.status, 201, r)
                img = r.json
                self.assertEqual(r.header("Location"), BASE + prefix + "/" + img["id"])
                self.assertEqual((img["status"], img["visibility"], img["owner"]),
                                 ("queued", "shared", self.project))
                for k in ("name", "size", "virtual_size", "checksum", "os_hash_algo",
                          "os_hash_value", "disk_format", "container_format"):
                    self.assertIsNone(img[k], k)
                self.assertEqual((img["min_disk"], img["min_ram"], img["tags"]), (0, 0, []))
                self.assertIs(img["protected"], False)
                self.assertIs(img["os_hidden"], False)
                self.assertEqual(img["file"], f"/v2/images/{img['id']}/file")
                self.assertIsNone(r.header("OpenStack-API-Version"))

    def test_create_every_field(self):
        iid = str(uuid.uuid4())
        r = self.create(id=iid, name="every", visibility="private", disk_format="qcow2",
                        container_format="bare", min_disk=3, min_ram=256, protected=True,
                        tags=["b", "a", "b"], os_distro="cirros", hw_disk_bus="virtio")
        self.assertEqual(r.status, 201, r)
        img = r.json
        self.assertEqual((img["id"], img["name"], img["visibility"]), (iid, "every", "private"))
        self.assertEqual((img["disk_format"], img["container_format"]), ("qcow2", "bare"))
        self.assertEqual((img["min_disk"], img["min_ram"], img["protected"]), (3, 256, True))
        self.assertEqual(img["tags"], ["b", "a"])
        self.assertEqual((img["os_distro"], img["hw_disk_bus"]), ("cirros", "virtio"))
        self.assertEqual(self.show(iid), img)
        # the Amazon formats, matching
        self.assertEqual(self.create(disk_format="aki", container_format="aki").status, 201)
        # and the admin may publish and give an image to another project
        r = self.create(token="admin:admin", visibility="public", owner=self.project)
        self.assertEqual((r.status, r.json["visibility"], r.json["owner"]),
                         (201, "public", self.project), r)

    def test_create_errors(self):
        bad = [({"disk_format": "qcow3"}, "is not one of ['ami', 'ari', 'aki', 'vhd'"),
               ({"container_format": "zip"}, "is not one of ['ami', 'ari', 'aki', 'bare'"),
               ({"visibility": "everyone"}, "is not one of"),
               ({"min_ram": -1}, "less than the minimum of 0"),
               ({"min_disk": "1"}, "is not of type 'integer'"),
               ({"protected": "yes"}, "is not of type 'boolean'"),
               ({"name": "x" * 256}, "is too long"),
               ({"tags": "a"}, "is not of type 'array'"),
               ({"tags": [1]}, "is not of type 'string'"),
               ({"id": "not-a-uuid"}, "does not match"),
               ({"os_distro": 7}, "is not of type 'string'")]
        for body, msg in bad:
            with self.subTest(body=body):
                r = self.post(body)
                self.assertFault(r, 400, "badRequest",
                                 "Provided object does not match schema 'image': ")
                self.assertIn(msg, r.json["badRequest"]["message"])
        for disk, cont in (("aki", "bare"), ("qcow2", "ami"), ("ari", "aki")):
            self.assertFault(self.create(disk_format=disk, container_format=cont), 400,
                             "badRequest", "Invalid mix of disk and container formats.")
        for key in ("status", "size", "checksum", "virtual_size", "created_at", "self", "file",
                    "os_hash_value"):
            self.assertFault(self.post({key: "x"}), 403, "forbidden",
                             f"Attribute '{key}' is read-only.")
        for key in ("deleted", "location", "os_glance_import_task"):
            self.assertFault(self.post({key: "x"}), 403, "forbidden",
                             f"Attribute '{key}' is reserved.")
        self.assertFault(self.post({"k" * 256: "v"}), 400, "badRequest",
                         "Custom property should not be greater than 255 characters.")
        self.assertFault(self.create(visibility="public"), 403, "forbidden", "publicize_image")
        self.assertFault(self.create(owner="someone-else"), 403, "forbidden",
                         "You are not permitted to create images owned by 'someone-else'.")
        iid = self.new()
        self.assertFault(self.create(id=iid), 409, "conflictingRequest",
                         f"Image ID {iid} already exists!")
        r = request("POST", IMAGES, token=self.token, raw=b"name=x", ctype="text/plain")
        self.assertFault(r, 415, "badMediaType")
        r = request("POST", IMAGES, token=self.token, raw=b"{not json")
        self.assertFault(r, 400, "badRequest", "Malformed JSON in request body.")
        self.assertFault(request("POST", IMAGES, ["a"], token=self.token), 400, "badRequest",
                         "is not of type 'object'")
        self.assertFault(request("POST", IMAGES, token=self.token), 400, "badRequest",
                         "Body expected in request.")
        self.assertFault(request("POST", IMAGES, {}, token=None), 401, "unauthorized")

    # ---- data ----

    def test_several_megabytes_round_trip(self):
        data = os.urandom(5 * 1024 * 1024 + 123)
        iid = self.new(disk="raw")
        r = self.upload(iid, data)
        self.assertEqual((r.status, r.data), (204, b""), r)
        img = self.show(iid)
        self.assertEqual((img["status"], img["size"], img["virtual_size"]),
                         ("active", len(data), len(data)))
        self.assertEqual(img["checksum"], hashlib.md5(data).hexdigest())
        self.assertEqual((img["os_hash_algo"], img["os_hash_value"]),
                         ("sha512", hashlib.sha512(data).hexdigest()))
        for prefix, token in ((IMAGES, self.token), ("/v2.1/v2/images", self.token),
                              (IMAGES, "admin:admin")):  # admin: how compute hosts fetch
            with self.subTest(prefix=prefix, token=token):
                r = request("GET", f"{prefix}/{iid}/file", token=token)
                self.assertEqual(r.status, 200, r)
                self.assertEqual(r.data, data)
                self.assertEqual(r.header("Content-Type"), "application/octet-stream")
                self.assertEqual(r.header("Content-Length"), str(len(data)))
                self.assertEqual(r.header("Content-MD5"), hashlib.md5(data).hexdigest())
        with open(os.path.join(DATA_DIR, iid), "rb") as f:
            self.assertEqual(f.read(), data)
        self.assertFalse(os.path.exists(os.path.join(DATA_DIR, iid + ".part")))
        # the data is kept once: a second upload is a conflict
        self.assertFault(self.upload(iid, b"x"), 409, "conflictingRequest",
                         "Image status transition from active to saving is not allowed")

    def test_qcow2_virtual_size(self):
        data = qcow2_bytes("64M")
        iid = self.new(disk="qcow2")
        r = self.upload(iid, data, prefix=f"/v2.1/{self.project}/v2/images")
        self.assertEqual(r.status, 204, r)
        img = self.show(iid)
        self.assertEqual((img["status"], img["size"], img["virtual_size"]),
                         ("active", len(data), 64 * 1024 * 1024))
        self.assertEqual(request("GET", f"{IMAGES}/{iid}/file", token=self.token).data, data)

    def test_data_not_what_disk_format_says(self):
        raw = os.urandom(70000)
        cases = [("qcow2", raw, "disk_format is qcow2 but the data is raw"),
                 ("raw", qcow2_bytes("1M"), "disk_format is raw but the data is qcow2"),
                 ("vmdk", raw, "disk_format is vmdk but the data is raw"),
                 ("iso", raw, "disk_format is iso but the data is raw"),
                 ("qcow2", qcow2_bytes("1M", backing="/etc/hostname"), "backing file"),
                 ("vmdk", b"# Disk DescriptorFile\nversion=1\nRW 8 FLAT \"/etc/passwd\" 0\n",
                  "VMDK descriptor"),
                 ("qcow2", b"QFI\xfb\x00\x00\x00\x03" + b"\x00" * 200, "not a valid qcow2")]
        for disk, data, msg in cases:
            with self.subTest(disk=disk, msg=msg):
                iid = self.new(disk=disk)
                r = self.upload(iid, data)
                self.assertFault(r, 400, "badRequest",
                                 "Image data is not acceptable or does not match parameters: ")
                self.assertIn(msg, r.json["badRequest"]["message"])
                img = self.show(iid)
                self.assertEqual((img["status"], img["size"], img["checksum"]),
                                 ("queued", None, None))
                self.assertNoData(iid)
                r = request("GET", f"{IMAGES}/{iid}/file", token=self.token)
                self.assertEqual((r.status, r.data), (204, b""))
        # the image can take the right data afterwards
        self.assertEqual(self.upload(iid, qcow2_bytes("2M")).status, 204)
        self.assertEqual(self.show(iid)["status"], "active")

    def test_upload_errors(self):
        iid = self.new()
        self.assertFault(self.upload(iid, b"abc", ctype="application/json"), 415, "badMediaType")
        self.assertFault(self.upload(iid, b"abc", ctype="text/plain"), 415, "badMediaType")
        self.assertEqual(self.show(iid)["status"], "queued")
        bare = self.create().json["id"]
        self.assertFault(self.upload(bare, b"abc"), 400, "badRequest",
                         "Properties disk_format, container_format must be set prior to saving "
                         "data.")
        half = self.create(disk_format="raw").json["id"]
        self.assertFault(self.upload(half, b"abc"), 400, "badRequest",
                         "Property container_format must be set prior to saving data.")
        for other in (str(uuid.uuid4()), "nope"):
            self.assertFault(self.upload(other, b"abc"), 404, "itemNotFound",
                             f"No image found with ID {other}")
        # a public image of another project: visible, not the caller's
        theirs = self.image(owner="someone-else", visibility="public", status="queued")
        self.assertFault(self.upload(theirs, b"abc"), 403, "forbidden",
                         f"Not allowed to upload image data for image {theirs}")

    def test_body_shorter_than_declared(self):
        iid = self.new()
        raw_upload(f"{IMAGES}/{iid}/file", self.token, 2000000, os.urandom(1000000))
        deadline = time.time() + 20
        while self.show(iid)["status"] != "queued" and time.time() < deadline:
            time.sleep(0.2)
        img = self.show(iid)
        self.assertEqual((img["status"], img["size"], img["checksum"]), ("queued", None, None))
        self.assertNoData(iid)
        # and the whole data is taken afterwards
        data = os.urandom(1500000)
        self.assertEqual(self.upload(iid, data).status, 204)
        self.assertEqual(self.show(iid)["checksum"], hashlib.md5(data).hexdigest())

    def test_one_upload_at_a_time(self):
        iid = self.new()
        host, port = BASE_HOST_PORT
        first = socket.create_connection((host, port), timeout=30)
        try:
            first.sendall((f"PUT {IMAGES}/{iid}/file HTTP/1.1\r\nHost: {host}:{port}\r\n"
                           f"X-Auth-Token: {self.token}\r\nContent-Type: application/octet-stream"
                           f"\r\nContent-Length: 1000000\r\n\r\n").encode() + b"\0" * 300000)
            deadline = time.time() + 20
            while self.show(iid)["status"] != "saving" and time.time() < deadline:
                time.sleep(0.1)
            self.assertEqual(self.show(iid)["status"], "saving")
            self.assertFault(self.upload(iid, b"x"), 409, "conflictingRequest",
                             "Image status transition from saving to saving is not allowed")
        finally:
            first.close()  # the first upload breaks off: queued again
        deadline = time.time() + 20
        while self.show(iid)["status"] != "queued" and time.time() < deadline:
            time.sleep(0.1)
        self.assertEqual(self.upload(iid, b"y" * 1000).status, 204)

    def test_upload_abandoned_in_saving_is_taken_over(self):
        # an upload whose worker died leaves 'saving' and a partial file,
        # and no upload lock: the next upload starts over
        iid = self.new()
        psql(f"UPDATE images SET status = 'saving' WHERE id = '{iid}'")
        with open(os.path.join(DATA_DIR, iid + ".part"), "wb") as f:
            f.write(b"stale")
        data = os.urandom(200000)
        self.assertEqual(self.upload(iid, data).status, 204)
        img = self.show(iid)
        self.assertEqual((img["status"], img["size"]), ("active", len(data)))
        self.assertFalse(os.path.exists(os.path.join(DATA_DIR, iid + ".part")))

    def test_over_the_size_cap(self):
        iid = self.new()
        cap = 1099511627776  # [image] image_size_cap, Glance's default
        out = raw_upload(f"{IMAGES}/{iid}/file", self.token, cap + 1, b"")
        self.assertTrue(out.startswith(b"HTTP/1.1 413"), out[:200])
        self.assertEqual(self.show(iid)["status"], "queued")
        self.assertNoData(iid)

    def test_download_without_data(self):
        iid = self.new()
        r = request("GET", f"{IMAGES}/{iid}/file", token=self.token)
        self.assertEqual((r.status, r.data), (204, b""), r)
        self.assertFault(request("GET", f"{IMAGES}/{uuid.uuid4()}/file", token=self.token), 404,
                         "itemNotFound")

    # ---- PATCH ----

    def test_patch(self):
        iid = self.new(disk="raw", os_distro="cirros", kernel_id="k1")
        r = self.patch(iid, [{"op": "replace", "path": "/name", "value": "renamed"},
                             {"op": "add", "path": "/min_ram", "value": 512},
                             {"op": "replace", "path": "/min_disk", "value": 2},
                             {"op": "add", "path": "/tags", "value": ["x", "y", "x"]},
                             {"op": "add", "path": "/protected", "value": True},
                             {"op": "replace", "path": "/visibility", "value": "community"},
                             {"op": "add", "path": "/hw_disk_bus", "value": "scsi"},
                             {"op": "add", "path": "/os_distro", "value": "ubuntu"},
                             {"op": "replace", "path": "/kernel_id", "value": "k2"},
                             {"op": "add", "path": "/a~1b", "value": "slash"},
                             {"op": "replace", "path": "/disk_format", "value": "qcow2"},
                             {"op": "replace", "path": "/container_format", "value": "ovf"}])
        self.assertEqual(r.status, 200, r)
        img = r.json
        self.assertEqual((img["name"], img["min_ram"], img["min_disk"], img["protected"]),
                         ("renamed", 512, 2, True))
        self.assertEqual((img["tags"], img["visibility"]), (["x", "y"], "community"))
        self.assertEqual((img["hw_disk_bus"], img["os_distro"], img["kernel_id"], img["a/b"]),
                         ("scsi", "ubuntu", "k2", "slash"))
        self.assertEqual((img["disk_format"], img["container_format"]), ("qcow2", "ovf"))
        self.assertEqual(self.show(iid), img)
        r = self.patch(iid, [{"op": "remove", "path": "/kernel_id"},
                             {"op": "replace", "path": "/name", "value": None},
                             {"op": "replace", "path": "/tags", "value": []}])
        self.assertEqual(r.status, 200, r)
        self.assertNotIn("kernel_id", r.json)
        self.assertEqual((r.json["name"], r.json["tags"]), (None, []))

    def test_patch_errors(self):
        iid = self.new(disk="raw", prop="v")
        cases = [
            ([{"op": "remove", "path": "/name"}], 403, "Property name may not be removed."),
            ([{"op": "remove", "path": "/nope"}], 409, "Property nope does not exist."),
            ([{"op": "replace", "path": "/nope", "value": "x"}], 409,
             "Property nope does not exist."),
            ([{"op": "replace", "path": "/status", "value": "active"}], 403,
             "Attribute 'status' is read-only."),
            ([{"op": "replace", "path": "/id", "value": str(uuid.uuid4())}], 403,
             "Attribute 'id' is read-only."),
            ([{"op": "add", "path": "/checksum", "value": "0"}], 403,
             "Attribute 'checksum' is read-only."),
            ([{"op": "add", "path": "/deleted", "value": "x"}], 403,
             "Attribute 'deleted' is reserved."),
            ([{"op": "move", "path": "/name", "value": "x"}], 400, "Invalid operation: `move`."),
            ([{"path": "/name", "value": "x"}], 400, "Unable to find `op` in JSON Schema change."),
            ([{"op": "add", "value": "x"}], 400, "Unable to find 'path' in JSON Schema change"),
            ([{"op": "add", "path": "name", "value": "x"}], 400,
             'Pointer `name` does not start with "/".'),
            ([{"op": "add", "path": "/a/b", "value": "x"}], 400,
             "Invalid JSON pointer for this resource: '/a/b'"),
            ([{"op": "add", "path": "/name"}], 400, 'Operation "add" requires a member named'),
            ([{"op": "add", "path": "/min_ram", "value": "big"}], 400,
             "is not of type 'integer'"),
            ([{"op": "add", "path": "/prop", "value": 1}], 400, "is not of type 'string'"),
            ([{"op": "add", "path": "/disk_format", "value": "zip"}], 400, "is not one of"),
            ([{"op": "add", "path": "/container_format", "value": "aki"}], 400,
             "Invalid mix of disk and container formats."),
            ([{"op": "add", "path": "/visibility", "value": "public"}], 403, "publicize_image"),
            ([{"op": "add", "path": "/owner", "value": "x"}], 403,
             "Owner can't be updated by non admin."),
            (["add"], 400, "Operations must be JSON objects."),
            ({"op": "add"}, 400, "Request body must be a JSON array of operation objects."),
        ]
        for ops, status, msg in cases:
            with self.subTest(ops=ops):
                r = self.patch(iid, ops)
                self.assertFault(r, status, {400: "badRequest", 403: "forbidden",
                                             409: "conflictingRequest"}[status], msg)
        # a failed patch changes nothing, even its valid operations before the error
        r = self.patch(iid, [{"op": "replace", "path": "/name", "value": "changed"},
                             {"op": "remove", "path": "/nope"}])
        self.assertEqual(r.status, 409, r)
        self.assertIsNone(self.show(iid)["name"])
        r = self.patch(iid, [], ctype="application/json")
        self.assertFault(r, 415, "badMediaType", "Image PATCH expects Content-Type one of: " + PATCH)
        self.assertEqual(r.header("Accept-Patch"), PATCH)
        # formats are fixed once the image has data
        self.assertEqual(self.upload(iid, b"\0" * 1024).status, 204)
        for field in ("disk_format", "container_format"):
            self.assertFault(self.patch(iid, [{"op": "replace", "path": "/" + field,
                                               "value": "ova" if field[0] == "c" else "qcow2"}]),
                             403, "forbidden",
                             f"Attribute {field} can be only replaced for a queued image.")
        self.assertEqual(self.patch(iid, [{"op": "replace", "path": "/name", "value": "ok"}])
                         .status, 200)
        # the admin may publish
        r = self.patch(iid, [{"op": "replace", "path": "/visibility", "value": "public"}],
                       token="admin:admin")
        self.assertEqual((r.status, r.json["visibility"]), (200, "public"), r)

    # ---- DELETE, visibility between projects ----

    def test_delete(self):
        iid = self.new(protected=True)
        self.assertEqual(self.upload(iid, b"data" * 1000).status, 204)
        self.assertTrue(os.path.exists(os.path.join(DATA_DIR, iid)))
        self.assertFault(request("DELETE", f"{IMAGES}/{iid}", token=self.token), 403, "forbidden",
                         f"Image {iid} is protected and cannot be deleted.")
        self.assertEqual(self.patch(iid, [{"op": "replace", "path": "/protected",
                                           "value": False}]).status, 200)
        r = request("DELETE", f"{IMAGES}/{iid}", token=self.token)
        self.assertEqual((r.status, r.data), (204, b""), r)
        self.assertNoData(iid)
        self.assertFault(request("GET", f"{IMAGES}/{iid}", token=self.token), 404, "itemNotFound")
        self.assertFault(request("DELETE", f"{IMAGES}/{iid}", token=self.token), 404,
                         "itemNotFound")
        self.assertEqual(psql(f"SELECT status, deleted FROM images WHERE id = '{iid}'"),
                         "deleted|t")
        # Nova's image proxy deletes the data too
        iid = self.new()
        self.assertEqual(self.upload(iid, b"x" * 4096).status, 204)
        self.assertEqual(request("DELETE", f"/v2.1/images/{iid}", token=self.token).status, 204)
        self.assertNoData(iid)

    def test_projects_are_isolated(self):
        mine = self.new(visibility="private")
        self.assertEqual(self.upload(mine, b"secret" * 100).status, 204)
        other = "u-other:other" + uuid.uuid4().hex[:6]
        for method, path, kw in (("GET", "", {}), ("GET", "/file", {}),
                                 ("PUT", "/file", {"raw": b"x",
                                                   "ctype": "application/octet-stream"}),
                                 ("PATCH", "", {"raw": b"[]", "ctype": PATCH}),
                                 ("DELETE", "", {})):
            with self.subTest(method=method, path=path):
                r = request(method, f"{IMAGES}/{mine}{path}", token=other, **kw)
                self.assertFault(r, 404, "itemNotFound", f"No image found with ID {mine}")
        listed = {i["id"] for i in request("GET", IMAGES, token=other).json["images"]}
        self.assertNotIn(mine, listed)
        self.assertIn(mine, {i["id"] for i in request("GET", IMAGES).json["images"]})  # admin
        self.assertEqual(request("GET", f"{IMAGES}/{mine}/file").data, b"secret" * 100)
        # a public image of another project: readable, not changeable
        theirs = self.image(owner="someone-else", visibility="public")
        self.assertEqual(request("GET", f"{IMAGES}/{theirs}", token=self.token).status, 200)
        self.assertFault(self.patch(theirs, [{"op": "add", "path": "/k", "value": "v"}]), 403,
                         "forbidden", "modify_image")
        self.assertFault(request("DELETE", f"{IMAGES}/{theirs}", token=self.token), 403,
                         "forbidden", "delete_image")
        # admin may change and delete any
        self.assertEqual(self.patch(mine, [{"op": "add", "path": "/k", "value": "v"}],
                                    token="admin:admin").status, 200)
        self.assertEqual(request("DELETE", f"{IMAGES}/{mine}").status, 204)

    def test_hidden_images_listed_only_when_asked(self):
        iid = self.new(os_hidden=True)
        ids = lambda q: {i["id"] for i in request("GET", IMAGES + q, token=self.token)
                         .json["images"]}
        self.assertNotIn(iid, ids(""))
        self.assertIn(iid, ids("?os_hidden=true"))
        self.assertFault(request("GET", IMAGES + "?os_hidden=maybe", token=self.token), 400,
                         "badRequest")

    # ---- Nova's image proxy shows them ----

    def test_compute_api_views(self):
        iid = self.new(disk="qcow2", name="proxy-" + self.project, min_ram=64, arch="x86_64")
        r = request("GET", f"/v2.1/images/{iid}", token=self.token)
        self.assertEqual(r.status, 200, r)
        img = r.json["image"]
        self.assertEqual((img["status"], img["progress"], img["OS-EXT-IMG-SIZE:size"]),
                         ("SAVING", 25, 0))
        self.assertEqual((img["minRam"], img["metadata"]), (64, {"arch": "x86_64"}))
        self.assertMatchesSchema(r.json, "GET", "/images/{id}", "2.1")
        data = qcow2_bytes("16M")
        self.assertEqual(self.upload(iid, data).status, 204)
        r = request("GET", f"/v2.1/images/detail?name=proxy-{self.project}", token=self.token)
        self.assertEqual([i["id"] for i in r.json["images"]], [iid])
        img = r.json["images"][0]
        self.assertEqual((img["status"], img["progress"], img["OS-EXT-IMG-SIZE:size"]),
                         ("ACTIVE", 100, len(data)))
        self.assertMatchesSchema(r.json, "GET", "/images/detail", "2.35")
        ids = [i["id"] for i in request("GET", "/v2.1/images", token=self.token).json["images"]]
        self.assertEqual(ids[0], iid)  # newest first
        r = request("GET", f"/v2.1/images/{iid}/metadata", token=self.token)
        self.assertEqual(r.json, {"metadata": {"arch": "x86_64"}})


if __name__ == "__main__":
    unittest.main()
