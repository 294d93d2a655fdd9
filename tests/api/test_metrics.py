"""Metrics: Prometheus text at GET /metrics on nginx's own loopback listener
(CNOVA_METRICS_PORT; the API's port + 2 on the test stacks, 9774 for
`make run`), never on the API's port; the counters move with traffic."""
import os, re, urllib.parse

from common import BASE, ServerFixtures, request

PORT = int(os.environ.get("CNOVA_METRICS_PORT") or urllib.parse.urlsplit(BASE).port + 2)
METRICS = f"http://127.0.0.1:{PORT}"
IMAGE = "80292edd-18c0-4446-9fa4-994b39a2dc15"
SAMPLE = re.compile(r'^([a-z_]+)(\{.*\})? (\S+)$')


def scrape():
    """{(name, labels): value} of one scrape."""
    import http.client
    c = http.client.HTTPConnection("127.0.0.1", PORT, timeout=30)
    c.request("GET", "/metrics")
    r = c.getresponse()
    body = r.read().decode()
    assert r.status == 200, (r.status, body[:200])
    assert r.getheader("Content-Type").startswith("text/plain; version=0.0.4")
    out = {}
    for line in body.splitlines():
        if not line or line.startswith("#"):
            continue
        m = SAMPLE.match(line)
        assert m, f"not a Prometheus sample line: {line!r}"
        out[(m.group(1), m.group(2) or "")] = float(m.group(3))
    return out


class MetricsTest(ServerFixtures):
    servers = []

    def test_requests_counted(self):
        key = ("cnova_api_requests_total", '{route="/flavors/detail",method="GET",status="200"}')
        before = scrape().get(key, 0)
        for _ in range(3):
            self.assertEqual(request("GET", "/v2.1/flavors/detail").status, 200)
        after = scrape()
        self.assertGreaterEqual(after[key] - before, 3)
        hkey = ("cnova_api_request_duration_seconds_count", '{route="/flavors/detail",method="GET"}')
        inf = ("cnova_api_request_duration_seconds_bucket", '{route="/flavors/detail",method="GET",le="+Inf"}')
        self.assertEqual(after[hkey], after[inf])
        nf = ("cnova_api_requests_total", '{route="/servers/{id}",method="GET",status="404"}')
        n0 = after.get(nf, 0)
        self.assertEqual(request("GET", "/v2.1/servers/9f2b4c1e-5d6a-4b7c-8e9f-0a1b2c3d4e5f").status, 404)
        self.assertEqual(scrape()[nf] - n0, 1)

    def test_pipeline_figures(self):
        sid = self.boot("admin:admin", IMAGE, prefix="metrics")
        m = scrape()
        self.assertGreaterEqual(m[("cnova_build_duration_seconds_count", '{outcome="active"}')], 1)
        self.assertIn(("cnova_outbox_depth", ""), m)
        self.assertEqual(m[("cnova_api_workers", '{state="alive"}')],
                         m[("cnova_api_workers", '{state="configured"}')])
        self.assertIn(("cnova_queue_depth", '{queue="conductor"}'), m)
        self.assertGreaterEqual(m[("cnova_queue_consumers", '{queue="conductor"}')], 1)
        self.assertTrue(any(k[0] == "cnova_service_up" and 'binary="nova-compute"' in k[1] and v == 1
                            for k, v in m.items()))
        self.assertGreaterEqual(m[("cnova_instances", '{vm_state="active"}')], 1)
        self.assertTrue(sid)

    def test_only_there(self):
        import http.client
        c = http.client.HTTPConnection("127.0.0.1", PORT, timeout=30)
        c.request("GET", "/v2.1/flavors")
        self.assertEqual(c.getresponse().status, 404)
        self.assertEqual(request("GET", "/metrics").status, 404)
