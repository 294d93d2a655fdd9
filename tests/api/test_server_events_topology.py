"""test_server_events_topology.py: POST /os-server-external-events (each
event answered 200 / 400 / 404 / 422, the whole answer 200 or 207, the event
names each microversion accepts, the instance actions volume-extended and
power-update record, service-only policy) and GET /servers/{id}/topology
(2.78+: a server without a NUMA topology, for its owner and for admins)."""
import time, unittest, uuid

from common import FAKE, ApiTest, psql, request

IMAGE = "70a599e0-31e7-49b7-b260-868f441e862b"  # seeded by 007_images_seed.sql
PROJECT = "evp-" + uuid.uuid4().hex[:8]
MEMBER = "ev-member:" + PROJECT
OTHER = "ev-other:evo-other"
SETTLE = 60
PATH = "/v2.1/os-server-external-events"


def events(evs, version="2.1", token="admin:admin"):
    return request("POST", PATH, {"events": evs}, token=token, version=version)


def setUpModule():
    for res in ("instances", "cores", "ram"):
        psql(f"INSERT INTO quotas (project_id, resource, hard_limit) VALUES ('{PROJECT}', '{res}',"
             f" -1) ON CONFLICT (project_id, resource) DO UPDATE SET hard_limit = -1")
    r = request("POST", "/v2.1/servers", {"server": {
        "name": "ev-" + uuid.uuid4().hex[:6], "imageRef": IMAGE, "flavorRef": "1"}}, token=MEMBER)
    assert r.status == 202, r
    global SERVER
    SERVER = r.json["server"]["id"]
    deadline = time.time() + SETTLE
    while True:
        s = request("GET", f"/v2.1/servers/{SERVER}").json["server"]
        if s["status"] == "ACTIVE" and s["OS-EXT-STS:task_state"] is None:
            break
        assert time.time() < deadline, s["status"]
        time.sleep(0.3)


def tearDownModule():
    request("DELETE", f"/v2.1/servers/{SERVER}")


class ExternalEvents(ApiTest):
    def actions(self):
        r = request("GET", f"/v2.1/servers/{SERVER}/os-instance-actions")
        return [a["action"] for a in r.json["instanceActions"]]

    def test_accepted(self):
        r = events([{"name": "network-changed", "server_uuid": SERVER, "tag": "foo",
                     "status": "in-progress"}])
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json["events"], [{"name": "network-changed", "server_uuid": SERVER,
                                             "tag": "foo", "status": "completed", "code": 200}])
        self.assertLikeSample(r.json, "os-server-external-events/event-create-resp.json")
        self.assertMatchesSchema(r.json, "POST", "/os-server-external-events", "2.1")
        r = events([{"name": "network-vif-plugged", "server_uuid": SERVER},
                    {"name": "network-vif-deleted", "server_uuid": SERVER, "tag": "p"}])
        self.assertEqual(r.status, 200, r)
        self.assertEqual([(e["code"], e["status"], "tag" in e) for e in r.json["events"]],
                         [(200, "completed", False), (200, "completed", True)])

    def test_unknown_server_and_mixed(self):
        r = events([{"name": "network-vif-unplugged", "server_uuid": FAKE}])
        self.assertEqual(r.status, 207, r)
        self.assertEqual(r.json["events"][0]["code"], 404)
        self.assertEqual(r.json["events"][0]["status"], "failed")
        self.assertMatchesSchema(r.json, "POST", "/os-server-external-events", "2.1")
        r = events([{"name": "network-changed", "server_uuid": SERVER},
                    {"name": "network-changed", "server_uuid": FAKE}])
        self.assertEqual(r.status, 207, r)
        self.assertEqual([e["code"] for e in r.json["events"]], [200, 404])

    def test_no_host_is_422(self):
        host = psql(f"SELECT host FROM instances WHERE uuid = '{SERVER}'")
        psql(f"UPDATE instances SET host = NULL WHERE uuid = '{SERVER}'")
        try:
            r = events([{"name": "network-changed", "server_uuid": SERVER}])
        finally:
            psql(f"UPDATE instances SET host = '{host}' WHERE uuid = '{SERVER}'")
        self.assertEqual(r.status, 207, r)
        self.assertEqual((r.json["events"][0]["code"], r.json["events"][0]["status"]),
                         (422, "failed"))

    def test_names_per_microversion(self):
        for name, since, tag in (("volume-extended", "2.51", "vol-1"),
                                 ("power-update", "2.76", "POWER_OFF"),
                                 ("accelerator-request-bound", "2.82", "arq"),
                                 ("volume-reimaged", "2.93", None)):
            with self.subTest(name=name):
                ev = {"name": name, "server_uuid": SERVER}
                if tag:
                    ev["tag"] = tag
                major, minor = since.split(".")
                before = f"{major}.{int(minor) - 1}"
                self.assertFault(events([ev], version=before), 400, "badRequest")
                r = events([ev], version=since)
                self.assertEqual(r.status, 200, r)
                self.assertEqual(r.json["events"][0]["code"], 200)
                self.assertMatchesSchema(r.json, "POST", "/os-server-external-events", since)
                if tag:  # these need their tag
                    r = events([{"name": name, "server_uuid": SERVER}], version=since)
                    self.assertEqual(r.status, 207, r)
                    self.assertEqual((r.json["events"][0]["code"],
                                      r.json["events"][0]["status"]), (400, "failed"))
                    self.assertNotIn("tag", r.json["events"][0])

    def test_instance_actions(self):
        before = self.actions()
        events([{"name": "volume-extended", "server_uuid": SERVER, "tag": "v"}], version="2.51")
        self.assertEqual(self.actions()[0], "extend_volume")
        events([{"name": "power-update", "server_uuid": SERVER, "tag": "POWER_ON"}],
               version="2.76")
        self.assertEqual(self.actions()[0], "start")
        n = len(self.actions())
        r = events([{"name": "power-update", "server_uuid": SERVER, "tag": "SIDEWAYS"}],
                   version="2.76")
        self.assertEqual(r.status, 200, r)  # accepted, but nothing to record
        self.assertEqual(len(self.actions()), n)
        self.assertGreater(n, len(before))

    def test_bad_requests_and_policy(self):
        self.assertFault(events([]), 400, "badRequest")
        self.assertFault(events([{"name": "bogus", "server_uuid": SERVER}]), 400, "badRequest")
        self.assertFault(events([{"name": "network-changed", "server_uuid": "x"}]), 400,
                         "badRequest")
        self.assertFault(events([{"name": "network-changed", "server_uuid": SERVER,
                                  "status": "done"}]), 400, "badRequest")
        self.assertFault(events([{"name": "network-changed", "server_uuid": SERVER}],
                                token=MEMBER), 403, "forbidden")


class Topology(ApiTest):
    def test_topology(self):
        for token in (MEMBER, "admin:admin"):
            r = request("GET", f"/v2.1/servers/{SERVER}/topology", token=token, version="2.78")
            self.assertEqual(r.status, 200, r)
            self.assertEqual(r.json, {"nodes": [], "pagesize_kb": None})
            self.assertMatchesSchema(r.json, "GET", "/servers/{server_id}/topology", "2.78")
        r = request("GET", f"/v2.1/servers/{SERVER}/topology", token=MEMBER, version="latest")
        self.assertEqual(r.status, 200, r)

    def test_errors(self):
        self.assertFault(request("GET", f"/v2.1/servers/{SERVER}/topology", token=MEMBER,
                                 version="2.77"), 404, "itemNotFound")
        self.assertFault(request("GET", f"/v2.1/servers/{FAKE}/topology", version="2.78"), 404,
                         "itemNotFound", f"Instance {FAKE} could not be found.")
        self.assertFault(request("GET", f"/v2.1/servers/{SERVER}/topology", token=OTHER,
                                 version="2.78"), 404, "itemNotFound")


if __name__ == "__main__":
    unittest.main()
