"""Flavors, os-flavor-access and os-extra_specs against Nova's samples and
response schemas at 2.1, 2.55, 2.61, 2.75 and latest (2.102 dropped
rxtx_factor and OS-FLV-DISABLED:disabled), with every error path:
filters, sorting, limit/marker paging, visibility of private flavors,
access lists and the 2.86 extra-spec validation."""
import unittest, uuid

from common import ApiTest, request

V = "/v2.1"
DEFAULTS = {"1", "2", "3", "4", "5"}
NULLABLE = ("$.flavor.description", "$.flavors[0].description")


def uniq(prefix="t"):
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


class FlavorCase(ApiTest):
    def setUp(self):
        self.created = []

    def tearDown(self):
        for fid in self.created:
            request("DELETE", f"{V}/flavors/{fid}")

    def create(self, version="2.1", token="admin:admin", **fields):
        body = {"name": uniq(), "ram": 256, "vcpus": 1, "disk": 1}
        body.update(fields)
        r = request("POST", f"{V}/flavors", {"flavor": body}, version=version, token=token)
        if r.status == 200:
            self.created.append(r.json["flavor"]["id"])
        return r

    def ok(self, r, status=200):
        self.assertEqual(r.status, status, r)
        return r.json


class Samples(FlavorCase):
    """The default flavors, drawn exactly as Nova's samples at each version."""

    FOLDERS = {"2.1": "", "2.55": "v2.55/", "2.61": "v2.61/", "2.75": "v2.75/", "2.102": "v2.102/"}

    def test_list_detail_show_per_version(self):
        for ver, folder in self.FOLDERS.items():
            with self.subTest(version=ver):
                for path, sample, key in (("/flavors", "flavors-list-resp.json", "flavors"),
                                          ("/flavors/detail", "flavors-detail-resp.json", "flavors")):
                    body = self.ok(request("GET", V + path, version=ver))
                    self.assertMatchesSchema(body, "GET", path, ver)
                    body[key] = [f for f in body[key] if f["id"] in DEFAULTS]
                    self.assertEqual([f["id"] for f in body[key]], sorted(DEFAULTS))
                    self.assertLikeSample(body, f"flavors/{folder}{sample}", nullable=NULLABLE)
                body = self.ok(request("GET", f"{V}/flavors/{self.show_id(ver)}", version=ver))
                self.assertMatchesSchema(body, "GET", "/flavors/{id}", ver)
                self.assertLikeSample(body, f"flavors/{folder}flavor-get-resp.json", nullable=NULLABLE)

    def show_id(self, ver):
        """From 2.61 the show sample is a flavor with a description and
        extra specs (Nova's m1.small.description): make one."""
        if ver in ("2.1", "2.55"):
            return "1"
        if not hasattr(self, "described"):
            self.described = self.ok(self.create(version="2.55", description="test description"))["flavor"]["id"]
            self.ok(request("POST", f"{V}/flavors/{self.described}/os-extra_specs",
                            {"extra_specs": {"hw:cpu_policy": "shared", "hw:numa_nodes": "1"}}))
        return self.described

    def test_values_of_m1_tiny(self):
        f = self.ok(request("GET", f"{V}/flavors/1"))["flavor"]
        self.assertEqual((f["name"], f["ram"], f["disk"], f["vcpus"], f["swap"], f["rxtx_factor"]),
                         ("m1.tiny", 512, 1, 1, "", 1.0))
        self.assertEqual(f["links"][0]["href"], f"{self.base()}/v2.1/flavors/1")
        self.assertEqual(f["links"][1]["href"], f"{self.base()}/flavors/1")
        f = self.ok(request("GET", f"{V}/flavors/1", version="2.75"))["flavor"]
        self.assertEqual(f["swap"], 0)
        f = self.ok(request("GET", f"{V}/flavors/1", version="latest"))["flavor"]
        self.assertNotIn("rxtx_factor", f)
        self.assertNotIn("OS-FLV-DISABLED:disabled", f)
        self.assertEqual(f["extra_specs"], {})

    def base(self):
        from common import BASE
        return BASE

    def test_legacy_v2_and_project_prefix(self):
        body = self.ok(request("GET", "/v2/flavors/1"))
        self.assertLikeSample(body, "flavors/flavor-get-resp.json")
        body = self.ok(request("GET", "/v2.1/myproject/flavors/1"))
        self.assertTrue(body["flavor"]["links"][0]["href"].endswith("/v2.1/myproject/flavors/1"))
        self.assertTrue(body["flavor"]["links"][1]["href"].endswith("/myproject/flavors/1"))

    def test_show_unknown(self):
        self.assertFault(request("GET", f"{V}/flavors/nope"), 404, "itemNotFound",
                         "Flavor nope could not be found.")


class Manage(FlavorCase):
    def test_create_per_version_like_samples(self):
        for ver, folder in (("2.1", ""), ("2.55", "v2.55/"), ("2.61", "v2.61/"), ("2.75", "v2.75/"),
                            ("2.102", "v2.102/")):
            with self.subTest(version=ver):
                extra = {"description": "d"} if ver != "2.1" else {}
                if ver in ("2.1", "2.55", "2.61", "2.75"):
                    extra["rxtx_factor"] = 2.0
                body = self.ok(self.create(version=ver, **extra))
                self.assertMatchesSchema(body, "POST", "/flavors", ver)
                self.assertLikeSample(body, f"flavor-manage/{folder}flavor-create-post-resp.json",
                                      nullable=NULLABLE)

    def test_create_values(self):
        name = uniq()
        f = self.ok(self.create(name=name, id=4242 + uuid.uuid4().int % 100000, ram="1024",
                                vcpus=2, disk=10, swap=512, rxtx_factor="1.5",
                                **{"OS-FLV-EXT-DATA:ephemeral": 5,
                                   "os-flavor-access:is_public": "false"}))["flavor"]
        self.assertIsInstance(f["id"], str)
        self.assertEqual((f["name"], f["ram"], f["vcpus"], f["disk"], f["swap"],
                          f["OS-FLV-EXT-DATA:ephemeral"], f["rxtx_factor"],
                          f["os-flavor-access:is_public"], f["OS-FLV-DISABLED:disabled"]),
                         (name, 1024, 2, 10, 512, 5, 1.5, False, False))
        # an automatic id is a uuid; a string id is kept
        f = self.ok(self.create())["flavor"]
        self.assertEqual(str(uuid.UUID(f["id"])), f["id"])
        sid = uniq("id")
        self.assertEqual(self.ok(self.create(id=sid))["flavor"]["id"], sid)
        self.assertEqual(self.ok(request("GET", f"{V}/flavors/{sid}"))["flavor"]["id"], sid)

    def test_create_conflicts(self):
        f = self.ok(self.create())["flavor"]
        self.assertFault(self.create(name=f["name"]), 409, "conflictingRequest",
                         f"Flavor with name {f['name']} already exists.")
        self.assertFault(self.create(id=f["id"]), 409, "conflictingRequest",
                         f"Flavor with ID {f['id']} already exists.")

    def test_create_bad_input_and_policy(self):
        self.assertFault(self.create(ram=0), 400, "badRequest")
        self.assertFault(self.create(name=""), 400, "badRequest")
        self.assertFault(self.create(version="2.1", description="x"), 400, "badRequest")
        self.assertFault(self.create(version="2.102", rxtx_factor=1.0), 400, "badRequest")
        self.assertFault(self.create(token="someone"), 403, "forbidden")

    def test_update_description(self):
        f = self.ok(self.create(version="2.55", description="before"))["flavor"]
        self.assertEqual(f["description"], "before")
        for ver, folder in (("2.55", "v2.55/"), ("2.61", "v2.61/"), ("2.75", "v2.75/"),
                            ("2.102", "v2.102/")):
            with self.subTest(version=ver):
                r = request("PUT", f"{V}/flavors/{f['id']}", {"flavor": {"description": ver}},
                            version=ver)
                body = self.ok(r)
                self.assertEqual(body["flavor"]["description"], ver)
                self.assertMatchesSchema(body, "PUT", "/flavors/{id}", ver)
                self.assertLikeSample(body, f"flavor-manage/{folder}flavor-update-resp.json")
        r = request("PUT", f"{V}/flavors/{f['id']}", {"flavor": {"description": None}}, version="2.55")
        self.assertIsNone(self.ok(r)["flavor"]["description"])
        self.assertFault(request("PUT", f"{V}/flavors/{f['id']}", {"flavor": {"description": "x"}},
                                 version="2.54"), 404, "itemNotFound")
        self.assertFault(request("PUT", f"{V}/flavors/nope", {"flavor": {"description": "x"}},
                                 version="2.55"), 404, "itemNotFound", "Flavor nope could not be found.")
        self.assertFault(request("PUT", f"{V}/flavors/{f['id']}", {"flavor": {"description": "x"}},
                                 version="2.55", token="someone"), 403, "forbidden")

    def test_delete(self):
        f = self.ok(self.create())["flavor"]
        self.assertFault(request("DELETE", f"{V}/flavors/{f['id']}", token="someone"), 403, "forbidden")
        r = request("DELETE", f"{V}/flavors/{f['id']}")
        self.assertEqual(r.status, 202, r)
        self.assertEqual(r.data, b"")
        self.assertFault(request("GET", f"{V}/flavors/{f['id']}"), 404, "itemNotFound")
        self.assertFault(request("DELETE", f"{V}/flavors/{f['id']}"), 404, "itemNotFound",
                         f"Flavor {f['id']} could not be found.")
        # name and id are free again
        self.ok(self.create(name=f["name"], id=f["id"]))


class ListFilters(FlavorCase):
    def ids(self, query="", token="admin:admin", version=None, path="/flavors"):
        return [f["id"] for f in self.ok(request("GET", f"{V}{path}{query}", token=token,
                                                 version=version))["flavors"]]

    def test_min_ram_min_disk(self):
        self.assertEqual(set(self.ids("?minRam=4096")) & DEFAULTS, {"3", "4", "5"})
        self.assertEqual(set(self.ids("?minDisk=80&minRam=1")) & DEFAULTS, {"4", "5"})
        self.assertFault(request("GET", f"{V}/flavors?minRam=big"), 400, "badRequest",
                         "Invalid minRam filter [big]")
        self.assertFault(request("GET", f"{V}/flavors/detail?minDisk=1.5"), 400, "badRequest",
                         "Invalid minDisk filter [1.5]")

    def test_private_flavors_and_is_public(self):
        priv = self.ok(self.create(**{"os-flavor-access:is_public": False}))["flavor"]["id"]
        self.assertNotIn(priv, self.ids())  # admin default: public only
        self.assertIn(priv, self.ids("?is_public=none"))
        self.assertIn(priv, self.ids("?is_public=false"))
        self.assertNotIn("1", self.ids("?is_public=false"))
        self.assertFault(request("GET", f"{V}/flavors?is_public=maybe"), 400, "badRequest",
                         "Invalid is_public filter [maybe]")
        # another project sees it only once shared with it, and ignores is_public
        for q in ("", "?is_public=none", "?is_public=false"):
            self.assertNotIn(priv, self.ids(q, token="u1:p1"))
        self.assertFault(request("GET", f"{V}/flavors/{priv}", token="u1:p1"), 404, "itemNotFound")
        self.ok(request("POST", f"{V}/flavors/{priv}/action", {"addTenantAccess": {"tenant": "p1"}}))
        self.assertIn(priv, self.ids(token="u1:p1"))
        self.assertIn(priv, self.ids(token="u1:p1", path="/flavors/detail"))
        self.ok(request("GET", f"{V}/flavors/{priv}", token="u1:p1"))
        self.assertNotIn(priv, self.ids(token="u2:p2"))

    def test_sorting(self):
        body = self.ok(request("GET", f"{V}/flavors/detail?sort_key=memory_mb&sort_dir=desc"))
        rams = [f["ram"] for f in body["flavors"]]
        self.assertEqual(rams, sorted(rams, reverse=True))
        names = [f["name"] for f in self.ok(request("GET", f"{V}/flavors?sort_key=name"))["flavors"]]
        self.assertEqual(names, sorted(names))
        self.assertEqual([i for i in self.ids("?sort_dir=desc") if i in DEFAULTS], ["5", "4", "3", "2", "1"])
        self.assertFault(request("GET", f"{V}/flavors?sort_key=bogus"), 400, "badRequest")
        self.assertFault(request("GET", f"{V}/flavors?sort_dir=up"), 400, "badRequest")

    def test_paging(self):
        all_ids = self.ids()
        body = self.ok(request("GET", f"{V}/flavors?limit=2"))
        self.assertEqual([f["id"] for f in body["flavors"]], all_ids[:2])
        link = body["flavors_links"][0]
        self.assertEqual(link["rel"], "next")
        self.assertIn("limit=2", link["href"])
        self.assertIn(f"marker={all_ids[1]}", link["href"])
        self.assertIn("/v2.1/flavors?", link["href"])
        self.assertEqual(self.ids(f"?limit=2&marker={all_ids[1]}"), all_ids[2:4])
        detail = self.ok(request("GET", f"{V}/flavors/detail?limit=1&minRam=1"))
        self.assertIn("/flavors/detail?", detail["flavors_links"][0]["href"])
        self.assertIn("minRam=1", detail["flavors_links"][0]["href"])
        self.assertNotIn("flavors_links", self.ok(request("GET", f"{V}/flavors?limit=1000")))
        self.assertEqual(self.ids("?limit=0"), [])
        self.assertFault(request("GET", f"{V}/flavors?marker=nope"), 400, "badRequest",
                         "marker [nope] not found")
        self.assertFault(request("GET", f"{V}/flavors?limit=-1"), 400, "badRequest")

    def test_name_filter_and_strict_query(self):
        tag = uniq("n")
        fid = self.ok(self.create(name=tag + "-x"))["flavor"]["id"]
        self.assertEqual(self.ids(f"?name={tag}", version="2.102"), [fid])
        self.assertEqual(self.ids(f"?name=^{tag}-x$", version="2.102", path="/flavors/detail"), [fid])
        self.assertFault(request("GET", f"{V}/flavors?name=x", version="2.75"), 400, "badRequest")
        self.assertFault(request("GET", f"{V}/flavors?sort_key=rxtx_factor", version="2.102"),
                         400, "badRequest")
        self.ok(request("GET", f"{V}/flavors?whatever=1", version="2.74"))


class Access(FlavorCase):
    def action(self, fid, name, tenant, version=None, token="admin:admin"):
        return request("POST", f"{V}/flavors/{fid}/action", {name: {"tenant": tenant}},
                       version=version, token=token)

    def test_access_lifecycle(self):
        fid = self.ok(self.create(**{"os-flavor-access:is_public": False}))["flavor"]["id"]
        empty = self.ok(request("GET", f"{V}/flavors/{fid}/os-flavor-access"))
        self.assertEqual(empty, {"flavor_access": []})
        body = self.ok(self.action(fid, "addTenantAccess", "proj-a"))
        self.assertEqual(body, {"flavor_access": [{"flavor_id": fid, "tenant_id": "proj-a"}]})
        self.assertLikeSample(body, "flavor-access/flavor-access-add-tenant-resp.json")
        self.assertMatchesSchema(body, "POST", "/flavors/{id}/action", "2.1", "addTenantAccess")
        self.ok(self.action(fid, "addTenantAccess", "proj-b"))
        body = self.ok(request("GET", f"{V}/flavors/{fid}/os-flavor-access"))
        self.assertEqual([a["tenant_id"] for a in body["flavor_access"]], ["proj-a", "proj-b"])
        self.assertLikeSample(body, "flavor-access/flavor-access-list-resp.json")
        self.assertMatchesSchema(body, "GET", "/flavors/{flavor_id}/os-flavor-access", "2.1")
        self.assertFault(self.action(fid, "addTenantAccess", "proj-a"), 409, "conflictingRequest",
                         f"Flavor access already exists for flavor {fid} and project proj-a combination.")
        body = self.ok(self.action(fid, "removeTenantAccess", "proj-a"))
        self.assertEqual(body["flavor_access"], [{"flavor_id": fid, "tenant_id": "proj-b"}])
        self.assertLikeSample(body, "flavor-access/flavor-access-remove-tenant-resp.json")
        self.assertFault(self.action(fid, "removeTenantAccess", "proj-a"), 404, "itemNotFound",
                         f"Flavor access not found for {fid} / proj-a combination.")

    def test_public_and_unknown_flavors(self):
        self.assertFault(request("GET", f"{V}/flavors/1/os-flavor-access"), 404, "itemNotFound",
                         "Access list not available for public flavors.")
        self.assertFault(self.action("1", "addTenantAccess", "p", version="2.7"), 409,
                         "conflictingRequest", "Can not add access to a public flavor.")
        self.assertFault(request("GET", f"{V}/flavors/nope/os-flavor-access"), 404, "itemNotFound",
                         "Flavor nope could not be found.")
        self.assertFault(self.action("nope", "addTenantAccess", "p"), 404, "itemNotFound")
        self.assertFault(self.action("nope", "removeTenantAccess", "p"), 404, "itemNotFound")

    def test_before_2_7_a_public_flavor_takes_access(self):
        fid = self.ok(self.create())["flavor"]["id"]
        body = self.ok(self.action(fid, "addTenantAccess", "p", version="2.6"))
        self.assertEqual(body["flavor_access"], [{"flavor_id": fid, "tenant_id": "p"}])

    def test_policy_and_bad_bodies(self):
        fid = self.ok(self.create(**{"os-flavor-access:is_public": False}))["flavor"]["id"]
        self.assertFault(request("GET", f"{V}/flavors/{fid}/os-flavor-access", token="u:p"), 403, "forbidden")
        self.assertFault(self.action(fid, "addTenantAccess", "p", token="u:p"), 403, "forbidden")
        self.assertFault(self.action(fid, "removeTenantAccess", "p", token="u:p"), 403, "forbidden")
        self.assertFault(request("POST", f"{V}/flavors/{fid}/action", {"addTenantAccess": {}}),
                         400, "badRequest")
        self.assertFault(self.action(fid, "addTenantAccess", ""), 400, "badRequest")


class ExtraSpecs(FlavorCase):
    def specs_url(self, fid, key=""):
        return f"{V}/flavors/{fid}/os-extra_specs" + (f"/{key}" if key else "")

    def test_crud(self):
        fid = self.ok(self.create())["flavor"]["id"]
        self.assertEqual(self.ok(request("GET", self.specs_url(fid))), {"extra_specs": {}})
        req = {"extra_specs": {"hw:cpu_policy": "shared", "hw:numa_nodes": "1"}}
        body = self.ok(request("POST", self.specs_url(fid), req))
        self.assertEqual(body, req)
        self.assertLikeSample(body, "flavor-extra-specs/flavor-extra-specs-create-resp.json")
        self.assertMatchesSchema(body, "POST", "/flavors/{flavor_id}/os-extra_specs", "2.1")
        body = self.ok(request("GET", self.specs_url(fid)))
        self.assertEqual(body, req)
        self.assertLikeSample(body, "flavor-extra-specs/flavor-extra-specs-list-resp.json")
        body = self.ok(request("GET", self.specs_url(fid, "hw:numa_nodes")))
        self.assertEqual(body, {"hw:numa_nodes": "1"})
        self.assertLikeSample(body, "flavor-extra-specs/flavor-extra-specs-get-resp.json")
        body = self.ok(request("PUT", self.specs_url(fid, "hw:numa_nodes"), {"hw:numa_nodes": "2"}))
        self.assertEqual(body, {"hw:numa_nodes": "2"})
        self.assertLikeSample(body, "flavor-extra-specs/flavor-extra-specs-update-resp.json")
        # numbers are kept as text; the answer echoes the request
        self.assertEqual(self.ok(request("POST", self.specs_url(fid), {"extra_specs": {"k": 5}})),
                         {"extra_specs": {"k": 5}})
        self.assertEqual(self.ok(request("GET", self.specs_url(fid, "k"))), {"k": "5"})
        # embedded in the flavor from 2.61, for readers too
        f = self.ok(request("GET", f"{V}/flavors/{fid}", version="2.61", token="u:p"))["flavor"]
        self.assertEqual(f["extra_specs"], {"hw:cpu_policy": "shared", "hw:numa_nodes": "2", "k": "5"})
        self.assertNotIn("extra_specs", self.ok(request("GET", f"{V}/flavors/{fid}", version="2.60"))["flavor"])
        det = self.ok(request("GET", f"{V}/flavors/detail?is_public=none", version="2.61"))
        self.assertEqual([f["extra_specs"] for f in det["flavors"] if f["id"] == fid][0]["k"], "5")
        r = request("DELETE", self.specs_url(fid, "k"))
        self.assertEqual((r.status, r.data), (200, b""))
        self.assertFault(request("DELETE", self.specs_url(fid, "k")), 404, "itemNotFound",
                         f"Flavor {fid} has no extra specs with key k.")
        self.assertFault(request("GET", self.specs_url(fid, "k")), 404, "itemNotFound",
                         f"Flavor {fid} has no extra specs with key k.")

    def test_errors(self):
        fid = self.ok(self.create())["flavor"]["id"]
        self.assertFault(request("PUT", self.specs_url(fid, "a"), {"b": "1"}), 400, "badRequest",
                         "Request body and URI mismatch")
        self.assertFault(request("PUT", self.specs_url(fid, "a"), {"a": "1", "b": "2"}), 400, "badRequest")
        self.assertFault(request("POST", self.specs_url(fid), {"extra_specs": {"bad/key": "1"}}),
                         400, "badRequest")
        self.assertFault(request("GET", self.specs_url("nope")), 404, "itemNotFound",
                         "Flavor nope could not be found.")
        self.assertFault(request("POST", self.specs_url("nope"), {"extra_specs": {"a": "1"}}),
                         404, "itemNotFound")
        self.assertFault(request("POST", self.specs_url(fid), {"extra_specs": {"a": "1"}},
                                 token="u:p"), 403, "forbidden")
        self.assertFault(request("DELETE", self.specs_url(fid, "a"), token="u:p"), 403, "forbidden")
        self.ok(request("GET", self.specs_url(fid), token="u:p"))

    def test_validation_from_2_86(self):
        fid = self.ok(self.create())["flavor"]["id"]
        good = {"hw:cpu_policy": "dedicated", "hw:numa_nodes": "2", "hw:numa_cpus.0": "0-3,^2",
                "hw:mem_page_size": "2MB", "hw_rng:allowed": "True", "hw_video:ram_max_mb": "64",
                "quota:disk_read_bytes_sec": "10240", "resources:VCPU": "2",
                "resources1:CUSTOM_MAGIC": "1", "trait:HW_CPU_X86_AVX2": "required",
                "trait_g1:CUSTOM_FOO": "forbidden", "aggregate_instance_extra_specs:ssd": "true",
                "capabilities:cpu_info:arch": "x86_64", "os:secure_boot": "required",
                "pci_passthrough:alias": "a1:2, b2:1", "accel:device_profile": "dp",
                "group_policy": "isolate", "unknown_ns:key": "anything", "plain": "x"}
        self.assertEqual(self.ok(request("POST", self.specs_url(fid), {"extra_specs": good},
                                         version="2.86"))["extra_specs"], good)
        bad = [({"hw:cpu_policy": "odd"},
                "Validation failed; 'odd' is not one of: dedicated, shared, mixed."),
               ({"hw:numa_nodes": "0"}, "Validation failed; '0' is less than the min value of '1'."),
               ({"hw:numa_nodes": "x"}, "Validation failed; 'x' is not a valid integer value."),
               ({"hw:redirected_usb_ports": "16"},
                "Validation failed; '16' is greater than the max value of '15'."),
               ({"hw_rng:allowed": "maybe"}, "Validation failed; 'maybe' is not a valid boolean-like value."),
               ({"hw:mem_page_size": "huge"},
                "Validation failed; 'huge' is not of the format '(large|small|any|\\d+([kKMGT]i?)?(b|bit|B)?)'."),
               ({"hw:no_such_thing": "1"},
                "Validation failed; extra spec 'hw:no_such_thing' does not appear to be a valid extra spec."),
               ({"trait:NOT_A_TRAIT": "required"},
                "Validation failed; extra spec 'trait:NOT_A_TRAIT' does not appear to be a valid extra spec."),
               ({"trait:HW_CPU_X86_AVX2": "wanted"},
                "Validation failed; 'wanted' is not one of: required, forbidden."),
               ({"resources:VCPU": "two"}, "Validation failed; 'two' is not a valid integer value."),
               ({"group_policy": "all"}, "Validation failed; 'all' is not one of: isolate, none.")]
        for specs, msg in bad:
            with self.subTest(specs=specs):
                self.assertFault(request("POST", self.specs_url(fid), {"extra_specs": specs},
                                         version="2.86"), 400, "badRequest", msg)
                key, value = next(iter(specs.items()))
                self.assertFault(request("PUT", self.specs_url(fid, key), specs, version="latest"),
                                 400, "badRequest", msg)
                # before 2.86 anything goes
                self.ok(request("PUT", self.specs_url(fid, key), specs, version="2.85"))
        # validation comes before the flavor lookup, as in Nova
        self.assertFault(request("POST", self.specs_url("nope"), {"extra_specs": {"hw:numa_nodes": "0"}},
                                 version="2.86"), 400, "badRequest")


if __name__ == "__main__":
    unittest.main()
