"""test_servers.py: /servers against a live stack — create (semantics and
every error Nova gives), show at each microversion where the view changed
(Nova's response schema and api-sample shape), list and detail with their
filters and paging, update, delete, quotas, and the end-to-end boot
(skipped while the build pipeline does not bring servers to ACTIVE)."""
import json, time, unittest, uuid

from common import ApiTest, FAKE, psql, request, sample

IMAGE = "70a599e0-31e7-49b7-b260-868f441e862b"  # seeded by 007_images_seed.sql
CIRROS = "80292edd-18c0-4446-9fa4-994b39a2dc15"
MEMBER = "s-member:s-proj"
OTHER = "s-other:s-other-proj"


def body(**kw):
    server = {"name": "srv-" + uuid.uuid4().hex[:6], "imageRef": IMAGE, "flavorRef": "1"}
    server.update(kw)
    return {"server": server}


def create(token=MEMBER, version="2.1", **kw):
    b = kw.pop("full_body", None)
    if b is None:
        if (version == "latest" or ver(version) >= (2, 37)) and "networks" not in kw:
            kw["networks"] = "none"
        b = body(**kw)
    return request("POST", "/v2.1/servers", b, token=token, version=version)


def ver(v):
    return tuple(int(x) for x in v.split("."))


PROJECTS = ("s-proj", "s-other-proj", "s-list-proj", "admin")


def forget_servers(project_like="s-quota-%"):
    """Deletes the suite's servers through the API, so that the pipeline
    gives their claims back (a row deleted in SQL would keep its claim)."""
    names = ", ".join(f"'{p}'" for p in PROJECTS)
    rows = psql(f"SELECT uuid FROM instances WHERE deleted = 0 AND (project_id IN ({names})"
                f" OR project_id LIKE '{project_like}' OR project_id LIKE 's-list-del-%')")
    for sid in rows.splitlines():
        psql(f"UPDATE instances SET locked = false WHERE uuid = '{sid}'")
        request("DELETE", f"/v2.1/servers/{sid}")


def setUpModule():
    # servers of earlier runs would count against the quotas; this suite's
    # projects get no limits except where QuotaTest sets them
    forget_servers()
    for p in PROJECTS:
        for res in ("instances", "cores", "ram"):
            psql(f"INSERT INTO quotas (project_id, resource, hard_limit) VALUES ('{p}', '{res}',"
                 f" -1) ON CONFLICT (project_id, resource) DO UPDATE SET hard_limit = -1")


def tearDownModule():
    forget_servers()
    names = ", ".join(f"'{p}'" for p in PROJECTS)
    psql(f"DELETE FROM quotas WHERE project_id IN ({names})"
         f" AND resource IN ('instances', 'cores', 'ram')")


def wait_settled(sid, seconds=15):
    """Waits while the pipeline works on a fresh server (BUILD)."""
    deadline = time.time() + seconds
    while time.time() < deadline:
        if psql(f"SELECT vm_state FROM instances WHERE uuid = '{sid}'") != "building":
            return
        time.sleep(0.3)


class ServersBase(ApiTest):
    created = []  # every server the suite made (tearDownModule forgets them)

    def tearDown(self):
        # give hosts back at once: the pipeline claims what we boot
        while self.created:
            sid = self.created.pop()
            psql(f"UPDATE instances SET locked = false WHERE uuid = '{sid}'")
            request("DELETE", f"/v2.1/servers/{sid}")

    shared = []  # servers a class set up for all its tests

    @classmethod
    def shared_park(cls, b, token=MEMBER, version="2.1"):
        r = request("POST", "/v2.1/servers", b, token=token, version=version)
        assert r.status == 202, r
        sid = r.json["server"]["id"]
        cls.shared.append(sid)
        wait_settled(sid)
        return sid

    @classmethod
    def tearDownClass(cls):
        while cls.shared:
            request("DELETE", f"/v2.1/servers/{cls.shared.pop()}")

    def park(self, token=MEMBER, **kw):
        """A server the scheduler can't place (m1.xlarge fits no test host):
        it ends in ERROR with no host and no claim, so a test may then
        give it any state in SQL without racing the pipeline."""
        sid, _ = self.boot(token=token, flavorRef="5", **kw)
        wait_settled(sid)
        return sid

    def boot(self, token=MEMBER, version="2.1", **kw):
        if ver(version) >= (2, 37) and "networks" not in kw and "full_body" not in kw:
            kw["networks"] = "none"
        b = kw.pop("full_body", None) or body(**kw)
        r = request("POST", "/v2.1/servers", b, token=token, version=version)
        self.assertEqual(r.status, 202, r)
        sid = r.json["server"]["id"]
        type(self).created.append(sid)
        return sid, r

    def row(self, sid, cols):
        return psql(f"SELECT {cols} FROM instances WHERE uuid = '{sid}'")


class CreateTest(ServersBase):
    def test_create_response_and_location(self):
        sid, r = self.boot()
        self.assertMatchesSchema(r.json, "POST", "/servers", "2.1")
        self.assertLikeSample(r.json, "servers/server-create-resp.json")
        self.assertEqual(r.header("location"), r.json["server"]["links"][0]["href"])
        self.assertTrue(r.header("location").endswith("/v2.1/servers/" + sid))
        self.assertEqual(r.json["server"]["security_groups"], [{"name": "default"}])
        self.assertEqual(len(r.json["server"]["adminPass"]), 12)
        # the sample image says auto_disk_config=True; a request may say otherwise
        self.assertEqual(r.json["server"]["OS-DCF:diskConfig"], "AUTO")
        _, r = self.boot(**{"OS-DCF:diskConfig": "MANUAL"})
        self.assertEqual(r.json["server"]["OS-DCF:diskConfig"], "MANUAL")

    def test_create_writes_the_contract(self):
        sid, _ = self.boot(version="2.52", metadata={"k": "v"}, tags=["a", "b"],
                           availability_zone="nova", adminPass="secret-pass")
        got = json.loads(psql(f"SELECT json_build_object('spec', request_spec, 'flavor', flavor,"
                              f" 'vcpus', vcpus, 'ram', memory_mb, 'image', image_ref,"
                              f" 'az', availability_zone, 'pinned', pinned_availability_zone,"
                              f" 'resv', reservation_id, 'host', hostname)"
                              f" FROM instances WHERE uuid = '{sid}'"))
        self.assertEqual(got["flavor"]["flavorid"], "1")
        self.assertEqual((got["vcpus"], got["ram"]), (1, 512))
        self.assertEqual(got["image"], IMAGE)
        self.assertEqual(got["pinned"], "nova")
        self.assertRegex(got["resv"], r"^r-[a-z0-9]{8}$")
        spec = got["spec"]
        self.assertEqual(spec["availability_zone"], "nova")
        self.assertEqual(spec["image"]["id"], IMAGE)
        self.assertEqual(spec["num_instances"], 1)
        self.assertEqual(spec["networks"], "none")
        self.assertEqual(spec["security_groups"], [{"name": "default"}])
        self.assertEqual(spec["scheduler_hints"], {})
        self.assertEqual(psql(f"SELECT key || '=' || value FROM instance_metadata"
                              f" WHERE instance_uuid = '{sid}'"), "k=v")
        self.assertEqual(psql(f"SELECT string_agg(tag, ',' ORDER BY tag) FROM tags"
                              f" WHERE resource_id = '{sid}'"), "a,b")
        self.assertEqual(psql(f"SELECT source_type || '/' || destination_type || '/' || boot_index"
                              f" FROM block_device_mapping WHERE instance_uuid = '{sid}'"),
                         "image/local/0")
        self.assertEqual(psql(f"SELECT action FROM instance_actions WHERE instance_uuid = '{sid}'"),
                         "create")

    def test_create_hostname_from_name(self):
        sid, _ = self.boot(name="My Server_1.x")
        self.assertEqual(self.row(sid, "hostname"), "my-server-1-x")

    def test_create_multiple_and_reservation_id(self):
        b = body(min_count=2, max_count=3, return_reservation_id=True, name="multi")
        r = request("POST", "/v2.1/servers", b, token=MEMBER)
        self.assertEqual(r.status, 202, r)
        self.assertEqual(list(r.json), ["reservation_id"])
        resv = r.json["reservation_id"]
        rows = psql(f"SELECT uuid || '|' || display_name || '|' || hostname || '|' || launch_index"
                    f" FROM instances WHERE reservation_id = '{resv}' ORDER BY launch_index")
        rows = [x.split("|") for x in rows.splitlines()]
        type(self).created.extend(x[0] for x in rows)
        self.assertEqual([x[1:] for x in rows], [["multi-1", "multi-1", "0"],
                                                 ["multi-2", "multi-2", "1"],
                                                 ["multi-3", "multi-3", "2"]])
        lst = request("GET", f"/v2.1/servers?reservation_id={resv}", token=MEMBER)
        self.assertEqual(len(lst.json["servers"]), 3)

    def test_create_with_group_hint_and_bdm(self):
        g = request("POST", "/v2.1/os-server-groups",
                    {"server_group": {"name": "g", "policies": ["anti-affinity"]}}, token=MEMBER)
        self.assertEqual(g.status, 200, g)
        gid = g.json["server_group"]["id"]
        self.addCleanup(request, "DELETE", f"/v2.1/os-server-groups/{gid}", token=MEMBER)
        b = body(block_device_mapping_v2=[
            {"boot_index": "0", "uuid": IMAGE, "source_type": "image",
             "destination_type": "local", "delete_on_termination": True},
            {"source_type": "blank", "destination_type": "volume", "volume_size": 1,
             "boot_index": -1}])
        b["os:scheduler_hints"] = {"group": gid, "same_host": [FAKE]}
        sid, _ = self.boot(full_body=b)
        self.assertEqual(psql(f"SELECT count(*) FROM server_group_members"
                              f" WHERE group_uuid = '{gid}' AND instance_uuid = '{sid}'"), "1")
        spec = json.loads(self.row(sid, "request_spec"))
        self.assertEqual(spec["group_uuid"], gid)
        self.assertEqual(spec["scheduler_hints"]["same_host"], [FAKE])
        self.assertEqual(psql(f"SELECT count(*) FROM block_device_mapping"
                              f" WHERE instance_uuid = '{sid}'"), "2")
        r = request("GET", f"/v2.1/servers/{sid}", token=MEMBER, version="2.71")
        self.assertEqual(r.json["server"]["server_groups"], [gid])

    def test_create_volume_backed_has_empty_image(self):
        vol = request("POST", "/v2.1/os-volumes", {"volume": {"size": 1}}, token=MEMBER)
        self.assertEqual(vol.status, 200, vol)
        vid = vol.json["volume"]["id"]
        b = body(imageRef="", block_device_mapping_v2=[
            {"boot_index": 0, "uuid": vid, "source_type": "volume",
             "destination_type": "volume"}])
        sid, _ = self.boot(full_body=b)
        r = request("GET", f"/v2.1/servers/{sid}", token=MEMBER)
        self.assertEqual(r.json["server"]["image"], "")
        self.assertEqual(r.json["server"]["os-extended-volumes:volumes_attached"], [{"id": vid}])

    def test_admin_forced_host_and_requested_host(self):
        sid, _ = self.boot(token="admin:admin", availability_zone="nova:compute1")
        spec = json.loads(self.row(sid, "request_spec"))
        self.assertEqual(spec["force_host"], "compute1")
        node = psql("SELECT host FROM compute_nodes WHERE deleted = 0 ORDER BY id LIMIT 1")
        if node:
            sid, _ = self.boot(token="admin:admin", version="2.74", host=node)
            self.assertEqual(json.loads(self.row(sid, "request_spec"))["requested_host"], node)
        r = create(token="admin:admin", version="2.74", host="no-such-host")
        self.assertFault(r, 400, "badRequest", "Compute host no-such-host could not be found.")
        r = create(token="admin:admin", version="2.74", host="compute1",
                   availability_zone="nova:compute1")
        self.assertFault(r, 400, "badRequest", "are mutually exclusive")

    def test_admin_pass_hidden_when_disabled_is_config(self):
        # [api] enable_instance_password defaults to true: the password is shown
        _, r = self.boot(adminPass="given-password")
        self.assertEqual(r.json["server"]["adminPass"], "given-password")


class CreateErrorTest(ServersBase):
    def bad(self, status, message, token=MEMBER, version="2.1", **kw):
        r = create(token=token, version=version, **kw)
        names = {400: "badRequest", 403: "forbidden", 409: "conflictingRequest"}
        self.assertFault(r, status, names[status], message)
        return r

    def test_unknown_image(self):
        self.bad(400, "Can not find requested image", imageRef=FAKE)

    def test_missing_image(self):
        self.bad(400, "Missing imageRef attribute", imageRef="")

    def test_image_not_active(self):
        img = str(uuid.uuid4())
        psql(f"INSERT INTO images (id, name, status) VALUES ('{img}', 'q', 'queued')")
        self.bad(400, f"Image {img} is not active.", imageRef=img)

    def test_image_needs_more_ram_and_disk(self):
        img = str(uuid.uuid4())
        psql(f"INSERT INTO images (id, name, min_ram) VALUES ('{img}', 'big', 100000)")
        self.bad(400, "Flavor's memory is too small for requested image.", imageRef=img)
        img = str(uuid.uuid4())
        psql(f"INSERT INTO images (id, name, min_disk) VALUES ('{img}', 'big', 50)")
        self.bad(400, "Flavor's disk is smaller than the minimum size specified in image metadata."
                      " Flavor disk is 1073741824 bytes, minimum size is 53687091200 bytes.",
                 imageRef=img)

    def test_unknown_flavor_is_400(self):
        self.bad(400, "Flavor 999 could not be found.", flavorRef="999")
        self.bad(400, "Flavor 998 could not be found.",
                 flavorRef="http://localhost/v2.1/flavors/998")

    def test_bad_key_name(self):
        self.bad(400, "Invalid key_name provided.", key_name="nope")

    def test_min_over_max(self):
        self.bad(400, "min_count must be <= max_count", min_count=3, max_count=2)

    def test_schema(self):
        r = create(version="2.37", full_body={"server": {"name": "x", "imageRef": IMAGE,
                                                       "flavorRef": "1"}})
        self.assertFault(r, 400, "badRequest", "'networks' is a required property")
        self.bad(400, "Invalid input for field/attribute", name="")
        self.bad(400, "Invalid input for field/attribute", version="2.19", description="x" * 300)

    def test_unknown_group(self):
        b = body()
        b["os:scheduler_hints"] = {"group": FAKE}
        r = request("POST", "/v2.1/servers", b, token=MEMBER)
        self.assertFault(r, 400, "badRequest", f"Instance group {FAKE} could not be found.")

    def test_forced_host_needs_admin(self):
        self.bad(403, "Policy doesn't allow os_compute_api:servers:create:forced_host",
                 availability_zone="nova:compute1")
        self.bad(403, "requested_destination", version="2.74", host="compute1")

    def test_unavailable_zone(self):
        self.bad(400, "The requested availability zone is not available",
                 availability_zone="atlantis")

    def test_hostname_with_many(self):
        self.bad(400, "Unable to allocate a single hostname to multiple instances",
                 version="2.90", hostname="h1", max_count=2)

    def test_block_device_mapping_rules(self):
        def bdm(*maps, **kw):
            return dict(block_device_mapping_v2=list(maps), **kw)
        self.bad(400, "Block Device Mapping is Invalid: Invalid device UUID.",
                 **bdm({"source_type": "blank", "uuid": FAKE, "destination_type": "local"}))
        self.bad(400, "Block Device Mapping is Invalid: Missing device UUID.",
                 **bdm({"source_type": "volume", "destination_type": "volume"}))
        self.bad(400, "Block Device Mapping is Invalid: Mapping image to local is not supported.",
                 **bdm({"source_type": "image", "uuid": IMAGE, "destination_type": "local",
                        "boot_index": 1}))
        self.bad(400, "Block Device Mapping is Invalid: Boot sequence for the instance",
                 imageRef="", **bdm({"source_type": "volume", "uuid": FAKE,
                                     "destination_type": "volume", "boot_index": 1}))
        self.bad(400, "Images with destination_type 'volume' need to have a non-zero size",
                 imageRef="", **bdm({"source_type": "image", "uuid": IMAGE,
                                     "destination_type": "volume", "boot_index": 0}))
        self.bad(400, "Block Device Mapping is Invalid: failed to get image",
                 imageRef="", **bdm({"source_type": "image", "uuid": FAKE, "volume_size": 1,
                                     "destination_type": "volume", "boot_index": 0}))
        self.bad(400, "Ephemeral disks requested are larger than the instance type allows.",
                 **bdm({"source_type": "blank", "destination_type": "local", "volume_size": 5}))
        self.bad(400, "Using different block_device_mapping syntaxes is not allowed",
                 block_device_mapping=[{"volume_id": FAKE, "device_name": "vdb"}],
                 **bdm({"source_type": "volume", "uuid": FAKE, "destination_type": "volume"}))

    def test_networks(self):
        port = str(uuid.uuid4())
        self.bad(400, f"Port ID '{port}' was specified twice", version="2.37",
                 networks=[{"port": port}, {"port": port}])
        self.bad(400, "max_count cannot be greater than 1 if an fixed_ip is specified.",
                 version="2.37", networks=[{"uuid": FAKE, "fixed_ip": "10.0.0.5"}], max_count=2)


class QuotaTest(ServersBase):
    # a fresh project per test: deletes finish asynchronously and servers
    # being deleted still count, as in Nova
    def setUp(self):
        self.PROJECT = "s-quota-" + uuid.uuid4().hex[:8]
        self.TOKEN = "s-quota-user:" + self.PROJECT

    def tearDown(self):
        psql(f"DELETE FROM quotas WHERE project_id = '{self.PROJECT}'")
        forget_servers(self.PROJECT)
        super().tearDown()

    def set_quota(self, resource, limit):
        psql(f"INSERT INTO quotas (project_id, resource, hard_limit) VALUES"
             f" ('{self.PROJECT}', '{resource}', {limit}) ON CONFLICT (project_id, resource)"
             f" DO UPDATE SET hard_limit = EXCLUDED.hard_limit")

    def test_instances_quota(self):
        self.set_quota("instances", 2)
        self.boot(token=self.TOKEN)
        self.boot(token=self.TOKEN)
        r = create(token=self.TOKEN)
        self.assertFault(r, 403, "forbidden",
                         "Quota exceeded for instances: Requested 1, but already used 2 of 2"
                         " instances")

    def test_cores_and_ram_quota(self):
        self.set_quota("cores", 1)
        r = create(token=self.TOKEN, flavorRef="3")
        self.assertFault(r, 403, "forbidden", "Quota exceeded for cores: Requested 2, but already"
                                              " used 0 of 1 cores")
        self.set_quota("cores", 100)
        self.set_quota("ram", 1000)
        r = create(token=self.TOKEN, flavorRef="2")
        self.assertFault(r, 403, "forbidden", "Quota exceeded for ram: Requested 2048")

    def test_multi_create_takes_what_fits(self):
        self.set_quota("instances", 2)
        b = body(min_count=1, max_count=5, return_reservation_id=True)
        r = request("POST", "/v2.1/servers", b, token=self.TOKEN)
        self.assertEqual(r.status, 202, r)
        uuids = psql(f"SELECT uuid FROM instances WHERE reservation_id ="
                     f" '{r.json['reservation_id']}'").splitlines()
        type(self).created.extend(uuids)
        self.assertEqual(len(uuids), 2)

    def test_metadata_items_quota(self):
        self.set_quota("metadata_items", 1)
        r = create(token=self.TOKEN, metadata={"a": "1", "b": "2"})
        self.assertFault(r, 403, "forbidden", "Maximum number of metadata items exceeds 1")

    def test_personality_limit(self):
        self.set_quota("injected_files", 1)
        files = [{"path": "/a", "contents": "YQ=="}, {"path": "/b", "contents": "Yg=="}]
        r = create(token=self.TOKEN, personality=files)
        self.assertFault(r, 403, "forbidden", "Personality file limit exceeded")


class ShowTest(ServersBase):
    @classmethod
    def setUpClass(cls):
        b = body(metadata={"My Server Name": "Apache1"}, accessIPv4="1.2.3.4",
                 accessIPv6="80fe::", flavorRef="5")
        cls.sid = cls.shared_park(b)
        # an active, scheduled server as the pipeline leaves it, so that
        # every field has its final shape
        psql(f"UPDATE instances SET vm_state = 'active', task_state = NULL, power_state = 1,"
             f" host = 'fake-host', node = 'fake-node', launched_at = now(),"
             f" addresses = '{{\"private\": [{{\"addr\": \"192.168.1.30\", \"version\": 4,"
             f" \"OS-EXT-IPS:type\": \"fixed\", \"OS-EXT-IPS-MAC:mac_addr\":"
             f" \"00:0c:29:0d:11:74\"}}]}}', system_metadata = system_metadata ||"
             f" '{{\"image_architecture\": \"x86_64\"}}' WHERE uuid = '{cls.sid}'")

    # sample folder of the view at each microversion where it changed
    VERSIONS = [("2.1", "servers/server-get-resp.json"), ("2.3", "servers/v2.3/server-get-resp.json"),
                ("2.9", "servers/v2.9/server-get-resp.json"),
                ("2.16", "servers/v2.16/server-get-resp.json"),
                ("2.19", "servers/v2.19/server-get-resp.json"),
                ("2.47", "servers/v2.47/server-get-resp.json"),
                ("2.52", "servers/v2.52/server-get-resp.json"),
                ("2.63", "servers/v2.63/server-get-resp.json"),
                ("2.71", "servers/v2.71/server-get-resp.json"),
                ("2.73", "servers/v2.73/server-get-resp.json"),
                ("2.90", "servers/v2.90/server-get-resp.json"),
                ("2.96", "servers/v2.96/server-get-resp.json"),
                ("2.98", "servers/v2.98/server-get-resp.json"),
                ("2.100", "servers/v2.100/server-get-resp.json")]
    NULLABLE = ("$.server.description", "$.server.locked_reason", "$.server.key_name",
                "$.server.OS-SRV-USG:terminated_at", "$.server.trusted_image_certificates",
                "$.server.OS-EXT-SRV-ATTR:kernel_id", "$.server.OS-EXT-SRV-ATTR:ramdisk_id",
                "$.server.OS-EXT-SRV-ATTR:user_data", "$.server.pinned_availability_zone",
                "$.server.OS-EXT-SRV-ATTR:root_device_name", "$.server.OS-EXT-STS:task_state")

    def test_show_every_version_as_admin(self):
        for v, path in self.VERSIONS:
            with self.subTest(version=v):
                r = request("GET", f"/v2.1/servers/{self.sid}", version=v)
                self.assertEqual(r.status, 200, r)
                self.assertMatchesSchema(r.json, "GET", "/servers/{id}", v)
                # the samples differ from us only in fields we can't have
                # (attached volumes, fault) and in the admin attributes shown
                want = sample(path)["server"]
                got = dict(r.json["server"])
                for k in ("os-extended-volumes:volumes_attached",):
                    got.pop(k, None), want.pop(k, None)
                extra = set(got) - set(want)
                missing = set(want) - set(got)
                self.assertFalse(missing, f"{v}: missing {missing}")
                self.assertTrue(all(k.startswith("OS-EXT-SRV-ATTR:") or k == "host_status"
                                    for k in extra), f"{v}: extra {extra}")

    def test_show_fields(self):
        r = request("GET", f"/v2.1/servers/{self.sid}", version="latest")
        s = r.json["server"]
        self.assertEqual(s["status"], "ACTIVE")
        self.assertEqual(s["progress"], 0)
        self.assertEqual(s["accessIPv4"], "1.2.3.4")
        self.assertEqual(s["metadata"], {"My Server Name": "Apache1"})
        self.assertEqual(s["flavor"]["original_name"], "m1.xlarge")
        self.assertEqual(s["flavor"]["ram"], 16384)
        # ImageMetaProps names only (kernel_id/ramdisk_id are not shown)
        self.assertEqual(s["image"]["properties"], {"architecture": "x86_64",
                                                    "auto_disk_config": "True"})
        self.assertEqual(s["OS-EXT-SRV-ATTR:host"], "fake-host")
        self.assertEqual(s["OS-EXT-SRV-ATTR:instance_name"][:9], "instance-")
        self.assertIn(s["host_status"], ("UP", "UNKNOWN", "DOWN", "MAINTENANCE", ""))
        self.assertRegex(s["hostId"], "^[0-9a-f]{56}$")
        self.assertEqual(s["locked"], False)
        self.assertEqual(s["scheduler_hints"], {})
        self.assertEqual(s["addresses"]["private"][0]["addr"], "192.168.1.30")

    def test_member_view_hides_admin_fields(self):
        r = request("GET", f"/v2.1/servers/{self.sid}", token=MEMBER, version="latest")
        self.assertEqual(r.status, 200, r)
        self.assertMatchesSchema(r.json, "GET", "/servers/{id}", "2.100")
        s = r.json["server"]
        self.assertEqual([k for k in s if k.startswith("OS-EXT-SRV-ATTR:")],
                         ["OS-EXT-SRV-ATTR:hostname"])
        self.assertNotIn("host_status", s)

    def test_not_found(self):
        self.assertFault(request("GET", f"/v2.1/servers/{FAKE}"), 404, "itemNotFound",
                         f"Instance {FAKE} could not be found.")
        self.assertFault(request("GET", f"/v2.1/servers/{self.sid}", token=OTHER), 404,
                         "itemNotFound")
        self.assertFault(request("GET", "/v2.1/servers/not-a-uuid"), 404, "itemNotFound")

    def test_error_fault(self):
        sid = self.park()
        psql(f"UPDATE instances SET vm_state = 'error', task_state = NULL WHERE uuid = '{sid}';"
             f" INSERT INTO instance_faults (instance_uuid, code, message, details)"
             f" VALUES ('{sid}', 500, 'boom', 'trace')")
        r = request("GET", f"/v2.1/servers/{sid}", token=MEMBER)
        self.assertEqual(r.json["server"]["status"], "ERROR")
        self.assertNotIn("progress", r.json["server"])
        self.assertEqual(r.json["server"]["fault"]["message"], "boom")
        self.assertNotIn("details", r.json["server"]["fault"])
        r = request("GET", f"/v2.1/servers/{sid}")
        self.assertEqual(r.json["server"]["fault"]["details"], "trace")


class ListTest(ServersBase):
    TOKEN = "s-lister:s-list-proj"

    @classmethod
    def setUpClass(cls):
        cls.ids = {}
        cls.since = psql("SELECT to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')")
        for name, tags in (("alpha", ["t1", "t2"]), ("beta", ["t2"]), ("gamma", [])):
            b = body(name=name, tags=tags, flavorRef="5", networks="none")
            cls.ids[name] = cls.shared_park(b, token=cls.TOKEN, version="2.52")
        # pin a state per server so that the status filter has something to see
        psql(f"UPDATE instances SET vm_state = 'active', task_state = NULL"
             f" WHERE uuid = '{cls.ids['alpha']}';"
             f" UPDATE instances SET vm_state = 'stopped', task_state = NULL, locked = true"
             f" WHERE uuid = '{cls.ids['beta']}';"
             f" UPDATE instances SET vm_state = 'building', task_state = 'scheduling', host = NULL"
             f" WHERE uuid = '{cls.ids['gamma']}'")

    def names(self, query="", version="2.1", detail=False, token=None):
        r = request("GET", f"/v2.1/servers{'/detail' if detail else ''}{query}",
                    token=token or self.TOKEN, version=version)
        self.assertEqual(r.status, 200, r)
        return sorted(s["name"] for s in r.json["servers"])

    def test_index_shape(self):
        r = request("GET", "/v2.1/servers?limit=3", token=self.TOKEN)
        self.assertMatchesSchema(r.json, "GET", "/servers", "2.1")
        self.assertLikeSample(r.json, "servers/servers-list-resp.json")
        self.assertEqual(len(r.json["servers"]), 3)

    def test_detail_shape(self):
        for v in ("2.1", "2.47", "2.73", "2.96", "2.100"):
            with self.subTest(version=v):
                r = request("GET", "/v2.1/servers/detail", token=self.TOKEN, version=v)
                self.assertEqual(r.status, 200, r)
                self.assertMatchesSchema(r.json, "GET", "/servers/detail", v)
                self.assertNotIn("server_groups", r.json["servers"][0])

    def test_default_order_newest_first(self):
        r = request("GET", "/v2.1/servers", token=self.TOKEN)
        self.assertEqual([s["name"] for s in r.json["servers"]], ["gamma", "beta", "alpha"])
        r = request("GET", "/v2.1/servers?sort_key=display_name&sort_dir=asc", token=self.TOKEN)
        self.assertEqual([s["name"] for s in r.json["servers"]], ["alpha", "beta", "gamma"])

    def test_filters(self):
        self.assertEqual(self.names("?name=^al"), ["alpha"])
        self.assertEqual(self.names("?status=SHUTOFF"), ["beta"])
        self.assertEqual(self.names("?status=ACTIVE&status=BUILD"), ["alpha", "gamma"])
        self.assertEqual(self.names("?flavor=5"), ["alpha", "beta", "gamma"])
        self.assertEqual(self.names("?flavor=1"), [])
        self.assertEqual(self.names(f"?image={IMAGE}"), ["alpha", "beta", "gamma"])
        self.assertEqual(self.names("?tags=t1,t2", version="2.26"), ["alpha"])
        self.assertEqual(self.names("?tags-any=t1,t2", version="2.26"), ["alpha", "beta"])
        self.assertEqual(self.names("?not-tags=t2", version="2.26"), ["gamma"])
        self.assertEqual(self.names("?not-tags-any=t1", version="2.26"), ["beta", "gamma"])
        self.assertEqual(self.names("?locked=true", version="2.73"), ["beta"])
        self.assertEqual(self.names("?locked=false", version="2.73"), ["alpha", "gamma"])
        self.assertEqual(self.names(f"?changes-since={self.since}"), ["alpha", "beta", "gamma"])
        self.assertEqual(self.names("?changes-before=2000-01-01T00:00:00Z", version="2.66"), [])
        # non-admins' admin-only filters are ignored, as Nova does
        self.assertEqual(self.names("?host=nowhere"), ["alpha", "beta", "gamma"])

    def test_filter_errors(self):
        r = request("GET", "/v2.1/servers?status=NOPE", token=self.TOKEN, version="2.38")
        self.assertFault(r, 400, "badRequest", "Invalid status value")
        self.assertEqual(self.names("?status=NOPE", version="2.37"), [])
        r = request("GET", "/v2.1/servers?changes-since=2020-01-02T00:00:00Z"
                           "&changes-before=2020-01-01T00:00:00Z", token=self.TOKEN, version="2.66")
        self.assertFault(r, 400, "badRequest", "The value of changes-since must be less than or"
                                               " equal to changes-before.")
        r = request("GET", "/v2.1/servers?all_tenants=1", token=self.TOKEN)
        self.assertFault(r, 403, "forbidden", "os_compute_api:servers:index:get_all_tenants")
        r = request("GET", "/v2.1/servers?marker=" + FAKE, token=self.TOKEN)
        self.assertFault(r, 400, "badRequest", f"marker [{FAKE}] not found")
        r = request("GET", "/v2.1/servers?status=DELETED", token=self.TOKEN)
        self.assertFault(r, 403, "forbidden", "Only administrators may list deleted instances")

    def test_admin_all_tenants_and_host(self):
        r = request("GET", "/v2.1/servers?all_tenants=1&project_id=s-list-proj")
        self.assertEqual(sorted(s["name"] for s in r.json["servers"]), ["alpha", "beta", "gamma"])
        r = request("GET", "/v2.1/servers")  # admin's own project only
        self.assertNotIn(self.ids["alpha"], [s["id"] for s in r.json["servers"]])
        r = request("GET", "/v2.1/servers?all_tenants=1&host=nowhere")
        self.assertEqual(r.json["servers"], [])
        r = request("GET", "/v2.1/servers?all_tenants=1&project_id=s-list-proj&tags=t1",
                    version="2.26")
        self.assertEqual([s["name"] for s in r.json["servers"]], ["alpha"])
        r = request("GET", "/v2.1/servers?metadata=x")
        self.assertFault(r, 400, "badRequest", "Invalid filter field: metadata.")
        self.assertEqual(self.names("?metadata=x"), ["alpha", "beta", "gamma"])  # ignored

    def test_paging(self):
        r = request("GET", "/v2.1/servers?limit=2", token=self.TOKEN)
        self.assertEqual([s["name"] for s in r.json["servers"]], ["gamma", "beta"])
        link = r.json["servers_links"][0]
        self.assertEqual(link["rel"], "next")
        self.assertIn(f"marker={self.ids['beta']}", link["href"])
        self.assertIn("limit=2", link["href"])
        r = request("GET", f"/v2.1/servers?limit=2&marker={self.ids['beta']}", token=self.TOKEN)
        self.assertEqual([s["name"] for s in r.json["servers"]], ["alpha"])
        self.assertNotIn("servers_links", r.json)
        r = request("GET", "/v2.1/servers/detail?limit=1", token=self.TOKEN)
        self.assertIn("/servers/detail?", r.json["servers_links"][0]["href"])

    def test_deleted_listing_for_admins(self):
        project = "s-list-del-" + uuid.uuid4().hex[:8]
        token = "s-lister:" + project
        sid = self.park(token=token, name="gone")
        self.park(token=token, name="here")
        psql(f"UPDATE instances SET deleted = id, vm_state = 'deleted', deleted_at = now()"
             f" WHERE uuid = '{sid}'")
        r = request("GET", f"/v2.1/servers?all_tenants=1&deleted=true&project_id={project}")
        self.assertEqual([s["name"] for s in r.json["servers"]], ["gone"])
        # non-admins' deleted filter is ignored; changes-since shows deleted ones
        self.assertEqual(self.names("?deleted=true", token=token), ["here"])
        self.assertEqual(self.names("?changes-since=2000-01-01T00:00:00Z", token=token),
                         ["gone", "here"])


class UpdateTest(ServersBase):
    def test_update_fields(self):
        sid = self.park(metadata={"My Server Name": "Apache1"})
        psql(f"UPDATE instances SET vm_state = 'active', task_state = NULL, addresses ="
             f" '{{\"private\": [{{\"addr\": \"192.168.1.30\", \"version\": 4,"
             f" \"OS-EXT-IPS:type\": \"fixed\", \"OS-EXT-IPS-MAC:mac_addr\":"
             f" \"00:0c:29:0d:11:74\"}}]}}'"
             f" WHERE uuid = '{sid}'")
        r = request("PUT", f"/v2.1/servers/{sid}", {"server": {"name": "renamed",
                    "accessIPv4": "4.3.2.1"}}, token=MEMBER)
        self.assertEqual(r.status, 200, r)
        self.assertMatchesSchema(r.json, "PUT", "/servers/{id}", "2.1")
        self.assertLikeSample(r.json, "servers/server-update-resp.json",
                              nullable=("$.server.OS-EXT-STS:task_state",))
        self.assertEqual(r.json["server"]["name"], "renamed")
        self.assertEqual(r.json["server"]["accessIPv4"], "4.3.2.1")
        self.assertNotIn("OS-EXT-STS:vm_state", r.json["server"])  # reduced view before 2.75
        r = request("PUT", f"/v2.1/servers/{sid}", {"server": {"description": "d",
                    "hostname": "new-host"}}, token=MEMBER, version="2.90")
        self.assertEqual(r.json["server"]["description"], "d")
        self.assertEqual(r.json["server"]["OS-EXT-SRV-ATTR:hostname"], "new-host")
        self.assertIn("OS-EXT-STS:vm_state", r.json["server"])
        self.assertMatchesSchema(r.json, "PUT", "/servers/{id}", "2.90")
        r = request("PUT", f"/v2.1/servers/{sid}", {"server": {"description": None}},
                    token=MEMBER, version="latest")
        self.assertEqual(r.status, 200, r)
        self.assertIsNone(r.json["server"]["description"])
        self.assertMatchesSchema(r.json, "PUT", "/servers/{id}", "2.100")

    def test_update_errors(self):
        r = request("PUT", f"/v2.1/servers/{FAKE}", {"server": {"name": "x"}}, token=MEMBER)
        self.assertFault(r, 404, "itemNotFound")
        sid, _ = self.boot()
        r = request("PUT", f"/v2.1/servers/{sid}", {"server": {"name": ""}}, token=MEMBER)
        self.assertFault(r, 400, "badRequest")
        r = request("PUT", f"/v2.1/servers/{sid}", {"server": {"description": "x"}}, token=MEMBER)
        self.assertFault(r, 400, "badRequest")  # description arrived in 2.19

    def test_pin_availability_zone(self):
        sid = self.park()
        psql(f"UPDATE instances SET availability_zone = 'nova' WHERE uuid = '{sid}'")
        r = request("PUT", f"/v2.1/servers/{sid}", {"server": {"pinned_availability_zone": "x"}},
                    token=MEMBER, version="2.104")
        self.assertFault(r, 409, "conflictingRequest",
                         "Server can only be pinned to its current availability zone 'nova',"
                         " but 'x' was requested.")
        r = request("PUT", f"/v2.1/servers/{sid}",
                    {"server": {"pinned_availability_zone": "nova"}}, token=MEMBER,
                    version="2.104")
        self.assertEqual(r.json["server"]["pinned_availability_zone"], "nova")


class DeleteTest(ServersBase):
    def test_delete_hands_over_to_conductor(self):
        sid = self.park()
        psql(f"UPDATE instances SET vm_state = 'active', task_state = NULL, host = 'compute1'"
             f" WHERE uuid = '{sid}'")
        r = request("DELETE", f"/v2.1/servers/{sid}", token=MEMBER)
        self.assertEqual(r.status, 204, r)
        self.assertEqual(r.data, b"")
        state = self.row(sid, "task_state || '|' || deleted")
        self.assertTrue(state in ("deleting|0",) or not state.endswith("|0"), state)
        self.assertEqual(psql(f"SELECT count(*) FROM instance_actions WHERE instance_uuid = '{sid}'"
                              f" AND action = 'delete'"), "1")
        # a second delete while deleting is accepted and ignored
        r = request("DELETE", f"/v2.1/servers/{sid}", token=MEMBER)
        self.assertIn(r.status, (204, 404), r)

    def test_delete_never_scheduled_error_is_immediate(self):
        sid = self.park()
        psql(f"UPDATE instances SET vm_state = 'error', task_state = NULL, host = NULL"
             f" WHERE uuid = '{sid}'")
        self.assertEqual(request("DELETE", f"/v2.1/servers/{sid}", token=MEMBER).status, 204)
        self.assertFault(request("GET", f"/v2.1/servers/{sid}", token=MEMBER), 404, "itemNotFound")
        self.assertEqual(self.row(sid, "vm_state"), "deleted")

    def test_delete_errors(self):
        self.assertFault(request("DELETE", f"/v2.1/servers/{FAKE}", token=MEMBER), 404,
                         "itemNotFound")
        sid, _ = self.boot()
        self.assertFault(request("DELETE", f"/v2.1/servers/{sid}", token=OTHER), 404,
                         "itemNotFound")
        psql(f"UPDATE instances SET locked = true, locked_by = 'owner' WHERE uuid = '{sid}'")
        self.assertFault(request("DELETE", f"/v2.1/servers/{sid}", token=MEMBER), 409,
                         "conflictingRequest", f"Instance {sid} is locked")
        self.assertEqual(request("DELETE", f"/v2.1/servers", token=MEMBER).status, 405)


class VolumesBootTest(ServersBase):
    """/os-volumes_boot is Nova's old alias of /servers (same controller,
    same views, links to /servers), up to 2.102."""

    def test_alias_serves_the_servers_routes(self):
        r = request("POST", "/v2.1/os-volumes_boot", body(), token=MEMBER)
        self.assertEqual(r.status, 202, r)
        sid = r.json["server"]["id"]
        type(self).created.append(sid)
        self.assertTrue(r.header("location").endswith("/v2.1/servers/" + sid))
        self.assertLikeSample(r.json, "servers/server-create-resp.json")
        for path in ("/os-volumes_boot", "/os-volumes_boot/detail"):
            r = request("GET", "/v2.1" + path, token=MEMBER)
            self.assertEqual(r.status, 200, r)
            self.assertIn(sid, [s["id"] for s in r.json["servers"]])
            # the same servers, in the same shape (values move while the build runs)
            same = request("GET", "/v2.1" + path.replace("os-volumes_boot", "servers"),
                           token=MEMBER).json["servers"]
            self.assertEqual([(s["id"], sorted(s)) for s in r.json["servers"]],
                             [(s["id"], sorted(s)) for s in same])
        r = request("GET", f"/v2.1/os-volumes_boot/{sid}", token=MEMBER, version="2.9")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json["server"]["id"], sid)
        self.assertMatchesSchema(r.json, "GET", "/servers/{id}", "2.9")
        r = request("PUT", f"/v2.1/os-volumes_boot/{sid}", {"server": {"name": "vb-renamed"}},
                    token=MEMBER)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json["server"]["name"], "vb-renamed")
        self.assertFault(request("GET", f"/v2.1/os-volumes_boot/{sid}", token=OTHER), 404,
                         "itemNotFound")
        self.assertFault(request("GET", f"/v2.1/os-volumes_boot/{sid}", token=MEMBER,
                                 version="2.103"), 404, "itemNotFound",
                         "The resource could not be found.")
        self.assertEqual(request("DELETE", f"/v2.1/os-volumes_boot/{sid}", token=MEMBER).status, 204)


class EndToEndTest(ServersBase):
    """Boot through the pipeline (conductor, scheduler, compute), then delete."""

    def test_boot_active_then_delete(self):
        sid, _ = self.boot(token=MEMBER, version="2.37", networks="auto", imageRef=CIRROS)
        deadline = time.time() + 60
        status = None
        while time.time() < deadline:
            r = request("GET", f"/v2.1/servers/{sid}", token=MEMBER)
            status = r.json["server"]["status"]
            if status != "BUILD":
                break
            time.sleep(1)
        if status == "BUILD":
            self.skipTest("the server stayed in BUILD for 60 s: the build pipeline"
                          " (conductor/scheduler/compute) did not finish it")
        if status == "ERROR":
            fault = r.json["server"].get("fault", {}).get("message")
            self.skipTest(f"the pipeline put the server in ERROR ({fault}); not an API failure")
        self.assertEqual(status, "ACTIVE")
        self.assertEqual(request("DELETE", f"/v2.1/servers/{sid}", token=MEMBER).status, 204)
        deadline = time.time() + 60
        while time.time() < deadline:
            if request("GET", f"/v2.1/servers/{sid}", token=MEMBER).status == 404:
                return
            time.sleep(1)
        self.fail("the server was not gone 60 s after DELETE")


if __name__ == "__main__":
    unittest.main()
