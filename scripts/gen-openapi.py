#!/usr/bin/env python3
"""gen-openapi.py: writes api/openapi.json (OpenAPI 3.1) from the API contract.

Inputs, all in the repo: api/routes.tsv (every route and action, their
microversion ranges, status codes and policy), api/policy-defaults.tsv (the
rules the catalog left unresolved), api/request-schemas.json (the request and
query schemas cnova validates with), api/schemas.json (Nova's response
schemas per microversion). Run by hand (`make openapi`) when one of them
changes, like scripts/gen-routes.py; the output is committed and nginx serves
it at /v2.1/openapi.json.

How the table maps onto OpenAPI (the x-openstack-* extensions carry what
OpenAPI has no word for):
- one path item per path template, one operation per method;
- POST .../action: one operation whose request body is a oneOf with one
  branch per action (x-openstack-action names the body's key), and
  x-openstack-actions listing each action's range, status, policy, codes;
- x-openstack-microversion {min, max} on every operation, action and schema
  variant (max null = open); outside its range a route or action is 404;
- a request or response body whose schema differs between microversions is
  an anyOf of the variants, each with its x-openstack-microversion;
- every error status refers to one shared error body (Nova's
  {"itemNotFound": {"code": 404, "message": "..."}}).
"""
import csv, json, os, re, sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
API = os.path.join(ROOT, "api")
OUT = os.path.join(API, "openapi.json")
MAX_VERSION = "2.104"  # lib/cnova.h MV_MAX

ERROR_NAMES = {400: "badRequest", 401: "unauthorized", 403: "forbidden", 404: "itemNotFound",
               405: "badMethod", 406: "notAcceptable", 409: "conflictingRequest",
               410: "gone", 413: "overLimit", 415: "badMediaType", 429: "overLimit",
               500: "computeFault", 501: "notImplemented", 503: "serviceUnavailable"}
REASONS = {200: "OK", 201: "Created", 202: "Accepted", 204: "No Content", 300: "Multiple Choices",
           400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found",
           405: "Method Not Allowed", 406: "Not Acceptable", 409: "Conflict", 410: "Gone",
           413: "Request Entity Too Large", 415: "Unsupported Media Type", 429: "Too Many Requests",
           500: "Internal Server Error", 501: "Not Implemented", 503: "Service Unavailable"}
NO_TOKEN = {("GET", "/"), ("GET", "/versions/{id}")}  # fcgi-api/api.c needs_token()


def mv(lo, hi):
    return {"min": None if lo in ("-", "", None) else lo, "max": None if hi in ("-", "", None) else hi}


def vkey(v):
    a, b = v.split(".")
    return (int(a), int(b))


def load_policy_defaults():
    out = {}
    for line in open(os.path.join(API, "policy-defaults.tsv")):
        if line.startswith("#") or not line.strip():
            continue
        method, path, action, name, default = line.rstrip("\n").split("\t")
        out[(method, path, None if action == "-" else action)] = {name: default}
    return out


def policy_of(row, defaults):
    key = (row["method"], row["path"], row["action"])
    if row["policy"] not in ("-", "?", ""):
        return dict(x.split("=", 1) for x in row["policy"].split(";") if "=" in x)
    return defaults.get(key, {})


def schemas_by_key():
    """(method, path, action) -> {"request": [...], "query": [...], "response": [...]}"""
    out = {}
    for e in json.load(open(os.path.join(API, "schemas.json")))["entries"]:
        k = (e["method"], e["path"], e["action"])
        for s in e["schemas"]:
            if s["kind"] == "response":
                out.setdefault(k, {}).setdefault("response", []).append(s)
    for s in json.load(open(os.path.join(API, "request-schemas.json")))["schemas"]:
        k = (s["method"], s["path"], s["action"])
        out.setdefault(k, {}).setdefault(s["kind"], []).append(s)
    for d in out.values():
        for lst in d.values():
            lst.sort(key=lambda s: vkey(s["min"]))
    return out


def variant(s):
    """One schema of a microversion range, annotated with that range."""
    body = dict(s["schema"]) if isinstance(s["schema"], dict) else {"allOf": [s["schema"]]}
    body["x-openstack-microversion"] = mv(s["min"], s["max"])
    return body


def variants(lst):
    if not lst:
        return None
    if len(lst) == 1:
        return variant(lst[0])
    return {"anyOf": [variant(s) for s in lst]}


def json_content(schema):
    return {"application/json": {"schema": schema}}


def query_parameters(lst):
    """Query parameters: the union over the ranges; each parameter's schema is
    the one of the newest range that names it, with the ranges it is in."""
    params = {}
    for s in lst:
        props = (s["schema"] or {}).get("properties", {}) if isinstance(s["schema"], dict) else {}
        for name, sch in props.items():
            p = params.setdefault(name, {"name": name, "in": "query", "required": False,
                                         "x-openstack-microversions": []})
            p["schema"] = sch
            p["x-openstack-microversions"].append(mv(s["min"], s["max"]))
    for p in params.values():
        sch = p["schema"]
        if isinstance(sch, dict) and sch.get("type") == "array":
            p["style"], p["explode"] = "form", True
    return [params[n] for n in sorted(params)]


def op_id(method, path, action=None):
    s = method.lower() + "_" + re.sub(r"[^A-Za-z0-9]+", "_", path).strip("_")
    return s if s != method.lower() + "_" else method.lower() + "_root"


def build():
    rows = list(csv.DictReader(open(os.path.join(API, "routes.tsv")), delimiter="\t"))
    for r in rows:
        r["action"] = None if r["action"] == "-" else r["action"]
    defaults = load_policy_defaults()
    schemas = schemas_by_key()

    paths = {}
    groups = {}  # (method, path) -> rows
    for r in rows:
        groups.setdefault((r["method"], r["path"]), []).append(r)

    for (method, path), grp in groups.items():
        params = [{"name": n, "in": "path", "required": True, "schema": {"type": "string"}}
                  for n in re.findall(r"\{([^}]+)\}", path)]
        params.append({"$ref": "#/components/parameters/Microversion"})
        params.append({"$ref": "#/components/parameters/LegacyMicroversion"})
        op = {"operationId": op_id(method, path), "tags": [path.strip("/").split("/")[0] or "versions"]}
        codes = set()
        if any(r["action"] for r in grp):
            actions, branches = [], []
            for r in sorted(grp, key=lambda r: r["action"]):
                sch = schemas.get((method, path, r["action"]), {})
                codes.update(int(c) for c in r["normal_status"].split(","))
                errs = [int(c) for c in r["error_statuses"].split(",") if c.strip().isdigit()]
                codes.update(errs)
                req = variants(sch.get("request", []))
                branch = {"type": "object", "required": [r["action"]],
                          "x-openstack-action": r["action"],
                          "x-openstack-microversion": mv(r["min_version"], r["max_version"])}
                if req:
                    branch["allOf"] = [req]
                else:
                    branch["properties"] = {r["action"]: {}}
                branches.append(branch)
                a = {"action": r["action"], "controller": r["controller"],
                     "microversion": mv(r["min_version"], r["max_version"]),
                     "status": int(r["normal_status"].split(",")[0]), "error_statuses": errs,
                     "policy": policy_of(r, defaults), "era": r["era"]}
                if r["removed"] != "-":
                    a["nova_removed"] = r["removed"]
                resp = variants(sch.get("response", []))
                if resp:
                    a["response"] = resp
                actions.append(a)
            op["summary"] = f"{len(actions)} actions on {path}"
            op["requestBody"] = {"required": True, "content": json_content({"oneOf": branches})}
            op["x-openstack-actions"] = actions
            lo = min((r["min_version"] for r in grp), key=vkey)
            his = [r["max_version"] for r in grp]
            op["x-openstack-microversion"] = mv(lo, None if "-" in his else max(his, key=vkey))
            # one response per success status; the body is the action's own
            by_status = {}
            for a in actions:
                by_status.setdefault(a["status"], []).append(a)
            responses = {}
            for st, acts in sorted(by_status.items()):
                bodies = [dict(a["response"], **{"x-openstack-action": a["action"]})
                          for a in acts if "response" in a]
                resp = {"description": f"{REASONS.get(st, 'OK')} ({', '.join(a['action'] for a in acts)})"}
                if bodies:
                    resp["content"] = json_content(bodies[0] if len(bodies) == 1 else {"anyOf": bodies})
                responses[str(st)] = resp
            codes -= set(by_status)
        else:
            (r,) = grp
            sch = schemas.get((method, path, None), {})
            sts = [int(c) for c in r["normal_status"].split(",")]
            codes.update(int(c) for c in r["error_statuses"].split(",") if c.strip().isdigit())
            codes -= set(sts)
            op["summary"] = r["controller"]
            op["x-openstack-controller"] = r["controller"]
            op["x-openstack-microversion"] = mv(r["min_version"], r["max_version"])
            op["x-openstack-policy"] = policy_of(r, defaults)
            op["x-openstack-era"] = r["era"]
            if r["removed"] != "-":
                op["x-openstack-nova-removed"] = r["removed"]
            params += query_parameters(sch.get("query", []))
            if sch.get("query"):
                op["x-openstack-query-schemas"] = [variant(s) for s in sch["query"]]
            req = variants(sch.get("request", []))
            if req:
                op["requestBody"] = {"required": True, "content": json_content(req)}
            body = variants(sch.get("response", []))
            responses = {}
            for st in sts:
                resp = {"description": REASONS.get(st, "OK")}
                if body and st != 204:
                    resp["content"] = json_content(body)
                responses[str(st)] = resp
        if (method, path) in NO_TOKEN:
            op["security"] = []
        else:
            codes.update((401, 403))
        codes.add(404)  # out of the route's microversion range
        codes.add(406)  # a microversion outside [2.1, max]
        if "requestBody" in op:
            codes.update((400, 415))
        for c in sorted(codes):
            if str(c) not in responses:
                responses[str(c)] = {"$ref": f"#/components/responses/Error{c}"}
        op["parameters"] = params
        op["responses"] = responses
        paths.setdefault(path, {})[method.lower()] = op

    # the document itself (nginx serves the file; no token, like the version documents)
    paths["/openapi.json"] = {"get": {
        "operationId": "get_openapi_json", "tags": ["versions"], "security": [],
        "summary": "This document (served by nginx from api/openapi.json; needs no token).",
        "x-cnova-not-in-route-table": True,
        "responses": {"200": {"description": "OK", "content": {"application/json": {
            "schema": {"type": "object"}}}}}}}

    all_codes = sorted({int(c) for p in paths.values() for o in p.values()
                        for c in o["responses"] if int(c) >= 400})
    error_responses = {}
    for c in all_codes:
        name = ERROR_NAMES.get(c, "computeFault")
        error_responses[f"Error{c}"] = {
            "description": f"{REASONS.get(c, 'Error')}: Nova's error body ({name})",
            "content": json_content({"$ref": "#/components/schemas/Error"})}
    doc = {
        "openapi": "3.1.0",
        "info": {
            "title": "cnova: OpenStack Compute API v2.1",
            "version": "2.1",
            "summary": "The Compute (Nova) API v2.1 as cnova serves it, every microversion 2.1 to "
                       + MAX_VERSION + ", generated from api/routes.tsv by scripts/gen-openapi.py.",
            "description": (
                "Every path also exists under an optional /{project_id} prefix, and under /v2 "
                "(the legacy API, microversion 2.0). Send the microversion in "
                "`OpenStack-API-Version: compute X.Y` (or `X-OpenStack-Nova-API-Version: X.Y`, "
                "`latest` allowed). x-openstack-microversion {min, max} gives the range of an "
                "operation, action, parameter or schema variant (max null: open); outside it the "
                "route answers 404. POST .../action bodies are a oneOf with one branch per action "
                "(x-openstack-action); x-openstack-actions lists each action's range, status, "
                "policy and response. Bodies that differ between microversions are an anyOf of "
                "the variants. x-openstack-policy: the default rule(s) of the route. A query "
                "parameter's x-openstack-microversions lists the ranges whose query schema names "
                "it; x-openstack-query-schemas holds those schemas whole. x-openstack-era: both "
                "(in Mitaka and now), mitaka-only (Nova later removed it; cnova serves it as "
                "Mitaka did) or new-since-X.Y."),
            "license": {"name": "Apache-2.0", "identifier": "Apache-2.0"},
            "x-openstack-microversion": {"min": "2.1", "max": MAX_VERSION},
        },
        "jsonSchemaDialect": "https://json-schema.org/draft/2020-12/schema",
        "servers": [{"url": "/v2.1", "description": "this endpoint"}],
        "security": [{"token": []}],
        "paths": dict(sorted(paths.items())),
        "components": {
            "securitySchemes": {"token": {
                "type": "apiKey", "in": "header", "name": "X-Auth-Token",
                "description": "A Keystone token ([api] auth_strategy = keystone), or "
                               "`user:project` with noauth2 (the default)."}},
            "parameters": {
                "Microversion": {"name": "OpenStack-API-Version", "in": "header", "required": False,
                                 "schema": {"type": "string", "pattern": r"^compute (latest|2\.[0-9]+)$"},
                                 "example": "compute " + MAX_VERSION},
                "LegacyMicroversion": {"name": "X-OpenStack-Nova-API-Version", "in": "header",
                                       "required": False,
                                       "schema": {"type": "string", "pattern": r"^(latest|2\.[0-9]+)$"}},
            },
            "schemas": {"Error": {
                "description": "Nova's error body: one key naming the fault.",
                "type": "object", "minProperties": 1, "maxProperties": 1,
                "additionalProperties": {
                    "type": "object", "required": ["code", "message"],
                    "properties": {"code": {"type": "integer"}, "message": {"type": "string"}}},
                "propertyNames": {"enum": sorted(set(ERROR_NAMES.values()))},
            }},
            "responses": error_responses,
        },
    }
    return doc


def main():
    doc = build()
    text = json.dumps(doc, separators=(",", ":"), ensure_ascii=False) + "\n"
    if "--check" in sys.argv:
        same = os.path.exists(OUT) and open(OUT).read() == text
        print("api/openapi.json is " + ("up to date" if same else "STALE: run make openapi"))
        return 0 if same else 1
    with open(OUT, "w") as f:
        f.write(text)
    n_ops = sum(len(p) for p in doc["paths"].values())
    print(f"wrote {os.path.relpath(OUT, ROOT)}: {len(doc['paths'])} paths, {n_ops} operations")
    return 0


if __name__ == "__main__":
    sys.exit(main())
