#!/usr/bin/env python3
"""Self-test for fakehub.py: runs it as a subprocess and talks HTTP to it.

Run: python3 tests/fakehub/test_fakehub.py -v
"""

import base64
import hashlib
import http.client
import json
import os
import select
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest

FAKEHUB = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fakehub.py")
REPO = "ratelimitpreview/test"
MANIFEST = f"/v2/{REPO}/manifests/latest"
SCOPE = f"repository:{REPO}:pull"


def ipv6_loopback_available():
    try:
        with socket.socket(socket.AF_INET6) as sock:
            sock.bind(("::1", 0))
        return True
    except OSError:
        return False


class FakeHub:
    """A running fakehub subprocess; stop() always reaps it."""

    def __init__(self, *args):
        self.proc = subprocess.Popen([sys.executable, FAKEHUB, *args], stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE)
        ready, _, _ = select.select([self.proc.stdout], [], [], 10)
        if not ready:
            self.stop()
            raise RuntimeError("fakehub did not announce its port")
        line = self.proc.stdout.readline()
        if not line:
            self.stop()
            raise RuntimeError("fakehub exited: " + self.proc.stderr.read().decode())
        self.port = json.loads(line)["port"]

    def stop(self, sig=signal.SIGTERM):
        """Signal, wait, and return (exit code, seconds taken, stderr)."""
        start = time.monotonic()
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        elapsed = time.monotonic() - start
        err = self.proc.stderr.read().decode()
        self.proc.stdout.close()
        self.proc.stderr.close()
        return self.proc.returncode, elapsed, err

    def conn(self, host="127.0.0.1"):
        return http.client.HTTPConnection(host, self.port, timeout=10)

    def request(self, method, path, headers=None, body=None, host="127.0.0.1"):
        """One request on a fresh connection -> (status, headers dict lower-case, body bytes)."""
        conn = self.conn(host)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            resp = conn.getresponse()
            data = resp.read()
            return resp.status, {k.lower(): v for k, v in resp.getheaders()}, data
        finally:
            conn.close()

    def control(self, method, name, obj=None):
        body = None if obj is None else json.dumps(obj).encode()
        status, _, data = self.request(method, "/_control/" + name, body=body,
                                       headers={"Content-Type": "application/json"})
        return status, json.loads(data)

    def token(self, scope=SCOPE, user=None, host="127.0.0.1"):
        headers = {}
        if user:
            headers["Authorization"] = "Basic " + base64.b64encode(user.encode()).decode()
        path = "/token?service=registry.docker.io" + (f"&scope={scope}" if scope else "")
        status, _, data = self.request("GET", path, headers=headers, host=host)
        return status, json.loads(data)

    def manifest(self, method, token, path=MANIFEST, host="127.0.0.1"):
        return self.request(method, path, headers={"Authorization": "Bearer " + token},
                            host=host)


class FakeHubTest(unittest.TestCase):
    """Shared server (reset before each test) for everything that needs default flags."""

    @classmethod
    def setUpClass(cls):
        cls.hub = FakeHub("--user", "alice:secret", "--paid-user", "bob:paid")
        cls.addClassCleanup(cls.hub.stop)

    def setUp(self):
        self.assertEqual(self.hub.control("POST", "reset")[0], 200)

    def anon_token(self):
        status, body = self.hub.token()
        self.assertEqual(status, 200)
        return body["token"]

    def stats(self):
        return self.hub.control("GET", "stats")[1]

    # --- registry and token basics ---------------------------------------------------

    def test_base_endpoint(self):
        status, headers, _ = self.hub.request("GET", "/v2/", headers={"Host": "hub.test:1234"})
        self.assertEqual(status, 401)
        self.assertEqual(headers["www-authenticate"],
                         'Bearer realm="http://hub.test:1234/token",service="registry.docker.io"')
        status, _, body = self.hub.manifest("GET", self.anon_token(), path="/v2/")
        self.assertEqual((status, json.loads(body)), (200, {}))

    def test_manifest_without_token_is_challenged(self):
        for method in ("HEAD", "GET"):
            status, headers, body = self.hub.request(method, MANIFEST)
            self.assertEqual(status, 401)
            self.assertEqual(headers["www-authenticate"],
                             f'Bearer realm="http://127.0.0.1:{self.hub.port}/token",'
                             f'service="registry.docker.io",scope="{SCOPE}"')
        self.assertEqual(json.loads(body)["errors"][0]["code"], "UNAUTHORIZED")

    def test_token_reply_shape(self):
        status, body = self.hub.token()
        self.assertEqual(status, 200)
        self.assertEqual(body["token"], body["access_token"])
        self.assertEqual(body["expires_in"], 300)
        self.assertRegex(body["issued_at"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$")

    def test_head_shows_limits_and_does_not_count(self):
        token = self.anon_token()
        status, headers, body = self.hub.manifest("HEAD", token)
        self.assertEqual(status, 200)
        self.assertEqual(body, b"")
        self.assertEqual(headers["content-type"], "application/vnd.oci.image.manifest.v1+json")
        self.assertEqual(headers["ratelimit-limit"], "100;w=21600")
        self.assertEqual(headers["ratelimit-remaining"], "100;w=21600")
        self.assertEqual(headers["docker-ratelimit-source"], "127.0.0.1")
        self.hub.manifest("HEAD", token)
        self.assertEqual(self.stats()["buckets"]["127.0.0.1"]["remaining"], 100)
        self.assertEqual(self.stats()["requests"]["HEAD manifest"], 2)

    def test_get_decrements_and_digest_matches(self):
        token = self.anon_token()
        status, headers, body = self.hub.manifest("GET", token)
        self.assertEqual(status, 200)
        self.assertEqual(headers["docker-content-digest"],
                         "sha256:" + hashlib.sha256(body).hexdigest())
        self.assertEqual(int(headers["content-length"]), len(body))
        self.assertEqual(headers["ratelimit-remaining"], "99;w=21600")
        _, headers, _ = self.hub.manifest("HEAD", token)
        self.assertEqual(headers["ratelimit-remaining"], "99;w=21600")

    def test_keep_alive_head_then_get(self):
        token = self.anon_token()
        conn = self.hub.conn()
        auth = {"Authorization": "Bearer " + token}
        conn.request("HEAD", MANIFEST, headers=auth)
        head = conn.getresponse()
        head.read()
        conn.request("GET", MANIFEST, headers=auth)
        get = conn.getresponse()
        body = get.read()
        conn.close()
        self.assertEqual(int(head.getheader("Content-Length")), len(body))
        self.assertEqual(get.status, 200)
        self.assertEqual(self.stats()["recent"][-1]["client"], self.stats()["recent"][-2]["client"])

    def test_scope_and_invalid_tokens(self):
        status, body = self.hub.token(scope="repository:library/other:pull")
        status, headers, _ = self.hub.manifest("HEAD", body["token"])
        self.assertEqual(status, 401)
        self.assertIn('error="insufficient_scope"', headers["www-authenticate"])
        status, headers, _ = self.hub.manifest("HEAD", "not-a-token")
        self.assertEqual(status, 401)
        self.assertIn('error="invalid_token"', headers["www-authenticate"])

    def test_repeated_and_space_separated_scopes(self):
        status, body = self.hub.token(scope="repository:a/b:pull&scope=repository:c:push,pull"
                                      "%20repository:d/e/f:pull")
        for repo in ("a/b", "c", "d/e/f"):
            status, _, _ = self.hub.manifest("HEAD", body["token"],
                                             path=f"/v2/{repo}/manifests/latest")
            self.assertEqual(status, 200, repo)

    def test_blob_never_counts(self):
        token = self.anon_token()
        status, headers, body = self.hub.manifest("GET", token,
                                                  path=f"/v2/{REPO}/blobs/sha256:abc")
        self.assertEqual((status, body), (200, b"fakehub blob\n"))
        self.assertNotIn("127.0.0.1", self.stats()["buckets"])
        self.assertEqual(self.stats()["requests"]["GET blob"], 1)

    # --- users ---------------------------------------------------------------------

    def test_user_token_and_bucket(self):
        status, body = self.hub.token(user="alice:secret")
        self.assertEqual(status, 200)
        _, headers, _ = self.hub.manifest("GET", body["token"])
        source = self.stats()["users"]["alice"]["source"]
        self.assertRegex(source, r"^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-")
        self.assertEqual(headers["docker-ratelimit-source"], source)
        self.assertEqual(headers["ratelimit-limit"], "200;w=21600")
        self.assertEqual(headers["ratelimit-remaining"], "199;w=21600")
        self.assertEqual(self.stats()["tokens"]["alice"]["ok"], 1)

    def test_wrong_credentials(self):
        for user in ("alice:wrong", "mallory:secret"):
            status, body = self.hub.token(user=user)
            self.assertEqual((status, body), (401, {"details": "incorrect username or password"}))
        tokens = self.stats()["tokens"]
        self.assertEqual(tokens["alice"]["denied"], 1)
        self.assertEqual(tokens["mallory"]["denied"], 1)

    def test_paid_user_has_no_limit_headers(self):
        _, body = self.hub.token(user="bob:paid")
        for _ in range(3):
            status, headers, _ = self.hub.manifest("GET", body["token"])
            self.assertEqual(status, 200)
            self.assertNotIn("ratelimit-limit", headers)
            self.assertNotIn("ratelimit-remaining", headers)
            self.assertEqual(headers["docker-ratelimit-source"],
                             self.stats()["users"]["bob"]["source"])
        status, _ = self.hub.control("POST", "bucket", {"identity": "bob", "remaining": 0})
        self.assertEqual(status, 400)

    # --- buckets -------------------------------------------------------------------------

    def test_exhaustion_gives_429_on_get_only(self):
        status, body = self.hub.control("POST", "bucket",
                                        {"source": "127.0.0.1", "limit": 100, "remaining": 1})
        self.assertEqual((status, body["remaining"]), (200, 1))
        token = self.anon_token()
        status, headers, _ = self.hub.manifest("GET", token)
        self.assertEqual((status, headers["ratelimit-remaining"]), (200, "0;w=21600"))
        status, headers, body = self.hub.manifest("GET", token)
        self.assertEqual(status, 429)
        self.assertEqual(json.loads(body)["errors"][0]["code"], "TOOMANYREQUESTS")
        self.assertIn("increase-rate-limit", json.loads(body)["errors"][0]["message"])
        self.assertEqual(headers["ratelimit-remaining"], "0;w=21600")
        status, headers, _ = self.hub.manifest("HEAD", token)
        self.assertEqual((status, headers["ratelimit-remaining"]), (200, "0;w=21600"))

    def test_user_bucket_by_identity_and_window(self):
        status, body = self.hub.control("POST", "bucket", {"identity": "alice", "limit": 40,
                                                           "remaining": 0, "window": 1})
        self.assertEqual(status, 200)
        _, token = self.hub.token(user="alice:secret")
        status, headers, _ = self.hub.manifest("GET", token["token"])
        self.assertEqual((status, headers["ratelimit-limit"]), (429, "40;w=1"))
        time.sleep(1.2)
        status, headers, _ = self.hub.manifest("GET", token["token"])
        self.assertEqual((status, headers["ratelimit-remaining"]), (200, "39;w=1"))

    def test_concurrent_gets_count_exactly(self):
        token = self.anon_token()
        results = []

        def worker():
            conn = self.hub.conn()
            for _ in range(10):
                conn.request("GET", MANIFEST, headers={"Authorization": "Bearer " + token})
                resp = conn.getresponse()
                resp.read()
                results.append(resp.status)
            conn.close()

        threads = [threading.Thread(target=worker) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        self.assertEqual(results.count(200), 80)
        self.assertEqual(self.stats()["buckets"]["127.0.0.1"]["remaining"], 20)

    # --- faults -----------------------------------------------------------------------

    def set_faults(self, *faults):
        status, body = self.hub.control("POST", "faults", {"faults": list(faults)})
        self.assertEqual(status, 200, body)

    def test_status_fault_times_and_order(self):
        token = self.anon_token()
        self.set_faults({"target": "manifest", "method": "GET", "times": 1, "status": 503},
                        {"target": "manifest", "times": 2, "status": 429, "body": "empty"})
        self.assertEqual(self.hub.manifest("GET", token)[0], 503)
        status, _, body = self.hub.manifest("GET", token)
        self.assertEqual((status, body), (429, b""))
        self.assertEqual(self.hub.manifest("HEAD", token)[0], 429)
        self.assertEqual(self.hub.manifest("HEAD", token)[0], 200)
        faults = self.hub.control("GET", "faults")[1]["faults"]
        self.assertEqual([f["remaining"] for f in faults], [0, 0])
        self.assertEqual(self.stats()["recent"][-2]["fault"], 1)

    def test_header_faults(self):
        token = self.anon_token()
        self.set_faults({"target": "manifest", "times": 1, "no_limit_headers": True},
                        {"target": "manifest", "times": 1, "capitalised": True},
                        {"target": "manifest", "times": 1,
                         "headers": {"ratelimit-limit": "200=21600",
                                     "RateLimit-Remaining": "", "Retry-After": "7"}},
                        {"target": "manifest", "times": 1, "huge_header_bytes": 20000})
        _, headers, _ = self.hub.manifest("HEAD", token)
        self.assertNotIn("ratelimit-limit", headers)
        self.assertEqual(headers["docker-ratelimit-source"], "127.0.0.1")
        conn = self.hub.conn()
        conn.request("HEAD", MANIFEST, headers={"Authorization": "Bearer " + token})
        names = [name for name, _ in conn.getresponse().getheaders()]
        conn.close()
        self.assertIn("RateLimit-Limit", names)
        self.assertIn("Docker-RateLimit-Source", names)
        _, headers, _ = self.hub.manifest("HEAD", token)
        self.assertEqual(headers["ratelimit-limit"], "200=21600")
        self.assertNotIn("ratelimit-remaining", headers)
        self.assertEqual(headers["retry-after"], "7")
        _, headers, _ = self.hub.manifest("HEAD", token)
        self.assertEqual(len(headers["x-padding"]), 20000)

    def test_delay_fault(self):
        self.set_faults({"target": "base", "times": 1, "delay": 0.5})
        start = time.monotonic()
        self.assertEqual(self.hub.request("GET", "/v2/")[0], 401)
        self.assertGreaterEqual(time.monotonic() - start, 0.5)

    def test_reset_faults(self):
        token = self.anon_token()
        self.set_faults({"target": "manifest", "times": 1, "reset": True},
                        {"target": "manifest", "times": 1, "reset": "partial"})
        for _ in range(2):
            with self.assertRaises((ConnectionError, http.client.HTTPException)):
                self.hub.manifest("GET", token)
        self.assertEqual(self.hub.manifest("GET", token)[0], 200)
        self.assertEqual(self.stats()["buckets"]["127.0.0.1"]["remaining"], 99)

    def test_token_faults(self):
        self.set_faults({"target": "token", "times": 1, "token_body": "not json"},
                        {"target": "token", "times": 1, "status": 401},
                        {"target": "token", "times": 1, "status": 503})
        status, _, body = self.hub.request("GET", "/token?service=registry.docker.io")
        self.assertEqual((status, body), (200, b"not json"))
        status, body = self.hub.token()
        self.assertEqual((status, body), (401, {"details": "incorrect username or password"}))
        self.assertEqual(self.hub.token()[0], 503)
        self.assertEqual(self.hub.token()[0], 200)
        self.assertEqual(self.stats()["tokens"]["anonymous"], {"ok": 1, "denied": 0, "faulted": 3})

    def test_family_fault_filter(self):
        self.set_faults({"target": "any", "family": "ipv6", "status": 500})
        self.assertEqual(self.hub.request("GET", "/v2/")[0], 401)

    def test_bad_control_requests(self):
        self.assertEqual(self.hub.control("POST", "faults", {"faults": [{"stauts": 1}]})[0], 400)
        self.assertEqual(self.hub.control("POST", "bucket", {"limit": 1})[0], 400)
        status, _, _ = self.hub.request("POST", "/_control/bucket", body=b"{nope")
        self.assertEqual(status, 400)
        self.assertEqual(self.hub.control("GET", "nothing")[0], 404)

    # --- bookkeeping ---------------------------------------------------------------------

    def test_stats_never_contain_secrets_and_reset_clears(self):
        _, body = self.hub.token(user="alice:secret")
        self.hub.manifest("HEAD", body["token"])
        stats = self.stats()
        text = json.dumps(stats)
        self.assertNotIn(body["token"], text)
        self.assertNotIn("secret", text)
        self.assertEqual([r["auth"] for r in stats["recent"]], ["basic", "bearer"])
        self.assertEqual(stats["recent"][1]["identity"], "alice")
        self.set_faults({"status": 500})
        self.hub.control("POST", "reset")
        stats = self.stats()
        self.assertEqual((stats["buckets"], stats["tokens"], stats["recent"]), ({}, {}, []))
        self.assertEqual(self.hub.control("GET", "faults")[1], {"faults": []})
        self.assertEqual(self.hub.manifest("HEAD", body["token"])[0], 401)

    def test_client_hangs_up_mid_request(self):
        with socket.create_connection(("127.0.0.1", self.hub.port)) as sock:
            sock.sendall(b"GET /v2/ HTTP/1.1\r\nHost: x\r\n")
        with socket.create_connection(("127.0.0.1", self.hub.port)) as sock:
            sock.sendall(b"GET /v2/ HTTP/1.1\r\nHost: x\r\n\r\n")
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\0\0\0\0\0\0\0")
        self.assertEqual(self.hub.request("GET", "/v2/")[0], 401)


class FakeHubProcessTest(unittest.TestCase):
    """Tests that need their own server flags or check process behaviour."""

    def start(self, *args):
        hub = FakeHub(*args)
        self.addCleanup(hub.stop)
        return hub

    def test_port_file_and_fixed_port(self):
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "port.json")
            hub = self.start("--port-file", path)
            with open(path, encoding="utf-8") as handle:
                self.assertEqual(json.load(handle), {"port": hub.port})
            self.assertEqual(os.listdir(tmp), ["port.json"])
        second = subprocess.run([sys.executable, FAKEHUB, "--port", str(hub.port)],
                                capture_output=True, timeout=10)
        self.assertNotEqual(second.returncode, 0)

    def test_signals_exit_cleanly(self):
        for sig in (signal.SIGTERM, signal.SIGINT):
            hub = FakeHub()
            idle = hub.conn()
            idle.request("GET", "/v2/")
            idle.getresponse().read()  # leave a keep-alive connection open
            code, elapsed, _ = hub.stop(sig)
            idle.close()
            self.assertEqual(code, 0)
            self.assertLess(elapsed, 2)

    def test_token_expiry_and_limits_flags(self):
        hub = self.start("--token-ttl", "1", "--anonymous-limit", "10", "--window", "3600")
        _, body = hub.token()
        self.assertEqual(body["expires_in"], 1)
        _, headers, _ = hub.manifest("HEAD", body["token"])
        self.assertEqual(headers["ratelimit-limit"], "10;w=3600")
        time.sleep(1.2)
        status, headers, _ = hub.manifest("HEAD", body["token"])
        self.assertEqual(status, 401)
        self.assertIn('error="invalid_token"', headers["www-authenticate"])

    def test_require_auth_for_head(self):
        hub = self.start("--require-auth-for-head", "--user", "u:p")
        _, anon = hub.token()
        self.assertEqual(hub.manifest("HEAD", anon["token"])[0], 401)
        self.assertEqual(hub.manifest("GET", anon["token"])[0], 200)
        _, user = hub.token(user="u:p")
        self.assertEqual(hub.manifest("HEAD", user["token"])[0], 200)

    def test_verbose_never_logs_credentials(self):
        hub = FakeHub("--verbose", "--user", "carol:hunter2")
        try:
            _, body = hub.token(user="carol:hunter2")
            hub.manifest("HEAD", body["token"])
        finally:
            code, _, err = hub.stop()
        self.assertEqual(code, 0)
        self.assertIn("/token", err)
        basic = base64.b64encode(b"carol:hunter2").decode()
        for secret in (body["token"], "hunter2", basic):
            self.assertNotIn(secret, err)

    @unittest.skipUnless(ipv6_loopback_available(), "no IPv6 loopback")
    def test_ipv6_listener_same_port_and_sources(self):
        hub = self.start("--ipv6")
        _, body = hub.token(host="::1")
        _, v4, _ = hub.manifest("HEAD", body["token"], host="127.0.0.1")
        _, v6, _ = hub.manifest("HEAD", body["token"], host="::1")
        self.assertEqual(v4["docker-ratelimit-source"], "127.0.0.1")
        self.assertEqual(v6["docker-ratelimit-source"], "::")
        status, headers, _ = hub.request("GET", "/v2/", host="::1")
        self.assertIn(f'realm="http://[::1]:{hub.port}/token"', headers["www-authenticate"])
        status, _ = hub.control("POST", "faults",
                                {"faults": [{"target": "manifest", "family": "ipv6",
                                             "status": 503}]})
        self.assertEqual(hub.manifest("HEAD", body["token"], host="::1")[0], 503)
        self.assertEqual(hub.manifest("HEAD", body["token"], host="127.0.0.1")[0], 200)
        recent = hub.control("GET", "stats")[1]["recent"]
        self.assertEqual([r["family"] for r in recent[-2:]], ["ipv6", "ipv4"])


if __name__ == "__main__":
    unittest.main()
