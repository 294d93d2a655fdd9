"""test_server_lifecycle.py: the server lifecycle actions end to end —
createImage and createBackup (the snapshot image in GET /images, SAVING then
ACTIVE, its properties, backup rotation), rescue / unrescue, shelve (with
[DEFAULT] shelved_offload_time = 0: offloaded at once), shelveOffload,
unshelve (through the scheduler, 2.77 availability_zone, 2.91 host and
unpinning), restore and forceDelete (os-deferred-delete); each through
API -> outbox -> conductor -> compute on libvirt's test driver -> conductor,
with the states GET /servers/{id} shows, the instance actions recorded, the
bodies against Nova's samples and response schemas, and Nova's 400 / 403 /
404 / 409 answers (wrong state, locked).

Two states need a config the suite's stack does not run with: SOFT_DELETED
([DEFAULT] reclaim_instance_interval > 0) and SHELVED kept on its host
(shelved_offload_time != 0). Those tests stop the server through the API
and then set the vm_state the conductor would have left (the domain is
already off, as it is in both states) with psql."""
import time, unittest

from common import FAKE, SETTLE, ServerFixtures, psql, request, sample, server_show

IMAGE = "70a599e0-31e7-49b7-b260-868f441e862b"  # seeded by 007_images_seed.sql
PROJECT = "lc-proj"
MEMBER = "lc-member:" + PROJECT
OTHER = "lc-other:lc-other-proj"

ACTION = "/servers/{id}/action"


def action(sid, body, token=MEMBER, version=None):
    return request("POST", f"/v2.1/servers/{sid}/action", body, token=token, version=version)


def image(image_id, token=MEMBER):
    return request("GET", f"/v2.1/images/{image_id}", token=token)


def setUpModule():
    for res in ("instances", "cores", "ram"):
        psql(f"INSERT INTO quotas (project_id, resource, hard_limit) VALUES ('{PROJECT}', '{res}',"
             f" -1) ON CONFLICT (project_id, resource) DO UPDATE SET hard_limit = -1")



def tearDownModule():
    # the snapshots and backups the tests made (the project's own images)
    r = request("GET", "/v2.1/images/detail", token=MEMBER)
    for img in r.json["images"] if r.status == 200 else []:
        if "instance_uuid" in img.get("metadata", {}):
            request("DELETE", f"/v2.1/images/{img['id']}", token=MEMBER)


class Lifecycle(ServerFixtures):
    servers = []

    @classmethod
    def boot(cls, wait=True, name=None, image=IMAGE):
        extra = {"name": name} if name else {}
        return super().boot(MEMBER, image, prefix="lc", wait=wait, **extra)

    def events(self, sid, name):
        """The action `name` of the server (newest) and its events."""
        r = request("GET", f"/v2.1/servers/{sid}/os-instance-actions", token="admin:admin")
        self.assertEqual(r.status, 200, r)
        acts = [a for a in r.json["instanceActions"] if a["action"] == name]
        self.assertTrue(acts, f"no {name} action in {r.json}")
        req = acts[0]["request_id"]
        r = request("GET", f"/v2.1/servers/{sid}/os-instance-actions/{req}",
                    token="admin:admin", version="2.51")
        self.assertEqual(r.status, 200, r)
        return {e["event"]: e["result"] for e in r.json["instanceAction"]["events"]}

    def assertState(self, s, status, vm, power, task=None):
        self.assertEqual(s["status"], status)
        self.assertEqual(s["OS-EXT-STS:vm_state"], vm)
        self.assertEqual(s["OS-EXT-STS:task_state"], task)
        self.assertEqual(s["OS-EXT-STS:power_state"], power)

    def wait_image(self, image_id, status="ACTIVE", seconds=SETTLE):
        deadline = time.time() + seconds
        while True:
            r = image(image_id)
            self.assertEqual(r.status, 200, r)
            if r.json["image"]["status"] == status:
                return r.json["image"]
            self.assertLess(time.time(), deadline, f"image {image_id}: {r.json}")
            time.sleep(0.3)

    def conflict(self, r, sid, api_name, attr, state):
        self.assertFault(r, 409, "conflictingRequest",
                         f"Cannot '{api_name}' instance {sid} while it is in {attr} {state}")


class Images(Lifecycle):
    """createImage and createBackup."""

    @classmethod
    def setUpClass(cls):
        cls.sid = cls.boot()

    def test_1_create_image_before_2_45(self):
        sid = self.sid
        r = action(sid, {"createImage": {"name": "lc-snap", "metadata": {"meta_var": "v"}}})
        self.assertEqual(r.status, 202, r)
        self.assertEqual(r.data, b"")
        loc = r.header("location")
        self.assertRegex(loc or "", r"/images/[0-9a-f-]{36}$")
        image_id = loc.rsplit("/", 1)[1]
        # SAVING until the host has taken it, then ACTIVE
        first = image(image_id)
        self.assertEqual(first.status, 200, first)
        self.assertIn(first.json["image"]["status"], ("SAVING", "ACTIVE"))
        img = self.wait_image(image_id)
        self.assertEqual(img["name"], "lc-snap")
        self.assertEqual(img["server"]["id"], sid)
        md = img["metadata"]
        self.assertEqual(md["instance_uuid"], sid)
        self.assertEqual(md["image_type"], "snapshot")
        self.assertEqual(md["base_image_ref"], IMAGE)
        self.assertEqual(md["user_id"], "lc-member")
        self.assertEqual(md["meta_var"], "v")
        self.assertMatchesSchema(first.json, "GET", "/images/{id}", "2.1")
        # listed, and found by the server and type filters
        r = request("GET", f"/v2.1/images/detail?server={sid}&type=snapshot", token=MEMBER)
        self.assertEqual(r.status, 200, r)
        self.assertIn(image_id, [i["id"] for i in r.json["images"]])
        s = self.wait(sid, "ACTIVE")
        self.assertState(s, "ACTIVE", "active", 1)
        self.assertEqual(self.events(sid, "createImage"), {"compute_snapshot_instance": "Success"})

    def test_2_create_image_2_45_sample_and_schema(self):
        body = sample("servers/v2.45/server-action-create-image.json")
        r = action(self.sid, body, version="2.45")
        self.assertEqual(r.status, 202, r)
        self.assertIsNone(r.header("location"))
        self.assertLikeSample(r.json, "servers/v2.45/server-action-create-image-resp.json")
        self.assertMatchesSchema(r.json, "POST", ACTION, "2.45", "createImage")
        img = self.wait_image(r.json["image_id"])
        self.assertEqual(img["name"], "foo-image")
        self.wait(self.sid, "ACTIVE")
        # locked: Nova does not check the lock for snapshots
        self.assertEqual(action(self.sid, {"lock": None}).status, 202)
        try:
            r = action(self.sid, {"createImage": {"name": "locked-snap"}}, version="2.45")
            self.assertEqual(r.status, 202, r)
            self.wait_image(r.json["image_id"])
            self.wait(self.sid, "ACTIVE")
        finally:
            self.assertEqual(action(self.sid, {"unlock": None}).status, 202)

    def test_3_create_image_errors(self):
        self.assertFault(action(FAKE, {"createImage": {"name": "x"}}), 404, "itemNotFound",
                         f"Instance {FAKE} could not be found.")
        self.assertFault(action(self.sid, {"createImage": {"name": "x"}}, token=OTHER), 404,
                         "itemNotFound")
        self.assertFault(action(self.sid, {"createImage": {}}), 400, "badRequest")
        self.assertFault(action(self.sid, {"createImage": {"name": ""}}), 400, "badRequest")
        # before 2.39 the metadata counts against metadata_items
        psql(f"INSERT INTO quotas (project_id, resource, hard_limit) VALUES ('{PROJECT}',"
             f" 'metadata_items', 1) ON CONFLICT (project_id, resource) DO UPDATE SET"
             f" hard_limit = 1")
        try:
            body = {"createImage": {"name": "q", "metadata": {"a": "1", "b": "2"}}}
            self.assertFault(action(self.sid, body, version="2.38"), 403, "forbidden",
                             "Image metadata limit exceeded")
            r = action(self.sid, body, version="2.39")
            self.assertEqual(r.status, 202, r)
            self.wait(self.sid, "ACTIVE")
        finally:
            psql(f"DELETE FROM quotas WHERE project_id = '{PROJECT}' AND resource ="
                 f" 'metadata_items'")
        # wrong state: error is not a state snapshots start from
        self.assertEqual(request("POST", f"/v2.1/servers/{self.sid}/action",
                                 {"os-resetState": {"state": "error"}}).status, 202)
        try:
            for name, body in (("createImage", {"createImage": {"name": "x"}}),
                               ("createBackup", {"createBackup": {
                                   "name": "x", "backup_type": "daily", "rotation": 1}})):
                self.conflict(action(self.sid, body), self.sid, name, "vm_state", "error")
        finally:
            request("POST", f"/v2.1/servers/{self.sid}/action",
                    {"os-resetState": {"state": "active"}})

    def test_4_create_backup_rotation(self):
        sid = self.sid
        ids = []
        for i in range(3):
            r = action(sid, {"createBackup": {"name": f"lc-backup-{i}", "backup_type": "weekly",
                                              "rotation": 2}}, version="2.45")
            self.assertEqual(r.status, 202, r)
            self.assertLikeSample(r.json, "os-create-backup/v2.45/create-backup-resp.json")
            self.assertMatchesSchema(r.json, "POST", ACTION, "2.45", "createBackup")
            ids.append(r.json["image_id"])
            self.wait(sid, "ACTIVE")
        # only the newest two backups of that type are kept
        self.assertFault(image(ids[0]), 404, "itemNotFound")
        for i in ids[1:]:
            img = self.wait_image(i)
            self.assertEqual(img["metadata"]["image_type"], "backup")
            self.assertEqual(img["metadata"]["backup_type"], "weekly")
            self.assertEqual(img["metadata"]["instance_uuid"], sid)
        r = request("GET", f"/v2.1/images?server={sid}&type=backup", token=MEMBER)
        self.assertEqual(sorted(i["id"] for i in r.json["images"]), sorted(ids[1:]))
        self.assertEqual(self.events(sid, "createBackup"), {"compute_backup_instance": "Success"})

    def test_5_create_backup_before_2_45(self):
        body = sample("os-create-backup/create-backup-req.json")
        r = action(self.sid, body)
        self.assertEqual(r.status, 202, r)
        self.assertEqual(r.data, b"")
        self.assertRegex(r.header("location") or "", r"/images/[0-9a-f-]{36}$")
        self.wait(self.sid, "ACTIVE")
        # rotation 0: no Location (and Nova's rotation then keeps none)
        r = action(self.sid, {"createBackup": {"name": "r0", "backup_type": "r0",
                                               "rotation": 0}})
        self.assertEqual(r.status, 202, r)
        self.assertIsNone(r.header("location"))
        self.wait(self.sid, "ACTIVE")
        r = request("GET", f"/v2.1/images?server={self.sid}&type=backup", token=MEMBER)
        self.assertNotIn("r0", [i["name"] for i in r.json["images"]])

    def test_6_create_backup_errors(self):
        good = {"name": "b", "backup_type": "daily", "rotation": 1}
        self.assertFault(action(FAKE, {"createBackup": good}), 404, "itemNotFound")
        for bad in ({"name": "b", "rotation": 1}, {"name": "b", "backup_type": "daily"},
                    dict(good, rotation=-1), dict(good, extra=1)):
            self.assertFault(action(self.sid, {"createBackup": bad}), 400, "badRequest")


class ImageChains(Lifecycle):
    """Snapshots of servers booted from snapshots, at any depth; deleting a
    shelved server deletes its shelved image (Nova's shelved_image_id)."""

    def snapshot(self, sid, name):
        r = action(sid, {"createImage": {"name": name}}, version="2.45")
        self.assertEqual(r.status, 202, r)
        img = self.wait_image(r.json["image_id"])
        self.wait(sid, "ACTIVE")
        return img

    def deleted_and_gone(self, sid, image_id):
        self.assertEqual(request("DELETE", f"/v2.1/servers/{sid}", token=MEMBER).status, 204)
        deadline = time.time() + SETTLE
        while request("GET", f"/v2.1/servers/{sid}", token=MEMBER).status != 404:
            self.assertLess(time.time(), deadline, f"{sid} not deleted")
            time.sleep(0.3)
        self.servers.remove(sid)
        self.assertFault(image(image_id), 404, "itemNotFound")
        self.assertEqual(psql(f"SELECT status FROM images WHERE id = '{image_id}'"), "deleted")

    def test_1_chain_of_snapshots_then_shelve(self):
        # the base image carries a property every snapshot inherits
        psql(f"INSERT INTO image_properties (image_id, key, value) VALUES ('{IMAGE}',"
             f" 'hw_lc_chain', 'kept') ON CONFLICT DO NOTHING")
        try:
            sid, base = self.boot(), IMAGE
            for depth in range(1, 4):
                img = self.snapshot(sid, f"lc-chain-{depth}")
                md = img["metadata"]
                # base_image_ref is the server's own image, once, at any depth
                self.assertEqual(md["base_image_ref"], base, depth)
                self.assertEqual(md["instance_uuid"], sid)
                self.assertEqual(md["image_type"], "snapshot")
                self.assertEqual(md["hw_lc_chain"], "kept")
                n = psql(f"SELECT count(*) FROM image_properties WHERE image_id = '{img['id']}'"
                         f" AND key = 'base_image_ref'")
                self.assertEqual(n, "1")
                sid, base = self.boot(image=img["id"]), img["id"]
                self.assertEqual(server_show(sid)["image"]["id"], base)
            # the server's image deleted since: its snapshot still inherits
            # what the server booted with
            self.assertEqual(request("DELETE", f"/v2.1/images/{base}", token=MEMBER).status, 204)
            img = self.snapshot(sid, "lc-chain-orphan")
            self.assertEqual(img["metadata"]["base_image_ref"], base)
            self.assertEqual(img["metadata"]["hw_lc_chain"], "kept")
            # shelve and unshelve a server booted from a snapshot of a snapshot
            self.assertEqual(action(sid, {"shelve": None}).status, 202)
            self.wait(sid, "SHELVED_OFFLOADED")
            shelved = psql(f"SELECT system_metadata->>'shelved_image_id' FROM instances"
                           f" WHERE uuid = '{sid}'")
            self.assertEqual(self.wait_image(shelved)["metadata"]["base_image_ref"], base)
            self.assertEqual(action(sid, {"unshelve": None}).status, 202)
            self.assertEqual(self.wait(sid, "ACTIVE")["image"]["id"], base)
            self.assertFault(image(shelved), 404, "itemNotFound")
            # and a backup of it, rotated to exactly `rotation`
            ids = []
            for i in range(3):
                r = action(sid, {"createBackup": {"name": f"lc-chain-b{i}", "backup_type": "d",
                                                  "rotation": 2}}, version="2.45")
                self.assertEqual(r.status, 202, r)
                ids.append(r.json["image_id"])
                self.wait(sid, "ACTIVE")
            r = request("GET", f"/v2.1/images?server={sid}&type=backup", token=MEMBER)
            self.assertEqual(sorted(i["id"] for i in r.json["images"]), sorted(ids[1:]))
        finally:
            psql(f"DELETE FROM image_properties WHERE image_id = '{IMAGE}'"
                 f" AND key = 'hw_lc_chain'")

    def test_2_delete_shelved_offloaded_deletes_its_image(self):
        sid = self.boot()
        self.assertEqual(action(sid, {"shelve": None}).status, 202)
        self.wait(sid, "SHELVED_OFFLOADED")
        shelved = psql(f"SELECT system_metadata->>'shelved_image_id' FROM instances"
                       f" WHERE uuid = '{sid}'")
        self.wait_image(shelved)
        self.deleted_and_gone(sid, shelved)

    def test_3_delete_shelved_on_its_host_deletes_its_image(self):
        # SHELVED kept on its host needs shelved_offload_time != 0: stop it
        # and record what the conductor would have (module docstring)
        sid = self.boot()
        img = self.snapshot(sid, "lc-kept-shelved")
        self.assertEqual(action(sid, {"os-stop": None}).status, 202)
        self.wait(sid, "SHUTOFF")
        psql(f"UPDATE instances SET vm_state = 'shelved', system_metadata = system_metadata"
             f" || jsonb_build_object('shelved_image_id', '{img['id']}', 'shelved_host', host)"
             f" WHERE uuid = '{sid}'")
        self.assertEqual(server_show(sid)["status"], "SHELVED")
        self.deleted_and_gone(sid, img["id"])


class Rescue(Lifecycle):

    @classmethod
    def setUpClass(cls):
        cls.sid = cls.boot()

    def test_1_rescue_unrescue(self):
        sid = self.sid
        r = action(sid, sample("os-rescue/server-rescue-req.json"))
        self.assertEqual(r.status, 200, r)
        self.assertLikeSample(r.json, "os-rescue/server-rescue.json")
        self.assertMatchesSchema(r.json, "POST", ACTION, "2.1", "rescue")
        self.assertEqual(r.json["adminPass"], "MySecretPass")
        s = self.wait(sid, "RESCUE")
        self.assertState(s, "RESCUE", "rescued", 1)
        self.conflict(action(sid, {"rescue": None}), sid, "rescue", "vm_state", "rescued")
        # the state is checked before the image
        self.conflict(action(sid, {"rescue": {"rescue_image_ref": FAKE}}), sid, "rescue",
                      "vm_state", "rescued")
        r = action(sid, sample("os-rescue/server-unrescue-req.json"))
        self.assertEqual(r.status, 202, r)
        self.assertEqual(r.data, b"")
        self.assertState(self.wait(sid, "ACTIVE"), "ACTIVE", "active", 1)
        self.conflict(action(sid, {"unrescue": None}), sid, "unrescue", "vm_state", "active")
        self.assertEqual(self.events(sid, "rescue"), {"compute_rescue_instance": "Success"})
        self.assertEqual(self.events(sid, "unrescue"), {"compute_unrescue_instance": "Success"})

    def test_2_generated_password_image_ref_and_stopped(self):
        sid = self.sid
        self.assertEqual(action(sid, {"os-stop": None}).status, 202)
        self.wait(sid, "SHUTOFF")
        r = action(sid, {"rescue": {"rescue_image_ref": IMAGE}}, version="2.87")
        self.assertEqual(r.status, 200, r)
        self.assertLikeSample(r.json, "os-rescue/v2.87/server-rescue.json")
        self.assertMatchesSchema(r.json, "POST", ACTION, "2.87", "rescue")
        pw = r.json["adminPass"]
        self.assertEqual(len(pw), 12)
        self.assertRegex(pw, r"[2-9]")
        self.assertState(self.wait(sid, "RESCUE"), "RESCUE", "rescued", 1)
        self.assertEqual(action(sid, {"unrescue": None}).status, 202)
        self.assertState(self.wait(sid, "ACTIVE"), "ACTIVE", "active", 1)

    def test_3_errors(self):
        sid = self.sid
        self.assertFault(action(FAKE, {"rescue": None}), 404, "itemNotFound",
                         f"Instance {FAKE} could not be found.")
        self.assertFault(action(FAKE, {"unrescue": None}), 404, "itemNotFound")
        self.assertFault(action(sid, {"rescue": {"adminPass": 5}}), 400, "badRequest")
        self.assertFault(action(sid, {"rescue": {"bogus": 1}}), 400, "badRequest")
        self.assertFault(action(sid, {"rescue": {"rescue_image_ref": FAKE}}), 400, "badRequest",
                         f"Requested rescue image '{FAKE}' is not supported")
        self.assertEqual(action(sid, {"lock": None}).status, 202)
        try:
            self.assertFault(action(sid, {"rescue": None}), 409, "conflictingRequest",
                             f"Instance {sid} is locked")
            # an admin passes the lock
            r = action(sid, {"rescue": None}, token="admin:admin")
            self.assertEqual(r.status, 200, r)
            self.wait(sid, "RESCUE")
            self.assertFault(action(sid, {"unrescue": None}), 409, "conflictingRequest",
                             f"Instance {sid} is locked")
            self.assertEqual(action(sid, {"unrescue": None}, token="admin:admin").status, 202)
            self.wait(sid, "ACTIVE")
        finally:
            self.assertEqual(action(sid, {"unlock": None}, token="admin:admin").status, 202)


class Shelve(Lifecycle):

    @classmethod
    def setUpClass(cls):
        cls.sid = cls.boot(name="lc-shelf")

    def test_1_shelve_offloads_and_unshelve_schedules(self):
        sid = self.sid
        r = action(sid, sample("os-shelve/os-shelve.json"))
        self.assertEqual(r.status, 202, r)
        self.assertEqual(r.data, b"")
        s = self.wait(sid, "SHELVED_OFFLOADED")
        self.assertState(s, "SHELVED_OFFLOADED", "shelved_offloaded", 4)
        self.assertIsNone(s["OS-EXT-SRV-ATTR:host"])
        self.assertIsNone(s["OS-EXT-SRV-ATTR:hypervisor_hostname"])
        self.assertEqual(psql(f"SELECT claim IS NULL FROM instances WHERE uuid = '{sid}'"), "t")
        shelved = psql(f"SELECT system_metadata->>'shelved_image_id' FROM instances"
                       f" WHERE uuid = '{sid}'")
        img = self.wait_image(shelved)
        self.assertEqual(img["name"], "lc-shelf-shelved")
        self.assertEqual(img["metadata"]["image_type"], "snapshot")
        self.assertEqual(img["metadata"]["instance_uuid"], sid)
        r = request("GET", "/v2.1/images", token=MEMBER)
        self.assertIn(shelved, [i["id"] for i in r.json["images"]])
        self.assertEqual(self.events(sid, "shelve"), {"compute_shelve_instance": "Success"})
        # not on a host: the other actions are refused
        self.conflict(action(sid, {"shelve": None}), sid, "shelve", "vm_state",
                      "shelved_offloaded")
        self.conflict(action(sid, {"shelveOffload": None}, token="admin:admin"), sid,
                      "shelveOffload", "vm_state", "shelved_offloaded")
        # unshelve (2.77, into the zone the hosts are in): a host again
        r = action(sid, {"unshelve": {"availability_zone": "nova"}}, version="2.77")
        self.assertEqual(r.status, 202, r)
        s = self.wait(sid, "ACTIVE")
        self.assertState(s, "ACTIVE", "active", 1)
        self.assertIn(s["OS-EXT-SRV-ATTR:host"], ("compute1", "compute2"))
        self.assertEqual(s["OS-EXT-AZ:availability_zone"], "nova")
        self.assertEqual(psql(f"SELECT claim IS NOT NULL FROM instances WHERE uuid = '{sid}'"),
                         "t")
        # the shelved snapshot is deleted once the server runs again
        self.assertFault(image(shelved), 404, "itemNotFound")
        self.assertEqual(self.events(sid, "unshelve"), {"compute_unshelve_instance": "Success"})
        self.conflict(action(sid, {"unshelve": None}), sid, "unshelve", "vm_state", "active")

    def test_2_unshelve_to_host_2_91(self):
        sid = self.sid
        self.assertEqual(action(sid, {"shelve": None}).status, 202)
        self.wait(sid, "SHELVED_OFFLOADED")
        # member: unshelving to a host is admin only
        body = sample("os-shelve/v2.91/os-unshelve-host.json")
        body["unshelve"]["host"] = "compute2"
        self.assertFault(action(sid, body, version="2.91"), 403, "forbidden")
        bad = {"unshelve": {"host": "no-such-host"}}
        self.assertFault(action(sid, bad, token="admin:admin", version="2.91"), 400,
                         "badRequest", "Compute host no-such-host could not be found.")
        self.assertFault(action(sid, {"unshelve": {"availability_zone": "elsewhere"}},
                                version="2.91"), 400, "badRequest",
                         "The requested availability zone is not available")
        # the zone pinned ("nova" from the last unshelve) and the host's differ?
        psql(f"UPDATE instances SET request_spec = request_spec ||"
             f" '{{\"availability_zone\": \"zone-x\"}}' WHERE uuid = '{sid}'")
        self.assertFault(action(sid, body, token="admin:admin", version="2.91"), 409,
                         "conflictingRequest",
                         'Host "compute2" is not in the availability zone "zone-x".')
        # unpinned (availability_zone null) and to compute2
        body = sample("os-shelve/v2.91/os-unshelve-host-and-unpin-az.json")
        body["unshelve"]["host"] = "compute2"
        r = action(sid, body, token="admin:admin", version="2.91")
        self.assertEqual(r.status, 202, r)
        s = self.wait(sid, "ACTIVE")
        self.assertEqual(s["OS-EXT-SRV-ATTR:host"], "compute2")
        self.assertEqual(psql(f"SELECT request_spec->'availability_zone' FROM instances"
                              f" WHERE uuid = '{sid}'"), "null")

    def test_3_shelve_offload_from_shelved(self):
        # SHELVED on its host (shelved_offload_time != 0): powered off and
        # marked shelved as the conductor leaves it
        sid = self.boot()
        self.assertEqual(action(sid, {"os-stop": None}).status, 202)
        self.wait(sid, "SHUTOFF")
        psql(f"UPDATE instances SET vm_state = 'shelved' WHERE uuid = '{sid}'")
        self.assertEqual(server_show(sid)["status"], "SHELVED")
        # az / host only for an offloaded server
        self.assertFault(action(sid, {"unshelve": {"availability_zone": "nova"}},
                                version="2.77"), 409, "conflictingRequest",
                         f'Specifying an availability zone or a host when unshelving server'
                         f' "{sid}" with status "shelved" is not supported.')
        self.assertFault(action(sid, {"shelveOffload": None}), 403, "forbidden")
        r = action(sid, sample("os-shelve/os-shelve-offload.json"), token="admin:admin")
        self.assertEqual(r.status, 202, r)
        s = self.wait(sid, "SHELVED_OFFLOADED")
        self.assertState(s, "SHELVED_OFFLOADED", "shelved_offloaded", 4)
        self.assertIsNone(s["OS-EXT-SRV-ATTR:host"])
        self.assertEqual(psql(f"SELECT claim IS NULL FROM instances WHERE uuid = '{sid}'"), "t")
        self.assertEqual(self.events(sid, "shelveOffload"),
                         {"compute_shelve_offload_instance": "Success"})
        # unshelve with no body (before 2.77)
        self.assertEqual(action(sid, sample("os-shelve/os-unshelve.json")).status, 202)
        self.assertState(self.wait(sid, "ACTIVE"), "ACTIVE", "active", 1)

    def test_4_errors(self):
        sid = self.sid
        for body in ({"shelve": None}, {"unshelve": None}):
            self.assertFault(action(FAKE, body), 404, "itemNotFound",
                             f"Instance {FAKE} could not be found.")
        self.assertFault(action(FAKE, {"shelveOffload": None}, token="admin:admin"), 404,
                         "itemNotFound")
        self.assertFault(action(sid, {"shelve": None, "extra": 1}), 400, "badRequest")
        self.assertFault(action(sid, {"createImage": {"name": " lead"}}), 400, "badRequest")
        # before 2.77 the body is not looked at (the zone is ignored: the
        # state decides); 2.77 knows no host
        self.conflict(action(sid, {"unshelve": {"availability_zone": "nova"}}, version="2.76"),
                      sid, "unshelve", "vm_state", "active")
        self.assertFault(action(sid, {"unshelve": {"host": "compute1"}}, version="2.77"), 400,
                         "badRequest")
        self.wait(sid, "ACTIVE")
        self.assertEqual(action(sid, {"lock": None}).status, 202)
        try:
            for body in ({"shelve": None}, {"unshelve": None}):
                self.assertFault(action(sid, body), 409, "conflictingRequest",
                                 f"Instance {sid} is locked")
        finally:
            self.assertEqual(action(sid, {"unlock": None}).status, 202)


class DeferredDelete(Lifecycle):
    """restore and forceDelete of a SOFT_DELETED server."""

    def soft_deleted(self):
        sid = self.boot()
        self.assertEqual(action(sid, {"os-stop": None}).status, 202)
        self.wait(sid, "SHUTOFF")
        psql(f"UPDATE instances SET vm_state = 'soft-delete' WHERE uuid = '{sid}'")
        self.assertEqual(server_show(sid)["status"], "SOFT_DELETED")
        return sid

    def test_1_restore(self):
        sid = self.soft_deleted()
        r = action(sid, sample("os-deferred-delete/restore-post-req.json"))
        self.assertEqual(r.status, 202, r)
        self.assertEqual(r.data, b"")
        self.assertState(self.wait(sid, "ACTIVE"), "ACTIVE", "active", 1)
        self.assertEqual(self.events(sid, "restore"), {"compute_restore_instance": "Success"})
        self.conflict(action(sid, {"restore": None}), sid, "restore", "vm_state", "active")

    def test_1b_restore_without_host(self):
        # nothing to power on: ACTIVE at once
        sid = self.soft_deleted()
        psql(f"UPDATE instances SET host = NULL WHERE uuid = '{sid}'")
        self.assertEqual(action(sid, {"restore": None}).status, 202)
        s = server_show(sid)
        self.assertEqual((s["status"], s["OS-EXT-STS:task_state"]), ("ACTIVE", None))
        self.assertEqual(self.events(sid, "restore"), {})  # recorded, no host event

    def test_2_force_delete(self):
        sid = self.soft_deleted()
        r = action(sid, sample("os-deferred-delete/force-delete-post-req.json"))
        self.assertEqual(r.status, 202, r)
        self.assertEqual(r.data, b"")
        deadline = time.time() + SETTLE
        while request("GET", f"/v2.1/servers/{sid}", token=MEMBER).status != 404:
            self.assertLess(time.time(), deadline, "not deleted")
            time.sleep(0.3)
        self.assertEqual(psql(f"SELECT vm_state FROM instances WHERE uuid = '{sid}'"), "deleted")

    def test_3_errors(self):
        for body in ({"restore": None}, {"forceDelete": None}):
            self.assertFault(action(FAKE, body), 404, "itemNotFound",
                             f"Instance {FAKE} could not be found.")
            self.assertFault(action(FAKE, dict(body, extra=1)), 400, "badRequest")
        sid = self.soft_deleted()
        self.assertFault(action(sid, {"restore": None}, token=OTHER), 404, "itemNotFound")
        self.assertEqual(action(sid, {"lock": None}).status, 202)
        self.assertFault(action(sid, {"restore": None}), 409, "conflictingRequest",
                         f"Instance {sid} is in an invalid state for 'restore'")
        self.assertFault(action(sid, {"forceDelete": None}), 409, "conflictingRequest",
                         f"Instance {sid} is locked")
        self.assertEqual(action(sid, {"unlock": None}).status, 202)
        # other states than SOFT_DELETED cannot be restored
        self.assertEqual(action(sid, {"restore": None}).status, 202)
        self.wait(sid, "ACTIVE")
        self.conflict(action(sid, {"restore": None}), sid, "restore", "vm_state", "active")



class ConsoleOutput(Lifecycle):
    """os-getConsoleOutput: libvirt's test driver defines no console, so
    the host answers as Nova's libvirt driver does for a guest without one
    (ConsoleNotAvailable: 404)."""

    @classmethod
    def setUpClass(cls):
        cls.sid = cls.boot()

    def test_1_no_console_on_the_test_driver(self):
        body = sample("os-console-output/console-output-post-req.json")
        self.assertFault(action(self.sid, body), 404, "itemNotFound",
                         "Guest does not have a console available.")
        self.assertFault(action(self.sid, {"os-getConsoleOutput": {}}), 404, "itemNotFound",
                         "Guest does not have a console available.")

    def test_2_errors(self):
        self.assertFault(action(FAKE, {"os-getConsoleOutput": {}}), 404, "itemNotFound",
                         f"Instance {FAKE} could not be found.")
        self.assertFault(action(self.sid, {"os-getConsoleOutput": {}}, token=OTHER), 404,
                         "itemNotFound", f"Instance {self.sid} could not be found.")
        for bad in ({"length": "abc"}, {"length": -2}, {"bogus": 1}):
            self.assertFault(action(self.sid, {"os-getConsoleOutput": bad}), 400, "badRequest")
        # offloaded: no host to ask
        self.assertEqual(action(self.sid, {"shelve": None}).status, 202)
        self.wait(self.sid, "SHELVED_OFFLOADED")
        self.assertFault(action(self.sid, {"os-getConsoleOutput": {"length": 5}}), 409,
                         "conflictingRequest", f"Instance {self.sid} is not ready")


if __name__ == "__main__":
    unittest.main()
