"""test_networks.py: the built-in IPAM (sql/017_networks.sql) through the
API — os-networks, os-tenant-networks, os-floating-ip-pools, os-floating-ips
and addFloatingIp / removeFloatingIp (capped at 2.35 / 2.43), a booted
server's addresses coming from its port, the networks of a server create
(unknown network, fixed IP in use, port in use) and the release of the
port and its address when the server is deleted."""
import ipaddress, time, unittest, uuid

from common import FAKE, ApiTest, psql, request

IMAGE = "70a599e0-31e7-49b7-b260-868f441e862b"  # seeded by 007_images_seed.sql
# seeded by 017_networks.sql, its id made anew by 020_dhcp_ports.sql
PRIVATE = psql("SELECT id FROM networks WHERE label = 'private'")
PUBLIC = "e5b0a2c4-7f31-4d8e-9b6a-1c2d3e4f5a6b"
PROJECT = "net-proj"
MEMBER = "net-member:" + PROJECT
OTHER = "net-other:net-other-proj"
SETTLE = 90


def setUpModule():
    for res in ("instances", "cores", "ram"):
        psql(f"INSERT INTO quotas (project_id, resource, hard_limit) VALUES ('{PROJECT}', '{res}',"
             f" -1) ON CONFLICT (project_id, resource) DO UPDATE SET hard_limit = -1")


def boot(token=MEMBER, wait=True, **server):
    body = {"name": "net-" + uuid.uuid4().hex[:6], "imageRef": IMAGE, "flavorRef": "1"}
    body.update(server)
    r = request("POST", "/v2.1/servers", {"server": body}, token=token, version="2.37"
                if "networks" in server else None)
    assert r.status == 202, r
    sid = r.json["server"]["id"]
    if wait:
        wait_status(sid, "ACTIVE")
    return sid


def show(sid, version="2.1"):
    r = request("GET", f"/v2.1/servers/{sid}", version=version)
    assert r.status == 200, r
    return r.json["server"]


def wait_status(sid, status):
    deadline = time.time() + SETTLE
    while True:
        s = show(sid)
        if s["status"] == status and s["OS-EXT-STS:task_state"] is None:
            return s
        if s["status"] == "ERROR" or time.time() > deadline:
            raise AssertionError(f"{sid} not {status}: {s['status']}")
        time.sleep(0.5)


def delete_and_wait(sid):
    request("DELETE", f"/v2.1/servers/{sid}")
    deadline = time.time() + SETTLE
    while request("GET", f"/v2.1/servers/{sid}").status != 404:
        if time.time() > deadline:
            raise AssertionError(f"{sid} not gone")
        time.sleep(0.5)


class Networks(ApiTest):
    def test_list_and_show_admin_view(self):
        r = request("GET", "/v2.1/os-networks", version="2.35")
        self.assertEqual(r.status, 200)
        self.assertMatchesSchema(r.json, "GET", "/os-networks", "2.35")
        nets = {n["label"]: n for n in r.json["networks"]}
        self.assertNotIn("public", nets)  # an external network is a pool, not listed
        net = nets["private"]
        self.assertEqual(net["id"], PRIVATE)
        self.assertEqual(net["cidr"], "10.0.0.0/16")
        self.assertEqual(net["netmask"], "255.255.0.0")
        self.assertEqual(net["gateway"], "10.0.0.1")
        self.assertEqual(net["broadcast"], "10.0.255.255")
        nullable = {f"$.networks[0].{k}" for k in net}
        self.assertLikeSample({"networks": [net]}, "os-networks/networks-list-resp.json", nullable)
        r = request("GET", f"/v2.1/os-networks/{PRIVATE}")
        self.assertEqual(r.status, 200)
        self.assertMatchesSchema(r.json, "GET", "/os-networks/{id}", "2.1")
        self.assertLikeSample(r.json, "os-networks/network-show-resp.json",
                              {f"$.network.{k}" for k in net})
        self.assertEqual(r.json["network"], net)

    def test_member_view_hides_admin_fields(self):
        r = request("GET", f"/v2.1/os-networks/{PRIVATE}", token=MEMBER)
        self.assertEqual(r.status, 200)
        self.assertEqual(set(r.json["network"]), {
            "id", "cidr", "netmask", "gateway", "broadcast", "dns1", "dns2", "cidr_v6",
            "gateway_v6", "label", "netmask_v6"})

    def test_show_not_found(self):
        for nid in (FAKE, "nope"):
            r = request("GET", f"/v2.1/os-networks/{nid}")
            self.assertFault(r, 404, "itemNotFound", "Network not found")
            r = request("GET", f"/v2.1/os-tenant-networks/{nid}")
            self.assertFault(r, 404, "itemNotFound", "Network not found")

    def test_tenant_networks(self):
        r = request("GET", "/v2.1/os-tenant-networks", token=MEMBER)
        self.assertEqual(r.status, 200)
        self.assertMatchesSchema(r.json, "GET", "/os-tenant-networks", "2.1")
        self.assertLikeSample(r.json, "os-tenant-networks/networks-list-res.json")
        self.assertIn({"id": PRIVATE, "cidr": "10.0.0.0/16", "label": "private"},
                      r.json["networks"])
        r = request("GET", f"/v2.1/os-tenant-networks/{PRIVATE}", token=MEMBER)
        self.assertEqual(r.status, 200)
        self.assertEqual(r.json["network"]["label"], "private")

    def test_capped_at_2_35(self):
        for path in ("/v2.1/os-networks", f"/v2.1/os-networks/{PRIVATE}",
                     "/v2.1/os-tenant-networks", "/v2.1/os-floating-ip-pools",
                     "/v2.1/os-floating-ips"):
            self.assertEqual(request("GET", path, version="2.36").status, 404, path)
            self.assertEqual(request("GET", path, version="2.35").status, 200, path)

    def test_pools(self):
        r = request("GET", "/v2.1/os-floating-ip-pools", token=MEMBER)
        self.assertEqual(r.status, 200)
        self.assertLikeSample(r.json, "os-floating-ip-pools/floatingippools-list-resp.json")
        self.assertMatchesSchema(r.json, "GET", "/os-floating-ip-pools", "2.1")
        self.assertEqual(r.json["floating_ip_pools"], [{"name": "public"}])


class FloatingIps(ApiTest):
    def tearDown(self):
        psql(f"DELETE FROM floating_ips WHERE project_id IN ('{PROJECT}', 'net-other-proj')")
        psql(f"DELETE FROM quotas WHERE project_id = '{PROJECT}' AND resource = 'floating_ips'")

    def allocate(self, body={"pool": "public"}, token=MEMBER):
        return request("POST", "/v2.1/os-floating-ips", body, token=token)

    def test_allocate_show_list_release(self):
        r = self.allocate()
        self.assertEqual(r.status, 200)
        self.assertLikeSample(r.json, "os-floating-ips/floating-ips-create-resp.json")
        self.assertMatchesSchema(r.json, "POST", "/os-floating-ips", "2.1")
        fip = r.json["floating_ip"]
        self.assertEqual(fip["pool"], "public")
        self.assertIsNone(fip["fixed_ip"])
        self.assertIsNone(fip["instance_id"])
        self.assertIn(ipaddress.ip_address(fip["ip"]), ipaddress.ip_network("172.24.4.0/24"))
        # no body: the default pool; a second address, never the same
        r2 = request("POST", "/v2.1/os-floating-ips", token=MEMBER)
        self.assertEqual(r2.status, 200)
        self.assertNotEqual(r2.json["floating_ip"]["ip"], fip["ip"])
        r = request("GET", f"/v2.1/os-floating-ips/{fip['id']}", token=MEMBER)
        self.assertEqual(r.status, 200)
        self.assertEqual(r.json["floating_ip"], fip)
        r = request("GET", "/v2.1/os-floating-ips", token=MEMBER)
        self.assertEqual(r.status, 200)
        self.assertLikeSample(r.json, "os-floating-ips/floating-ips-list-resp.json")
        self.assertMatchesSchema(r.json, "GET", "/os-floating-ips", "2.1")
        self.assertEqual([f["id"] for f in r.json["floating_ips"]],
                         [fip["id"], r2.json["floating_ip"]["id"]])
        # another project sees none of them
        r = request("GET", "/v2.1/os-floating-ips", token=OTHER)
        self.assertEqual(r.json, {"floating_ips": []})
        self.assertFault(request("GET", f"/v2.1/os-floating-ips/{fip['id']}", token=OTHER), 404,
                         "itemNotFound", f"Floating IP not found for ID {fip['id']}")
        self.assertFault(request("DELETE", f"/v2.1/os-floating-ips/{fip['id']}", token=OTHER),
                         404, "itemNotFound", f"Floating IP not found for ID {fip['id']}")
        r = request("DELETE", f"/v2.1/os-floating-ips/{fip['id']}", token=MEMBER)
        self.assertEqual(r.status, 202)
        self.assertFault(request("GET", f"/v2.1/os-floating-ips/{fip['id']}", token=MEMBER), 404,
                         "itemNotFound", f"Floating IP not found for ID {fip['id']}")
        self.assertFault(request("DELETE", f"/v2.1/os-floating-ips/{fip['id']}", token=MEMBER),
                         404, "itemNotFound", f"Floating IP not found for ID {fip['id']}")

    def test_pool_not_found(self):
        self.assertFault(self.allocate({"pool": "nope"}), 404, "itemNotFound",
                         "Floating IP pool not found.")
        self.assertFault(self.allocate({"pool": "private"}), 404, "itemNotFound",
                         "Floating IP pool not found.")

    def test_bad_body(self):
        self.assertEqual(self.allocate({"pool": 5}).status, 400)

    def test_quota(self):
        psql(f"INSERT INTO quotas (project_id, resource, hard_limit) VALUES ('{PROJECT}',"
             f" 'floating_ips', 1)")
        self.assertEqual(self.allocate().status, 200)
        self.assertFault(self.allocate(), 403, "forbidden", "IP allocation over quota in pool public.")
        r = request("GET", f"/v2.1/os-quota-sets/{PROJECT}/detail", version="2.35")
        self.assertEqual(r.json["quota_set"]["floating_ips"]["in_use"], 1)

    def test_not_found_ids(self):
        for fid in (FAKE, "abc"):
            self.assertFault(request("GET", f"/v2.1/os-floating-ips/{fid}", token=MEMBER), 404,
                             "itemNotFound", f"Floating IP not found for ID {fid}")


class CreateNetworks(ApiTest):
    """The "networks" of POST /servers, checked before anything is written."""

    def create(self, networks, **kw):
        body = {"name": "net-bad", "imageRef": IMAGE, "flavorRef": "1", "networks": networks}
        body.update(kw)
        return request("POST", "/v2.1/servers", {"server": body}, token=MEMBER, version="2.37")

    def test_unknown_network(self):
        self.assertFault(self.create([{"uuid": FAKE}]), 400, "badRequest",
                         f"Network {FAKE} could not be found.")
        self.assertFault(self.create([{"uuid": PUBLIC}]), 400, "badRequest",
                         f"Network {PUBLIC} could not be found.")

    def test_bad_network_uuid(self):
        self.assertFault(self.create([{"uuid": "not-a-uuid"}]), 400, "badRequest")

    def test_unknown_port(self):
        self.assertFault(self.create([{"port": FAKE}]), 400, "badRequest",
                         f"Port id {FAKE} could not be found.")

    def test_fixed_ip_outside_network(self):
        r = self.create([{"uuid": PRIVATE, "fixed_ip": "192.168.9.9"}])
        self.assertFault(r, 400, "badRequest")
        self.assertIn("192.168.9.9", r.json["badRequest"]["message"])

    def test_port_with_max_count(self):
        self.assertFault(self.create([{"port": FAKE}], max_count=2), 400, "badRequest",
                         "Unable to launch multiple instances with a single configured port ID."
                         " Please launch your instance one by one with different ports.")


class BootedServer(ApiTest):
    """One server booted on the private network: its addresses, floating IPs."""

    @classmethod
    def setUpClass(cls):
        cls.sid = boot(networks=[{"uuid": PRIVATE}])
        cls.port = psql(f"SELECT id FROM ports WHERE instance_uuid = '{cls.sid}'").strip()
        cls.addr = psql(f"SELECT host(address) FROM fixed_ips WHERE port_id = '{cls.port}'").strip()
        cls.mac = psql(f"SELECT mac_address FROM ports WHERE id = '{cls.port}'").strip()

    @classmethod
    def tearDownClass(cls):
        delete_and_wait(cls.sid)
        psql(f"DELETE FROM floating_ips WHERE project_id = '{PROJECT}'")

    def test_addresses_from_the_port(self):
        self.assertTrue(self.addr.startswith("10.0."), self.addr)
        s = show(self.sid)
        self.assertEqual(s["addresses"], {"private": [{
            "version": 4, "addr": self.addr, "OS-EXT-IPS:type": "fixed",
            "OS-EXT-IPS-MAC:mac_addr": self.mac}]})
        r = request("GET", f"/v2.1/servers/{self.sid}/ips", token=MEMBER)
        self.assertEqual(r.json, {"addresses": {"private": [{"version": 4, "addr": self.addr}]}})
        self.assertLikeSample(r.json, "server-ips/server-ips-resp.json")
        r = request("GET", f"/v2.1/servers/{self.sid}/ips/private", token=MEMBER)
        self.assertEqual(r.json, {"private": [{"version": 4, "addr": self.addr}]})

    def test_fixed_ip_in_use_and_port_in_use(self):
        r = request("POST", "/v2.1/servers", {"server": {
            "name": "net-dup", "imageRef": IMAGE, "flavorRef": "1",
            "networks": [{"uuid": PRIVATE, "fixed_ip": self.addr}]}}, token=MEMBER,
            version="2.37")
        self.assertFault(r, 400, "badRequest", f"Fixed IP address {self.addr} is already in use"
                         f" on instance {self.sid}.")
        r = request("POST", "/v2.1/servers", {"server": {
            "name": "net-dup", "imageRef": IMAGE, "flavorRef": "1",
            "networks": [{"port": self.port}]}}, token=MEMBER, version="2.37")
        self.assertFault(r, 409, "conflictingRequest", f"Port {self.port} is still in use.")

    def test_floating_ip_associate_disassociate(self):
        fip = request("POST", "/v2.1/os-floating-ips", {"pool": "public"},
                      token=MEMBER).json["floating_ip"]
        act = lambda body, token=MEMBER, version=None: request(
            "POST", f"/v2.1/servers/{self.sid}/action", body, token=token, version=version)
        # errors first
        self.assertFault(act({"addFloatingIp": {"address": "172.24.4.250"}}), 404, "itemNotFound",
                         "floating IP not found")
        self.assertFault(act({"addFloatingIp": {"address": fip["ip"],
                                                "fixed_address": "10.9.9.9"}}), 400,
                         "badRequest", "Specified fixed address not assigned to instance")
        self.assertFault(act({"removeFloatingIp": {"address": fip["ip"]}}), 409,
                         "conflictingRequest",
                         f"Floating IP {fip['ip']} is not associated with instance {self.sid}.")
        self.assertFault(act({"removeFloatingIp": {"address": "172.24.4.250"}}), 404,
                         "itemNotFound", "Floating IP not found for address 172.24.4.250.")
        self.assertEqual(act({"addFloatingIp": {"address": fip["ip"]}}, version="2.44").status,
                         404)
        # associate: seen in the floating IP and in the server's addresses
        r = act({"addFloatingIp": {"address": fip["ip"], "fixed_address": self.addr}})
        self.assertEqual(r.status, 202)
        self.assertEqual(r.data, b"")
        got = request("GET", f"/v2.1/os-floating-ips/{fip['id']}", token=MEMBER).json
        self.assertEqual(got["floating_ip"]["fixed_ip"], self.addr)
        self.assertEqual(got["floating_ip"]["instance_id"], self.sid)
        s = show(self.sid)
        self.assertEqual(s["addresses"]["private"][1], {
            "version": 4, "addr": fip["ip"], "OS-EXT-IPS:type": "floating",
            "OS-EXT-IPS-MAC:mac_addr": self.mac})
        # the same again is fine; another project's server cannot take it
        self.assertEqual(act({"addFloatingIp": {"address": fip["ip"]}}).status, 202)
        # disassociate
        r = act({"removeFloatingIp": {"address": fip["ip"]}})
        self.assertEqual(r.status, 202)
        self.assertEqual(len(show(self.sid)["addresses"]["private"]), 1)
        got = request("GET", f"/v2.1/os-floating-ips/{fip['id']}", token=MEMBER).json
        self.assertIsNone(got["floating_ip"]["instance_id"])
        # associate again, then releasing the floating IP takes it off the server
        self.assertEqual(act({"addFloatingIp": {"address": fip["ip"]}}).status, 202)
        self.assertEqual(len(show(self.sid)["addresses"]["private"]), 2)
        self.assertEqual(request("DELETE", f"/v2.1/os-floating-ips/{fip['id']}",
                                 token=MEMBER).status, 202)
        self.assertEqual(len(show(self.sid)["addresses"]["private"]), 1)

    def test_floating_ip_moves_to_another_server(self):
        other = boot()
        try:
            fip = request("POST", "/v2.1/os-floating-ips", token=MEMBER).json["floating_ip"]
            for sid in (self.sid, other):
                r = request("POST", f"/v2.1/servers/{sid}/action",
                            {"addFloatingIp": {"address": fip["ip"]}}, token=MEMBER)
                self.assertEqual(r.status, 202, r)
            floating = lambda sid: [a["addr"] for a in show(sid)["addresses"]["private"]
                                    if a["OS-EXT-IPS:type"] == "floating"]
            self.assertEqual(floating(self.sid), [])
            self.assertEqual(floating(other), [fip["ip"]])
            got = request("GET", f"/v2.1/os-floating-ips/{fip['id']}", token=MEMBER).json
            self.assertEqual(got["floating_ip"]["instance_id"], other)
            self.assertFault(request("POST", f"/v2.1/servers/{self.sid}/action",
                                     {"removeFloatingIp": {"address": fip["ip"]}}, token=MEMBER),
                             409, "conflictingRequest",
                             f"Floating IP {fip['ip']} is not associated with instance"
                             f" {self.sid}.")
            request("DELETE", f"/v2.1/os-floating-ips/{fip['id']}", token=MEMBER)
        finally:
            delete_and_wait(other)

    def test_floating_ip_of_other_project(self):
        fip = request("POST", "/v2.1/os-floating-ips", {"pool": "public"},
                      token=OTHER).json["floating_ip"]
        try:
            r = request("POST", f"/v2.1/servers/{self.sid}/action",
                        {"addFloatingIp": {"address": fip["ip"]}}, token=MEMBER)
            self.assertFault(r, 404, "itemNotFound", "floating IP not found")
        finally:
            request("DELETE", f"/v2.1/os-floating-ips/{fip['id']}", token=OTHER)

    def test_add_floating_ip_unknown_server(self):
        r = request("POST", f"/v2.1/servers/{FAKE}/action",
                    {"addFloatingIp": {"address": "172.24.4.9"}}, token=MEMBER)
        self.assertFault(r, 404, "itemNotFound", f"Instance {FAKE} could not be found.")


class Lifecycle(ApiTest):
    def test_fixed_ip_chosen_then_released_on_delete(self):
        want = "10.0.200.7"
        sid = boot(networks=[{"uuid": PRIVATE, "fixed_ip": want}])
        try:
            s = show(sid)
            self.assertEqual([a["addr"] for a in s["addresses"]["private"]], [want])
            fip = request("POST", "/v2.1/os-floating-ips", token=MEMBER).json["floating_ip"]
            r = request("POST", f"/v2.1/servers/{sid}/action",
                        {"addFloatingIp": {"address": fip["ip"]}}, token=MEMBER)
            self.assertEqual(r.status, 202)
        finally:
            delete_and_wait(sid)
        self.assertEqual(psql(f"SELECT count(*) FROM ports WHERE instance_uuid = '{sid}'").strip(),
                         "0")
        self.assertEqual(psql("SELECT count(*) FROM fixed_ips WHERE address = '10.0.200.7'")
                         .strip(), "0")
        # the floating IP stays with the project, no longer associated
        got = request("GET", f"/v2.1/os-floating-ips/{fip['id']}", token=MEMBER).json
        self.assertIsNone(got["floating_ip"]["fixed_ip"])
        self.assertIsNone(got["floating_ip"]["instance_id"])
        request("DELETE", f"/v2.1/os-floating-ips/{fip['id']}", token=MEMBER)
        # the address is free again
        sid = boot(networks=[{"uuid": PRIVATE, "fixed_ip": want}], wait=False)
        delete_and_wait(sid)

    def test_no_valid_host_keeps_no_port(self):
        r = request("POST", "/v2.1/flavors", {"flavor": {
            "name": "net-huge-" + uuid.uuid4().hex[:6], "ram": 10 ** 6, "vcpus": 1, "disk": 1}})
        self.assertEqual(r.status, 200, r)
        flavor = r.json["flavor"]["id"]
        try:
            sid = boot(flavorRef=flavor, wait=False)
            deadline = time.time() + SETTLE
            while show(sid)["status"] != "ERROR":
                self.assertLess(time.time(), deadline, "the build did not fail")
                time.sleep(0.5)
            self.assertEqual(psql(f"SELECT count(*) FROM ports WHERE instance_uuid = '{sid}'"), "0")
            self.assertEqual(show(sid)["addresses"], {})
            delete_and_wait(sid)
        finally:
            request("DELETE", f"/v2.1/flavors/{flavor}")

    def test_none_and_auto(self):
        sid = boot(networks="none", wait=False)
        try:
            self.assertEqual(psql(f"SELECT count(*) FROM ports WHERE instance_uuid = '{sid}'")
                             .strip(), "0")
        finally:
            delete_and_wait(sid)
        sid = boot(networks="auto", wait=False)
        try:
            self.assertEqual(psql(f"SELECT count(*) FROM ports p WHERE instance_uuid = '{sid}'"
                                  f" AND network_id = '{PRIVATE}'").strip(), "1")
            # while building, no addresses yet (Nova fills them at build)
            s = wait_status(sid, "ACTIVE")
            self.assertEqual(len(s["addresses"]["private"]), 1)
        finally:
            delete_and_wait(sid)


if __name__ == "__main__":
    unittest.main()
