"""test_rpc_workers.py: the workers behind the API, seen from outside.

Against the stack that scripts/test.sh starts (CNOVA_RUN, CNOVA_BIN,
CNOVA_PG_PORT): every worker keeps a fresh row in the services table (the
compute hosts through the conductor, since they never touch the database),
answers a `ping` call over RabbitMQ, and the conductor publishes what is left
in the outbox. Calls are made with `cnova-conductor --ping TOPIC`."""
import configparser, glob, json, os, subprocess, time, unittest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
RUN = os.environ.get("CNOVA_RUN", os.path.join(REPO, "run"))
BIN = os.environ.get("CNOVA_BIN", os.path.join(REPO, "build"))
PG_PORT = os.environ.get("CNOVA_PG_PORT", "15432")
CONF = os.path.join(RUN, "cnova.conf")


def read_conf(path):
    c = configparser.ConfigParser(interpolation=None, strict=False)
    c.read(path)
    return c


def conf_get(c, section, key, default):
    try:
        return c.get(section, key) or default
    except (configparser.NoSectionError, configparser.NoOptionError):
        return default


def compute_hosts():
    hosts = os.environ.get("CNOVA_COMPUTE_HOSTS", "").split()
    if not hosts:
        hosts = [conf_get(read_conf(p), "DEFAULT", "host", "compute1")
                 for p in sorted(glob.glob(os.path.join(RUN, "compute-*.conf")))]
    return hosts or ["compute1"]


def sql(query):
    out = subprocess.run(["psql", "-h", "127.0.0.1", "-p", PG_PORT, "-U", "cnova", "-d", "cnova",
                          "-v", "ON_ERROR_STOP=1", "-qAtc", query],
                         capture_output=True, text=True, timeout=30)
    if out.returncode != 0:
        raise AssertionError(f"psql failed: {out.stderr}")
    return [line.split("|") for line in out.stdout.splitlines()]


def ping(topic, timeout=60):
    p = subprocess.run([os.path.join(BIN, "cnova-conductor"), "--config", CONF, "--ping", topic],
                       capture_output=True, text=True, timeout=timeout)
    return p.returncode, p.stdout, p.stderr


CONFIG = read_conf(CONF)
HOST = conf_get(CONFIG, "DEFAULT", "host", "compute1")
HEARTBEAT = int(conf_get(CONFIG, "compute", "heartbeat_interval", "10"))
DOWN_TIME = int(conf_get(CONFIG, "service", "service_down_time", "60"))


class ServicesTest(unittest.TestCase):
    def wait_for_row(self, host, binary, deadline):
        q = ("SELECT topic, report_count, extract(epoch FROM now() - last_seen_up) "
             "FROM services WHERE host = '%s' AND \"binary\" = '%s' AND deleted = 0"
             % (host, binary))
        while True:
            rows = sql(q)
            if rows and rows[0][2] and float(rows[0][2]) < DOWN_TIME:
                return rows[0]
            if time.time() > deadline:
                self.fail(f"no recent services row for {binary} on {host}: {rows}")
            time.sleep(0.5)

    def test_every_worker_has_a_fresh_services_row(self):
        deadline = time.time() + HEARTBEAT + 30
        self.assertEqual(self.wait_for_row(HOST, "nova-conductor", deadline)[0], "conductor")
        self.assertEqual(self.wait_for_row(HOST, "nova-scheduler", deadline)[0], "scheduler")
        for h in compute_hosts():
            self.assertEqual(self.wait_for_row(h, "nova-compute", deadline)[0], "compute")

    def test_compute_heartbeats_keep_coming(self):
        if HEARTBEAT > 15:
            self.skipTest(f"heartbeat_interval {HEARTBEAT}s is too slow for a test")
        h = compute_hosts()[0]
        first = int(self.wait_for_row(h, "nova-compute", time.time() + HEARTBEAT + 30)[1])
        deadline = time.time() + 2 * HEARTBEAT + 10
        while int(self.wait_for_row(h, "nova-compute", deadline)[1]) <= first:
            if time.time() > deadline:
                self.fail(f"report_count of nova-compute on {h} stayed at {first}")
            time.sleep(0.5)

    def test_service_rows_are_unique_per_host_and_binary(self):
        rows = sql("SELECT host, \"binary\", count(*) FROM services WHERE deleted = 0 "
                   "GROUP BY 1, 2 HAVING count(*) > 1")
        self.assertEqual(rows, [])


class PingTest(unittest.TestCase):
    def check(self, topic, pong):
        rc, out, err = ping(topic)
        self.assertEqual(rc, 0, f"ping {topic}: {err}")
        reply = json.loads(out)
        self.assertEqual(reply["pong"], pong)
        return reply

    def test_conductor(self):
        self.assertEqual(self.check("conductor", "conductor")["host"], HOST)

    def test_scheduler(self):
        self.assertEqual(self.check("scheduler", "scheduler")["host"], HOST)

    def test_every_compute_host(self):
        for h in compute_hosts():
            reply = self.check("compute." + h, "compute")
            self.assertEqual(reply["host"], h)
            hv = reply["hypervisor"]
            self.assertGreater(hv["vcpus"], 0)
            self.assertGreater(hv["memory_mb"], 0)
            # test:///default's own "test" domain is not one of ours
            self.assertEqual(hv["instances"], 0)

    def test_many_calls_in_a_row(self):
        for _ in range(5):
            self.check("conductor", "conductor")


class OutboxTest(unittest.TestCase):
    def test_conductor_publishes_leftover_rows(self):
        # A row an API worker could not publish (broker down): a cast of
        # `ping` to the scheduler, which ignores it. The conductor's next
        # tick publishes it and deletes it.
        ids = [r[0] for r in sql(
            "INSERT INTO outbox (topic, method, args) "
            "SELECT 'scheduler', 'ping', jsonb_build_object('n', g) FROM generate_series(1, 3) g "
            "RETURNING id")]
        self.assertEqual(len(ids), 3)
        deadline = time.time() + 20
        q = "SELECT count(*) FROM outbox WHERE id IN (%s)" % ",".join(ids)
        while int(sql(q)[0][0]) > 0:
            if time.time() > deadline:
                self.fail("outbox rows were not published within 20 s")
            time.sleep(0.3)


if __name__ == "__main__":
    unittest.main()
