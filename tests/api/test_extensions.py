"""GET /extensions and /extensions/{alias}: Nova's fixed list, exactly as
its api-samples show it, under /v2.1 at every microversion; /v2 serves the
"v2.1 compatible" list (one more, legacy-only extension)."""
import unittest

from common import ApiTest, request, sample

VERSIONS = ("2.1", "2.13", "2.15", "2.64", "latest")


class Extensions(ApiTest):
    def test_list_is_the_sample_at_every_version(self):
        want = sample("extension-info/extensions-list-resp.json")
        for v in VERSIONS:
            with self.subTest(version=v):
                r = request("GET", "/v2.1/extensions", version=v)
                self.assertEqual(r.status, 200, r)
                self.assertEqual(r.json, want)
                self.assertMatchesSchema(r.json, "GET", "/extensions", "2.1" if v == "latest" else v)

    def test_any_user_may_list(self):
        r = request("GET", "/v2.1/extensions", token="someone:someproject")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(len(r.json["extensions"]), 99)

    def test_legacy_v2_list(self):
        r = request("GET", "/v2/extensions")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json, sample("extension-info/extensions-list-resp-v21-compatible.json"))

    def test_show_is_the_sample(self):
        for v in VERSIONS:
            with self.subTest(version=v):
                r = request("GET", "/v2.1/extensions/os-agents", version=v)
                self.assertEqual(r.status, 200, r)
                self.assertEqual(r.json, sample("extension-info/extensions-get-resp.json"))
                self.assertMatchesSchema(r.json, "GET", "/extensions/{id}", "2.1")

    def test_show_every_listed_alias(self):
        for ext in request("GET", "/v2.1/extensions").json["extensions"]:
            r = request("GET", "/v2.1/extensions/" + ext["alias"])
            self.assertEqual(r.json, {"extension": ext})

    def test_show_unknown_is_404(self):
        r = request("GET", "/v2.1/extensions/os-nothing")
        self.assertFault(r, 404, "itemNotFound", "The resource could not be found.")

    def test_legacy_only_extension(self):
        self.assertFault(request("GET", "/v2.1/extensions/OS-EXT-VIF-NET"), 404, "itemNotFound")
        r = request("GET", "/v2/extensions/OS-EXT-VIF-NET")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json["extension"]["name"], "ExtendedVIFNet")

    def test_unknown_query_at_2_102_is_400(self):
        self.assertEqual(request("GET", "/v2.1/extensions?foo=1", version="2.101").status, 200)
        self.assertFault(request("GET", "/v2.1/extensions?foo=1", version="2.102"), 400, "badRequest")


if __name__ == "__main__":
    unittest.main()
