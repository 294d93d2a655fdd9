"""os-quota-sets and os-quota-class-sets: shapes per microversion against
Nova's samples and response schemas, defaults and overrides (project, user,
class), the settable range (usage, users' limits, force), policy, and
concurrent key pair creates never exceeding a user's quota."""
import concurrent.futures, os, subprocess, tempfile, unittest, uuid

from common import ApiTest, psql, request, sample

DEFAULTS = {"cores": 20, "fixed_ips": -1, "floating_ips": -1, "injected_file_content_bytes": 10240,
            "injected_file_path_bytes": 255, "injected_files": 5, "instances": 10,
            "key_pairs": 100, "metadata_items": 128, "ram": 51200, "security_group_rules": -1,
            "security_groups": -1, "server_groups": 10, "server_group_members": 10}
NETWORK = ("fixed_ips", "floating_ips", "security_group_rules", "security_groups")
INJECTED = ("injected_files", "injected_file_content_bytes", "injected_file_path_bytes")
# the sample folder and response schema version per shape
SHAPES = [("2.1", ""), ("2.35", ""), ("2.36", "v2.36/"), ("2.56", "v2.36/"), ("2.57", "v2.57/"),
          ("latest", "v2.57/")]


def fresh():
    return "p" + uuid.uuid4().hex[:12]


def expected(version, values=DEFAULTS):
    v = (2, 999) if version == "latest" else tuple(int(x) for x in version.split("."))
    hide = (NETWORK if v >= (2, 36) else ()) + (INJECTED if v >= (2, 57) else ())
    return {k: n for k, n in values.items() if k not in hide}


def schema_version(version):
    return "2.104" if version == "latest" else version


class QuotaSetsShow(ApiTest):
    def test_show_each_shape(self):
        p = fresh()
        for version, folder in SHAPES:
            r = request("GET", f"/v2.1/os-quota-sets/{p}", version=version)
            self.assertEqual(r.status, 200, r)
            self.assertLikeSample(r.json, f"os-quota-sets/{folder}quotas-show-get-resp.json")
            self.assertMatchesSchema(r.json, "GET", "/os-quota-sets/{id}", schema_version(version))
            self.assertEqual(r.json["quota_set"], dict(expected(version), id=p), version)

    def test_show_with_project_prefix_and_v2(self):
        p = fresh()
        r = request("GET", f"/v2.1/{p}/os-quota-sets/{p}")
        self.assertEqual(r.json["quota_set"]["id"], p)
        r = request("GET", f"/v2/{p}/os-quota-sets/{p}")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json["quota_set"], dict(DEFAULTS, id=p))

    def test_user_show(self):
        p = fresh()
        for version, folder in SHAPES:
            r = request("GET", f"/v2.1/os-quota-sets/{p}?user_id=u1", version=version)
            self.assertEqual(r.status, 200, r)
            self.assertMatchesSchema(r.json, "GET", "/os-quota-sets/{id}", schema_version(version))
            self.assertEqual(r.json["quota_set"], dict(expected(version), id=p))
        self.assertLikeSample(request("GET", f"/v2.1/os-quota-sets/{p}?user_id=u1").json,
                              "os-quota-sets/user-quotas-show-get-resp.json")

    def test_detail_each_shape(self):
        p = fresh()
        for version, folder in SHAPES:
            r = request("GET", f"/v2.1/os-quota-sets/{p}/detail", version=version)
            self.assertEqual(r.status, 200, r)
            self.assertLikeSample(r.json, f"os-quota-sets/{folder}quotas-show-detail-get-resp.json")
            self.assertMatchesSchema(r.json, "GET", "/os-quota-sets/{id}/detail",
                                     schema_version(version))
            want = {k: {"in_use": 0, "limit": v, "reserved": 0} for k, v in expected(version).items()}
            self.assertEqual(r.json["quota_set"], dict(want, id=p))

    def test_detail_counts_server_groups(self):
        p = fresh()
        for user in ("u1", "u1", "u2"):
            psql("INSERT INTO server_groups (uuid, name, project_id, user_id, policy)"
                 f" VALUES (gen_random_uuid(), 'g', '{p}', '{user}', 'affinity')")
        r = request("GET", f"/v2.1/os-quota-sets/{p}/detail")
        self.assertEqual(r.json["quota_set"]["server_groups"], {"in_use": 3, "limit": 10, "reserved": 0})
        r = request("GET", f"/v2.1/os-quota-sets/{p}/detail?user_id=u1")
        self.assertEqual(r.json["quota_set"]["server_groups"]["in_use"], 2)
        r = request("GET", "/v2.1/limits?tenant_id=" + p)
        self.assertEqual(r.json["limits"]["absolute"]["totalServerGroupsUsed"], 3)

    def test_defaults_each_shape(self):
        p = fresh()
        request("PUT", f"/v2.1/os-quota-sets/{p}", {"quota_set": {"cores": 3}})
        for version, folder in SHAPES:
            r = request("GET", f"/v2.1/os-quota-sets/{p}/defaults", version=version)
            self.assertEqual(r.status, 200, r)
            self.assertLikeSample(r.json, f"os-quota-sets/{folder}quotas-show-defaults-get-resp.json")
            self.assertMatchesSchema(r.json, "GET", "/os-quota-sets/{id}/defaults",
                                     schema_version(version))
            self.assertEqual(r.json["quota_set"], dict(expected(version), id=p))

    def test_member_reads_own_project_only(self):
        p = fresh()
        tok = f"someone:{p}"
        self.assertEqual(request("GET", f"/v2.1/os-quota-sets/{p}", token=tok).status, 200)
        self.assertEqual(request("GET", f"/v2.1/os-quota-sets/{p}/detail", token=tok).status, 200)
        for path in (f"/v2.1/os-quota-sets/{fresh()}", f"/v2.1/os-quota-sets/{fresh()}/detail"):
            r = request("GET", path, token=tok)
            self.assertFault(r, 403, "forbidden", "Policy doesn't allow os_compute_api:os-quota-sets:")
        # defaults: anyone, any project
        self.assertEqual(request("GET", f"/v2.1/os-quota-sets/{fresh()}/defaults", token=tok).status, 200)

    def test_member_cannot_write(self):
        p = fresh()
        tok = f"someone:{p}"
        r = request("PUT", f"/v2.1/os-quota-sets/{p}", {"quota_set": {"cores": 1}}, token=tok)
        self.assertFault(r, 403, "forbidden",
                         "Policy doesn't allow os_compute_api:os-quota-sets:update to be performed.")
        r = request("DELETE", f"/v2.1/os-quota-sets/{p}", token=tok)
        self.assertFault(r, 403, "forbidden",
                         "Policy doesn't allow os_compute_api:os-quota-sets:delete to be performed.")

    def test_unknown_query_rejected_from_275(self):
        p = fresh()
        self.assertEqual(request("GET", f"/v2.1/os-quota-sets/{p}?foo=1", version="2.74").status, 200)
        self.assertFault(request("GET", f"/v2.1/os-quota-sets/{p}?foo=1", version="2.75"),
                         400, "badRequest")


class QuotaSetsUpdate(ApiTest):
    def put(self, p, body, query="", version=None, status=200):
        r = request("PUT", f"/v2.1/os-quota-sets/{p}{query}", {"quota_set": body}, version=version)
        self.assertEqual(r.status, status, r)
        return r

    def test_update_each_shape(self):
        for version, folder in SHAPES:
            p = fresh()
            body = sample(f"os-quota-sets/{folder}quotas-update-post-req.json")
            r = request("PUT", f"/v2.1/os-quota-sets/{p}", body, version=version)
            self.assertEqual(r.status, 200, r)
            self.assertLikeSample(r.json, f"os-quota-sets/{folder}quotas-update-post-resp.json")
            self.assertMatchesSchema(r.json, "PUT", "/os-quota-sets/{id}", schema_version(version))
            self.assertNotIn("id", r.json["quota_set"])
            self.assertEqual(r.json["quota_set"], expected(version, dict(DEFAULTS, **body["quota_set"])))
            for k, v in body["quota_set"].items():
                self.assertEqual(request("GET", f"/v2.1/os-quota-sets/{p}").json["quota_set"][k], v)

    def test_force_update(self):
        p = fresh()
        body = sample("os-quota-sets/quotas-update-force-post-req.json")
        r = request("PUT", f"/v2.1/os-quota-sets/{p}", body)
        self.assertLikeSample(r.json, "os-quota-sets/quotas-update-force-post-resp.json")
        self.assertEqual(r.json["quota_set"]["instances"], 45)

    def test_user_update(self):
        p = fresh()
        for version, folder in [("2.1", ""), ("2.36", "v2.36/")]:
            body = sample(f"os-quota-sets/{folder}user-quotas-update-post-req.json")
            r = request("PUT", f"/v2.1/os-quota-sets/{p}?user_id=u1", body, version=version)
            self.assertEqual(r.status, 200, r)
            self.assertLikeSample(r.json, f"os-quota-sets/{folder}user-quotas-update-post-resp.json")
            self.assertMatchesSchema(r.json, "PUT", "/os-quota-sets/{id}", version)
        self.assertEqual(request("GET", f"/v2.1/os-quota-sets/{p}?user_id=u1").json["quota_set"]["instances"], 9)
        self.assertEqual(request("GET", f"/v2.1/os-quota-sets/{p}?user_id=u2").json["quota_set"]["instances"], 10)
        self.assertEqual(request("GET", f"/v2.1/os-quota-sets/{p}").json["quota_set"]["instances"], 10)

    def test_values_as_strings_and_unlimited(self):
        p = fresh()
        r = self.put(p, {"ram": "1024", "cores": -1, "key_pairs": "-1", "force": False})
        self.assertEqual((r.json["quota_set"]["ram"], r.json["quota_set"]["cores"],
                          r.json["quota_set"]["key_pairs"]), (1024, -1, -1))

    def test_network_quotas_settable_before_236_only(self):
        p = fresh()
        r = self.put(p, {"floating_ips": 5}, version="2.35")
        self.assertEqual(r.json["quota_set"]["floating_ips"], 5)
        r = request("PUT", f"/v2.1/os-quota-sets/{p}", {"quota_set": {"floating_ips": 5}}, version="2.36")
        self.assertFault(r, 400, "badRequest", "Additional properties are not allowed")
        r = request("PUT", f"/v2.1/os-quota-sets/{p}", {"quota_set": {"injected_files": 5}}, version="2.57")
        self.assertFault(r, 400, "badRequest", "Additional properties are not allowed")

    def test_bad_values(self):
        p = fresh()
        for body in ({"quota_set": {"cores": -2}}, {"quota_set": {"cores": "abc"}},
                     {"quota_set": {"cores": 2147483648}}, {"quota_set": {"bogus": 1}},
                     {"quota_set": {"cores": 1.5}}, {"quota_set": {"force": "maybe"}},
                     {"quota_set": {"cores": None}}):
            r = request("PUT", f"/v2.1/os-quota-sets/{p}", body)
            self.assertFault(r, 400, "badRequest", "Invalid input for field/attribute")
        for body in ({"cores": 1}, {}):
            r = request("PUT", f"/v2.1/os-quota-sets/{p}", body)
            self.assertFault(r, 400, "badRequest", "'quota_set' is a required property")
        self.assertEqual(request("GET", f"/v2.1/os-quota-sets/{p}").json["quota_set"], dict(DEFAULTS, id=p))

    def test_below_usage_needs_force(self):
        p = fresh()
        for _ in range(3):
            psql("INSERT INTO server_groups (uuid, name, project_id, user_id, policy)"
                 f" VALUES (gen_random_uuid(), 'g', '{p}', 'u1', 'affinity')")
        r = request("PUT", f"/v2.1/os-quota-sets/{p}", {"quota_set": {"server_groups": 2}})
        self.assertFault(r, 400, "badRequest",
                         "Quota limit 2 for server_groups must be greater than or equal to "
                         "already used and reserved 3.")
        self.assertEqual(request("GET", f"/v2.1/os-quota-sets/{p}").json["quota_set"]["server_groups"], 10)
        self.put(p, {"server_groups": 3})
        r = self.put(p, {"server_groups": 1, "force": "True"})
        self.assertEqual(r.json["quota_set"]["server_groups"], 1)
        # and the user's own usage bounds the user's limit
        r = request("PUT", f"/v2.1/os-quota-sets/{p}?user_id=u1", {"quota_set": {"server_groups": 2}})
        self.assertFault(r, 400, "badRequest", "must be greater than or equal to already used and reserved 3.")
        self.put(p, {"server_groups": 2, "force": True}, query="?user_id=u1")

    def test_user_limit_within_project(self):
        p = fresh()
        self.put(p, {"key_pairs": 10})
        self.put(p, {"key_pairs": 6}, query="?user_id=u1")
        r = request("PUT", f"/v2.1/os-quota-sets/{p}?user_id=u2", {"quota_set": {"key_pairs": 5}})
        self.assertFault(r, 400, "badRequest",
                         "Quota limit 5 for key_pairs must be less than or equal to 4.")
        r = request("PUT", f"/v2.1/os-quota-sets/{p}?user_id=u2", {"quota_set": {"key_pairs": -1}})
        self.assertFault(r, 400, "badRequest", "must be less than or equal to 4.")
        self.put(p, {"key_pairs": 4}, query="?user_id=u2")
        # u1 may grow to what the project leaves plus its own
        r = request("PUT", f"/v2.1/os-quota-sets/{p}?user_id=u1", {"quota_set": {"key_pairs": 7}})
        self.assertFault(r, 400, "badRequest", "must be less than or equal to 6.")
        # the project cannot drop below its users' sum
        r = request("PUT", f"/v2.1/os-quota-sets/{p}", {"quota_set": {"key_pairs": 9}})
        self.assertFault(r, 400, "badRequest",
                         "Quota limit 9 for key_pairs must be greater than or equal to already "
                         "used and reserved 10.")
        self.put(p, {"key_pairs": 9, "force": "yes"})
        # an unlimited project leaves users unbounded
        self.put(p, {"key_pairs": -1})
        self.put(p, {"key_pairs": 1000}, query="?user_id=u1")

    def test_delete_reverts(self):
        p = fresh()
        self.put(p, {"cores": 5, "ram": 100})
        self.put(p, {"cores": 2}, query="?user_id=u1")
        self.put(p, {"cores": 3}, query="?user_id=u2")
        r = request("DELETE", f"/v2.1/os-quota-sets/{p}?user_id=u1")
        self.assertEqual((r.status, r.data), (202, b""))
        self.assertEqual(request("GET", f"/v2.1/os-quota-sets/{p}?user_id=u1").json["quota_set"]["cores"], 5)
        self.assertEqual(request("GET", f"/v2.1/os-quota-sets/{p}?user_id=u2").json["quota_set"]["cores"], 3)
        r = request("DELETE", f"/v2.1/os-quota-sets/{p}")
        self.assertEqual(r.status, 202)
        self.assertEqual(request("GET", f"/v2.1/os-quota-sets/{p}").json["quota_set"], dict(DEFAULTS, id=p))
        self.assertEqual(request("GET", f"/v2.1/os-quota-sets/{p}?user_id=u2").json["quota_set"]["cores"], 20)
        # deleting what was never set is fine too
        self.assertEqual(request("DELETE", f"/v2.1/os-quota-sets/{fresh()}").status, 202)


class QuotaClassSets(ApiTest):
    SHAPES = [("2.1", ""), ("2.49", ""), ("2.50", "v2.50/"), ("2.56", "v2.50/"), ("2.57", "v2.57/"),
              ("latest", "v2.57/")]

    def tearDown(self):
        psql("DELETE FROM quota_classes WHERE class_name = 'default'")

    def test_show_default_each_shape(self):
        for version, folder in self.SHAPES:
            r = request("GET", "/v2.1/os-quota-class-sets/default", version=version)
            self.assertEqual(r.status, 200, r)
            self.assertEqual(r.json, sample(f"os-quota-class-sets/{folder}quota-classes-show-get-resp.json"))
            self.assertMatchesSchema(r.json, "GET", "/os-quota-class-sets/{id}", schema_version(version))

    def test_update_each_shape(self):
        for version, folder in self.SHAPES:
            cls = "c" + uuid.uuid4().hex[:8]
            body = sample(f"os-quota-class-sets/{folder}quota-classes-update-post-req.json")
            r = request("PUT", f"/v2.1/os-quota-class-sets/{cls}", body, version=version)
            self.assertEqual(r.status, 200, r)
            self.assertEqual(r.json, sample(f"os-quota-class-sets/{folder}quota-classes-update-post-resp.json"))
            self.assertMatchesSchema(r.json, "PUT", "/os-quota-class-sets/{id}", schema_version(version))
            r = request("GET", f"/v2.1/os-quota-class-sets/{cls}", version=version)
            self.assertEqual((r.json["quota_class_set"]["id"], r.json["quota_class_set"]["cores"]), (cls, 50))

    def test_default_class_is_every_projects_default(self):
        p = fresh()
        r = request("PUT", "/v2.1/os-quota-class-sets/default", {"quota_class_set": {"cores": "33"}})
        self.assertEqual(r.json["quota_class_set"]["cores"], 33)
        self.assertEqual(request("GET", f"/v2.1/os-quota-sets/{p}").json["quota_set"]["cores"], 33)
        self.assertEqual(request("GET", f"/v2.1/os-quota-sets/{p}/defaults").json["quota_set"]["cores"], 33)
        self.assertEqual(request("GET", f"/v2.1/limits?tenant_id={p}").json["limits"]["absolute"]["maxTotalCores"], 33)
        # another class does not inherit from "default"
        self.assertEqual(request("GET", "/v2.1/os-quota-class-sets/other").json["quota_class_set"]["cores"], 20)

    def test_errors(self):
        r = request("GET", "/v2.1/os-quota-class-sets/default", token="someone:p")
        self.assertFault(r, 403, "forbidden",
                         "Policy doesn't allow os_compute_api:os-quota-class-sets:show to be performed.")
        r = request("PUT", "/v2.1/os-quota-class-sets/default", {"quota_class_set": {"cores": 1}}, token="someone:p")
        self.assertFault(r, 403, "forbidden", "os-quota-class-sets:update")
        r = request("PUT", "/v2.1/os-quota-class-sets/" + "x" * 256, {"quota_class_set": {"cores": 1}})
        self.assertFault(r, 400, "badRequest", "quota_class_name has 256 characters, more than 255.")
        for body in ({"quota_class_set": {"cores": -2}}, {"quota_class_set": {"networks": 1}},
                     {"quota_class_set": {"cores": "x"}}, {"quota_class_set": {"force": True}}):
            r = request("PUT", "/v2.1/os-quota-class-sets/c1", body, version="2.1")
            self.assertFault(r, 400, "badRequest", "Invalid input for field/attribute")
        r = request("PUT", "/v2.1/os-quota-class-sets/c1", {"quota_class_set": {"fixed_ips": 1}}, version="2.50")
        self.assertFault(r, 400, "badRequest")


def public_key():
    d = tempfile.mkdtemp()
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", os.path.join(d, "k")], check=True)
    with open(os.path.join(d, "k.pub")) as f:
        return f.read().strip()


class KeyPairQuotaUnderConcurrency(ApiTest):
    def test_fifty_parallel_creates_ten_allowed(self):
        p, user = fresh(), "u" + uuid.uuid4().hex[:8]
        tok = f"{user}:{p}"
        probe = request("POST", "/v2.1/os-keypairs", {"keypair": {}}, token=tok)
        if probe.status == 501:
            self.skipTest("POST /os-keypairs is not built yet (501)")
        r = request("PUT", f"/v2.1/os-quota-sets/{p}?user_id={user}", {"quota_set": {"key_pairs": 10}})
        self.assertEqual(r.status, 200, r)
        key = public_key()

        def create(i):
            return request("POST", "/v2.1/os-keypairs",
                           {"keypair": {"name": f"k{i}", "public_key": key}}, token=tok)

        with concurrent.futures.ThreadPoolExecutor(50) as pool:
            answers = list(pool.map(create, range(50)))
        statuses = sorted(a.status for a in answers)
        self.assertEqual(statuses.count(200) + statuses.count(201), 10, statuses)
        over = [a for a in answers if a.status == 403]
        self.assertEqual(len(over), 40, statuses)
        for a in over:
            self.assertFault(a, 403, "forbidden", "Quota exceeded, too many key pairs.")
        self.assertEqual(psql(f"SELECT count(*) FROM key_pairs WHERE user_id = '{user}' AND deleted = 0"), "10")
        # the user's key pairs are checked but, as in Nova, shown as 0 in use
        r = request("GET", f"/v2.1/os-quota-sets/{p}/detail?user_id={user}")
        self.assertEqual(r.json["quota_set"]["key_pairs"], {"in_use": 0, "limit": 10, "reserved": 0})


if __name__ == "__main__":
    unittest.main()
