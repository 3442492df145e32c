"""Alert delivery by the real agent: a signed webhook to a receiver in this process and an
exec hook, driven by draining and refilling the fake hub's anonymous bucket.

The receiver checks every signature with Python's hmac module; the hook records its whole
environment so the test can see that the agent's own (with its secrets) did not leak into it.
Everything listens on 127.0.0.1; every process is stopped by its PID, the temp dir removed.
"""

import hashlib
import hmac
import http.server
import json
import os
import signal
import socket
import threading
import time
import unittest

from harness import (Agent, FakeHub, TempDir, config_for, parse_metrics, run_cli, sample,
                     wait_until)

HOOK_KEY = "Hook-Key-Do-Not-Leak-9931"
AGENT_SECRET = "Agent-Env-Do-Not-Leak-5150"
SLACK_URL_SECRET = "T000/B000/Slack-Path-Do-Not-Leak"


class Receiver:
    """A webhook endpoint on 127.0.0.1 that records every POST and whether it was signed."""

    def __init__(self, key):
        self.events = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - name fixed by the base class
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                expected = "sha256=" + hmac.new(key.encode(), body, hashlib.sha256).hexdigest()
                signature = self.headers.get("X-Pullguard-Signature-256", "")
                with receiver.lock:
                    receiver.events.append({
                        "body": body,
                        "signed": hmac.compare_digest(expected, signature),
                        "content_type": self.headers.get("Content-Type"),
                        "user_agent": self.headers.get("User-Agent", ""),
                        "path": self.path,
                    })
                self.send_response(204)
                self.end_headers()

            def log_message(self, format, *args):  # noqa: A002 - fixed by the base class
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/pullguard"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def documents(self):
        with self.lock:
            return [json.loads(event["body"]) for event in self.events]

    def snapshot(self):
        with self.lock:
            return list(self.events)

    def stop(self):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()


HOOK_SCRIPT = """#!/bin/sh
# One file per event: the whole environment, NUL-separated so values may hold anything.
env -0 > "$1/$(date +%s%N)-$$.env"
"""


def hook_events(directory):
    """The environments the exec hook recorded, oldest first, as dicts."""
    events = []
    for name in sorted(os.listdir(directory)):
        if name.endswith(".env"):
            with open(os.path.join(directory, name), "rb") as handle:
                pairs = [item.split(b"=", 1) for item in handle.read().split(b"\0") if item]
            events.append({k.decode(): v.decode() for k, v in pairs})
    return events


def alert_levels(agent):
    return {labels["identity"]: value
            for (name, labels), value in parse_metrics(agent.metrics()).items()
            if name == "pullguard_alert_level"}


class AlertSinksConfigTest(unittest.TestCase):
    """What --config.check says about sinks, which needs no level logic."""

    def setUp(self):
        self.tmp = TempDir()
        self.addCleanup(self.tmp.remove)

    def test_full_sinks_example_is_valid(self):
        hook = self.tmp.file("hook.sh", HOOK_SCRIPT, mode=0o700)
        config = config_for("https://registry-1.docker.io", alerts={
            "repeat_interval_seconds": 3600, "queue_size": 16, "sinks": [
                {"type": "log"},
                {"type": "webhook", "name": "ops", "url": "https://example.invalid/hook",
                 "hmac_secret_env": "PULLGUARD_TEST_HOOK_KEY", "timeout_seconds": 5},
                {"type": "slack", "url_env": "PULLGUARD_TEST_SLACK_URL"},
                {"type": "exec", "command": [hook, "/tmp"], "timeout_seconds": 10}]})
        result = run_cli("--config.file", self.tmp.file("c.json", config), "--config.check",
                         env={"PULLGUARD_TEST_HOOK_KEY": HOOK_KEY,
                              "PULLGUARD_TEST_SLACK_URL": "https://hooks.invalid/" +
                              SLACK_URL_SECRET})
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(result.stderr, "")

    def test_bad_slack_url_from_the_environment_is_not_echoed(self):
        config = config_for("https://registry-1.docker.io", alerts={"sinks": [
            {"type": "slack", "url_env": "PULLGUARD_TEST_SLACK_URL"}]})
        result = run_cli("--config.file", self.tmp.file("c.json", config), "--config.check",
                         env={"PULLGUARD_TEST_SLACK_URL": "hooks.invalid/" + SLACK_URL_SECRET})
        self.assertEqual(result.returncode, 78)
        self.assertEqual(result.stderr,
                         "config: alerts.sinks[0].url_env: the URL in PULLGUARD_TEST_SLACK_URL "
                         "must start with https:// or http://\n")

    def test_world_readable_url_file_warns_without_the_url(self):
        url_file = self.tmp.file("slack-url", "https://hooks.invalid/" + SLACK_URL_SECRET + "\n",
                                 mode=0o644)
        config = config_for("https://registry-1.docker.io", alerts={"sinks": [
            {"type": "slack", "url_file": url_file}]})
        result = run_cli("--config.file", self.tmp.file("c.json", config), "--config.check")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn("alerts.sinks[0].url_file", result.stderr)
        self.assertIn("readable by every user", result.stderr)
        self.assertNotIn(SLACK_URL_SECRET, result.stderr)


class AlertDeliveryTest(unittest.TestCase):
    """Warning on a drained bucket, resolved on a refilled one, seen by both sinks."""

    def setUp(self):
        self.tmp = TempDir()
        self.addCleanup(self.tmp.remove)
        self.hub = FakeHub()
        self.addCleanup(self.hub.stop)
        self.receiver = Receiver(HOOK_KEY)
        self.addCleanup(self.receiver.stop)
        self.hook_dir = os.path.join(self.tmp.path, "hook-events")
        os.makedirs(self.hook_dir)
        hook = self.tmp.file("hook.sh", HOOK_SCRIPT, mode=0o700)
        config = config_for(
            self.hub.url, interval=10,
            # Ratios only: the forecast would otherwise warn about the drain itself.
            thresholds={"warning_ratio": 0.5, "critical_ratio": 0.1,
                        "forecast_horizon_seconds": 0},
            alerts={"sinks": [
                {"type": "log"},
                {"type": "webhook", "name": "receiver", "url": self.receiver.url,
                 "hmac_secret_env": "PULLGUARD_TEST_HOOK_KEY", "timeout_seconds": 5},
                {"type": "exec", "name": "hook", "command": [hook, self.hook_dir],
                 "timeout_seconds": 10}]})
        self.agent = Agent(self.tmp.file("config.json", config),
                           env={"PULLGUARD_TEST_HOOK_KEY": HOOK_KEY,
                                "PULLGUARD_TEST_SECRET": AGENT_SECRET})
        self.addCleanup(self.agent.stop)

    def wait_for_kinds(self, kinds, timeout=40):
        return wait_until(
            lambda: self.receiver.documents()
            if [d["kind"] for d in self.receiver.documents()] == kinds else None,
            timeout=timeout, interval=0.2, what=f"webhook events {kinds}")

    def test_warning_then_resolved_reach_the_webhook_and_the_hook(self):
        self.agent.wait_for_probes(1)
        if not alert_levels(self.agent):
            self.skipTest("the agent does not export pullguard_alert_level yet")
        self.assertEqual(alert_levels(self.agent), {"anonymous": 0.0})
        self.assertEqual(self.receiver.documents(), [])

        self.hub.spend(60)  # 40 of 100 left: below warning (50%), above critical (10%)
        self.wait_for_kinds(["firing"])
        self.hub.control("reset", {})  # a fresh bucket: 100 of 100
        documents = self.wait_for_kinds(["firing", "resolved"])
        time.sleep(1)  # nothing else may follow (no repeat is configured)

        events = self.receiver.snapshot()
        self.assertEqual(len(events), 2, events)
        for event in events:
            self.assertTrue(event["signed"], event)
            self.assertEqual(event["content_type"], "application/json")
            self.assertTrue(event["user_agent"].startswith("pullguard/"), event)
            self.assertEqual(event["path"], "/pullguard")
        firing, resolved = documents
        self.assertEqual((firing["level"], firing["previous_level"]), ("warning", "ok"))
        self.assertEqual((resolved["level"], resolved["previous_level"]), ("ok", "warning"))
        for document in documents:
            self.assertEqual(document["version"], "1")
            self.assertEqual(document["identity"], "anonymous")
            self.assertEqual(document["family"], "any")
            self.assertEqual(document["limit"], 100)
            self.assertRegex(document["timestamp"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
            self.assertEqual(document["agent"]["version"],
                             events[0]["user_agent"].split("/", 1)[1])
        self.assertLess(firing["remaining"], 50)
        self.assertGreater(resolved["remaining"], 50)

        hooks = wait_until(lambda: hook_events(self.hook_dir)
                           if len(hook_events(self.hook_dir)) == 2 else None,
                           timeout=10, what="two hook runs")
        self.assertEqual([h["PULLGUARD_EVENT_KIND"] for h in hooks], ["firing", "resolved"])
        self.assertEqual([h["PULLGUARD_LEVEL"] for h in hooks], ["warning", "ok"])
        for env, document in zip(hooks, documents):
            self.assertEqual(env["PATH"], "/usr/local/bin:/usr/bin:/bin")
            self.assertEqual(env["LANG"], "C.UTF-8")
            self.assertEqual(env["PULLGUARD_IDENTITY"], "anonymous")
            self.assertEqual(env["PULLGUARD_REMAINING"], str(document["remaining"]))
            self.assertEqual(json.loads(env["PULLGUARD_EVENT_JSON"])["kind"], document["kind"])
            self.assertNotIn("PULLGUARD_TEST_SECRET", env)
            self.assertNotIn("PULLGUARD_TEST_HOOK_KEY", env)
            for value in env.values():
                self.assertNotIn(AGENT_SECRET, value)
                self.assertNotIn(HOOK_KEY, value)

        log = self.agent.log()
        self.assertIn("msg=alert kind=firing identity=anonymous", log)
        self.assertIn("msg=alert kind=resolved identity=anonymous", log)
        self.assertNotIn(HOOK_KEY, log)
        metrics = self.agent.metrics()
        self.assertNotIn(HOOK_KEY, metrics)
        self.assertNotIn(self.receiver.url, metrics)


if __name__ == "__main__":
    unittest.main()


class SinkReloadTest(unittest.TestCase):
    """SIGHUP replaces the sinks while a webhook hangs: probing goes on, the new sinks count,
    and SIGTERM still stops at once."""

    def setUp(self):
        self.tmp = TempDir()
        self.addCleanup(self.tmp.remove)
        self.hub = FakeHub()
        self.addCleanup(self.hub.stop)
        # Accepts connections (the kernel's backlog does) and never answers.
        self.blackhole = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.blackhole.bind(("127.0.0.1", 0))
        self.blackhole.listen(8)
        self.addCleanup(self.blackhole.close)
        self.config_path = os.path.join(self.tmp.path, "config.json")

    def write_config(self, sinks):
        config = config_for(self.hub.url, interval=10,
                            thresholds={"warning_ratio": 0.5, "forecast_horizon_seconds": 0},
                            alerts={"sinks": sinks})
        with open(self.config_path + ".new", "w") as handle:
            json.dump(config, handle)
        os.replace(self.config_path + ".new", self.config_path)

    def test_reload_retires_a_hanging_webhook_without_stopping_probes(self):
        port = self.blackhole.getsockname()[1]
        self.write_config([{"type": "webhook", "name": "blackhole", "timeout_seconds": 60,
                            "url": f"http://127.0.0.1:{port}/hook"}])
        # 40 of 100 left before the first probe: warning at once, and the webhook hangs.
        self.hub.spend(60)
        agent = Agent(self.config_path)
        self.addCleanup(agent.stop)
        agent.wait_for_probes(1, timeout=30)
        wait_until(lambda: sample(parse_metrics(agent.metrics()), "pullguard_alerts_total",
                                  level="warning") == 1, timeout=30, what="the warning")
        time.sleep(0.5)  # the webhook is now hanging on the blackhole

        self.write_config([{"type": "log", "name": "after"}])
        agent.signal(signal.SIGHUP)
        wait_until(lambda: "configuration reloaded" in agent.log(), timeout=10,
                   what="the reload")
        samples = parse_metrics(agent.metrics())
        sinks = {labels["sink"] for (name, labels), _ in samples.items()
                 if name == "pullguard_notifications_total"}
        self.assertEqual(sinks, {"after"})
        agent.wait_for_probes(3, timeout=35)  # probing carries on while the old sink hangs

        code, seconds = agent.stop()
        self.assertEqual(code, 0)
        self.assertLess(seconds, 2.0, agent.log())
