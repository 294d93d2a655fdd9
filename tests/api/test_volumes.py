"""test_volumes.py: the built-in block storage — os-volumes and os-snapshots
(Nova's volume proxy, 2.1-2.35) and /servers/{id}/os-volume_attachments:
every route's normal and error codes, shapes against Nova's samples and
response schemas per microversion, and the attach / detach round trip end
to end (API -> outbox -> conductor -> compute on libvirt's test driver ->
conductor) with the volume's status, the attachment views and the server's
os-extended-volumes:volumes_attached following it; deleting a server
releases (or, with delete_on_termination, deletes) its volumes."""
import time, unittest, uuid

from common import FAKE, ApiTest, ServerFixtures, psql, request

IMAGE = "70a599e0-31e7-49b7-b260-868f441e862b"  # seeded by 007_images_seed.sql
PROJECT = "vol-proj"
MEMBER = "vol-member:" + PROJECT
OTHER = "vol-other:vol-other-proj"
SETTLE = 60  # seconds a host operation may take under ASan
VOLS = "/v2.1/os-volumes"
SNAPS = "/v2.1/os-snapshots"


def setUpModule():
    for res in ("instances", "cores", "ram"):
        psql(f"INSERT INTO quotas (project_id, resource, hard_limit) VALUES ('{PROJECT}', '{res}',"
             f" -1) ON CONFLICT (project_id, resource) DO UPDATE SET hard_limit = -1")


def tearDownModule():
    psql(f"UPDATE volume_snapshots SET deleted = true WHERE project_id = '{PROJECT}'")
    psql(f"UPDATE volumes SET deleted = true WHERE project_id IN ('{PROJECT}', 'vol-other-proj')")


def create_volume(token=MEMBER, **fields):
    body = {"size": 1, "display_name": "vol-" + uuid.uuid4().hex[:6]}
    body.update(fields)
    r = request("POST", VOLS, {"volume": body}, token=token)
    assert r.status == 200, r
    return r.json["volume"]


def volume(vid, token=MEMBER):
    r = request("GET", f"{VOLS}/{vid}", token=token)
    assert r.status == 200, r
    return r.json["volume"]


def wait_volume(vid, status, seconds=SETTLE):
    deadline = time.time() + seconds
    while True:
        v = volume(vid)
        if v["status"] == status:
            return v
        if time.time() > deadline:
            raise AssertionError(f"volume {vid} not {status} after {seconds} s: {v['status']}")
        time.sleep(0.3)


class Volumes(ApiTest):
    def test_create_show_list_delete(self):
        r = request("POST", VOLS, {"volume": {
            "size": 3, "display_name": "Volume Name", "display_description": "Volume Description",
            "volume_type": "vol_type_name", "metadata": {"k": "v"}}}, token=MEMBER)
        self.assertEqual(r.status, 200, r)
        v = r.json["volume"]
        self.assertMatchesSchema(r.json, "POST", "/os-volumes", "2.1")
        self.assertTrue(r.header("location").endswith(f"/v2.1/os-volumes/{v['id']}"), r.headers)
        self.assertEqual((v["size"], v["status"], v["displayName"], v["displayDescription"],
                          v["volumeType"], v["metadata"], v["snapshotId"], v["attachments"],
                          v["availabilityZone"]),
                         (3, "available", "Volume Name", "Volume Description", "vol_type_name",
                          {"k": "v"}, None, [{}], "nova"))
        self.assertRegex(v["createdAt"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}$")
        shown = request("GET", f"{VOLS}/{v['id']}", token=MEMBER)
        self.assertEqual(shown.status, 200, shown)
        self.assertEqual(shown.json["volume"], v)
        self.assertMatchesSchema(shown.json, "GET", "/os-volumes/{id}", "2.1")
        for path, route in ((VOLS, "/os-volumes"), (VOLS + "/detail", "/os-volumes/detail")):
            r = request("GET", path, token=MEMBER)
            self.assertEqual(r.status, 200, r)
            self.assertMatchesSchema(r.json, "GET", route, "2.1")
            self.assertIn(v, r.json["volumes"])
            # another project's list does not show it
            r = request("GET", path, token=OTHER)
            self.assertNotIn(v["id"], [x["id"] for x in r.json["volumes"]])
        r = request("DELETE", f"{VOLS}/{v['id']}", token=MEMBER)
        self.assertEqual((r.status, r.data), (202, b""), r)
        self.assertFault(request("GET", f"{VOLS}/{v['id']}", token=MEMBER), 404, "itemNotFound",
                         f"Volume {v['id']} could not be found.")
        self.assertFault(request("DELETE", f"{VOLS}/{v['id']}", token=MEMBER), 404,
                         "itemNotFound", f"Volume {v['id']} could not be found.")

    def test_size_as_string_and_paging(self):
        a = create_volume(size="2")
        b = create_volume()
        self.assertEqual(a["size"], 2)
        ids = [x["id"] for x in request("GET", VOLS, token=MEMBER).json["volumes"]]
        self.assertLess(ids.index(a["id"]), ids.index(b["id"]))
        r = request("GET", f"{VOLS}?limit=1", token=MEMBER)
        self.assertEqual(len(r.json["volumes"]), 1)
        r = request("GET", f"{VOLS}/detail?offset={ids.index(b['id'])}&limit=1", token=MEMBER)
        self.assertEqual([x["id"] for x in r.json["volumes"]], [b["id"]])
        self.assertFault(request("GET", f"{VOLS}?limit=x", token=MEMBER), 400, "badRequest")

    def test_create_errors(self):
        cases = [
            ({"volume": {"size": "0"}}, None),
            ({"volume": {"size": 0}}, None),
            ({"volume": {"display_name": "x"}}, "'size' is a required property"),
            ({"volume": {"size": 1, "bogus": 1}}, None),
            ({"volume": {"size": 1, "availability_zone": "nowhere"}},
             "Availability zone 'nowhere' is invalid."),
            ({"volume": {"size": 1, "metadata": {"k": 1}}}, "Invalid metadata"),
            ({}, None),
        ]
        for body, msg in cases:
            with self.subTest(body=body):
                self.assertFault(request("POST", VOLS, body, token=MEMBER), 400, "badRequest",
                                 msg)
        r = request("POST", VOLS, {"volume": {"size": 1, "snapshot_id": FAKE}}, token=MEMBER)
        self.assertFault(r, 404, "itemNotFound", f"Snapshot {FAKE} could not be found.")
        # Cinder's gigabytes quota (1000 by default), relayed as Nova's 403
        r = request("POST", VOLS, {"volume": {"size": 5000}}, token=MEMBER)
        self.assertFault(r, 403, "forbidden",
                         "VolumeSizeExceedsAvailableQuota: Requested volume or snapshot exceeds"
                         " allowed gigabytes quota. Requested 5000G, quota is 1000G")

    def test_volume_count_quota(self):
        token = "vol-quota:vol-quota-proj"
        psql("UPDATE volumes SET deleted = true WHERE project_id = 'vol-quota-proj'")
        made = [create_volume(token=token)["id"] for _ in range(10)]
        try:
            r = request("POST", VOLS, {"volume": {"size": 1}}, token=token)
            self.assertFault(r, 403, "forbidden",
                             "VolumeLimitExceeded: Maximum number of volumes allowed (10) exceeded"
                             " for quota 'volumes'.")
        finally:
            for vid in made:
                self.assertEqual(request("DELETE", f"{VOLS}/{vid}", token=token).status, 202)
        self.assertEqual(request("POST", VOLS, {"volume": {"size": 1}}, token=token).status, 200)
        psql("UPDATE volumes SET deleted = true WHERE project_id = 'vol-quota-proj'")

    def test_visibility(self):
        v = create_volume()
        for method in ("GET", "DELETE"):
            self.assertFault(request(method, f"{VOLS}/{v['id']}", token=OTHER), 404,
                             "itemNotFound", f"Volume {v['id']} could not be found.")
        self.assertEqual(request("GET", f"{VOLS}/{v['id']}", token="admin:admin").status, 200)
        for bad in (FAKE, "not-a-uuid"):
            self.assertFault(request("GET", f"{VOLS}/{bad}", token=MEMBER), 404, "itemNotFound",
                             f"Volume {bad} could not be found.")
        # a reader may look, not create
        r = request("POST", VOLS, {"volume": {"size": 1}}, token=None)
        self.assertEqual(r.status, 401, r)

    def test_proxy_cap_2_35(self):
        v = create_volume()
        for method, path in (("GET", VOLS), ("GET", VOLS + "/detail"), ("GET", f"{VOLS}/{v['id']}"),
                             ("DELETE", f"{VOLS}/{v['id']}"), ("GET", SNAPS),
                             ("GET", SNAPS + "/detail"), ("GET", f"{SNAPS}/{FAKE}"),
                             ("DELETE", f"{SNAPS}/{FAKE}")):
            with self.subTest(method=method, path=path):
                if method == "GET" and FAKE not in path:
                    self.assertEqual(request(method, path, token=MEMBER, version="2.35").status,
                                     200)
                self.assertFault(request(method, path, token=MEMBER, version="2.36"), 404,
                                 "itemNotFound")
        r = request("POST", VOLS, {"volume": {"size": 1}}, token=MEMBER, version="2.36")
        self.assertFault(r, 404, "itemNotFound")
        self.assertEqual(volume(v["id"])["status"], "available")


class Snapshots(ApiTest):
    def test_round_trip(self):
        v = create_volume(size=4)
        r = request("POST", SNAPS, {"snapshot": {
            "volume_id": v["id"], "display_name": "snap-001",
            "display_description": "Daily backup", "force": False}}, token=MEMBER)
        self.assertEqual(r.status, 200, r)
        self.assertLikeSample(r.json, "os-snapshots/snapshot-create-resp.json")
        self.assertMatchesSchema(r.json, "POST", "/os-snapshots", "2.1")
        s = r.json["snapshot"]
        self.assertEqual((s["volumeId"], s["size"], s["status"], s["displayName"]),
                         (v["id"], 4, "available", "snap-001"))
        r = request("GET", f"{SNAPS}/{s['id']}", token=MEMBER)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json["snapshot"], s)
        self.assertLikeSample(r.json, "os-snapshots/snapshots-show-resp.json")
        self.assertMatchesSchema(r.json, "GET", "/os-snapshots/{id}", "2.1")
        for path, smp, route in ((SNAPS, "snapshots-list-resp.json", "/os-snapshots"),
                                 (SNAPS + "/detail", "snapshots-detail-resp.json",
                                  "/os-snapshots/detail")):
            r = request("GET", path, token=MEMBER)
            self.assertEqual(r.status, 200, r)
            self.assertIn(s, r.json["snapshots"])
            self.assertLikeSample(r.json, "os-snapshots/" + smp)
            self.assertMatchesSchema(r.json, "GET", route, "2.1")
            self.assertNotIn(s["id"], [x["id"] for x in request("GET", path, token=OTHER).json["snapshots"]])
        self.assertFault(request("GET", f"{SNAPS}/{s['id']}", token=OTHER), 404, "itemNotFound",
                         f"Snapshot {s['id']} could not be found.")
        # a volume with snapshots cannot go
        r = request("DELETE", f"{VOLS}/{v['id']}", token=MEMBER)
        self.assertFault(r, 400, "badRequest",
                         "Invalid input received: Invalid volume: Volume status must be available"
                         " or error or error_restoring or error_extending or error_managing and"
                         " must not be migrating, attached, belong to a group, have snapshots")
        # a volume made from it: at least its size
        r = request("POST", VOLS, {"volume": {"size": 2, "snapshot_id": s["id"]}}, token=MEMBER)
        self.assertFault(r, 400, "badRequest", "cannot be smaller than the snapshot size 4GB")
        r = request("POST", VOLS, {"volume": {"size": 4, "snapshot_id": s["id"]}}, token=MEMBER)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json["volume"]["snapshotId"], s["id"])
        self.assertEqual(request("DELETE", f"{VOLS}/{r.json['volume']['id']}",
                                 token=MEMBER).status, 202)
        r = request("DELETE", f"{SNAPS}/{s['id']}", token=MEMBER)
        self.assertEqual((r.status, r.data), (202, b""), r)
        self.assertFault(request("GET", f"{SNAPS}/{s['id']}", token=MEMBER), 404, "itemNotFound")
        self.assertFault(request("DELETE", f"{SNAPS}/{s['id']}", token=MEMBER), 404,
                         "itemNotFound", f"Snapshot {s['id']} could not be found.")
        self.assertEqual(request("DELETE", f"{VOLS}/{v['id']}", token=MEMBER).status, 202)

    def test_create_errors(self):
        for body, msg in (({"snapshot": {"volume_id": FAKE}}, f"Volume {FAKE} could not be found."),
                          ({"snapshot": {}}, "'volume_id' is a required property"),
                          ({"snapshot": {"volume_id": FAKE, "force": "maybe"}}, None)):
            with self.subTest(body=body):
                self.assertFault(request("POST", SNAPS, body, token=MEMBER), 400, "badRequest", msg)
        v = create_volume(token=OTHER)
        r = request("POST", SNAPS, {"snapshot": {"volume_id": v["id"]}}, token=MEMBER)
        self.assertFault(r, 400, "badRequest", f"Volume {v['id']} could not be found.")
        for bad in (FAKE, "nope"):
            self.assertFault(request("GET", f"{SNAPS}/{bad}", token=MEMBER), 404, "itemNotFound",
                             f"Snapshot {bad} could not be found.")
            self.assertFault(request("DELETE", f"{SNAPS}/{bad}", token=MEMBER), 404,
                             "itemNotFound")


class Attachments(ServerFixtures):
    servers = []

    @classmethod
    def boot(cls):
        return super().boot(MEMBER, IMAGE, prefix="vol")

    @staticmethod
    def show(sid, version="2.3"):
        r = request("GET", f"/v2.1/servers/{sid}", token="admin:admin", version=version)
        assert r.status == 200, r
        return r.json["server"]

    @classmethod
    def setUpClass(cls):
        cls.sid = cls.boot()

    def attach(self, sid, vid, version="2.79", token=MEMBER, **fields):
        body = {"volumeId": vid}
        body.update(fields)
        return request("POST", f"/v2.1/servers/{sid}/os-volume_attachments",
                       {"volumeAttachment": body}, token=token, version=version)

    def detach(self, sid, vid, token=MEMBER, version=None):
        return request("DELETE", f"/v2.1/servers/{sid}/os-volume_attachments/{vid}", token=token,
                       version=version)

    def events(self, sid, action):
        r = request("GET", f"/v2.1/servers/{sid}/os-instance-actions", token="admin:admin")
        req = next(a["request_id"] for a in r.json["instanceActions"] if a["action"] == action)
        r = request("GET", f"/v2.1/servers/{sid}/os-instance-actions/{req}", token="admin:admin",
                    version="2.51")
        return [(e["event"], e["result"]) for e in r.json["instanceAction"]["events"]]

    def test_attach_detach_round_trip(self):
        v = create_volume(size=2)
        r = self.attach(self.sid, v["id"], tag="foo", delete_on_termination=True)
        self.assertEqual(r.status, 200, r)
        self.assertLikeSample(r.json, "os-volume_attachments/v2.79/attach-volume-to-server-resp.json")
        self.assertMatchesSchema(r.json, "POST", "/servers/{server_id}/os-volume_attachments", "2.79")
        att = r.json["volumeAttachment"]
        self.assertEqual((att["id"], att["volumeId"], att["serverId"], att["tag"],
                          att["delete_on_termination"]),
                         (v["id"], v["id"], self.sid, "foo", True))
        self.assertRegex(att["device"], r"^/dev/vd[b-z]$")
        vol = wait_volume(v["id"], "in-use")
        self.assertEqual(vol["attachments"], [{"id": v["id"], "volumeId": v["id"],
                                               "serverId": self.sid, "device": att["device"]}])
        self.assertLikeSample({"volume": vol}, "os-volumes/os-volumes-get-resp.json",
                              nullable=("$.volume.volumeType", "$.volume.displayDescription"))
        self.assertMatchesSchema({"volume": vol}, "GET", "/os-volumes/{id}", "2.1")
        self.assertIn(("compute_attach_volume", "Success"), self.events(self.sid, "attach_volume"))
        # the server shows it (2.3+: with delete_on_termination)
        self.assertIn({"id": v["id"], "delete_on_termination": True},
                      self.show(self.sid)["os-extended-volumes:volumes_attached"])
        self.assertIn({"id": v["id"]},
                      self.show(self.sid, "2.1")["os-extended-volumes:volumes_attached"])
        # the views per microversion
        base = f"/v2.1/servers/{self.sid}/os-volume_attachments"
        for ver, folder in (("2.1", ""), ("2.49", "v2.49/"), ("2.70", "v2.70/"),
                            ("2.79", "v2.79/"), ("2.85", "v2.85/"), ("2.89", "v2.89/"),
                            ("2.101", "v2.101/")):
            with self.subTest(version=ver):
                r = request("GET", base, token=MEMBER, version=ver)
                self.assertEqual(r.status, 200, r)
                self.assertLikeSample(r.json, f"os-volume_attachments/{folder}"
                                      "list-volume-attachments-resp.json",
                                      nullable=("$.volumeAttachments[0].tag",))
                self.assertMatchesSchema(r.json, "GET", "/servers/{server_id}/os-volume_attachments", ver)
                r = request("GET", f"{base}/{v['id']}", token=MEMBER, version=ver)
                self.assertEqual(r.status, 200, r)
                self.assertLikeSample(r.json, f"os-volume_attachments/{folder}"
                                      "volume-attachment-detail-resp.json")
                self.assertMatchesSchema(r.json, "GET", "/servers/{server_id}/os-volume_attachments/{id}", ver)
                got = r.json["volumeAttachment"]
                self.assertEqual((got["volumeId"], got["serverId"], got["device"]),
                                 (v["id"], self.sid, att["device"]))
        bdm_uuid = psql(f"SELECT uuid FROM block_device_mapping WHERE volume_id = '{v['id']}'"
                        " AND deleted = 0")
        got = request("GET", f"{base}/{v['id']}", token=MEMBER, version="2.89").json
        self.assertEqual(got["volumeAttachment"]["bdm_uuid"], bdm_uuid)
        self.assertNotIn("id", got["volumeAttachment"])
        # in use: no delete, no snapshot without force
        self.assertFault(request("DELETE", f"{VOLS}/{v['id']}", token=MEMBER), 400, "badRequest",
                         "must not be migrating, attached")
        r = request("POST", SNAPS, {"snapshot": {"volume_id": v["id"]}}, token=MEMBER)
        self.assertFault(r, 400, "badRequest",
                         f"Invalid volume: Volume {v['id']} status must be available, but current"
                         " status is: in-use.")
        r = request("POST", SNAPS, {"snapshot": {"volume_id": v["id"], "force": "true"}},
                    token=MEMBER)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(request("DELETE", f"{SNAPS}/{r.json['snapshot']['id']}",
                                 token=MEMBER).status, 202)
        # detach
        r = self.detach(self.sid, v["id"])
        self.assertEqual((r.status, r.data), (202, b""), r)
        vol = wait_volume(v["id"], "available")
        self.assertEqual(vol["attachments"], [{}])
        self.assertIn(("compute_detach_volume", "Success"), self.events(self.sid, "detach_volume"))
        self.assertNotIn(v["id"], [x["id"] for x in
                                   self.show(self.sid)["os-extended-volumes:volumes_attached"]])
        r = request("GET", base, token=MEMBER)
        self.assertNotIn(v["id"], [a["volumeId"] for a in r.json["volumeAttachments"]])
        self.assertFault(request("GET", f"{base}/{v['id']}", token=MEMBER), 404, "itemNotFound",
                         f"Instance {self.sid} is not attached to volume {v['id']}")
        self.assertFault(self.detach(self.sid, v["id"]), 404, "itemNotFound",
                         f"Instance {self.sid} is not attached to volume {v['id']}")
        # and it can go again
        self.assertEqual(request("DELETE", f"{VOLS}/{v['id']}", token=MEMBER).status, 202)

    def test_attach_errors(self):
        v = create_volume()
        self.assertFault(self.attach(FAKE, v["id"]), 404, "itemNotFound",
                         f"Instance {FAKE} could not be found.")
        self.assertFault(self.attach(self.sid, v["id"], token=OTHER), 404, "itemNotFound")
        self.assertFault(self.attach(self.sid, FAKE), 404, "itemNotFound",
                         f"Volume {FAKE} could not be found.")
        other = create_volume(token=OTHER)
        self.assertFault(self.attach(self.sid, other["id"]), 404, "itemNotFound",
                         f"Volume {other['id']} could not be found.")
        for body in ({"volumeId": "nope"}, {"volumeId": v["id"], "device": "bogus"},
                     {"volumeId": v["id"], "tag": "a/b"}, {}):
            with self.subTest(body=body):
                r = request("POST", f"/v2.1/servers/{self.sid}/os-volume_attachments",
                            {"volumeAttachment": body}, token=MEMBER, version="2.79")
                self.assertFault(r, 400, "badRequest")
        # tag needs 2.49, delete_on_termination 2.79
        self.assertFault(self.attach(self.sid, v["id"], version="2.48", tag="x"), 400, "badRequest")
        self.assertFault(self.attach(self.sid, v["id"], version="2.78",
                                     delete_on_termination=True), 400, "badRequest")
        # a device name in use (the root disk), then the volume twice
        self.assertFault(self.attach(self.sid, v["id"], device="/dev/vda"), 409, "conflictingRequest",
                         "The supplied device path (/dev/vda) is in use.")
        self.assertEqual(volume(v["id"])["status"], "available")  # nothing left reserved
        r = self.attach(self.sid, v["id"], version="2.1", device="/dev/vdk")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json["volumeAttachment"]["device"], "/dev/vdk")
        self.assertLikeSample(r.json, "os-volume_attachments/attach-volume-to-server-resp.json")
        self.assertMatchesSchema(r.json, "POST", "/servers/{server_id}/os-volume_attachments", "2.1")
        wait_volume(v["id"], "in-use")
        self.assertFault(self.attach(self.sid, v["id"]), 400, "badRequest",
                         f"Invalid volume: volume {v['id']} is already attached to instances:"
                         f" {self.sid}")
        w = create_volume()
        self.assertFault(self.attach(self.sid, w["id"], device="/dev/vdk"), 409, "conflictingRequest",
                         "The supplied device path (/dev/vdk) is in use.")
        # a detach of a volume that is not in-use
        self.assertFault(self.detach(self.sid, w["id"]), 404, "itemNotFound",
                         f"Instance {self.sid} is not attached to volume {w['id']}")
        self.assertFault(self.detach(self.sid, FAKE), 404, "itemNotFound",
                         f"Volume {FAKE} could not be found.")
        self.assertFault(self.detach(FAKE, v["id"]), 404, "itemNotFound",
                         f"Instance {FAKE} could not be found.")
        # Cinder's begin_detaching wants it in-use
        psql(f"UPDATE volumes SET status = 'attaching' WHERE id = '{v['id']}'")
        self.assertFault(self.detach(self.sid, v["id"]), 400, "badRequest",
                         "Invalid volume: Invalid input received: Invalid volume: Unable to detach"
                         " volume. Volume status must be 'in-use' and attach_status must be"
                         " 'attached' to detach.")
        psql(f"UPDATE volumes SET status = 'in-use' WHERE id = '{v['id']}'")
        self.assertEqual(self.detach(self.sid, v["id"]).status, 202)
        wait_volume(v["id"], "available")

    def test_locked_and_states(self):
        sid = self.boot()
        v = create_volume()
        self.assertEqual(request("POST", f"/v2.1/servers/{sid}/action", {"lock": None},
                                 token="admin:admin").status, 202)
        self.assertFault(self.attach(sid, v["id"]), 409, "conflictingRequest", f"Instance {sid} is locked")
        self.assertEqual(volume(v["id"])["status"], "available")
        self.assertEqual(request("POST", f"/v2.1/servers/{sid}/action", {"unlock": None},
                                 token="admin:admin").status, 202)
        psql(f"UPDATE instances SET vm_state = 'suspended' WHERE uuid = '{sid}'")
        self.assertFault(self.attach(sid, v["id"]), 409, "conflictingRequest",
                         f"Cannot 'attach_volume' instance {sid} while it is in vm_state"
                         " suspended")
        psql(f"UPDATE instances SET vm_state = 'shelved' WHERE uuid = '{sid}'")
        self.assertFault(self.attach(sid, v["id"], version="2.19"), 409, "conflictingRequest",
                         f"Cannot 'attach_volume' instance {sid} while it is in vm_state shelved")
        psql(f"UPDATE instances SET vm_state = 'active' WHERE uuid = '{sid}'")
        self.assertEqual(self.attach(sid, v["id"]).status, 200)
        wait_volume(v["id"], "in-use")
        self.assertEqual(request("POST", f"/v2.1/servers/{sid}/action", {"lock": None},
                                 token="admin:admin").status, 202)
        self.assertFault(self.detach(sid, v["id"]), 409, "conflictingRequest", f"Instance {sid} is locked")
        psql(f"UPDATE instances SET locked = false WHERE uuid = '{sid}'")
        psql(f"UPDATE instances SET vm_state = 'suspended' WHERE uuid = '{sid}'")
        self.assertFault(self.detach(sid, v["id"]), 409, "conflictingRequest",
                         f"Cannot 'detach_volume' instance {sid} while it is in vm_state suspended")
        psql(f"UPDATE instances SET vm_state = 'active' WHERE uuid = '{sid}'")
        # a root volume stays
        psql(f"UPDATE block_device_mapping SET boot_index = 0 WHERE volume_id = '{v['id']}'")
        self.assertFault(self.detach(sid, v["id"]), 400, "badRequest",
                         "Cannot detach a root device volume")
        psql(f"UPDATE block_device_mapping SET boot_index = NULL WHERE volume_id = '{v['id']}'")
        # the host must be up to detach
        host = self.show(sid)["OS-EXT-SRV-ATTR:host"]
        psql(f"UPDATE services SET forced_down = true WHERE host = '{host}'")
        try:
            self.assertFault(self.detach(sid, v["id"]), 409, "conflictingRequest",
                             "Service is unavailable at this time.")
        finally:
            psql(f"UPDATE services SET forced_down = false WHERE host = '{host}'")
        self.assertEqual(volume(v["id"])["status"], "in-use")
        self.assertEqual(self.detach(sid, v["id"]).status, 202)
        wait_volume(v["id"], "available")

    def test_update(self):
        v = create_volume()
        base = f"/v2.1/servers/{self.sid}/os-volume_attachments/{v['id']}"
        self.assertEqual(self.attach(self.sid, v["id"], tag="t1").status, 200)
        wait_volume(v["id"], "in-use")
        put = lambda body, version="2.85", token=MEMBER: request(
            "PUT", base, {"volumeAttachment": body}, token=token, version=version)
        r = put({"volumeId": v["id"], "delete_on_termination": True})
        self.assertEqual((r.status, r.data), (202, b""), r)
        got = request("GET", base, token=MEMBER, version="2.85").json["volumeAttachment"]
        self.assertEqual((got["delete_on_termination"], got["tag"]), (True, "t1"))
        self.assertIn({"id": v["id"], "delete_on_termination": True},
                      self.show(self.sid)["os-extended-volumes:volumes_attached"])
        dev = got["device"]
        # the sample's full body: the same values are fine
        r = put({"volumeId": v["id"], "id": v["id"], "serverId": self.sid, "device": dev,
                 "tag": "t1", "delete_on_termination": "false"})
        self.assertEqual(r.status, 202, r)
        self.assertFalse(request("GET", base, token=MEMBER, version="2.85")
                         .json["volumeAttachment"]["delete_on_termination"])
        for field, value in (("tag", "t2"), ("device", "/dev/vdz"), ("serverId", FAKE),
                             ("id", FAKE)):
            with self.subTest(field=field):
                self.assertFault(put({"volumeId": v["id"], field: value}), 400, "badRequest",
                                 f"The {field} property is not mutable")
        self.assertFault(put({"volumeId": v["id"], "delete_on_termination": True}, version="2.84"),
                         400, "badRequest")  # not in the 2.84 schema
        # swapping is the service's (Cinder's) call: members are refused
        self.assertFault(put({"volumeId": v["id"]}, version="2.84"), 403, "forbidden")
        self.assertFault(put({"volumeId": FAKE}), 403, "forbidden")
        # and built-in volumes never migrate
        w = create_volume()
        r = put({"volumeId": w["id"]}, version="2.84", token="admin:admin")
        self.assertFault(r, 409, "conflictingRequest",
                         f"volume {v['id']} is not migrating; this API should only be called by"
                         " Cinder")
        self.assertFault(request("PUT", f"/v2.1/servers/{self.sid}/os-volume_attachments/{FAKE}",
                                 {"volumeAttachment": {"volumeId": w["id"]}}, token="admin:admin",
                                 version="2.84"), 404, "itemNotFound",
                         f"Volume {FAKE} could not be found.")
        self.assertFault(request("PUT", f"/v2.1/servers/{self.sid}/os-volume_attachments/{w['id']}",
                                 {"volumeAttachment": {"volumeId": w["id"]}}, token=MEMBER,
                                 version="2.85"), 404, "itemNotFound",
                         f"No volume Block Device Mapping with id {w['id']}.")
        self.assertFault(request("PUT", f"/v2.1/servers/{FAKE}/os-volume_attachments/{v['id']}",
                                 {"volumeAttachment": {"volumeId": v["id"]}}, token=MEMBER,
                                 version="2.85"), 404, "itemNotFound")
        self.assertEqual(self.detach(self.sid, v["id"]).status, 202)
        wait_volume(v["id"], "available")

    def test_attach_2_101_and_server_delete_releases(self):
        sid = self.boot()
        keep, doomed = create_volume(), create_volume()
        r = self.attach(sid, keep["id"], version="2.101")
        self.assertEqual((r.status, r.data), (202, b""), r)
        r = self.attach(sid, doomed["id"], version="2.101", delete_on_termination=True)
        self.assertEqual(r.status, 202, r)
        wait_volume(keep["id"], "in-use")
        wait_volume(doomed["id"], "in-use")
        devices = [a["device"] for a in request(
            "GET", f"/v2.1/servers/{sid}/os-volume_attachments", token=MEMBER).json["volumeAttachments"]]
        self.assertEqual(sorted(devices), ["/dev/vdb", "/dev/vdc"])
        self.assertEqual(request("DELETE", f"/v2.1/servers/{sid}", token=MEMBER).status, 204)
        self.servers.remove(sid)
        wait_volume(keep["id"], "available")
        deadline = time.time() + SETTLE
        while request("GET", f"{VOLS}/{doomed['id']}", token=MEMBER).status != 404:
            self.assertLess(time.time(), deadline, "delete_on_termination volume not deleted")
            time.sleep(0.3)
        self.assertEqual(request("DELETE", f"{VOLS}/{keep['id']}", token=MEMBER).status, 202)

    def test_boot_from_volume(self):
        v = create_volume(size=1)
        bdm = [{"boot_index": 0, "uuid": v["id"], "source_type": "volume",
                "destination_type": "volume", "delete_on_termination": True}]
        server = {"name": "bfv", "imageRef": "", "flavorRef": "1", "block_device_mapping_v2": bdm}
        # unknown and taken volumes are refused as Nova's _validate_bdm does
        bad = dict(server, block_device_mapping_v2=[dict(bdm[0], uuid=FAKE)])
        self.assertFault(request("POST", "/v2.1/servers", {"server": bad}, token=MEMBER), 400,
                         "badRequest", f"Block Device Mapping is Invalid: failed to get volume {FAKE}.")
        many = dict(server, max_count=2)
        self.assertFault(request("POST", "/v2.1/servers", {"server": many}, token=MEMBER), 400,
                         "badRequest", "Cannot attach one or more volumes to multiple instances")
        snap = [{"boot_index": 0, "uuid": FAKE, "source_type": "snapshot",
                 "destination_type": "volume"}]
        r = request("POST", "/v2.1/servers",
                    {"server": dict(server, block_device_mapping_v2=snap)}, token=MEMBER)
        self.assertFault(r, 400, "badRequest",
                         f"Block Device Mapping is Invalid: failed to get snapshot {FAKE}.")
        r = request("POST", "/v2.1/servers", {"server": server}, token=MEMBER)
        self.assertEqual(r.status, 202, r)
        sid = r.json["server"]["id"]
        self.servers.append(sid)
        self.assertEqual(volume(v["id"])["status"], "in-use")
        self.assertEqual(volume(v["id"])["attachments"][0]["serverId"], sid)
        r = request("POST", "/v2.1/servers", {"server": server}, token=MEMBER)
        self.assertFault(r, 400, "badRequest",
                         f"Invalid volume: Volume {v['id']} status must be available or"
                         " downloading to reserve, but the current status is in-use.")
        self.assertEqual(self.show(sid)["os-extended-volumes:volumes_attached"],
                         [{"id": v["id"], "delete_on_termination": True}])
        r = request("GET", f"/v2.1/servers/{sid}/os-volume_attachments", token=MEMBER,
                    version="2.89")
        self.assertEqual([a["volumeId"] for a in r.json["volumeAttachments"]], [v["id"]])
        self.assertFault(self.detach(sid, v["id"]), 400, "badRequest",
                         "Cannot detach a root device volume")
        # deleting the server deletes its delete_on_termination volume
        self.assertEqual(request("DELETE", f"/v2.1/servers/{sid}", token=MEMBER).status, 204)
        self.servers.remove(sid)
        deadline = time.time() + SETTLE
        while request("GET", f"{VOLS}/{v['id']}", token=MEMBER).status != 404:
            self.assertLess(time.time(), deadline, "delete_on_termination volume not deleted")
            time.sleep(0.3)

    def test_index_errors(self):
        self.assertFault(request("GET", f"/v2.1/servers/{FAKE}/os-volume_attachments",
                                 token=MEMBER), 404, "itemNotFound",
                         f"Instance {FAKE} could not be found.")
        self.assertFault(request("GET", f"/v2.1/servers/{self.sid}/os-volume_attachments",
                                 token=OTHER), 404, "itemNotFound")
        self.assertFault(request("GET", f"/v2.1/servers/{self.sid}/os-volume_attachments/{FAKE}",
                                 token=MEMBER), 404, "itemNotFound",
                         f"Instance {self.sid} is not attached to volume {FAKE}")
        r = request("GET", f"/v2.1/servers/{self.sid}/os-volume_attachments?limit=1&offset=0",
                    token=MEMBER)
        self.assertEqual(r.status, 200, r)


if __name__ == "__main__":
    unittest.main()
