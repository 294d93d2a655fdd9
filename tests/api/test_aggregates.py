"""os-aggregates: list/create/show/update/delete with the shapes of Nova's
samples (uuid from 2.41), add_host/remove_host/set_metadata and Nova's zone
rules (a host in one zone only, instances never change zone), the 2.81
image cache request, and the errors of each."""
import unittest, uuid

from common import ApiTest, psql, request

PREFIX = "aggtest-"


def add_service(host):
    psql(f"INSERT INTO services (uuid, host, \"binary\", topic, last_seen_up) "
         f"VALUES ('{uuid.uuid4()}', '{host}', 'nova-compute', 'compute', now())")


def add_instance(host):
    psql("INSERT INTO instances (uuid, project_id, user_id, flavor, vcpus, memory_mb, root_gb,"
         f" reservation_id, host, vm_state, task_state) VALUES ('{uuid.uuid4()}', 'aggp',"
         f" 'aggu', '{{}}', 1, 64, 1, 'r-agg', '{host}', 'active', NULL)")


class Aggregates(ApiTest):
    def setUp(self):
        tag = uuid.uuid4().hex[:8]
        self.h1, self.h2 = f"agg1-{tag}", f"agg2-{tag}"
        add_service(self.h1)
        add_service(self.h2)

    def tearDown(self):
        psql(f"DELETE FROM aggregates WHERE name LIKE '{PREFIX}%'")
        psql(f"DELETE FROM services WHERE host IN ('{self.h1}', '{self.h2}')")
        psql(f"DELETE FROM instances WHERE host IN ('{self.h1}', '{self.h2}')")

    def create(self, name, zone=None, version=None, status=200):
        body = {"aggregate": {"name": PREFIX + name}}
        if zone is not None:
            body["aggregate"]["availability_zone"] = zone
        r = request("POST", "/v2.1/os-aggregates", body=body, version=version)
        self.assertEqual(r.status, status, r)
        return r

    def action(self, agg, name, body, version=None):
        return request("POST", f"/v2.1/os-aggregates/{agg}/action", body={name: body},
                       version=version)

    def test_shapes_per_version(self):
        r = self.create("london", "london")
        self.assertLikeSample(r.json, "os-aggregates/aggregate-post-resp.json")
        self.assertMatchesSchema(r.json, "POST", "/os-aggregates", "2.1")
        agg = r.json["aggregate"]["id"]
        self.assertEqual(r.json["aggregate"]["availability_zone"], "london")
        r = self.action(agg, "add_host", {"host": self.h1})
        self.assertEqual(r.status, 200, r)
        self.assertLikeSample(r.json, "os-aggregates/aggregates-add-host-post-resp.json")
        self.assertEqual(r.json["aggregate"]["hosts"], [self.h1])
        for v, folder in (("2.1", ""), ("2.41", "v2.41/")):
            r = request("GET", f"/v2.1/os-aggregates/{agg}", version=v)
            self.assertLikeSample(r.json, f"os-aggregates/{folder}aggregates-get-resp.json",
                                  nullable=("$.aggregate.updated_at",))
            self.assertMatchesSchema(r.json, "GET", "/os-aggregates/{id}", v)
            r = request("GET", "/v2.1/os-aggregates", version=v)
            mine = [a for a in r.json["aggregates"] if a["id"] == agg]
            self.assertEqual(len(mine), 1)
            self.assertLikeSample({"aggregates": mine},
                                  f"os-aggregates/{folder}aggregates-list-get-resp.json",
                                  nullable=("$.aggregates[0].updated_at",))
            self.assertMatchesSchema(r.json, "GET", "/os-aggregates", v)
        r = self.create("v241", version="2.41")
        self.assertIn("uuid", r.json["aggregate"])
        self.assertIsNone(r.json["aggregate"]["availability_zone"])
        self.assertMatchesSchema(r.json, "POST", "/os-aggregates", "2.41")

    def test_create_errors(self):
        self.create("dup")
        r = self.create("dup", status=409)
        self.assertFault(r, 409, "conflictingRequest", f"Aggregate {PREFIX}dup already exists.")
        r = self.create("colon", "a:b", status=400)
        self.assertFault(r, 400, "badRequest")
        r = request("POST", "/v2.1/os-aggregates", body={"aggregate": {"name": "x"}},
                    token="alice:p1")
        self.assertFault(r, 403, "forbidden")

    def test_show_update_delete(self):
        agg = self.create("upd", "z1").json["aggregate"]["id"]
        r = request("PUT", f"/v2.1/os-aggregates/{agg}",
                    body={"aggregate": {"name": f"{PREFIX}upd2", "availability_zone": "z2"}})
        self.assertEqual(r.status, 200, r)
        self.assertLikeSample(r.json, "os-aggregates/aggregate-update-post-resp.json")
        self.assertEqual((r.json["aggregate"]["name"], r.json["aggregate"]["metadata"]),
                         (f"{PREFIX}upd2", {"availability_zone": "z2"}))
        self.assertIsNotNone(r.json["aggregate"]["updated_at"])
        other = self.create("other").json["aggregate"]["id"]
        r = request("PUT", f"/v2.1/os-aggregates/{other}", body={"aggregate": {"name": f"{PREFIX}upd2"}})
        self.assertFault(r, 409, "conflictingRequest", f"Aggregate {PREFIX}upd2 already exists.")
        r = request("PUT", f"/v2.1/os-aggregates/{agg}", body={"aggregate": {"availability_zone": None}})
        self.assertFault(r, 400, "badRequest", f"Cannot update aggregate {agg}. Reason: Aggregate "
                         f"{PREFIX}upd2 does not support empty named availability zone.")
        for method in ("GET", "DELETE"):
            r = request(method, "/v2.1/os-aggregates/999999")
            self.assertFault(r, 404, "itemNotFound", "Aggregate 999999 could not be found.")
            r = request(method, "/v2.1/os-aggregates/abc")
            self.assertFault(r, 400, "badRequest", "Invalid input received: id must be an integer")
        self.action(agg, "add_host", {"host": self.h1})
        r = request("DELETE", f"/v2.1/os-aggregates/{agg}")
        self.assertFault(r, 400, "badRequest", f"Cannot remove host from aggregate {agg}. "
                         "Reason: Host aggregate is not empty.")
        self.assertEqual(self.action(agg, "remove_host", {"host": self.h1}).status, 200)
        r = request("DELETE", f"/v2.1/os-aggregates/{agg}")
        self.assertEqual((r.status, r.data), (200, b""))
        self.assertEqual(request("GET", f"/v2.1/os-aggregates/{agg}").status, 404)

    def test_hosts(self):
        agg = self.create("hosts", "zh").json["aggregate"]["id"]
        r = self.action(agg, "add_host", {"host": "no-such-host"})
        self.assertFault(r, 404, "itemNotFound", "Compute host no-such-host could not be found.")
        r = self.action(999999, "add_host", {"host": self.h1})
        self.assertFault(r, 404, "itemNotFound", "Aggregate 999999 could not be found.")
        self.assertEqual(self.action(agg, "add_host", {"host": self.h1}).status, 200)
        r = self.action(agg, "add_host", {"host": self.h1})
        self.assertFault(r, 409, "conflictingRequest", f"Aggregate {agg} already has host {self.h1}.")
        # a host is in one zone only
        other = self.create("hosts2", "elsewhere").json["aggregate"]["id"]
        r = self.action(other, "add_host", {"host": self.h1})
        self.assertFault(r, 409, "conflictingRequest", f"Cannot add host to aggregate {other}. "
                         "Reason: One or more hosts already in availability zone(s) ['zh'].")
        r = self.action(agg, "remove_host", {"host": self.h2})
        self.assertFault(r, 404, "itemNotFound", f"Cannot remove host {self.h2} in aggregate {agg}")
        # a host with instances never changes zone
        add_instance(self.h2)
        r = self.action(agg, "add_host", {"host": self.h2})
        self.assertFault(r, 409, "conflictingRequest", "would change from 'None' to 'zh' but the "
                         "host already has 1 instance(s).")
        r = self.action(agg, "remove_host", {"host": "no-such-host"})
        self.assertFault(r, 404, "itemNotFound", f"Cannot remove host no-such-host in aggregate {agg}")
        add_instance(self.h1)
        r = self.action(agg, "remove_host", {"host": self.h1})
        self.assertFault(r, 409, "conflictingRequest", f"Cannot remove host from aggregate {agg}. "
                         "Reason: The host cannot be removed from the aggregate as the "
                         "availability zone of the host would change from 'zh' to 'None'")
        psql(f"DELETE FROM instances WHERE host = '{self.h1}'")
        r = self.action(agg, "remove_host", {"host": self.h1})
        self.assertEqual(r.status, 200, r)
        self.assertLikeSample(r.json, "os-aggregates/aggregates-remove-host-post-resp.json")
        self.assertEqual(r.json["aggregate"]["hosts"], [])

    def test_set_metadata(self):
        agg = self.create("meta", "zm").json["aggregate"]["id"]
        r = self.action(agg, "set_metadata", {"metadata": {"key": "value"}})
        self.assertEqual(r.status, 200, r)
        self.assertLikeSample(r.json, "os-aggregates/aggregates-metadata-post-resp.json")
        self.assertMatchesSchema(r.json, "POST", "/os-aggregates/{id}/action", "2.1", "set_metadata")
        r = self.action(agg, "set_metadata", {"metadata": {"k2": "v2"}})
        self.assertEqual(r.json["aggregate"]["metadata"],
                         {"availability_zone": "zm", "key": "value", "k2": "v2"})
        r = self.action(agg, "set_metadata", {"metadata": {"key": None, "gone": None}})
        self.assertEqual(r.json["aggregate"]["metadata"], {"availability_zone": "zm", "k2": "v2"})
        r = self.action(agg, "set_metadata", {"metadata": {"availability_zone": None}})
        self.assertFault(r, 400, "badRequest", f"Cannot update metadata of aggregate {agg}. Reason: "
                         f"Aggregate {PREFIX}meta does not support empty named availability zone.")
        r = self.action(agg, "set_metadata", {"metadata": {"availability_zone": "zm2"}})
        self.assertEqual(r.json["aggregate"]["availability_zone"], "zm2")
        # zone changes: never two zones for a host, never for hosts with instances
        other = self.create("meta2").json["aggregate"]["id"]
        self.action(agg, "add_host", {"host": self.h1})
        self.action(other, "add_host", {"host": self.h1})
        r = self.action(other, "set_metadata", {"metadata": {"availability_zone": "zx"}})
        self.assertFault(r, 400, "badRequest", "One or more hosts already in availability zone(s) ['zm2']")
        add_instance(self.h1)
        r = self.action(agg, "set_metadata", {"metadata": {"availability_zone": "zm3"}})
        self.assertFault(r, 400, "badRequest", f"Cannot update metadata of aggregate {agg}. "
                         "Reason: One or more hosts contain instances in this zone.")
        r = self.action(agg, "set_metadata", {"metadata": {"availability_zone": "zm2", "x": "y"}})
        self.assertEqual(r.status, 200, r)
        r = self.action(999999, "set_metadata", {"metadata": {}})
        self.assertFault(r, 404, "itemNotFound")
        r = self.action(agg, "set_metadata", {"metadata": {"bad/key": "v"}})
        self.assertFault(r, 400, "badRequest")

    def test_images(self):
        agg = self.create("img").json["aggregate"]["id"]
        image = psql("SELECT id FROM images WHERE NOT deleted LIMIT 1")
        body = {"cache": [{"id": image}]}
        r = request("POST", f"/v2.1/os-aggregates/{agg}/images", body=body, version="2.81")
        self.assertEqual((r.status, r.data), (202, b""))
        r = request("POST", f"/v2.1/os-aggregates/{agg}/images", body=body, version="2.80")
        self.assertEqual(r.status, 404)
        r = request("POST", f"/v2.1/os-aggregates/{agg}/images", version="2.81",
                    body={"cache": [{"id": image}, {"id": image}]})
        self.assertFault(r, 400, "badRequest", "Duplicate images in request")
        r = request("POST", f"/v2.1/os-aggregates/{agg}/images", version="2.81",
                    body={"cache": [{"id": str(uuid.UUID(int=1))}]})
        self.assertFault(r, 400, "badRequest", f"Image {uuid.UUID(int=1)} could not be found.")
        r = request("POST", "/v2.1/os-aggregates/999999/images", body=body, version="2.81")
        self.assertFault(r, 404, "itemNotFound", "Aggregate 999999 could not be found.")


if __name__ == "__main__":
    unittest.main()
