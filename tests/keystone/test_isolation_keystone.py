"""The isolation walk of tests/api/test_isolation.py (every route of the
table, project A's objects against project B) in Keystone mode: A is the
demo project (user demo), B is alt_demo (user alt_demo), the admin is
Keystone's admin, each with a real Keystone token."""
import json, os, sys, urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "api"))

KS = "http://127.0.0.1:%s" % os.environ.get("CNOVA_KEYSTONE_PORT", "15000")
PASSWORD = os.environ.get("CNOVA_KEYSTONE_PASSWORD", "secret")


def login(user, project):
    """(token, user id, project id) of user scoped to project."""
    body = {"auth": {"identity": {"methods": ["password"], "password": {"user": {
        "name": user, "domain": {"id": "default"}, "password": PASSWORD}}},
        "scope": {"project": {"name": project, "domain": {"id": "default"}}}}}
    req = urllib.request.Request(KS + "/v3/auth/tokens?nocatalog", data=json.dumps(body).encode(),
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as r:
        tok = json.loads(r.read())["token"]
        return r.headers["X-Subject-Token"], tok["user"]["id"], tok["project"]["id"]


ta, ua, pa = login("demo", "demo")
tb, _, pb = login("alt_demo", "alt_demo")
tadm, _, _ = login("admin", "admin")
os.environ.update(CNOVA_TOKEN_A=ta, CNOVA_TOKEN_B=tb, CNOVA_TOKEN_ADMIN=tadm,
                  CNOVA_PROJECT_A=pa, CNOVA_PROJECT_B=pb, CNOVA_USER_A=ua)

from test_isolation import IsolationTest  # noqa: E402,F401  (its module fixtures run with it)
