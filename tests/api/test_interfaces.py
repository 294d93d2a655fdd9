"""test_interfaces.py: a server's ports as /servers/{id}/os-interface (list,
show, attach by network / fixed IP / port, detach; the 2.49 tag shown from
2.70; Nova's 400/404/409s, lock and state rules, the instance actions) and
os-multinic's addFixedIp / removeFixedIp (up to 2.43), each visible in the
server's addresses."""
import time, unittest, uuid

from common import FAKE, ApiTest, psql, request
from test_networks import IMAGE, PRIVATE, boot, delete_and_wait, show

PROJECT = "net-proj"  # quotas opened by test_networks' setUpModule
MEMBER = "net-member:" + PROJECT


def setUpModule():
    for res in ("instances", "cores", "ram"):
        psql(f"INSERT INTO quotas (project_id, resource, hard_limit) VALUES ('{PROJECT}', '{res}',"
             f" -1) ON CONFLICT (project_id, resource) DO UPDATE SET hard_limit = -1")


def iface(sid, method="GET", port=None, body=None, version=None, token=MEMBER):
    path = f"/v2.1/servers/{sid}/os-interface" + (f"/{port}" if port else "")
    return request(method, path, body, token=token, version=version)


def free_port(project=PROJECT):
    """A pre-existing unbound port on the private network (as a user's
    Neutron port would be), made in the database."""
    pid = str(uuid.uuid4())
    psql(f"WITH p AS (INSERT INTO ports (id, network_id, mac_address, project_id, preexisting)"
         f" VALUES ('{pid}', '{PRIVATE}', 'fa:16:3e:aa:{pid[:2]}:{pid[2:4]}', '{project}', true)"
         f" RETURNING id) INSERT INTO fixed_ips (network_id, address, port_id)"
         f" SELECT '{PRIVATE}', ipam_free_address('{PRIVATE}'), id FROM p")
    return pid


class Interfaces(ApiTest):
    @classmethod
    def setUpClass(cls):
        cls.sid = boot()
        cls.other = boot(wait=False)

    @classmethod
    def tearDownClass(cls):
        for sid in (cls.sid, cls.other):
            delete_and_wait(sid)
        psql("DELETE FROM ports WHERE preexisting AND instance_uuid IS NULL AND device_owner IS NULL")

    def addresses(self):
        return [a["addr"] for a in show(self.sid)["addresses"].get("private", [])]

    def test_list_and_show(self):
        r = iface(self.sid)
        self.assertEqual(r.status, 200)
        self.assertLikeSample(r.json, "os-attach-interfaces/attach-interfaces-list-resp.json")
        self.assertMatchesSchema(r.json, "GET", "/servers/{server_id}/os-interface", "2.1")
        first = r.json["interfaceAttachments"][0]
        self.assertEqual(first["net_id"], PRIVATE)
        self.assertEqual(first["port_state"], "ACTIVE")
        self.assertEqual(first["fixed_ips"][0]["subnet_id"], "f8a6e8f8-c2ec-497c-9f23-da9616de54ef")
        self.assertIn(first["fixed_ips"][0]["ip_address"], self.addresses())
        r = iface(self.sid, port=first["port_id"])
        self.assertEqual(r.status, 200)
        self.assertLikeSample(r.json, "os-attach-interfaces/attach-interfaces-show-resp.json")
        self.assertEqual(r.json["interfaceAttachment"], first)
        r = iface(self.sid, port=first["port_id"], version="2.70")
        self.assertLikeSample(r.json, "os-attach-interfaces/v2.70/attach-interfaces-show-resp.json",
                              {"$.interfaceAttachment.tag"})
        self.assertIsNone(r.json["interfaceAttachment"]["tag"])
        r = iface(self.sid, version="2.70")
        self.assertMatchesSchema(r.json, "GET", "/servers/{server_id}/os-interface", "2.70")

    def test_show_errors(self):
        self.assertFault(iface(self.sid, port=FAKE), 404, "itemNotFound",
                         f"Port id {FAKE} could not be found.")
        theirs = psql(f"SELECT id FROM ports WHERE instance_uuid = '{self.other}'")
        self.assertFault(iface(self.sid, port=theirs), 404, "itemNotFound",
                         f"Instance {self.sid} does not have a port with id {theirs}")
        self.assertFault(iface(FAKE), 404, "itemNotFound", f"Instance {FAKE} could not be found.")

    def test_attach_net_with_fixed_ip_tag_then_detach(self):
        want = "10.0.77.7"
        body = {"interfaceAttachment": {"net_id": PRIVATE, "fixed_ips": [{"ip_address": want}],
                                        "tag": "public"}}
        self.assertEqual(iface(self.sid, "POST", body=body, version="2.48").status, 400)
        r = iface(self.sid, "POST", body=body, version="2.49")
        self.assertEqual(r.status, 200, r)
        self.assertLikeSample(r.json, "os-attach-interfaces/v2.49/attach-interfaces-create-resp.json")
        self.assertMatchesSchema(r.json, "POST", "/servers/{server_id}/os-interface", "2.49")
        port = r.json["interfaceAttachment"]["port_id"]
        self.assertEqual(r.json["interfaceAttachment"]["fixed_ips"][0]["ip_address"], want)
        self.assertIn(want, self.addresses())
        r = iface(self.sid, port=port, version="2.70")
        self.assertEqual(r.json["interfaceAttachment"]["tag"], "public")
        self.assertMatchesSchema(r.json, "GET", "/servers/{server_id}/os-interface/{id}", "2.70")
        # the same address again: in use
        body = {"interfaceAttachment": {"net_id": PRIVATE, "fixed_ips": [{"ip_address": want}]}}
        self.assertFault(iface(self.sid, "POST", body=body), 409, "conflictingRequest",
                         f"Fixed IP address {want} is already in use on instance {self.sid}.")
        actions = request("GET", f"/v2.1/servers/{self.sid}/os-instance-actions",
                          token=MEMBER).json["instanceActions"]
        self.assertIn("attach_interface", [a["action"] for a in actions])
        r = iface(self.sid, "DELETE", port=port)
        self.assertEqual(r.status, 202)
        self.assertNotIn(want, self.addresses())
        self.assertEqual(psql(f"SELECT count(*) FROM ports WHERE id = '{port}'"), "0")
        self.assertFault(iface(self.sid, "DELETE", port=port), 404, "itemNotFound",
                         f"Port {port} is not attached")
        actions = request("GET", f"/v2.1/servers/{self.sid}/os-instance-actions",
                          token=MEMBER).json["instanceActions"]
        self.assertIn("detach_interface", [a["action"] for a in actions])

    def test_attach_default_network(self):
        r = iface(self.sid, "POST", body={"interfaceAttachment": {}})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json["interfaceAttachment"]["net_id"], PRIVATE)
        port = r.json["interfaceAttachment"]["port_id"]
        self.assertEqual(len(iface(self.sid).json["interfaceAttachments"]), 2)
        self.assertEqual(iface(self.sid, "DELETE", port=port).status, 202)

    def test_attach_existing_port(self):
        pid = free_port()
        r = iface(self.sid, "POST", body={"interfaceAttachment": {"port_id": pid}})
        self.assertEqual(r.status, 200, r)
        self.assertLikeSample(r.json, "os-attach-interfaces/attach-interfaces-create-resp.json")
        self.assertEqual(r.json["interfaceAttachment"]["port_id"], pid)
        self.assertFault(iface(self.other, "POST", body={"interfaceAttachment": {"port_id": pid}}),
                         409, "conflictingRequest", f"Port {pid} is still in use.")
        self.assertEqual(iface(self.sid, "DELETE", port=pid).status, 202)
        # a port the user brought is kept, unbound
        self.assertEqual(psql(f"SELECT count(*) FROM ports WHERE id = '{pid}'"
                              " AND instance_uuid IS NULL"), "1")

    def test_attach_errors(self):
        post = lambda a, **kw: iface(self.sid, "POST", body={"interfaceAttachment": a}, **kw)
        self.assertFault(post({"net_id": PRIVATE, "port_id": FAKE}), 400, "badRequest",
                         "Must not input both network_id and port_id")
        self.assertFault(post({"fixed_ips": [{"ip_address": "10.0.0.9"}]}), 400, "badRequest",
                         "Must input network_id when request IP address")
        self.assertFault(post({"net_id": FAKE}), 404, "itemNotFound",
                         f"Network {FAKE} could not be found.")
        self.assertFault(post({"port_id": FAKE}), 404, "itemNotFound",
                         f"Port id {FAKE} could not be found.")
        self.assertEqual(post({"net_id": "nope"}).status, 400)  # schema: uuid
        self.assertFault(post({"net_id": PRIVATE, "fixed_ips": [{"ip_address": "10.9.0.1"}]}),
                         400, "badRequest")
        r = iface(FAKE, "POST", body={"interfaceAttachment": {}})
        self.assertFault(r, 404, "itemNotFound", f"Instance {FAKE} could not be found.")

    def test_locked_and_wrong_state(self):
        act = lambda body, token="admin:admin": request(
            "POST", f"/v2.1/servers/{self.sid}/action", body, token=token)
        self.assertEqual(act({"lock": None}).status, 202)
        try:
            self.assertFault(iface(self.sid, "POST", body={"interfaceAttachment": {}}), 409,
                             "conflictingRequest", f"Instance {self.sid} is locked")
            port = iface(self.sid).json["interfaceAttachments"][0]["port_id"]
            self.assertFault(iface(self.sid, "DELETE", port=port), 409, "conflictingRequest",
                             f"Instance {self.sid} is locked")
        finally:
            self.assertEqual(act({"unlock": None}).status, 202)
        self.assertEqual(act({"os-resetState": {"state": "error"}}).status, 202)
        try:
            self.assertFault(iface(self.sid, "POST", body={"interfaceAttachment": {}}), 409,
                             "conflictingRequest",
                             f"Cannot 'attach_interface' instance {self.sid} while it is in"
                             " vm_state error")
        finally:
            self.assertEqual(act({"os-resetState": {"state": "active"}}).status, 202)


class MultiNic(ApiTest):
    @classmethod
    def setUpClass(cls):
        cls.sid = boot()

    @classmethod
    def tearDownClass(cls):
        delete_and_wait(cls.sid)

    def act(self, body, version=None):
        return request("POST", f"/v2.1/servers/{self.sid}/action", body, token=MEMBER,
                       version=version)

    def test_add_then_remove_fixed_ip(self):
        before = [a["addr"] for a in show(self.sid)["addresses"]["private"]]
        r = self.act({"addFixedIp": {"networkId": PRIVATE}})
        self.assertEqual(r.status, 202)
        self.assertEqual(r.data, b"")
        after = [a["addr"] for a in show(self.sid)["addresses"]["private"]]
        self.assertEqual(len(after), len(before) + 1)
        added = [a for a in after if a not in before][0]
        r = self.act({"removeFixedIp": {"address": added}})
        self.assertEqual(r.status, 202)
        self.assertEqual([a["addr"] for a in show(self.sid)["addresses"]["private"]], before)
        self.assertFault(self.act({"removeFixedIp": {"address": added}}), 400, "badRequest",
                         f"Instance {self.sid} does not have fixed IP '{added}'.")

    def test_errors(self):
        self.assertFault(self.act({"addFixedIp": {"networkId": FAKE}}), 400, "badRequest",
                         f"Network {FAKE} could not be found.")
        self.assertEqual(self.act({"addFixedIp": {"networkId": PRIVATE}}, version="2.44").status,
                         404)
        self.assertEqual(self.act({"removeFixedIp": {"address": "10.0.0.1"}},
                                  version="2.44").status, 404)
        self.assertEqual(self.act({"addFixedIp": {}}).status, 400)
        r = request("POST", f"/v2.1/servers/{FAKE}/action", {"addFixedIp": {"networkId": PRIVATE}},
                    token=MEMBER)
        self.assertFault(r, 404, "itemNotFound", f"Instance {FAKE} could not be found.")


if __name__ == "__main__":
    unittest.main()
