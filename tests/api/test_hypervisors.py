"""os-hypervisors: list/detail/show per microversion (ids, 2.28 cpu_info,
2.33 paging, 2.53 uuids + pattern/with_servers, 2.88 shape), statistics,
search and servers (before 2.53), from the compute nodes the stack's
compute1/compute2 workers report."""
import re, time, unittest

from common import ApiTest, psql, request, sample, shape_diff


def wait_for_nodes():
    for _ in range(60):
        if int(psql("SELECT count(*) FROM compute_nodes cn JOIN services s ON s.host = cn.host"
                    " AND s.deleted = 0 WHERE cn.deleted = 0")) >= 2:
            return
        time.sleep(0.5)


class Hypervisors(ApiTest):
    @classmethod
    def setUpClass(cls):
        wait_for_nodes()

    def diff(self, body, relpath):
        """Shape differences of the hypervisor list alone (the samples may
        carry paging links), where null may stand for a sample value."""
        got, want = {"hypervisors": body["hypervisors"]}, {"hypervisors": sample(relpath)["hypervisors"]}
        nullable = ("disabled_reason", "uptime", "host_ip")
        # cpu_info is what the driver reports (libvirt test:///default reports little)
        return [d for d in shape_diff(got, want) if d.split(":")[0].split(".")[-1] not in nullable
                and ".cpu_info" not in d]

    def get(self, path, version):
        r = request("GET", "/v2.1" + path, version=version)
        self.assertEqual(r.status, 200, r)
        return r

    def test_list_and_detail_shapes(self):
        for v, folder in (("2.1", ""), ("2.28", "v2.28/"), ("2.53", "v2.53/"), ("2.88", "v2.88/")):
            with self.subTest(version=v):
                r = self.get("/os-hypervisors", v)
                self.assertMatchesSchema(r.json, "GET", "/os-hypervisors", v)
                self.assertEqual(self.diff(r.json, f"os-hypervisors/{folder}hypervisors-list-resp.json"), [])
                r = self.get("/os-hypervisors/detail", v)
                self.assertMatchesSchema(r.json, "GET", "/os-hypervisors/detail", v)
                self.assertEqual(self.diff(r.json, f"os-hypervisors/{folder}hypervisors-detail-resp.json"), [])
                hid = r.json["hypervisors"][0]["id"]
                r = self.get(f"/os-hypervisors/{hid}", v)
                self.assertMatchesSchema(r.json, "GET", "/os-hypervisors/{id}", v)
                self.assertEqual(r.json["hypervisor"]["id"], hid)

    def test_paging(self):
        r = self.get("/os-hypervisors?limit=1", "2.33")
        self.assertEqual(len(r.json["hypervisors"]), 1)
        first = r.json["hypervisors"][0]["id"]
        self.assertIn(f"marker={first}", r.json["hypervisors_links"][0]["href"])
        r = self.get(f"/os-hypervisors?marker={first}", "2.33")
        self.assertNotIn(first, [h["id"] for h in r.json["hypervisors"]])
        r = request("GET", "/v2.1/os-hypervisors?marker=999999", version="2.33")
        self.assertFault(r, 400, "badRequest", "marker [999999] not found")
        r = request("GET", "/v2.1/os-hypervisors?hypervisor_hostname_pattern=x&limit=1", version="2.53")
        self.assertFault(r, 400, "badRequest", "Paging over hypervisors with the "
                         "hypervisor_hostname_pattern query parameter is not supported.")

    def test_pattern_servers_search(self):
        name = psql("SELECT hypervisor_hostname FROM compute_nodes WHERE deleted = 0 ORDER BY id LIMIT 1")
        r = self.get(f"/os-hypervisors?hypervisor_hostname_pattern={name}&with_servers=true", "2.75")
        self.assertEqual([h["hypervisor_hostname"] for h in r.json["hypervisors"]], [name])
        self.assertIsInstance(r.json["hypervisors"][0]["servers"], list)
        r = request("GET", "/v2.1/os-hypervisors?hypervisor_hostname_pattern=nomatch", version="2.53")
        self.assertFault(r, 404, "itemNotFound", "No hypervisor matching 'nomatch' could be found.")
        r = self.get(f"/os-hypervisors/{name}/search", "2.1")
        self.assertMatchesSchema(r.json, "GET", "/os-hypervisors/{id}/search", "2.1")
        r = self.get(f"/os-hypervisors/{name}/servers", "2.1")
        self.assertMatchesSchema(r.json, "GET", "/os-hypervisors/{id}/servers", "2.1")
        r = request("GET", "/v2.1/os-hypervisors/nomatch/search")
        self.assertFault(r, 404, "itemNotFound", "No hypervisor matching 'nomatch' could be found.")
        self.assertEqual(request("GET", f"/v2.1/os-hypervisors/{name}/search", version="2.53").status, 404)

    def test_show_errors_and_statistics(self):
        r = request("GET", "/v2.1/os-hypervisors/abc")
        self.assertFault(r, 404, "itemNotFound", "Hypervisor with ID 'abc' could not be found.")
        r = request("GET", "/v2.1/os-hypervisors/abc", version="2.53")
        self.assertFault(r, 400, "badRequest", "Invalid uuid abc")
        r = request("GET", "/v2.1/os-hypervisors/999999")
        self.assertFault(r, 404, "itemNotFound", "Hypervisor with ID '999999' could not be found.")
        r = self.get("/os-hypervisors/statistics", "2.1")
        self.assertMatchesSchema(r.json, "GET", "/os-hypervisors/statistics", "2.1")
        self.assertLikeSample(r.json, "os-hypervisors/hypervisors-statistics-resp.json")
        self.assertGreaterEqual(r.json["hypervisor_statistics"]["count"], 2)
        self.assertEqual(request("GET", "/v2.1/os-hypervisors/statistics", version="2.88").status, 404)


class HypervisorUptime(ApiTest):
    """uptime (before 2.88): the summary view plus an `uptime`-shaped line
    made from the service's age (cnova cannot ask the compute host yet), or
    400 when the node's compute service is down."""
    UPTIME = re.compile(r"^ \d\d:\d\d:\d\d up (\d+ days?, )?(\d+ min|[ \d]\d:\d\d),  0 users,"
                        r"  load average: 0\.00, 0\.00, 0\.00$")

    @classmethod
    def setUpClass(cls):
        for _ in range(60):
            if psql("SELECT count(*) FROM compute_nodes cn JOIN services s ON s.host = cn.host"
                    " AND s.deleted = 0 AND s.last_seen_up > now() - interval '30 seconds'"
                    " WHERE cn.deleted = 0") != "0":
                break
            time.sleep(0.5)
        cls.node_id, cls.node_uuid, cls.host = psql(
            "SELECT cn.id, cn.uuid, cn.host FROM compute_nodes cn JOIN services s ON s.host = cn.host"
            " AND s.deleted = 0 AND s.\"binary\" = 'nova-compute' WHERE cn.deleted = 0"
            " ORDER BY cn.id LIMIT 1").split("|")

    def test_uptime(self):
        for v, hid, folder in (("2.1", int(self.node_id), ""), ("2.53", self.node_uuid, "v2.53/"),
                               ("2.87", self.node_uuid, "v2.53/")):
            with self.subTest(version=v):
                r = request("GET", f"/v2.1/os-hypervisors/{hid}/uptime", version=v)
                self.assertEqual(r.status, 200, r)
                self.assertMatchesSchema(r.json, "GET", "/os-hypervisors/{id}/uptime", v)
                self.assertEqual(shape_diff(r.json, sample(f"os-hypervisors/{folder}hypervisors-uptime-resp.json")), [])
                self.assertEqual(r.json["hypervisor"]["id"], hid)
                self.assertRegex(r.json["hypervisor"]["uptime"], self.UPTIME)
        self.assertEqual(request("GET", f"/v2.1/os-hypervisors/{self.node_uuid}/uptime", version="2.88").status, 404)

    def test_uptime_errors(self):
        r = request("GET", "/v2.1/os-hypervisors/999999/uptime")
        self.assertFault(r, 404, "itemNotFound", "Hypervisor with ID '999999' could not be found.")
        r = request("GET", "/v2.1/os-hypervisors/abc/uptime")
        self.assertFault(r, 404, "itemNotFound", "Hypervisor with ID 'abc' could not be found.")
        r = request("GET", "/v2.1/os-hypervisors/abc/uptime", version="2.53")
        self.assertFault(r, 400, "badRequest", "Invalid uuid abc")
        r = request("GET", f"/v2.1/os-hypervisors/{self.node_id}/uptime", token="bob:demo")
        self.assertEqual(r.status, 403)
        psql(f"UPDATE services SET forced_down = true WHERE host = '{self.host}' AND \"binary\" = 'nova-compute'")
        try:
            r = request("GET", f"/v2.1/os-hypervisors/{self.node_id}/uptime")
            self.assertFault(r, 400, "badRequest", f"Compute service of {self.host} is unavailable at this time.")
        finally:
            psql(f"UPDATE services SET forced_down = false WHERE host = '{self.host}' AND \"binary\" = 'nova-compute'")


if __name__ == "__main__":
    unittest.main()
