"""Configuration from the outside: bad files, --config.check, flags, and SIGHUP reload."""

import os
import signal
import time
import unittest

from harness import (TESTDATA, Agent, FakeHub, TempDir, config_for, parse_metrics, run_cli,
                     sample, wait_until)

EXIT_CONFIG, EXIT_USAGE = 78, 64


class BadConfigTest(unittest.TestCase):
    def test_every_bad_config_fails_with_its_one_line_error(self):
        directory = os.path.join(TESTDATA, "bad_configs")
        with open(os.path.join(directory, "expected.txt")) as handle:
            cases = [line.rstrip("\n").split("\t", 1) for line in handle if line.strip()]
        self.assertGreaterEqual(len(cases), 20)
        for name, expected in cases:
            for mode in (["--config.check"], []):  # check, and the daemon's fail-fast start
                with self.subTest(file=name, mode=mode):
                    result = run_cli("--config.file", os.path.join(directory, name), *mode,
                                     "--web.listen-address", "127.0.0.1:0")
                    self.assertEqual(result.returncode, EXIT_CONFIG, result.stderr)
                    self.assertEqual(result.stderr, expected + "\n")
                    self.assertEqual(result.stdout, "")

    def test_missing_config_file(self):
        result = run_cli("--config.file", "/nonexistent/pullguard.json", "--config.check")
        self.assertEqual(result.returncode, EXIT_CONFIG)
        self.assertEqual(result.stderr, "config: /nonexistent/pullguard.json: no such file\n")


class ConfigCheckTest(unittest.TestCase):
    def setUp(self):
        self.tmp = TempDir()
        self.addCleanup(self.tmp.remove)

    def test_default_config_is_valid(self):
        result = run_cli("--config.check")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(result.stdout, "config: OK (1 identities)\n")

    def test_example_config_is_valid(self):
        secret = self.tmp.file("hub-secret", "pat-value\n")
        docker_config = self.tmp.file("docker.json", {"auths": {
            "https://index.docker.io/v1/": {"auth": "YWNtZTpwYXQ="}}})
        config = {
            "registry": {"url": "https://registry-1.docker.io",
                         "repository": "ratelimitpreview/test", "reference": "latest"},
            "probe": {"interval_seconds": 60, "timeout_seconds": 10},
            "identities": [
                {"name": "anonymous"},
                {"name": "ci", "username": "acme-ci", "password_env": "DOCKERHUB_TOKEN",
                 "families": ["ipv4", "ipv6"]},
                {"name": "ops", "username": "acme-ops", "password_file": secret},
                {"name": "host", "docker_config": docker_config}],
            "thresholds": {"warning_ratio": 0.2, "critical_ratio": 0.05},
            "web": {"listen_address": "0.0.0.0:10217"}}
        result = run_cli("--config.file", self.tmp.file("c.json", config), "--config.check",
                         env={"DOCKERHUB_TOKEN": "x"})
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(result.stdout, "config: OK (4 identities)\n")
        self.assertEqual(result.stderr, "")

    def test_world_readable_secret_gets_a_warning(self):
        secret = self.tmp.file("hub-secret", "pat-value\n", mode=0o644)
        config = config_for("https://registry-1.docker.io", identities=[
            {"name": "ops", "username": "acme-ops", "password_file": secret}])
        result = run_cli("--config.file", self.tmp.file("c.json", config), "--config.check")
        self.assertEqual(result.returncode, 0)
        self.assertIn("identities[0].password_file", result.stderr)
        self.assertIn("readable by every user", result.stderr)
        self.assertNotIn("pat-value", result.stderr)


class FlagsTest(unittest.TestCase):
    def test_version(self):
        result = run_cli("--version")
        self.assertEqual(result.returncode, 0)
        self.assertRegex(result.stdout, r"^pullguard \d+\.\d+\.\d+ \(revision \S+\)\n$")

    def test_unknown_flag_is_a_usage_error(self):
        result = run_cli("--no-such-flag")
        self.assertEqual(result.returncode, EXIT_USAGE)
        self.assertIn("--no-such-flag", result.stderr)

    def test_bad_log_format_is_a_usage_error(self):
        result = run_cli("--log.format", "xml", "--config.check")
        self.assertEqual(result.returncode, EXIT_USAGE)
        self.assertIn("xml", result.stderr)

    def test_bad_listen_address_flag_is_a_usage_error(self):
        result = run_cli("--web.listen-address", "nowhere", "--config.check")
        self.assertEqual(result.returncode, EXIT_USAGE)
        self.assertEqual(result.stderr,
                         'pullguard: --web.listen-address: "nowhere" is not host:port\n')

    def test_ipv6_listen_address_is_refused_clearly_when_unsupported(self):
        # Debian 12's civetweb is built without IPv6: say so at start, not "cannot listen".
        result = run_cli("--web.listen-address", "[::1]:0", "--config.check")
        if result.returncode == 0:
            self.skipTest("this civetweb supports IPv6")
        self.assertEqual(result.returncode, EXIT_USAGE)
        self.assertIn("IPv6 listen addresses are not supported", result.stderr)

    def test_help_lists_the_contract_flags(self):
        result = run_cli("--help")
        self.assertEqual(result.returncode, 0)
        for flag in ("--config.file", "--config.check", "--web.listen-address", "--log.level",
                     "--log.format", "--version", "check"):
            self.assertIn(flag, result.stdout)


class ReloadTest(unittest.TestCase):
    def setUp(self):
        self.hub = FakeHub("--user", "acme-ci:ci-password")
        self.addCleanup(self.hub.stop)
        self.tmp = TempDir()
        self.addCleanup(self.tmp.remove)

    def test_sighup_keeps_the_old_config_on_error_and_applies_a_good_one(self):
        path = self.tmp.file("config.json", config_for(self.hub.url))
        agent = Agent(path, env={"CI_TOKEN": "ci-password"})
        self.addCleanup(agent.stop)
        agent.wait_for_probes(1)

        with open(path, "w") as handle:
            handle.write('{"identities": [{"name": "x", "bogus": 1}]}')
        agent.signal(signal.SIGHUP)
        wait_until(lambda: sample(parse_metrics(agent.metrics()),
                                  "pullguard_config_last_reload_successful") == 0,
                   what="the failed reload to show")
        self.assertIn("identities[0].bogus: unknown key", agent.log())
        self.assertIsNotNone(sample(parse_metrics(agent.metrics()), "pullguard_probe_success",
                                    identity="anonymous"))

        self.tmp.file("config.json", config_for(self.hub.url, identities=[
            {"name": "anonymous"},
            {"name": "ci", "username": "acme-ci", "password_env": "CI_TOKEN"}]))
        agent.signal(signal.SIGHUP)
        wait_until(lambda: sample(parse_metrics(agent.metrics()), "pullguard_ratelimit_limit",
                                  identity="ci") == 200, what="the new identity to be probed")
        samples = parse_metrics(agent.metrics())
        self.assertEqual(sample(samples, "pullguard_config_last_reload_successful"), 1)
        # The identity that stayed kept its counters: no restart from zero.
        self.assertGreaterEqual(sample(samples, "pullguard_probes_total", identity="anonymous",
                                       outcome="ok"), 1)

    def test_family_added_on_reload_reuses_the_identity_token(self):
        hub = FakeHub("--ipv6", "--user", "acme-ci:ci-password")
        self.addCleanup(hub.stop)
        identity = {"name": "ci", "username": "acme-ci", "password_env": "CI_TOKEN",
                    "families": ["ipv4"]}
        path = self.tmp.file("config.json", config_for(hub.localhost_url, identities=[identity]))
        agent = Agent(path, env={"CI_TOKEN": "ci-password"})
        self.addCleanup(agent.stop)
        agent.wait_for_probes(1)
        identity["families"] = ["ipv4", "ipv6"]
        self.tmp.file("config.json", config_for(hub.localhost_url, identities=[identity]))
        agent.signal(signal.SIGHUP)
        wait_until(lambda: sample(parse_metrics(agent.metrics()), "pullguard_probe_success",
                                  identity="ci", family="ipv6") == 1,
                   what="the new family to be probed")
        self.assertEqual(hub.stats()["tokens"]["acme-ci"]["ok"], 1)

    def test_an_older_load_never_replaces_a_newer_one(self):
        # The first SIGHUP's load blocks on a secret in a FIFO (a slow mount, say) while a
        # second SIGHUP loads a newer file at once. Regression: when the first load finished,
        # its older configuration replaced the newer one.
        fifo = os.path.join(self.tmp.path, "slow-secret")
        os.mkfifo(fifo, 0o600)
        unblocked = []

        def unblock():
            if not unblocked:
                unblocked.append(True)
                with open(fifo, "w") as handle:  # lets the blocked load finish
                    handle.write("ci-password\n")
        path = self.tmp.file("config.json", config_for(self.hub.url))
        agent = Agent(path)
        self.addCleanup(agent.stop)
        self.addCleanup(unblock)  # runs first: the agent must not stop on a blocked worker
        agent.wait_for_probes(1)

        self.tmp.file("config.json", config_for(self.hub.url, identities=[
            {"name": "older", "username": "acme-ci", "password_file": fifo}]))
        agent.signal(signal.SIGHUP)
        wait_until(lambda: agent.log().count("reloading configuration") == 1, what="reload 1")
        time.sleep(0.5)  # the first load now waits on the FIFO
        self.tmp.file("config.json", config_for(self.hub.url, identities=[{"name": "newer"}]))
        agent.signal(signal.SIGHUP)
        wait_until(lambda: 'identity="newer"' in agent.metrics(), what="the newer config")

        unblock()
        # Done when the first load has ended one way or the other: applied (the bug) or
        # dropped.
        wait_until(lambda: agent.log().count("configuration reloaded") +
                   agent.log().count("overtaken by a newer SIGHUP") == 2,
                   what="the first load to end")
        metrics = agent.metrics()
        self.assertIn('identity="newer"', metrics)
        self.assertNotIn('identity="older"', metrics)

    def test_sighup_drops_removed_identities(self):
        path = self.tmp.file("config.json", config_for(self.hub.url, identities=[
            {"name": "anonymous"},
            {"name": "ci", "username": "acme-ci", "password_env": "CI_TOKEN"}]))
        agent = Agent(path, env={"CI_TOKEN": "ci-password"})
        self.addCleanup(agent.stop)
        agent.wait_for_probes(1)
        self.tmp.file("config.json", config_for(self.hub.url))
        agent.signal(signal.SIGHUP)
        wait_until(lambda: 'identity="ci"' not in agent.metrics(), what="ci's series to go")
        self.assertIn('identity="anonymous"', agent.metrics())


if __name__ == "__main__":
    unittest.main()
