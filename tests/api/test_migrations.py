"""os-migrations: rows written with psql (nothing in cnova migrates yet),
each microversion's shape (2.23 type + links, 2.59 uuid + paging +
changes-since, 2.66 changes-before, 2.80 user/project), the filters and
the errors."""
import unittest, uuid

from common import ApiTest, psql, request, sample, shape_diff


def add_migration(host_tag, status, mtype, created, updated=None, hidden=False, instance=None,
                  user="u1", project="p1"):
    u = str(uuid.uuid4())
    upd = f"'{updated}+00'" if updated else "NULL"
    mid = psql("INSERT INTO migrations (uuid, instance_uuid, source_compute, dest_compute, source_node,"
               " dest_node, dest_host, old_instance_type_id, new_instance_type_id, status, migration_type,"
               f" hidden, user_id, project_id, created_at, updated_at) VALUES ('{u}',"
               f" '{instance or uuid.uuid4()}', 'src-{host_tag}', 'dst-{host_tag}', 'n1', 'n2', '1.2.3.4',"
               f" 1, 2, '{status}', '{mtype}', {str(hidden).lower()}, '{user}', '{project}',"
               f" '{created}+00', {upd}) RETURNING id").splitlines()[0]
    return int(mid), u


class Migrations(ApiTest):
    def setUp(self):
        self.tag = uuid.uuid4().hex[:8]
        self.inst = str(uuid.uuid4())
        t = self.tag
        # oldest first: live running (links), live error, resize, hidden
        self.m1 = add_migration(t, "running", "live-migration", "2016-01-29 11:42:02", "2016-01-29 11:42:02",
                                instance=self.inst, user=f"user{t}", project=f"proj{t}")
        self.m2 = add_migration(t, "error", "live-migration", "2016-01-29 12:42:02", "2016-01-29 12:42:02",
                                instance=self.inst)
        self.m3 = add_migration(t, "migrating", "resize", "2016-06-23 14:42:02", "2016-06-23 14:42:02")
        self.m4 = add_migration(t, "done", "migration", "2016-06-24 00:00:00", hidden=True)

    def tearDown(self):
        psql(f"DELETE FROM migrations WHERE source_compute = 'src-{self.tag}'")

    def get(self, query, version=None):
        r = request("GET", f"/v2.1/os-migrations?source_compute=src-{self.tag}{query}", version=version)
        self.assertEqual(r.status, 200, r)
        return r

    def test_shapes_per_version(self):
        for v, folder in (("2.1", ""), ("2.23", "v2.23/"), ("2.59", "v2.59/"), ("2.66", "v2.66/"),
                          ("2.80", "v2.80/")):
            with self.subTest(version=v):
                r = self.get("", v)
                self.assertMatchesSchema(r.json, "GET", "/os-migrations", v)
                want = sample(f"os-migrations/{folder}migrations-get.json")
                got = r.json["migrations"]
                self.assertEqual(len(got), 3)  # the hidden one never shows
                self.assertEqual(shape_diff({"migrations": [m for m in got if "links" not in m]},
                                            {"migrations": [m for m in want["migrations"] if "links" not in m]}), [])
                live = [m for m in got if "links" in m]
                if v == "2.1":
                    self.assertEqual(live, [])
                    self.assertEqual([m["id"] for m in got], sorted(m["id"] for m in got))
                else:
                    self.assertEqual([m["id"] for m in live], [self.m1[0]])
                    self.assertTrue(live[0]["links"][0]["href"].endswith(
                        f"/v2.1/servers/{self.inst}/migrations/{self.m1[0]}"))
                if v >= "2.59":  # newest first
                    self.assertEqual([m["uuid"] for m in got], [self.m3[1], self.m2[1], self.m1[1]])
        m1 = [m for m in self.get("", "2.80").json["migrations"] if m["id"] == self.m1[0]][0]
        self.assertEqual((m1["user_id"], m1["project_id"], m1["created_at"], m1["status"]),
                         (f"user{self.tag}", f"proj{self.tag}", "2016-01-29T11:42:02.000000", "running"))

    def test_filters(self):
        ids = lambda r: sorted(m["id"] for m in r.json["migrations"])
        self.assertEqual(ids(self.get("&status=error")), [self.m2[0]])
        self.assertEqual(ids(self.get("&migration_type=resize", "2.23")), [self.m3[0]])
        self.assertEqual(ids(self.get(f"&instance_uuid={self.inst}")), sorted([self.m1[0], self.m2[0]]))
        self.assertEqual(ids(self.get("&hidden=1")), [])
        self.assertEqual(len(self.get("&hidden=0").json["migrations"]), 3)
        r = request("GET", f"/v2.1/os-migrations?host=dst-{self.tag}")
        self.assertEqual(len(r.json["migrations"]), 3)
        r = request("GET", f"/v2.1/os-migrations?host=nowhere-{self.tag}")
        self.assertEqual(r.json, {"migrations": []})
        self.assertEqual(ids(self.get(f"&user_id=user{self.tag}", "2.80")), [self.m1[0]])
        self.assertEqual(ids(self.get(f"&project_id=proj{self.tag}", "2.80")), [self.m1[0]])
        r = request("GET", f"/v2.1/os-migrations?user_id=x", version="2.79")
        self.assertEqual(r.status, 400)  # additionalProperties false from 2.59 to 2.79

    def test_changes_since_before(self):
        ids = lambda r: [m["id"] for m in r.json["migrations"]]
        self.assertEqual(ids(self.get("&changes-since=2016-06-01T00:00:00Z", "2.59")), [self.m3[0]])
        # ignored before 2.59
        self.assertEqual(len(self.get("&changes-since=2016-06-01T00:00:00Z", "2.58").json["migrations"]), 3)
        self.assertEqual(ids(self.get("&changes-before=2016-01-29T12:00:00Z", "2.66")), [self.m1[0]])
        r = request("GET", "/v2.1/os-migrations?changes-before=2016-01-29T12:00:00Z", version="2.65")
        self.assertEqual(r.status, 400)  # not in the 2.59-2.65 query schema
        r = request("GET", "/v2.1/os-migrations?changes-since=2016-06-01T00:00:00Z"
                    "&changes-before=2016-01-01T00:00:00Z", version="2.66")
        self.assertFault(r, 400, "badRequest",
                         "The value of changes-since must be less than or equal to changes-before.")

    def test_paging(self):
        # Nova pages before it drops hidden rows: the newest (hidden) one
        # fills a page of one, which then comes back empty and without links
        r = self.get("&limit=1", "2.59")
        self.assertEqual(r.json, {"migrations": []})
        r = self.get("&limit=2", "2.59")
        self.assertEqual([m["uuid"] for m in r.json["migrations"]], [self.m3[1]])
        self.assertNotIn("migrations_links", r.json)
        r = self.get(f"&limit=1&marker={self.m3[1]}", "2.59")
        self.assertEqual([m["uuid"] for m in r.json["migrations"]], [self.m2[1]])
        href = r.json["migrations_links"][0]["href"]
        self.assertIn("/v2.1/os-migrations?", href)
        self.assertIn(f"marker={self.m2[1]}", href)
        self.assertIn("limit=1", href)
        r = self.get(f"&limit=2&marker={self.m2[1]}", "2.66")
        self.assertEqual([m["uuid"] for m in r.json["migrations"]], [self.m1[1]])
        self.assertNotIn("migrations_links", r.json)
        r = self.get(f"&marker={self.m1[1]}", "2.80")
        self.assertEqual(r.json, {"migrations": []})
        missing = str(uuid.uuid4())
        r = request("GET", f"/v2.1/os-migrations?marker={missing}", version="2.59")
        self.assertFault(r, 400, "badRequest", f"Marker {missing} could not be found.")
        # before 2.59 limit means nothing
        self.assertEqual(len(self.get("&limit=1", "2.58").json["migrations"]), 3)

    def test_policy(self):
        r = request("GET", "/v2.1/os-migrations", token="bob:demo")
        self.assertFault(r, 403, "forbidden",
                         "Policy doesn't allow os_compute_api:os-migrations:index to be performed.")


if __name__ == "__main__":
    unittest.main()
