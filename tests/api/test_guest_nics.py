"""test_guest_nics.py: the libvirt guest matches the server's ports, as
Nova's libvirt driver keeps it: one bridged <interface> per port (its MAC,
target tap + port id[:11]) from the build, kept across a cold migration;
os-interface attach / detach and os-multinic addFixedIp / removeFixedIp
plug and unplug it on the host (the compute_attach_interface /
compute_detach_interface events), and a hot plug the hypervisor refuses
rolls the port back (event Error, Nova's fault message). What the guest
has is read through GET /servers/{id}/diagnostics, which asks the host for
the domain's interfaces (nic_details from 2.48, <tap>_rx... before)."""
import time, unittest, uuid

from common import ApiTest, psql, request
from test_networks import IMAGE, PRIVATE, boot, delete_and_wait, show, wait_status

PROJECT = "net-proj"
MEMBER = "net-member:" + PROJECT
SETTLE = 60
IMAGE2 = "155d900f-4e14-4e4c-a73d-069cbf4541e6"  # seeded by 007_images_seed.sql


def setUpModule():
    for res in ("instances", "cores", "ram"):
        psql(f"INSERT INTO quotas (project_id, resource, hard_limit) VALUES ('{PROJECT}', '{res}',"
             f" -1) ON CONFLICT (project_id, resource) DO UPDATE SET hard_limit = -1")


def port_macs(sid):
    out = psql(f"SELECT string_agg(mac_address, ',' ORDER BY mac_address) FROM ports"
               f" WHERE instance_uuid = '{sid}'")
    return sorted(out.split(",")) if out else []


def port_ids(sid):
    out = psql(f"SELECT string_agg(id::text, ',' ORDER BY id) FROM ports"
               f" WHERE instance_uuid = '{sid}'")
    return out.split(",") if out else []


def guest_nics(sid, version="2.48"):
    r = request("GET", f"/v2.1/servers/{sid}/diagnostics", version=version)
    assert r.status == 200, r
    return r.json


def guest_macs(sid):
    return sorted(n["mac_address"] for n in guest_nics(sid)["nic_details"])


def events(sid, action):
    """`event=result` of the server's latest `action`, oldest first."""
    return psql(f"SELECT string_agg(e.event || '=' || coalesce(e.result, ''), ',' ORDER BY e.id)"
                f" FROM instance_actions_events e WHERE e.action_id = (SELECT id FROM"
                f" instance_actions WHERE instance_uuid = '{sid}' AND action = '{action}'"
                f" ORDER BY id DESC LIMIT 1)") or ""


class GuestNics(ApiTest):
    @classmethod
    def setUpClass(cls):
        cls.sid = boot(networks=[{"uuid": PRIVATE}, {"uuid": PRIVATE}])

    @classmethod
    def tearDownClass(cls):
        delete_and_wait(cls.sid)
        psql("DELETE FROM ports WHERE preexisting AND instance_uuid IS NULL AND device_owner IS NULL")

    def settle(self, want_macs):
        """Waits until the guest's interfaces are exactly `want_macs`."""
        deadline = time.time() + SETTLE
        while guest_macs(self.sid) != sorted(want_macs):
            if time.time() > deadline:
                self.fail(f"guest has {guest_macs(self.sid)}, ports are {sorted(want_macs)}")
            time.sleep(0.3)

    def wait_event(self, action, event):
        """The events of `action` once `event` has a result."""
        deadline = time.time() + SETTLE
        while True:
            got = events(self.sid, action)
            if any(e.startswith(event + "=") and e != event + "=" for e in got.split(",")):
                return got
            if time.time() > deadline:
                self.fail(f"{event} of {action} unfinished: {got}")
            time.sleep(0.3)

    def test_1_boot_defines_one_nic_per_port(self):
        macs = port_macs(self.sid)
        self.assertEqual(len(macs), 2)
        d = guest_nics(self.sid)
        self.assertMatchesSchema(d, "GET", "/servers/{server_id}/diagnostics", "2.48")
        self.assertEqual(d["num_nics"], 2)
        self.assertEqual(sorted(n["mac_address"] for n in d["nic_details"]), macs)
        for n in d["nic_details"]:
            self.assertIsNone(n["rx_octets"])
        # before 2.48: libvirt's keys, named after each tap device (tap + port id[:11])
        legacy = guest_nics(self.sid, version="2.47")
        taps = sorted(k[:-3] for k in legacy if k.endswith("_rx"))
        self.assertEqual(taps, sorted("tap" + p[:11] for p in port_ids(self.sid)))
        self.assertEqual(legacy[taps[0] + "_tx_packets"], 0)

    def test_2_attach_then_detach(self):
        before = port_macs(self.sid)
        r = request("POST", f"/v2.1/servers/{self.sid}/os-interface",
                    {"interfaceAttachment": {"net_id": PRIVATE}}, token=MEMBER)
        self.assertEqual(r.status, 200, r)
        port = r.json["interfaceAttachment"]["port_id"]
        mac = r.json["interfaceAttachment"]["mac_addr"]
        self.settle(before + [mac])
        self.assertEqual(self.wait_event("attach_interface", "compute_attach_interface"),
                         "compute_attach_interface=Success")
        r = request("DELETE", f"/v2.1/servers/{self.sid}/os-interface/{port}", token=MEMBER)
        self.assertEqual(r.status, 202, r)
        self.settle(before)
        self.assertEqual(self.wait_event("detach_interface", "compute_detach_interface"),
                         "compute_detach_interface=Success")
        self.assertEqual(port_macs(self.sid), before)

    def test_3_add_then_remove_fixed_ip(self):
        before = port_macs(self.sid)
        r = request("POST", f"/v2.1/servers/{self.sid}/action",
                    {"addFixedIp": {"networkId": PRIVATE}}, token=MEMBER)
        self.assertEqual(r.status, 202, r)
        after = port_macs(self.sid)
        self.assertEqual(len(after), len(before) + 1)
        self.settle(after)
        added = psql(f"SELECT host(f.address) FROM fixed_ips f JOIN ports p ON p.id = f.port_id"
                     f" WHERE p.instance_uuid = '{self.sid}' AND p.mac_address ="
                     f" '{[m for m in after if m not in before][0]}'")
        r = request("POST", f"/v2.1/servers/{self.sid}/action",
                    {"removeFixedIp": {"address": added}}, token=MEMBER)
        self.assertEqual(r.status, 202, r)
        self.settle(before)

    def test_4_refused_hot_plug_rolls_the_port_back(self):
        """A port whose MAC the hypervisor rejects: the attach answers (a
        cast, as every hypervisor write here), then the host refuses, the
        port is unbound again, the event is Error and the fault is Nova's."""
        before = port_macs(self.sid)
        pid = str(uuid.uuid4())
        psql(f"WITH p AS (INSERT INTO ports (id, network_id, mac_address, project_id,"
             f" preexisting) VALUES ('{pid}', '{PRIVATE}', 'not-a-mac-{pid[:8]}', '{PROJECT}',"
             f" true) RETURNING id) INSERT INTO fixed_ips (network_id, address, port_id)"
             f" SELECT '{PRIVATE}', ipam_free_address('{PRIVATE}'), id FROM p")
        r = request("POST", f"/v2.1/servers/{self.sid}/os-interface",
                    {"interfaceAttachment": {"port_id": pid}}, token=MEMBER)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(self.wait_event("attach_interface", "compute_attach_interface"),
                         "compute_attach_interface=Error")
        self.assertEqual(psql(f"SELECT coalesce(instance_uuid::text, 'unbound') FROM ports"
                              f" WHERE id = '{pid}'"), "unbound")
        self.assertEqual(port_macs(self.sid), before)
        self.assertEqual(guest_macs(self.sid), before)
        self.assertEqual(psql(f"SELECT message FROM instance_faults WHERE instance_uuid ="
                              f" '{self.sid}' ORDER BY id DESC LIMIT 1"),
                         f"Failed to attach network adapter device to {self.sid}")
        r = request("GET", f"/v2.1/servers/{self.sid}/os-interface", token=MEMBER)
        self.assertNotIn(pid, [a["port_id"] for a in r.json["interfaceAttachments"]])
        self.assertEqual(show(self.sid)["status"], "ACTIVE")

    def test_5_cold_migration_keeps_the_nics(self):
        macs = port_macs(self.sid)
        src = show(self.sid, "2.1")["OS-EXT-SRV-ATTR:host"]
        r = request("POST", f"/v2.1/servers/{self.sid}/action", {"migrate": None})
        self.assertEqual(r.status, 202, r)
        wait_status(self.sid, "VERIFY_RESIZE")
        r = request("POST", f"/v2.1/servers/{self.sid}/action", {"confirmResize": None})
        self.assertEqual(r.status, 204, r)
        s = wait_status(self.sid, "ACTIVE")
        self.assertNotEqual(s["OS-EXT-SRV-ATTR:host"], src)
        self.settle(macs)

    def test_6_live_migration_keeps_the_nics(self):
        macs = port_macs(self.sid)
        src = show(self.sid, "2.1")["OS-EXT-SRV-ATTR:host"]
        r = request("POST", f"/v2.1/servers/{self.sid}/action",
                    {"os-migrateLive": {"block_migration": "auto", "host": None}}, version="2.25")
        self.assertEqual(r.status, 202, r)
        deadline = time.time() + SETTLE
        while show(self.sid)["OS-EXT-SRV-ATTR:host"] == src and time.time() < deadline:
            time.sleep(0.2)
        wait_status(self.sid, "ACTIVE")
        self.assertNotEqual(show(self.sid)["OS-EXT-SRV-ATTR:host"], src)
        self.settle(macs)

    def test_7_rebuild_keeps_the_nics(self):
        macs = port_macs(self.sid)
        r = request("POST", f"/v2.1/servers/{self.sid}/action",
                    {"rebuild": {"imageRef": IMAGE2}}, token=MEMBER)
        self.assertEqual(r.status, 202, r)
        wait_status(self.sid, "ACTIVE")
        self.settle(macs)

    def test_8_unshelve_defines_the_nics_again(self):
        macs = port_macs(self.sid)
        r = request("POST", f"/v2.1/servers/{self.sid}/action", {"shelve": None}, token=MEMBER)
        self.assertEqual(r.status, 202, r)
        wait_status(self.sid, "SHELVED_OFFLOADED")
        # the ports stay with the offloaded server; a port added there (no
        # host to plug it into) is in the guest it gets when unshelved
        r = request("POST", f"/v2.1/servers/{self.sid}/action",
                    {"addFixedIp": {"networkId": PRIVATE}}, token=MEMBER)
        self.assertEqual(r.status, 202, r)
        self.assertEqual(len(port_macs(self.sid)), len(macs) + 1)
        macs = port_macs(self.sid)
        r = request("POST", f"/v2.1/servers/{self.sid}/action", {"unshelve": None}, token=MEMBER)
        self.assertEqual(r.status, 202, r)
        wait_status(self.sid, "ACTIVE")
        self.settle(macs)

    def test_9_refused_detach_binds_the_port_again(self):
        """The conductor's side of a detach the host refused (the compute's
        answer put in the outbox, as the test driver refuses no detach):
        the port is bound again with its MAC and fixed IP, event Error."""
        r = request("GET", f"/v2.1/servers/{self.sid}/os-interface", token=MEMBER)
        att = r.json["interfaceAttachments"][-1]
        port, mac = att["port_id"], att["mac_addr"]
        ip = att["fixed_ips"][0]["ip_address"]
        nic = psql(f"SELECT jsonb_build_object('port_id', p.id, 'mac_address', p.mac_address,"
                   f" 'network_id', p.network_id, 'mtu', 0, 'project_id', p.project_id, 'tag',"
                   f" p.tag, 'preexisting', p.preexisting, 'fixed_ips', jsonb_build_array('{ip}'))"
                   f" FROM ports p WHERE p.id = '{port}'")
        r = request("DELETE", f"/v2.1/servers/{self.sid}/os-interface/{port}", token=MEMBER)
        self.assertEqual(r.status, 202, r)
        self.wait_event("detach_interface", "compute_detach_interface")
        host = show(self.sid, "2.1")["OS-EXT-SRV-ATTR:host"]
        psql(f"UPDATE instance_actions_events SET finish_time = NULL, result = NULL WHERE"
             f" event = 'compute_detach_interface' AND action_id = (SELECT id FROM"
             f" instance_actions WHERE instance_uuid = '{self.sid}' AND action ="
             f" 'detach_interface' ORDER BY id DESC LIMIT 1)")
        psql(f"INSERT INTO outbox (topic, method, args) VALUES ('conductor', 'interface_op_done',"
             f" jsonb_build_object('uuid', '{self.sid}', 'host', '{host}', 'op',"
             f" 'detach_interface', 'ok', false, 'fault', 'refused', 'nic', '{nic}'::jsonb))")
        # the conductor publishes the outbox on its next tick
        self.assertEqual(self.wait_event("detach_interface", "compute_detach_interface"),
                         "compute_detach_interface=Error")
        self.assertEqual(psql(f"SELECT p.mac_address || ' ' || host(f.address) FROM ports p"
                              f" JOIN fixed_ips f ON f.port_id = p.id WHERE p.id = '{port}' AND"
                              f" p.instance_uuid = '{self.sid}'"), f"{mac} {ip}")
        self.assertEqual(psql(f"SELECT message FROM instance_faults WHERE instance_uuid ="
                              f" '{self.sid}' ORDER BY id DESC LIMIT 1"),
                         f"Failed to detach network adapter device from {self.sid}")
        self.assertIn(port, [a["port_id"] for a in request(
            "GET", f"/v2.1/servers/{self.sid}/os-interface", token=MEMBER).json[
                "interfaceAttachments"]])


if __name__ == "__main__":
    unittest.main()
