"""GET /v2.1/openapi.json: the OpenAPI 3.1 document of the API (api/openapi.json,
written by scripts/gen-openapi.py, served by nginx), fetched from the live
stack, validated by a real OpenAPI validator (@apidevtools/swagger-parser via
scripts/openapi-validate.sh) and checked to cover every row of the route
table with its microversion range, statuses and request schemas."""
import json, os, re, subprocess, tempfile, unittest

from common import REPO, request, routes

_doc = None


def document():
    global _doc
    if _doc is None:
        r = request("GET", "/v2.1/openapi.json", token=None)
        assert r.status == 200, r
        _doc = (r, json.loads(r.data))
    return _doc


def rng(v):
    return None if v in ("-", "") else v


class OpenApi(unittest.TestCase):
    def test_served_without_a_token_as_json(self):
        r, doc = document()
        self.assertTrue(r.header("content-type").startswith("application/json"), r.headers)
        self.assertEqual(doc["openapi"], "3.1.0")
        with open(os.path.join(REPO, "api", "openapi.json"), "rb") as f:
            self.assertEqual(r.data, f.read(), "the served document is the committed file")

    def test_committed_file_is_up_to_date(self):
        p = subprocess.run(["/usr/bin/python3", os.path.join(REPO, "scripts", "gen-openapi.py"), "--check"],
                           capture_output=True, text=True)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)

    def test_validates(self):
        r, _ = document()
        with tempfile.NamedTemporaryFile("wb", suffix=".json") as f:
            f.write(r.data)
            f.flush()
            p = subprocess.run([os.path.join(REPO, "scripts", "openapi-validate.sh"), f.name],
                               capture_output=True, text=True, timeout=600)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr[-4000:])
        self.assertTrue(p.stdout.startswith("valid 3.1.0"), p.stdout)

    def test_every_route_of_the_table(self):
        _, doc = document()
        for row in routes():
            m, path, action = row["method"], row["path"], row["action"]
            with self.subTest(method=m, path=path, action=action):
                op = doc["paths"][path][m.lower()]
                names = re.findall(r"\{([^}]+)\}", path)
                declared = [p["name"] for p in op["parameters"] if p.get("in") == "path"]
                self.assertEqual(sorted(names), sorted(declared))
                want = {"min": rng(row["min_version"]), "max": rng(row["max_version"])}
                statuses = row["normal_status"].split(",")
                errors = [c for c in row["error_statuses"].split(",") if c.isdigit()]
                if action == "-":
                    self.assertEqual(op["x-openstack-microversion"], want)
                    for st in statuses + errors:
                        self.assertIn(st, op["responses"])
                else:
                    acts = {a["action"]: a for a in op["x-openstack-actions"]}
                    self.assertEqual(acts[action]["microversion"], want)
                    self.assertEqual(str(acts[action]["status"]), statuses[0])
                    for st in statuses + errors:
                        self.assertIn(st, op["responses"])
                    branches = op["requestBody"]["content"]["application/json"]["schema"]["oneOf"]
                    self.assertIn(action, [b["x-openstack-action"] for b in branches])

    def test_no_operation_outside_the_table(self):
        _, doc = document()
        table = {(r["method"].lower(), r["path"]) for r in routes()}
        for path, item in doc["paths"].items():
            for m, op in item.items():
                if not op.get("x-cnova-not-in-route-table"):
                    self.assertIn((m, path), table)

    def test_request_schemas_per_microversion(self):
        _, doc = document()
        with open(os.path.join(REPO, "api", "request-schemas.json")) as f:
            schemas = json.load(f)["schemas"]
        for s in schemas:
            if s["kind"] != "request" or s["action"]:
                continue
            with self.subTest(method=s["method"], path=s["path"], min=s["min"]):
                body = doc["paths"][s["path"]][s["method"].lower()]["requestBody"]
                sch = body["content"]["application/json"]["schema"]
                variants = [sch] if "x-openstack-microversion" in sch else sch["anyOf"]
                self.assertIn({"min": s["min"], "max": s["max"]},
                              [v["x-openstack-microversion"] for v in variants])

    def test_error_body(self):
        _, doc = document()
        err = doc["components"]["schemas"]["Error"]
        self.assertIn("itemNotFound", err["propertyNames"]["enum"])
        # a real 404 of the API has that shape
        r = request("GET", "/v2.1/flavors/no-such-flavor")
        self.assertEqual(r.status, 404, r)
        (name,) = r.json.keys()
        self.assertIn(name, err["propertyNames"]["enum"])
        self.assertEqual(set(r.json[name]), {"code", "message"})

    def test_other_methods_and_paths_unchanged(self):
        r = request("POST", "/v2.1/openapi.json", body={}, token=None)
        self.assertEqual(r.status, 405, r)
        self.assertIn("badMethod", r.json)
        # neighbours still reach the router: 404 in Nova's body, versions need no token
        r = request("GET", "/v2.1/openapi.jsonx")
        self.assertEqual(r.status, 404, r)
        self.assertIn("itemNotFound", r.json)
        r = request("GET", "/v2.1/openapi.json/x")
        self.assertEqual(r.status, 404, r)
        r = request("GET", "/v2.1/", token=None)
        self.assertEqual(r.status, 200, r)


if __name__ == "__main__":
    unittest.main()
