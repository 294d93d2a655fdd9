"""The fault matrix as a test: on a private stack of four simulated hosts
(started here, stopped at the end), a storm of boots then of deletes while
one process of the stack is killed with -9 and started again with
`scripts/stack.sh start` — an API worker, the API master, nginx, a
conductor worker, the conductor supervisor, the scheduler, a compute,
RabbitMQ, PostgreSQL — and a storm of resizes under some of them. Each row
asserts what must hold whatever was killed: every accepted boot ACTIVE,
none ERROR, every delete gone (deletes and resizes are sent again while
the stack answers 503, as a client honouring Retry-After does), nothing doubled (guests on each
hypervisor = servers there, node usage = claims, one create action per
server), each 503 with Retry-After, and no build left for the build
timeout to re-drive. The figures (accepted, ACTIVE, ERROR, p99 time to
ACTIVE) are printed, not asserted: bench/faults.sh measures them.

Sizes: FAULTS_BOOTS (60) boots and FAULTS_RESIZES (12) resizes per row,
FAULTS_PAR (8) at a time; the stack: tests/faults/faults.py's DEFAULTS
unless CNOVA_* say otherwise."""
import os, sys, time, unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import faults  # noqa: E402

BOOTS = int(os.environ.get("FAULTS_BOOTS", "60"))
RESIZES = int(os.environ.get("FAULTS_RESIZES", "12"))
PAR = int(os.environ.get("FAULTS_PAR", "8"))
BOUND = 180  # seconds a storm may take to settle: ends the test, never a figure
BUILD_TIMEOUT = 120  # [conductor] build_timeout: no build may have waited for it
RESIZE_ROWS = ("conductor-worker", "compute", "rabbitmq", "postgresql")

stack = None


def setUpModule():
    global stack
    stack = faults.Stack()
    stack.fresh()


def tearDownModule():
    if stack:
        stack.stop()


class FaultMatrix(unittest.TestCase):
    def assertNothingDoubled(self, fault):
        # A host's usage is what it last reported: a report lost in the
        # fault is made good by the next periodic one ([compute]
        # update_resources_interval, 30 s), so a mismatch must outlast that.
        deadline = time.time() + 35
        while True:
            got = faults.checks(stack)
            if not got or time.time() > deadline:
                break
            time.sleep(1)
        self.assertEqual(got, {}, f"after {fault}")

    def row(self, fault):
        b = faults.boot_storm(stack, fault, BOOTS, PAR, BOUND)
        print("\n  " + faults.fmt(b), flush=True)
        self.assertGreater(b["accepted"], 0, b["answers"])
        self.assertEqual(b["error"], 0, "accepted boots in ERROR")
        self.assertEqual(b["active"], b["accepted"], f"accepted boots not ACTIVE ({b['answers']})")
        self.assertLess(b["max"], BUILD_TIMEOUT, "a build waited for the build timeout")
        self.assertEqual(b["no_retry_after"], 0, "503 without Retry-After")
        self.assertEqual(set(b["answers"]) - {202, 503, 502, 0}, set(), b["answers"])
        self.assertNothingDoubled(fault)

        d = faults.delete_storm(stack, fault, b["project"], PAR, BOUND)
        print("  " + faults.fmt(d), flush=True)
        self.assertEqual(d["accepted"], d["sent"], "deletes still refused after the restart")
        self.assertEqual(d["left"], 0, "accepted deletes not done")
        self.assertEqual(d["error"], 0)
        self.assertTrue(faults.cleanup(stack, b["project"]), "servers left after the row")
        self.assertNothingDoubled(fault)

        if fault in RESIZE_ROWS and RESIZES:
            r = faults.resize_storm(stack, fault, RESIZES, PAR, BOUND)
            print("  " + faults.fmt(r), flush=True)
            self.assertEqual(r["accepted"], r["sent"], "resizes still refused after the restart")
            self.assertEqual(r["error"], 0)
            self.assertEqual(r["resized"], r["accepted"], "accepted resizes not VERIFY_RESIZE")
            self.assertEqual(r["active"], r["accepted"], "confirmed resizes not ACTIVE m1.small")
            self.assertNothingDoubled(fault)
            self.assertTrue(faults.cleanup(stack, r["project"]))
            self.assertNothingDoubled(fault)


def _make(fault):
    def test(self):
        self.row(fault)
    test.__doc__ = f"boot and delete storms{' and a resize storm' if fault in RESIZE_ROWS else ''}, " \
                   f"kill -9: {fault}"
    return test


for _i, _f in enumerate(faults.FAULTS):
    setattr(FaultMatrix, f"test_{_i:02d}_{_f.replace('-', '_')}", _make(_f))


if __name__ == "__main__":
    unittest.main()
