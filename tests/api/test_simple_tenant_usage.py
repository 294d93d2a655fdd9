"""os-simple-tenant-usage: hours and resource-hours of instances clipped to
a period (rows written with psql in a 2001 window no other test uses),
detailed views, 2.40 paging, Nova's datetime parsing and errors."""
import json, unittest, uuid

from common import ApiTest, psql, request, sample, shape_diff

TINY = {"name": "m1.tiny", "vcpus": 1, "memory_mb": 512, "root_gb": 1, "ephemeral_gb": 0}
SMALL = {"name": "m1.small", "vcpus": 2, "memory_mb": 2048, "root_gb": 20, "ephemeral_gb": 0}
PERIOD = "start=2001-01-01T06:00:00&end=2001-01-02T00:00:00"


def add_instance(project, flavor, launched, terminated=None, name="srv"):
    u = str(uuid.uuid4())
    term = f"'{terminated}+00'" if terminated else "NULL"
    psql("INSERT INTO instances (uuid, project_id, user_id, display_name, flavor, vcpus, memory_mb,"
         f" root_gb, reservation_id, vm_state, launched_at, terminated_at) VALUES ('{u}', '{project}',"
         f" 'u1', '{name}', '{json.dumps(flavor)}'::jsonb, {flavor['vcpus']}, {flavor['memory_mb']},"
         f" {flavor['root_gb']}, 'r-stu', 'active', '{launched}+00', {term})")
    return u


class SimpleTenantUsage(ApiTest):
    def setUp(self):
        self.p1, self.p2 = "stu1" + uuid.uuid4().hex[:8], "stu2" + uuid.uuid4().hex[:8]
        self.a = add_instance(self.p1, TINY, "2001-01-01 00:00:00", name="a")
        self.b = add_instance(self.p1, SMALL, "2001-01-01 12:00:00", "2001-01-01 18:00:00", name="b")
        add_instance(self.p1, TINY, "2001-01-03 00:00:00")  # launched after the period
        add_instance(self.p1, TINY, "2000-12-01 00:00:00", "2001-01-01 01:00:00")  # ended before
        self.c = add_instance(self.p2, TINY, "2001-01-01 23:00:00", name="c")

    def tearDown(self):
        psql(f"DELETE FROM instances WHERE project_id IN ('{self.p1}', '{self.p2}')")

    def mine(self, usages):
        return [u for u in usages if u["tenant_id"] in (self.p1, self.p2)]

    def test_show_totals_and_servers(self):
        r = request("GET", f"/v2.1/os-simple-tenant-usage/{self.p1}?{PERIOD}")
        self.assertEqual(r.status, 200, r)
        self.assertMatchesSchema(r.json, "GET", "/os-simple-tenant-usage/{id}", "2.1")
        diff = shape_diff(r.json, sample("os-simple-tenant-usage/simple-tenant-usage-get-specific.json"))
        self.assertEqual([d for d in diff if ".ended_at:" not in d], [])  # ended: a string
        t = r.json["tenant_usage"]
        self.assertEqual((t["start"], t["stop"]), ("2001-01-01T06:00:00.000000", "2001-01-02T00:00:00.000000"))
        self.assertAlmostEqual(t["total_hours"], 24.0)
        self.assertAlmostEqual(t["total_vcpus_usage"], 18 * 1 + 6 * 2)
        self.assertAlmostEqual(t["total_memory_mb_usage"], 18 * 512 + 6 * 2048)
        self.assertAlmostEqual(t["total_local_gb_usage"], 18 * 1 + 6 * 20)
        servers = {s["instance_id"]: s for s in t["server_usages"]}
        self.assertEqual(set(servers), {self.a, self.b})
        b = servers[self.b]
        self.assertEqual((b["state"], b["flavor"], b["vcpus"], b["memory_mb"], b["local_gb"], b["name"]),
                         ("terminated", "m1.small", 2, 2048, 20, "b"))
        self.assertEqual((b["started_at"], b["ended_at"], b["uptime"], b["hours"]),
                         ("2001-01-01T12:00:00.000000", "2001-01-01T18:00:00.000000", 6 * 3600, 6.0))
        a = servers[self.a]
        self.assertEqual((a["state"], a["ended_at"], a["hours"]), ("active", None, 18.0))
        self.assertGreater(a["uptime"], 20 * 365 * 86400)

    def test_index_plain_detailed_and_fractions(self):
        r = request("GET", f"/v2.1/os-simple-tenant-usage?{PERIOD}")
        self.assertEqual(r.status, 200, r)
        self.assertMatchesSchema(r.json, "GET", "/os-simple-tenant-usage", "2.1")
        mine = self.mine(r.json["tenant_usages"])
        self.assertEqual([u["tenant_id"] for u in mine], sorted([self.p1, self.p2]))
        self.assertNotIn("server_usages", mine[0])
        self.assertEqual(shape_diff({"tenant_usages": mine}, sample("os-simple-tenant-usage/simple-tenant-usage-get.json")), [])
        r = request("GET", f"/v2.1/os-simple-tenant-usage?{PERIOD}&detailed=1")
        self.assertMatchesSchema(r.json, "GET", "/os-simple-tenant-usage", "2.1")
        mine = {u["tenant_id"]: u for u in self.mine(r.json["tenant_usages"])}
        self.assertEqual([s["instance_id"] for s in mine[self.p2]["server_usages"]], [self.c])
        self.assertAlmostEqual(mine[self.p2]["total_hours"], 1.0)
        # the space form with a fraction, a period ending at 06:30
        r = request("GET", f"/v2.1/os-simple-tenant-usage/{self.p1}?start=2001-01-01+06:00:00.0"
                    "&end=2001-01-01T06:30:00.5")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json["tenant_usage"]["stop"], "2001-01-01T06:30:00.500000")
        self.assertAlmostEqual(r.json["tenant_usage"]["total_hours"], (1800.5) / 3600)

    def test_paging_240(self):
        first = sorted([(self.p1, self.a), (self.p1, self.b), (self.p2, self.c)])
        r = request("GET", f"/v2.1/os-simple-tenant-usage/{self.p1}?{PERIOD}&limit=1", version="2.40")
        self.assertEqual(r.status, 200, r)
        self.assertMatchesSchema(r.json, "GET", "/os-simple-tenant-usage/{id}", "2.40")
        got = r.json["tenant_usage"]["server_usages"][0]["instance_id"]
        self.assertEqual(got, min(self.a, self.b))
        href = r.json["tenant_usage_links"][0]["href"]
        self.assertIn(f"/os-simple-tenant-usage/{self.p1}?", href)
        self.assertIn(f"marker={got}", href)
        r = request("GET", f"/v2.1/os-simple-tenant-usage/{self.p1}?{PERIOD}&limit=1&marker={got}",
                    version="2.40")
        self.assertEqual(r.json["tenant_usage"]["server_usages"][0]["instance_id"], max(self.a, self.b))
        r = request("GET", f"/v2.1/os-simple-tenant-usage/{self.p1}?{PERIOD}&marker={max(self.a, self.b)}",
                    version="2.40")
        self.assertEqual(r.json, {"tenant_usage": {}})
        # all projects: the marker walks (project_id, uuid) order
        r = request("GET", f"/v2.1/os-simple-tenant-usage?{PERIOD}&detailed=1&limit=1&marker={first[1][1]}",
                    version="2.40")
        self.assertMatchesSchema(r.json, "GET", "/os-simple-tenant-usage", "2.40")
        self.assertIn("tenant_usages_links", r.json)
        before = sorted(self.mine(r.json["tenant_usages"]), key=lambda u: u["tenant_id"])
        if before:  # no other project sorts between ours in this window
            self.assertEqual(before[0]["server_usages"][0]["instance_id"], first[2][1])
        # before 2.40 limit and marker are ignored
        r = request("GET", f"/v2.1/os-simple-tenant-usage/{self.p1}?{PERIOD}&limit=1", version="2.39")
        self.assertEqual(len(r.json["tenant_usage"]["server_usages"]), 2)
        self.assertNotIn("tenant_usage_links", r.json)

    def test_errors(self):
        for q in ("start=2001-01-01", "start=yesterday", "end=2001-13-01T00:00:00",
                  "start=2001-01-01+06:00:00", "start=2001-02-29T00:00:00"):
            r = request("GET", f"/v2.1/os-simple-tenant-usage?{q}")
            self.assertFault(r, 400, "badRequest", "Invalid datetime string: Datetime is in invalid format")
        r = request("GET", "/v2.1/os-simple-tenant-usage?start=2001-01-02T00:00:00&end=2001-01-01T00:00:00")
        self.assertFault(r, 400, "badRequest",
                         "Invalid start time. The start time cannot occur after the end time.")
        r = request("GET", f"/v2.1/os-simple-tenant-usage?{PERIOD}&marker=nope", version="2.40")
        self.assertFault(r, 400, "badRequest", "Marker nope could not be found.")
        r = request("GET", f"/v2.1/os-simple-tenant-usage?{PERIOD}&limit=-1", version="2.40")
        self.assertEqual(r.status, 400)
        r = request("GET", f"/v2.1/os-simple-tenant-usage/{self.p1}?{PERIOD}", token="bob:demo")
        self.assertFault(r, 403, "forbidden",
                         "Policy doesn't allow os_compute_api:os-simple-tenant-usage:show to be performed.")
        r = request("GET", f"/v2.1/os-simple-tenant-usage/{self.p1}?{PERIOD}", token=f"bob:{self.p1}")
        self.assertEqual(r.status, 200, r)
        r = request("GET", f"/v2.1/os-simple-tenant-usage?{PERIOD}", token="bob:demo")
        self.assertEqual(r.status, 403)
        r = request("GET", "/v2.1/os-simple-tenant-usage/nobody")
        self.assertEqual(r.json, {"tenant_usage": {}})


if __name__ == "__main__":
    unittest.main()
