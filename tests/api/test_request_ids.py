"""Request ids end to end: the id a request answers with
(x-openstack-request-id) names every log line its work caused, in the API,
the conductor, the scheduler and the compute host; a caller's
X-OpenStack-Request-ID ("req-" + UUID) is kept as the global request id
beside it, as Nova does, and anything else is ignored."""
import glob, os, time, uuid

from common import RUN, ServerFixtures, request, server_wait

IMAGE = "80292edd-18c0-4446-9fa4-994b39a2dc15"


def log_lines(needle):
    """{log file name: [lines naming needle]} over the stack's logs."""
    out = {}
    for path in glob.glob(os.path.join(RUN, "log", "cnova-*.log")):
        with open(path, errors="replace") as f:
            hits = [l for l in f if needle in l]
        if hits:
            out[os.path.basename(path)] = hits
    return out


class RequestIdTest(ServerFixtures):
    servers = []

    def test_boot_names_every_process(self):
        glob_id = "req-" + str(uuid.uuid4())
        r = request("POST", "/v2.1/servers", {"server": {
            "name": "rid", "imageRef": IMAGE, "flavorRef": "1"}},
            headers={"X-OpenStack-Request-ID": glob_id})
        self.assertEqual(r.status, 202, r)
        sid = r.json["server"]["id"]
        self.servers.append(sid)
        local = r.header("x-openstack-request-id")
        self.assertNotEqual(local, glob_id, "the global id is the caller's, the local one ours")
        server_wait(sid, "ACTIVE")
        time.sleep(0.5)
        files = log_lines(local)
        programs = {"cnova-compute" if f.startswith("cnova-compute") else f[:-len(".log")]
                    for f in files}
        for prog in ("cnova-api", "cnova-conductor", "cnova-scheduler", "cnova-compute"):
            self.assertIn(prog, programs, f"{prog} logs no line of {local}: {sorted(files)}")
        # every line with the local id carries the caller's global id before it
        for lines in files.values():
            for line in lines:
                self.assertIn(f"[{glob_id} {local}]", line)
        # the instance action records the request
        a = request("GET", f"/v2.1/servers/{sid}/os-instance-actions")
        self.assertEqual(a.json["instanceActions"][0]["request_id"], local)

    def test_bad_global_id_ignored(self):
        bogus = "not-a-request-id-" + uuid.uuid4().hex
        r = request("GET", "/v2.1/flavors", headers={"X-OpenStack-Request-ID": bogus})
        self.assertEqual(r.status, 200)
        time.sleep(0.3)
        self.assertEqual(log_lines(bogus), {})
        self.assertTrue(log_lines(r.header("x-openstack-request-id")))
