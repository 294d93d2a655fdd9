"""os-server-groups: create, list, show and delete at every microversion
where the shape changes (2.1, 2.13, 2.15, 2.64, latest), compared with
Nova's samples field by field and with Nova's response schemas; policy
validation, rules, quota, pagination, and other projects' groups (404)."""
import unittest, uuid

from common import ApiTest, FAKE, psql, request, sample

SAMPLES = {"2.1": "os-server-groups/", "2.13": "os-server-groups/v2.13/",
           "2.15": "os-server-groups/v2.13/", "2.64": "os-server-groups/v2.64/",
           "latest": "os-server-groups/v2.64/"}


def schema_version(v):
    return "2.104" if v == "latest" else v


def new_project():
    return "sg" + uuid.uuid4().hex[:10]


class ServerGroups(ApiTest):
    def setUp(self):
        self.project = new_project()
        self.token = f"u{self.project}:{self.project}"

    def tearDown(self):
        psql(f"DELETE FROM quotas WHERE project_id = '{self.project}'")

    def create(self, version="2.1", token=None, **group):
        if "policy" not in group and "policies" not in group:
            group.update({"policy": "anti-affinity", "rules": {"max_server_per_host": 3}}
                         if version in ("2.64", "latest") else {"policies": ["anti-affinity"]})
        group.setdefault("name", "test")
        return request("POST", "/v2.1/os-server-groups", {"server_group": group},
                       token=token or self.token, version=version)

    def check(self, r, v, kind, status=200):
        self.assertEqual(r.status, status, r)
        files = {"post": "server-groups-post-resp.json", "get": "server-groups-get-resp.json",
                 "list": "server-groups-list-resp.json"}
        self.assertLikeSample(r.json, SAMPLES[v] + files[kind])
        path = "/os-server-groups" if kind == "list" else "/os-server-groups/{id}"
        self.assertMatchesSchema(r.json, "POST" if kind == "post" else "GET",
                                 "/os-server-groups" if kind == "post" else path, schema_version(v))

    # ---- every route, every version that changes the shape ----

    def test_create_show_list_delete_each_version(self):
        for v in SAMPLES:
            with self.subTest(version=v):
                r = self.create(v)
                self.check(r, v, "post")
                g = r.json["server_group"]
                self.assertEqual((g["name"], g["members"]), ("test", []))
                if v in ("2.64", "latest"):
                    self.assertEqual((g["policy"], g["rules"]),
                                     ("anti-affinity", {"max_server_per_host": 3}))
                else:
                    self.assertEqual((g["policies"], g["metadata"]), (["anti-affinity"], {}))
                if v != "2.1":
                    self.assertEqual((g["project_id"], g["user_id"]),
                                     (self.project, "u" + self.project))
                got = request("GET", f"/v2.1/os-server-groups/{g['id']}", token=self.token, version=v)
                self.check(got, v, "get")
                self.assertEqual(got.json["server_group"], g)
                lst = request("GET", "/v2.1/os-server-groups", token=self.token, version=v)
                self.check(lst, v, "list")
                self.assertEqual(lst.json["server_groups"], [g])
                d = request("DELETE", f"/v2.1/os-server-groups/{g['id']}", token=self.token, version=v)
                self.assertEqual((d.status, d.data), (204, b""), d)
                self.assertFault(request("GET", f"/v2.1/os-server-groups/{g['id']}", token=self.token),
                                 404, "itemNotFound")

    def test_the_sample_request_bodies(self):
        for v in SAMPLES:
            with self.subTest(version=v):
                body = sample(SAMPLES[v] + "server-groups-post-req.json")
                r = request("POST", "/v2.1/os-server-groups", body, token=self.token, version=v)
                self.check(r, v, "post")
                if v in ("2.64", "latest"):
                    self.assertEqual(r.json["server_group"]["rules"], {"max_server_per_host": 3})

    def test_2_13_shape_holds_until_2_63(self):
        r = self.create("2.63")
        self.check(r, "2.15", "post")
        self.assertMatchesSchema(r.json, "POST", "/os-server-groups", "2.63")

    # ---- policies ----

    def test_every_policy(self):
        for v, policies in (("2.1", ["affinity", "anti-affinity"]),
                            ("2.15", ["affinity", "anti-affinity", "soft-affinity", "soft-anti-affinity"])):
            for p in policies:
                with self.subTest(version=v, policy=p):
                    r = self.create(v, policies=[p])
                    self.assertEqual(r.status, 200, r)
                    self.assertEqual(r.json["server_group"]["policies"], [p])
        for p in ("affinity", "anti-affinity", "soft-affinity", "soft-anti-affinity"):
            r = self.create("2.64", policy=p)
            self.assertEqual(r.json["server_group"]["policy"], p)
            got = request("GET", f"/v2.1/os-server-groups/{r.json['server_group']['id']}",
                          token=self.token, version="2.1")
            self.assertEqual(got.json["server_group"]["policies"], [p])

    def test_soft_policies_need_2_15(self):
        r = self.create("2.14", policies=["soft-affinity"])
        self.assertFault(r, 400, "badRequest", "Invalid input for field/attribute")

    def test_bad_policies(self):
        for v, group in (("2.1", {"policies": ["nope"]}),
                         ("2.1", {"policies": []}),
                         ("2.1", {"policies": ["affinity", "anti-affinity"]}),
                         ("2.1", {"policies": ["affinity", "affinity"]}),
                         ("2.1", {}),
                         ("2.1", {"policies": "affinity"}),
                         ("2.1", {"policy": "affinity"}),
                         ("2.63", {"policy": "affinity"}),
                         ("2.64", {"policies": ["affinity"]}),
                         ("2.64", {"policy": "nope"}),
                         ("2.64", {"policy": "anti-affinity", "rules": {"max_server_per_host": 0}}),
                         ("2.64", {"policy": "anti-affinity", "rules": {"other": 1}}),
                         ("2.64", {"policy": "anti-affinity", "rules": {"max_server_per_host": "x"}})):
            with self.subTest(version=v, group=group):
                group = dict(group, name="test")
                r = request("POST", "/v2.1/os-server-groups", {"server_group": group},
                            token=self.token, version=v)
                self.assertFault(r, 400, "badRequest")

    def test_bad_names(self):
        for name in ("", " lead", "x" * 256, 5):
            r = request("POST", "/v2.1/os-server-groups",
                        {"server_group": {"name": name, "policies": ["affinity"]}}, token=self.token)
            self.assertFault(r, 400, "badRequest")
        r = request("POST", "/v2.1/os-server-groups", {"server_group": {"policies": ["affinity"]}},
                    token=self.token)
        self.assertFault(r, 400, "badRequest", "'name' is a required property")

    def test_rules_only_with_anti_affinity(self):
        for p in ("affinity", "soft-affinity", "soft-anti-affinity"):
            r = self.create("2.64", policy=p, rules={"max_server_per_host": 2})
            self.assertFault(r, 400, "badRequest", "Only anti-affinity policy supports rules.")
        r = self.create("2.64", policy="affinity", rules={})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json["server_group"]["rules"], {})

    def test_rules_as_string_shown_as_integer(self):
        r = self.create("latest", policy="anti-affinity", rules={"max_server_per_host": "5"})
        self.assertEqual(r.json["server_group"]["rules"], {"max_server_per_host": 5})
        got = request("GET", f"/v2.1/os-server-groups/{r.json['server_group']['id']}",
                      token=self.token, version="2.64")
        self.assertEqual(got.json["server_group"]["rules"], {"max_server_per_host": 5})

    # ---- who sees what ----

    def test_other_projects_group_is_404(self):
        g = self.create().json["server_group"]
        other = new_project()
        tok = f"x:{other}"
        msg = f"Instance group {g['id']} could not be found."
        self.assertFault(request("GET", f"/v2.1/os-server-groups/{g['id']}", token=tok),
                         404, "itemNotFound", msg)
        self.assertFault(request("DELETE", f"/v2.1/os-server-groups/{g['id']}", token=tok),
                         404, "itemNotFound", msg)
        self.assertEqual(request("GET", "/v2.1/os-server-groups", token=tok).json,
                         {"server_groups": []})
        # still there for its owner
        self.assertEqual(request("GET", f"/v2.1/os-server-groups/{g['id']}", token=self.token).status, 200)

    def test_admin_sees_and_deletes_any_group(self):
        g = self.create().json["server_group"]
        r = request("GET", f"/v2.1/os-server-groups/{g['id']}", version="2.13")
        self.assertEqual(r.json["server_group"]["project_id"], self.project)
        self.assertEqual(request("DELETE", f"/v2.1/os-server-groups/{g['id']}").status, 204)

    def test_all_projects(self):
        mine = self.create().json["server_group"]["id"]
        other = self.create(token="someone:" + new_project()).json["server_group"]["id"]
        ids = lambda r: {g["id"] for g in r.json["server_groups"]}
        admin_all = request("GET", "/v2.1/os-server-groups?all_projects=True")
        self.assertTrue({mine, other} <= ids(admin_all))
        # Nova: any value of all_projects, for an admin
        self.assertTrue({mine, other} <= ids(request("GET", "/v2.1/os-server-groups?all_projects=False")))
        self.assertFalse({mine, other} & ids(request("GET", "/v2.1/os-server-groups")))
        # a non-admin gets their own project's groups, no error
        r = request("GET", "/v2.1/os-server-groups?all_projects=True", token=self.token)
        self.assertEqual(ids(r), {mine})
        request("DELETE", f"/v2.1/os-server-groups/{other}")

    def test_limit_and_offset(self):
        made = [self.create(name=f"g{i}").json["server_group"]["id"] for i in range(5)]
        get = lambda q: [g["id"] for g in request("GET", "/v2.1/os-server-groups" + q,
                                                   token=self.token).json["server_groups"]]
        self.assertEqual(get(""), made)
        self.assertEqual(get("?limit=2"), made[:2])
        self.assertEqual(get("?limit=2&offset=2"), made[2:4])
        self.assertEqual(get("?offset=4"), made[4:])
        self.assertEqual(get("?offset=9"), [])
        self.assertEqual(get("?limit=0"), made)
        for q in ("?limit=-1", "?limit=x", "?offset=-1", "?offset=", "?limit="):
            with self.subTest(query=q):
                r = request("GET", "/v2.1/os-server-groups" + q, token=self.token)
                self.assertFault(r, 400, "badRequest", "Invalid input for query parameters")

    def test_unknown_query_parameter(self):
        self.assertEqual(request("GET", "/v2.1/os-server-groups?x=1", token=self.token,
                                 version="2.74").status, 200)
        self.assertFault(request("GET", "/v2.1/os-server-groups?x=1", token=self.token,
                                 version="2.75"), 400, "badRequest")

    def test_members_are_listed(self):
        g = self.create(version="2.13").json["server_group"]
        inst = str(uuid.uuid4())
        psql(f"INSERT INTO server_group_members (group_uuid, instance_uuid) VALUES ('{g['id']}', '{inst}')")
        r = request("GET", f"/v2.1/os-server-groups/{g['id']}", token=self.token, version="2.13")
        self.assertEqual(r.json["server_group"]["members"], [inst])
        self.check(r, "2.13", "get")
        request("DELETE", f"/v2.1/os-server-groups/{g['id']}", token=self.token)
        self.assertEqual(psql(f"SELECT count(*) FROM server_group_members WHERE group_uuid = '{g['id']}'"
                              " AND deleted = 0"), "0")

    # ---- 404s ----

    def test_not_found(self):
        for gid in (FAKE, "not-a-uuid", str(uuid.uuid4()).upper()):
            msg = f"Instance group {gid} could not be found."
            self.assertFault(request("GET", f"/v2.1/os-server-groups/{gid}", token=self.token),
                             404, "itemNotFound", msg)
            self.assertFault(request("DELETE", f"/v2.1/os-server-groups/{gid}", token=self.token),
                             404, "itemNotFound", msg)

    def test_delete_twice(self):
        g = self.create().json["server_group"]
        self.assertEqual(request("DELETE", f"/v2.1/os-server-groups/{g['id']}", token=self.token).status, 204)
        self.assertFault(request("DELETE", f"/v2.1/os-server-groups/{g['id']}", token=self.token),
                         404, "itemNotFound")

    # ---- quota ----

    def test_quota(self):
        psql(f"INSERT INTO quotas (project_id, resource, hard_limit) VALUES ('{self.project}', 'server_groups', 2)")
        self.assertEqual(self.create().status, 200)
        self.assertEqual(self.create().status, 200)
        r = self.create()
        self.assertFault(r, 403, "forbidden", "Quota exceeded, too many server groups.")
        # Nova checks the quota before the rules
        r = self.create("2.64", policy="affinity", rules={"max_server_per_host": 2})
        self.assertFault(r, 403, "forbidden")
        # deleting one frees its place
        gid = request("GET", "/v2.1/os-server-groups", token=self.token).json["server_groups"][0]["id"]
        request("DELETE", f"/v2.1/os-server-groups/{gid}", token=self.token)
        self.assertEqual(self.create().status, 200)

    def test_quota_zero(self):
        psql(f"INSERT INTO quotas (project_id, resource, hard_limit) VALUES ('{self.project}', 'server_groups', 0)")
        self.assertFault(self.create(), 403, "forbidden", "Quota exceeded, too many server groups.")


if __name__ == "__main__":
    unittest.main()
