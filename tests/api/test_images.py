"""Nova's image proxy API (/images up to 2.35, /images/{id}/metadata up to
2.38) served from the built-in registry: the seeded images, list and detail
with every filter and paging, show and delete, the six metadata routes,
compared with Nova's samples and response schemas; visibility, ownership,
quota and the routes' version limits."""
import unittest, uuid

from common import ApiTest, psql, request, sample

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


if __name__ == "__main__":
    unittest.main()


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

    def test_errors(self):
        self.assertFault(request("GET", f"/image/v2/images/{CIRROS}", token=None), 401,
                         "unauthorized")
        r = request("POST", "/image/v2/images", body={"name": "x"})
        self.assertFault(r, 405, "badMethod")
        self.assertEqual(r.header("Allow"), "GET")
        self.assertFault(request("GET", "/image/v2/images/not-a-uuid"), 404, "itemNotFound")
        self.assertFault(request("GET", f"/image/v2/images/{CIRROS}/file"), 404, "itemNotFound")
        self.assertFault(request("GET", "/v2.1/a/b/v2/images"), 404, "itemNotFound")
        # the legacy /v2 compute API keeps Nova's image proxy
        r = request("GET", f"/v2/images/{CIRROS}")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json["image"]["id"], CIRROS)
