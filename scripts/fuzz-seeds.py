#!/usr/bin/env python3
"""fuzz-seeds.py OUTDIR: the seed corpus of each fuzz target (fuzz/), made
from the API contract in api/ (routes.tsv, request-schemas.json, samples/),
one folder per target under OUTDIR, in each target's input format (see the
head of fuzz/fuzz_<target>.c). Generated at build time, never committed;
fuzz/seeds/<target>/ holds the few hand-written ones, copied along."""
import json
import os
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
METHODS = ["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"]
UUID = "9f2b4c1e-5d6a-4b7c-8e9f-0a1b2c3d4e5f"


def fill(path):
    """A request path for a template: each {param} a uuid."""
    out = []
    for seg in path.split("/"):
        out.append(UUID if seg.startswith("{") else seg)
    return "/".join(out)


def minor(v):
    return int(v.split(".")[1]) if v and v not in ("-", "None") else None


class Seeds:
    def __init__(self, outdir, target):
        self.dir = Path(outdir) / target
        self.dir.mkdir(parents=True, exist_ok=True)
        self.n = 0

    def add(self, data):
        if isinstance(data, str):
            data = data.encode()
        (self.dir / f"seed-{self.n:05d}").write_bytes(data)
        self.n += 1


def routes():
    rows = []
    with open(ROOT / "api/routes.tsv") as f:
        head = f.readline().rstrip("\n").split("\t")
        for line in f:
            rows.append(dict(zip(head, line.rstrip("\n").split("\t"))))
    return rows


def samples():
    """Every sample that is a JSON object: {top-level key set: [text, ...]}."""
    out = {}
    for p in sorted((ROOT / "api/samples").rglob("*.json")):
        try:
            doc = json.loads(p.read_text())
        except ValueError:
            continue
        if isinstance(doc, dict) and doc:
            out.setdefault(frozenset(doc), []).append(json.dumps(doc))
    return out


def bodies_for(schema, by_keys, limit=3):
    """Samples whose top-level keys the schema's properties all know."""
    props = set((schema or {}).get("properties") or {})
    found = []
    for keys, texts in by_keys.items():
        if props and keys <= props:
            found.extend(texts[:limit])
    return found[:limit]


def query_params(schema, limit=6):
    """(name, a plausible value) for the first parameters of a query schema."""
    out = []
    for name, sub in list(((schema or {}).get("properties") or {}).items())[:limit]:
        items = sub.get("items", sub) if isinstance(sub, dict) else {}
        val = "1"
        if isinstance(items, dict) and items.get("enum"):
            val = str(items["enum"][0])
        elif isinstance(items, dict) and items.get("format") == "uuid":
            val = UUID
        elif isinstance(items, dict) and items.get("format") == "date-time":
            val = "2026-12-04T00:00:00Z"
        out.append((name, val))
    return out


def main():
    outdir = sys.argv[1]
    rows = routes()
    schemas = json.load(open(ROOT / "api/request-schemas.json"))["schemas"]
    request = [e for e in schemas if e["kind"] == "request"]
    query = [e for e in schemas if e["kind"] == "query"]
    by_keys = samples()

    # router: method byte, version byte, path, '\n', action key
    s = Seeds(outdir, "fuzz_router")
    for r in rows:
        m = METHODS.index(r["method"]) if r["method"] in METHODS else 7
        v = minor(r["min_version"]) or 1
        action = r["action"] if r["action"] != "-" else ""
        s.add(bytes([m, v]) + fill(r["path"]).encode() + (b"\n" + action.encode() if action else b""))

    # microversion: flags byte, OpenStack-API-Version, '\n', X-OpenStack-Nova-API-Version
    s = Seeds(outdir, "fuzz_microversion")
    for h1, h2 in [("compute 2.1", ""), ("compute 2.104", ""), ("compute latest", ""),
                   ("placement 1.1, compute 2.53", ""), ("", "2.10"), ("", "latest"),
                   ("compute 2.105", ""), ("compute  2.5 ", "2.7"), ("volume 3.0", "2.1"),
                   ("compute 2.0", ""), ("", "3.1")]:
        for legacy in (0, 1):
            s.add(bytes([legacy]) + f"{h1}\n{h2}".encode())

    # query: schema byte, raw query string
    s = Seeds(outdir, "fuzz_query")
    for i, e in enumerate(query[:256]):
        parts = [f"{k}={v}" for k, v in query_params(e["schema"])]
        s.add(bytes([i]) + "&".join(parts).encode())
    for q in ["limit=2&marker=" + UUID, "all_tenants&deleted=true", "name=a%20b+c&name=%E2%82%AC",
              "sort_key=display_name&sort_dir=asc&sort_key=created_at", "changes-since=2026-01-01T00:00:00Z"]:
        s.add(bytes([0]) + q.encode())

    # validate: two bytes of schema index, mode/size byte, JSON body
    s = Seeds(outdir, "fuzz_validate")
    for i, e in enumerate(schemas):
        idx = bytes([i >> 8, i & 255])
        s.add(idx + b"\x00{}")
        if e["kind"] == "query":  # the map of parameter -> values
            body = json.dumps({k: [v] for k, v in query_params(e["schema"])})
            s.add(idx + b"\x02" + body.encode())
            continue
        for body in bodies_for(e["schema"], by_keys):
            s.add(idx + b"\x00" + body.encode())
            s.add(idx + b"\xc8" + body.encode())  # a 9-byte message buffer

    # fcgi_params: NAME=value lines, an empty line, the body
    s = Seeds(outdir, "fuzz_fcgi_params")
    for r in rows:
        env = [f"REQUEST_METHOD={r['method']}",
               f"REQUEST_URI=/v2.1{fill(r['path'])}",
               "HTTP_HOST=127.0.0.1:8774",
               "HTTP_X_AUTH_TOKEN=admin:admin"]
        v = minor(r["max_version"]) or minor(r["min_version"]) or 1
        env.append(f"HTTP_OPENSTACK_API_VERSION=compute 2.{v}")
        body = ""
        if r["method"] in ("POST", "PUT", "PATCH"):
            for e in request:
                if (e["method"], e["path"]) == (r["method"], r["path"]) and \
                        (e["action"] or "-") == r["action"]:
                    found = bodies_for(e["schema"], by_keys, 1)
                    body = found[0] if found else "{}"
                    break
            else:
                body = json.dumps({r["action"]: None}) if r["action"] != "-" else "{}"
            env += ["CONTENT_TYPE=application/json", f"CONTENT_LENGTH={len(body.encode())}"]
        s.add("\n".join(env) + "\n\n" + body)
    s.add("REQUEST_METHOD=GET\nREQUEST_URI=/v2/demo/flavors/detail?limit=1\n"
          "HTTP_X_AUTH_TOKEN=demo\nHTTPS=on\n\n")

    # the hand-written seeds
    hand = ROOT / "fuzz/seeds"
    for d in sorted(hand.iterdir()) if hand.is_dir() else []:
        dst = Path(outdir) / d.name
        dst.mkdir(parents=True, exist_ok=True)
        for f in sorted(d.iterdir()):
            shutil.copy(f, dst / f"hand-{f.name}")
    for d in sorted(Path(outdir).iterdir()):
        seeds = sum(1 for f in os.listdir(d) if f.startswith(("seed-", "hand-")))
        print(f"fuzz-seeds: {d.name}: {seeds} seeds, {len(os.listdir(d))} inputs in the corpus",
              file=sys.stderr)


if __name__ == "__main__":
    main()
