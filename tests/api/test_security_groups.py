"""test_security_groups.py: the built-in security groups — os-security-groups
and os-security-group-rules (2.1 … 2.35, 404 from 2.36), a server's
os-security-groups, addSecurityGroup / removeSecurityGroup, and the groups
POST /servers asks for: the "default" group each project gets on first use
(never renamed or deleted), name and rule validation with Nova's messages,
duplicate rules, groups in use, another project's group (404), and the
security_groups and security_group_rules quotas."""
import time, unittest, uuid

from common import FAKE, ApiTest, psql, request

IMAGE = "70a599e0-31e7-49b7-b260-868f441e862b"  # seeded by 007_images_seed.sql
RUN_ID = uuid.uuid4().hex[:8]
PROJECT = "sgp-" + RUN_ID
MEMBER = "sg-member:" + PROJECT
OTHER_PROJECT = "sgo-" + RUN_ID
OTHER = "sg-other:" + OTHER_PROJECT
SETTLE = 60


def sg(method, path, body=None, token=MEMBER, version="2.1"):
    return request(method, "/v2.1" + path, body, token=token, version=version)


def create(name, desc="a group", token=MEMBER):
    r = sg("POST", "/os-security-groups", {"security_group": {"name": name, "description": desc}},
           token=token)
    assert r.status == 200, r
    return r.json["security_group"]


def rule(parent, token=MEMBER, **kw):
    return sg("POST", "/os-security-group-rules",
              {"security_group_rule": dict(parent_group_id=parent, **kw)}, token=token)


def setUpModule():
    for res in ("instances", "cores", "ram"):
        psql(f"INSERT INTO quotas (project_id, resource, hard_limit) VALUES ('{PROJECT}', '{res}',"
             f" -1) ON CONFLICT (project_id, resource) DO UPDATE SET hard_limit = -1")


class SecurityGroups(ApiTest):
    def test_default_group_on_first_use(self):
        token = "sg-first:sgf-" + RUN_ID
        for _ in range(2):
            r = sg("GET", "/os-security-groups", token=token)
            self.assertEqual(r.status, 200, r)
            groups = r.json["security_groups"]
            self.assertEqual([(g["name"], g["description"], g["rules"]) for g in groups],
                             [("default", "default", [])])
            self.assertEqual(groups[0]["tenant_id"], "sgf-" + RUN_ID)
        self.assertLikeSample(r.json, "os-security-groups/security-groups-list-get-resp.json")
        self.assertMatchesSchema(r.json, "GET", "/os-security-groups", "2.1")
        r = sg("GET", f"/os-security-groups/{groups[0]['id']}", token=token)
        self.assertEqual(r.status, 200, r)
        self.assertLikeSample(r.json, "os-security-groups/security-groups-get-resp.json")
        self.assertMatchesSchema(r.json, "GET", "/os-security-groups/{id}", "2.1")

    def test_create_show_list_update_delete(self):
        g = create("web-" + RUN_ID, "web servers")
        self.assertEqual((g["name"], g["description"], g["rules"], g["tenant_id"]),
                         ("web-" + RUN_ID, "web servers", [], PROJECT))
        self.assertLikeSample({"security_group": g},
                              "os-security-groups/security-groups-create-resp.json")
        r = sg("GET", f"/os-security-groups/{g['id']}")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json["security_group"], g)
        r = sg("GET", "/os-security-groups", version="2.35")
        self.assertEqual(r.status, 200, r)
        names = [x["name"] for x in r.json["security_groups"]]
        self.assertIn("default", names)
        self.assertEqual(names, sorted(names))
        r = sg("PUT", f"/os-security-groups/{g['id']}",
               {"security_group": {"name": "www-" + RUN_ID, "description": "renamed"}})
        self.assertEqual(r.status, 200, r)
        self.assertEqual((r.json["security_group"]["name"], r.json["security_group"]["description"]),
                         ("www-" + RUN_ID, "renamed"))
        self.assertMatchesSchema(r.json, "PUT", "/os-security-groups/{id}", "2.1")
        r = sg("DELETE", f"/os-security-groups/{g['id']}")
        self.assertEqual(r.status, 202, r)
        self.assertEqual(r.data, b"")
        self.assertFault(sg("GET", f"/os-security-groups/{g['id']}"), 404, "itemNotFound",
                         f"Security group {g['id']} not found.")
        self.assertFault(sg("DELETE", f"/os-security-groups/{g['id']}"), 404, "itemNotFound")

    def test_create_validation(self):
        def post(body):
            return sg("POST", "/os-security-groups", body)
        self.assertFault(post({"security_group": {"name": "x"}}), 400, "badRequest")
        self.assertFault(post({"security_group": {"name": "x", "description": "y" * 256}}),
                         400, "badRequest")
        self.assertFault(post({"security_group": {"name": "  ", "description": "d"}}), 400,
                         "badRequest", "name has 0 characters, less than 1.")
        self.assertFault(post({"security_group": {"name": "n", "description": ""}}), 400,
                         "badRequest", "description has 0 characters, less than 1.")
        name = "dup-" + RUN_ID
        create(name)
        self.assertFault(post({"security_group": {"name": name, "description": "d"}}), 400,
                         "badRequest", f"Security group {name} already exists")

    def test_ids_and_other_projects(self):
        self.assertFault(sg("GET", "/os-security-groups/abc"), 400, "badRequest",
                         "Security group id should be uuid")
        self.assertFault(sg("PUT", "/os-security-groups/1",
                            {"security_group": {"name": "a", "description": "b"}}),
                         400, "badRequest", "Security group id should be uuid")
        self.assertFault(sg("DELETE", "/os-security-groups/1"), 400, "badRequest",
                         "Security group id should be uuid")
        self.assertFault(sg("GET", f"/os-security-groups/{FAKE}"), 404, "itemNotFound",
                         f"Security group {FAKE} not found.")
        g = create("mine-" + RUN_ID)
        for method, body in (("GET", None), ("DELETE", None),
                             ("PUT", {"security_group": {"name": "a", "description": "b"}})):
            self.assertFault(sg(method, f"/os-security-groups/{g['id']}", body, token=OTHER),
                             404, "itemNotFound", f"Security group {g['id']} not found.")
        r = sg("GET", "/os-security-groups", token=OTHER)
        self.assertNotIn(g["id"], [x["id"] for x in r.json["security_groups"]])
        # an admin sees any project's group, and every project's with all_tenants
        r = sg("GET", f"/os-security-groups/{g['id']}", token="admin:admin")
        self.assertEqual(r.status, 200, r)
        r = sg("GET", "/os-security-groups?all_tenants=1", token="admin:admin")
        self.assertIn(g["id"], [x["id"] for x in r.json["security_groups"]])
        r = sg("GET", "/os-security-groups", token="admin:admin")
        self.assertNotIn(g["id"], [x["id"] for x in r.json["security_groups"]])

    def test_default_group_is_read_only(self):
        r = sg("GET", "/os-security-groups")
        d = [g for g in r.json["security_groups"] if g["name"] == "default"][0]
        self.assertFault(sg("PUT", f"/os-security-groups/{d['id']}",
                            {"security_group": {"name": "other", "description": "x"}}),
                         400, "badRequest", "Unable to update system group 'default'")
        self.assertFault(sg("DELETE", f"/os-security-groups/{d['id']}"), 400, "badRequest",
                         "Unable to delete system group 'default'")
        a, b = create("ra-" + RUN_ID), create("rb-" + RUN_ID)
        self.assertFault(sg("PUT", f"/os-security-groups/{a['id']}",
                            {"security_group": {"name": b["name"], "description": "x"}}),
                         400, "badRequest",
                         f"Security group {b['name']} already exists for project {PROJECT}.")

    def test_paging(self):
        token = "sg-page:sgpg-" + RUN_ID
        for n in ("p1", "p2", "p3"):
            create(n, token=token)
        r = sg("GET", "/os-security-groups?limit=2", token=token)
        self.assertEqual(len(r.json["security_groups"]), 2)
        r = sg("GET", "/os-security-groups?limit=2&offset=2", token=token)
        self.assertEqual(len(r.json["security_groups"]), 2)
        self.assertFault(sg("GET", "/os-security-groups?limit=-1", token=token), 400, "badRequest")

    def test_proxy_cut_off_at_2_36(self):
        g = create("cut-" + RUN_ID)
        for method, path, body in (
                ("GET", "/os-security-groups", None),
                ("POST", "/os-security-groups", {"security_group": {"name": "z", "description": "z"}}),
                ("GET", f"/os-security-groups/{g['id']}", None),
                ("PUT", f"/os-security-groups/{g['id']}",
                 {"security_group": {"name": "z", "description": "z"}}),
                ("DELETE", f"/os-security-groups/{g['id']}", None),
                ("POST", "/os-security-group-rules",
                 {"security_group_rule": {"parent_group_id": g["id"], "ip_protocol": "tcp",
                                          "from_port": 1, "to_port": 2}}),
                ("DELETE", f"/os-security-group-rules/{FAKE}", None)):
            self.assertFault(sg(method, path, body, version="2.36"), 404, "itemNotFound")
        self.assertEqual(sg("GET", f"/os-security-groups/{g['id']}", version="2.35").status, 200)
        self.assertEqual(sg("GET", f"/os-security-groups/{g['id']}", version="2.36").status, 404)


class Rules(ApiTest):
    def test_cidr_rule(self):
        g = create("rules-" + RUN_ID)
        r = rule(g["id"], ip_protocol="tcp", from_port=22, to_port=22, cidr="10.0.0.0/24")
        self.assertEqual(r.status, 200, r)
        self.assertLikeSample(r.json, "os-security-groups/security-group-rules-post-resp.json")
        self.assertMatchesSchema(r.json, "POST", "/os-security-group-rules", "2.1")
        x = r.json["security_group_rule"]
        self.assertEqual((x["parent_group_id"], x["ip_protocol"], x["from_port"], x["to_port"],
                          x["ip_range"], x["group"]),
                         (g["id"], "tcp", 22, 22, {"cidr": "10.0.0.0/24"}, {}))
        shown = sg("GET", f"/os-security-groups/{g['id']}").json["security_group"]
        self.assertEqual(shown["rules"], [x])
        self.assertFault(rule(g["id"], ip_protocol="tcp", from_port=22, to_port=22,
                              cidr="10.0.0.0/24"),
                         400, "badRequest", f"This rule already exists in group {g['id']}")
        # without a cidr the rule is open to 0.0.0.0/0; ports may be digit strings
        r = rule(g["id"], ip_protocol="udp", from_port="53", to_port="53")
        self.assertEqual(r.status, 200, r)
        self.assertEqual((r.json["security_group_rule"]["ip_range"],
                          r.json["security_group_rule"]["from_port"]), ({"cidr": "0.0.0.0/0"}, 53))
        r = rule(g["id"], ip_protocol="icmp", from_port=-1, to_port=-1, cidr="::/0")
        self.assertEqual(r.status, 200, r)
        # delete
        rid = x["id"]
        # another project's rule is as unknown as a missing one (Neutron
        # shows nobody else's rule; its group is not named)
        self.assertFault(sg("DELETE", f"/os-security-group-rules/{rid}", token=OTHER), 404,
                         "itemNotFound", f"Rule ({rid}) not found")
        r = sg("DELETE", f"/os-security-group-rules/{rid}")
        self.assertEqual(r.status, 202, r)
        self.assertFault(sg("DELETE", f"/os-security-group-rules/{rid}"), 404, "itemNotFound",
                         f"Rule ({rid}) not found")
        self.assertFault(sg("DELETE", "/os-security-group-rules/12"), 400, "badRequest",
                         "Security group id should be uuid")
        shown = sg("GET", f"/os-security-groups/{g['id']}").json["security_group"]
        self.assertNotIn(rid, [y["id"] for y in shown["rules"]])

    def test_rule_validation(self):
        g = create("rv-" + RUN_ID)
        cases = [
            (dict(ip_protocol="foo", from_port=1, to_port=2), "Invalid IP protocol foo."),
            (dict(ip_protocol="tcp", from_port=23, to_port=22),
             "Invalid port range 23:22. Former value cannot be greater than the later"),
            (dict(ip_protocol="tcp", from_port=0, to_port=22),
             "Invalid port range 0:22. Valid TCP ports should be between 1-65535"),
            (dict(ip_protocol="UDP", from_port=1, to_port=65536),
             "Invalid port range 1:65536. Valid UDP ports should be between 1-65535"),
            (dict(ip_protocol="icmp", from_port=256, to_port=0),
             "Invalid port range 256:0. For ICMP, the type:code must be valid"),
            (dict(ip_protocol="tcp", from_port="abc", to_port=22),
             "Invalid input received: To and From ports must be integers"),
            (dict(ip_protocol="icmp", from_port="x", to_port=0),
             "Invalid input received: Type and Code must be integers for ICMP protocol type"),
            (dict(ip_protocol="tcp", from_port=22), "Not enough parameters to build a valid rule."),
            (dict(from_port=22, to_port=22), "Not enough parameters to build a valid rule."),
            (dict(ip_protocol="tcp", from_port=22, to_port=22, cidr="bogus"),
             "bogus is not a valid IP network."),
            (dict(ip_protocol="tcp", from_port=22, to_port=22, cidr="10.0.0.0"),
             "10.0.0.0 is not a valid IP network."),
            (dict(ip_protocol="tcp", from_port=22, to_port=22, cidr="10.0.0.0/33"),
             "10.0.0.0/33 is not a valid IP network."),
            (dict(ip_protocol="tcp", from_port=22, to_port=22, cidr="10.0.0.0/0"),
             "Bad prefix for network in cidr 10.0.0.0/0"),
        ]
        for body, msg in cases:
            with self.subTest(body=body):
                self.assertFault(rule(g["id"], **body), 400, "badRequest", msg)
        self.assertFault(rule("not-a-uuid", ip_protocol="tcp", from_port=1, to_port=2), 400,
                         "badRequest")
        self.assertFault(rule(FAKE, ip_protocol="tcp", from_port=1, to_port=2), 404,
                         "itemNotFound", f"Security group {FAKE} not found.")
        self.assertFault(rule(g["id"], ip_protocol="tcp", from_port=1, to_port=2, token=OTHER),
                         404, "itemNotFound", f"Security group {g['id']} not found.")
        self.assertFault(rule(g["id"], group_id=FAKE), 404, "itemNotFound")
        self.assertFault(sg("POST", "/os-security-group-rules", {"security_group_rule": {}}), 400,
                         "badRequest")

    def test_group_rules(self):
        g, src = create("gr-" + RUN_ID), create("src-" + RUN_ID)
        r = rule(g["id"], group_id=src["id"], ip_protocol="tcp")
        self.assertEqual(r.status, 200, r)
        x = r.json["security_group_rule"]
        self.assertEqual((x["from_port"], x["to_port"], x["ip_range"], x["group"]),
                         (1, 65535, {}, {"name": src["name"], "tenant_id": PROJECT}))
        self.assertMatchesSchema(r.json, "POST", "/os-security-group-rules", "2.1")
        r = rule(g["id"], group_id=src["id"], ip_protocol="icmp")
        self.assertEqual((r.json["security_group_rule"]["from_port"],
                          r.json["security_group_rule"]["to_port"]), (-1, -1))
        r = rule(g["id"], group_id=src["id"])
        self.assertEqual(r.status, 200, r)
        self.assertEqual([r.json["security_group_rule"][k] for k in
                          ("ip_protocol", "from_port", "to_port")], [None, None, None])
        self.assertFault(rule(g["id"], group_id=src["id"]), 400, "badRequest",
                         "This rule already exists")
        shown = sg("GET", f"/os-security-groups/{g['id']}").json["security_group"]
        self.assertEqual(len(shown["rules"]), 3)
        self.assertMatchesSchema({"security_group": shown}, "GET", "/os-security-groups/{id}", "2.1")
        # deleting the source group takes the rules that name it
        self.assertEqual(sg("DELETE", f"/os-security-groups/{src['id']}").status, 202)
        shown = sg("GET", f"/os-security-groups/{g['id']}").json["security_group"]
        self.assertEqual(shown["rules"], [])


class Quotas(ApiTest):
    def test_security_group_quotas(self):
        project = "sgq-" + RUN_ID
        token = "sg-quota:" + project
        sg("GET", "/os-security-groups", token=token)  # makes "default"
        r = sg("PUT", f"/os-quota-sets/{project}",
               {"quota_set": {"security_groups": 2, "security_group_rules": 1}},
               token="admin:admin", version="2.35")
        self.assertEqual(r.status, 200, r)
        g = create("q1", token=token)
        r = sg("POST", "/os-security-groups", {"security_group": {"name": "q2", "description": "d"}},
               token=token)
        self.assertFault(r, 403, "forbidden", "Quota exceeded, too many security groups.")
        self.assertEqual(rule(g["id"], token=token, ip_protocol="tcp", from_port=1,
                              to_port=1).status, 200)
        self.assertFault(rule(g["id"], token=token, ip_protocol="tcp", from_port=2, to_port=2),
                         403, "forbidden", "Quota exceeded, too many security group rules.")
        r = sg("GET", f"/os-quota-sets/{project}/detail", token="admin:admin", version="2.35")
        self.assertEqual(r.json["quota_set"]["security_groups"],
                         {"in_use": 2, "limit": 2, "reserved": 0})
        self.assertEqual(r.json["quota_set"]["security_group_rules"]["limit"], 1)
        r = sg("GET", f"/os-quota-sets/{project}", token="admin:admin", version="2.36")
        self.assertNotIn("security_groups", r.json["quota_set"])


class ServerGroups(ApiTest):
    servers = []

    @classmethod
    def boot(cls, groups=None, token=MEMBER):
        server = {"name": "sg-" + uuid.uuid4().hex[:6], "imageRef": IMAGE, "flavorRef": "1"}
        if groups is not None:
            server["security_groups"] = [{"name": n} for n in groups]
        r = request("POST", "/v2.1/servers", {"server": server}, token=token)
        if r.status == 202:
            cls.servers.append(r.json["server"]["id"])
        return r

    @classmethod
    def tearDownClass(cls):
        for sid in cls.servers:
            request("DELETE", f"/v2.1/servers/{sid}")

    def groups_of(self, sid, version="2.1"):
        r = request("GET", f"/v2.1/servers/{sid}", token=MEMBER, version=version)
        self.assertEqual(r.status, 200, r)
        return r.json["server"].get("security_groups")

    def wait_gone(self, sid):
        deadline = time.time() + SETTLE
        while request("GET", f"/v2.1/servers/{sid}").status != 404:
            self.assertLess(time.time(), deadline, f"{sid} not deleted")
            time.sleep(0.3)

    def test_create_with_groups(self):
        web = create("srv-web-" + RUN_ID)
        r = self.boot([web["name"]])
        self.assertEqual(r.status, 202, r)
        self.assertEqual(r.json["server"]["security_groups"], [{"name": web["name"]}])
        sid = r.json["server"]["id"]
        self.assertEqual(self.groups_of(sid), [{"name": web["name"]}])
        r = request("GET", f"/v2.1/servers/{sid}/os-security-groups", token=MEMBER)
        self.assertEqual(r.status, 200, r)
        self.assertEqual([g["id"] for g in r.json["security_groups"]], [web["id"]])
        self.assertLikeSample(r.json, "os-security-groups/server-security-groups-list-resp.json")
        self.assertMatchesSchema(r.json, "GET", "/servers/{server_id}/os-security-groups", "2.1")
        # the server's list is not a proxy: still there after 2.36
        r = request("GET", f"/v2.1/servers/{sid}/os-security-groups", token=MEMBER, version="2.90")
        self.assertEqual(r.status, 200, r)
        self.assertFault(request("GET", f"/v2.1/servers/{sid}/os-security-groups", token=OTHER),
                         404, "itemNotFound", f"Instance {sid} could not be found.")
        self.assertFault(request("GET", f"/v2.1/servers/{FAKE}/os-security-groups",
                                 token=MEMBER), 404, "itemNotFound")
        # a group in use cannot go
        self.assertFault(sg("DELETE", f"/os-security-groups/{web['id']}"), 400, "badRequest",
                         "Security group is still in use")
        request("DELETE", f"/v2.1/servers/{sid}")
        self.wait_gone(sid)
        self.assertEqual(sg("DELETE", f"/os-security-groups/{web['id']}").status, 202)

    def test_create_default_and_unknown(self):
        r = self.boot()
        self.assertEqual(r.status, 202, r)
        self.assertEqual(r.json["server"]["security_groups"], [{"name": "default"}])
        self.assertEqual(self.groups_of(r.json["server"]["id"]), [{"name": "default"}])
        name = "nope-" + RUN_ID
        self.assertFault(self.boot(["default", name]), 400, "badRequest",
                         f"Security group {name} not found for project {PROJECT}.")

    def test_add_and_remove(self):
        extra = create("extra-" + RUN_ID)
        r = self.boot(["default"])
        self.assertEqual(r.status, 202, r)
        sid = r.json["server"]["id"]

        def act(body, token=MEMBER, version="2.1"):
            return request("POST", f"/v2.1/servers/{sid}/action", body, token=token,
                           version=version)
        r = act({"addSecurityGroup": {"name": extra["name"]}})
        self.assertEqual(r.status, 202, r)
        self.assertEqual(r.data, b"")
        self.assertEqual(self.groups_of(sid), [{"name": "default"}, {"name": extra["name"]}])
        self.assertFault(act({"addSecurityGroup": {"name": extra["name"]}}), 400, "badRequest",
                         f"Security group {extra['id']} is already associated with the instance"
                         f" {sid}")
        r = act({"removeSecurityGroup": {"name": "default"}}, version="2.50")
        self.assertEqual(r.status, 202, r)
        self.assertEqual(self.groups_of(sid), [{"name": extra["name"]}])
        self.assertFault(act({"removeSecurityGroup": {"name": "default"}}), 400, "badRequest",
                         "is not associated with the instance")
        self.assertFault(act({"addSecurityGroup": {"name": "missing"}}), 404, "itemNotFound",
                         f"Security group missing not found for project {PROJECT}.")
        self.assertFault(act({"addSecurityGroup": {"name": "  "}}), 400, "badRequest",
                         "Security group name cannot be empty")
        self.assertFault(act({"addSecurityGroup": {}}), 400, "badRequest")
        self.assertFault(act({"addSecurityGroup": {"name": extra["name"]}}, token=OTHER), 404,
                         "itemNotFound", f"Instance {sid} could not be found.")
        self.assertFault(request("POST", f"/v2.1/servers/{FAKE}/action",
                                 {"removeSecurityGroup": {"name": "default"}}, token=MEMBER),
                         404, "itemNotFound")
        # the server's list follows, and a renamed group shows its new name
        r = request("GET", f"/v2.1/servers/{sid}/os-security-groups", token=MEMBER)
        self.assertEqual([g["name"] for g in r.json["security_groups"]], [extra["name"]])
        new = "renamed-" + RUN_ID
        sg("PUT", f"/os-security-groups/{extra['id']}",
           {"security_group": {"name": new, "description": "d"}})
        self.assertEqual(self.groups_of(sid), [{"name": new}])
        r = request("GET", "/v2.1/servers/detail", token=MEMBER)
        mine = [s for s in r.json["servers"] if s["id"] == sid][0]
        self.assertEqual(mine["security_groups"], [{"name": new}])


if __name__ == "__main__":
    unittest.main()
