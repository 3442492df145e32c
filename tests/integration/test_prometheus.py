"""Real Prometheus peers: promtool lints the exposition, a Prometheus server scrapes the agent."""

import json
import os
import shutil
import signal
import socket
import subprocess
import unittest
import urllib.parse

from harness import Agent, FakeHub, TempDir, config_for, http_get, wait_until

PROMETHEUS = shutil.which("prometheus")
PROMTOOL = shutil.which("promtool")


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class PrometheusTest(unittest.TestCase):
    def setUp(self):
        self.hub = FakeHub("--user", "acme-ci:ci-password", "--paid-user", "acme-paid:paid-pw")
        self.addCleanup(self.hub.stop)
        self.tmp = TempDir()
        self.addCleanup(self.tmp.remove)
        # Every kind of series: limited, unlimited, and a failing bucket.
        self.agent = Agent(self.tmp.file("config.json", config_for(self.hub.url, identities=[
            {"name": "anonymous"},
            {"name": "ci", "username": "acme-ci", "password_env": "CI_TOKEN"},
            {"name": "paid", "username": "acme-paid", "password_env": "PAID_TOKEN"},
            {"name": "broken", "username": "acme-ci", "password_env": "WRONG_TOKEN"}])),
            env={"CI_TOKEN": "ci-password", "PAID_TOKEN": "paid-pw", "WRONG_TOKEN": "nope"})
        self.addCleanup(self.agent.stop)
        self.agent.wait_for_probes(1)

    @unittest.skipUnless(PROMTOOL, "promtool (Debian package prometheus) is not installed")
    def test_exposition_passes_promtool_check_metrics(self):
        status, headers, body = http_get(self.agent.url + "/metrics")
        self.assertEqual(status, 200)
        self.assertTrue(headers["Content-Type"].startswith("text/plain; version=0.0.4"))
        self.assertIn('pullguard_probes_total{identity="broken",family="any",outcome="auth_failed"} 1',
                      body)
        result = subprocess.run([PROMTOOL, "check", "metrics"], input=body, capture_output=True,
                                text=True, timeout=30)
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
        self.assertEqual(result.stdout + result.stderr, "")

    @unittest.skipUnless(PROMETHEUS, "prometheus (Debian package) is not installed")
    def test_prometheus_scrapes_the_remaining_budget(self):
        self.hub.bucket(source="127.0.0.1", limit=100, remaining=42)
        self.agent.wait_for_probes(2, timeout=25)
        port = free_port()
        config = self.tmp.file("prometheus.yml", (
            "global: {scrape_interval: 1s, evaluation_interval: 1s}\n"
            "scrape_configs:\n"
            "  - job_name: pullguard\n"
            f"    static_configs: [{{targets: ['{self.agent.address}']}}]\n"))
        data = os.path.join(self.tmp.path, "prometheus-data")
        log = open(os.path.join(self.tmp.path, "prometheus.log"), "w")
        self.addCleanup(log.close)
        server = subprocess.Popen(
            [PROMETHEUS, f"--config.file={config}", f"--storage.tsdb.path={data}",
             f"--web.listen-address=127.0.0.1:{port}"], stdout=log, stderr=subprocess.STDOUT)

        def stop_server():
            server.send_signal(signal.SIGTERM)
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
        self.addCleanup(stop_server)

        query = urllib.parse.quote('pullguard_ratelimit_remaining{identity="anonymous"}')

        def remaining():
            try:
                status, _, body = http_get(f"http://127.0.0.1:{port}/api/v1/query?query={query}")
            except OSError:
                return None
            results = json.loads(body)["data"]["result"] if status == 200 else []
            return results[0] if results else None

        # The first scrape comes some seconds after start (target updates are batched).
        result = wait_until(remaining, timeout=40, interval=0.5, what="Prometheus to scrape")
        self.assertEqual(result["value"][1], "42")
        self.assertEqual(result["metric"]["source"], "127.0.0.1")
        self.assertEqual(result["metric"]["job"], "pullguard")
        targets = json.loads(http_get(f"http://127.0.0.1:{port}/api/v1/targets")[2])
        self.assertEqual(targets["data"]["activeTargets"][0]["health"], "up")
        self.assertEqual(targets["data"]["activeTargets"][0]["lastError"], "")


if __name__ == "__main__":
    unittest.main()
