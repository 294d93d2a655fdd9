"""test_server_move.py: the server move actions end to end through the real
pipeline (API -> outbox -> conductor -> scheduler claim -> compute on the
source and target hosts of libvirt's test driver -> conductor): rebuild
(every field per microversion, Nova's response per microversion against
its samples and response schemas), resize with confirmResize and
revertResize, cold migrate (2.56 host), live migration (2.25 auto, 2.30
force, 2.34 asynchronous checks, 2.68) and GET /servers/{id}/migrations,
the migration rows os-migrations lists, the instance actions and their events, Nova's 400 / 403 / 404 / 409,
and the compute nodes' claims after every step (no leak, no over-commit:
each node's usage is exactly what the instances and migrations on it
hold)."""
import time, unittest, uuid

from common import FAKE, ServerFixtures, psql, request, sample, shape_diff

IMAGE = "70a599e0-31e7-49b7-b260-868f441e862b"  # seeded by 007_images_seed.sql
IMAGE2 = "155d900f-4e14-4e4c-a73d-069cbf4541e6"
BIG_IMAGE = "0b5e7a3c-1d2e-4f60-8a9b-5c4d3e2f1a00"  # min_disk 5, made here
NO_ADC_IMAGE = "0b5e7a3c-1d2e-4f60-8a9b-5c4d3e2f1a01"  # auto_disk_config disabled, made here
PROJECT = "mv-proj"
MEMBER = "mv-member:" + PROJECT
MANAGER_LIKE = "mv-other:mv-other-proj"
SETTLE = 60  # seconds a step may take under ASan
# values the samples show set that a fresh server has unset (or the reverse)
NULLABLE = ("$.server.description", "$.server.key_name", "$.server.user_data",
            "$.server.OS-EXT-SRV-ATTR:kernel_id", "$.server.locked_reason",
            "$.server.trusted_image_certificates", "$.server.pinned_availability_zone",
            "$.server.OS-EXT-SRV-ATTR:root_device_name: NoneType",
            "$.server.OS-EXT-STS:task_state: str", "$.server.flavor.extra_specs",
            "$.server.scheduler_hints")
META = {"meta_var": "meta_val"}  # the samples' metadata
# flavors of our own, small enough for several servers per test host
FLAVORS = {"mv-a": (1, 256, 1), "mv-b": (2, 384, 2), "mv-c": (1, 256, 10)}


def action(sid, body, token=MEMBER, version=None):
    return request("POST", f"/v2.1/servers/{sid}/action", body, token=token, version=version)


def show(sid, version="2.73"):
    r = request("GET", f"/v2.1/servers/{sid}", token="admin:admin", version=version)
    assert r.status == 200, r
    return r.json["server"]


def usage():
    """{host: (vcpus_used, memory_mb_used, local_gb_used, running_vms)}."""
    rows = psql("SELECT host, vcpus_used, memory_mb_used, local_gb_used, running_vms"
                " FROM compute_nodes WHERE deleted = 0 ORDER BY host")
    return {l.split("|")[0]: tuple(int(x) for x in l.split("|")[1:]) for l in rows.splitlines()}


def setUpModule():
    for res in ("instances", "cores", "ram"):
        psql(f"INSERT INTO quotas (project_id, resource, hard_limit) VALUES ('{PROJECT}', '{res}',"
             f" -1) ON CONFLICT (project_id, resource) DO UPDATE SET hard_limit = -1")
    for fid, (vcpus, ram, disk) in FLAVORS.items():
        r = request("POST", "/v2.1/flavors", {"flavor": {"name": fid, "id": fid, "vcpus": vcpus,
                                                         "ram": ram, "disk": disk}})
        assert r.status in (200, 409), r
    psql("INSERT INTO images (id, name, status, size, disk_format, container_format, min_disk,"
         f" min_ram, visibility) VALUES ('{BIG_IMAGE}', 'mv-min-disk-5', 'active', 1024, 'qcow2',"
         " 'bare', 5, 0, 'public') ON CONFLICT (id) DO NOTHING")
    psql("INSERT INTO images (id, name, status, size, disk_format, container_format, min_disk,"
         f" min_ram, visibility) VALUES ('{NO_ADC_IMAGE}', 'mv-no-adc', 'active', 1024, 'qcow2',"
         " 'bare', 0, 0, 'public') ON CONFLICT (id) DO NOTHING")
    psql("INSERT INTO image_properties (image_id, key, value) VALUES"
         f" ('{NO_ADC_IMAGE}', 'auto_disk_config', 'disabled') ON CONFLICT DO NOTHING")


def tearDownModule():
    for fid in FLAVORS:
        request("DELETE", f"/v2.1/flavors/{fid}")


class MoveTest(ServerFixtures):
    servers = []

    @classmethod
    def boot(cls, flavor="mv-a", image=IMAGE, token=MEMBER):
        return super().boot(token, image, flavor, prefix="mv")

    @classmethod
    def delete_all(cls):
        """Deletes this test's servers and waits until their claims are back."""
        gone, cls.servers = cls.servers, []
        for sid in gone:
            psql(f"UPDATE instances SET locked = false WHERE uuid = '{sid}'")
            request("DELETE", f"/v2.1/servers/{sid}")
        deadline = time.time() + SETTLE
        for sid in gone:
            while request("GET", f"/v2.1/servers/{sid}").status != 404:
                if time.time() > deadline:
                    raise AssertionError(f"{sid} not deleted after {SETTLE} s")
                time.sleep(0.2)

    def tearDown(self):
        if type(self).per_test:
            self.delete_all()

    @classmethod
    def tearDownClass(cls):
        cls.delete_all()

    per_test = True  # servers are deleted after each test (Rebuild keeps its one)

    def assertShapeOf(self, body, relpath, allowed=()):
        """As assertLikeSample; `allowed`: prefixes of the differences Nova's own
        answers have too (a value the sample has set and ours unset, keys
        with a colon included)."""
        diffs = [d for d in shape_diff(body, sample(relpath))
                 if not any(d.startswith(a) for a in allowed)]
        self.assertEqual(diffs, [], f"response differs from {relpath}")

    def actions(self, sid):
        r = request("GET", f"/v2.1/servers/{sid}/os-instance-actions", token="admin:admin")
        self.assertEqual(r.status, 200, r)
        return [a["action"] for a in r.json["instanceActions"]]

    def events(self, sid, action):
        return psql("SELECT string_agg(e.event || '=' || coalesce(e.result, 'open') || '@' ||"
                    " coalesce(e.host, ''), ',' ORDER BY e.id) FROM instance_actions_events e"
                    " JOIN instance_actions a ON a.id = e.action_id WHERE a.instance_uuid ="
                    f" '{sid}' AND a.action = '{action}' AND a.id = (SELECT max(id) FROM"
                    f" instance_actions WHERE instance_uuid = '{sid}' AND action = '{action}')")

    def migrations(self, sid, version="2.80"):
        r = request("GET", f"/v2.1/os-migrations?instance_uuid={sid}", version=version)
        self.assertEqual(r.status, 200, r)
        return r.json["migrations"]

    def assertClaimsExact(self):
        """Every node's usage is exactly the claims instances and migrations hold on it,
        and os-hypervisors shows that usage."""
        got = psql(
            "WITH c AS (SELECT claim FROM instances WHERE claim IS NOT NULL AND deleted = 0"
            " UNION ALL SELECT claim FROM migrations WHERE claim IS NOT NULL)"
            " SELECT string_agg(cn.host || ':' || (cn.vcpus_used - coalesce(s.v, 0)) || ','"
            " || (cn.memory_mb_used - coalesce(s.m, 0)) || ',' || (cn.local_gb_used -"
            " coalesce(s.d, 0)) || ',' || (cn.running_vms - coalesce(s.n, 0)), ' ' ORDER BY"
            " cn.host) FROM compute_nodes cn LEFT JOIN (SELECT (claim->>'node_id')::int AS id,"
            " sum((claim->>'vcpus')::int) v, sum((claim->>'memory_mb')::int) m,"
            " sum((claim->>'disk_gb')::int) d, count(*) n FROM c GROUP BY 1) s ON s.id = cn.id"
            " WHERE cn.deleted = 0")
        for part in got.split():
            self.assertEqual(part.split(":")[1], "0,0,0,0", f"usage != claims: {got}")
        # and os-hypervisors shows exactly that usage
        r = request("GET", "/v2.1/os-hypervisors/detail", version="2.1")
        self.assertEqual(r.status, 200, r)
        shown = {h["service"]["host"]: (h["vcpus_used"], h["memory_mb_used"], h["local_gb_used"],
                                        h["running_vms"]) for h in r.json["hypervisors"]}
        self.assertEqual(shown, usage())


class Rebuild(MoveTest):
    per_test = False

    @classmethod
    def setUpClass(cls):
        cls.sid = cls.boot()

    def test_1_rebuild_to_active_same_host(self):
        sid = self.sid
        before = show(sid)
        r = action(sid, {"rebuild": {"imageRef": IMAGE2, "name": "rebuilt", "adminPass": "s3cr3t",
                                     "metadata": META, "preserve_ephemeral": True,
                                     "personality": [{"path": "/etc/motd",
                                                      "contents": "aGVsbG8="}]}})
        self.assertEqual(r.status, 202, r)
        s = r.json["server"]
        self.assertEqual((s["status"], s["adminPass"], s["name"]), ("REBUILD", "s3cr3t", "rebuilt"))
        self.assertEqual(s["image"]["id"], IMAGE2)
        self.assertEqual(s["metadata"], META)
        self.assertLikeSample(r.json, "servers/server-action-rebuild-resp.json")
        self.assertMatchesSchema(r.json, "POST", "/servers/{id}/action", "2.1", "rebuild")
        after = self.wait(sid, "ACTIVE")
        self.assertEqual(after["OS-EXT-SRV-ATTR:host"], before["OS-EXT-SRV-ATTR:host"])
        self.assertEqual((after["image"]["id"], after["name"], after["OS-EXT-STS:power_state"]),
                         (IMAGE2, "rebuilt", 1))
        self.assertEqual(self.actions(sid)[0], "rebuild")
        self.assertEqual(self.events(sid, "rebuild"),
                         f"compute_rebuild_instance=Success@{before['OS-EXT-SRV-ATTR:host']}")
        self.assertEqual(psql(f"SELECT system_metadata->>'image_base_image_ref' FROM instances"
                              f" WHERE uuid = '{sid}'"), IMAGE2)
        self.assertClaimsExact()

    def test_2_response_per_microversion(self):
        sid = self.sid
        samples = {"2.19": "v2.19", "2.26": "v2.26", "2.47": "v2.47", "2.54": "v2.54",
                   "2.57": "v2.57", "2.63": "v2.63", "2.71": "v2.71", "2.73": "v2.73",
                   "2.75": "v2.75", "2.90": "v2.90", "2.96": "v2.96", "2.98": "v2.98",
                   "2.100": "v2.100"}
        for version, folder in samples.items():
            for token in (MEMBER, "admin:admin"):
                with self.subTest(version=version, token=token):
                    self.wait(sid, "ACTIVE")
                    body = {"imageRef": IMAGE, "name": "v" + version, "metadata": META}
                    v = tuple(int(x) for x in version.split("."))
                    if v >= (2, 57):
                        body["user_data"] = "ZWNobyAiaGVsbG8gd29ybGQi"
                    r = action(sid, {"rebuild": body}, token=token, version=version)
                    self.assertEqual(r.status, 202, r)
                    self.assertMatchesSchema(r.json, "POST", "/servers/{id}/action", version,
                                             "rebuild")
                    if token == MEMBER:
                        self.assertNotIn("OS-EXT-SRV-ATTR:host", r.json["server"])
                    # Nova's samples are an admin's answers, a member's from 2.90
                    if (token == MEMBER) == (v >= (2, 90)):
                        self.assertShapeOf(
                            r.json, f"servers/{folder}/server-action-rebuild-resp.json",
                            NULLABLE)
                    s = r.json["server"]
                    self.assertEqual("key_name" in s, v >= (2, 54))
                    self.assertEqual("user_data" in s, v >= (2, 57))
                    self.assertNotIn("OS-EXT-SRV-ATTR:user_data", s)
                    self.assertEqual("server_groups" in s, v >= (2, 71))
                    self.assertEqual("OS-EXT-STS:vm_state" in s, v >= (2, 75))
                    if v >= (2, 57):
                        self.assertEqual(s["user_data"], "ZWNobyAiaGVsbG8gd29ybGQi")
        self.wait(sid, "ACTIVE")

    def test_3_fields_per_microversion(self):
        sid = self.sid
        self.wait(sid, "ACTIVE")
        kp = "mv-kp-" + uuid.uuid4().hex[:6]
        r = request("POST", "/v2.1/os-keypairs", {"keypair": {"name": kp}}, token=MEMBER)
        self.assertEqual(r.status, 200, r)
        r = action(sid, {"rebuild": {"imageRef": IMAGE, "key_name": kp, "description": "d1",
                                     "hostname": "mv-host", "accessIPv4": "1.2.3.4",
                                     "trusted_image_certificates": ["cert-a"]}},
                   version="2.90")
        self.assertEqual(r.status, 202, r)
        s = r.json["server"]
        self.assertEqual((s["key_name"], s["description"], s["OS-EXT-SRV-ATTR:hostname"],
                          s["accessIPv4"], s["trusted_image_certificates"]),
                         (kp, "d1", "mv-host", "1.2.3.4", ["cert-a"]))
        self.wait(sid, "ACTIVE")
        r = action(sid, {"rebuild": {"imageRef": IMAGE, "key_name": None,
                                     "trusted_image_certificates": None}}, version="2.63")
        self.assertEqual(r.status, 202, r)
        self.assertIsNone(r.json["server"]["key_name"])
        self.assertIsNone(r.json["server"]["trusted_image_certificates"])
        self.assertEqual(r.json["server"]["description"], "d1")  # untouched when absent
        self.wait(sid, "ACTIVE")
        self.assertFault(action(sid, {"rebuild": {"imageRef": IMAGE, "key_name": "nope"}},
                                version="2.54"),
                         400, "badRequest", "Invalid key_name provided.")
        # fields of later microversions are unknown before them
        for version, extra in [("2.53", {"key_name": kp}), ("2.18", {"description": "x"}),
                               ("2.56", {"user_data": "eA=="}), ("2.89", {"hostname": "h"}),
                               ("2.62", {"trusted_image_certificates": ["c"]}),
                               ("2.57", {"personality": []})]:
            with self.subTest(version=version):
                self.assertFault(action(sid, {"rebuild": dict(imageRef=IMAGE, **extra)},
                                        version=version), 400, "badRequest")
        request("DELETE", f"/v2.1/os-keypairs/{kp}", token=MEMBER)

    def test_4_errors(self):
        sid = self.sid
        self.wait(sid, "ACTIVE")
        self.assertFault(action(FAKE, {"rebuild": {"imageRef": IMAGE}}), 404, "itemNotFound")
        self.assertFault(action(sid, {"rebuild": {"imageRef": IMAGE}}, token=MANAGER_LIKE),
                         404, "itemNotFound")
        self.assertFault(action(sid, {"rebuild": {"imageRef": "not-a-uuid"}}), 400, "badRequest")
        self.assertFault(action(sid, {"rebuild": {}}), 400, "badRequest")
        self.assertFault(action(sid, {"rebuild": {"imageRef": FAKE}}), 400, "badRequest",
                         "Cannot find image for rebuild")
        # metadata over the project's metadata_items limit
        psql(f"INSERT INTO quotas (project_id, resource, hard_limit) VALUES ('{PROJECT}',"
             " 'metadata_items', 1) ON CONFLICT (project_id, resource) DO UPDATE SET"
             " hard_limit = 1")
        try:
            self.assertFault(action(sid, {"rebuild": {"imageRef": IMAGE,
                                                      "metadata": {"a": "1", "b": "2"}}}),
                             403, "forbidden", "Maximum number of metadata items exceeds 1")
        finally:
            psql(f"DELETE FROM quotas WHERE project_id = '{PROJECT}' AND"
                 " resource = 'metadata_items'")
        # locked by an admin: the owner gets 409
        self.assertEqual(action(sid, {"lock": None}, token="admin:admin").status, 202)
        self.assertFault(action(sid, {"rebuild": {"imageRef": IMAGE}}), 409,
                         "conflictingRequest", f"Instance {sid} is locked")
        self.assertEqual(action(sid, {"unlock": None}, token="admin:admin").status, 202)
        # wrong state and a task in flight
        self.assertEqual(action(sid, {"pause": None}).status, 202)
        self.wait(sid, "PAUSED")
        self.assertFault(action(sid, {"rebuild": {"imageRef": IMAGE}}), 409, "conflictingRequest",
                         f"Cannot 'rebuild' instance {sid} while it is in vm_state paused")
        self.assertEqual(action(sid, {"unpause": None}).status, 202)
        self.wait(sid, "ACTIVE")
        psql(f"UPDATE instances SET task_state = 'rebooting' WHERE uuid = '{sid}'")
        try:
            self.assertFault(action(sid, {"rebuild": {"imageRef": IMAGE}}), 409,
                             "conflictingRequest",
                             f"Cannot 'rebuild' instance {sid} while it is in task_state"
                             " rebooting")
        finally:
            psql(f"UPDATE instances SET task_state = NULL WHERE uuid = '{sid}'")

    def test_5_rebuild_stopped_stays_stopped(self):
        sid = self.sid
        self.wait(sid, "ACTIVE")
        self.assertEqual(action(sid, {"os-stop": None}).status, 202)
        self.wait(sid, "SHUTOFF")
        r = action(sid, {"rebuild": {"imageRef": IMAGE2}})
        self.assertEqual(r.status, 202, r)
        s = self.wait(sid, "SHUTOFF")
        self.assertEqual((s["OS-EXT-STS:vm_state"], s["OS-EXT-STS:power_state"]), ("stopped", 4))
        self.assertEqual(action(sid, {"os-start": None}).status, 202)
        self.wait(sid, "ACTIVE")


class Resize(MoveTest):
    def resized(self, sid, flavor, token=MEMBER):
        before = show(sid, "2.47")
        r = action(sid, {"resize": {"flavorRef": flavor}}, token=token)
        self.assertEqual(r.status, 202, r)
        self.assertEqual(r.data, b"")
        s = self.wait(sid, "VERIFY_RESIZE")
        self.assertEqual(s["OS-EXT-STS:vm_state"], "resized")
        return before, s

    def test_1_resize_then_confirm(self):
        sid = self.boot("mv-a")
        base = usage()
        before, s = self.resized(sid, "mv-b")
        src, dst = before["OS-EXT-SRV-ATTR:host"], s["OS-EXT-SRV-ATTR:host"]
        # allow_resize_to_same_host is off (Nova's default): another host
        self.assertNotEqual(src, dst)
        self.assertEqual(show(sid, "2.1")["flavor"]["id"], "mv-b")
        f = show(sid, "2.47")["flavor"]
        self.assertEqual((f["original_name"], f["vcpus"], f["ram"], f["disk"]), ("mv-b", 2, 384, 2))
        # both claims held while the resize waits: the source's and the target's
        u = usage()
        self.assertEqual(u[src], base[src])
        self.assertEqual(u[dst], (base[dst][0] + 2, base[dst][1] + 384, base[dst][2] + 2,
                                  base[dst][3] + 1))
        self.assertClaimsExact()
        m = self.migrations(sid)
        self.assertEqual(len(m), 1)
        self.assertEqual((m[0]["status"], m[0]["migration_type"], m[0]["source_compute"],
                          m[0]["dest_compute"]), ("finished", "resize", src, dst))
        self.assertNotEqual(m[0]["old_instance_type_id"], m[0]["new_instance_type_id"])
        self.assertEqual(self.events(sid, "resize"),
                         f"conductor_migrate_server=Success@,compute_prep_resize=Success@{dst},"
                         f"compute_resize_instance=Success@{src},"
                         f"compute_finish_resize=Success@{dst}")
        # confirm: the source's claim goes back
        r = action(sid, {"confirmResize": None})
        self.assertEqual(r.status, 204, r)
        s = self.wait(sid, "ACTIVE")
        self.assertEqual(s["OS-EXT-SRV-ATTR:host"], dst)
        u = usage()
        self.assertEqual(u[src], (base[src][0] - 1, base[src][1] - 256, base[src][2] - 1,
                                  base[src][3] - 1))
        self.assertClaimsExact()
        self.assertEqual(self.migrations(sid)[0]["status"], "confirmed")
        self.assertEqual(self.actions(sid)[:2], ["confirmResize", "resize"])
        self.assertEqual(self.events(sid, "confirmResize"),
                         f"compute_confirm_resize=Success@{src}")
        self.assertEqual(show(sid, "2.47")["flavor"]["original_name"], "mv-b")
        # nothing left to confirm or revert
        for body, name in [({"confirmResize": None}, "confirmResize"),
                           ({"revertResize": None}, "revertResize")]:
            self.assertFault(action(sid, body), 409, "conflictingRequest",
                             f"Cannot '{name}' instance {sid} while it is in vm_state active")

    def test_2_resize_then_revert(self):
        sid = self.boot("mv-a")
        base = usage()
        before, s = self.resized(sid, "mv-b")
        src, dst = before["OS-EXT-SRV-ATTR:host"], s["OS-EXT-SRV-ATTR:host"]
        r = action(sid, {"revertResize": None})
        self.assertEqual(r.status, 202, r)
        self.assertEqual(r.data, b"")
        s = self.wait(sid, "ACTIVE")
        self.assertEqual(s["OS-EXT-SRV-ATTR:host"], src)
        self.assertEqual(show(sid, "2.1")["flavor"]["id"], "mv-a")
        self.assertEqual(show(sid, "2.47")["flavor"]["original_name"], "mv-a")
        self.assertEqual(usage(), base)
        self.assertClaimsExact()
        m = self.migrations(sid)[0]
        self.assertEqual((m["status"], m["migration_type"]), ("reverted", "resize"))
        self.assertEqual(self.events(sid, "revertResize"),
                         f"compute_revert_resize=Success@{dst},"
                         f"compute_finish_revert_resize=Success@{src}")
        self.assertEqual(psql(f"SELECT old_flavor IS NULL AND new_flavor IS NULL FROM instances"
                              f" WHERE uuid = '{sid}'"), "t")

    def test_3_stopped_server_resizes_stopped(self):
        sid = self.boot("mv-a")
        self.assertEqual(action(sid, {"os-stop": None}).status, 202)
        self.wait(sid, "SHUTOFF")
        _, s = self.resized(sid, "mv-b")
        self.assertEqual(s["OS-EXT-STS:power_state"], 4)
        self.assertEqual(action(sid, {"confirmResize": None}).status, 204)
        s = self.wait(sid, "SHUTOFF")
        self.assertEqual(s["OS-EXT-STS:vm_state"], "stopped")
        self.assertClaimsExact()

    def test_4_errors(self):
        sid = self.boot("mv-a")
        self.assertFault(action(FAKE, {"resize": {"flavorRef": "mv-b"}}), 404, "itemNotFound")
        self.assertFault(action(sid, {"resize": {}}), 400, "badRequest")
        self.assertFault(action(sid, {"resize": {"flavorRef": ""}}), 400, "badRequest")
        self.assertFault(action(sid, {"resize": {"flavorRef": "mv-a"}}), 400, "badRequest",
                         "When resizing, instances must change flavor!")
        tiny = self.boot("1")  # a flavor id given as a number
        self.assertFault(action(tiny, {"resize": {"flavorRef": 1}}), 400, "badRequest",
                         "When resizing, instances must change flavor!")
        self.assertFault(action(sid, {"resize": {"flavorRef": "mv-none"}}), 400, "badRequest",
                         "Flavor mv-none could not be found.")
        # not resized: confirm / revert find no migration
        self.assertFault(action(sid, {"confirmResize": None}), 409, "conflictingRequest",
                         f"Cannot 'confirmResize' instance {sid} while it is in vm_state active")
        psql(f"UPDATE instances SET vm_state = 'resized' WHERE uuid = '{sid}'")
        try:
            for body in ({"confirmResize": None}, {"revertResize": None}):
                self.assertFault(action(sid, body), 400, "badRequest",
                                 "Instance has not been resized.")
        finally:
            psql(f"UPDATE instances SET vm_state = 'active' WHERE uuid = '{sid}'")
        # quota for the growth of cores and ram
        used = int(psql(f"SELECT sum(vcpus) FROM instances WHERE project_id = '{PROJECT}'"
                        " AND deleted = 0"))
        psql(f"UPDATE quotas SET hard_limit = {used} WHERE project_id = '{PROJECT}'"
             " AND resource = 'cores'")
        try:
            self.assertFault(action(sid, {"resize": {"flavorRef": "mv-b"}}), 403, "forbidden",
                             "Quota exceeded for cores: Requested 1, but already used")
        finally:
            psql(f"UPDATE quotas SET hard_limit = -1 WHERE project_id = '{PROJECT}'"
                 " AND resource = 'cores'")
        # locked, wrong state, task in flight
        self.assertEqual(action(sid, {"lock": None}, token="admin:admin").status, 202)
        self.assertFault(action(sid, {"resize": {"flavorRef": "mv-b"}}), 409, "conflictingRequest",
                         f"Instance {sid} is locked")
        self.assertEqual(action(sid, {"unlock": None}, token="admin:admin").status, 202)
        self.assertEqual(action(sid, {"pause": None}).status, 202)
        self.wait(sid, "PAUSED")
        self.assertFault(action(sid, {"resize": {"flavorRef": "mv-b"}}), 409, "conflictingRequest",
                         f"Cannot 'resize' instance {sid} while it is in vm_state paused")
        self.assertEqual(action(sid, {"unpause": None}).status, 202)
        self.wait(sid, "ACTIVE")
        self.assertEqual(self.migrations(sid), [])
        self.assertClaimsExact()

    def test_5_flavor_too_small_for_image_and_zero_disk(self):
        sid = self.boot("mv-c", image=BIG_IMAGE)
        self.assertFault(action(sid, {"resize": {"flavorRef": "mv-a"}}), 400, "badRequest",
                         "Flavor's disk is smaller than the minimum size specified in image"
                         " metadata. Flavor disk is 1073741824 bytes, minimum size is"
                         " 5368709120 bytes.")
        fid = "mv-zero-" + uuid.uuid4().hex[:6]
        r = request("POST", "/v2.1/flavors", {"flavor": {"name": fid, "id": fid, "ram": 512,
                                                         "vcpus": 1, "disk": 0}})
        self.assertEqual(r.status, 200, r)
        try:
            self.assertFault(action(sid, {"resize": {"flavorRef": fid}}), 400, "badRequest",
                             "Server disk was unable to be resized because: Resize to zero"
                             " disk flavor is not allowed.")
        finally:
            request("DELETE", f"/v2.1/flavors/{fid}")

    def test_6_no_valid_host(self):
        sid = self.boot("mv-a")
        base = usage()
        fid = "mv-huge-" + uuid.uuid4().hex[:6]
        r = request("POST", "/v2.1/flavors", {"flavor": {"name": fid, "id": fid,
                                                         "ram": 10 ** 7, "vcpus": 1, "disk": 1}})
        self.assertEqual(r.status, 200, r)
        try:
            self.assertEqual(action(sid, {"resize": {"flavorRef": fid}}).status, 202)
            deadline = time.time() + SETTLE
            while self.migrations(sid)[0]["status"] != "error" and time.time() < deadline:
                time.sleep(0.2)
            self.assertEqual(self.migrations(sid)[0]["status"], "error")
            s = self.wait(sid, "ACTIVE")
            self.assertEqual(show(sid, "2.47")["flavor"]["original_name"], "mv-a")
            self.assertEqual(usage(), base)
            self.assertClaimsExact()
            self.assertEqual(self.events(sid, "resize"), "conductor_migrate_server=Error@")
            self.assertEqual(s["OS-EXT-STS:vm_state"], "active")
        finally:
            request("DELETE", f"/v2.1/flavors/{fid}")

    def test_7_delete_while_resized_gives_both_claims_back(self):
        base = usage()
        sid = self.boot("mv-a")
        self.resized(sid, "mv-b")
        self.assertEqual(request("DELETE", f"/v2.1/servers/{sid}", token=MEMBER).status, 204)
        self.servers.remove(sid)
        deadline = time.time() + SETTLE
        while request("GET", f"/v2.1/servers/{sid}").status != 404 and time.time() < deadline:
            time.sleep(0.2)
        self.assertEqual(usage(), base)
        self.assertClaimsExact()
        self.assertEqual(self.migrations(sid)[0]["status"], "confirmed")

    def test_8_os_migrations_shape(self):
        sid = self.boot("mv-a")
        self.resized(sid, "mv-b")
        for version, path in [("2.1", "os-migrations/migrations-get.json"),
                                ("2.23", "os-migrations/v2.23/migrations-get.json"),
                                ("2.59", "os-migrations/v2.59/migrations-get.json"),
                                ("2.80", "os-migrations/v2.80/migrations-get.json")]:
            with self.subTest(version=version):
                r = request("GET", f"/v2.1/os-migrations?instance_uuid={sid}", version=version)
                self.assertEqual(r.status, 200, r)
                self.assertEqual(len(r.json["migrations"]), 1)
                # the samples' first row is a live migration in progress (links)
                self.assertShapeOf(r.json, path, ["$.migrations[0]: missing key 'links'"])
                self.assertMatchesSchema(r.json, "GET", "/os-migrations", version)
                m = r.json["migrations"][0]
                self.assertEqual(m["status"], "finished")
                if version == "2.80":
                    self.assertEqual(m["project_id"], PROJECT)
        self.assertEqual(action(sid, {"revertResize": None}).status, 202)
        self.wait(sid, "ACTIVE")

    def test_a_auto_disk_config_disabled_by_image(self):
        sid = self.boot(image=NO_ADC_IMAGE)
        body = {"flavorRef": "mv-b", "OS-DCF:diskConfig": "AUTO"}
        self.assertFault(action(sid, {"resize": body}), 400, "badRequest",
                         f"Requested image {NO_ADC_IMAGE} has automatic disk resize disabled.")
        self.assertFault(action(sid, {"rebuild": {"imageRef": NO_ADC_IMAGE,
                                                  "OS-DCF:diskConfig": "AUTO"}}),
                         400, "badRequest",
                         f"Requested image {NO_ADC_IMAGE} has automatic disk resize disabled.")
        self.assertFault(action(sid, {"resize": dict(body, **{"OS-DCF:diskConfig": "BAD"})}),
                         400, "badRequest")
        self.assertEqual(self.migrations(sid), [])

    def test_9_unanswered_move_is_ended(self):
        sid = self.boot()
        base = usage()
        host = show(sid)["OS-EXT-SRV-ATTR:host"]
        # the source host is gone: its step of the resize is never answered
        psql(f"UPDATE instances SET host = 'mv-gone' WHERE uuid = '{sid}'")
        try:
            self.assertEqual(action(sid, {"resize": {"flavorRef": "mv-b"}}).status, 202)
            deadline = time.time() + SETTLE
            while show(sid)["OS-EXT-STS:task_state"] != "resize_migrating":
                self.assertLess(time.time(), deadline, "resize never reached the source")
                time.sleep(0.2)
            # ... for longer than [conductor] build_timeout
            psql("UPDATE instances SET updated_at = now() - interval '1 hour'"
                 f" WHERE uuid = '{sid}'")
            s = self.wait(sid, "ERROR")
            self.assertIn("No answer in", s["fault"]["message"])
            self.assertEqual(self.migrations(sid)[0]["status"], "error")
            self.assertEqual(show(sid, "2.47")["flavor"]["original_name"], "mv-a")
            self.assertEqual(usage(), base)  # the target's claim went back
            self.assertClaimsExact()
        finally:
            psql(f"UPDATE instances SET host = '{host}' WHERE uuid = '{sid}'")


class Migrate(MoveTest):
    def test_1_member_forbidden(self):
        sid = self.boot("mv-a")
        self.assertFault(action(sid, {"migrate": None}), 403, "forbidden")
        self.assertFault(action(FAKE, {"migrate": None}, token="admin:admin"), 404, "itemNotFound")

    def test_2_cold_migrate_and_confirm(self):
        sid = self.boot("mv-a")
        base = usage()
        src = show(sid)["OS-EXT-SRV-ATTR:host"]
        r = action(sid, {"migrate": None}, token="admin:admin")
        self.assertEqual(r.status, 202, r)
        self.assertEqual(r.data, b"")
        s = self.wait(sid, "VERIFY_RESIZE")
        dst = s["OS-EXT-SRV-ATTR:host"]
        self.assertNotEqual(src, dst)
        self.assertEqual(show(sid, "2.47")["flavor"]["original_name"], "mv-a")
        m = self.migrations(sid)[0]
        self.assertEqual((m["migration_type"], m["status"]), ("migration", "finished"))
        self.assertEqual(m["old_instance_type_id"], m["new_instance_type_id"])
        self.assertEqual(self.actions(sid)[0], "migrate")
        self.assertClaimsExact()
        self.assertEqual(action(sid, {"confirmResize": None}).status, 204)
        self.wait(sid, "ACTIVE")
        u = usage()
        self.assertEqual(u[src][3], base[src][3] - 1)
        self.assertEqual(u[dst][3], base[dst][3] + 1)
        self.assertClaimsExact()

    def test_3_host_from_2_56(self):
        sid = self.boot("mv-a")
        src = show(sid)["OS-EXT-SRV-ATTR:host"]
        other = [h for h in usage() if h != src][0]
        self.assertFault(action(sid, {"migrate": {"host": src}}, token="admin:admin",
                                version="2.56"), 400, "badRequest",
                         "Cannot migrate to the host where the server exists.")
        self.assertFault(action(sid, {"migrate": {"host": "mv-nohost"}}, token="admin:admin",
                                version="2.56"), 400, "badRequest",
                         "Compute host mv-nohost could not be found.")
        self.assertFault(action(sid, {"migrate": {"host": "bad host!"}}, token="admin:admin",
                                version="2.56"), 400, "badRequest")
        r = action(sid, {"migrate": {"host": other}}, token="admin:admin", version="2.56")
        self.assertEqual(r.status, 202, r)
        s = self.wait(sid, "VERIFY_RESIZE")
        self.assertEqual(s["OS-EXT-SRV-ATTR:host"], other)
        self.assertEqual(action(sid, {"revertResize": None}).status, 202)
        s = self.wait(sid, "ACTIVE")
        self.assertEqual(s["OS-EXT-SRV-ATTR:host"], src)
        self.assertEqual(self.migrations(sid)[0]["status"], "reverted")
        self.assertClaimsExact()

    def test_4_wrong_state(self):
        sid = self.boot("mv-a")
        self.assertEqual(action(sid, {"pause": None}).status, 202)
        self.wait(sid, "PAUSED")
        self.assertFault(action(sid, {"migrate": None}, token="admin:admin"), 409,
                         "conflictingRequest",
                         f"Cannot 'migrate' instance {sid} while it is in vm_state paused")
        self.assertEqual(action(sid, {"unpause": None}).status, 202)
        self.wait(sid, "ACTIVE")


class LiveMigrate(MoveTest):
    def live(self, sid, body, version, token="admin:admin"):
        return action(sid, {"os-migrateLive": body}, token=token, version=version)

    def test_1_live_migrate_to_another_host(self):
        sid = self.boot()
        base = usage()
        src = show(sid)["OS-EXT-SRV-ATTR:host"]
        self.assertFault(self.live(sid, {"block_migration": "auto", "host": None}, "2.25",
                                   token=MEMBER), 403, "forbidden")
        r = self.live(sid, {"block_migration": "auto", "host": None}, "2.25")
        self.assertEqual(r.status, 202, r)
        self.assertEqual(r.data, b"")
        deadline = time.time() + SETTLE
        while show(sid)["OS-EXT-SRV-ATTR:host"] == src and time.time() < deadline:
            time.sleep(0.2)
        s = self.wait(sid, "ACTIVE")
        dst = s["OS-EXT-SRV-ATTR:host"]
        self.assertNotEqual(dst, src)
        self.assertEqual(s["OS-EXT-STS:power_state"], 1)
        m = self.migrations(sid)[0]
        self.assertEqual((m["migration_type"], m["status"], m["source_compute"],
                          m["dest_compute"]), ("live-migration", "completed", src, dst))
        self.assertNotIn("links", m)  # links only while in progress
        u = usage()
        self.assertEqual(u[src][3], base[src][3] - 1)
        self.assertEqual(u[dst][3], base[dst][3] + 1)
        self.assertClaimsExact()
        self.assertEqual(self.actions(sid)[0], "live-migration")
        self.assertEqual(self.events(sid, "live-migration"),
                         f"conductor_live_migrate_instance=Success@,"
                         f"compute_pre_live_migration=Success@{dst},"
                         f"compute_live_migration=Success@{src},"
                         f"compute_post_live_migration_at_destination=Success@{dst}")
        # nothing in progress any more
        r = request("GET", f"/v2.1/servers/{sid}/migrations", version="2.23")
        self.assertEqual((r.status, r.json), (200, {"migrations": []}))

    def test_2_forced_host_and_errors(self):
        sid = self.boot()
        src = show(sid)["OS-EXT-SRV-ATTR:host"]
        other = [h for h in usage() if h != src][0]
        self.assertFault(self.live(sid, {"block_migration": False, "host": None, "force": True},
                                   "2.30"), 400, "badRequest",
                         "Can't force to a non-provided destination")
        self.assertFault(self.live(sid, {"block_migration": False, "host": other, "force": True},
                                   "2.68"), 400, "badRequest")  # no force since 2.68
        self.assertFault(self.live(sid, {"block_migration": False, "host": None}, "2.1"),
                         400, "badRequest")  # disk_over_commit is required before 2.25
        self.assertFault(self.live(sid, {"block_migration": "auto", "host": "mv-nohost"},
                                   "2.30"), 400, "badRequest",
                         "Compute host mv-nohost could not be found.")
        self.assertFault(self.live(sid, {"block_migration": False, "disk_over_commit": False,
                                         "host": src}, "2.1"), 400, "badRequest",
                         f"Unable to migrate instance ({sid}) to current host ({src}).")
        self.assertFault(self.live(FAKE, {"block_migration": "auto", "host": None}, "2.30"),
                         404, "itemNotFound")
        r = self.live(sid, {"block_migration": "auto", "host": other, "force": True}, "2.30")
        self.assertEqual(r.status, 202, r)
        deadline = time.time() + SETTLE
        while show(sid)["OS-EXT-SRV-ATTR:host"] != other and time.time() < deadline:
            time.sleep(0.2)
        self.wait(sid, "ACTIVE")
        self.assertEqual(self.migrations(sid)[0]["status"], "completed")
        # since 2.34 the target is checked later: its own host fails the migration
        r = self.live(sid, {"block_migration": "auto", "host": other}, "2.34")
        self.assertEqual(r.status, 202, r)
        deadline = time.time() + SETTLE
        while self.migrations(sid)[0]["status"] != "error" and time.time() < deadline:
            time.sleep(0.2)
        self.assertEqual(self.migrations(sid)[0]["status"], "error")
        s = self.wait(sid, "ACTIVE")
        self.assertEqual(s["OS-EXT-SRV-ATTR:host"], other)
        self.assertClaimsExact()
        # a stopped server cannot move live
        self.assertEqual(action(sid, {"os-stop": None}).status, 202)
        self.wait(sid, "SHUTOFF")
        self.assertFault(self.live(sid, {"block_migration": "auto", "host": None}, "2.68"), 409,
                         "conflictingRequest",
                         f"Cannot 'os-migrateLive' instance {sid} while it is in vm_state"
                         " stopped")

    def test_3_server_migrations_index_and_show(self):
        sid = self.boot()
        host = show(sid)["OS-EXT-SRV-ATTR:host"]
        # a live migration held in progress (the test driver finishes at once)
        mid = psql("INSERT INTO migrations (uuid, instance_uuid, source_compute, dest_compute,"
                   " source_node, dest_node, dest_host, status, migration_type, user_id,"
                   f" project_id, updated_at) VALUES ('{uuid.uuid4()}', '{sid}', '{host}',"
                   f" 'compute9', '{host}', 'compute9', '127.0.0.9', 'running', 'live-migration',"
                   f" 'mv-member', '{PROJECT}', now()) RETURNING id").splitlines()[0]
        done = psql("INSERT INTO migrations (uuid, instance_uuid, status, migration_type)"
                    f" VALUES ('{uuid.uuid4()}', '{sid}', 'completed', 'live-migration')"
                    " RETURNING id").splitlines()[0]
        cold = psql("INSERT INTO migrations (uuid, instance_uuid, status, migration_type)"
                    f" VALUES ('{uuid.uuid4()}', '{sid}', 'finished', 'resize')"
                    " RETURNING id").splitlines()[0]
        try:
            for version, folder in [("2.23", "v2.23"), ("2.59", "v2.59"), ("2.80", "v2.80")]:
                with self.subTest(version=version):
                    r = request("GET", f"/v2.1/servers/{sid}/migrations", version=version)
                    self.assertEqual(r.status, 200, r)
                    self.assertEqual([m["id"] for m in r.json["migrations"]], [int(mid)])
                    self.assertShapeOf(r.json, f"server-migrations/{folder}/migrations-index.json",
                                       ["$.migrations[0].memory_", "$.migrations[0].disk_"])
                    self.assertMatchesSchema(r.json, "GET", "/servers/{server_id}/migrations",
                                             version)
                    r = request("GET", f"/v2.1/servers/{sid}/migrations/{mid}", version=version)
                    self.assertEqual(r.status, 200, r)
                    self.assertEqual((r.json["migration"]["status"],
                                      r.json["migration"]["dest_compute"]),
                                     ("running", "compute9"))
                    self.assertShapeOf(r.json, f"server-migrations/{folder}/migrations-get.json",
                                       ["$.migration.memory_", "$.migration.disk_"])
                    self.assertMatchesSchema(r.json, "GET",
                                             "/servers/{server_id}/migrations/{id}", version)
            self.assertFault(request("GET", f"/v2.1/servers/{sid}/migrations/{done}",
                                     version="2.23"), 404, "itemNotFound",
                             f"Live migration {done} for server {sid} is not in progress.")
            self.assertFault(request("GET", f"/v2.1/servers/{sid}/migrations/{cold}",
                                     version="2.23"), 404, "itemNotFound",
                             f"Migration {cold} for server {sid} is not live-migration.")
            self.assertFault(request("GET", f"/v2.1/servers/{sid}/migrations/99999999",
                                     version="2.23"), 404, "itemNotFound",
                             f"In-progress live migration 99999999 is not found for server {sid}.")
            self.assertFault(request("GET", f"/v2.1/servers/{FAKE}/migrations", version="2.23"),
                             404, "itemNotFound")
            self.assertFault(request("GET", f"/v2.1/servers/{sid}/migrations", version="2.22"),
                             404, "itemNotFound")
            self.assertFault(request("GET", f"/v2.1/servers/{sid}/migrations", version="2.23",
                                     token=MEMBER), 403, "forbidden")
        finally:
            psql(f"UPDATE migrations SET deleted = id WHERE id IN ({mid}, {done}, {cold})")

    def test_4_abort_and_force_complete(self):
        sid = self.boot()
        host = show(sid)["OS-EXT-SRV-ATTR:host"]
        other = [h for h in usage() if h != host][0]
        base = usage()
        url = f"/v2.1/servers/{sid}/migrations"

        def held(status):
            """A live migration held in `status` (the test driver finishes at once)."""
            psql(f"UPDATE instances SET task_state = 'migrating' WHERE uuid = '{sid}'")
            return psql("INSERT INTO migrations (uuid, instance_uuid, source_compute,"
                        " dest_compute, source_node, dest_node, status, migration_type)"
                        f" VALUES ('{uuid.uuid4()}', '{sid}', '{host}', '{other}', '{host}',"
                        f" '{other}', '{status}', 'live-migration') RETURNING id").splitlines()[0]

        def force(mid, version="2.22", token="admin:admin"):
            return request("POST", f"{url}/{mid}/action", {"force_complete": None},
                           token=token, version=version)

        # nothing in progress: the instance's task decides first
        self.assertFault(force(1), 409, "conflictingRequest",
                         f"Cannot 'force_complete' instance {sid} while it is in task_state"
                         " None")
        self.assertFault(request("DELETE", f"{url}/1", version="2.24"), 409,
                         "conflictingRequest", f"Cannot 'abort live migration' instance {sid}"
                         " while it is in task_state None")
        mid = held("preparing")
        try:
            self.assertFault(force(mid), 400, "badRequest",
                             f"Migration {mid} state of instance {sid} is preparing. Cannot force"
                             " complete while the migration is in this state.")
            self.assertFault(request("DELETE", f"{url}/{mid}", version="2.24"), 400, "badRequest",
                             f"Migration {mid} state of instance {sid} is preparing. Cannot abort"
                             " live migration while the migration is in this state.")
            self.assertFault(force(99999999), 400, "badRequest",
                             f"Migration 99999999 not found for instance {sid}")
            self.assertFault(request("DELETE", f"{url}/99999999", version="2.24"), 404,
                             "itemNotFound", f"Migration 99999999 not found for instance {sid}")
            self.assertFault(force(mid, version="2.21"), 404, "itemNotFound")
            self.assertFault(request("DELETE", f"{url}/{mid}", version="2.23"), 404,
                             "itemNotFound")
            self.assertFault(force(mid, token=MEMBER), 403, "forbidden")
            self.assertFault(request("DELETE", f"{url}/{mid}", version="2.65", token=MEMBER),
                             403, "forbidden")
            psql(f"UPDATE migrations SET status = 'running' WHERE id = {mid}")
            r = force(mid)
            self.assertEqual(r.status, 202, r)
            self.assertEqual(r.data, b"")
            deadline = time.time() + SETTLE
            while "=Success" not in self.events(sid, "live_migration_force_complete"):
                self.assertLess(time.time(), deadline)
                time.sleep(0.2)
            # abort: the target's copy goes, the server runs where it was
            r = request("DELETE", f"{url}/{mid}", version="2.24")
            self.assertEqual(r.status, 202, r)
            s = self.wait(sid, "ACTIVE")
            self.assertEqual((s["OS-EXT-SRV-ATTR:host"], s["OS-EXT-STS:power_state"]), (host, 1))
            self.assertEqual(psql(f"SELECT status FROM migrations WHERE id = {mid}"), "cancelled")
            self.assertEqual(self.actions(sid)[:2],
                             ["live_migration_cancel", "live_migration_force_complete"])
            self.assertEqual(self.events(sid, "live_migration_cancel"),
                             f"compute_live_migration_abort=Success@{host}")
            # since 2.65 one still preparing may be aborted too
            mid2 = held("preparing")
            self.assertEqual(request("DELETE", f"{url}/{mid2}", version="2.65").status, 202)
            self.wait(sid, "ACTIVE")
            self.assertEqual(psql(f"SELECT status FROM migrations WHERE id = {mid2}"), "cancelled")
            self.assertEqual(usage(), base)
            self.assertClaimsExact()
        finally:
            psql(f"UPDATE instances SET task_state = NULL WHERE uuid = '{sid}'")


if __name__ == "__main__":
    unittest.main()
