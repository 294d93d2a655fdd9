"""test_server_actions.py: the simple server actions end to end — a server
is booted through the API and driven through os-stop / os-start / pause /
unpause / suspend / resume / reboot (API -> outbox -> conductor -> compute
on libvirt's test driver -> conductor), with the states GET /servers/{id}
shows at each step; lock / unlock, os-resetState, changePassword,
trigger_crash_dump and injectNetworkInfo; Nova's 409s (wrong state, locked,
not ready), 404s, 403s and the instance actions each one records."""
import unittest

from common import FAKE, ServerFixtures, psql, request, server_show, server_wait

IMAGE = "70a599e0-31e7-49b7-b260-868f441e862b"  # seeded by 007_images_seed.sql
PROJECT = "sa-proj"
MEMBER = "sa-member:" + PROJECT
OTHER = "sa-other:sa-other-proj"


def action(sid, body, token=MEMBER, version=None):
    return request("POST", f"/v2.1/servers/{sid}/action", body, token=token, version=version)


def setUpModule():
    for res in ("instances", "cores", "ram"):
        psql(f"INSERT INTO quotas (project_id, resource, hard_limit) VALUES ('{PROJECT}', '{res}',"
             f" -1) ON CONFLICT (project_id, resource) DO UPDATE SET hard_limit = -1")


class ServerActions(ServerFixtures):
    servers = []

    @classmethod
    def boot(cls, wait=True):
        return super().boot(MEMBER, IMAGE, prefix="sa", wait=wait)

    @classmethod
    def setUpClass(cls):
        cls.sid = cls.boot()

    def actions(self, sid):
        r = request("GET", f"/v2.1/servers/{sid}/os-instance-actions", token="admin:admin")
        self.assertEqual(r.status, 200, r)
        return [a["action"] for a in r.json["instanceActions"]]

    def assertState(self, s, status, vm, power):
        self.assertEqual(s["status"], status)
        self.assertEqual(s["OS-EXT-STS:vm_state"], vm)
        self.assertIsNone(s["OS-EXT-STS:task_state"])
        self.assertEqual(s["OS-EXT-STS:power_state"], power)

    # ---- the power cycle ---------------------------------------------------
    def test_1_power_cycle(self):
        sid = self.sid
        steps = [  # action body, status, vm_state, power_state, instance action
            ({"os-stop": None}, "SHUTOFF", "stopped", 4, "stop"),
            ({"os-start": None}, "ACTIVE", "active", 1, "start"),
            ({"pause": None}, "PAUSED", "paused", 3, "pause"),
            ({"unpause": None}, "ACTIVE", "active", 1, "unpause"),
            ({"suspend": None}, "SUSPENDED", "suspended", 4, "suspend"),
            ({"resume": None}, "ACTIVE", "active", 1, "resume"),
            ({"reboot": {"type": "SOFT"}}, "ACTIVE", "active", 1, "reboot"),
            ({"reboot": {"type": "hard"}}, "ACTIVE", "active", 1, "reboot"),
        ]
        for body, status, vm, power, name in steps:
            with self.subTest(body=body):
                r = action(sid, body)
                self.assertEqual(r.status, 202, r)
                self.assertEqual(r.data, b"")
                self.assertState(self.wait(sid, status), status, vm, power)
                self.assertEqual(self.actions(sid)[0], name)
        # every compute event finished with Success
        got = psql("SELECT string_agg(DISTINCT coalesce(result, 'open'), ',') FROM"
                   " instance_actions_events e JOIN instance_actions a ON a.id = e.action_id"
                   f" WHERE a.instance_uuid = '{sid}' AND e.event LIKE 'compute_%'"
                   " AND e.event <> 'compute__do_build_and_run_instance'")
        self.assertEqual(got, "Success")

    def test_2_task_in_flight_conflicts(self):
        sid = self.sid
        self.wait(sid, "ACTIVE")
        # a task in flight (held here: the test driver finishes at once)
        psql(f"UPDATE instances SET task_state = 'rebooting' WHERE uuid = '{sid}'")
        try:
            s = server_show(sid)
            self.assertEqual((s["status"], s["OS-EXT-STS:task_state"]), ("REBOOT", "rebooting"))
            for body, name in [({"pause": None}, "pause"), ({"os-stop": None}, "stop"),
                               ({"reboot": {"type": "SOFT"}}, "reboot")]:
                with self.subTest(body=body):
                    self.assertFault(action(sid, body), 409, "conflictingRequest",
                                     f"Cannot '{name}' instance {sid} while it is in task_state"
                                     " rebooting")
            # a hard reboot may take over a soft one (Nova's ALLOW_REBOOT)
            self.assertEqual(action(sid, {"reboot": {"type": "HARD"}}).status, 202)
        finally:
            self.wait(sid, "ACTIVE")

    # ---- Nova's 409s ---------------------------------------------------------
    def test_3_wrong_state_conflicts(self):
        sid = self.sid
        self.wait(sid, "ACTIVE")
        cases = [
            ({"os-start": None}, "start"),
            ({"unpause": None}, "unpause"),
            ({"resume": None}, "resume"),
        ]
        for body, name in cases:
            with self.subTest(body=body):
                self.assertFault(action(sid, body), 409, "conflictingRequest",
                                 f"Cannot '{name}' instance {sid} while it is in vm_state active")
        self.assertEqual(action(sid, {"os-stop": None}).status, 202)
        self.wait(sid, "SHUTOFF")
        for body, name in [({"os-stop": None}, "stop"), ({"pause": None}, "pause"),
                           ({"suspend": None}, "suspend"), ({"reboot": {"type": "SOFT"}}, "reboot"),
                           ({"changePassword": {"adminPass": "x"}}, "changePassword")]:
            with self.subTest(body=body):
                self.assertFault(action(sid, body), 409, "conflictingRequest",
                                 f"Cannot '{name}' instance {sid} while it is in vm_state stopped")
        # a hard reboot starts a stopped server
        self.assertEqual(action(sid, {"reboot": {"type": "HARD"}}).status, 202)
        self.assertState(self.wait(sid, "ACTIVE"), "ACTIVE", "active", 1)

    def test_4_unknown_server_and_other_project(self):
        for body in ({"os-start": None}, {"os-stop": None}, {"pause": None}, {"lock": None},
                     {"reboot": {"type": "HARD"}}, {"unlock": None}):
            with self.subTest(body=body):
                self.assertFault(action(FAKE, body), 404, "itemNotFound",
                                 f"Instance {FAKE} could not be found.")
                self.assertFault(action(self.sid, body, token=OTHER), 404, "itemNotFound")

    def test_5_schema_and_policy(self):
        r = action(self.sid, {"reboot": {"type": "WARM"}})
        self.assertFault(r, 400, "badRequest")
        r = action(self.sid, {"reboot": {}})
        self.assertFault(r, 400, "badRequest")
        r = action(self.sid, {"os-resetState": {"state": "active"}})
        self.assertFault(r, 403, "forbidden",
                         "Policy doesn't allow os_compute_api:os-admin-actions:reset_state")
        r = action(self.sid, {"injectNetworkInfo": None})
        self.assertFault(r, 403, "forbidden")
        r = action(self.sid, {"trigger_crash_dump": None}, version="2.16")
        self.assertFault(r, 404, "itemNotFound")  # before its microversion

    # ---- lock / unlock -------------------------------------------------------
    def test_6_lock_semantics(self):
        sid = self.sid
        self.wait(sid, "ACTIVE")
        r = action(sid, {"lock": {"locked_reason": "maintenance"}}, version="2.73")
        self.assertEqual(r.status, 202, r)
        s = server_show(sid)
        self.assertTrue(s["locked"])
        self.assertEqual(s["locked_reason"], "maintenance")
        self.assertEqual(psql(f"SELECT locked_by FROM instances WHERE uuid = '{sid}'"), "owner")
        self.assertEqual(self.actions(sid)[0], "lock")
        # locked: the owner's actions are refused, an admin's are not
        for body in ({"os-stop": None}, {"pause": None}, {"reboot": {"type": "SOFT"}},
                     {"suspend": None}, {"changePassword": {"adminPass": "x"}}):
            with self.subTest(body=body):
                self.assertFault(action(sid, body), 409, "conflictingRequest",
                                 f"Instance {sid} is locked")
        self.assertFault(request("DELETE", f"/v2.1/servers/{sid}", token=MEMBER), 409,
                         "conflictingRequest", f"Instance {sid} is locked")
        # a second lock by the owner changes nothing (no second action)
        n = len(self.actions(sid))
        self.assertEqual(action(sid, {"lock": None}).status, 202)
        self.assertEqual(len(self.actions(sid)), n)
        # the owner unlocks its own lock
        self.assertEqual(action(sid, {"unlock": None}).status, 202)
        s = server_show(sid)
        self.assertFalse(s["locked"])
        self.assertIsNone(s["locked_reason"])
        self.assertEqual(self.actions(sid)[0], "unlock")
        # an admin's lock: the owner may not lift it (unlock_override)
        self.assertEqual(action(sid, {"lock": None}, token="admin:admin").status, 202)
        self.assertEqual(psql(f"SELECT locked_by FROM instances WHERE uuid = '{sid}'"), "admin")
        self.assertFault(action(sid, {"unlock": None}), 403, "forbidden",
                         "os_compute_api:os-lock-server:unlock:unlock_override")
        # the admin acts on a locked server
        self.assertEqual(action(sid, {"reboot": {"type": "SOFT"}}, token="admin:admin").status,
                         202)
        self.wait(sid, "ACTIVE")
        self.assertEqual(action(sid, {"unlock": None}, token="admin:admin").status, 202)
        self.assertFalse(server_show(sid)["locked"])

    def test_7_lock_reason_only_from_2_73(self):
        r = action(self.sid, {"lock": {"locked_reason": "x"}}, version="2.72")
        self.assertEqual(r.status, 202, r)  # any body before 2.73, the reason ignored
        self.assertIsNone(server_show(self.sid)["locked_reason"])
        self.assertEqual(action(self.sid, {"unlock": None}).status, 202)
        r = action(self.sid, {"lock": {"locked_reason": ""}}, version="2.73")
        self.assertFault(r, 400, "badRequest")

    # ---- admin actions and the rest -------------------------------------------
    def test_8_reset_state(self):
        sid = self.boot()
        r = action(sid, {"os-resetState": {"state": "error"}}, token="admin:admin")
        self.assertEqual(r.status, 202, r)
        s = server_show(sid)
        self.assertEqual(s["status"], "ERROR")
        self.assertIsNone(s["OS-EXT-STS:task_state"])
        self.assertEqual(self.actions(sid)[0], "resetState")
        # stop is allowed from ERROR
        self.assertEqual(action(sid, {"os-stop": None}).status, 202)
        self.wait(sid, "SHUTOFF")
        # a stuck task is cleared
        psql(f"UPDATE instances SET task_state = 'powering-on' WHERE uuid = '{sid}'")
        self.assertEqual(action(sid, {"os-resetState": {"state": "active"}},
                                token="admin:admin").status, 202)
        s = server_show(sid)
        self.assertEqual((s["status"], s["OS-EXT-STS:task_state"]), ("ACTIVE", None))
        self.assertFault(action(FAKE, {"os-resetState": {"state": "active"}}, token="admin:admin"),
                         404, "itemNotFound")

    def test_8b_lost_answer_ends_the_task(self):
        """A host that never answers (message or host lost): after
        [conductor] action_timeout the instance leaves the task as a failed
        action does, with a fault; it is never stuck."""
        sid = self.boot()
        r = action(sid, {"os-stop": None})
        self.assertEqual(r.status, 202, r)
        server_wait(sid, "SHUTOFF")
        # as if the answer of the next stop had been lost, an hour ago
        psql(f"UPDATE instances SET vm_state = 'active', power_state = 1,"
             f" task_state = 'powering-off', updated_at = now() - interval '1 hour'"
             f" WHERE uuid = '{sid}'")
        s = server_wait(sid, "ACTIVE", seconds=30)
        self.assertEqual(s["OS-EXT-STS:vm_state"], "active")
        fault = psql(f"SELECT message FROM instance_faults WHERE instance_uuid = '{sid}'"
                     f" ORDER BY id DESC LIMIT 1")
        self.assertRegex(fault, r"^No answer in \d+ s while in task_state powering-off$")

    def test_9_change_password_crash_dump_inject(self):
        sid = self.sid
        self.wait(sid, "ACTIVE")
        r = action(sid, {"changePassword": {"adminPass": "s3cret"}})
        self.assertEqual(r.status, 202, r)
        self.wait(sid, "ACTIVE")
        self.assertEqual(self.actions(sid)[0], "changePassword")
        r = action(sid, {"trigger_crash_dump": None}, version="2.17")
        self.assertEqual(r.status, 202, r)
        self.assertEqual(self.actions(sid)[0], "trigger_crash_dump")
        r = action(sid, {"injectNetworkInfo": None}, token="admin:admin")
        self.assertEqual(r.status, 202, r)
        self.assertEqual(self.actions(sid)[0], "trigger_crash_dump")  # records none
        # crash dump needs a running-ish server: not from SHUTOFF
        self.assertEqual(action(sid, {"os-stop": None}).status, 202)
        self.wait(sid, "SHUTOFF")
        self.assertFault(action(sid, {"trigger_crash_dump": None}, version="2.17"), 409,
                         "conflictingRequest",
                         f"Cannot 'trigger_crash_dump' instance {sid} while it is in vm_state"
                         " stopped")
        self.assertEqual(action(sid, {"os-start": None}).status, 202)
        self.wait(sid, "ACTIVE")

    def test_a_not_ready_without_host(self):
        # an ERROR server that never got a host: start/stop are "not ready"
        sid = self.boot(wait=False)
        self.wait(sid, "ACTIVE")
        host = psql(f"SELECT host FROM instances WHERE uuid = '{sid}'")
        psql(f"UPDATE instances SET host = NULL, vm_state = 'error' WHERE uuid = '{sid}'")
        try:
            self.assertFault(action(sid, {"os-stop": None}), 409, "conflictingRequest",
                             f"Instance {sid} is not ready")
        finally:  # the delete gives the host's claim back
            psql(f"UPDATE instances SET host = '{host}' WHERE uuid = '{sid}'")


if __name__ == "__main__":
    unittest.main()
