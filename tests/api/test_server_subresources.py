"""A server's sub-resources: metadata, tags (2.26), ips, instance actions
(2.21, 2.51, 2.58, 2.62, 2.66, 2.84), password and diagnostics (2.48),
against Nova's samples and response schemas at each version where the
shape changes, and every error path (unknown server, key, tag, network or
action; bad bodies; states; locks; quota; policy; version limits). Servers
are instances rows written directly (POST /servers is built elsewhere)."""
import json, unittest, uuid

from common import ApiTest, psql, request, sample

MAC = "00:0c:29:0d:11:74"
ADDRESSES = {"private": [{"addr": "192.168.1.30", "version": 4, "OS-EXT-IPS:type": "fixed",
                          "OS-EXT-IPS-MAC:mac_addr": MAC}]}


def make_server(project, user="fake", vm_state="active", task_state=None, power_state=1,
                host="compute1", launched=True, locked=False, addresses=ADDRESSES):
    """A minimal live instances row; returns its uuid."""
    u = str(uuid.uuid4())
    task = "NULL" if task_state is None else f"'{task_state}'"
    host = "NULL" if host is None else f"'{host}'"
    psql("INSERT INTO instances (uuid, project_id, user_id, flavor, vcpus, memory_mb, root_gb,"
         " reservation_id, vm_state, task_state, power_state, host, launched_at, locked,"
         f" addresses) VALUES ('{u}', '{project}', '{user}', '{{}}'::jsonb, 1, 512, 1, 'r-1',"
         f" '{vm_state}', {task}, {power_state}, {host}, {'now()' if launched else 'NULL'},"
         f" {str(locked).lower()}, '{json.dumps(addresses)}'::jsonb)")
    return u


def delete_server(u):
    psql(f"UPDATE instances SET deleted = id, deleted_at = now() WHERE uuid = '{u}'")


class Base(ApiTest):
    def setUp(self):
        self.project = "ss" + uuid.uuid4().hex[:10]
        self.token = f"fake:{self.project}"
        self.other = "fake:other" + uuid.uuid4().hex[:6]
        self.servers = []

    def tearDown(self):
        for u in self.servers:
            psql(f"DELETE FROM instance_actions WHERE instance_uuid = '{u}'")
            psql(f"DELETE FROM instances WHERE uuid = '{u}'")
        psql(f"DELETE FROM quotas WHERE project_id = '{self.project}'")

    def server(self, **kw):
        u = make_server(self.project, **kw)
        self.servers.append(u)
        return u


class ServerMetadata(Base):
    def url(self, u, key=""):
        return f"/v2.1/servers/{u}/metadata" + (f"/{key}" if key else "")

    def test_every_route_like_samples(self):
        for v in ("2.1", "latest"):
            with self.subTest(version=v):
                u = self.server()
                sv = "2.104" if v == "latest" else v
                r = request("POST", self.url(u), sample("server-metadata/server-metadata-all-req.json"),
                            token=self.token, version=v)
                self.assertEqual((r.status, r.json),
                                 (200, sample("server-metadata/server-metadata-all-resp.json")), r)
                self.assertMatchesSchema(r.json, "POST", "/servers/{server_id}/metadata", sv)
                r = request("GET", self.url(u), token=self.token, version=v)
                self.assertEqual(r.json, sample("server-metadata/server-metadata-all-resp.json"))
                self.assertMatchesSchema(r.json, "GET", "/servers/{server_id}/metadata", sv)
                r = request("GET", self.url(u, "foo"), token=self.token, version=v)
                self.assertEqual(r.json, sample("server-metadata/server-metadata-resp.json"))
                self.assertMatchesSchema(r.json, "GET", "/servers/{server_id}/metadata/{id}", sv)
                r = request("PUT", self.url(u, "foo"), sample("server-metadata/server-metadata-req.json"),
                            token=self.token, version=v)
                self.assertEqual((r.status, r.json),
                                 (200, sample("server-metadata/server-metadata-req.json")), r)
                self.assertMatchesSchema(r.json, "PUT", "/servers/{server_id}/metadata/{id}", sv)
                r = request("POST", self.url(u), {"metadata": {"a": "1"}}, token=self.token)
                self.assertEqual(r.json, {"metadata": {"foo": "Bar Value", "a": "1"}})
                r = request("PUT", self.url(u), sample("server-metadata/server-metadata-all-req.json"),
                            token=self.token, version=v)
                self.assertEqual(r.json, sample("server-metadata/server-metadata-all-resp.json"))
                self.assertMatchesSchema(r.json, "PUT", "/servers/{server_id}/metadata", sv)
                r = request("DELETE", self.url(u, "foo"), token=self.token, version=v)
                self.assertEqual((r.status, r.data), (204, b""), r)
                self.assertEqual(request("GET", self.url(u), token=self.token).json,
                                 {"metadata": {}})

    def test_errors(self):
        u = self.server()
        self.assertFault(request("GET", self.url(u, "nokey"), token=self.token), 404,
                         "itemNotFound", "Metadata item was not found")
        self.assertFault(request("DELETE", self.url(u, "nokey"), token=self.token), 404,
                         "itemNotFound", "Metadata item was not found")
        self.assertFault(request("PUT", self.url(u, "a"), {"meta": {"b": "1"}}, token=self.token),
                         400, "badRequest", "Request body and URI mismatch")
        for body in ({}, {"metadata": {"a": 1}}, {"metadata": {"a" * 256: "v"}},
                     {"metadata": []}, {"metadata": {"a": "b"}, "x": 1}):
            self.assertFault(request("POST", self.url(u), body, token=self.token), 400,
                             "badRequest")
        self.assertFault(request("PUT", self.url(u, "a"), {"meta": {}}, token=self.token), 400,
                         "badRequest")
        for who in (self.other, self.token):
            target = u if who == self.other else str(uuid.uuid4())
            for m, p, b in (("GET", "", None), ("GET", "k", None), ("POST", "", {"metadata": {}}),
                            ("PUT", "", {"metadata": {}}), ("PUT", "k", {"meta": {"k": "v"}}),
                            ("DELETE", "k", None)):
                with self.subTest(method=m, key=p, who=who):
                    self.assertFault(request(m, self.url(target, p), b, token=who), 404,
                                     "itemNotFound", f"Instance {target} could not be found.")
        # admins see every project's servers
        self.assertEqual(request("GET", self.url(u)).status, 200)

    def test_states_and_lock(self):
        u = self.server(vm_state="error")
        request("PUT", self.url(u), {"metadata": {}}, token=self.token)
        psql(f"INSERT INTO instance_metadata VALUES ('{u}', 'k', 'v')")
        for m, p, b, action in (("POST", "", {"metadata": {"a": "b"}}, "update metadata"),
                                ("PUT", "", {"metadata": {}}, "update metadata"),
                                ("PUT", "k", {"meta": {"k": "x"}}, "update metadata"),
                                ("DELETE", "k", None, "delete metadata")):
            with self.subTest(method=m, key=p):
                self.assertFault(request(m, self.url(u, p), b, token=self.token), 409,
                                 "conflictingRequest",
                                 f"Cannot '{action}' instance {u} while it is in vm_state error")
        locked = self.server(locked=True)
        self.assertFault(request("POST", self.url(locked), {"metadata": {"a": "b"}},
                                 token=self.token), 409, "conflictingRequest",
                         f"Instance {locked} is locked")
        # an admin may change a locked server
        self.assertEqual(request("POST", self.url(locked), {"metadata": {"a": "b"}}).status, 200)
        for state in ("active", "paused", "suspended", "stopped"):
            s = self.server(vm_state=state)
            self.assertEqual(request("POST", self.url(s), {"metadata": {"a": "b"}},
                                     token=self.token).status, 200, state)

    def test_quota(self):
        psql(f"INSERT INTO quotas (project_id, resource, hard_limit)"
             f" VALUES ('{self.project}', 'metadata_items', 2)")
        u = self.server()
        self.assertEqual(request("POST", self.url(u), {"metadata": {"a": "1", "b": "2"}},
                                 token=self.token).status, 200)
        self.assertFault(request("POST", self.url(u), {"metadata": {"c": "3"}}, token=self.token),
                         403, "forbidden", "Maximum number of metadata items exceeds 2")
        self.assertFault(request("PUT", self.url(u, "c"), {"meta": {"c": "3"}}, token=self.token),
                         403, "forbidden", "Maximum number of metadata items exceeds 2")
        self.assertEqual(request("PUT", self.url(u, "a"), {"meta": {"a": "9"}},
                                 token=self.token).status, 200)
        self.assertFault(request("PUT", self.url(u), {"metadata": {"x": "1", "y": "2", "z": "3"}},
                                 token=self.token), 403, "forbidden")
        self.assertEqual(request("GET", self.url(u), token=self.token).json,
                         {"metadata": {"a": "9", "b": "2"}})


class ServerTags(Base):
    def url(self, u, tag=None):
        return f"/v2.1/servers/{u}/tags" + (f"/{tag}" if tag is not None else "")

    def req(self, method, path, body=None, version="2.26", token=None):
        return request(method, path, body, token=token or self.token, version=version)

    def test_every_route_like_samples(self):
        for v in ("2.26", "latest"):
            with self.subTest(version=v):
                sv = "2.104" if v == "latest" else v
                u = self.server()
                r = self.req("PUT", self.url(u), sample("os-server-tags/v2.26/server-tags-put-all-req.json"),
                             version=v)
                self.assertEqual((r.status, r.json),
                                 (200, sample("os-server-tags/v2.26/server-tags-put-all-resp.json")), r)
                self.assertMatchesSchema(r.json, "PUT", "/servers/{server_id}/tags", sv)
                r = self.req("GET", self.url(u), version=v)
                self.assertEqual(r.json, sample("os-server-tags/v2.26/server-tags-index-resp.json"))
                self.assertMatchesSchema(r.json, "GET", "/servers/{server_id}/tags", sv)
                r = self.req("GET", self.url(u, "tag1"), version=v)
                self.assertEqual((r.status, r.data), (204, b""), r)
                r = self.req("PUT", self.url(u, "tag3"), version=v)
                self.assertEqual((r.status, r.data), (201, b""), r)
                self.assertTrue(r.header("location").endswith(f"/v2.1/servers/{u}/tags/tag3"), r.headers)
                r = self.req("PUT", self.url(u, "tag3"), version=v)
                self.assertEqual((r.status, r.data), (204, b""), r)
                r = self.req("DELETE", self.url(u, "tag1"), version=v)
                self.assertEqual((r.status, r.data), (204, b""), r)
                self.assertEqual(self.req("GET", self.url(u)).json, {"tags": ["tag2", "tag3"]})
                r = self.req("DELETE", self.url(u), version=v)
                self.assertEqual((r.status, r.data), (204, b""), r)
                self.assertEqual(self.req("GET", self.url(u)).json, {"tags": []})

    def test_errors(self):
        u = self.server()
        self.assertFault(self.req("GET", self.url(u, "nope")), 404, "itemNotFound",
                         f"Server {u} has no tag 'nope'")
        self.assertFault(self.req("DELETE", self.url(u, "nope")), 404, "itemNotFound",
                         f"Instance {u} has no tag 'nope'")
        self.assertFault(self.req("PUT", self.url(u, "a,b")), 400, "badRequest",
                         "Tag 'a,b' is invalid. It must be a non empty string without characters "
                         "'/' and ','. Validation error message: 'a,b' does not match '^[^,/]*$'")
        self.assertFault(self.req("PUT", self.url(u, "x" * 61)), 400, "badRequest",
                         "is too long")
        self.assertFault(self.req("PUT", self.url(u, "t"), {"x": 1}), 400, "badRequest")
        for body in ({}, {"tags": "a"}, {"tags": ["a,b"]}, {"tags": [""]},
                     {"tags": [f"t{i}" for i in range(51)]}):
            self.assertFault(self.req("PUT", self.url(u), body), 400, "badRequest")
        self.req("PUT", self.url(u), {"tags": [f"t{i}" for i in range(50)]})
        self.assertFault(self.req("PUT", self.url(u, "one-more")), 400, "badRequest",
                         "The number of tags exceeded the per-server limit 50")
        # unknown, other project's (as an unknown one: no existence leak,
        # where Nova says 403), deleted servers
        unknown = str(uuid.uuid4())
        gone = self.server()
        delete_server(gone)
        for m, t, b in (("GET", None, None), ("PUT", None, {"tags": []}), ("DELETE", None, None),
                        ("GET", "t", None), ("PUT", "t", None), ("DELETE", "t", None)):
            with self.subTest(method=m, tag=t):
                self.assertFault(self.req(m, self.url(unknown, t), b), 404, "itemNotFound",
                                 f"Instance {unknown} has not been mapped to a cell.")
                self.assertFault(self.req(m, self.url(u, t), b, token=self.other), 404,
                                 "itemNotFound", f"Instance {u} has not been mapped to a cell.")
                self.assertFault(self.req(m, self.url(gone, t), b), 404, "itemNotFound",
                                 f"Instance {gone} could not be found.")
        # before 2.26 the routes do not exist
        self.assertFault(self.req("GET", self.url(u), version="2.25"), 404, "itemNotFound")
        self.assertFault(self.req("PUT", self.url(u, "t"), version="2.25"), 404, "itemNotFound")

    def test_states(self):
        u = self.server(vm_state="building")
        self.assertEqual(self.req("GET", self.url(u)).status, 200)
        for m, t, b, action in (("PUT", None, {"tags": []}, "update tags"),
                                ("DELETE", None, None, "delete tags"),
                                ("PUT", "t", None, "update tag"),
                                ("DELETE", "t", None, "delete tag")):
            with self.subTest(method=m, tag=t):
                self.assertFault(self.req(m, self.url(u, t), b), 409, "conflictingRequest",
                                 f"Cannot '{action}' instance {u} while it is in vm_state building")


class ServerIps(Base):
    def test_index_and_show(self):
        u = self.server()
        for v in ("2.1", "latest"):
            sv = "2.104" if v == "latest" else v
            r = request("GET", f"/v2.1/servers/{u}/ips", token=self.token, version=v)
            self.assertEqual((r.status, r.json), (200, sample("server-ips/server-ips-resp.json")), r)
            self.assertMatchesSchema(r.json, "GET", "/servers/{server_id}/ips", sv)
            r = request("GET", f"/v2.1/servers/{u}/ips/private", token=self.token, version=v)
            self.assertEqual(r.json, sample("server-ips/server-ips-network-resp.json"))
            self.assertMatchesSchema(r.json, "GET", "/servers/{server_id}/ips/{id}", sv)
        self.assertFault(request("GET", f"/v2.1/servers/{u}/ips/public", token=self.token), 404,
                         "itemNotFound", "Instance is not a member of specified network")
        empty = self.server(addresses={})
        self.assertEqual(request("GET", f"/v2.1/servers/{empty}/ips", token=self.token).json,
                         {"addresses": {}})
        for path in ("ips", "ips/private"):
            self.assertFault(request("GET", f"/v2.1/servers/{u}/{path}", token=self.other), 404,
                             "itemNotFound", f"Instance {u} could not be found.")
        self.assertFault(request("GET", f"/v2.1/servers/{u}/ips?x=1", version="2.102"), 400,
                         "badRequest")


class ServerPassword(Base):
    def test_show_and_clear(self):
        u = self.server()
        url = f"/v2.1/servers/{u}/os-server-password"
        self.assertEqual(request("GET", url, token=self.token).json, {"password": ""})
        want = sample("os-server-password/get-password-resp.json")
        psql(f"UPDATE instances SET system_metadata = jsonb_build_object('password',"
             f" '{want['password']}') WHERE uuid = '{u}'")
        r = request("GET", url, token=self.token)
        self.assertEqual((r.status, r.json), (200, want), r)
        self.assertMatchesSchema(r.json, "GET", "/servers/{server_id}/os-server-password", "2.1")
        r = request("DELETE", url, token=self.token)
        self.assertEqual((r.status, r.data), (204, b""), r)
        self.assertEqual(request("GET", url, token=self.token).json, {"password": ""})
        # Nova's chunked form
        psql(f"UPDATE instances SET system_metadata = '{{\"password_0\": \"ab\","
             f" \"password_1\": \"cd\"}}'::jsonb WHERE uuid = '{u}'")
        self.assertEqual(request("GET", url, token=self.token).json, {"password": "abcd"})
        for m in ("GET", "DELETE"):
            self.assertFault(request(m, url, token=self.other), 404, "itemNotFound")
            self.assertFault(request(m, f"/v2.1/servers/{uuid.uuid4()}/os-server-password"), 404,
                             "itemNotFound")


class ServerDiagnostics(Base):
    def test_shapes(self):
        u = self.server()
        url = f"/v2.1/servers/{u}/diagnostics"
        r = request("GET", url, version="2.1")
        self.assertEqual(r.status, 200, r)
        # free-form libvirt keys: the sample's one interface is vnet1, ours vnet0
        legacy = {k.replace("vnet0_", "vnet1_"): v for k, v in r.json.items()}
        self.assertLikeSample(legacy, "os-server-diagnostics/server-diagnostics-get-resp.json")
        self.assertMatchesSchema(r.json, "GET", "/servers/{server_id}/diagnostics", "2.1")
        self.assertEqual(r.json["memory"], 512 * 1024)
        for v in ("2.48", "latest"):
            r = request("GET", url, version=v)
            self.assertEqual(r.status, 200, r)
            nulls = [f"$.{k}[0].{f}" for k, fs in (
                ("cpu_details", ("time", "utilisation")),
                ("disk_details", ("errors_count", "read_bytes", "read_requests", "write_bytes",
                                  "write_requests")),
                ("nic_details", ("rx_drop", "rx_errors", "rx_octets", "rx_packets", "rx_rate",
                                 "tx_drop", "tx_errors", "tx_octets", "tx_packets", "tx_rate")))
                for f in fs] + ["$.memory_details.used"]
            self.assertLikeSample(r.json, "os-server-diagnostics/v2.48/server-diagnostics-get-resp.json",
                                  nullable=nulls)
            self.assertMatchesSchema(r.json, "GET", "/servers/{server_id}/diagnostics",
                                     "2.104" if v == "latest" else v)
            d = r.json
            self.assertEqual((d["state"], d["driver"], d["num_cpus"], d["num_nics"]),
                             ("running", "libvirt", 1, 1))
            self.assertEqual(d["nic_details"][0]["mac_address"], MAC)
            self.assertEqual(d["memory_details"]["maximum"], 512)

    def test_errors(self):
        u = self.server()
        self.assertFault(request("GET", f"/v2.1/servers/{u}/diagnostics", token=self.token), 403,
                         "forbidden", "os_compute_api:os-server-diagnostics")
        off = self.server(power_state=4, vm_state="stopped")
        self.assertFault(request("GET", f"/v2.1/servers/{off}/diagnostics"), 409,
                         "conflictingRequest",
                         f"Cannot 'get_diagnostics' instance {off} while it is in power state shutdown")
        nohost = self.server(host=None, vm_state="building", power_state=0)
        self.assertFault(request("GET", f"/v2.1/servers/{nohost}/diagnostics"), 409,
                         "conflictingRequest", f"Instance {nohost} is not ready")
        self.assertFault(request("GET", f"/v2.1/servers/{uuid.uuid4()}/diagnostics"), 404,
                         "itemNotFound")


class InstanceActions(Base):
    def record(self, u, action, request_id, start, updated, events=()):
        aid = psql(f"INSERT INTO instance_actions (action, instance_uuid, request_id, user_id,"
                   f" project_id, start_time, updated_at) VALUES ('{action}', '{u}',"
                   f" '{request_id}', 'fake', '{self.project}', '{start}', '{updated}')"
                   f" RETURNING id").splitlines()[0]
        for ev, host in events:
            psql(f"INSERT INTO instance_actions_events (action_id, event, start_time,"
                 f" finish_time, result, host) VALUES ({aid}, '{ev}', '{start}', '{updated}',"
                 f" 'Success', '{host}')")

    def setUp(self):
        super().setUp()
        self.u = self.server()
        self.create_id = "req-" + str(uuid.uuid4())
        self.stop_id = "req-" + str(uuid.uuid4())
        self.record(self.u, "create", self.create_id, "2018-04-25 01:26:25.877278+00",
                    "2018-04-25 01:26:28.749039+00")
        self.record(self.u, "stop", self.stop_id, "2018-04-25 01:26:29.074293+00",
                    "2018-04-25 01:26:29.585618+00", [("compute_stop_instance", "compute")])
        self.url = f"/v2.1/servers/{self.u}/os-instance-actions"

    LIST = {"2.1": "", "2.21": "v2.21/", "2.51": "v2.51/", "2.58": "v2.58/", "2.62": "v2.62/",
            "2.66": "v2.66/", "2.84": "v2.84/", "latest": "v2.84/"}

    def test_list_like_samples(self):
        for v, d in self.LIST.items():
            with self.subTest(version=v):
                r = request("GET", self.url, token=self.token, version=v)
                self.assertEqual(r.status, 200, r)
                self.assertLikeSample(r.json, f"os-instance-actions/{d}instance-actions-list-resp.json")
                self.assertMatchesSchema(r.json, "GET", "/servers/{server_id}/os-instance-actions",
                                         "2.104" if v == "latest" else v)
                got = r.json["instanceActions"]
                self.assertEqual([a["request_id"] for a in got], [self.stop_id, self.create_id])
                self.assertEqual(got[0]["start_time"], "2018-04-25T01:26:29.074293")
                if v not in ("2.1", "2.21", "2.51"):
                    self.assertEqual(got[0]["updated_at"], "2018-04-25T01:26:29.585618")

    def test_show_like_samples(self):
        admin = {"2.1": "", "2.21": "v2.21/", "2.51": "v2.51/", "2.58": "v2.58/",
                 "2.62": "v2.62/", "2.66": "v2.66/", "2.84": "v2.84/", "latest": "v2.84/"}
        for v, d in admin.items():
            with self.subTest(version=v, who="admin"):
                r = request("GET", f"{self.url}/{self.stop_id}", version=v)
                self.assertEqual(r.status, 200, r)
                self.assertLikeSample(r.json, f"os-instance-actions/{d}instance-action-get-resp.json")
                self.assertMatchesSchema(r.json, "GET",
                                         "/servers/{server_id}/os-instance-actions/{id}",
                                         "2.104" if v == "latest" else v)
        nonadmin = {"2.51": "v2.51/", "2.58": "v2.58/", "2.62": "v2.62/", "2.84": "v2.84/"}
        for v, d in nonadmin.items():
            with self.subTest(version=v, who="member"):
                r = request("GET", f"{self.url}/{self.stop_id}", token=self.token, version=v)
                self.assertEqual(r.status, 200, r)
                self.assertLikeSample(
                    r.json, f"os-instance-actions/{d}instance-action-get-non-admin-resp.json")
                self.assertMatchesSchema(r.json, "GET",
                                         "/servers/{server_id}/os-instance-actions/{id}", v)
        # before 2.51 members see no events
        r = request("GET", f"{self.url}/{self.stop_id}", token=self.token, version="2.50")
        self.assertNotIn("events", r.json["instanceAction"])
        # hostId: sha224(project + host)
        import hashlib
        r = request("GET", f"{self.url}/{self.stop_id}", version="2.62")
        self.assertEqual(r.json["instanceAction"]["events"][0]["hostId"],
                         hashlib.sha224((self.project + "compute").encode()).hexdigest())
        self.assertEqual(r.json["instanceAction"]["events"][0]["host"], "compute")

    def test_paging_and_filters(self):
        for v in ("2.58", "2.66", "latest"):
            with self.subTest(version=v):
                r = request("GET", self.url + "?limit=1", token=self.token, version=v)
                self.assertLikeSample(r.json, "os-instance-actions/v2.58/instance-actions-list-with-limit-resp.json")
                self.assertEqual(r.json["links"][0]["href"].split("/v2.1/")[1],
                                 f"servers/{self.u}/os-instance-actions?limit=1&marker={self.stop_id}")
                r = request("GET", f"{self.url}?marker={self.stop_id}", token=self.token, version=v)
                self.assertEqual([a["request_id"] for a in r.json["instanceActions"]],
                                 [self.create_id])
                self.assertNotIn("links", r.json)
                r = request("GET", self.url + "?changes-since=2018-04-25T01:26:29Z",
                            token=self.token, version=v)
                self.assertEqual([a["request_id"] for a in r.json["instanceActions"]],
                                 [self.stop_id])
                r = request("GET", self.url + "?limit=0", token=self.token, version=v)
                self.assertEqual(r.json, {"instanceActions": []})
                self.assertFault(request("GET", self.url + "?marker=req-nope", token=self.token,
                                         version=v), 400, "badRequest",
                                 "Marker None could not be found.")
                self.assertFault(request("GET", self.url + "?foo=1", token=self.token, version=v),
                                 400, "badRequest")
        r = request("GET", self.url + "?changes-before=2018-04-25T01:26:29Z", token=self.token,
                    version="2.66")
        self.assertEqual([a["request_id"] for a in r.json["instanceActions"]], [self.create_id])
        self.assertFault(request("GET", self.url + "?changes-before=2018-01-01T00:00:00Z"
                                 "&changes-since=2018-02-01T00:00:00Z", token=self.token,
                                 version="2.66"), 400, "badRequest",
                         "The value of changes-since must be less than or equal to changes-before.")
        self.assertFault(request("GET", self.url + "?changes-before=2018-01-01T00:00:00Z",
                                 token=self.token, version="2.65"), 400, "badRequest")
        # before 2.58 the query is ignored
        r = request("GET", self.url + "?limit=1", token=self.token, version="2.57")
        self.assertEqual(len(r.json["instanceActions"]), 2)

    def test_errors_and_deleted_servers(self):
        self.assertFault(request("GET", f"{self.url}/req-nope", token=self.token), 404,
                         "itemNotFound", "Action req-nope not found")
        for path in (self.url, f"{self.url}/{self.stop_id}"):
            self.assertFault(request("GET", path, token=self.other), 404, "itemNotFound",
                             f"Instance {self.u} could not be found.")
        unknown = f"/v2.1/servers/{uuid.uuid4()}/os-instance-actions"
        self.assertFault(request("GET", unknown, token=self.token), 404, "itemNotFound")
        delete_server(self.u)
        self.assertFault(request("GET", self.url, token=self.token, version="2.20"), 404,
                         "itemNotFound")
        for v in ("2.21", "latest"):
            r = request("GET", self.url, token=self.token, version=v)
            self.assertEqual(len(r.json["instanceActions"]), 2, r)
            self.assertEqual(request("GET", f"{self.url}/{self.stop_id}", token=self.token,
                                     version=v).status, 200)


if __name__ == "__main__":
    unittest.main()
