"""nginx refuses what should never reach the API, in Nova's error body:
header floods (many headers, one huge header), a URI too long, a malformed
request line, and slow clients (slowloris: half a header or half a body),
which never hold an API worker and are cut after [CNOVA_CLIENT_TIMEOUT]
(scripts/test.sh runs the stack with 10 s so the cut is seen here)."""
import os, re, socket, time, urllib.parse

from common import ApiTest, BASE, REQ_ID, RUN, Response, request

HOST, PORT = urllib.parse.urlsplit(BASE).hostname, urllib.parse.urlsplit(BASE).port


def raw_exchange(data):
    """Sends raw bytes, reads the answer until nginx closes; a Response."""
    with socket.create_connection((HOST, PORT), timeout=30) as s:
        s.sendall(data)
        got = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            got += chunk
    head, _, body = got.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {k.strip().lower(): v.strip() for k, v in (l.split(":", 1) for l in lines[1:] if ":" in l)}
    return Response(int(lines[0].split()[1]), headers, body)


def get(path, extra=b""):
    return (f"GET {path} HTTP/1.1\r\nHost: {HOST}:{PORT}\r\nX-Auth-Token: admin:admin\r\n"
            "Connection: close\r\n").encode() + extra + b"\r\n"


def client_timeout():
    """nginx's client_header_timeout of the stack under test, in seconds."""
    with open(os.path.join(RUN, "nginx", "nginx.conf")) as f:
        return int(re.search(r"client_header_timeout\s+(\d+)s;", f.read()).group(1))


def closed_within(sock, seconds):
    """True when nginx closes (or resets) `sock` within `seconds`, sending
    at most an error answer."""
    sock.settimeout(seconds)
    try:
        while sock.recv(65536):
            pass
        return True
    except ConnectionResetError:
        return True
    except socket.timeout:
        return False


class HeaderFloods(ApiTest):
    def test_many_headers_is_400(self):
        flood = b"".join(b"X-Flood-%d: %s\r\n" % (i, b"y" * 1000) for i in range(300))
        self.assertFault(raw_exchange(get("/v2.1/", flood)), 400, "badRequest")

    def test_one_huge_header_is_400(self):
        self.assertFault(raw_exchange(get("/v2.1/", b"X-Huge: " + b"z" * 40000 + b"\r\n")),
                         400, "badRequest")

    def test_uri_too_long_is_414(self):
        self.assertFault(raw_exchange(get("/v2.1/servers/" + "x" * 40000)), 414, "computeFault")

    def test_malformed_request_is_400(self):
        self.assertFault(raw_exchange(b"GARBAGE\r\n\r\n"), 400, "badRequest")
        self.assertFault(raw_exchange(get("/v2.1/servers/%00")), 400, "badRequest")

    def test_oversize_body_is_413(self):
        big = int(os.environ.get("CNOVA_MAX_BODY", "1048576")) + 1
        r = request("POST", "/v2.1/os-keypairs", raw=b" " * big)
        self.assertFault(r, 413, "overLimit")

    def test_api_still_serves_after_floods(self):
        self.test_many_headers_is_400()
        r = request("GET", "/v2.1/")
        self.assertEqual(r.status, 200)
        self.assertRegex(r.header("x-openstack-request-id"), REQ_ID)


class SlowClients(ApiTest):
    def half_requests(self, n):
        """n connections that sent half a header and n half a body."""
        socks = []
        for i in range(n):
            a = socket.create_connection((HOST, PORT), timeout=30)
            a.sendall(b"GET /v2.1/ HTTP/1.1\r\nHost: x\r\nX-Slow: 1")
            b = socket.create_connection((HOST, PORT), timeout=30)
            b.sendall(b"POST /v2.1/os-keypairs HTTP/1.1\r\nHost: x\r\nX-Auth-Token: a\r\n"
                      b"Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"key")
            socks += [a, b]
        self.addCleanup(lambda: [s.close() for s in socks])
        return socks

    def test_slow_clients_hold_no_api_worker(self):
        # far more half requests than the API has workers
        socks = self.half_requests(32)
        r = request("GET", "/v2.1/flavors")
        self.assertEqual(r.status, 200, r)
        # answered while every half request was still pending
        for s in socks:
            s.setblocking(False)
            with self.assertRaises(BlockingIOError):
                s.recv(1)

    def test_slow_clients_are_cut(self):
        timeout = client_timeout()
        if timeout > 12:
            self.skipTest(f"client timeout {timeout} s: too long to wait for here")
        socks = self.half_requests(4)
        deadline = time.monotonic() + timeout + 3
        for s in socks:
            self.assertTrue(closed_within(s, max(0.1, deadline - time.monotonic())),
                            f"a half request still open after {timeout + 3} s")
