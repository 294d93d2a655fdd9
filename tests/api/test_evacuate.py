"""test_evacuate.py: the evacuate server action end to end (API -> outbox ->
conductor -> scheduler claim, or a forced host -> compute on the target of
libvirt's test driver -> conductor). The source host is made "down" by
forcing its nova-compute service down (os-services 2.11) and brought back
after each test. Checked: the server rebuilt on the other host, ACTIVE (or
SHUTOFF: a stopped server, and every server from 2.95), the migration row
Nova writes (type evacuation, accepted -> pre-migrating -> done; error
when no host is valid), the claims moved from the source to the target
(usage equals what instances and migrations hold), the instance action and
its events, the response per microversion against Nova's samples and the
response schemas, and Nova's 400 / 403 / 404 / 409."""
import os, signal, subprocess, time, unittest

import test_server_move as mv
from common import FAKE, REPO, RUN, ServerFixtures, psql, request, sample, stop_process

MEMBER = mv.MEMBER
SETTLE = mv.SETTLE
PATH = "/servers/{id}/action"


def evacuate(sid, body, version, token="admin:admin"):
    return request("POST", f"/v2.1/servers/{sid}/action", {"evacuate": body}, token=token,
                   version=version)


def force_down(host, down):
    r = request("PUT", "/v2.1/os-services/force-down", version="2.11",
                body={"host": host, "binary": "nova-compute", "forced_down": down})
    assert r.status == 200, r


def setUpModule():
    mv.setUpModule()


def tearDownModule():
    mv.tearDownModule()


class Evacuate(ServerFixtures):
    servers = []

    @classmethod
    def boot(cls):
        return ServerFixtures.boot.__func__(cls, MEMBER, mv.IMAGE, "mv-a", prefix="ev")

    assertClaimsExact = mv.MoveTest.assertClaimsExact
    migrations = mv.MoveTest.migrations
    actions = mv.MoveTest.actions
    events = mv.MoveTest.events

    def tearDown(self):
        for host in mv.usage():
            force_down(host, False)
        psql("UPDATE services SET disabled = false, disabled_reason = NULL"
             " WHERE \"binary\" = 'nova-compute'")
        mv.MoveTest.delete_all.__func__(type(self))

    def placed(self):
        """A new server, its host and the other host; its host forced down."""
        sid = self.boot()
        src = mv.show(sid)["OS-EXT-SRV-ATTR:host"]
        other = [h for h in mv.usage() if h != src][0]
        return sid, src, other

    def moved(self, sid, src, status="ACTIVE"):
        deadline = time.time() + SETTLE
        while mv.show(sid)["OS-EXT-SRV-ATTR:host"] == src and time.time() < deadline:
            time.sleep(0.2)
        return self.wait(sid, status)

    def test_1_evacuate_chosen_by_scheduler(self):
        sid, src, other = self.placed()
        base = mv.usage()
        # the source's compute is up: Nova refuses
        self.assertFault(evacuate(sid, {}, "2.14"), 400, "badRequest",
                         f"Compute service of {src} is still in use.")
        force_down(src, True)
        r = evacuate(sid, {}, "2.14")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.data, b"")  # nothing from 2.14
        self.assertMatchesSchema(None, "POST", PATH, "2.14", "evacuate")
        s = self.moved(sid, src)
        self.assertEqual((s["OS-EXT-SRV-ATTR:host"], s["OS-EXT-STS:vm_state"],
                          s["OS-EXT-STS:power_state"]), (other, "active", 1))
        m = self.migrations(sid)[0]
        self.assertEqual((m["migration_type"], m["status"], m["source_compute"],
                          m["dest_compute"]), ("evacuation", "done", src, other))
        # the source's claim went back, the target holds the instance's
        u = mv.usage()
        self.assertEqual(u[src][3], base[src][3] - 1)
        self.assertEqual(u[other][3], base[other][3] + 1)
        self.assertClaimsExact()
        self.assertEqual(psql("SELECT count(*) FROM migrations WHERE claim IS NOT NULL AND"
                              f" instance_uuid = '{sid}'"), "0")
        self.assertEqual(self.actions(sid)[0], "evacuate")
        self.assertEqual(self.events(sid, "evacuate"),
                         f"conductor_rebuild_instance=Success@,"
                         f"compute_rebuild_instance=Success@{other}")

    def test_2_forced_host_and_password_before_2_14(self):
        sid, src, other = self.placed()
        force_down(src, True)
        req = sample("os-evacuate/server-evacuate-req.json")["evacuate"]
        req["host"] = other
        r = evacuate(sid, req, "2.1")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json, sample("os-evacuate/server-evacuate-resp.json"))
        self.assertMatchesSchema(r.json, "POST", PATH, "2.1", "evacuate")
        s = self.moved(sid, src)
        self.assertEqual(s["OS-EXT-SRV-ATTR:host"], other)
        self.assertEqual(self.migrations(sid)[0]["status"], "done")
        self.assertClaimsExact()
        # back the other way, password generated, the scheduler choosing
        force_down(src, False)
        force_down(other, True)
        r = evacuate(sid, {"onSharedStorage": "False"}, "2.13")
        self.assertEqual(r.status, 200, r)
        self.assertLikeSample(r.json, "os-evacuate/server-evacuate-find-host-resp.json")
        self.assertTrue(r.json["adminPass"])
        self.assertMatchesSchema(r.json, "POST", PATH, "2.13", "evacuate")
        s = self.moved(sid, other)
        self.assertEqual(s["OS-EXT-SRV-ATTR:host"], src)
        # on shared storage there is no password to give
        force_down(other, False)
        force_down(src, True)
        r = evacuate(sid, {"onSharedStorage": True, "host": other}, "2.1")
        self.assertEqual((r.status, r.json), (200, {"adminPass": None}), r)
        self.assertMatchesSchema(r.json, "POST", PATH, "2.1", "evacuate")
        self.moved(sid, src)
        self.assertClaimsExact()

    def test_3_force_2_29_and_samples_per_version(self):
        sid, src, other = self.placed()
        force_down(src, True)
        req = sample("os-evacuate/v2.29/server-evacuate-req.json")["evacuate"]
        req.update(host=other, force=True)
        r = evacuate(sid, req, "2.29")
        self.assertEqual((r.status, r.data), (200, b""), r)
        s = self.moved(sid, src)
        self.assertEqual(s["OS-EXT-SRV-ATTR:host"], other)
        force_down(src, False)
        force_down(other, True)
        # the samples' bodies of 2.68 and 2.14 (host-less) are accepted
        r = evacuate(sid, sample("os-evacuate/v2.68/server-evacuate-find-host-req.json")
                     ["evacuate"], "2.68")
        self.assertEqual((r.status, r.data), (200, b""), r)
        s = self.moved(sid, other)
        self.assertEqual((s["OS-EXT-SRV-ATTR:host"], s["status"]), (src, "ACTIVE"))
        self.assertEqual([m["status"] for m in self.migrations(sid)], ["done", "done"])
        self.assertClaimsExact()

    def test_4_stopped_from_2_95_and_stopped_stays_stopped(self):
        sid, src, other = self.placed()
        force_down(src, True)
        r = evacuate(sid, sample("os-evacuate/v2.95/server-evacuate-req.json")["evacuate"]
                     | {"host": other}, "2.95")
        self.assertEqual((r.status, r.data), (200, b""), r)
        self.assertMatchesSchema(None, "POST", PATH, "2.95", "evacuate")
        s = self.moved(sid, src, "SHUTOFF")
        self.assertEqual((s["OS-EXT-SRV-ATTR:host"], s["OS-EXT-STS:vm_state"],
                          s["OS-EXT-STS:power_state"]), (other, "stopped", 4))
        self.assertEqual(self.migrations(sid)[0]["status"], "done")
        # a stopped server evacuated before 2.95 stays stopped too
        force_down(src, False)
        force_down(other, True)
        r = evacuate(sid, {}, "2.94")
        self.assertEqual(r.status, 200, r)
        s = self.moved(sid, other, "SHUTOFF")
        self.assertEqual(s["OS-EXT-SRV-ATTR:host"], src)
        self.assertClaimsExact()

    def test_5_errors(self):
        sid, src, other = self.placed()
        self.assertFault(evacuate(sid, {}, "2.14", token=MEMBER), 403, "forbidden")
        self.assertFault(evacuate(FAKE, {}, "2.14"), 404, "itemNotFound",
                         f"Instance {FAKE} could not be found.")
        self.assertFault(evacuate(sid, {"host": "ev-nohost"}, "2.14"), 404, "itemNotFound",
                         "Compute host ev-nohost not found.")
        self.assertFault(evacuate(sid, {"host": src}, "2.14"), 400, "badRequest",
                         "The target host can't be the same one.")
        self.assertFault(evacuate(sid, {"force": True}, "2.29"), 400, "badRequest",
                         "Can't force to a non-provided destination")
        self.assertFault(evacuate(sid, {"host": other, "force": True}, "2.68"), 400,
                         "badRequest")  # no force since 2.68
        self.assertFault(evacuate(sid, {}, "2.13"), 400, "badRequest")  # onSharedStorage
        self.assertFault(evacuate(sid, {"onSharedStorage": True, "adminPass": "x"}, "2.13"), 400,
                         "badRequest", "admin password can't be changed on existing disk")
        self.assertFault(evacuate(sid, {"onSharedStorage": True}, "2.14"), 400, "badRequest")
        self.assertFault(evacuate(sid, {}, "2.14"), 400, "badRequest",
                         f"Compute service of {src} is still in use.")
        force_down(src, True)
        self.assertEqual(mv.action(sid, {"pause": None}, token="admin:admin").status, 202)
        self.wait(sid, "PAUSED")
        self.assertFault(evacuate(sid, {}, "2.14"), 409, "conflictingRequest",
                         f"Cannot 'evacuate' instance {sid} while it is in vm_state paused")
        psql(f"UPDATE instances SET vm_state = 'active', task_state = 'rebooting'"
             f" WHERE uuid = '{sid}'")
        self.assertFault(evacuate(sid, {}, "2.14"), 409, "conflictingRequest",
                         f"Cannot 'evacuate' instance {sid} while it is in task_state rebooting")
        psql(f"UPDATE instances SET task_state = NULL, power_state = 1 WHERE uuid = '{sid}'")
        # a locked server can be evacuated (Nova has no lock check there)
        psql(f"UPDATE instances SET locked = true WHERE uuid = '{sid}'")
        r = evacuate(sid, {}, "2.14")
        self.assertEqual(r.status, 200, r)
        self.moved(sid, src)
        self.assertEqual(self.migrations(sid)[0]["status"], "done")
        self.assertClaimsExact()

    def test_6_no_valid_host(self):
        sid, src, other = self.placed()
        base = mv.usage()
        force_down(src, True)
        r = request("PUT", "/v2.1/os-services/disable", {"host": other, "binary": "nova-compute"})
        self.assertEqual(r.status, 200, r)
        r = evacuate(sid, {}, "2.14")
        self.assertEqual(r.status, 200, r)
        s = self.wait(sid, "ERROR")
        self.assertEqual(s["OS-EXT-SRV-ATTR:host"], src)  # where it was
        self.assertIn("No valid host", mv.show(sid, "2.1")["fault"]["message"])
        m = self.migrations(sid)[0]
        self.assertEqual((m["migration_type"], m["status"]), ("evacuation", "error"))
        self.assertEqual(mv.usage(), base)
        self.assertClaimsExact()
        # an ERROR server may be evacuated again once a host is valid; it ends ACTIVE
        r = request("PUT", "/v2.1/os-services/enable", {"host": other, "binary": "nova-compute"})
        self.assertEqual(r.status, 200, r)
        r = evacuate(sid, {"host": other}, "2.29")
        self.assertEqual(r.status, 200, r)
        s = self.moved(sid, src)
        self.assertEqual((s["OS-EXT-SRV-ATTR:host"], s["OS-EXT-STS:vm_state"]), (other, "active"))
        self.assertClaimsExact()

    def test_7_source_back_drops_its_copy(self):
        """Nova's _destroy_evacuated_instances: the source's cnova-compute,
        started again, drops the guests evacuated from it and the finished
        evacuations become completed."""
        sid, src, other = self.placed()
        force_down(src, True)
        self.assertEqual(evacuate(sid, {}, "2.14").status, 200)
        self.moved(sid, src)
        self.assertEqual(self.migrations(sid)[0]["status"], "done")
        stop_process(os.path.join(RUN, "pids", f"cnova-compute-{src}.pid"), signal.SIGTERM)
        subprocess.run([os.path.join(REPO, "scripts", "stack.sh"), "start"], check=True,
                       stdout=subprocess.DEVNULL)
        deadline = time.time() + SETTLE
        while self.migrations(sid)[0]["status"] != "completed" and time.time() < deadline:
            time.sleep(0.3)
        m = self.migrations(sid)[0]
        self.assertEqual((m["migration_type"], m["status"], m["source_compute"]),
                         ("evacuation", "completed", src))
        s = self.wait(sid, "ACTIVE")
        self.assertEqual(s["OS-EXT-SRV-ATTR:host"], other)
        self.assertClaimsExact()


if __name__ == "__main__":
    unittest.main()
