"""GET /limits: absolute limits and usage per microversion against Nova's
samples and response schemas, quota overrides showing through, and
?tenant_id (admins only)."""
import unittest, uuid

from common import ApiTest, psql, request, sample

SHAPES = [("2.1", ""), ("2.35", ""), ("2.36", "v2.36/"), ("2.38", "v2.36/"), ("2.39", "v2.39/"),
          ("2.56", "v2.39/"), ("2.57", "v2.57/"), ("latest", "v2.57/")]


class Limits(ApiTest):
    def test_each_shape(self):
        p = "p" + uuid.uuid4().hex[:12]
        for version, folder in SHAPES:
            r = request("GET", "/v2.1/limits", token=f"someone:{p}", version=version)
            self.assertEqual(r.status, 200, r)
            self.assertEqual(r.json, sample(f"limits/{folder}limit-get-resp.json"), version)
            self.assertMatchesSchema(r.json, "GET", "/limits", "2.104" if version == "latest" else version)

    def test_v2_legacy(self):
        r = request("GET", "/v2/limits", token="someone:p")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json, sample("limits/limit-get-resp.json"))

    def test_overrides_and_usage_show(self):
        p = "p" + uuid.uuid4().hex[:12]
        request("PUT", f"/v2.1/os-quota-sets/{p}", {"quota_set": {"cores": 7, "metadata_items": 3}})
        request("PUT", f"/v2.1/os-quota-sets/{p}?user_id=me", {"quota_set": {"cores": 2}})
        psql("INSERT INTO server_groups (uuid, name, project_id, user_id, policy)"
             f" VALUES (gen_random_uuid(), 'g', '{p}', 'other', 'affinity')")
        r = request("GET", "/v2.1/limits", token=f"me:{p}", version="2.1")
        a = r.json["limits"]["absolute"]
        # limits are the project's (never the user's)
        self.assertEqual((a["maxTotalCores"], a["maxServerMeta"], a["maxImageMeta"]), (7, 3, 3))
        self.assertEqual(a["totalServerGroupsUsed"], 1)

    def test_tenant_id(self):
        p = "p" + uuid.uuid4().hex[:12]
        request("PUT", f"/v2.1/os-quota-sets/{p}", {"quota_set": {"instances": 4}})
        r = request("GET", f"/v2.1/limits?tenant_id={p}")
        self.assertEqual(r.json["limits"]["absolute"]["maxTotalInstances"], 4)
        r = request("GET", "/v2.1/limits")  # admin's own project
        self.assertEqual(r.json["limits"]["absolute"]["maxTotalInstances"], 10)
        for tenant in (p, "someone-else"):
            r = request("GET", f"/v2.1/limits?tenant_id={tenant}", token="me:mine")
            self.assertFault(r, 403, "forbidden",
                             "Policy doesn't allow os_compute_api:limits:other_project to be performed.")

    def test_unknown_query(self):
        self.assertEqual(request("GET", "/v2.1/limits?x=1", version="2.74").status, 200)
        self.assertFault(request("GET", "/v2.1/limits?x=1", version="2.75"), 400, "badRequest")


if __name__ == "__main__":
    unittest.main()
