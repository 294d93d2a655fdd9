"""os-services: list per microversion (integer ids, forced_down at 2.11,
uuids at 2.53), update by action before 2.53 and by uuid from 2.53,
delete, and their errors."""
import unittest, uuid

from common import ApiTest, psql, request


def add_service(host, binary="nova-compute"):
    u = str(uuid.uuid4())
    topic = binary.replace("nova-", "")
    psql(f"INSERT INTO services (uuid, host, \"binary\", topic, last_seen_up) "
         f"VALUES ('{u}', '{host}', '{binary}', '{topic}', now())")
    return u, int(psql(f"SELECT id FROM services WHERE uuid = '{u}'"))


class Services(ApiTest):
    def setUp(self):
        self.host = "svc-" + uuid.uuid4().hex[:8]
        self.uuid, self.id = add_service(self.host)

    def tearDown(self):
        psql(f"DELETE FROM services WHERE host = '{self.host}'")

    def find(self, version, key="id", value=None):
        r = request("GET", f"/v2.1/os-services?host={self.host}", version=version)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(len(r.json["services"]), 1)
        self.assertMatchesSchema(r.json, "GET", "/os-services", version)
        return r.json["services"][0]

    def test_list_shapes(self):
        for version, sample in (("2.1", "os-services/services-list-get-resp.json"),
                                ("2.11", "os-services/v2.11/services-list-get-resp.json"),
                                ("2.53", "os-services/v2.53/services-list-get-resp.json")):
            r = request("GET", f"/v2.1/os-services?host={self.host}", version=version)
            self.assertLikeSample({"services": r.json["services"]}, sample,
                                  nullable=("$.services[0].disabled_reason",))
        self.assertEqual(self.find("2.1")["id"], self.id)
        self.assertEqual(self.find("2.53")["id"], self.uuid)
        s = self.find("2.53")
        self.assertEqual((s["zone"], s["state"], s["status"], s["forced_down"]), ("nova", "up", "enabled", False))

    def test_zone_of_a_compute_host_is_its_aggregates(self):
        r = request("POST", "/v2.1/os-aggregates",
                    {"aggregate": {"name": self.host, "availability_zone": "svc-zone"}})
        self.assertEqual(r.status, 200, r)
        agg = r.json["aggregate"]["id"]
        self.addCleanup(request, "DELETE", f"/v2.1/os-aggregates/{agg}")
        r = request("POST", f"/v2.1/os-aggregates/{agg}/action", {"add_host": {"host": self.host}})
        self.assertEqual(r.status, 200, r)
        self.addCleanup(request, "POST", f"/v2.1/os-aggregates/{agg}/action",
                        {"remove_host": {"host": self.host}})
        self.assertEqual(self.find("2.1")["zone"], "svc-zone")
        r = request("PUT", f"/v2.1/os-services/{self.uuid}", {"status": "disabled"}, version="2.53")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json["service"]["zone"], "svc-zone")
        add_service(self.host, "nova-conductor")
        r = request("GET", f"/v2.1/os-services?host={self.host}&binary=nova-conductor")
        self.assertEqual(r.json["services"][0]["zone"], "internal")

    def test_filters(self):
        r = request("GET", "/v2.1/os-services?binary=nova-nothing")
        self.assertEqual(r.json["services"], [])
        r = request("GET", f"/v2.1/os-services?host=nope&host={self.host}")  # the last value counts
        self.assertEqual(len(r.json["services"]), 1)

    def test_legacy_actions(self):
        body = {"host": self.host, "binary": "nova-compute", "disabled_reason": "test2"}
        r = request("PUT", "/v2.1/os-services/disable-log-reason", body=body)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json, {"service": {"host": self.host, "binary": "nova-compute",
                                              "status": "disabled", "disabled_reason": "test2"}})
        self.assertEqual(self.find("2.1")["disabled_reason"], "test2")
        r = request("PUT", "/v2.1/os-services/enable", body={"host": self.host, "binary": "nova-compute"})
        self.assertEqual(r.json, {"service": {"host": self.host, "binary": "nova-compute", "status": "enabled"}})
        self.assertIsNone(self.find("2.1")["disabled_reason"])
        r = request("PUT", "/v2.1/os-services/force-down", version="2.11",
                    body={"host": self.host, "binary": "nova-compute", "forced_down": "true"})
        self.assertEqual(r.json, {"service": {"host": self.host, "binary": "nova-compute", "forced_down": True}})
        self.assertEqual(self.find("2.11")["state"], "down")

    def test_legacy_errors(self):
        r = request("PUT", "/v2.1/os-services/disable-log-reason",
                    body={"host": self.host, "binary": "nova-compute"})
        self.assertFault(r, 400, "badRequest", "Missing disabled reason field")
        body = {"host": self.host, "binary": "nova-compute"}
        r = request("PUT", "/v2.1/os-services/force-down", body=body)  # an action of 2.11
        self.assertFault(r, 404, "itemNotFound", "Unknown action")
        r = request("PUT", "/v2.1/os-services/force-down", body=body, version="2.11")
        self.assertFault(r, 400, "badRequest", "Missing forced_down field")
        r = request("PUT", "/v2.1/os-services/reboot", body={"host": self.host, "binary": "nova-compute"})
        self.assertFault(r, 404, "itemNotFound", "Unknown action")
        r = request("PUT", "/v2.1/os-services/disable", body={"host": "nohost", "binary": "nova-compute"})
        self.assertFault(r, 404, "itemNotFound", "Could not find binary nova-compute on host nohost.")
        r = request("PUT", "/v2.1/os-services/disable", body={"host": self.host})
        self.assertFault(r, 400, "badRequest", "'binary' is a required property")

    def test_update_by_uuid(self):
        r = request("PUT", f"/v2.1/os-services/{self.uuid}", version="2.53",
                    body={"status": "disabled", "disabled_reason": "maintenance"})
        self.assertEqual(r.status, 200, r)
        self.assertLikeSample(r.json, "os-services/v2.53/service-disable-log-put-resp.json")
        self.assertEqual((r.json["service"]["status"], r.json["service"]["disabled_reason"]),
                         ("disabled", "maintenance"))
        r = request("PUT", f"/v2.1/os-services/{self.uuid}", version="2.53", body={"forced_down": True})
        self.assertEqual((r.json["service"]["forced_down"], r.json["service"]["state"]), (True, "down"))
        r = request("PUT", f"/v2.1/os-services/{self.uuid}", version="2.53", body={"status": "enabled"})
        self.assertEqual((r.json["service"]["status"], r.json["service"]["disabled_reason"]), ("enabled", None))

    def test_update_by_uuid_errors(self):
        cases = [({}, 400, "At least one of 'status' or 'forced_down'"),
                 ({"status": "enabled", "disabled_reason": "x"}, 400, "with status 'enabled' is invalid"),
                 ({"status": "sleepy"}, 400, "is not one of")]
        for body, code, msg in cases:
            r = request("PUT", f"/v2.1/os-services/{self.uuid}", version="2.53", body=body)
            self.assertFault(r, code, "badRequest", msg)
        r = request("PUT", "/v2.1/os-services/42", version="2.53", body={"status": "enabled"})
        self.assertFault(r, 400, "badRequest", "Invalid uuid 42")
        r = request("PUT", f"/v2.1/os-services/{uuid.uuid4()}", version="2.53", body={"status": "enabled"})
        self.assertFault(r, 404, "itemNotFound", "could not be found")
        other, _ = add_service(self.host, "nova-scheduler")
        r = request("PUT", f"/v2.1/os-services/{other}", version="2.53", body={"status": "disabled"})
        self.assertFault(r, 400, "badRequest", "Updating a nova-scheduler service is not supported")

    def test_delete(self):
        r = request("DELETE", f"/v2.1/os-services/{self.id}")
        self.assertEqual(r.status, 204, r)
        self.assertFault(request("DELETE", f"/v2.1/os-services/{self.id}"), 404, "itemNotFound")
        self.assertFault(request("DELETE", "/v2.1/os-services/abc"), 400, "badRequest")
        _, second = add_service(self.host, "nova-scheduler")
        u = psql(f"SELECT uuid FROM services WHERE id = {second}")
        self.assertFault(request("DELETE", "/v2.1/os-services/abc", version="2.53"), 400, "badRequest",
                         "Invalid uuid abc")
        self.assertEqual(request("DELETE", f"/v2.1/os-services/{u}", version="2.53").status, 204)

    def test_delete_compute_hosting_instances_is_409(self):
        u = str(uuid.uuid4())
        psql("INSERT INTO instances (uuid, project_id, user_id, flavor, vcpus, memory_mb, root_gb,"
             f" reservation_id, host) VALUES ('{u}', 'p', 'u', '{{}}', 1, 64, 1, 'r-1', '{self.host}')")
        try:
            r = request("DELETE", f"/v2.1/os-services/{self.id}")
            self.assertFault(r, 409, "conflictingRequest", "hosting instances")
        finally:
            psql(f"DELETE FROM instances WHERE uuid = '{u}'")

    def test_members_may_not(self):
        r = request("PUT", f"/v2.1/os-services/{self.uuid}", version="2.53", token="bob:demo",
                    body={"status": "disabled"})
        self.assertFault(r, 403, "forbidden", "os_compute_api:os-services:update")
        r = request("DELETE", f"/v2.1/os-services/{self.id}", token="bob:demo")
        self.assertFault(r, 403, "forbidden", "os_compute_api:os-services:delete")


if __name__ == "__main__":
    unittest.main()
