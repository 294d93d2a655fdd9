"""clients.py: running Debian's real OpenStack clients against the stack
under test (CNOVA_BASE, started by scripts/test.sh)."""
import json, os, subprocess, unittest

BASE = os.environ.get("CNOVA_BASE", "http://127.0.0.1:8774")
ENDPOINT = BASE + "/v2.1"
OPENSTACK = "/usr/bin/openstack"
SYSTEM_PY = "/usr/bin/python3"


def run_openstack(*args, admin=True, version="2.1"):
    """Runs the openstack command against the stack (admin: admin_token
    admin:admin; else --os-auth-type none, an ordinary user), with no OS_*
    variables of the caller's environment; returns the CompletedProcess."""
    auth = (["--os-auth-type", "admin_token", "--os-token", "admin:admin"] if admin
            else ["--os-auth-type", "none"])
    cmd = [OPENSTACK, *auth, "--os-endpoint", ENDPOINT, "--os-compute-api-version", version, *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120,
                          env={k: v for k, v in os.environ.items() if not k.startswith("OS_")})


def openstack(*args, admin=True, version="2.1", check=True):
    """run_openstack, with stdout parsed as JSON where it is JSON; returns
    (returncode, parsed JSON or raw text, stderr)."""
    p = run_openstack(*args, admin=admin, version=version)
    out = p.stdout
    try:
        out = json.loads(out) if out.strip() else None
    except ValueError:
        pass
    if check and p.returncode:
        raise AssertionError(f"{' '.join(args)} failed ({p.returncode}): {p.stderr[-800:]}")
    return p.returncode, out, p.stderr


def novaclient(script, version="2.1", token="admin:admin"):
    """Runs a novaclient snippet (with `nova` bound to a client) in Debian's
    Python; returns what it prints, parsed as JSON."""
    prelude = (
        "import json\n"
        "from keystoneauth1 import session, token_endpoint\n"
        "from novaclient import client\n"
        f"s = session.Session(auth=token_endpoint.Token({ENDPOINT!r}, {token!r}))\n"
        f"nova = client.Client({version!r}, session=s)\n")
    p = subprocess.run([SYSTEM_PY, "-c", prelude + script], capture_output=True, text=True, timeout=120)
    if p.returncode:
        raise AssertionError(f"novaclient failed: {p.stderr[-800:]}")
    return json.loads(p.stdout)


def need_clients(cls):
    return unittest.skipUnless(os.path.exists(OPENSTACK), "python3-openstackclient is not installed")(cls)


NOVA = "/usr/bin/nova"


def nova_cli(*args, token="admin:admin", version="2.1", project="admin"):
    """Runs the nova command against the stack with keystoneauth's
    admin_token plugin (the token and the compute endpoint; novaclient's
    shell insists on OS_AUTH_URL and a project even though it asks no
    Keystone then). Returns (returncode, stdout, stderr)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("OS_")}
    env.update(OS_AUTH_URL=ENDPOINT, OS_PROJECT_ID=project)
    cmd = [NOVA, "--os-auth-type", "admin_token", "--os-endpoint", ENDPOINT, "--os-token", token,
           "--os-compute-api-version", version, *args]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=180, env=env)
    return p.returncode, p.stdout, p.stderr


def table(text):
    """The rows of a prettytable as dicts (header -> cell)."""
    rows = [[c.strip() for c in line.strip().strip("|").split("|")]
            for line in text.splitlines() if line.startswith("|")]
    return [dict(zip(rows[0], r)) for r in rows[1:]] if rows else []
