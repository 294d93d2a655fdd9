"""keystone-init.py — the private Keystone's projects, users, roles and
catalog for cnova, made idempotently over Keystone's REST API (one process:
much faster than one `openstack` command per object), then clouds.yaml.
Run by scripts/keystone.sh after `keystone-manage bootstrap` made the admin
project, user and role, the member and reader roles and the identity
endpoints.

Environment: KS_URL (http://127.0.0.1:PORT), KS_PASSWORD (every user's),
CNOVA_URL (http://127.0.0.1:PORT of nginx), CLOUDS (clouds.yaml to write; openrc is written beside it).
"""
import json
import os
import shlex
import sys
import urllib.error
import urllib.parse
import urllib.request

KS = os.environ["KS_URL"].rstrip("/")
PW = os.environ["KS_PASSWORD"]
CNOVA = os.environ["CNOVA_URL"].rstrip("/")
CLOUDS = os.environ["CLOUDS"]
REGION = "RegionOne"
DOMAIN = "default"

# project -> [(user, [roles])], as in DevStack (nova: service and admin)
PROJECTS = {
    "admin": [],                        # admin/admin: keystone-manage bootstrap
    "demo": [("demo", ["member"]), ("demo-reader", ["reader"])],
    "alt_demo": [("alt_demo", ["member"])],
    "service": [("nova", ["service", "admin"])],
}
SERVICES = [  # (type, name, url of every interface)
    ("compute", "nova", CNOVA + "/v2.1"),
    ("image", "glance", CNOVA + "/image"),
    ("identity", "keystone", KS + "/v3"),
]
CLOUDS_USERS = [  # (cloud, user, project)
    ("cnova-admin", "admin", "admin"),
    ("cnova-demo", "demo", "demo"),
    ("cnova-demo-reader", "demo-reader", "demo"),
    ("cnova-alt-demo", "alt_demo", "alt_demo"),
]

token = None


def call(method, path, body=None, ok=(200, 201, 204)):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(KS + path, data=data, method=method)
    req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("X-Auth-Token", token)
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            raw = r.read()
            return r.status, (json.loads(raw) if raw else None), r.headers
    except urllib.error.HTTPError as e:
        if e.code in ok:
            return e.code, None, e.headers
        raise SystemExit(f"keystone-init: {method} {path}: {e.code} {e.read()[:400]!r}")


def find(collection, **query):
    """The one object of /v3/COLLECTION matching query, or None."""
    _, body, _ = call("GET", f"/v3/{collection}?" + urllib.parse.urlencode(query))
    found = body[collection]
    return found[0] if found else None


def ensure(collection, kind, query, create):
    obj = find(collection, **query)
    if obj is None:
        _, body, _ = call("POST", f"/v3/{collection}", {kind: create})
        obj = body[kind]
        print(f"created {kind} {create.get('name', create.get('type'))}")
    return obj


def password_works(user):
    """Does USER's password (unscoped) authenticate?"""
    req = urllib.request.Request(KS + "/v3/auth/tokens", json.dumps({"auth": {"identity": {
        "methods": ["password"], "password": {"user": {
            "name": user, "domain": {"id": DOMAIN}, "password": PW}}}}}).encode(),
        {"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=60):
            return True
    except urllib.error.HTTPError as e:
        if e.code == 401:
            return False
        raise


def main():
    global token
    _, _, headers = call("POST", "/v3/auth/tokens", {"auth": {
        "identity": {"methods": ["password"], "password": {"user": {
            "name": "admin", "domain": {"id": DOMAIN}, "password": PW}}},
        "scope": {"project": {"name": "admin", "domain": {"id": DOMAIN}}}}})
    token = headers["X-Subject-Token"]

    roles = {r: ensure("roles", "role", {"name": r}, {"name": r})["id"]
             for r in ("admin", "member", "reader", "service")}
    for pname, members in PROJECTS.items():
        project = ensure("projects", "project", {"name": pname, "domain_id": DOMAIN},
                         {"name": pname, "domain_id": DOMAIN,
                          "description": f"cnova {pname} project"})
        for uname, uroles in members:
            user = ensure("users", "user", {"name": uname, "domain_id": DOMAIN},
                          {"name": uname, "domain_id": DOMAIN, "password": PW,
                           "default_project_id": project["id"]})
            if not password_works(uname):  # KS_PASSWORD changed since
                call("PATCH", f"/v3/users/{user['id']}", {"user": {"password": PW}})
                print(f"updated the password of {uname}")
            for r in uroles:  # PUT: idempotent
                call("PUT", f"/v3/projects/{project['id']}/users/{user['id']}/roles/{roles[r]}")

    for stype, sname, url in SERVICES:
        service = ensure("services", "service", {"type": stype},
                         {"type": stype, "name": sname, "enabled": True})
        for iface in ("public", "internal", "admin"):
            ep = find("endpoints", service_id=service["id"], interface=iface)
            if ep is None:
                call("POST", "/v3/endpoints", {"endpoint": {
                    "service_id": service["id"], "interface": iface, "url": url,
                    "region_id": REGION, "enabled": True}})
                print(f"created endpoint {sname} {iface} {url}")
            elif ep["url"] != url or ep.get("region_id") != REGION:
                call("PATCH", f"/v3/endpoints/{ep['id']}",
                     {"endpoint": {"url": url, "region_id": REGION}})
                print(f"updated endpoint {sname} {iface} {url}")

    lines = ["# written by scripts/stack.sh: this stack's private Keystone",
             "# use: OS_CLIENT_CONFIG_FILE=<this file> openstack --os-cloud cnova-demo server list",
             "clouds:"]
    for cloud, user, project in CLOUDS_USERS:
        lines += [f"  {cloud}:",
                  "    auth:",
                  f"      auth_url: {json.dumps(KS + '/v3')}",
                  f"      username: {json.dumps(user)}",
                  f"      password: {json.dumps(PW)}",
                  f"      project_name: {json.dumps(project)}",
                  "      user_domain_name: Default",
                  "      project_domain_name: Default",
                  "    auth_type: password",
                  f"    region_name: {REGION}",
                  "    interface: public",
                  "    identity_api_version: 3"]
    write_private(CLOUDS, lines)

    # the same for the clients that read only OS_* (the nova command)
    openrc = os.path.join(os.path.dirname(CLOUDS), "openrc")
    lines = ["# written by scripts/stack.sh: . openrc [CLOUD] sets OS_* for this stack's",
             "# Keystone (CLOUD: " + ", ".join(c for c, _, _ in CLOUDS_USERS) + "; cnova-admin when none)",
             'case ${1:-cnova-admin} in']
    for cloud, user, project in CLOUDS_USERS:
        lines.append(f"{cloud}) OS_USERNAME={shlex.quote(user)} OS_PROJECT_NAME={shlex.quote(project)} ;;")
    lines += ['*) echo "openrc: no cloud $1" >&2; return 1 ;;',
              "esac",
              f"export OS_USERNAME OS_PROJECT_NAME OS_AUTH_URL={shlex.quote(KS + '/v3')}",
              f"export OS_PASSWORD={shlex.quote(PW)} OS_USER_DOMAIN_NAME=Default OS_PROJECT_DOMAIN_NAME=Default",
              f"export OS_REGION_NAME={REGION} OS_IDENTITY_API_VERSION=3 OS_AUTH_TYPE=password",
              "unset OS_CLOUD OS_TOKEN OS_PROJECT_ID OS_USER_ID OS_ENDPOINT"]
    write_private(openrc, lines)


def write_private(path, lines):
    tmp = path + ".tmp"
    with open(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as f:
        f.write("\n".join(lines) + "\n")
    os.replace(tmp, path)
    print(f"wrote {path}")


if __name__ == "__main__":
    sys.exit(main())
