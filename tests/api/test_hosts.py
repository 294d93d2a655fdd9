"""os-hosts (up to 2.42) and os-instance_usage_audit_log, from the services,
compute nodes, instances and task_log of the stack (compute1 and compute2
run here): shapes against Nova's samples and response schemas, the zone
filter, per-project usage of a host, status disable keeping new servers off
a host, libvirt's 501 for maintenance mode and power actions, and the audit
periods and their task_log rows."""
import time, unittest, uuid

from common import ApiTest, psql, request, sample, shape_diff

MEMBER = "h-member:h-proj"
IMAGE = "70a599e0-31e7-49b7-b260-868f441e862b"  # seeded by 007_images_seed.sql


def get(path, token="admin:admin", version="2.42"):
    return request("GET", "/v2.1" + path, token=token, version=version)


def wait_for_nodes():
    for _ in range(60):
        if int(psql("SELECT count(*) FROM compute_nodes WHERE deleted = 0")) >= 2:
            return
        time.sleep(0.5)


def settle(sid, seconds=60):
    deadline = time.time() + seconds
    while time.time() < deadline:
        s = get(f"/servers/{sid}", version="2.1").json["server"]
        if s["status"] in ("ACTIVE", "ERROR"):
            return s
        time.sleep(0.3)
    raise AssertionError(f"{sid} did not settle")


class Hosts(ApiTest):
    @classmethod
    def setUpClass(cls):
        wait_for_nodes()

    def test_index_shape_and_zones(self):
        r = get("/os-hosts")
        self.assertEqual(r.status, 200, r)
        self.assertMatchesSchema(r.json, "GET", "/os-hosts", "2.42")
        self.assertLikeSample(r.json, "os-hosts/hosts-list-resp.json")
        by = {(h["host_name"], h["service"]): h["zone"] for h in r.json["hosts"]}
        self.assertEqual(by[("compute1", "compute")], "nova")
        self.assertIn("internal", [z for (h, s), z in by.items() if s == "conductor"])
        self.assertIn("scheduler", {s for (_, s) in by})
        r = get("/os-hosts?zone=nova")
        self.assertEqual({h["service"] for h in r.json["hosts"]}, {"compute"})
        self.assertEqual(get("/os-hosts?zone=nowhere").json, {"hosts": []})

    def test_disabled_service_is_not_listed(self):
        psql("UPDATE services SET disabled = true WHERE host = 'compute2' AND topic = 'compute'")
        try:
            names = [h["host_name"] for h in get("/os-hosts").json["hosts"]]
            self.assertNotIn("compute2", names)
            self.assertIn("compute1", names)
        finally:
            psql("UPDATE services SET disabled = false WHERE host = 'compute2'"
                 " AND topic = 'compute'")

    def test_show_resources_and_projects(self):
        r = request("POST", "/v2.1/servers", {"server": {
            "name": "h-" + uuid.uuid4().hex[:6], "imageRef": IMAGE, "flavorRef": "1",
            "availability_zone": "nova:compute1"}}, token="admin:h-proj")
        self.assertEqual(r.status, 202, r)
        sid = r.json["server"]["id"]
        self.addCleanup(request, "DELETE", f"/v2.1/servers/{sid}")
        self.assertEqual(settle(sid)["status"], "ACTIVE")
        r = get("/os-hosts/compute1")
        self.assertEqual(r.status, 200, r)
        self.assertMatchesSchema(r.json, "GET", "/os-hosts/{id}", "2.42")
        self.assertLikeSample(r.json, "os-hosts/host-get-resp.json")
        rows = [x["resource"] for x in r.json["host"]]
        self.assertEqual([x["project"] for x in rows[:3]], ["(total)", "(used_now)", "(used_max)"])
        node = psql("SELECT vcpus || ' ' || memory_mb || ' ' || local_gb FROM compute_nodes"
                    " WHERE host = 'compute1' AND deleted = 0")
        self.assertEqual(f"{rows[0]['cpu']} {rows[0]['memory_mb']} {rows[0]['disk_gb']}", node)
        mine = [x for x in rows if x["project"] == "h-proj"]
        self.assertEqual(len(mine), 1)
        use = psql("SELECT sum(vcpus) || ' ' || sum(memory_mb) || ' ' || sum(root_gb + ephemeral_gb)"
                   " FROM instances WHERE host = 'compute1' AND deleted = 0"
                   " AND project_id = 'h-proj'")
        self.assertEqual(f"{mine[0]['cpu']} {mine[0]['memory_mb']} {mine[0]['disk_gb']}", use)
        total = psql("SELECT sum(vcpus) FROM instances WHERE host = 'compute1' AND deleted = 0")
        self.assertEqual(rows[2]["cpu"], int(total))
        self.assertTrue(all(x["host"] == "compute1" for x in rows))

    def test_status_disable_keeps_new_servers_off(self):
        for h in ("compute1", "compute2"):
            r = request("PUT", f"/v2.1/os-hosts/{h}", {"status": "Disable"}, version="2.42")
            self.assertEqual(r.status, 200, r)
            self.assertEqual(r.json, {"host": h, "status": "disabled"})
            self.addCleanup(request, "PUT", f"/v2.1/os-hosts/{h}", {"status": "enable"})
        # the services stay enabled; only new instances stay away
        svc = request("GET", "/v2.1/os-services?binary=nova-compute").json["services"]
        self.assertTrue(all(s["status"] == "enabled" for s in svc))
        r = request("POST", "/v2.1/servers", {"server": {
            "name": "h-off", "imageRef": IMAGE, "flavorRef": "1"}}, token=MEMBER)
        self.assertEqual(r.status, 202, r)
        sid = r.json["server"]["id"]
        self.addCleanup(request, "DELETE", f"/v2.1/servers/{sid}")
        s = settle(sid)
        self.assertEqual(s["status"], "ERROR")
        self.assertIn("No valid host was found", s["fault"]["message"])
        r = request("PUT", "/v2.1/os-hosts/compute1", {"status": "ENABLE"})
        self.assertEqual(r.json, {"host": "compute1", "status": "enabled"})
        self.assertEqual(psql("SELECT status_disabled FROM compute_nodes WHERE host = 'compute1'"
                              " AND deleted = 0"), "f")

    def test_driver_operations_are_501(self):
        r = request("PUT", "/v2.1/os-hosts/compute1", {"maintenance_mode": "enable"})
        self.assertFault(r, 501, "notImplemented", "The requested functionality is not supported.")
        for op in ("reboot", "shutdown", "startup"):
            self.assertFault(get(f"/os-hosts/compute1/{op}"), 501, "notImplemented")

    def test_errors(self):
        self.assertFault(get("/os-hosts/nosuchhost"), 404, "itemNotFound",
                         "Host 'nosuchhost' is not mapped to any cell")
        self.assertFault(get("/os-hosts/nosuchhost/reboot"), 404, "itemNotFound")
        self.assertFault(request("PUT", "/v2.1/os-hosts/nosuchhost", {"status": "enable"}), 404,
                         "itemNotFound")
        for body in ({}, {"status": "on"}, {"status": "enable", "other": 1}):
            self.assertFault(request("PUT", "/v2.1/os-hosts/compute1", body), 400, "badRequest")
        for path in ("/os-hosts", "/os-hosts/compute1", "/os-hosts/compute1/reboot"):
            self.assertFault(get(path, token=MEMBER), 403, "forbidden")
            self.assertFault(get(path, version="2.43"), 404, "itemNotFound",
                             "The resource could not be found.")


def uuid_hosts(body):
    """The body with host names as uuids: Nova's response schema says
    format uuid for hosts_not_run (its samples' fake hosts are uuids);
    real host names are not."""
    log = dict(next(iter(body.values())))
    name = lambda h: str(uuid.uuid5(uuid.NAMESPACE_DNS, h))
    log["hosts_not_run"] = [name(h) for h in log["hosts_not_run"]]
    log["log"] = {name(h): v for h, v in log["log"].items()}
    return {next(iter(body)): log}


class UsageAuditLog(ApiTest):
    def assertLikeAuditSample(self, body, relpath):
        """The sample's shape, the log map keyed by host: every entry like
        the sample's first."""
        key = next(iter(body))
        want = sample(relpath)[key]
        entry = next(iter(want["log"].values()))
        got = dict(body[key])
        for host, e in got.pop("log").items():
            self.assertEqual(shape_diff(e, entry), [], host)
        self.assertEqual(shape_diff(got, {k: v for k, v in want.items() if k != "log"}), [])

    def tearDown(self):
        psql("DELETE FROM task_log WHERE task_name = 'instance_usage_audit'")

    def computes(self):
        return psql("SELECT DISTINCT host FROM services WHERE topic = 'compute'"
                    " AND deleted = 0 ORDER BY host").split()

    def test_index_last_month_nobody_ran(self):
        r = get("/os-instance_usage_audit_log", version="2.1")
        self.assertEqual(r.status, 200, r)
        self.assertMatchesSchema(uuid_hosts(r.json), "GET", "/os-instance_usage_audit_log", "2.1")
        self.assertLikeAuditSample(r.json, "os-instance-usage-audit-log/inst-usage-audit-log-index-get-resp.json")
        log = r.json["instance_usage_audit_logs"]
        first = time.strftime("%Y-%m-01 00:00:00", time.gmtime())
        self.assertEqual(log["period_ending"], first)
        self.assertLess(log["period_beginning"], first)
        hosts = self.computes()
        self.assertEqual(sorted(log["hosts_not_run"]), hosts)
        self.assertEqual((log["num_hosts"], log["num_hosts_done"], log["num_hosts_not_run"]),
                         (len(hosts), 0, len(hosts)))
        self.assertEqual(log["overall_status"], f"0 of {len(hosts)} hosts done. 0 errors.")
        self.assertEqual(log["log"], {})

    def test_show_before_a_date_with_task_logs(self):
        hosts = self.computes()
        psql("INSERT INTO task_log (task_name, state, host, period_beginning, period_ending,"
             " message, task_items, errors) VALUES ('instance_usage_audit', 'DONE',"
             f" '{hosts[0]}', '2012-06-01', '2012-07-01', 'ran', 3, 1)")
        r = get("/os-instance_usage_audit_log/2012-07-01%2000:00:00.5", version="2.1")
        self.assertEqual(r.status, 200, r)
        self.assertMatchesSchema(uuid_hosts(r.json), "GET", "/os-instance_usage_audit_log/{id}",
                                 "2.1")
        self.assertLikeAuditSample(r.json, "os-instance-usage-audit-log/inst-usage-audit-log-show-get-resp.json")
        log = r.json["instance_usage_audit_log"]
        self.assertEqual((log["period_beginning"], log["period_ending"]),
                         ("2012-06-01 00:00:00", "2012-07-01 00:00:00"))
        self.assertEqual(log["log"], {hosts[0]: {"state": "DONE", "instances": 3, "errors": 1,
                                                 "message": "ran"}})
        self.assertEqual((log["num_hosts_done"], log["total_instances"], log["total_errors"]),
                         (1, 3, 1))
        self.assertNotIn(hosts[0], log["hosts_not_run"])
        # exactly the start of a period: the period before it
        r = get("/os-instance_usage_audit_log/2012-07-01%2000:00:00", version="2.1")
        self.assertEqual(r.json["instance_usage_audit_log"]["period_ending"], "2012-06-01 00:00:00")

    def test_errors(self):
        for bad in ("yesterday", "2012-07-01", "2012-13-01%2000:00:00", "2012-07-01%2000:00:00.",
                    "2012-07-01%2000:00:00.1234567"):
            self.assertFault(get(f"/os-instance_usage_audit_log/{bad}", version="2.1"), 400,
                             "badRequest", "Invalid timestamp for date")
        self.assertFault(get("/os-instance_usage_audit_log", token=MEMBER), 403, "forbidden")
        self.assertFault(get("/os-instance_usage_audit_log?x=1", version="2.102"), 400, "badRequest")
        self.assertEqual(get("/os-instance_usage_audit_log?x=1", version="2.101").status, 200)


if __name__ == "__main__":
    unittest.main()
