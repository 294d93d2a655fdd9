"""os-availability-zone: the zone list (any user) and detail (admin),
computed from the services rows the workers keep and the aggregates'
availability_zone metadata. The stack runs compute1 and compute2 (zone
nova) plus the conductor and scheduler (zone internal)."""
import time, unittest, uuid

from common import ApiTest, psql, request, sample, shape_diff

VERSIONS = ("2.1", "2.13", "2.15", "2.64", "latest")


def wait_for_services():
    """The workers register their services rows shortly after the stack
    starts."""
    for _ in range(60):
        if int(psql("SELECT count(*) FROM services WHERE \"binary\" = 'nova-compute'"
                    " AND deleted = 0")) >= 2:
            return
        time.sleep(0.5)


class Zones(ApiTest):
    @classmethod
    def setUpClass(cls):
        wait_for_services()

    def tearDown(self):
        psql("DELETE FROM aggregates WHERE name LIKE 'aztest-%'")
        psql("UPDATE services SET disabled = false, forced_down = false")

    def add_aggregate(self, zone, *hosts):
        agg = psql(f"INSERT INTO aggregates (uuid, name) VALUES ('{uuid.uuid4()}',"
                   f" 'aztest-{zone}') RETURNING id").splitlines()[0]
        psql(f"INSERT INTO aggregate_metadata VALUES ({agg}, 'availability_zone', '{zone}')")
        for h in hosts:
            psql(f"INSERT INTO aggregate_hosts VALUES ({agg}, '{h}')")

    def test_list_is_the_sample_at_every_version(self):
        for v in VERSIONS:
            with self.subTest(version=v):
                r = request("GET", "/v2.1/os-availability-zone", version=v, token="u1:p1")
                self.assertEqual(r.status, 200, r)
                self.assertEqual(r.json, sample("os-availability-zone/availability-zone-list-resp.json"))
                self.assertMatchesSchema(r.json, "GET", "/os-availability-zone", "2.1")

    def detail(self, v="2.1"):
        r = request("GET", "/v2.1/os-availability-zone/detail", version=v)
        self.assertEqual(r.status, 200, r)
        self.assertMatchesSchema(r.json, "GET", "/os-availability-zone/detail", "2.1")
        return {z["zoneName"]: z for z in r.json["availabilityZoneInfo"]}, r.json

    def test_detail_like_sample(self):
        want = sample("os-availability-zone/availability-zone-detail-resp.json")
        want_service = want["availabilityZoneInfo"][0]["hosts"]["conductor"]["nova-conductor"]
        for v in VERSIONS:
            with self.subTest(version=v):
                zones, body = self.detail(v)
                self.assertEqual([z["zoneName"] for z in body["availabilityZoneInfo"]],
                                 ["internal", "nova"])
                for z in body["availabilityZoneInfo"]:
                    self.assertEqual(set(z), {"zoneName", "zoneState", "hosts"})
                    self.assertEqual(z["zoneState"], {"available": True})
                    for host, services in z["hosts"].items():
                        for binary, s in services.items():
                            # the sample's updated_at is null; a live service has one
                            self.assertEqual(shape_diff(dict(s, updated_at=None), want_service,
                                                        f"{host}.{binary}"), [], s)
                            self.assertIsInstance(s["updated_at"], str)
                            self.assertRegex(s["updated_at"],
                                             r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}$")
                            self.assertEqual((s["available"], s["active"]), (True, True))
                self.assertEqual(set(zones["nova"]["hosts"]), {"compute1", "compute2"})
                for h in ("compute1", "compute2"):
                    self.assertEqual(list(zones["nova"]["hosts"][h]), ["nova-compute"])
                internal = {b for s in zones["internal"]["hosts"].values() for b in s}
                self.assertEqual(internal, {"nova-conductor", "nova-scheduler"})

    def test_detail_is_admin_only(self):
        r = request("GET", "/v2.1/os-availability-zone/detail", token="u1:p1")
        self.assertFault(r, 403, "forbidden")

    def test_aggregate_zone(self):
        self.add_aggregate("zone-b", "compute2")
        r = request("GET", "/v2.1/os-availability-zone", token="u1:p1")
        self.assertEqual([(z["zoneName"], z["zoneState"]["available"], z["hosts"])
                          for z in r.json["availabilityZoneInfo"]],
                         [("nova", True, None), ("zone-b", True, None)])
        zones, _ = self.detail()
        self.assertEqual(set(zones["nova"]["hosts"]), {"compute1"})
        self.assertEqual(set(zones["zone-b"]["hosts"]), {"compute2"})

    def test_host_in_two_zones(self):
        self.add_aggregate("zone-y", "compute1")
        self.add_aggregate("zone-x", "compute1")
        names = [z["zoneName"] for z in
                 request("GET", "/v2.1/os-availability-zone").json["availabilityZoneInfo"]]
        self.assertEqual(names, ["nova", "zone-x,zone-y"])

    def test_aggregate_without_zone_key_changes_nothing(self):
        agg = psql(f"INSERT INTO aggregates (uuid, name) VALUES ('{uuid.uuid4()}', 'aztest-plain')"
                   " RETURNING id").splitlines()[0]
        psql(f"INSERT INTO aggregate_hosts VALUES ({agg}, 'compute1')")
        r = request("GET", "/v2.1/os-availability-zone")
        self.assertEqual(r.json, sample("os-availability-zone/availability-zone-list-resp.json"))

    def test_disabled_zone_is_unavailable_and_listed_last(self):
        self.add_aggregate("a-zone", "compute2")
        psql("UPDATE services SET disabled = true WHERE host = 'compute2'")
        r = request("GET", "/v2.1/os-availability-zone")
        self.assertEqual([(z["zoneName"], z["zoneState"]["available"])
                          for z in r.json["availabilityZoneInfo"]],
                         [("nova", True), ("a-zone", False)])
        zones, body = self.detail()
        self.assertEqual([z["zoneName"] for z in body["availabilityZoneInfo"]],
                         ["internal", "nova", "a-zone"])
        self.assertEqual(zones["a-zone"], {"zoneName": "a-zone", "zoneState": {"available": False},
                                           "hosts": None})

    def test_disabled_service_is_hidden_from_detail(self):
        psql("UPDATE services SET disabled = true WHERE host = 'compute2'")
        zones, _ = self.detail()
        self.assertEqual(set(zones["nova"]["hosts"]), {"compute1"})

    def test_down_service_is_not_available(self):
        psql("UPDATE services SET forced_down = true WHERE host = 'compute2'")
        zones, _ = self.detail()
        self.assertEqual(zones["nova"]["hosts"]["compute2"]["nova-compute"]["available"], False)
        self.assertEqual(zones["nova"]["hosts"]["compute1"]["nova-compute"]["available"], True)
        self.assertEqual(zones["nova"]["zoneState"], {"available": True})

    def test_unknown_query_at_2_102_is_400(self):
        self.assertEqual(request("GET", "/v2.1/os-availability-zone?x=1", version="2.101").status, 200)
        for path in ("/v2.1/os-availability-zone?x=1", "/v2.1/os-availability-zone/detail?x=1"):
            self.assertFault(request("GET", path, version="2.102"), 400, "badRequest")


if __name__ == "__main__":
    unittest.main()
