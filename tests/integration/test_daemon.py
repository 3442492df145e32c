"""The daemon against the fake hub: metrics, status API, token reuse, no GET, shutdown."""

import email.utils
import json
import signal
import subprocess
import threading
import time
import unittest
import urllib.request

from harness import (Agent, FakeHub, TempDir, config_for, http_get, parse_metrics, sample,
                     wait_until)


class DaemonTest(unittest.TestCase):
    def setUp(self):
        self.hub = FakeHub("--ipv6", "--user", "acme-ci:ci-password",
                           "--user", "acme-ops:ops-password", "--paid-user", "acme-paid:paid-pw")
        self.addCleanup(self.hub.stop)
        self.tmp = TempDir()
        self.addCleanup(self.tmp.remove)

    def start_agent(self, config, env=None, args=()):
        agent = Agent(self.tmp.file("config.json", config), args=args, env=env)
        self.addCleanup(agent.stop)
        return agent

    def test_metrics_for_every_identity_and_family(self):
        password_file = self.tmp.file("ops-password", "ops-password\n")
        agent = self.start_agent(config_for(self.hub.localhost_url, identities=[
            {"name": "anonymous", "families": ["ipv4", "ipv6"]},
            {"name": "ci", "username": "acme-ci", "password_env": "CI_TOKEN"},
            {"name": "ops", "username": "acme-ops", "password_file": password_file},
            {"name": "paid", "username": "acme-paid", "password_env": "PAID_TOKEN"},
        ]), env={"CI_TOKEN": "ci-password", "PAID_TOKEN": "paid-pw"})
        agent.wait_for_probes(1)
        samples = parse_metrics(agent.metrics())

        self.assertEqual(sample(samples, "pullguard_ratelimit_remaining", identity="anonymous",
                                family="ipv4", source="127.0.0.1"), 100)
        self.assertEqual(sample(samples, "pullguard_ratelimit_remaining", identity="anonymous",
                                family="ipv6", source="::"), 100)
        self.assertEqual(sample(samples, "pullguard_ratelimit_limit", identity="ci",
                                family="any"), 200)
        self.assertEqual(sample(samples, "pullguard_ratelimit_window_seconds", identity="ops",
                                family="any"), 21600)
        # A paid account has no limit headers: unlimited, and no fabricated remaining count.
        self.assertEqual(sample(samples, "pullguard_ratelimit_unlimited", identity="paid",
                                family="any"), 1)
        self.assertIsNone(sample(samples, "pullguard_ratelimit_remaining", identity="paid"))
        for identity in ("anonymous", "ci", "ops", "paid"):
            self.assertEqual(sample(samples, "pullguard_probe_success", identity=identity,
                                    family="any" if identity != "anonymous" else "ipv4"), 1)
        self.assertEqual(sample(samples, "pullguard_probes_total", identity="ci", family="any",
                                outcome="ok"), 1)
        self.assertEqual(sample(samples, "pullguard_probes_total", identity="ci", family="any",
                                outcome="timeout"), 0)
        self.assertEqual(sample(samples, "pullguard_config_last_reload_successful"), 1)
        self.assertIsNotNone(sample(samples, "pullguard_build_info"))
        self.assertGreater(sample(samples, "pullguard_last_success_timestamp_seconds",
                                  identity="ops", family="any"), time.time() - 60)

        stats = self.hub.stats()
        self.assertNotIn("GET manifest", stats["requests"], "a probe must never GET a manifest")
        self.assertGreaterEqual(stats["requests"]["HEAD manifest"], 5)

    def test_status_api_matches_check_format(self):
        agent = self.start_agent(config_for(self.hub.url))
        agent.wait_for_probes(1)
        status, headers, body = http_get(agent.url + "/api/v1/status")
        self.assertEqual(status, 200)
        self.assertTrue(headers["Content-Type"].startswith("application/json"))
        document = json.loads(body)
        self.assertEqual(document["status"], "ok")
        result = document["results"][0]
        for key in ("identity", "family", "outcome", "source", "limit", "remaining",
                    "window_seconds", "duration_seconds", "error"):
            self.assertIn(key, result)
        self.assertEqual((result["identity"], result["family"], result["outcome"]),
                         ("anonymous", "any", "ok"))
        self.assertEqual((result["limit"], result["remaining"], result["window_seconds"]),
                         (100, 100, 21600))
        self.assertEqual(result["source"], "127.0.0.1")
        self.assertIsNone(result["error"])
        self.assertEqual(http_get(agent.url + "/-/healthy")[0], 200)
        self.assertEqual(http_get(agent.url + "/-/ready")[0], 200)
        self.assertEqual(http_get(agent.url + "/nope")[0], 404)

    def test_consumption_shows_up_and_tokens_are_reused(self):
        # Two families of one identity over two probe cycles: one token, shared and reused.
        agent = self.start_agent(config_for(self.hub.localhost_url, identities=[
            {"name": "ci", "username": "acme-ci", "password_env": "CI_TOKEN",
             "families": ["ipv4", "ipv6"]}]), env={"CI_TOKEN": "ci-password"})
        agent.wait_for_probes(1)
        self.hub.bucket(identity="acme-ci", limit=200, remaining=37)
        agent.wait_for_probes(2, timeout=25)
        samples = parse_metrics(agent.metrics())
        self.assertEqual(sample(samples, "pullguard_ratelimit_remaining", identity="ci",
                                family="ipv4"), 37)
        self.assertEqual(sample(samples, "pullguard_ratelimit_remaining", identity="ci",
                                family="ipv6"), 37)
        tokens = self.hub.stats()["tokens"]["acme-ci"]
        self.assertEqual(tokens["ok"], 1, "one token per identity per token lifetime")
        self.assertEqual(sample(samples, "pullguard_token_requests_total", identity="ci",
                                outcome="ok"), 1)

    def test_source_change_removes_old_series(self):
        agent = self.start_agent(config_for(self.hub.url))
        agent.wait_for_probes(1)
        # The NAT gateway's address changes: the registry reports another source.
        self.hub.faults({"target": "manifest", "headers": {"docker-ratelimit-source": "198.51.100.9"}})
        agent.wait_for_probes(2, timeout=25)
        text = agent.metrics()
        self.assertIn('source="198.51.100.9"', text)
        self.assertNotIn('source="127.0.0.1"', text)

    def test_concurrent_requests_each_get_a_whole_answer(self):
        # Regression: civetweb formats the Date header with gmtime()'s static buffer, which
        # concurrent workers raced on (ThreadSanitizer stopped the agent under Prometheus
        # scrapes plus a test's requests). Four clients, 50 requests each, all at once.
        agent = self.start_agent(config_for(self.hub.url))
        agent.wait_for_probes(1)
        problems = []

        def client():
            for _ in range(50):
                for path in ("/metrics", "/api/v1/status"):
                    with urllib.request.urlopen(agent.url + path, timeout=5) as response:
                        body = response.read()
                        date = response.headers.get("Date")
                        if response.status != 200 or not body or not date or \
                                email.utils.parsedate_to_datetime(date) is None:
                            problems.append((path, response.status, date))
        threads = [threading.Thread(target=client) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        self.assertEqual(problems, [])
        self.assertIsNone(agent.process.poll(), agent.log())

    def test_sigterm_stops_within_a_second_even_mid_probe(self):
        # The probe hangs in a slow response; shutdown must not wait for its timeout.
        self.hub.faults({"target": "manifest", "delay": 8})
        agent = Agent(self.tmp.file("config.json", config_for(self.hub.url, timeout=9)))
        time.sleep(0.5)
        code, elapsed = agent.stop()
        self.assertEqual(code, 0)
        self.assertLess(elapsed, 1.0)

    def test_sigint_stops_cleanly(self):
        agent = Agent(self.tmp.file("config.json", config_for(self.hub.url)))
        agent.wait_for_probes(1)
        agent.signal(signal.SIGINT)
        agent.process.wait(timeout=2)
        log = agent.log()
        code, _ = agent.stop()
        self.assertEqual(code, 0)
        self.assertIn("msg=stopped", log)

    def test_listen_address_in_use_is_a_clear_error(self):
        agent = self.start_agent(config_for(self.hub.url))
        result = subprocess.run(
            [agent.process.args[0], "--config.file", self.tmp.file("c2.json", config_for(
                self.hub.url, web={"listen_address": agent.address}))],
            capture_output=True, text=True, timeout=10)
        self.assertNotEqual(result.returncode, 0)
        self.assertIn("web.listen_address", result.stderr)


if __name__ == "__main__":
    unittest.main()
