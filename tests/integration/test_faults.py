"""Every fault the fake hub can script, seen through `pullguard check` and the daemon.

Each check test sets one fault, runs `pullguard check --output json` and pins the outcome,
the exit code and a one-line error; a failed bucket must not report a budget. The fake hub
also confirms that pullguard only ever sends HEAD requests for manifests (a GET would spend
a pull of the budget it watches).
"""

import json
import socket
import unittest

import harness

REPOSITORY = "ratelimitpreview/test"
EXIT_OK, EXIT_WARNING, EXIT_CRITICAL, EXIT_UNKNOWN = 0, 1, 2, 3
# A sensible error is one short line; a quoted megabyte header or a response body is not.
MAX_ERROR_CHARS = 200
BODY_SENTINEL = "Body-Sentinel-5521"


def closed_port():
    """A loopback port that nothing listens on (bound, read, released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class FaultTestCase(unittest.TestCase):
    """One fake hub for the class; each test starts from a reset hub."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = harness.TempDir()
        cls.addClassCleanup(cls.tmp.remove)
        cls.hub = harness.FakeHub("--user", "alice:right")
        cls.addClassCleanup(cls.hub.stop)

    def setUp(self):
        self.hub.control("reset", {})

    # --- helpers --------------------------------------------------------------------

    def write_config(self, identities=None, url=None, timeout=2):
        config = harness.config_for(url or self.hub.url, identities, timeout=timeout)
        return self.tmp.file(f"{self.id().rsplit('.', 1)[-1]}.json", config)

    def check(self, identities=None, url=None, timeout=2, env=None, expect_exit=None):
        """Runs `check --output json`; returns the parsed document (and checks the exit code)."""
        path = self.write_config(identities, url, timeout)
        done = harness.run_cli("check", "--config.file", path, "--output", "json", env=env)
        self.assertGreaterEqual(done.returncode, 0, "pullguard died of a signal: " + done.stderr)
        try:
            document = json.loads(done.stdout)
        except ValueError:
            self.fail(f"check printed no JSON (exit {done.returncode}): {done.stdout!r} "
                      f"stderr: {done.stderr!r}")
        self.assertEqual(len(done.stdout.strip().splitlines()), 1, done.stdout)
        if expect_exit is not None:
            self.assertEqual(done.returncode, expect_exit, done.stdout + done.stderr)
        self.stderr = done.stderr
        return document

    def only_result(self, document):
        self.assertEqual(len(document["results"]), 1, document)
        return document["results"][0]

    def assert_failed(self, result, outcome, error_pattern):
        """A failed bucket: the outcome, no budget, and one short error line."""
        self.assertEqual(result["outcome"], outcome, result)
        self.assertEqual(result["status"], "unknown", result)
        self.assertIsNone(result["limit"], result)
        self.assertIsNone(result["remaining"], result)
        self.assertIsNone(result["window_seconds"], result)
        self.assertFalse(result["unlimited"], result)
        self.assertIsNone(result["observed_at"], result)
        self.assert_one_line_error(result["error"], error_pattern)

    def assert_one_line_error(self, error, pattern):
        self.assertIsInstance(error, str)
        self.assertTrue(error.strip(), "empty error")
        self.assertNotIn("\n", error)
        self.assertNotIn("\r", error)
        self.assertLessEqual(len(error), MAX_ERROR_CHARS, error)
        self.assertRegex(error, pattern)

    def assert_fault_applied(self, index=0):
        """Guards against a test passing because its fault never matched."""
        faults = self.hub.control("faults")["faults"]
        self.assertGreaterEqual(faults[index]["applied"], 1, faults)

    def assert_no_manifest_get(self):
        requests = self.hub.stats()["requests"]
        self.assertNotIn("GET manifest", requests, requests)
        return requests

    def tearDown(self):
        # Every test ends by confirming the agent spent no pull (no test here GETs manifests).
        self.assert_no_manifest_get()


class CheckFaultTest(FaultTestCase):
    """`pullguard check --output json` against each fault."""

    def test_healthy_hub_reads_the_budget(self):
        self.hub.bucket(source="127.0.0.1", limit=100, remaining=42)
        result = self.only_result(self.check(expect_exit=EXIT_OK))
        self.assertEqual(result["outcome"], "ok")
        self.assertEqual((result["limit"], result["remaining"], result["window_seconds"]),
                         (100, 42, 21600))
        self.assertEqual(result["source"], "127.0.0.1")
        self.assertIsNone(result["error"])
        requests = self.assert_no_manifest_get()
        self.assertEqual(requests.get("HEAD manifest"), 2, requests)  # challenge, then probe

    def test_no_limit_headers_is_unlimited(self):
        self.hub.faults({"target": "manifest", "no_limit_headers": True})
        document = self.check(expect_exit=EXIT_OK)
        self.assertEqual(document["status"], "ok")
        result = self.only_result(document)
        self.assertEqual(result["outcome"], "unlimited")
        self.assertTrue(result["unlimited"])
        self.assertIsNone(result["limit"])
        self.assertIsNone(result["remaining"])
        self.assertIsNone(result["error"])
        self.assertEqual(result["source"], "127.0.0.1")
        self.assert_fault_applied()

    def test_malformed_remaining_is_bad_response(self):
        self.hub.faults({"target": "manifest", "headers": {"ratelimit-remaining": "abc"}})
        document = self.check(expect_exit=EXIT_UNKNOWN)
        self.assertEqual(document["status"], "unknown")
        result = self.only_result(document)
        self.assert_failed(result, "bad_response", r'^ratelimit-remaining: "abc" is not a count$')
        self.assert_fault_applied()

    def test_malformed_limit_is_bad_response(self):
        self.hub.faults({"target": "manifest", "headers": {"ratelimit-limit": "-5;w=21600"}})
        result = self.only_result(self.check(expect_exit=EXIT_UNKNOWN))
        self.assert_failed(result, "bad_response",
                           r'^ratelimit-limit: "-5;w=21600" is not a count$')

    def test_one_limit_header_missing_is_bad_response(self):
        self.hub.faults({"target": "manifest", "headers": {"ratelimit-limit": ""}})
        result = self.only_result(self.check(expect_exit=EXIT_UNKNOWN))
        self.assert_failed(result, "bad_response", r"^ratelimit-limit header missing$")

    def test_lenient_values_without_window(self):
        self.hub.faults({"target": "manifest", "headers": {
            "ratelimit-limit": "200=21600", "ratelimit-remaining": "150=21600"}})
        result = self.only_result(self.check(expect_exit=EXIT_OK))
        self.assertEqual(result["outcome"], "ok")
        self.assertEqual((result["limit"], result["remaining"]), (200, 150))
        self.assertIsNone(result["window_seconds"])
        self.assertIsNone(result["error"])
        self.assert_fault_applied()

    def test_capitalised_header_names(self):
        self.hub.bucket(source="127.0.0.1", limit=100, remaining=77)
        self.hub.faults({"target": "manifest", "capitalised": True})
        result = self.only_result(self.check(expect_exit=EXIT_OK))
        self.assertEqual(result["outcome"], "ok")
        self.assertEqual((result["limit"], result["remaining"], result["window_seconds"]),
                         (100, 77, 21600))
        self.assertEqual(result["source"], "127.0.0.1")
        self.assert_fault_applied()

    def test_503_is_http_error(self):
        self.hub.faults({"target": "manifest", "status": 503})
        result = self.only_result(self.check(expect_exit=EXIT_UNKNOWN))
        self.assert_failed(result, "http_error", r"^registry answered HTTP 503$")
        self.assertIn("outcome=http_error", self.stderr)  # the degraded path is logged
        self.assert_fault_applied()

    def test_429_with_json_body_is_rate_limited(self):
        self.hub.faults({"target": "manifest", "status": 429})
        result = self.only_result(self.check(expect_exit=EXIT_UNKNOWN))
        self.assert_failed(result, "rate_limited", r"^registry answered HTTP 429$")
        self.assertNotIn("TOOMANYREQUESTS", result["error"])  # the body is not quoted
        self.assert_fault_applied()

    def test_429_with_empty_body_is_rate_limited(self):
        self.hub.faults({"target": "manifest", "status": 429, "body": "empty"})
        result = self.only_result(self.check(expect_exit=EXIT_UNKNOWN))
        self.assert_failed(result, "rate_limited", r"^registry answered HTTP 429$")
        self.assert_fault_applied()

    def test_429_with_text_body_does_not_quote_it(self):
        self.hub.faults({"target": "manifest", "status": 429, "body": BODY_SENTINEL})
        result = self.only_result(self.check(expect_exit=EXIT_UNKNOWN))
        self.assert_failed(result, "rate_limited", r"^registry answered HTTP 429$")
        self.assertNotIn(BODY_SENTINEL, self.stderr)

    def test_429_with_remaining_zero_is_critical(self):
        self.hub.faults({"target": "manifest", "status": 429, "headers": {
            "ratelimit-limit": "100;w=21600", "ratelimit-remaining": "0;w=21600"}})
        document = self.check(expect_exit=EXIT_CRITICAL)
        self.assertEqual(document["status"], "critical")
        result = self.only_result(document)
        self.assertEqual(result["outcome"], "rate_limited")
        self.assertEqual(result["status"], "critical")
        # The one failure that keeps its reading: a 429 that says how empty the bucket is.
        self.assertEqual((result["limit"], result["remaining"], result["window_seconds"]),
                         (100, 0, 21600))
        self.assert_one_line_error(result["error"], r"^registry answered HTTP 429$")
        self.assert_fault_applied()

    def test_delay_beyond_timeout_is_timeout(self):
        self.hub.faults({"target": "manifest", "method": "HEAD", "delay": 3})
        result = self.only_result(self.check(timeout=1, expect_exit=EXIT_UNKNOWN))
        self.assert_failed(result, "timeout", r"(?i)timed out")
        # The timeout is honoured: one second, not the hub's three.
        self.assertGreaterEqual(result["duration_seconds"], 0.9, result)
        self.assertLess(result["duration_seconds"], 2.5, result)
        self.assert_fault_applied()

    def test_delay_within_timeout_is_ok(self):
        self.hub.faults({"target": "manifest", "method": "HEAD", "delay": 0.3})
        result = self.only_result(self.check(timeout=2, expect_exit=EXIT_OK))
        self.assertEqual(result["outcome"], "ok")
        self.assertEqual(result["remaining"], 100)
        self.assertGreaterEqual(result["duration_seconds"], 0.3, result)

    def test_reset_is_network_error(self):
        self.hub.faults({"target": "manifest", "reset": True})
        result = self.only_result(self.check(expect_exit=EXIT_UNKNOWN))
        self.assert_failed(result, "network_error", r"(?i)reset|recv failure|empty reply")
        self.assert_fault_applied()

    def test_partial_reset_is_network_error(self):
        self.hub.faults({"target": "manifest", "reset": "partial"})
        result = self.only_result(self.check(expect_exit=EXIT_UNKNOWN))
        self.assert_failed(result, "network_error", r"(?i)reset|recv failure")
        self.assert_fault_applied()

    def test_header_above_agent_cap_is_bad_response(self):
        # 80 KiB: above pullguard's 64 KiB header cap, below libcurl's 100 KiB line limit.
        self.hub.faults({"target": "manifest", "huge_header_bytes": 80 * 1024})
        result = self.only_result(self.check(expect_exit=EXIT_UNKNOWN))
        self.assert_failed(result, "bad_response", r"^response larger than the limit$")
        self.assert_fault_applied()

    def test_huge_header_is_reported_as_too_large(self):
        # Regression: a 1 MiB header gave network_error "Out of memory" (curl's own limit).
        self.hub.faults({"target": "manifest", "huge_header_bytes": 1024 * 1024})
        result = self.only_result(self.check(expect_exit=EXIT_UNKNOWN))
        self.assert_failed(result, "bad_response", r"^response larger than the limit$")
        self.assertNotIn("xxxxxxxx", result["error"])
        self.assert_fault_applied()

    def test_token_body_not_json_is_bad_response(self):
        body = "not json " + BODY_SENTINEL
        self.hub.faults({"target": "token", "token_body": body})
        result = self.only_result(self.check(expect_exit=EXIT_UNKNOWN))
        self.assert_failed(result, "bad_response", r"^token endpoint: ")
        self.assertNotIn(BODY_SENTINEL, result["error"])
        self.assertNotIn("not json", result["error"].lower())
        self.assertNotIn(BODY_SENTINEL, self.stderr)
        self.assertEqual(self.hub.stats()["tokens"]["anonymous"]["faulted"], 1)

    def test_token_expires_in_zero_is_still_usable(self):
        # A real token from the hub, handed out with expires_in 0: the agent must use it
        # (lifetime clamped to the spec's minimum), not treat it as already expired.
        status, _, text = harness.http_get(
            f"{self.hub.url}/token?service=registry.docker.io&scope=repository:{REPOSITORY}:pull")
        self.assertEqual(status, 200)
        token = json.loads(text)["token"]
        self.hub.faults({"target": "token", "token_body": json.dumps(
            {"token": token, "expires_in": 0})})
        result = self.only_result(self.check(expect_exit=EXIT_OK))
        self.assertEqual(result["outcome"], "ok", result)
        self.assertEqual(result["remaining"], 100)
        self.assert_fault_applied()

    def test_token_401_for_user_is_auth_failed(self):
        self.hub.faults({"target": "token", "status": 401})
        identities = [{"name": "alice", "username": "alice", "password_env": "PG_TEST_PW"}]
        result = self.only_result(self.check(identities, env={"PG_TEST_PW": "right"},
                                             expect_exit=EXIT_UNKNOWN))
        self.assert_failed(result, "auth_failed",
                           r"^token endpoint refused the credentials \(HTTP 401\)$")
        self.assertEqual(self.hub.stats()["tokens"]["alice"]["faulted"], 1)

    def test_wrong_password_is_auth_failed(self):
        identities = [{"name": "alice", "username": "alice", "password_env": "PG_TEST_PW"}]
        result = self.only_result(self.check(identities, env={"PG_TEST_PW": "wrong"},
                                             expect_exit=EXIT_UNKNOWN))
        self.assert_failed(result, "auth_failed",
                           r"^token endpoint refused the credentials \(HTTP 401\)$")
        self.assertNotIn("wrong", result["error"])
        tokens = self.hub.stats()["tokens"]["alice"]
        self.assertEqual((tokens["ok"], tokens["denied"]), (0, 1))

    def test_right_password_reads_the_account_bucket(self):
        identities = [{"name": "alice", "username": "alice", "password_env": "PG_TEST_PW"}]
        result = self.only_result(self.check(identities, env={"PG_TEST_PW": "right"},
                                             expect_exit=EXIT_OK))
        self.assertEqual(result["outcome"], "ok")
        self.assertEqual((result["limit"], result["remaining"]), (200, 200))
        self.assertEqual(result["source"], self.hub.stats()["users"]["alice"]["source"])

    def test_unreachable_registry_is_network_error(self):
        url = f"http://127.0.0.1:{closed_port()}"
        result = self.only_result(self.check(url=url, expect_exit=EXIT_UNKNOWN))
        self.assert_failed(result, "network_error", r"(?i)connect")
        self.assertLess(result["duration_seconds"], 1.5, result)  # refused, not timed out

    def test_family_without_route_does_not_disturb_the_other(self):
        # The hub listens on 127.0.0.1 only; "localhost" also names ::1, where nothing listens.
        identities = [{"name": "anonymous", "families": ["ipv4", "ipv6"]}]
        document = self.check(identities, url=self.hub.localhost_url, expect_exit=EXIT_UNKNOWN)
        self.assertEqual(document["status"], "unknown")
        by_family = {r["family"]: r for r in document["results"]}
        self.assertEqual(set(by_family), {"ipv4", "ipv6"})
        ipv4 = by_family["ipv4"]
        self.assertEqual(ipv4["outcome"], "ok", ipv4)
        self.assertEqual(ipv4["status"], "ok")
        self.assertEqual((ipv4["limit"], ipv4["remaining"]), (100, 100))
        self.assertIsNone(ipv4["error"])
        self.assert_failed(by_family["ipv6"], "network_error", r"(?i)connect")
        families = {entry["family"] for entry in self.hub.stats()["recent"]}
        self.assertEqual(families, {"ipv4"})

    def test_fault_on_one_family_only(self):
        # Same bucket layout, but the hub answers both families and fails IPv6 alone.
        hub = harness.FakeHub("--ipv6")
        self.addCleanup(hub.stop)
        hub.faults({"target": "manifest", "family": "ipv6", "status": 503})
        identities = [{"name": "anonymous", "families": ["ipv4", "ipv6"]}]
        document = self.check(identities, url=hub.localhost_url, expect_exit=EXIT_UNKNOWN)
        by_family = {r["family"]: r for r in document["results"]}
        self.assertEqual(by_family["ipv4"]["outcome"], "ok")
        self.assertEqual(by_family["ipv4"]["remaining"], 100)
        self.assert_failed(by_family["ipv6"], "http_error", r"^registry answered HTTP 503$")
        self.assertNotIn("GET manifest", hub.stats()["requests"])


class DaemonFaultTest(FaultTestCase):
    """The daemon rides out a failing hub: metrics keep the last good reading."""

    def metrics(self, agent):
        return harness.parse_metrics(agent.metrics())

    def value(self, samples, name, **labels):
        return harness.sample(samples, name, identity="anonymous", family="any", **labels)

    def test_keeps_serving_through_503_and_recovers(self):
        self.hub.bucket(source="127.0.0.1", limit=100, remaining=37)
        path = self.write_config()
        agent = harness.Agent(path)
        self.addCleanup(agent.stop)

        agent.wait_for_probes(1, timeout=10)
        samples = self.metrics(agent)
        self.assertEqual(self.value(samples, "pullguard_probe_success"), 1)
        self.assertEqual(self.value(samples, "pullguard_ratelimit_remaining"), 37)
        self.assertEqual(self.value(samples, "pullguard_probes_total", outcome="ok"), 1)

        # The hub starts failing; its real budget moves on, which the agent cannot see.
        self.hub.faults({"target": "manifest", "status": 503})
        self.hub.bucket(source="127.0.0.1", limit=100, remaining=20)
        agent.wait_for_probes(2, timeout=20)
        samples = self.metrics(agent)
        self.assertEqual(self.value(samples, "pullguard_probe_success"), 0)
        self.assertEqual(self.value(samples, "pullguard_probes_total", outcome="http_error"), 1)
        self.assertEqual(self.value(samples, "pullguard_probes_total", outcome="ok"), 1)
        self.assertEqual(self.value(samples, "pullguard_ratelimit_remaining"), 37)
        self.assertEqual(self.value(samples, "pullguard_ratelimit_limit"), 100)
        status = agent.status()
        self.assertEqual(len(status["results"]), 1)
        entry = status["results"][0]
        self.assertEqual(entry["outcome"], "http_error")
        self.assertEqual(entry["remaining"], 37)
        self.assert_one_line_error(entry["error"], r"^registry answered HTTP 503$")
        self.assertEqual(harness.http_get(agent.url + "/-/healthy")[0], 200)
        self.assertRegex(agent.log(), r'msg="probe failed" .*outcome=http_error')
        self.assert_fault_applied()

        # The fault clears: the next probe (one interval later) reads the new budget.
        self.hub.faults()
        agent.wait_for_probes(3, timeout=20)
        samples = self.metrics(agent)
        self.assertEqual(self.value(samples, "pullguard_probe_success"), 1)
        self.assertEqual(self.value(samples, "pullguard_ratelimit_remaining"), 20)
        self.assertEqual(self.value(samples, "pullguard_probes_total", outcome="ok"), 2)
        self.assertEqual(self.value(samples, "pullguard_probes_total", outcome="http_error"), 1)
        self.assertIn('msg="probe recovered"', agent.log())
        self.assertIsNone(agent.process.poll())


if __name__ == "__main__":
    unittest.main()
