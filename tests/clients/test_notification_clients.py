"""Nova's notifications as a real consumer reads them: oslo.messaging's
notification listener (Debian's python3-oslo.messaging) on the stack's
RabbitMQ receives the versioned and legacy events of a boot, a stop and a
delete, with the payload keys of Nova's samples (data/notification_keys.json),
and none for requests that were refused."""
import configparser, json, os, sys, threading, time, unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "api"))
from common import request, server_wait, server_show, psql  # noqa: E402

try:
    import oslo_messaging as om
    from oslo_config import cfg
except ImportError:  # scripts/deps.sh installs python3-oslo.messaging
    om = None

HERE = os.path.dirname(os.path.abspath(__file__))
KEYS = json.load(open(os.path.join(HERE, "data", "notification_keys.json")))
IMAGE = "70a599e0-31e7-49b7-b260-868f441e862b"  # seeded by 007_images_seed.sql
RMQ_PORT = os.environ.get("CNOVA_RMQ_PORT", "15672")
WAIT = 60


class Collector:
    """The listener's endpoint: every notification it is given."""
    def __init__(self):
        self.got, self.lock = [], threading.Lock()

    def _add(self, priority, ctxt, publisher_id, event_type, payload, metadata):
        with self.lock:
            self.got.append({"priority": priority, "ctxt": ctxt, "publisher_id": publisher_id,
                             "event_type": event_type, "payload": payload,
                             "metadata": metadata})

    def info(self, ctxt, publisher_id, event_type, payload, metadata):
        self._add("INFO", ctxt, publisher_id, event_type, payload, metadata)

    def error(self, ctxt, publisher_id, event_type, payload, metadata):
        self._add("ERROR", ctxt, publisher_id, event_type, payload, metadata)

    def of(self, uuid):
        def mine(n):
            p = n["payload"] or {}
            d = p.get("nova_object.data", p)
            return d.get("uuid") == uuid or d.get("instance_id") == uuid
        # in the order they were made (each notification's own timestamp,
        # oslo's microseconds): what the order checks read. The order they
        # arrive in is the outbox's, kept across processes only as far as
        # a publisher waits for older rows another one holds (50 ms).
        with self.lock:
            mine_ = [n for n in self.got if mine(n)]
        return sorted(mine_, key=lambda n: (n["metadata"] or {}).get("timestamp") or "")


def object_keys(name):
    o = KEYS["objects"][name]
    keys = set(o["keys"])
    if "extends" in o:
        keys |= set(KEYS["objects"][o["extends"]]["keys"])
    return keys - set(o.get("without", []))


@unittest.skipIf(om is None, "python3-oslo.messaging is not installed")
class NotificationConsumerTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        conf = cfg.ConfigOpts()
        conf([], project="cnova-test")
        cls.transport = om.get_notification_transport(
            conf, url=f"rabbit://guest:guest@127.0.0.1:{RMQ_PORT}/")
        targets = [om.Target(topic="versioned_notifications", exchange="nova"),
                   om.Target(topic="notifications", exchange="nova")]
        cls.col = Collector()
        cls.listener = om.get_notification_listener(cls.transport, targets, [cls.col],
                                                    executor="threading")
        # one dispatch thread: the endpoint sees them in the queue's order
        cls.listener.start(override_pool_size=1)
        # small flavors of our own for the resizes (the shared stack's hosts
        # hold many servers)
        cls.flavors = {}
        for n, ram in (("a", 128), ("b", 192), ("c", 256)):
            fid = f"notify-{n}-" + os.urandom(3).hex()
            r = request("POST", "/v2.1/flavors", {"flavor": {
                "name": fid, "id": fid, "ram": ram, "vcpus": 1, "disk": 1}})
            assert r.status == 200, r
            cls.flavors[n] = fid

    @classmethod
    def tearDownClass(cls):
        for fid in cls.flavors.values():
            request("DELETE", f"/v2.1/flavors/{fid}")
        cls.listener.stop()
        cls.listener.wait()
        cls.transport.cleanup()

    def wait_events(self, uuid, wanted):
        deadline = time.time() + WAIT
        while True:
            got = self.col.of(uuid)
            have = {n["event_type"] for n in got}
            if set(wanted) <= have:
                return got
            if time.time() > deadline:
                self.fail(f"{uuid}: missing {sorted(set(wanted) - have)}; got {sorted(have)}")
            time.sleep(0.3)

    def check_versioned(self, n):
        name = KEYS["versioned_events"][n["event_type"]]
        p = n["payload"]
        self.assertEqual(p["nova_object.name"], name)
        self.assertEqual(p["nova_object.namespace"], "nova")
        self.assertEqual(p["nova_object.version"], KEYS["objects"][name]["version"])
        self.assertEqual(set(p["nova_object.data"]), object_keys(name), n["event_type"])
        fl = p["nova_object.data"]["flavor"]
        self.assertEqual(fl["nova_object.name"], "FlavorPayload")
        self.assertEqual(set(fl["nova_object.data"]), object_keys("FlavorPayload"))
        for ip in p["nova_object.data"]["ip_addresses"]:
            self.assertEqual(set(ip["nova_object.data"]), object_keys("IpPayload"))
        self.assertEqual(n["priority"], "INFO")
        self.assertTrue(n["publisher_id"].startswith(("nova-compute:", "nova-api:",
                                                      "nova-conductor:")), n)
        for k in ("message_id", "timestamp"):
            self.assertIn(k, n["metadata"])
        # oslo's str(datetime): "2026-12-04 05:00:00.123456"
        self.assertRegex(n["metadata"]["timestamp"], r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}$")
        for k in KEYS["context"]:
            self.assertIn(k[len("_context_"):], n["ctxt"])

    def check_legacy(self, n):
        want = set(KEYS["legacy_instance_keys"]) | set(
            KEYS["legacy_extra_keys"].get(n["event_type"], []))
        self.assertEqual(want - set(n["payload"]), set(), n["event_type"])
        self.assertEqual(n["priority"], "INFO")

    def check_all(self, got):
        for n in got:
            if n["event_type"] in KEYS["versioned_events"]:
                self.check_versioned(n)
            elif n["event_type"] in KEYS["legacy_events"]:
                self.check_legacy(n)
            else:
                self.fail(f"unexpected event {n['event_type']}")

    def boot(self, flavor="1"):
        r = request("POST", "/v2.1/servers", {"server": {
            "name": "notify-" + os.urandom(3).hex(), "imageRef": IMAGE, "flavorRef": flavor}})
        self.assertEqual(r.status, 202, r)
        sid = r.json["server"]["id"]
        self.addCleanup(request, "DELETE", f"/v2.1/servers/{sid}")  # 404 once deleted
        server_wait(sid, "ACTIVE")
        return sid

    def action(self, sid, body, status=202):
        r = request("POST", f"/v2.1/servers/{sid}/action", body)
        self.assertEqual(r.status, status, r)

    @staticmethod
    def data(got, event):
        return [n["payload"]["nova_object.data"] for n in got if n["event_type"] == event]

    def test_resize_confirm_then_revert(self):
        fa, fb, fc = (self.flavors[n] for n in "abc")
        sid = self.boot(fa)
        src = server_show(sid)["OS-EXT-SRV-ATTR:host"]
        self.action(sid, {"resize": {"flavorRef": fb}})
        server_wait(sid, "VERIFY_RESIZE")
        dst = server_show(sid)["OS-EXT-SRV-ATTR:host"]
        self.assertNotEqual(src, dst)  # allow_resize_to_same_host is off
        self.action(sid, {"confirmResize": None}, 204)
        server_wait(sid, "ACTIVE")
        resize = ["instance.resize_prep.start", "instance.resize_prep.end",
                  "instance.resize.start", "instance.resize.end",
                  "instance.resize_finish.start", "instance.resize_finish.end",
                  "instance.resize_confirm.start", "instance.resize_confirm.end"]
        legacy = ["compute.instance.resize.prep.start", "compute.instance.resize.prep.end",
                  "compute.instance.resize.start", "compute.instance.resize.end",
                  "compute.instance.finish_resize.start", "compute.instance.finish_resize.end",
                  "compute.instance.resize.confirm.start", "compute.instance.resize.confirm.end"]
        got = self.wait_events(sid, resize + legacy)
        order = [n["event_type"] for n in got if n["event_type"] in resize]
        self.assertEqual(order, resize)
        prep = self.data(got, "instance.resize_prep.start")[0]
        self.assertEqual(prep["new_flavor"]["nova_object.data"]["flavorid"], fb)
        self.assertEqual(prep["flavor"]["nova_object.data"]["flavorid"], fa)
        self.assertEqual(prep["task_state"], "resize_prep")
        pub = {n["event_type"]: n["publisher_id"] for n in got}
        self.assertEqual(pub["instance.resize_prep.start"], "nova-compute:" + dst)
        self.assertEqual(pub["instance.resize.start"], "nova-compute:" + src)
        self.assertEqual(pub["instance.resize_finish.end"], "nova-compute:" + dst)
        fin = self.data(got, "instance.resize_finish.end")[0]
        self.assertEqual((fin["state"], fin["host"], fin["flavor"]["nova_object.data"]["flavorid"]),
                         ("resized", dst, fb))
        # a second resize, reverted: back to fb on dst
        self.action(sid, {"resize": {"flavorRef": fc}})
        server_wait(sid, "VERIFY_RESIZE")
        self.action(sid, {"revertResize": None})
        server_wait(sid, "ACTIVE")
        got = self.wait_events(sid, ["instance.resize_revert.start", "instance.resize_revert.end",
                                     "compute.instance.resize.revert.start",
                                     "compute.instance.resize.revert.end"])
        end = self.data(got, "instance.resize_revert.end")[0]
        self.assertEqual((end["host"], end["flavor"]["nova_object.data"]["flavorid"]), (dst, fb))
        self.assertEqual(request("DELETE", f"/v2.1/servers/{sid}").status, 204)
        got = self.wait_events(sid, ["instance.delete.end"])
        self.check_all(got)

    def test_live_migration_and_cold_migrate(self):
        sid = self.boot()
        src = server_show(sid)["OS-EXT-SRV-ATTR:host"]
        r = request("POST", f"/v2.1/servers/{sid}/action",
                    {"os-migrateLive": {"host": None, "block_migration": "auto"}}, version="2.25")
        self.assertEqual(r.status, 202, r)
        live = ["instance.live_migration_pre.start", "instance.live_migration_pre.end",
                "instance.live_migration_post.start", "instance.live_migration_post_dest.start",
                "instance.live_migration_post_dest.end", "instance.live_migration_post.end"]
        got = self.wait_events(sid, live + [
            "compute.instance.live_migration.pre.start", "compute.instance.live_migration.pre.end",
            "compute.instance.live_migration._post.start",
            "compute.instance.live_migration._post.end"])
        server_wait(sid, "ACTIVE")
        dst = server_show(sid)["OS-EXT-SRV-ATTR:host"]
        self.assertNotEqual(src, dst)
        self.assertEqual([n["event_type"] for n in got if n["event_type"] in live], live)
        pub = {n["event_type"]: n["publisher_id"] for n in got}
        self.assertEqual(pub["instance.live_migration_pre.start"], "nova-compute:" + dst)
        self.assertEqual(pub["instance.live_migration_post.start"], "nova-compute:" + src)
        self.assertEqual(self.data(got, "instance.live_migration_post.end")[0]["host"], dst)
        # a cold migration sends the resize events, the flavor unchanged
        self.action(sid, {"migrate": None})
        server_wait(sid, "VERIFY_RESIZE")
        got = self.wait_events(sid, ["instance.resize_prep.start", "instance.resize.end",
                                     "instance.resize_finish.end"])
        prep = self.data(got, "instance.resize_prep.start")[0]
        self.assertEqual(prep["new_flavor"]["nova_object.data"]["flavorid"],
                         prep["flavor"]["nova_object.data"]["flavorid"])
        self.assertEqual(request("DELETE", f"/v2.1/servers/{sid}").status, 204)
        self.check_all(self.wait_events(sid, ["instance.delete.end"]))

    def test_usage_audit_exists(self):
        """instance.exists of the audit period ([DEFAULT] instance_usage_audit
        on: the stack's conductor has recorded an audit in task_log)."""
        conf = configparser.ConfigParser(interpolation=None, strict=False)
        conf.read(os.path.join(os.environ.get("CNOVA_RUN", ""), "cnova.conf"))
        if conf.get("DEFAULT", "instance_usage_audit", fallback="false").lower() != "true":
            self.skipTest("[DEFAULT] instance_usage_audit is off on this stack")
        deadline = time.time() + WAIT
        while True:  # the conductor's audit of the last period (its own message)
            last = psql("SELECT host || '|' || period_beginning || '|' || period_ending FROM"
                        " task_log WHERE task_name = 'instance_usage_audit' AND message LIKE"
                        " 'Instance usage audit ran%' ORDER BY id DESC LIMIT 1")
            if last or time.time() > deadline:
                break
            time.sleep(0.5)
        self.assertTrue(last, "no audit recorded in task_log")
        _, begin, end = last.split("|")
        sid = self.boot()
        host = server_show(sid)["OS-EXT-SRV-ATTR:host"]
        # the server ran during the last period: the host's audit runs again
        psql(f"UPDATE instances SET launched_at = '{begin}'::timestamp AT TIME ZONE 'UTC'"
             f" WHERE uuid = '{sid}'")
        psql(f"DELETE FROM task_log WHERE host = '{host}' AND task_name = 'instance_usage_audit'"
             f" AND period_beginning = '{begin}'")
        got = self.wait_events(sid, ["instance.exists", "compute.instance.exists"])
        ex = self.data(got, "instance.exists")[0]
        ap = ex["audit_period"]
        self.assertEqual(ap["nova_object.name"], "AuditPeriodPayload")
        self.assertEqual(set(ap["nova_object.data"]), object_keys("AuditPeriodPayload"))
        self.assertEqual(ap["nova_object.data"]["audit_period_beginning"],
                         begin.replace(" ", "T") + "Z")
        legacy = [n["payload"] for n in got if n["event_type"] == "compute.instance.exists"][0]
        self.assertEqual((legacy["audit_period_beginning"], legacy["audit_period_ending"]),
                         (begin, end))
        state, items = psql(f"SELECT state || '|' || task_items FROM task_log WHERE host ="
                            f" '{host}' AND task_name = 'instance_usage_audit' AND"
                            f" period_beginning = '{begin}'").split("|")
        self.assertEqual(state, "DONE")
        self.assertGreaterEqual(int(items), 1)
        self.assertEqual(request("DELETE", f"/v2.1/servers/{sid}").status, 204)
        self.check_all(self.wait_events(sid, ["instance.delete.end"]))

    def test_lock_rebuild_volume_interface(self):
        sid = self.boot()
        self.action(sid, {"lock": None})
        self.action(sid, {"unlock": None})
        got = self.wait_events(sid, ["instance.lock", "instance.unlock"])
        self.assertEqual([d["locked"] for d in self.data(got, "instance.lock")], [True])
        self.assertEqual([d["locked"] for d in self.data(got, "instance.unlock")], [False])
        self.assertTrue(all(n["publisher_id"].startswith("nova-api:") for n in got
                            if n["event_type"] in ("instance.lock", "instance.unlock")))
        self.action(sid, {"rebuild": {"imageRef": IMAGE}})
        server_wait(sid, "ACTIVE")
        got = self.wait_events(sid, ["instance.rebuild_scheduled", "instance.rebuild.start",
                                     "instance.rebuild.end", "compute.instance.rebuild.start",
                                     "compute.instance.rebuild.end"])
        self.assertEqual(self.data(got, "instance.rebuild.start")[0]["task_state"], "rebuilding")
        self.assertEqual(self.data(got, "instance.rebuild.end")[0]["state"], "active")
        # a volume attached and detached
        r = request("POST", "/v2.1/os-volumes", {"volume": {"size": 1}})
        self.assertEqual(r.status, 200, r)
        vid = r.json["volume"]["id"]
        self.volume_wait(vid, "available")
        r = request("POST", f"/v2.1/servers/{sid}/os-volume_attachments",
                    {"volumeAttachment": {"volumeId": vid}})
        self.assertEqual(r.status, 200, r)
        self.volume_wait(vid, "in-use")
        r = request("DELETE", f"/v2.1/servers/{sid}/os-volume_attachments/{vid}")
        self.assertEqual(r.status, 202, r)
        self.volume_wait(vid, "available")
        vol = ["instance.volume_attach.start", "instance.volume_attach.end",
               "instance.volume_detach.start", "instance.volume_detach.end"]
        got = self.wait_events(sid, vol + ["compute.instance.volume.attach",
                                           "compute.instance.volume.detach"])
        self.assertEqual([n["event_type"] for n in got if n["event_type"] in vol], vol)
        for e in vol:
            self.assertEqual(self.data(got, e)[0]["volume_id"], vid)
        att = self.data(got, "instance.volume_attach.end")[0]
        self.assertIn(vid, [b["nova_object.data"]["volume_id"] for b in att["block_devices"]])
        self.assertEqual(request("DELETE", f"/v2.1/os-volumes/{vid}").status, 202)
        # an interface attached and detached
        r = request("POST", f"/v2.1/servers/{sid}/os-interface", {"interfaceAttachment": {}})
        self.assertEqual(r.status, 200, r)
        port = r.json["interfaceAttachment"]["port_id"]
        got = self.wait_events(sid, ["instance.interface_attach.start",
                                     "instance.interface_attach.end"])
        end = self.data(got, "instance.interface_attach.end")[0]
        self.assertIn(port, [ip["nova_object.data"]["port_uuid"] for ip in end["ip_addresses"]])
        r = request("DELETE", f"/v2.1/servers/{sid}/os-interface/{port}")
        self.assertEqual(r.status, 202, r)
        got = self.wait_events(sid, ["instance.interface_detach.start",
                                     "instance.interface_detach.end"])
        self.assertEqual(request("DELETE", f"/v2.1/servers/{sid}").status, 204)
        got = self.wait_events(sid, ["instance.delete.end"])
        self.check_all(got)

    def volume_wait(self, vid, status):
        deadline = time.time() + WAIT
        while True:
            r = request("GET", f"/v2.1/os-volumes/{vid}")
            if r.json["volume"]["status"] == status:
                return
            if time.time() > deadline:
                self.fail(f"volume {vid}: {r.json['volume']['status']}, not {status}")
            time.sleep(0.3)

    def test_boot_stop_delete(self):
        r = request("POST", "/v2.1/servers", {"server": {
            "name": "notify-" + os.urandom(3).hex(), "imageRef": IMAGE, "flavorRef": "1"}})
        self.assertEqual(r.status, 202, r)
        sid = r.json["server"]["id"]
        server_wait(sid, "ACTIVE")
        got = self.wait_events(sid, ["instance.create.start", "instance.create.end",
                                     "compute.instance.create.start",
                                     "compute.instance.create.end"])
        r = request("POST", f"/v2.1/servers/{sid}/action", {"os-stop": None})
        self.assertEqual(r.status, 202, r)
        server_wait(sid, "SHUTOFF")
        self.wait_events(sid, ["instance.power_off.start", "instance.power_off.end"])
        # refused requests: a second stop (409 in the state check) and a
        # delete of a locked server (409) leave nothing on the bus
        before = len(self.col.of(sid))
        r = request("POST", f"/v2.1/servers/{sid}/action", {"os-stop": None})
        self.assertEqual(r.status, 409, r)
        psql(f"UPDATE instances SET locked = true WHERE uuid = '{sid}'")
        r = request("DELETE", f"/v2.1/servers/{sid}", token="demo:demo")
        self.assertIn(r.status, (403, 404, 409), r)
        psql(f"UPDATE instances SET locked = false WHERE uuid = '{sid}'")
        r = request("DELETE", f"/v2.1/servers/{sid}")
        self.assertEqual(r.status, 204, r)
        got = self.wait_events(sid, ["instance.delete.start", "instance.shutdown.start",
                                     "instance.shutdown.end", "instance.delete.end",
                                     "compute.instance.delete.start",
                                     "compute.instance.shutdown.start",
                                     "compute.instance.shutdown.end",
                                     "compute.instance.delete.end"])
        order = [n["event_type"] for n in got if n["event_type"].startswith(
            ("instance.delete.", "instance.shutdown."))]
        self.assertEqual(order[-4:], ["instance.delete.start", "instance.shutdown.start",
                                      "instance.shutdown.end", "instance.delete.end"])
        extra = [n["event_type"] for n in got[before:]
                 if n["event_type"].startswith(("instance.power_off", "instance.delete.start"))
                 and n["event_type"] != "instance.delete.start"]
        self.assertEqual(extra, [], "events for refused requests")
        starts = [n for n in got if n["event_type"] == "instance.delete.start"]
        self.assertEqual(len(starts), 1)
        for n in got:
            if n["event_type"] in KEYS["versioned_events"]:
                self.check_versioned(n)
            elif n["event_type"] in KEYS["legacy_events"]:
                self.check_legacy(n)
        end = [n for n in got if n["event_type"] == "instance.delete.end"][0]
        self.assertEqual(end["payload"]["nova_object.data"]["state"], "deleted")
        self.assertIsNotNone(end["payload"]["nova_object.data"]["deleted_at"])
        create = [n for n in got if n["event_type"] == "instance.create.end"][0]
        self.assertEqual(create["payload"]["nova_object.data"]["state"], "active")
        self.assertEqual(create["payload"]["nova_object.data"]["power_state"], "running")
        self.assertEqual(create["publisher_id"],
                         "nova-compute:" + create["payload"]["nova_object.data"]["host"])
        # the request that started each step, as Nova's context carries it
        for n in got:
            self.assertRegex(n["ctxt"]["request_id"] or "", r"^req-", n["event_type"])
        order = [n["event_type"] for n in got if "." in n["event_type"]
                 and not n["event_type"].startswith("compute.")]
        self.assertLess(order.index("instance.create.start"), order.index("instance.create.end"))
        self.assertLess(order.index("instance.power_off.end"), order.index("instance.delete.start"))

    def flavor_events(self, flavorid):
        with self.col.lock:
            return [n for n in self.col.got if n["event_type"].startswith("flavor.")
                    and n["payload"]["nova_object.data"]["flavorid"] == flavorid]

    def test_flavor_create_update_delete(self):
        fid = "notify-" + os.urandom(3).hex()
        body = {"flavor": {"name": fid, "id": fid, "ram": 64, "vcpus": 1, "disk": 1}}
        r = request("POST", "/v2.1/flavors", body)
        self.assertEqual(r.status, 200, r)
        # the same flavor again: 409, rolled back, no second flavor.create
        r = request("POST", "/v2.1/flavors", body)
        self.assertEqual(r.status, 409, r)
        r = request("PUT", f"/v2.1/flavors/{fid}", {"flavor": {"description": "d"}},
                    version="2.55")
        self.assertEqual(r.status, 200, r)
        r = request("DELETE", f"/v2.1/flavors/{fid}")
        self.assertEqual(r.status, 202, r)
        deadline = time.time() + WAIT
        while len(self.flavor_events(fid)) < 3 and time.time() < deadline:
            time.sleep(0.3)
        time.sleep(1.5)  # a stray event of the refused create would be here by now
        got = self.flavor_events(fid)
        self.assertEqual([n["event_type"] for n in got],
                         ["flavor.create", "flavor.update", "flavor.delete"])
        for n in got:
            self.assertEqual(n["payload"]["nova_object.name"], "FlavorPayload")
            self.assertEqual(n["payload"]["nova_object.version"],
                             KEYS["objects"]["FlavorPayload"]["version"])
            self.assertEqual(set(n["payload"]["nova_object.data"]), object_keys("FlavorPayload"))
            self.assertTrue(n["publisher_id"].startswith("nova-api:"), n)
        self.assertEqual(got[1]["payload"]["nova_object.data"]["description"], "d")

    def test_keypair_create_import_delete(self):
        name = "notify-" + os.urandom(3).hex()
        r = request("POST", "/v2.1/os-keypairs", {"keypair": {"name": name}}, version="2.2")
        self.assertEqual(r.status, 201, r)
        pub = r.json["keypair"]["public_key"]
        # a second one of the same name: 409, rolled back, nothing sent
        r = request("POST", "/v2.1/os-keypairs", {"keypair": {"name": name}}, version="2.2")
        self.assertEqual(r.status, 409, r)
        r = request("POST", "/v2.1/os-keypairs",
                    {"keypair": {"name": name + "-i", "public_key": pub}}, version="2.2")
        self.assertEqual(r.status, 201, r)
        for n in (name, name + "-i"):
            r = request("DELETE", f"/v2.1/os-keypairs/{n}", version="2.2")
            self.assertEqual(r.status, 204, r)

        def mine():
            with self.col.lock:
                return [n for n in self.col.got if n["event_type"].startswith("keypair.")
                        and n["payload"]["nova_object.data"]["name"] in (name, name + "-i")]
        deadline = time.time() + WAIT
        while len(mine()) < 8 and time.time() < deadline:
            time.sleep(0.3)
        time.sleep(1.5)
        got = mine()
        self.assertEqual([n["event_type"] for n in got], [
            "keypair.create.start", "keypair.create.end", "keypair.import.start",
            "keypair.import.end", "keypair.delete.start", "keypair.delete.end",
            "keypair.delete.start", "keypair.delete.end"])
        for n in got:
            self.assertEqual(n["payload"]["nova_object.name"], "KeypairPayload")
            self.assertEqual(set(n["payload"]["nova_object.data"]), object_keys("KeypairPayload"))
        self.assertIsNone(got[0]["payload"]["nova_object.data"]["fingerprint"])
        self.assertEqual(got[3]["payload"]["nova_object.data"]["public_key"], pub)

    def test_server_group_create_add_member_delete(self):
        r = request("POST", "/v2.1/os-server-groups", {"server_group": {
            "name": "notify-" + os.urandom(3).hex(), "policies": ["anti-affinity"]}})
        self.assertEqual(r.status, 200, r)
        gid = r.json["server_group"]["id"]
        r = request("POST", "/v2.1/servers", {
            "server": {"name": "notify-g", "imageRef": IMAGE, "flavorRef": "1"},
            "os:scheduler_hints": {"group": gid}})
        self.assertEqual(r.status, 202, r)
        sid = r.json["server"]["id"]
        server_wait(sid, "ACTIVE")
        self.assertEqual(request("DELETE", f"/v2.1/servers/{sid}").status, 204)
        r = request("DELETE", f"/v2.1/os-server-groups/{gid}")
        self.assertEqual(r.status, 204, r)

        def mine():
            with self.col.lock:
                return [n for n in self.col.got if n["event_type"].startswith("server_group.")
                        and n["payload"]["nova_object.data"]["uuid"] == gid]
        deadline = time.time() + WAIT
        while len(mine()) < 3 and time.time() < deadline:
            time.sleep(0.3)
        got = mine()
        self.assertEqual([n["event_type"] for n in got], [
            "server_group.create", "server_group.add_member", "server_group.delete"])
        for n in got:
            self.assertEqual(n["payload"]["nova_object.name"], "ServerGroupPayload")
            self.assertEqual(set(n["payload"]["nova_object.data"]),
                             object_keys("ServerGroupPayload"))
        self.assertEqual(got[1]["payload"]["nova_object.data"]["members"], [sid])

    def test_aggregate_actions(self):
        name = "notify-" + os.urandom(3).hex()
        r = request("POST", "/v2.1/os-aggregates", {"aggregate": {"name": name}})
        self.assertEqual(r.status, 200, r)
        aid = r.json["aggregate"]["id"]
        # the same name again: 409, rolled back, nothing sent
        r = request("POST", "/v2.1/os-aggregates", {"aggregate": {"name": name}})
        self.assertEqual(r.status, 409, r)
        for body in ({"add_host": {"host": "compute1"}}, {"remove_host": {"host": "compute1"}},
                     {"set_metadata": {"metadata": {"k": "v"}}}):
            r = request("POST", f"/v2.1/os-aggregates/{aid}/action", body)
            self.assertEqual(r.status, 200, r)
        self.assertEqual(request("DELETE", f"/v2.1/os-aggregates/{aid}").status, 200)

        def mine():
            with self.col.lock:
                return [n for n in self.col.got if n["event_type"].startswith("aggregate.")
                        and n["payload"]["nova_object.data"]["name"] == name]
        deadline = time.time() + WAIT
        while len(mine()) < 10 and time.time() < deadline:
            time.sleep(0.3)
        time.sleep(1)
        got = mine()
        self.assertEqual([n["event_type"] for n in got], [
            f"aggregate.{a}.{p}" for a in ("create", "add_host", "remove_host",
                                           "update_metadata", "delete")
            for p in ("start", "end")])
        for n in got:
            self.assertEqual(n["payload"]["nova_object.name"], "AggregatePayload")
            self.assertEqual(set(n["payload"]["nova_object.data"]),
                             object_keys("AggregatePayload"))
        self.assertEqual(got[3]["payload"]["nova_object.data"]["hosts"], ["compute1"])

    def test_service_update(self):
        r = request("GET", "/v2.1/os-services?binary=nova-compute&host=compute2", version="2.53")
        self.assertEqual(r.status, 200, r)
        uid = r.json["services"][0]["id"]
        start = len(self.col.got)
        for body in ({"status": "disabled", "disabled_reason": "notify test"},
                     {"status": "enabled"}):
            r = request("PUT", f"/v2.1/os-services/{uid}", body, version="2.53")
            self.assertEqual(r.status, 200, r)

        def mine():
            with self.col.lock:
                return [n for n in self.col.got[start:] if n["event_type"] == "service.update"
                        and n["payload"]["nova_object.data"]["uuid"] == uid]
        deadline = time.time() + WAIT
        while len(mine()) < 2 and time.time() < deadline:
            time.sleep(0.3)
        got = mine()
        self.assertEqual([n["payload"]["nova_object.data"]["disabled"] for n in got],
                         [True, False])
        for n in got:
            self.assertEqual(n["payload"]["nova_object.name"], "ServiceStatusPayload")
            self.assertEqual(set(n["payload"]["nova_object.data"]),
                             object_keys("ServiceStatusPayload"))
            self.assertEqual(n["publisher_id"], "nova-compute:compute2")


if __name__ == "__main__":
    unittest.main()
