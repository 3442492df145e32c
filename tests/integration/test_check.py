"""`pullguard check`: the answer for a person, a CI step or a Nagios-style check."""

import json
import unittest

from harness import FakeHub, TempDir, config_for, run_cli

EXIT_OK, EXIT_WARNING, EXIT_CRITICAL, EXIT_UNKNOWN, EXIT_USAGE = 0, 1, 2, 3, 64


class CheckTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.hub = FakeHub("--user", "acme-ci:ci-password")
        cls.tmp = TempDir()

    @classmethod
    def tearDownClass(cls):
        cls.hub.stop()
        cls.tmp.remove()

    def setUp(self):
        self.hub.control("reset", {})

    def check(self, *args, identities=None, expect_exit):
        config = self.tmp.file("config.json", config_for(self.hub.url, identities=identities))
        result = run_cli("check", "--config.file", config, *args, env={"CI_TOKEN": "ci-password"})
        self.assertEqual(result.returncode, expect_exit, result.stdout + result.stderr)
        return result

    def check_json(self, *args, **kwargs):
        return json.loads(self.check("--output", "json", *args, **kwargs).stdout)

    def test_ok_json_has_the_documented_shape(self):
        document = self.check_json(expect_exit=EXIT_OK)
        self.assertEqual(document["status"], "ok")
        self.assertEqual(len(document["results"]), 1)
        result = document["results"][0]
        expected = {"identity": "anonymous", "family": "any", "outcome": "ok",
                    "source": "127.0.0.1", "limit": 100, "remaining": 100,
                    "window_seconds": 21600, "error": None}
        self.assertEqual({k: result[k] for k in expected}, expected)
        self.assertIsInstance(result["duration_seconds"], float)
        self.assertGreater(result["duration_seconds"], 0)

    def test_warning_when_ratio_at_or_below_warning_ratio(self):
        self.hub.bucket(source="127.0.0.1", limit=100, remaining=20)
        document = self.check_json(expect_exit=EXIT_WARNING)
        self.assertEqual(document["status"], "warning")
        self.assertEqual(document["results"][0]["remaining"], 20)

    def test_critical_when_ratio_at_or_below_critical_ratio(self):
        self.hub.bucket(source="127.0.0.1", limit=100, remaining=5)
        self.assertEqual(self.check_json(expect_exit=EXIT_CRITICAL)["status"], "critical")

    def test_critical_when_nothing_is_left(self):
        self.hub.bucket(source="127.0.0.1", limit=100, remaining=0)
        document = self.check_json(expect_exit=EXIT_CRITICAL)
        self.assertEqual(document["results"][0]["remaining"], 0)

    def test_unknown_when_a_probe_failed(self):
        self.hub.faults({"target": "manifest", "status": 503})
        document = self.check_json(expect_exit=EXIT_UNKNOWN)
        self.assertEqual(document["status"], "unknown")
        result = document["results"][0]
        self.assertEqual(result["outcome"], "http_error")
        self.assertIsNone(result["limit"])
        self.assertEqual(result["error"], "registry answered HTTP 503")

    def test_critical_outranks_unknown(self):
        # One identity is out of pulls, the other cannot be probed: the answer is critical.
        self.hub.bucket(source="127.0.0.1", limit=100, remaining=0)
        identities = [{"name": "anonymous"},
                      {"name": "ci", "username": "acme-ci", "password_env": "MISSING_PW_ENV"}]
        config = self.tmp.file("two.json", config_for(self.hub.url, identities=identities))
        result = run_cli("check", "--config.file", config, "--output", "json",
                         env={"MISSING_PW_ENV": "wrong-password"})
        self.assertEqual(result.returncode, EXIT_CRITICAL, result.stderr)
        outcomes = {r["identity"]: r["outcome"] for r in json.loads(result.stdout)["results"]}
        self.assertEqual(outcomes, {"anonymous": "ok", "ci": "auth_failed"})

    def test_unlimited_is_not_an_error(self):
        self.hub.faults({"target": "manifest", "no_limit_headers": True})
        result = self.check_json(expect_exit=EXIT_OK)["results"][0]
        self.assertEqual(result["outcome"], "unlimited")
        self.assertEqual((result["limit"], result["remaining"]), (None, None))

    def test_identity_filter(self):
        identities = [{"name": "anonymous"},
                      {"name": "ci", "username": "acme-ci", "password_env": "CI_TOKEN"}]
        document = self.check_json("--identity", "ci", identities=identities,
                                   expect_exit=EXIT_OK)
        self.assertEqual([r["identity"] for r in document["results"]], ["ci"])
        self.assertEqual(document["results"][0]["limit"], 200)

    def test_unknown_identity_is_a_usage_error(self):
        result = self.check("--identity", "nobody", expect_exit=EXIT_USAGE)
        self.assertIn("nobody", result.stderr)
        self.assertIn("anonymous", result.stderr)

    def test_text_output_is_a_readable_table(self):
        self.hub.bucket(source="127.0.0.1", limit=100, remaining=76)
        text = self.check(expect_exit=EXIT_OK).stdout
        lines = text.splitlines()
        self.assertEqual(lines[0], "pullguard: ok")
        self.assertRegex(text, r"IDENTITY\s+FAMILY\s+STATUS\s+OUTCOME\s+REMAINING")
        self.assertRegex(text, r"anonymous\s+any\s+ok\s+ok\s+76/100 \(76%\)\s+6h\s+127\.0\.0\.1")

    def test_text_output_lists_errors(self):
        self.hub.faults({"target": "manifest", "status": 503})
        text = self.check(expect_exit=EXIT_UNKNOWN).stdout
        self.assertIn("anonymous/any: registry answered HTTP 503", text)

    def test_check_never_sends_a_manifest_get(self):
        self.check(expect_exit=EXIT_OK)
        requests = self.hub.stats()["requests"]
        self.assertNotIn("GET manifest", requests)
        self.assertEqual(requests["HEAD manifest"], 2)  # 401 challenge, then with the token


if __name__ == "__main__":
    unittest.main()
