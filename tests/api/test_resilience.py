"""Losing a piece of the stack: an API worker killed with -9 is replaced and
no request after that fails; PostgreSQL stopped gives 503s (with Retry-After), and once it is
back the same workers answer again without a restart."""
import os, signal, subprocess, time, unittest

from common import ApiTest, REPO, RUN, request


def api_workers():
    with open(os.path.join(RUN, "pids", "cnova-api.pid")) as f:
        master = int(f.read().strip())
    kids = []
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                with open(f"/proc/{pid}/stat") as f:
                    if int(f.read().rsplit(")", 1)[1].split()[1]) == master:
                        kids.append(int(pid))
            except (OSError, IndexError, ValueError):
                pass
    return master, sorted(kids)


def stack(*args):
    subprocess.run([os.path.join(REPO, "scripts", "stack.sh"), *args], check=True,
                   stdout=subprocess.DEVNULL)


class Resilience(ApiTest):
    def test_killed_worker_is_replaced(self):
        master, kids = api_workers()
        self.assertGreaterEqual(len(kids), 2)
        os.kill(kids[0], signal.SIGKILL)
        deadline = time.time() + 10
        while time.time() < deadline:
            _, now = api_workers()
            if len(now) == len(kids) and kids[0] not in now:
                break
            time.sleep(0.1)
        self.assertEqual(len(now), len(kids))
        self.assertNotIn(kids[0], now)
        for _ in range(200):
            self.assertEqual(request("GET", "/v2.1/os-services").status, 200)

    def test_database_restart_gives_503_then_recovers(self):
        self.assertEqual(request("GET", "/v2.1/os-services").status, 200)
        stack("db-stop")
        try:
            for _ in range(10):
                r = request("GET", "/v2.1/os-services")
                self.assertFault(r, 503, "serviceUnavailable")
                self.assertEqual(r.header("retry-after"), "1", "503 without Retry-After")
            # routes that need no database keep working
            self.assertEqual(request("GET", "/v2.1/").status, 200)
        finally:
            stack("db-start")
        # every worker reconnects on its next request: none answers 503 now
        for _ in range(100):
            r = request("GET", "/v2.1/os-services")
            self.assertEqual(r.status, 200, r)


if __name__ == "__main__":
    unittest.main()
