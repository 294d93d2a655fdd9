"""The front door, identical for every route: 404, 405 + Allow, 415, 400,
413, 401, 406, microversion headers and ranges, actions, request ids,
version documents, project-id and /v2 prefixes."""
import json, os, re, unittest
from collections import defaultdict

from common import ApiTest, BASE, FAKE, REPO, REQ_ID, fill, request, routes

METHODS = ["GET", "POST", "PUT", "DELETE", "PATCH"]


def templates():
    t = defaultdict(dict)
    for r in routes():
        # a row may start at 2.0 (the legacy /v2 API): probe it at 2.1
        t[r["path"]].setdefault(r["method"], "2.1" if r["min_version"] == "2.0" else r["min_version"])
    return t


def sample(name):
    with open(os.path.join(REPO, "api", "samples", "versions", name)) as f:
        text = f.read().replace("http://openstack.example.com", BASE)
    return json.loads(text)


class VersionDocuments(ApiTest):
    def test_root_lists_both_versions(self):
        r = request("GET", "/", token=None)
        self.assertEqual(r.status, 300)
        self.assertEqual(r.json, sample("versions-get-resp.json"))

    def test_v21_document(self):
        for path in ("/v2.1/", "/v2.1"):
            r = request("GET", path, token=None)
            self.assertEqual(r.status, 200, path)
            self.assertEqual(r.json, sample("v21-version-get-resp.json"))
            self.assertEqual(r.header("openstack-api-version"), "compute 2.1")

    def test_v2_document(self):
        r = request("GET", "/v2/", token=None)
        self.assertEqual(r.status, 200)
        self.assertEqual(r.json, sample("v2-version-get-resp.json"))
        self.assertIsNone(r.header("openstack-api-version"))

    def test_versions_by_id(self):
        r = request("GET", "/v2.1/versions/v2.1")
        self.assertEqual(r.json, sample("v21-version-get-resp.json"))
        self.assertFault(request("GET", "/v2.1/versions/v9"), 404, "itemNotFound")

    def test_root_other_method(self):
        r = request("POST", "/", body={})
        self.assertFault(r, 405, "badMethod")
        self.assertEqual(r.header("allow"), "GET")


class NotFoundAndMethods(ApiTest):
    def test_unknown_paths(self):
        for path in ("/v2.1/nothing-here", "/v2.1/servers/x/y/z/w", "/v3/servers", "/v2.1/flavors/1/nope"):
            self.assertFault(request("GET", path), 404, "itemNotFound", "could not be found")

    def test_seed_bug_delete_servers_is_405(self):
        r = request("DELETE", "/v2.1/servers")
        self.assertFault(r, 405, "badMethod")
        self.assertEqual(r.header("allow"), "GET, POST")

    def test_every_template_answers_405_with_exact_allow(self):
        for tpl, methods in sorted(templates().items()):
            path = "/v2.1" + fill(tpl)
            for m in METHODS:
                if m in methods:
                    continue
                r = request(m, path, body={} if m in ("POST", "PUT", "PATCH") else None)
                with self.subTest(method=m, path=tpl):
                    self.assertFault(r, 405, "badMethod")
                    allow = {x.strip() for x in r.header("allow").split(",")}
                    self.assertEqual(allow, set(methods))

    def test_every_route_is_routed(self):
        for tpl, methods in sorted(templates().items()):
            for m, ver in methods.items():
                body = {} if m in ("POST", "PUT") else None
                r = request(m, "/v2.1" + fill(tpl), body=body, version=ver)
                with self.subTest(method=m, path=tpl):
                    self.assertNotIn(r.status, (405, 500, 502, 503, 504), r)
                    self.assertRegex(r.header("x-openstack-request-id") or "", REQ_ID)

    def test_trailing_slash_and_project_prefix(self):
        self.assertEqual(request("GET", "/v2.1/os-services/").status, 200)
        r = request("GET", "/v2.1/myproject/os-services")
        self.assertEqual(r.status, 200, r)
        r = request("DELETE", "/v2.1/myproject/servers")
        self.assertEqual(r.status, 405)


class MediaTypeAndBody(ApiTest):
    def test_seed_bug_text_plain_is_415(self):
        r = request("POST", "/v2.1/servers", raw=b"hello", ctype="text/plain")
        self.assertFault(r, 415, "badMediaType", "Unsupported Content-Type")

    def test_415_on_a_sample_of_every_resource(self):
        seen = set()
        for row in routes():
            resource = row["path"].split("/")[1]
            if row["method"] not in ("POST", "PUT") or resource in seen:
                continue
            seen.add(resource)
            r = request(row["method"], "/v2.1" + fill(row["path"]), raw=b"<x/>",
                        ctype="application/xml", version=row["min_version"])
            with self.subTest(route=row["method"] + " " + row["path"]):
                self.assertFault(r, 415, "badMediaType")
        self.assertGreater(len(seen), 20)

    def test_json_with_charset_is_accepted(self):
        r = request("POST", "/v2.1/servers", raw=b'{"oops": ', ctype="application/json; charset=UTF-8")
        self.assertFault(r, 400, "badRequest", "Malformed request body")

    def test_malformed_json_is_400(self):
        for raw in (b'{"oops": ', b"not json", b"{'single': 1}"):
            self.assertFault(request("POST", "/v2.1/servers", raw=raw), 400, "badRequest")

    def test_body_not_an_object_is_400(self):
        for raw in (b"[]", b"42", b'"x"', b"null"):
            self.assertFault(request("POST", "/v2.1/os-keypairs", raw=raw), 400, "badRequest")

    def test_schema_validation_message(self):
        r = request("POST", "/v2.1/os-keypairs", body={"keypair": {}})
        self.assertFault(r, 400, "badRequest", "'name' is a required property")
        r = request("POST", "/v2.1/os-keypairs", body={"keypair": {"name": "a"}, "x": 1})
        self.assertFault(r, 400, "badRequest", "Additional properties are not allowed")

    def test_too_large_is_413(self):
        big = b'{"a": "' + b"x" * (1024 * 1024 + 10) + b'"}'
        r = request("POST", "/v2.1/servers", raw=big)
        self.assertFault(r, 413, "overLimit")


class Auth(ApiTest):
    def test_missing_token_is_401(self):
        for path in ("/v2.1/servers", "/v2.1/os-services", "/v2.1/flavors/detail"):
            r = request("GET", path, token=None)
            self.assertFault(r, 401, "unauthorized")
            self.assertIsNotNone(r.header("www-authenticate"))

    def test_admin_only_route_is_403_for_members(self):
        r = request("GET", "/v2.1/os-services", token="alice:demo")
        self.assertFault(r, 403, "forbidden", "os_compute_api:os-services:list")
        self.assertEqual(request("GET", "/v2.1/os-services", token="admin:admin").status, 200)


class Microversions(ApiTest):
    def test_default_and_headers(self):
        r = request("GET", "/v2.1/os-services")
        self.assertEqual(r.header("openstack-api-version"), "compute 2.1")
        self.assertEqual(r.header("x-openstack-nova-api-version"), "2.1")
        self.assertIn("OpenStack-API-Version", r.header("vary"))
        self.assertIn("X-OpenStack-Nova-API-Version", r.header("vary"))

    def test_latest(self):
        r = request("GET", "/v2.1/os-services", version="latest")
        self.assertEqual(r.header("openstack-api-version"), "compute 2.104")

    def test_legacy_header(self):
        r = request("GET", "/v2.1/os-services", headers={"X-OpenStack-Nova-API-Version": "2.53"})
        self.assertEqual(r.header("x-openstack-nova-api-version"), "2.53")

    def test_new_header_wins_and_lists(self):
        r = request("GET", "/v2.1/os-services",
                    headers={"OpenStack-API-Version": "placement 1.1, compute 2.11",
                             "X-OpenStack-Nova-API-Version": "2.3"})
        self.assertEqual(r.header("openstack-api-version"), "compute 2.11")

    def test_malformed_is_400(self):
        for v in ("abc", "2", "2.x", "2.1.1", "-2.1"):
            self.assertFault(request("GET", "/v2.1/os-services", version=v), 400, "badRequest",
                             "is of invalid format")

    def test_out_of_range_is_406(self):
        for v in ("2.0", "2.105", "3.0", "1.1"):
            r = request("GET", "/v2.1/os-services", version=v)
            self.assertFault(r, 406, "computeFault", "is not supported by the API")

    def test_route_outside_its_range_is_404(self):
        cases = [("GET", f"/servers/{FAKE}/tags", "2.25"), ("GET", "/images", "2.36"),
                 ("GET", "/os-hypervisors/statistics", "2.88"), ("PUT", "/flavors/1", "2.54"),
                 ("GET", f"/servers/{FAKE}/topology", "2.77")]
        for m, p, v in cases:
            with self.subTest(path=p, version=v):
                body = {} if m == "PUT" else None
                self.assertFault(request(m, "/v2.1" + p, body=body, version=v), 404, "itemNotFound")

    def test_route_inside_its_range_is_routed(self):
        r = request("GET", f"/v2.1/servers/{FAKE}/tags", version="2.26")
        self.assertIn(r.status, (404, 501), r)
        if r.status == 404:  # the server is unknown, the route is not
            self.assertNotIn("The resource could not be found.", r.json["itemNotFound"]["message"])

    def test_legacy_v2_has_no_version_headers(self):
        r = request("GET", "/v2/os-services", version="2.53")
        self.assertEqual(r.status, 200, r)
        self.assertIsNone(r.header("openstack-api-version"))
        self.assertIsInstance(r.json["services"], list)
        for s in r.json["services"]:
            self.assertIsInstance(s["id"], int)


    def test_legacy_v2_tolerates_unknown_body_keys(self):
        body = {"keypair": {"name": "legacy-extra", "extra": 1}, "also": 2}
        r = request("POST", "/v2.1/os-keypairs", body=body)
        self.assertFault(r, 400, "badRequest", "Additional properties are not allowed")
        r = request("POST", "/v2/os-keypairs", body=body)
        self.assertNotEqual(r.status, 400, r)
        request("DELETE", "/v2/os-keypairs/legacy-extra")


class Actions(ApiTest):
    def action(self, body, version=None, raw=None):
        return request("POST", f"/v2.1/servers/{FAKE}/action", body=body, version=version, raw=raw)

    def test_unknown_action_is_400(self):
        r = self.action({"noSuchAction": {}})
        self.assertFault(r, 400, "badRequest", "There is no such action: noSuchAction")

    def test_empty_action_is_400(self):
        self.assertFault(self.action({}), 400, "badRequest")

    def test_action_outside_its_range_is_404(self):
        self.assertFault(self.action({"trigger_crash_dump": None}, "2.16"), 404, "itemNotFound")
        self.assertFault(self.action({"os-getVNCConsole": {"type": "novnc"}}, "2.6"), 404, "itemNotFound")
        self.assertFault(self.action({"addFloatingIp": {"address": "10.0.0.1"}}, "2.44"), 404,
                         "itemNotFound")

    def test_every_action_is_routed(self):
        for row in routes():
            if row["action"] == "-":
                continue
            r = request("POST", "/v2.1" + fill(row["path"]), body={row["action"]: {}},
                        version=row["min_version"])
            with self.subTest(action=row["action"], path=row["path"]):
                self.assertNotIn(r.status, (405, 500, 502))
                self.assertNotIn(b"no such action", r.data.lower())

    def test_action_text_plain_is_415(self):
        r = request("POST", f"/v2.1/servers/{FAKE}/action", raw=b"x", ctype="text/plain")
        self.assertFault(r, 415, "badMediaType")


class RequestIds(ApiTest):
    def test_every_response_has_request_ids(self):
        for method, path, tok in (("GET", "/", None), ("GET", "/v2.1/", None),
                                  ("GET", "/v2.1/os-services", "admin:admin"),
                                  ("GET", "/v2.1/nope", "admin:admin"),
                                  ("DELETE", "/v2.1/servers", "admin:admin"),
                                  ("GET", "/v2.1/servers", None)):
            r = request(method, path, token=tok)
            with self.subTest(path=path, status=r.status):
                self.assertRegex(r.header("x-openstack-request-id") or "", REQ_ID)
                self.assertEqual(r.header("x-openstack-request-id"), r.header("x-compute-request-id"))
                self.assertEqual(r.header("content-type"), "application/json")

    def test_request_ids_are_unique(self):
        ids = {request("GET", "/v2.1/").header("x-openstack-request-id") for _ in range(20)}
        self.assertEqual(len(ids), 20)


class NotBuilt(ApiTest):
    def test_not_built_is_501_with_nova_body(self):
        """Every GET row that routes.h still names not_built answers 501."""
        pat = re.compile(r'^ROUTE\(GET, "([^"]*)", NULL, MV\((\d+), (\d+)\).*, not_built\)$')
        with open(os.path.join(REPO, "fcgi-api", "routes.h")) as f:
            rows = [pat.match(l) for l in f]
        rows = [m for m in rows if m]
        if not rows:
            self.skipTest("every GET route is built")
        for m in rows:
            version = max(int(m.group(3)), 1)  # a row may start at 2.0 (legacy /v2)
            r = request("GET", "/v2.1" + fill(m.group(1)), version=f"2.{version}")
            with self.subTest(path=m.group(1)):
                self.assertFault(r, 501, "notImplemented", "not implemented")


class Gone(ApiTest):
    ROW = re.compile(r'^ROUTE\((\w+), "([^"]*)", (NULL|"[^"]*"), MV\((\d+), (\d+)\), '
                     r'(MV_OPEN|MV\(\d+, (\d+)\)).*, (\d+), gone\)$')

    def test_every_removed_route_is_410(self):
        """Every row Nova has removed (routes.h `gone`) answers Nova's 410 at
        every version of its range, for any body, before policy: a member
        gets 410 on admin routes too."""
        with open(os.path.join(REPO, "fcgi-api", "routes.h")) as f:
            rows = [self.ROW.match(l) for l in f]
        rows = [m for m in rows if m]
        self.assertGreaterEqual(len(rows), 54)
        for m in rows:
            method, path, action = m.group(1), m.group(2), m.group(3).strip('"')
            body = {action: None} if action != "NULL" else ({} if method in ("POST", "PUT") else None)
            top = m.group(7)
            for version in ("2.1", f"2.{top}" if top else "latest"):
                r = request(method, "/v2.1" + fill(path), body=body, version=version,
                            token="gone-user:gone-proj")
                with self.subTest(method=method, path=path, action=action, version=version):
                    self.assertFault(r, 410, "computeFault", "This resource is no longer available.")

    def test_removed_action_after_its_range_is_404(self):
        r = request("POST", f"/v2.1/servers/{FAKE}/action", {"os-getRDPConsole": {"type": "rdp-html5"}},
                    version="2.6")
        self.assertFault(r, 404, "itemNotFound")

    def test_removed_route_still_needs_a_token(self):
        r = request("GET", "/v2.1/os-cells", token=None)
        self.assertEqual(r.status, 401, r)


if __name__ == "__main__":
    unittest.main()
