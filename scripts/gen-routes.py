#!/usr/bin/env python3
"""gen-routes.py: writes fcgi-api/routes.h (THE route table) from api/routes.tsv.

api/routes.tsv is a copy of the Compute API contract. Each row becomes one
ROUTE(...) line. The handler column is the only hand-written part: the
generator keeps the handler already named in routes.h for a row and gives new
rows `not_built` (501). Run by hand (`make routes`) when the contract changes.
"""
import csv, json, os, re, sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TSV = os.path.join(ROOT, "api", "routes.tsv")
SCHEMAS = [os.path.join(ROOT, "api", n) for n in ("schemas.json", "schemas-mitaka.json")]
POLICY_DEFAULTS = os.path.join(ROOT, "api", "policy-defaults.tsv")
REQ_SCHEMAS = os.path.join(ROOT, "api", "request-schemas.json")
OUT = os.path.join(ROOT, "fcgi-api", "routes.h")

POLICIES = {"-": "POLICY_AUTHENTICATED", "RULE_ANY": "POLICY_ANY", "ADMIN": "POLICY_ADMIN",
            "PROJECT_MEMBER_OR_ADMIN": "POLICY_MEMBER", "PROJECT_READER_OR_ADMIN": "POLICY_READER",
            "PROJECT_MANAGER_OR_ADMIN": "POLICY_MANAGER", "SERVICE_ROLE": "POLICY_SERVICE"}


def mv(s):
    if s in ("-", ""):
        return "MV_OPEN"
    a, b = s.split(".")
    return f"MV({a}, {b})"


RANK = ["-", "RULE_ANY", "PROJECT_READER_OR_ADMIN", "PROJECT_MEMBER_OR_ADMIN",
        "PROJECT_MANAGER_OR_ADMIN", "ADMIN", "SERVICE_ROLE"]


def base_policy(cell):
    """The route's own rule. The catalog lists every rule a handler checks,
    sorted by name; rules that refine another (name:sub) and the embedded
    extra-specs read are checks on parts of the request, so the route's gate
    is the least privileged of the rest."""
    rules = dict(x.split("=", 1) for x in cell.split(";")) if "=" in cell else {}
    if not rules:
        return "", cell
    names = [n for n in rules if not any(n.startswith(o + ":") for o in rules if o != n)]
    if len(names) > 1:
        names = [n for n in names if n != "os_compute_api:os-flavor-extra-specs:index"]
    name = min(names, key=lambda n: RANK.index(rules[n]))
    return name, rules[name]


def key(method, path, action):
    return (method, path, action)


def existing_handlers():
    found = {}
    if not os.path.exists(OUT):
        return found
    pat = re.compile(r'^ROUTE\((\w+), "([^"]*)", (NULL|"[^"]*"),.*, (\w+)\)\s*$')
    for line in open(OUT):
        m = pat.match(line.strip())
        if m:
            act = None if m.group(3) == "NULL" else m.group(3).strip('"')
            found[key(m.group(1), m.group(2), act)] = m.group(4)
    return found


def write_request_schemas():
    """api/request-schemas.json: the request and query schemas the API
    validates with at run time (the response schemas stay in schemas.json,
    for the tests)."""
    out = []
    for path in SCHEMAS:
        for e in json.load(open(path))["entries"]:
            for s in e["schemas"]:
                if s["kind"] in ("request", "query"):
                    out.append({"method": e["method"], "path": e["path"], "action": e["action"],
                                "kind": s["kind"], "min": s["min"], "max": s["max"],
                                "schema": s["schema"]})
    with open(REQ_SCHEMAS, "w") as f:
        json.dump({"schemas": out}, f, sort_keys=True, separators=(",", ":"))


def main():
    keep = existing_handlers()
    defaults = {}
    for line in open(POLICY_DEFAULTS):
        if line.strip() and not line.startswith("#"):
            m, p, a, name, dflt = line.rstrip("\n").split("\t")
            defaults[(m, p, a)] = f"{name}={dflt}"
    rows = list(csv.DictReader(open(TSV, newline=""), delimiter="\t"))
    lines = []
    for r in rows:
        act = None if r["action"] == "-" else r["action"]
        cell = r["policy"]
        if cell == "-":
            cell = defaults.get((r["method"], r["path"], r["action"]), "-")
        pname, pdefault = base_policy(cell)
        pol = f'{POLICIES[pdefault]}, "{pname}"'
        m = re.search(r"since nova (\d+)", r.get("removed", ""))
        gone = m.group(1) if m else "0"
        handler = keep.get(key(r["method"], r["path"], act), "not_built")
        a = "NULL" if act is None else f'"{act}"'
        lines.append(f'ROUTE({r["method"]}, "{r["path"]}", {a}, {mv(r["min_version"])}, '
                     f'{mv(r["max_version"])}, {r["normal_status"].split(",")[0]}, {pol}, {gone}, {handler})')
    with open(OUT, "w") as f:
        f.write("""/* routes.h — THE route table of the Compute API v2.1, one line per method +
 * path (+ action for POST .../action), generated from api/routes.tsv by
 * scripts/gen-routes.py; only the last column (the handler) is written by
 * hand, and the generator keeps it. Router, 405 Allow headers, the route
 * listing and the microversion limits all read this table.
 *
 * ROUTE(method, path template, action, min version, max version,
 *       normal status, default policy, policy name, removed-in-nova release
 *       (410), handler)
 * A handler named not_built answers 501 notImplemented. */
""")
        for l in lines:
            f.write(l + "\n")
    write_request_schemas()
    print(f"wrote {OUT}: {len(lines)} routes, "
          f"{sum(1 for l in lines if l.endswith('not_built)'))} not built")


if __name__ == "__main__":
    sys.exit(main())
