"""test_isolation.py: a member of project B can never see, change or act on
anything of project A (issue #15). Project A creates one of every kind of
project-owned object (a server with tags, metadata, a port, a volume
attachment, a console, instance actions and a migration; a key pair, a
server group, volumes and a snapshot, a snapshot image with metadata, a
security group and rule, a floating IP, quotas, a private flavor it may
use); then project B calls EVERY row of api/routes.tsv with A's ids in the
path (actions with a body valid for B, so that ownership is the only reason
to refuse) and every list, and the test asserts:
  - a row with an object of A in its path answers 404 (403 only where the
    route's default policy denies a member whatever the object, as Nova;
    501 where cnova has not built the route, the same for every id; 410 for
    the routes Nova removed) — never 2xx, never 409;
  - a row whose id is a project id (quota sets, simple tenant usage) is 403;
  - no list, and no create that names A's objects, shows or uses them;
  - A's objects are unchanged after the walk, A (or an admin, for admin-only
    rows) gets 2xx on every GET row with its ids (the ids are real), and an
    admin asking all_tenants=1 sees A's server.
Every row is walked or listed as not applicable with its reason; the test
prints `isolation: N routes, M requests, L leaks`.

Token-provider agnostic: CNOVA_TOKEN_A / CNOVA_TOKEN_B / CNOVA_TOKEN_ADMIN
(default noauth2 "alice:proj-a", "bob:proj-b", "admin:admin") and
CNOVA_PROJECT_A / CNOVA_PROJECT_B (default proj-a / proj-b); in keystone
mode A is project demo (user demo) and B project alt_demo (user alt_demo)."""
import json, os, re, time, unittest, uuid

from common import FAKE, REPO, ApiTest, request, routes

TA = os.environ.get("CNOVA_TOKEN_A", "alice:proj-a")
TB = os.environ.get("CNOVA_TOKEN_B", "bob:proj-b")
TADM = os.environ.get("CNOVA_TOKEN_ADMIN", "admin:admin")
PA = os.environ.get("CNOVA_PROJECT_A", "proj-a")
PB = os.environ.get("CNOVA_PROJECT_B", "proj-b")
UA = os.environ.get("CNOVA_USER_A", TA.split(":")[0])  # A's user id (keystone: demo's id)
IMAGE = os.environ.get("CNOVA_IMAGE", "70a599e0-31e7-49b7-b260-868f441e862b")  # 007_images_seed.sql
SETTLE = 90
TAG = "iso-" + uuid.uuid4().hex[:6]  # names of this run's objects
DENY_MEMBER = {"POLICY_ADMIN", "POLICY_SERVICE", "POLICY_MANAGER"}


def route_meta():
    """(method, path, action) -> (policy, handler) from fcgi-api/routes.h,
    the table the API enforces."""
    meta = {}
    pat = re.compile(r'^ROUTE\((\w+), "([^"]*)", (NULL|"[^"]*"), .*?, (POLICY_\w+), "[^"]*", \d+, (\w+)\)')
    with open(os.path.join(REPO, "fcgi-api", "routes.h")) as f:
        for line in f:
            m = pat.match(line)
            if m:
                act = None if m.group(3) == "NULL" else m.group(3).strip('"')
                meta[(m.group(1), m.group(2), act)] = (m.group(4), m.group(5))
    return meta


def vt(v):
    return tuple(int(x) for x in v.split("."))


class Walk:
    """Counts and the leaks found."""

    def __init__(self):
        self.requests = 0
        self.leaks = []
        self.na = []
        self.rows = 0

    def call(self, method, path, body=None, token=TB, version=None, **kw):
        self.requests += 1
        self.last_body = json.dumps(body)
        return request(method, "/v2.1" + path if not path.startswith("/image/") else path,
                       body, token=token, version=version, **kw)

    def leak(self, what, r):
        self.leaks.append(f"{what}: {r.status} {r.data[:300]!r}")


def wait_for(fn, what, seconds=SETTLE):
    deadline = time.time() + seconds
    while True:
        v = fn()
        if v:
            return v
        if time.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.3)


class A:
    """Project A's objects (filled by setUpModule)."""


def ok(r, *codes):
    assert r.status in (codes or (200, 201, 202, 204)), r
    return r.json


def setUpModule():
    try:
        make_fixtures()
    except BaseException:
        tearDownModule()  # unittest skips it when the module's setup fails
        raise


def make_fixtures():
    a = A
    call = lambda m, p, b=None, token=TA, version=None: request(
        m, "/v2.1" + p, b, token=token, version=version)
    a.net = ok(call("GET", "/os-networks"))["networks"]
    a.private = next(n for n in a.net if n["label"] == "private")["id"]
    # B's own objects, so that B's bodies are valid and only ownership differs
    A.b_vol = ok(call("POST", "/os-volumes", {"volume": {"size": 1, "display_name": TAG + "-b"}},
                      token=TB))["volume"]["id"]
    A.b_fip = ok(call("POST", "/os-floating-ips", {"pool": "public"}, token=TB))["floating_ip"]
    # quotas of A an admin sets to values nobody else has
    ok(call("PUT", f"/os-quota-sets/{PA}", {"quota_set": {"key_pairs": 97, "server_groups": 13}},
            token=TADM))
    # a private flavor only A may use
    a.flavor = "iso-" + uuid.uuid4().hex[:8]
    ok(call("POST", "/flavors", {"flavor": {"name": a.flavor, "ram": 64, "vcpus": 1, "disk": 1,
                                            "id": a.flavor, "os-flavor-access:is_public": False}},
            token=TADM))
    ok(call("POST", f"/flavors/{a.flavor}/action", {"addTenantAccess": {"tenant": PA}}, token=TADM))
    ok(call("POST", f"/flavors/{a.flavor}/os-extra_specs", {"extra_specs": {"iso:spec": "1"}},
            token=TADM))
    a.keypair = TAG + "-kp"
    ok(call("POST", "/os-keypairs", {"keypair": {"name": a.keypair}}))
    a.group = ok(call("POST", "/os-server-groups", {"server_group": {
        "name": TAG + "-grp", "policies": ["anti-affinity"]}}))["server_group"]["id"]
    sg = ok(call("POST", "/os-security-groups", {"security_group": {
        "name": TAG + "-sg", "description": "iso"}}))["security_group"]
    a.sg, a.sg_name = sg["id"], sg["name"]
    a.rule = ok(call("POST", "/os-security-group-rules", {"security_group_rule": {
        "parent_group_id": a.sg, "ip_protocol": "tcp", "from_port": 22, "to_port": 22,
        "cidr": "10.9.0.0/16"}}))["security_group_rule"]["id"]
    a.vol = ok(call("POST", "/os-volumes", {"volume": {"size": 1, "display_name": TAG + "-att"}}))[
        "volume"]["id"]
    a.vol2 = ok(call("POST", "/os-volumes", {"volume": {"size": 1, "display_name": TAG + "-snap"}}))[
        "volume"]["id"]
    for v in (a.vol, a.vol2, A.b_vol):
        wait_for(lambda: call("GET", f"/os-volumes/{v}", token=TADM).json["volume"]["status"]
                 == "available", f"volume {v}")
    a.snap = ok(call("POST", "/os-snapshots", {"snapshot": {
        "volume_id": a.vol2, "display_name": TAG + "-snap"}}))["snapshot"]["id"]
    a.fip = ok(call("POST", "/os-floating-ips", {"pool": "public"}))["floating_ip"]
    r = call("POST", "/servers", {"server": {
        "name": TAG + "-srv", "imageRef": IMAGE, "flavorRef": a.flavor, "key_name": a.keypair,
        "metadata": {"iso": "a"}, "tags": ["iso-tag"], "security_groups": [{"name": a.sg_name}],
        "networks": [{"uuid": a.private}]},
        "os:scheduler_hints": {"group": a.group}}, version="2.52")
    a.sid = ok(r, 202)["server"]["id"]

    def active():
        s = call("GET", f"/servers/{a.sid}", version="2.73").json["server"]
        assert s["status"] != "ERROR", s
        return s["status"] == "ACTIVE" and s["OS-EXT-STS:task_state"] is None

    r = call("POST", "/servers", {"server": {"name": TAG + "-bsrv", "imageRef": IMAGE, "flavorRef": "1",
                                             "networks": [{"uuid": a.private}]}},
             token=TB, version="2.37")
    A.b_sid = ok(r, 202)["server"]["id"]
    wait_for(active, "A's server ACTIVE")
    wait_for(lambda: call("GET", f"/servers/{A.b_sid}", token=TB).json["server"]["status"] == "ACTIVE",
             "B's server ACTIVE")
    # an admin migrates it (a migration record of A), then it is confirmed
    a.migration = None
    if call("POST", f"/servers/{a.sid}/action", {"migrate": None}, token=TADM).status == 202:
        def resized():
            s = call("GET", f"/servers/{a.sid}").json["server"]
            return s["status"] in ("VERIFY_RESIZE", "ACTIVE") and s["OS-EXT-STS:task_state"] is None
        wait_for(resized, "migrated")
        if call("GET", f"/servers/{a.sid}").json["server"]["status"] == "VERIFY_RESIZE":
            ok(call("POST", f"/servers/{a.sid}/action", {"confirmResize": None}), 204)
        wait_for(active, "A's server ACTIVE after confirm")
        migs = call("GET", f"/os-migrations?instance_uuid={a.sid}", token=TADM).json["migrations"]
        a.migration = str(migs[0]["id"]) if migs else None
    ok(call("POST", f"/servers/{a.sid}/os-volume_attachments",
            {"volumeAttachment": {"volumeId": a.vol}}))
    wait_for(lambda: call("GET", f"/os-volumes/{a.vol}").json["volume"]["status"] == "in-use",
             "A's volume in-use")
    ports = ok(call("GET", f"/servers/{a.sid}/os-interface"))["interfaceAttachments"]
    a.port = ports[0]["port_id"]
    a.fixed_ip = ports[0]["fixed_ips"][0]["ip_address"]
    ok(call("POST", f"/servers/{a.sid}/action", {"addFloatingIp": {"address": a.fip["ip"]}}))
    url = ok(call("POST", f"/servers/{a.sid}/remote-consoles", {"remote_console": {
        "protocol": "vnc", "type": "novnc"}}, version="2.6"))["remote_console"]["url"]
    a.console = re.search(r"token(?:%3D|=)([0-9a-f-]{36})", url).group(1)
    r = ok(call("POST", f"/servers/{a.sid}/action", {"createImage": {
        "name": TAG + "-img", "metadata": {"iso_key": "v"}}}, version="2.45"))
    a.image = r["image_id"]
    a.request_id = ok(call("GET", f"/servers/{a.sid}/os-instance-actions"))[
        "instanceActions"][0]["request_id"]
    wait_for(lambda: call("GET", f"/servers/{a.sid}").json["server"]["OS-EXT-STS:task_state"]
             is None, "createImage done")
    a.service = str(ok(call("GET", "/os-services", token=TADM, version="2.53"))["services"][0]["id"])
    a.hypervisor = str(ok(call("GET", "/os-hypervisors", token=TADM))["hypervisors"][0]["id"])
    a.aggregate = ok(call("POST", "/os-aggregates", {"aggregate": {"name": TAG + "-agg"}},
                          token=TADM))["aggregate"]["id"]


def tearDownModule():
    call = lambda m, p, b=None, token=TA: request(m, "/v2.1" + p, b, token=token)
    for sid in (getattr(A, "sid", None), getattr(A, "b_sid", None)):
        if sid:
            call("POST", f"/servers/{sid}/action", {"unlock": None}, token=TADM)
    if getattr(A, "sid", None):
        call("DELETE", f"/servers/{A.sid}", token=TADM)
        wait_for(lambda: call("GET", f"/servers/{A.sid}", token=TADM).status == 404, "delete")
    for path in (f"/images/{getattr(A, 'image', FAKE)}", f"/os-snapshots/{getattr(A, 'snap', FAKE)}",
                 f"/os-keypairs/{getattr(A, 'keypair', 'x')}",
                 f"/os-server-groups/{getattr(A, 'group', FAKE)}",
                 f"/os-floating-ips/{getattr(A, 'fip', {}).get('id', FAKE)}"):
        call("DELETE", path)
    for v in (getattr(A, "vol", None), getattr(A, "vol2", None)):
        if v:
            wait_for(lambda: call("DELETE", f"/os-volumes/{v}").status in (202, 404), "vol delete", 30)
    if getattr(A, "sg", None):
        call("DELETE", f"/os-security-groups/{A.sg}")
    if getattr(A, "b_sid", None):
        call("DELETE", f"/servers/{A.b_sid}", token=TADM)
        wait_for(lambda: call("GET", f"/servers/{A.b_sid}", token=TADM).status == 404, "delete")
    if getattr(A, "b_vol", None):
        call("DELETE", f"/os-volumes/{A.b_vol}", token=TB)
    if getattr(A, "b_fip", None):
        call("DELETE", f"/os-floating-ips/{A.b_fip['id']}", token=TB)
    if getattr(A, "aggregate", None):
        call("DELETE", f"/os-aggregates/{A.aggregate}", token=TADM)
    if getattr(A, "flavor", None):
        call("DELETE", f"/flavors/{A.flavor}", token=TADM)
    call("DELETE", f"/os-quota-sets/{PA}", token=TADM)


# the id a path parameter takes: (path prefix, parameter) -> (attribute of A, kind)
# kinds: owned (an object of A), project (A's project id), global (not owned)
def params_for(path):
    a = A
    p = {}
    if path.startswith(("/servers/", "/os-volumes_boot/")):
        p["id"] = p["server_id"] = (a.sid, "owned")
        sub = {"metadata": "iso", "tags": "iso-tag", "ips": "private", "os-interface": a.port,
               "os-volume_attachments": a.vol, "os-instance-actions": a.request_id,
               "migrations": a.migration or "1", "consoles": "1", "shares": FAKE}
        m = re.match(r"^/servers/\{server_id\}/([^/]+)/\{id\}", path)
        if m:
            p["id"] = (sub[m.group(1)], "owned")
    elif path.startswith("/images/"):
        p["id"] = p["image_id"] = (a.image, "owned")
        if "/metadata/{id}" in path:
            p["id"] = ("iso_key", "owned")
    elif path.startswith("/flavors/"):
        p["id"] = p["flavor_id"] = (a.flavor, "owned")
        if "/os-extra_specs/{id}" in path:
            p["id"] = ("iso:spec", "owned")
    else:
        first = path.split("/")[1]
        owned = {"os-keypairs": a.keypair, "os-server-groups": a.group, "os-security-groups": a.sg,
                 "os-security-group-rules": a.rule, "os-floating-ips": a.fip["id"],
                 "os-volumes": a.vol, "os-snapshots": a.snap, "os-console-auth-tokens": a.console,
                 "os-assisted-volume-snapshots": a.snap}
        project = {"os-quota-sets": PA, "os-simple-tenant-usage": PA}
        if path.endswith("/defaults"):  # the defaults: the same for every project
            return {"id": (PA, "global")}
        glob = {"os-aggregates": str(a.aggregate), "os-hypervisors": a.hypervisor,
                "os-services": a.service, "os-hosts": "compute1", "extensions": "os-keypairs",
                "versions": "v2.1", "os-quota-class-sets": "default", "os-networks": a.private,
                "os-tenant-networks": a.private, "os-instance_usage_audit_log": "2026-01-01%2000:00:00",
                "os-baremetal-nodes": FAKE}
        if first in owned:
            p["id"] = (owned[first], "owned")
        elif first in project:
            p["id"] = (project[first], "project")
        elif first in glob:
            p["id"] = (glob[first], "global")
        else:  # the removed routes' ids (cells, fixed ips, agents, ...)
            p["id"] = p["domain_id"] = ("1", "global")
    return p


def ids_a():
    return [str(x) for x in (A.sid, A.image, A.vol, A.vol2, A.snap, A.group, A.port, A.keypair,
                             A.sg_name, A.sg, A.flavor)]


def mask(text, used):
    """`text` with A's uuids made FAKE and A's names made iso-none."""
    for v in sorted(used, key=len, reverse=True):
        text = text.replace(v, FAKE if re.match(r"^[0-9a-f-]{36}$", v) else "iso-none")
    return text


def action_body(action):
    a, fixed = A, None
    bodies = {
        "reboot": {"type": "SOFT"}, "resize": {"flavorRef": "2"}, "rebuild": {"imageRef": IMAGE},
        "createImage": {"name": TAG + "-b"}, "os-resetState": {"state": "error"},
        "changePassword": {"adminPass": "Secret-123"}, "os-getConsoleOutput": {"length": 5},
        "createBackup": {"name": "b", "backup_type": "daily", "rotation": 1},
        "evacuate": {"onSharedStorage": False},
        "addFloatingIp": {"address": a.b_fip["ip"]}, "removeFloatingIp": {"address": a.fip["ip"]},
        "os-migrateLive": {"host": None, "block_migration": False, "disk_over_commit": False},
        "addFixedIp": {"networkId": a.private}, "removeFixedIp": {"address": a.fixed_ip},
        "os-getVNCConsole": {"type": "novnc"}, "os-getSPICEConsole": {"type": "spice-html5"},
        "os-getRDPConsole": {"type": "rdp-html5"}, "os-getSerialConsole": {"type": "serial"},
        "rescue": {}, "addSecurityGroup": {"name": "default"},
        "removeSecurityGroup": {"name": a.sg_name},
        "addTenantAccess": {"tenant": PB}, "removeTenantAccess": {"tenant": PA},
        "add_host": {"host": "compute1"}, "remove_host": {"host": "compute1"},
        "set_metadata": {"metadata": {"k": "v"}}, "add_interface": {"address": "aa:bb:cc:dd:ee:ff"},
        "remove_interface": {"address": "aa:bb:cc:dd:ee:ff"},
    }
    return {action: bodies.get(action, fixed)}


def plain_body(method, path):
    """A body valid for B for the non-action rows with a body."""
    a = A
    table = {
        ("PUT", "/servers/{id}"): {"server": {"name": "pwned"}},
        ("PUT", "/os-volumes_boot/{id}"): {"server": {"name": "pwned"}},
        ("POST", "/servers/{server_id}/metadata"): {"metadata": {"b": "1"}},
        ("PUT", "/servers/{server_id}/metadata"): {"metadata": {"b": "1"}},
        ("PUT", "/servers/{server_id}/metadata/{id}"): {"meta": {"iso": "b"}},
        ("PUT", "/servers/{server_id}/tags"): {"tags": ["b"]},
        ("POST", "/servers/{server_id}/os-interface"): {"interfaceAttachment": {"net_id": a.private}},
        ("POST", "/servers/{server_id}/os-volume_attachments"): {"volumeAttachment": {"volumeId": a.b_vol}},
        ("PUT", "/servers/{server_id}/os-volume_attachments/{id}"): {"volumeAttachment": {"volumeId": a.b_vol}},
        ("POST", "/servers/{server_id}/remote-consoles"): {"remote_console": {"protocol": "vnc", "type": "novnc"}},
        ("POST", "/servers/{server_id}/migrations/{id}/action"): {"force_complete": None},
        ("POST", "/servers/{server_id}/shares"): {"share": {"share_id": FAKE}},
        ("PUT", "/os-security-groups/{id}"): {"security_group": {"name": "pwned", "description": "x"}},
        ("POST", "/images/{image_id}/metadata"): {"metadata": {"b": "1"}},
        ("PUT", "/images/{image_id}/metadata"): {"metadata": {"b": "1"}},
        ("PUT", "/images/{image_id}/metadata/{id}"): {"meta": {"iso_key": "b"}},
        ("PUT", "/flavors/{id}"): {"flavor": {"description": "pwned"}},
        ("POST", "/flavors/{flavor_id}/os-extra_specs"): {"extra_specs": {"b": "1"}},
        ("PUT", "/flavors/{flavor_id}/os-extra_specs/{id}"): {"iso:spec": "2"},
        ("PUT", "/os-quota-sets/{id}"): {"quota_set": {"instances": 50}},
        ("PUT", "/os-quota-class-sets/{id}"): {"quota_class_set": {"instances": 50}},
        ("PUT", "/os-aggregates/{id}"): {"aggregate": {"name": "pwned"}},
        ("POST", "/os-aggregates/{id}/images"): {"cache": [{"id": IMAGE}]},
        ("PUT", "/os-hosts/{id}"): {"status": "disable"},
        ("PUT", "/os-services/{id}"): {"status": "disabled"},
    }
    return table.get((method, path))


def admin_create_body(path):
    """Valid bodies for the creates a member may not make (Nova validates
    the body before the policy: an empty one would be 400)."""
    return {
        "/flavors": {"flavor": {"name": TAG + "-b", "ram": 64, "vcpus": 1, "disk": 1}},
        "/os-aggregates": {"aggregate": {"name": TAG + "-b"}},
        "/os-assisted-volume-snapshots": {"snapshot": {"volume_id": A.vol, "create_info": {
            "snapshot_id": A.snap, "type": "qcow2", "new_file": "new.qcow2"}}},
        "/os-server-external-events": {"events": [{"name": "network-changed",
                                                   "server_uuid": A.sid}]},
    }.get(path, {})


def unknown(p, path):
    """The same parameters with A's object (the path's first) replaced by
    one nobody has."""
    first = re.findall(r"\{([^}]+)\}", path)[0]
    out = dict(p)
    v, kind = p[first]
    out[first] = (FAKE if re.match(r"^[0-9a-f-]{36}$", str(v)) else "iso-none", kind)
    return out


def same_answer(r, r0, used, fake):
    """Whether two error answers say the same once the ids are masked."""
    def norm(resp, vals):
        t = resp.data.decode("utf-8", "replace")
        for v in sorted((v for v in vals if len(v) >= 4), key=len, reverse=True):
            t = t.replace(v, "<id>")
        return re.sub(r"req-[0-9a-f-]{36}", "", t)
    return r.status == r0.status and norm(r, used) == norm(r0, fake)


class IsolationTest(ApiTest):
    """One test walks the whole table (the fixtures are costly: one boot,
    one migration), then checks lists, creates, controls and integrity."""

    def test_isolation(self):
        w = Walk()
        meta = route_meta()
        rows = routes()
        self.assertEqual(len(rows), len(meta), "routes.tsv and routes.h differ")
        ids = [A.sid, A.keypair, A.group, A.sg, A.vol, A.vol2, A.snap, A.image, A.fip["id"],
               A.fip["ip"], A.port, A.request_id, A.flavor, TAG + "-srv", TAG + "-sg",
               TAG + "-grp", TAG + "-img", TAG + "-att", TAG + "-snap", A.console]
        seen_in = lambda r: [i for i in ids if i and i in r.data.decode("utf-8", "replace")]
        walked = {}
        for row in rows:
            key = (row["method"], row["path"], None if row["action"] == "-" else row["action"])
            policy, handler = meta[key]
            w.rows += 1
            kind = self.walk_row(w, row, key, policy, handler, seen_in)
            walked[kind] = walked.get(kind, 0) + 1
        self.lists_with_filters(w, seen_in)
        self.creates_naming_a(w, seen_in)
        self.quota_and_limits(w)
        self.glance_face(w, seen_in)
        print(f"\nisolation: {w.rows} routes ({', '.join(f'{k} {v}' for k, v in sorted(walked.items()))}),"
              f" {w.requests} requests, {len(w.leaks)} leaks")
        print(f"  A's migration: {A.migration or 'none (the migrate did not start)'}")
        for n in w.na:
            print("  not applicable:", n)
        for leak in w.leaks:
            print("  LEAK:", leak)
        self.assertEqual(w.leaks, [], "\n".join(w.leaks))
        # positive controls after the walk: the ids were real, and A's
        # objects are as A left them
        self.controls(w, rows, meta)
        self.integrity(w)
        print(f"isolation: controls passed ({w.requests} requests in all)")

    # ---- one row ----
    def walk_row(self, w, row, key, policy, handler, seen_in):
        method, path, action = key
        version = row["min_version"] if row["min_version"] == "latest" or \
            vt(row["min_version"]) >= (2, 1) else "2.1"
        if path.startswith("/os-services/"):
            version = "2.53"  # the id is the service's uuid
        label = f"{method} {path}" + (f" {action}" if action else "")
        if row["removed"] != "-":
            r = w.call(method, re.sub(r"\{[^}]+\}", "1", path), action_body(action) if action else None,
                       version=version)
            if r.status != 410:
                w.leak(f"{label} (removed: 410 for everyone)", r)
            return "removed"
        params = re.findall(r"\{([^}]+)\}", path)
        if not params:
            return self.walk_unparametrised(w, row, key, policy, label, version, seen_in)
        p = params_for(path)
        filled = re.sub(r"\{([^}]+)\}", lambda m: str(p[m.group(1)][0]), path)
        kinds = {p[x][1] for x in params}
        body = action_body(action) if action else plain_body(method, path)
        r = w.call(method, filled, body, version=version)
        if "owned" in kinds and method == "GET" and row["max_version"] == "-" and version != "latest":
            # the reads again at the newest microversion (other views, other lookups)
            self.walk_row(w, dict(row, min_version="latest"), key, policy, handler, seen_in)
        if "owned" in kinds and path.startswith("/servers/{server_id}/") and "{id}" in path \
                and not os.environ.get("ISO_NO_CROSS"):
            self.walk_cross(w, method, path, body, version, policy, handler, p)
        if "owned" in kinds:
            allowed = {404} | ({403} if policy in DENY_MEMBER else set()) | \
                      ({501} if handler == "not_built" else set())
            if r.status not in allowed:
                w.leak(f"{label} as B on A's object (want {sorted(allowed)})", r)
            elif r.status == 404 and (r.json is None or "itemNotFound" not in r.json):
                w.leak(f"{label} 404 without Nova's itemNotFound body", r)
            else:  # the answer must be the one for objects nobody has
                p0 = unknown(p, path)
                r0 = w.call(method, re.sub(r"\{([^}]+)\}", lambda m: str(p0[m.group(1)][0]), path),
                            body, version=version)
                if not same_answer(r, r0, [str(v) for v, _ in p.values()],
                                   [str(v) for v, _ in p0.values()]):
                    w.leak(f"{label} answers A's object unlike an unknown one ({r0.status} "
                           f"{r0.data[:200]!r})", r)
            return "owned"
        if "project" in kinds:
            if r.status != 403:
                w.leak(f"{label} as B on A's project id (want 403)", r)
            return "project"
        # a global object (host, service, aggregate, flavor extension ...)
        if policy in DENY_MEMBER or handler == "not_built":
            if r.status not in (403, 501):
                w.leak(f"{label} admin-only route as B (want 403)", r)
        else:
            if 200 <= r.status < 300 and seen_in(r):
                w.leak(f"{label} shows A's objects {seen_in(r)}", r)
            w.na.append(f"{label}: a global object ({r.status}), not project-owned")
        return "global"

    def walk_cross(self, w, method, path, body, version, policy, handler, p):
        """B's own server with A's sub-object (an attachment, port, action,
        migration, metadata key of A): as an unknown sub-object."""
        label = f"{method} {path} (B's server, A's {{id}})"
        sub = str(p["id"][0])
        if sub in ("iso", "iso-tag", "private", "1", FAKE):
            return  # names, not A's objects: B's own server may have the same
        fill = lambda x: path.replace("{server_id}", A.b_sid).replace("{id}", x)
        r = w.call(method, fill(sub), body, version=version)
        r0 = w.call(method, fill(FAKE if re.match(r"^[0-9a-f-]{36}$", sub) else "iso-none"), body,
                    version=version)
        if 200 <= r.status < 300 or r.status == 409 or not same_answer(
                r, r0, [sub], [FAKE, "iso-none"]):
            w.leak(f"{label} answers unlike an unknown one ({r0.status} {r0.data[:200]!r})", r)

    def walk_unparametrised(self, w, row, key, policy, label, version, seen_in):
        method, path, action = key
        if method == "GET":
            queries = ["", "?all_tenants=1", f"?project_id={PA}", f"?tenant_id={PA}"]
            versions = [version] + (["latest"] if row["max_version"] == "-" else [])
            for q, v in [(q, v) for q in queries for v in versions]:
                r = w.call("GET", path + q, version=v)
                if 200 <= r.status < 300 and seen_in(r):
                    w.leak(f"{label}{q} shows A's objects {seen_in(r)}", r)
                elif r.status >= 500:
                    w.leak(f"{label}{q} server error", r)
                elif q == "" and policy in DENY_MEMBER and r.status != 403:
                    w.leak(f"{label} admin-only list as B (want 403)", r)
            return "list"
        # creates: the ones that can name an object of A are probed in
        # creates_naming_a; the rest carry no id of A
        if path in ("/servers", "/os-volumes_boot", "/os-security-group-rules", "/os-snapshots",
                    "/os-volumes", "/os-keypairs", "/os-security-groups", "/os-server-groups"):
            return "create (probed below)"
        if policy in DENY_MEMBER:
            r = w.call(method, path, admin_create_body(path), version=version)
            if r.status != 403:
                w.leak(f"{label} admin-only as B (want 403)", r)
            return "create (admin-only)"
        w.na.append(f"{label}: names no object of A (nothing to leak)")
        return "create (n/a)"

    # ---- lists with the filters a caller could try ----
    def lists_with_filters(self, w, seen_in):
        for path in ("/servers", "/servers/detail", "/os-volumes_boot", "/os-volumes_boot/detail"):
            for q in (f"?name={TAG}", f"?all_tenants=1&project_id={PA}", f"?tenant_id={PA}&all_tenants=true",
                      "?changes-since=2000-01-01T00:00:00Z", "?deleted=true&all_tenants=1",
                      f"?ip={A.fixed_ip}", "?tags=iso-tag", f"?flavor={A.flavor}"):
                r = w.call("GET", path + q, version="2.26")
                if 200 <= r.status < 300 and seen_in(r):
                    w.leak(f"GET {path}{q} shows A's objects {seen_in(r)}", r)
        for path in ("/os-server-groups?all_projects=true", f"/os-keypairs?user_id={UA}", f"/os-keypairs/{A.keypair}?user_id={UA}",
                     f"/servers/{A.sid}/os-instance-actions", "/os-migrations?instance_uuid=" + A.sid,
                     "/os-simple-tenant-usage?detailed=1", "/images/detail?server=" + A.sid):
            r = w.call("GET", path, version="2.10" if "keypairs" in path else None)
            if 200 <= r.status < 300 and seen_in(r):
                w.leak(f"GET {path} shows A's objects {seen_in(r)}", r)

    # ---- creates that name an object of A ----
    def creates_naming_a(self, w, seen_in):
        def must_fail(label, r, allowed=(400, 404)):
            if os.environ.get("ISO_DEBUG"):
                print(label, r)
            if r.status not in allowed:
                w.leak(f"{label} (want {allowed})", r)
            if r.status == 202 and r.json and "server" in r.json:
                request("DELETE", f"/v2.1/servers/{r.json['server']['id']}", token=TADM)
            # the same answer as for an object nobody has
            m = re.match(r"^POST (\S+) ", label)
            used = [x for x in ids_a() if x in w.last_body]
            fake = json.loads(mask(w.last_body, used))
            r0 = w.call("POST", m.group(1), fake)
            if r0.status == 202 and r0.json and "server" in r0.json:
                request("DELETE", f"/v2.1/servers/{r0.json['server']['id']}", token=TADM)
            if r.status != 202 and not same_answer(r, r0, used, [FAKE, "iso-none"]):
                w.leak(f"{label} answers unlike for an unknown object ({r0.status} {r0.data[:200]!r})", r)

        srv = lambda **kw: {"server": dict({"name": TAG + "-b", "imageRef": IMAGE, "flavorRef": "1"}, **kw)}
        for base in ("/servers", "/os-volumes_boot"):
            must_fail(f"POST {base} with A's image", w.call("POST", base, srv(imageRef=A.image)))
            must_fail(f"POST {base} with A's private flavor", w.call("POST", base, srv(flavorRef=A.flavor)))
            must_fail(f"POST {base} with A's key pair", w.call("POST", base, srv(key_name=A.keypair)))
            must_fail(f"POST {base} with A's security group",
                      w.call("POST", base, srv(security_groups=[{"name": A.sg_name}])))
            must_fail(f"POST {base} with A's port",
                      w.call("POST", base, srv(networks=[{"port": A.port}])))
            must_fail(f"POST {base} with A's server group",
                      w.call("POST", base, dict(srv(), **{"os:scheduler_hints": {"group": A.group}})))
            must_fail(f"POST {base} with A's volume", w.call("POST", base, srv(
                imageRef="", block_device_mapping_v2=[{"boot_index": 0, "uuid": A.vol2,
                                                      "source_type": "volume",
                                                      "destination_type": "volume"}])))
            must_fail(f"POST {base} with A's snapshot", w.call("POST", base, srv(
                imageRef="", block_device_mapping_v2=[{"boot_index": 0, "uuid": A.snap, "volume_size": 1,
                                                      "source_type": "snapshot",
                                                      "destination_type": "volume"}])))
        # B's own server, told to use A's objects
        bs = f"/servers/{A.b_sid}"
        for label, path, body, version, allowed in (
                ("attach A's volume", "/os-volume_attachments", {"volumeAttachment": {"volumeId": A.vol2}},
                 None, (400, 404)),
                ("attach A's port", "/os-interface", {"interfaceAttachment": {"port_id": A.port}},
                 None, (400, 404)),
                ("addFloatingIp of A", "/action", {"addFloatingIp": {"address": A.fip["ip"]}}, None,
                 (400, 404)),
                ("addSecurityGroup of A", "/action", {"addSecurityGroup": {"name": A.sg_name}}, None,
                 (400, 404)),
                ("rebuild from A's image", "/action", {"rebuild": {"imageRef": A.image}}, None, (400,)),
                ("resize to A's flavor", "/action", {"resize": {"flavorRef": A.flavor}}, None, (400,)),
                ("rescue with A's image", "/action", {"rescue": {"rescue_image_ref": A.image}}, None,
                 (400, 404)),
                ("removeFloatingIp of A", "/action", {"removeFloatingIp": {"address": A.fip["ip"]}},
                 None, (400, 404)),
                ("removeFixedIp of A", "/action", {"removeFixedIp": {"address": A.fixed_ip}}, None,
                 (400, 404)),
                ("removeSecurityGroup of A", "/action", {"removeSecurityGroup": {"name": A.sg_name}},
                 None, (400, 404)),
                ("attach A's attached volume", "/os-volume_attachments",
                 {"volumeAttachment": {"volumeId": A.vol, "device": None}}, None, (400, 404))):
            r = w.call("POST", bs + path, body, version=version)
            must_fail(f"POST {bs + path} {label}", r, allowed)
        wait_for(lambda: w.call("GET", bs).json["server"]["status"] == "ACTIVE", "B's server calm")
        must_fail("POST /os-security-group-rules on A's group", w.call(
            "POST", "/os-security-group-rules", {"security_group_rule": {
                "parent_group_id": A.sg, "ip_protocol": "tcp", "from_port": 80, "to_port": 80,
                "cidr": "0.0.0.0/0"}}), (404,))
        b_default = next(g for g in w.call("GET", "/os-security-groups").json["security_groups"]
                         if g["name"] == "default")["id"]
        r = w.call("POST", "/os-security-group-rules", {"security_group_rule": {
            "parent_group_id": b_default, "ip_protocol": "tcp", "from_port": 81, "to_port": 81,
            "group_id": A.sg}})
        must_fail("POST /os-security-group-rules from A's group as source", r, (400, 404))
        if r.status == 200:
            w.call("DELETE", f"/os-security-group-rules/{r.json['security_group_rule']['id']}")
        must_fail("POST /os-snapshots of A's volume", w.call(
            "POST", "/os-snapshots", {"snapshot": {"volume_id": A.vol2, "force": True}}))
        must_fail("POST /os-volumes from A's snapshot", w.call(
            "POST", "/os-volumes", {"volume": {"size": 1, "snapshot_id": A.snap}}), (404,))
        # names are per project (per user for key pairs): B may reuse A's,
        # and a 409 would tell B that A has one
        for path, body, key, idf in (
                ("/os-keypairs", {"keypair": {"name": A.keypair}}, "keypair", "name"),
                ("/os-security-groups", {"security_group": {"name": A.sg_name, "description": "b"}},
                 "security_group", "id"),
                ("/os-server-groups", {"server_group": {"name": TAG + "-grp", "policies": ["affinity"]}},
                 "server_group", "id")):
            r = w.call("POST", path, body)
            if r.status not in (200, 201):
                w.leak(f"POST {path} with A's name as B (want 200)", r)
            else:
                w.call("DELETE", f"{path}/{r.json[key][idf]}")

    # ---- quotas and limits of A asked by B ----
    def quota_and_limits(self, w):
        for path in (f"/os-quota-sets/{PA}", f"/os-quota-sets/{PA}/detail",
                     f"/os-quota-sets/{PB}?user_id={UA}", f"/os-simple-tenant-usage/{PA}"):
            r = w.call("GET", path)
            # A's marker value (key_pairs 97), read from the quota set, not
            # searched for in the text: a Keystone project id may hold "97"
            shows_a = r.status == 200 and (r.json or {}).get("quota_set", {}).get("key_pairs") == 97
            if r.status != 403 and (shows_a or "user_id" not in path):
                w.leak(f"GET {path} as B (want 403)", r)
        for q in (f"?tenant_id={PA}", f"?project_id={PA}"):
            r = w.call("GET", "/limits" + q)
            if r.status == 200 and r.json["limits"]["absolute"].get("maxTotalKeypairs") == 97:
                w.leak(f"GET /limits{q} shows A's limits", r)
            elif r.status not in (200, 403):
                w.leak(f"GET /limits{q} as B", r)
        r = w.call("GET", f"/os-quota-sets/{PA}/defaults")
        if r.status == 200 and r.json["quota_set"].get("key_pairs") == 97:
            w.leak("defaults show A's quota", r)

    # ---- the image service face (Glance v2): A's snapshot is private ----
    def glance_face(self, w, seen_in):
        patch = json.dumps([{"op": "add", "path": "/b", "value": "1"}]).encode()
        for method, path, raw, ctype in (
                ("GET", "/image/v2/images/{}", None, None),
                ("PATCH", "/image/v2/images/{}", patch, "application/openstack-images-v2.1-json-patch"),
                ("DELETE", "/image/v2/images/{}", None, None),
                ("GET", "/image/v2/images/{}/file", None, None),
                ("PUT", "/image/v2/images/{}/file", b"x" * 16, "application/octet-stream")):
            r = w.call(method, path.format(A.image), raw=raw, ctype=ctype)
            r0 = w.call(method, path.format(FAKE), raw=raw, ctype=ctype)
            if r.status not in (403, 404) or not same_answer(r, r0, [A.image], [FAKE]):
                w.leak(f"{method} {path} as B on A's private image (want as unknown: {r0.status}"
                       f" {r0.data[:200]!r})", r)
        for q in ("", "?visibility=private", f"?owner={PA}", "?visibility=all", f"?id={A.image}"):
            r = w.call("GET", "/image/v2/images" + q)
            if r.status == 200 and seen_in(r):
                w.leak(f"GET /image/v2/images{q} shows A's image", r)
        w.na.append("POST /image/v2/images with A's image id: 409 as Glance (an id is global)")

    # ---- positive controls: the ids are real ----
    def controls(self, w, rows, meta):
        # an admin's all_tenants sees A's server; A sees it in its own list
        r = w.call("GET", "/servers?all_tenants=1&name=" + TAG + "-srv", token=TADM)
        self.assertIn(A.sid, [s["id"] for s in r.json["servers"]], "admin all_tenants misses A's server")
        r = w.call("GET", "/servers/detail", token=TA)
        self.assertIn(A.sid, [s["id"] for s in r.json["servers"]], "A's list misses A's server")
        skip = {"/servers/{server_id}/migrations/{id}",  # only in-progress live migrations show
                "/servers/{server_id}/shares", "/servers/{server_id}/shares/{id}",
                "/os-baremetal-nodes/{id}", "/os-instance_usage_audit_log/{id}"}
        for row in rows:
            if row["method"] != "GET" or row["removed"] != "-" or "{" not in row["path"]:
                continue
            if row["path"] in skip:
                print(f"  no owner control: GET {row['path']} (not built, or shows only"
                      " an in-progress live migration / an audit period)")
                continue
            policy, handler = meta[("GET", row["path"], None)]
            p = params_for(row["path"])
            if not any(k == "owned" for _, k in p.values()) and row["path"] not in (
                    "/os-quota-sets/{id}", "/os-quota-sets/{id}/detail", "/os-simple-tenant-usage/{id}"):
                continue
            filled = re.sub(r"\{([^}]+)\}", lambda m: str(p[m.group(1)][0]), row["path"])
            token = TADM if policy in DENY_MEMBER else TA
            version = "2.31" if "console-auth" in filled else (
                row["min_version"] if vt(row["min_version"]) >= (2, 1) else "2.1")
            r = w.call("GET", filled, token=token, version=version)
            self.assertTrue(200 <= r.status < 300, f"control GET {filled} as owner: {r}")

    # ---- A's objects are as A left them ----
    def integrity(self, w):
        s = w.call("GET", f"/servers/{A.sid}", token=TA, version="2.26").json["server"]
        self.assertEqual((s["status"], s["name"], s["locked"] if "locked" in s else False,
                          s["metadata"], s["tags"]),
                         ("ACTIVE", TAG + "-srv", False, {"iso": "a"}, ["iso-tag"]))
        for path in (f"/os-keypairs/{A.keypair}", f"/os-server-groups/{A.group}",
                     f"/os-security-groups/{A.sg}", f"/os-volumes/{A.vol}", f"/os-snapshots/{A.snap}",
                     f"/images/{A.image}", f"/os-floating-ips/{A.fip['id']}", f"/flavors/{A.flavor}"):
            self.assertEqual(w.call("GET", path, token=TA).status, 200, path)
        sg = w.call("GET", f"/os-security-groups/{A.sg}", token=TA).json["security_group"]
        self.assertEqual(sg["name"], A.sg_name)
        self.assertIn(A.rule, [x["id"] for x in sg["rules"]])
        fip = w.call("GET", f"/os-floating-ips/{A.fip['id']}", token=TA).json["floating_ip"]
        self.assertEqual(fip["instance_id"], A.sid)
        att = w.call("GET", f"/servers/{A.sid}/os-volume_attachments", token=TA).json
        self.assertEqual([x["volumeId"] for x in att["volumeAttachments"]], [A.vol])
        img = w.call("GET", f"/images/{A.image}/metadata", token=TA).json["metadata"]
        self.assertEqual(img.get("iso_key"), "v")
        self.assertNotIn("b", img)
        r = w.call("GET", f"/os-quota-sets/{PA}", token=TADM).json["quota_set"]
        self.assertEqual(r["key_pairs"], 97)


if __name__ == "__main__":
    unittest.main()
