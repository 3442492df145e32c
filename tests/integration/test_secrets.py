"""No password or token ever leaves pullguard through its outputs.

A planted password is used through password_env, password_file and docker_config; a planted
token is handed out by the hub's token endpoint. The daemon runs at debug level in logfmt
and json through success and failure paths, `check` runs in text and json, `--config.check`
runs on good and bad files; every byte they print or serve is searched for the secrets.

The fake hub's control API does not expose the token values it issues (only counts), so
tokens the hub really issued cannot be searched for by value; any token-shaped string
(secrets.token_urlsafe(32): 43 URL-safe characters, mixed case) is searched for instead.
"""

import base64
import json
import re
import signal
import unittest

import harness

PASSWORD = harness.PLANTED_PASSWORD
TOKEN = harness.PLANTED_TOKEN
USER = "ci"
# Contains the planted password, so any leak of it is caught by the same search.
WRONG_PASSWORD = PASSWORD + "-wrong"
PASSWORD_ENV = "PULLGUARD_TEST_HUB_PASSWORD"
WRONG_ENV = "PULLGUARD_TEST_WRONG_PASSWORD"
ENV = {PASSWORD_ENV: PASSWORD, WRONG_ENV: WRONG_PASSWORD}


def b64(text):
    return base64.b64encode(text.encode()).decode()


FORBIDDEN = {
    "planted password": PASSWORD,
    "planted token": TOKEN,
    "base64 user:password": b64(f"{USER}:{PASSWORD}"),
    "base64 user:wrong password": b64(f"{USER}:{WRONG_PASSWORD}"),
    "base64 password": b64(PASSWORD),
    "base64 token": b64(TOKEN),
}
# A hub token (token_urlsafe(32)) with both cases in it; metric names and UUIDs have neither.
TOKEN_SHAPE = re.compile(
    r"(?<![A-Za-z0-9_-])(?=[A-Za-z0-9_-]*[A-Z])(?=[A-Za-z0-9_-]*[a-z])[A-Za-z0-9_-]{43}"
    r"(?![A-Za-z0-9_-])")
AUTH_VALUE = re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9+/=_.-]{8,}")


class JsonAwareAgent(harness.Agent):
    """harness.Agent, also finding the listen address in a --log.format json log."""

    def _listening(self):
        found = super()._listening()
        if found:
            return found
        for line in self.log().splitlines():
            try:
                event = json.loads(line)
            except ValueError:
                continue
            if isinstance(event, dict) and event.get("msg") == "listening":
                return event.get("address")
        return None


class SecretsTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.tmp = harness.TempDir()
        cls.addClassCleanup(cls.tmp.remove)
        # healthy: real tokens; faulted: the token endpoint hands out the planted token,
        # which the registry does not know, so every probe ends in auth_failed.
        cls.healthy = harness.FakeHub("--user", f"{USER}:{PASSWORD}")
        cls.addClassCleanup(cls.healthy.stop)
        cls.faulted = harness.FakeHub("--user", f"{USER}:{PASSWORD}")
        cls.addClassCleanup(cls.faulted.stop)
        cls.faulted.faults({"target": "token",
                            "token_body": json.dumps({"token": TOKEN, "expires_in": 300})})
        cls.password_file = cls.tmp.file("hub-password", PASSWORD + "\n")
        cls.docker_config = cls.tmp.file("config.json", {
            "auths": {"https://index.docker.io/v1/": {"auth": b64(f"{USER}:{PASSWORD}")}}})
        cls.configs = {
            "healthy": cls.tmp.file("healthy.json", cls.config(cls.healthy)),
            "faulted": cls.tmp.file("faulted.json", cls.config(cls.faulted)),
        }

    @classmethod
    def config(cls, hub):
        return harness.config_for(hub.url, [
            {"name": "ci-env", "username": USER, "password_env": PASSWORD_ENV},
            {"name": "ci-file", "username": USER, "password_file": cls.password_file},
            {"name": "ci-docker", "docker_config": cls.docker_config},
            {"name": "ci-wrong", "username": USER, "password_env": WRONG_ENV},
            {"name": "anonymous"},
        ])

    def setUp(self):
        self.outputs = []  # (where, text): everything searched in assert_no_secrets

    def collect(self, where, text):
        self.outputs.append((where, text))

    def assert_no_secrets(self):
        self.assertTrue(self.outputs)
        for where, text in self.outputs:
            for name, secret in FORBIDDEN.items():
                self.assertNotIn(secret, text, f"{name} leaked into {where}")
            match = TOKEN_SHAPE.search(text)
            self.assertIsNone(match, f"token-shaped {match and match.group(0)!r} in {where}")
            match = AUTH_VALUE.search(text)
            self.assertIsNone(match, f"credential {match and match.group(0)!r} in {where}")

    def cli(self, *args):
        done = harness.run_cli(*args, env=ENV)
        self.collect(f"stdout of {' '.join(args)}", done.stdout)
        self.collect(f"stderr of {' '.join(args)}", done.stderr)
        return done

    # --- the daemon -------------------------------------------------------------------

    def start_agent(self, hub_name, log_format):
        agent = JsonAwareAgent(self.configs[hub_name],
                               args=("--log.level", "debug", "--log.format", log_format),
                               env=ENV)
        self.addCleanup(agent.stop)
        return agent

    def scrape(self, agent, where):
        metrics = agent.metrics()
        status = agent.status()
        self.collect(f"metrics ({where})", metrics)
        self.collect(f"status ({where})", json.dumps(status))
        return harness.parse_metrics(metrics), {
            r["identity"]: r for r in status["results"]}

    def test_daemon_never_shows_a_secret(self):
        agents = {(hub, fmt): self.start_agent(hub, fmt)
                  for hub in ("healthy", "faulted") for fmt in ("logfmt", "json")}
        for agent in agents.values():
            agent.wait_for_probes(1, timeout=10)

        for (hub, fmt), agent in agents.items():
            samples, status = self.scrape(agent, f"{hub}, {fmt}, first probe")
            if hub == "healthy":
                for name in ("ci-env", "ci-file", "ci-docker"):
                    self.assertEqual(status[name]["outcome"], "ok", status[name])
                    self.assertEqual(status[name]["remaining"], 200, status[name])
                self.assertEqual(status["anonymous"]["outcome"], "ok")
                self.assertEqual(status["ci-wrong"]["outcome"], "auth_failed")
                self.assertEqual(status["ci-wrong"]["error"],
                                 "token endpoint refused the credentials (HTTP 401)")
            else:
                for name in ("ci-env", "ci-file", "ci-docker", "ci-wrong", "anonymous"):
                    self.assertEqual(status[name]["outcome"], "auth_failed", status[name])
                    self.assertEqual(status[name]["error"],
                                     "registry refused the token (HTTP 401)")
            self.assertEqual(harness.sample(samples, "pullguard_probe_success",
                                            identity="ci-docker", family="any"),
                             1 if hub == "healthy" else 0)

        # Second round: the healthy hub now rejects every token, so cached tokens are dropped
        # and the password is sent again; the faulted hub hands out the planted token again.
        self.healthy.faults({"target": "manifest", "method": "HEAD", "status": 401})
        for agent in agents.values():
            agent.wait_for_probes(2, timeout=20)
        for (hub, fmt), agent in agents.items():
            _, status = self.scrape(agent, f"{hub}, {fmt}, second probe")
            for name in ("ci-env", "ci-file", "ci-docker", "anonymous"):
                self.assertEqual(status[name]["outcome"], "auth_failed", status[name])
            self.assertEqual(status["ci-env"]["error"], "registry refused the token (HTTP 401)")
            if hub == "healthy":
                self.assertEqual(status["ci-env"]["remaining"], 200)  # last good reading

        for agent in agents.values():
            agent.signal(signal.SIGHUP)  # a reload reads every secret again
        for (hub, fmt), agent in agents.items():
            harness.wait_until(lambda: "configuration reloaded" in agent.log(), timeout=10,
                               what="the reload")
            self.collect(f"log ({hub}, {fmt})", agent.log())

        stats = self.healthy.stats()
        self.assertGreaterEqual(stats["tokens"][USER]["ok"], 6, stats["tokens"])
        self.assertGreaterEqual(stats["tokens"][USER]["denied"], 2, stats["tokens"])
        self.assertGreaterEqual(self.faulted.stats()["tokens"][USER]["faulted"], 8)
        for (hub, fmt), agent in agents.items():
            log = agent.log()
            self.assertIn("probe failed", log)
            if fmt == "json":
                levels = {json.loads(line)["level"] for line in log.splitlines()}
            else:
                levels = set(re.findall(r"\blevel=(\w+)", log))
            # Only a successful probe logs at debug level; the faulted hub never has one.
            self.assertEqual("debug" in levels, hub == "healthy", levels)
            self.assertIn("warn", levels)
        self.assert_no_secrets()

    # --- the command line -------------------------------------------------------------

    def test_check_never_shows_a_secret(self):
        for hub in ("healthy", "faulted"):
            for fmt in ("logfmt", "json"):
                for output in ("text", "json"):
                    done = self.cli("--config.file", self.configs[hub], "--log.level", "debug",
                                    "--log.format", fmt, "check", "--output", output)
                    self.assertEqual(done.returncode, 3, done.stdout + done.stderr)
                    self.assertIn("auth_failed", done.stdout)
                    self.assertIn("probe failed", done.stderr)
        done = self.cli("--config.file", self.configs["healthy"], "check", "--output", "json",
                        "--identity", "ci-docker")
        self.assertEqual(done.returncode, 0, done.stdout + done.stderr)
        self.assertEqual(json.loads(done.stdout)["results"][0]["outcome"], "ok")
        self.assert_no_secrets()

    def test_config_check_never_shows_a_secret(self):
        def requests():
            counts = self.healthy.stats()["requests"]
            return {k: v for k, v in counts.items() if not k.endswith(" control")}

        before = requests()
        for hub in ("healthy", "faulted"):
            for fmt in ("logfmt", "json"):
                done = self.cli("--config.file", self.configs[hub], "--config.check",
                                "--log.level", "debug", "--log.format", fmt)
                self.assertEqual(done.returncode, 0, done.stdout + done.stderr)
                self.assertIn("config: OK (5 identities)", done.stdout + done.stderr)
        # Validating reads the secrets but sends them nowhere.
        self.assertEqual(requests(), before)
        self.assert_no_secrets()

    def bad_config(self, name, identity=None, text=None):
        """--config.check on a broken file that holds the password; returns the output."""
        if text is None:
            text = json.dumps(harness.config_for(self.healthy.url, [identity]))
        path = self.tmp.file(name, text)
        done = self.cli("--config.file", path, "--config.check")
        self.assertEqual(done.returncode, 78, done.stdout + done.stderr)
        self.assertTrue(done.stderr.startswith("config: "), done.stderr)
        self.assertEqual(len(done.stderr.strip().splitlines()), 1, done.stderr)
        return done.stderr

    def docker_config_with(self, name, entry):
        return {"name": "d", "docker_config": self.tmp.file(name, {"auths": {
            "https://index.docker.io/v1/": entry}})}

    def test_config_errors_never_show_a_secret(self):
        error = self.bad_config("unknown-key.json", {"name": "a", "username": USER,
                                                     "password": PASSWORD})
        self.assertIn("identities[0].password: unknown key", error)
        error = self.bad_config("truncated.json", text='{"identities": [{"name": "a", '
                                f'"username": "{USER}", "password_env": "{PASSWORD}"')
        self.assertIn("invalid JSON", error)
        self.bad_config("bare-word.json", text=f'{{"identities": [], {PASSWORD}}}')
        error = self.bad_config("bad-base64.json", self.docker_config_with(
            "bad-base64-config.json", {"auth": f"{USER}:{PASSWORD}"}))
        self.assertIn("is not valid base64", error)
        error = self.bad_config("no-colon.json", self.docker_config_with(
            "no-colon-config.json", {"auth": b64(PASSWORD)}))
        self.assertIn("does not decode to user:password", error)
        error = self.bad_config("no-user.json", self.docker_config_with(
            "no-user-config.json", {"auth": b64(":" + PASSWORD)}))
        self.assertIn("empty username", error)
        error = self.bad_config("env-unset.json", {"name": "a", "username": USER,
                                                   "password_env": "PULLGUARD_TEST_UNSET"})
        self.assertIn("PULLGUARD_TEST_UNSET is not set", error)
        self.assert_no_secrets()

    def test_registry_url_userinfo_is_not_echoed(self):
        # Regression: a registry.url carrying user:password@ was echoed whole in the error.
        url = f"ftp://{USER}:{PASSWORD}@127.0.0.1:{self.healthy.port}"
        config = harness.config_for(url)
        self.bad_config("url-userinfo.json", text=json.dumps(config))
        self.assert_no_secrets()


if __name__ == "__main__":
    unittest.main()
