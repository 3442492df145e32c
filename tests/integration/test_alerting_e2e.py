"""The shipped rules and dashboard against real peers: fake hub -> pullguard -> Prometheus
(loading exporters/prometheus/alerts.yml) -> Alertmanager -> a webhook receiver in this process.

The fake hub's bucket is drained across a few probes, so the agent sees pulls being spent
(consumption rate, forecast); the budget-low alert must reach the webhook through Alertmanager,
and every query of exporters/prometheus/dashboard.json must return data from that Prometheus.
Everything listens on 127.0.0.1; every process is stopped by its PID, the temp dir removed.
"""

import http.server
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import threading
import time
import unittest
import urllib.parse

from harness import (Agent, FakeHub, TempDir, config_for, http_get, parse_metrics, run_cli,
                     sample, wait_until)

PROMETHEUS = shutil.which("prometheus")
ALERTMANAGER = shutil.which("prometheus-alertmanager")
EXPORTER_DIR = os.environ.get(
    "PULLGUARD_PROMETHEUS_DIR",
    os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "exporters",
                 "prometheus"))
RULES = os.path.join(EXPORTER_DIR, "alerts.yml")
DASHBOARD = os.path.join(EXPORTER_DIR, "dashboard.json")

# Alerts that a healthy agent with 10 of 100 pulls left, spent at about one pull a second,
# must not raise (the forecast and the agent's own level may legitimately fire).
MUST_STAY_SILENT = ("PullguardBudgetCritical", "PullguardBudgetExhausted",
                    "PullguardProbeFailing", "PullguardDataStale", "PullguardAgentDown",
                    "PullguardAgentAbsent", "PullguardConfigReloadFailed")


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def stop_process(process, timeout=10):
    """SIGTERM by PID, then SIGKILL if it does not go; always reaped."""
    try:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def dashboard_exprs(dashboard):
    """Every PromQL expression of every panel (rows' nested panels included)."""
    exprs = []

    def walk(panels):
        for panel in panels:
            walk(panel.get("panels", []))
            for target in panel.get("targets", []):
                if target.get("expr"):
                    exprs.append((panel["title"], target["refId"], target["expr"]))
    walk(dashboard["panels"])
    return exprs


def substitute(expr):
    """Grafana's variables as a query over everything would expand them."""
    expr = expr.replace("$__rate_interval", "1m").replace("$__interval", "15s")
    expr = expr.replace("$__range", "5m")
    return re.sub(r"\$\{?(identity|family|source)\}?", ".*", expr)


class WebhookReceiver:
    """Collects Alertmanager's webhook POSTs (v4 JSON) on a loopback port, in a thread."""

    def __init__(self):
        self.payloads = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with receiver.lock:
                    receiver.payloads.append(json.loads(body))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/alert"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def alerts(self):
        with self.lock:
            return [(payload, alert) for payload in self.payloads for alert in payload["alerts"]]

    def received(self):
        with self.lock:
            return list(self.payloads)

    def stop(self):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


class DashboardFileTest(unittest.TestCase):
    """The dashboard's shape, without peers: what Grafana needs to import it anywhere."""

    def test_dashboard_is_importable_and_uses_the_template_variables(self):
        with open(DASHBOARD) as handle:
            dashboard = json.load(handle)
        self.assertGreaterEqual(dashboard["schemaVersion"], 37)
        variables = {v["name"]: v for v in dashboard["templating"]["list"]}
        self.assertEqual(variables["datasource"]["type"], "datasource")
        self.assertEqual(variables["datasource"]["query"], "prometheus")
        for name in ("identity", "family", "source"):
            self.assertEqual(variables[name]["allValue"], ".*", name)
        ids = [p["id"] for p in dashboard["panels"]]
        self.assertEqual(len(ids), len(set(ids)), "panel ids must be unique")
        for panel in dashboard["panels"]:
            if panel["type"] == "row":
                continue
            self.assertEqual(panel["datasource"]["uid"], "${datasource}", panel["title"])
            self.assertTrue(panel.get("description"), panel["title"])
        exprs = dashboard_exprs(dashboard)
        text = "\n".join(expr for _, _, expr in exprs)
        for metric in ("pullguard_ratelimit_remaining", "pullguard_ratelimit_limit",
                       "pullguard_ratelimit_consumption_rate",
                       "pullguard_ratelimit_exhaustion_seconds",
                       "pullguard_ratelimit_next_refill_seconds", "pullguard_alert_level",
                       "pullguard_probe_success", "pullguard_probes_total",
                       "pullguard_probe_duration_seconds", "pullguard_token_requests_total"):
            self.assertIn(metric, text)
        self.assertIn('lookback="15m"', text)
        self.assertIn('lookback="1h"', text)


@unittest.skipUnless(PROMETHEUS, "prometheus (Debian package prometheus) is not installed")
@unittest.skipUnless(ALERTMANAGER, "prometheus-alertmanager (Debian package) is not installed; "
                     "CI installs it from .ci/packages")
class AlertingEndToEndTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        # Class cleanups run even when setUpClass fails half way, so nothing is left running.
        started = time.monotonic()
        cls.tmp = TempDir()
        cls.addClassCleanup(cls.tmp.remove)
        cls.hub = FakeHub()
        cls.addClassCleanup(cls.hub.stop)
        # The agent's first reading: 40 of 100 left.
        cls.hub.bucket(source="127.0.0.1", limit=100, remaining=40)
        cls.webhook = WebhookReceiver()
        cls.addClassCleanup(cls.webhook.stop)

        cls.am_port = free_port()
        cls.am_url = f"http://127.0.0.1:{cls.am_port}"
        cls.start("alertmanager", [
            ALERTMANAGER, "--config.file=" + cls.tmp.file("alertmanager.yml", (
                "route:\n"
                "  receiver: webhook\n"
                "  group_by: [alertname, instance, identity, family, source]\n"
                "  group_wait: 1s\n"
                "  group_interval: 1s\n"
                "  repeat_interval: 1h\n"
                "receivers:\n"
                "  - name: webhook\n"
                f"    webhook_configs: [{{url: '{cls.webhook.url}', send_resolved: true}}]\n"),
                0o644),
            "--storage.path=" + os.path.join(cls.tmp.path, "alertmanager-data"),
            f"--web.listen-address=127.0.0.1:{cls.am_port}", "--cluster.listen-address="])
        wait_until(lambda: cls.ready(cls.am_url), timeout=20, interval=0.2,
                   what="Alertmanager to be ready")

        # The agent's own webhook, beside Alertmanager's: both must tell the same drain.
        cls.agent_hook = WebhookReceiver()
        cls.addClassCleanup(cls.agent_hook.stop)
        cls.config_path = cls.tmp.file("config.json", config_for(
            cls.hub.url, alerts={"sinks": [{"type": "log"}, {"type": "webhook", "name": "e2e",
                                                              "url": cls.agent_hook.url}]}))
        cls.agent = Agent(cls.config_path)
        cls.addClassCleanup(cls.agent.stop)

        # The shipped rules, with only the `for:` durations shortened (minutes would not fit a
        # test); the expressions, labels and annotations are exactly what is installed.
        with open(RULES) as handle:
            rules, count = re.subn(r"(?m)^(\s+)for: \S+$", r"\1for: 2s", handle.read())
        assert count >= 9, f"expected a for: per alert in {RULES}, found {count}"
        cls.prom_port = free_port()
        cls.prom_url = f"http://127.0.0.1:{cls.prom_port}"
        config = cls.tmp.file("prometheus.yml", (
            "global: {scrape_interval: 1s, evaluation_interval: 1s}\n"
            f"rule_files: ['{cls.tmp.file('alerts.yml', rules, 0o644)}']\n"
            "alerting:\n"
            f"  alertmanagers: [{{static_configs: [{{targets: ['127.0.0.1:{cls.am_port}']}}]}}]\n"
            "scrape_configs:\n"
            "  - job_name: pullguard\n"
            f"    static_configs: [{{targets: ['{cls.agent.address}']}}]\n"), 0o644)
        cls.start("prometheus", [
            PROMETHEUS, f"--config.file={config}",
            "--storage.tsdb.path=" + os.path.join(cls.tmp.path, "prometheus-data"),
            f"--web.listen-address=127.0.0.1:{cls.prom_port}",
            "--rules.alert.resend-delay=2s"])
        wait_until(lambda: cls.ready(cls.prom_url), timeout=20, interval=0.2,
                   what="Prometheus to be ready")

        # Drain 40 -> 30 -> 20 -> 10 between probes (10 s apart, the minimum interval), as
        # `docker pull`s would, so the agent measures a consumption rate and forecasts.
        for probes in (1, 2, 3):
            cls.agent.wait_for_probes(probes, timeout=25)
            cls.hub.spend(10)
        cls.agent.wait_for_probes(4, timeout=25)
        cls.setup_seconds = time.monotonic() - started

    @classmethod
    def start(cls, name, command):
        log = open(os.path.join(cls.tmp.path, name + ".log"), "w")
        cls.addClassCleanup(log.close)
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        cls.addClassCleanup(stop_process, process)
        setattr(cls, name, process)
        return process

    @staticmethod
    def ready(url):
        try:
            return http_get(url + "/-/ready", timeout=2)[0] == 200
        except OSError:
            return False

    def log_of(self, name):
        with open(os.path.join(self.tmp.path, name + ".log")) as handle:
            return handle.read()[-3000:]

    def query(self, expr):
        status, _, body = http_get(
            f"{self.prom_url}/api/v1/query?query={urllib.parse.quote(expr)}")
        document = json.loads(body)
        if status != 200 or document["status"] != "success":
            raise AssertionError(f"query {expr!r} failed: {status} {body}")
        return document["data"]["result"]

    def test_budget_low_reaches_the_webhook_through_alertmanager(self):
        def budget_low():
            return [(payload, alert) for payload, alert in self.webhook.alerts()
                    if alert["labels"].get("alertname") == "PullguardBudgetLow"
                    and alert["status"] == "firing"]
        try:
            payload, alert = wait_until(budget_low, timeout=40, interval=0.5,
                                        what="PullguardBudgetLow at the webhook")[0]
        except AssertionError as error:
            prometheus_alerts = http_get(self.prom_url + "/api/v1/alerts")[2]
            raise AssertionError(f"{error}\nreceived: {self.webhook.alerts()}\n"
                                 f"prometheus alerts: {prometheus_alerts}\n"
                                 f"alertmanager log:\n{self.log_of('alertmanager')}") from None
        self.assertEqual(payload["version"], "4")
        self.assertEqual(payload["receiver"], "webhook")
        labels = alert["labels"]
        self.assertEqual(labels["severity"], "warning")
        self.assertEqual(labels["identity"], "anonymous")
        self.assertEqual(labels["family"], "any")
        self.assertEqual(labels["source"], "127.0.0.1")
        self.assertEqual(labels["job"], "pullguard")
        self.assertEqual(labels["instance"], self.agent.address)
        self.assertRegex(alert["annotations"]["summary"],
                         r"^Docker Hub pull budget of anonymous \(any\) is low: (20|10)% left$")
        self.assertIn("source 127.0.0.1", alert["annotations"]["description"])

        # The rules that must not fire on this healthy agent stay silent (pending included).
        active = json.loads(http_get(self.prom_url + "/api/v1/alerts")[2])["data"]["alerts"]
        wrong = [a["labels"] for a in active if a["labels"]["alertname"] in MUST_STAY_SILENT]
        self.assertEqual(wrong, [])

    def test_the_agent_tells_the_same_story_in_its_webhook_metrics_status_and_check(self):
        # 40 -> 30 -> 20 -> 10 at ten pulls a probe: the forecast warns at once (empty in well
        # under the 1 h horizon), and 10 of 100 stays above the 5 % critical line.
        events = wait_until(lambda: self.agent_hook.received(), timeout=20,
                            what="the agent's own webhook")
        time.sleep(1)  # nothing else may follow
        events = self.agent_hook.received()
        self.assertEqual([(e["kind"], e["level"]) for e in events], [("firing", "warning")],
                         events)
        event = events[0]
        self.assertEqual((event["identity"], event["family"], event["source"]),
                         ("anonymous", "any", "127.0.0.1"))
        self.assertIn("empty in ~", event["reason"])
        self.assertGreater(event["consumption_rate_per_second"], 0)

        wait_until(lambda: sample(parse_metrics(self.agent.metrics()),
                                  "pullguard_notifications_total", sink="e2e",
                                  outcome="success") == 1,
                   timeout=5, what="the delivery to be counted")
        samples = parse_metrics(self.agent.metrics())
        labels = {"identity": "anonymous", "family": "any", "source": "127.0.0.1"}
        self.assertEqual(sample(samples, "pullguard_alert_level", **labels), 1)
        self.assertEqual(sample(samples, "pullguard_alerts_total", level="warning"), 1)
        self.assertGreater(sample(samples, "pullguard_ratelimit_consumption_rate",
                                  lookback="15m", **labels), 0)
        self.assertEqual(self.query('pullguard_alert_level{identity="anonymous"}')[0]["value"][1],
                         "1")

        entry = self.agent.status()["results"][0]
        self.assertEqual(entry["alert_level"], "warning")
        self.assertEqual(entry["status"], "warning")
        self.assertIn("empty in ~", entry["forecast"]["summary"])

        # check probes once and forecasts from the daemon's history.
        wait_until(lambda: os.path.exists(os.path.join(self.agent.storage_path, "history.json")),
                   timeout=25, what="the agent's history.json")
        done = run_cli("check", "--config.file", self.config_path,
                       "--storage.path", self.agent.storage_path)
        self.assertEqual(done.returncode, 1, done.stdout + done.stderr)
        self.assertRegex(done.stdout, r"empty in ~\d+ (s|min) at \d+(\.\d)? pulls/min")

    def test_every_dashboard_query_returns_data(self):
        with open(DASHBOARD) as handle:
            exprs = dashboard_exprs(json.load(handle))
        self.assertGreaterEqual(len(exprs), 15)

        def empty():
            return [f"{title} [{ref}]: {substitute(expr)}" for title, ref, expr in exprs
                    if not self.query(substitute(expr))]
        try:
            wait_until(lambda: not empty(), timeout=30, interval=1,
                       what="every dashboard query to return data")
        except AssertionError:
            raise AssertionError("dashboard queries without data:\n  " + "\n  ".join(empty())
                                 + "\nagent metrics:\n" + self.agent.metrics()) from None


if __name__ == "__main__":
    unittest.main()
