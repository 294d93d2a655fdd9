"""The policy file ([oslo_policy] policy_file, which scripts/stack.sh sets
to $CNOVA_RUN/policy.yaml) overrides Nova's default rules by name, and
SIGHUP to cnova-api's master process (its pid in $CNOVA_RUN/pids) makes
every worker read it again, without a restart. A bad file keeps the rules
in force."""
import os, signal, time, unittest

from common import RUN, request

POLICY = os.path.join(RUN, "policy.yaml")
PIDFILE = os.path.join(RUN, "pids", "cnova-api.pid")
MEMBER = "u1:p1"  # noauth2: a member and reader of p1, not admin
LIST = "os_compute_api:os-hypervisors:list"


def hup():
    with open(PIDFILE) as f:
        os.kill(int(f.read().split()[0]), signal.SIGHUP)


def settle(path, want, token=MEMBER):
    """Polls until path answers want, then asks a dozen times more (every
    worker of the pool must have reloaded); returns the last status."""
    deadline = time.time() + 10
    st = None
    while time.time() < deadline:
        st = request("GET", path, token=token).status
        if st == want:
            break
        time.sleep(0.05)
    for _ in range(12):
        st = request("GET", path, token=token).status
        if st != want:
            return st
    return st


@unittest.skipUnless(os.path.exists(PIDFILE), "no cnova-api pid file under CNOVA_RUN")
class PolicyFile(unittest.TestCase):
    def setUp(self):
        self.saved = None
        if os.path.exists(POLICY):
            with open(POLICY) as f:
                self.saved = f.read()

    def tearDown(self):
        if self.saved is None:
            if os.path.exists(POLICY):
                os.unlink(POLICY)
        else:
            with open(POLICY, "w") as f:
                f.write(self.saved)
        hup()
        settle("/v2.1/os-hypervisors", 403)

    def write(self, text):
        tmp = POLICY + ".tmp"
        with open(tmp, "w") as f:
            f.write(text)
        os.replace(tmp, POLICY)

    def test_override_reload_and_restore(self):
        r = request("GET", "/v2.1/os-hypervisors", token=MEMBER)
        self.assertEqual(r.status, 403, r)
        self.assertEqual(r.json["forbidden"]["message"],
                         f"Policy doesn't allow {LIST} to be performed.")

        self.write(f'# the member may list hypervisors\n"{LIST}": "role:member"\n')
        hup()
        self.assertEqual(settle("/v2.1/os-hypervisors", 200), 200)
        # rules the file does not name keep their defaults
        r = request("GET", "/v2.1/os-hypervisors/detail", token=MEMBER)
        self.assertEqual(r.status, 403, r)
        self.assertIn("os_compute_api:os-hypervisors:list-detail", r.json["forbidden"]["message"])
        self.assertEqual(request("GET", "/v2.1/os-hypervisors").status, 200)  # admin

        # a bad file is logged and the rules in force stay
        self.write(f'"{LIST}": "role:member and"\n')
        hup()
        time.sleep(0.3)
        for _ in range(8):
            self.assertEqual(request("GET", "/v2.1/os-hypervisors", token=MEMBER).status, 200)

        # JSON works too; a rule can also take away what the defaults give
        self.write('{"os_compute_api:os-keypairs:index": "!"}')
        hup()
        self.assertEqual(settle("/v2.1/os-hypervisors", 403), 403)
        r = request("GET", "/v2.1/os-keypairs", token=MEMBER)
        self.assertEqual(r.status, 403, r)

        # the file gone: the defaults again
        os.unlink(POLICY)
        hup()
        self.assertEqual(settle("/v2.1/os-keypairs", 200), 200)
        self.assertEqual(request("GET", "/v2.1/os-hypervisors", token=MEMBER).status, 403)


if __name__ == "__main__":
    unittest.main()
