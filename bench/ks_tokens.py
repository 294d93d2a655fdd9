#!/usr/bin/python3
"""ks_tokens.py KEYSTONE_URL USER PROJECT PASSWORD N: prints N distinct
tokens of USER scoped to PROJECT, one per line. One password
authentication, then N token-method authentications from it (no password
hashing each time), eight at a time."""
import json
import sys
import urllib.request
from concurrent.futures import ThreadPoolExecutor

url, user, project, password, n = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])
scope = {"project": {"name": project, "domain": {"id": "default"}}}


def issue(identity):
    body = json.dumps({"auth": {"identity": identity, "scope": scope}}).encode()
    req = urllib.request.Request(url + "/v3/auth/tokens?nocatalog", data=body,
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as r:
        return r.headers["X-Subject-Token"]


first = issue({"methods": ["password"], "password": {
    "user": {"name": user, "domain": {"id": "default"}, "password": password}}})
with ThreadPoolExecutor(8) as ex:
    tokens = set(ex.map(lambda _: issue({"methods": ["token"], "token": {"id": first}}), range(n)))
for t in tokens:
    print(t)
