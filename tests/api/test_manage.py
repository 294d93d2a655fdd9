"""cnova-manage against the test stack's database: db version / sync, service
list / delete (refused while a compute hosts instances, as nova-manage and
DELETE /os-services do), cell_v2 list_hosts and db archive_deleted_rows
(soft-deleted rows move to the shadow_* tables). The binary is the stack's
own (CNOVA_BIN), its config the stack's (CNOVA_RUN/cnova.conf)."""
import os, re, subprocess, unittest, uuid

from common import REPO, RUN, ApiTest, psql, request

BIN = os.environ.get("CNOVA_BIN", os.path.join(REPO, "build"))
if not os.path.isabs(BIN):
    BIN = os.path.join(REPO, BIN)


def manage(*args):
    p = subprocess.run([os.path.join(BIN, "cnova-manage"), "--config", os.path.join(RUN, "cnova.conf"),
                        *args], capture_output=True, text=True, cwd=REPO, timeout=120)
    return p.returncode, p.stdout, p.stderr


def add_service(host, binary="nova-compute"):
    u = str(uuid.uuid4())
    psql(f"INSERT INTO services (uuid, host, \"binary\", topic, last_seen_up) "
         f"VALUES ('{u}', '{host}', '{binary}', 'compute', now())")
    return int(psql(f"SELECT id FROM services WHERE uuid = '{u}'"))


def add_instance(host="nowhere", deleted=False):
    u = str(uuid.uuid4())
    psql("INSERT INTO instances (uuid, project_id, user_id, flavor, vcpus, memory_mb, root_gb,"
         f" reservation_id, host) VALUES ('{u}', 'p', 'u', '{{}}', 1, 64, 1, 'r-1', '{host}')")
    if deleted:
        psql(f"UPDATE instances SET deleted = id, deleted_at = now() WHERE uuid = '{u}'")
    return u


def rows(table_row):
    """The cells of each data row of a prettytable-like output."""
    return [[c.strip() for c in line.strip("|").split("|")]
            for line in table_row.splitlines() if line.startswith("|")][1:]


class Manage(ApiTest):
    def test_db_version_and_sync(self):
        last = sorted(f for f in os.listdir(os.path.join(REPO, "sql")) if re.match(r"^\d+_.*\.sql$", f))[-1]
        rc, out, err = manage("db", "version")
        self.assertEqual((rc, out.strip()), (0, last), err)
        rc, out, err = manage("db", "sync")
        self.assertEqual(rc, 0, err)
        self.assertIn("database is up to date (0 migrations applied)", out)

    def test_usage(self):
        rc, _, err = manage("db", "frobnicate")
        self.assertEqual(rc, 2)
        self.assertIn("usage: cnova-manage", err)
        rc, _, err = manage("db", "archive_deleted_rows", "--max_rows", "0")
        self.assertEqual(rc, 3)
        self.assertIn("max_rows", err)

    def test_service_list(self):
        rc, out, err = manage("service", "list")
        self.assertEqual(rc, 0, err)
        self.assertRegex(out.splitlines()[1], r"^\| Id +\| Binary +\| Host +\| Status +\| State ")
        listed = {(r[1], r[2]): r for r in rows(out)}
        for host in os.environ.get("CNOVA_COMPUTE_HOSTS", "compute1").split():
            self.assertIn(("nova-compute", host), listed)
            self.assertEqual(listed[("nova-compute", host)][3:5], ["enabled", "up"])
        # the same services the API lists
        api = request("GET", "/v2.1/os-services").json["services"]
        self.assertEqual({str(s["id"]) for s in api}, {r[0] for r in rows(out)})

    def test_service_delete_refused_while_hosting_instances(self):
        host = "manage-" + uuid.uuid4().hex[:8]
        sid = add_service(host)
        psql("INSERT INTO compute_nodes (uuid, host, hypervisor_hostname) "
             f"VALUES ('{uuid.uuid4()}', '{host}', '{host}')")
        inst = add_instance(host)
        rc, out, err = manage("service", "delete", str(sid))
        self.assertEqual(rc, 1, out)
        self.assertIn("hosting 1 instance", err)
        self.assertEqual(psql(f"SELECT deleted FROM services WHERE id = {sid}"), "0")
        psql(f"DELETE FROM instances WHERE uuid = '{inst}'")
        rc, out, err = manage("service", "delete", str(sid))
        self.assertEqual(rc, 0, err)
        self.assertIn(f"Deleted service {sid}", out)
        self.assertNotEqual(psql(f"SELECT deleted FROM services WHERE id = {sid}"), "0")
        self.assertEqual(psql(f"SELECT count(*) FROM compute_nodes WHERE host = '{host}' AND deleted = 0"), "0")
        self.assertNotIn(sid, [s["id"] for s in request("GET", "/v2.1/os-services").json["services"]])
        rc, _, err = manage("service", "delete", str(sid))
        self.assertEqual(rc, 1)
        self.assertIn("not found", err)

    def test_list_hosts(self):
        rc, out, err = manage("cell_v2", "list_hosts")
        self.assertEqual(rc, 0, err)
        self.assertIn("| Cell Name | Cell UUID | Hostname |", out)
        hosts = [r[2] for r in rows(out)]
        for host in os.environ.get("CNOVA_COMPUTE_HOSTS", "compute1").split():
            self.assertIn(host, hosts)

    def test_archive_deleted_rows(self):
        # Rows of this test only: deleted "in 2000", archived --before 2001,
        # so the rest of the suite's deleted rows (and the workers still
        # finishing a delete) are left alone. Two soft-deleted instances,
        # one with rows of its own, a live one, and a key pair deleted
        # through the API.
        gone, gone2, live = add_instance(deleted=True), add_instance(deleted=True), add_instance()
        psql(f"UPDATE instances SET deleted_at = '2000-01-01' WHERE uuid IN ('{gone}', '{gone2}')")
        psql(f"INSERT INTO instance_metadata VALUES ('{gone}', 'k', 'v')")
        aid = psql("INSERT INTO instance_actions (action, instance_uuid, request_id) "
                   f"VALUES ('create', '{gone}', 'req-x') RETURNING id").splitlines()[0]
        psql(f"INSERT INTO instance_actions_events (action_id, event) VALUES ({aid}, 'compute__do_build')")
        name = "mk-" + uuid.uuid4().hex[:6]
        self.assertEqual(request("POST", "/v2.1/os-keypairs", {"keypair": {"name": name}}).status, 200)
        self.assertEqual(request("DELETE", f"/v2.1/os-keypairs/{name}").status, 202)
        psql(f"UPDATE key_pairs SET deleted_at = '2000-01-01' WHERE name = '{name}'")
        count = lambda sql: int(psql(sql))
        try:
            rc, out, err = manage("db", "archive_deleted_rows", "--before", "bogus")
            self.assertEqual(rc, 3, out)
            # --max_rows 1: one deleted instance (and one row of each other table) per round
            before = count("SELECT count(*) FROM shadow_instances")
            rc, out, err = manage("db", "archive_deleted_rows", "--max_rows", "1", "--before", "2001-01-01")
            self.assertEqual(rc, 1, err)
            self.assertEqual(count("SELECT count(*) FROM shadow_instances"), before + 1)

            rc, out, err = manage("db", "archive_deleted_rows", "--verbose", "--until-complete",
                                  "--before", "2001-01-01")
            self.assertEqual(rc, 1, err)
            self.assertRegex(out, r"\| shadow_instances +\| 1 +\|")
            for table, where in (("instances", f"uuid IN ('{gone}', '{gone2}')"),
                                 ("instance_metadata", f"instance_uuid = '{gone}'"),
                                 ("instance_actions", f"id = {aid}"),
                                 ("instance_actions_events", f"action_id = {aid}"),
                                 ("key_pairs", f"name = '{name}'")):
                with self.subTest(table=table):
                    self.assertEqual(count(f"SELECT count(*) FROM {table} WHERE {where}"), 0)
                    self.assertGreater(count(f"SELECT count(*) FROM shadow_{table} WHERE {where}"), 0)
            self.assertEqual(count(f"SELECT count(*) FROM shadow_instances WHERE uuid IN ('{gone}', '{gone2}')"), 2)
            self.assertEqual(count(f"SELECT count(*) FROM instances WHERE uuid = '{live}'"), 1)

            # nothing left: exit 0 and nova-manage's sentence
            rc, out, err = manage("db", "archive_deleted_rows", "--verbose", "--before", "2001-01-01")
            self.assertEqual(rc, 0, out + err)
            self.assertIn("Nothing was archived.", out)
        finally:
            psql(f"DELETE FROM instances WHERE uuid = '{live}'")

if __name__ == "__main__":
    unittest.main()
