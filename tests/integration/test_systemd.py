"""systemd integration: the sd_notify protocol on a real datagram socket, and the unit file
checked by systemd-analyze (security exposure and verify)."""

import os
import re
import shutil
import signal
import socket
import subprocess
import time
import unittest

from harness import PULLGUARD_BIN, Agent, FakeHub, TempDir, config_for

SYSTEMD_ANALYZE = shutil.which("systemd-analyze")
UNIT = os.path.join(os.path.dirname(__file__), "..", "..", "systemd", "pullguard.service")


class NotifyTest(unittest.TestCase):
    def setUp(self):
        self.hub = FakeHub()
        self.addCleanup(self.hub.stop)
        self.tmp = TempDir()
        self.addCleanup(self.tmp.remove)
        self.socket_path = os.path.join(self.tmp.path, "notify.sock")
        self.socket = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.addCleanup(self.socket.close)
        self.socket.bind(self.socket_path)
        self.socket.settimeout(5)

    def receive_until(self, wanted, timeout=5.0):
        """Messages received until one contains `wanted`; fails if none does in time."""
        messages = []
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            message = self.socket.recv(4096).decode()
            messages.append(message)
            if wanted in message.split("\n"):
                return messages
        self.fail(f"no {wanted} within {timeout}s; got {messages}")

    def test_ready_watchdog_reload_and_stop_notices(self):
        agent = Agent(self.tmp.file("config.json", config_for(self.hub.url)),
                      env={"NOTIFY_SOCKET": self.socket_path, "WATCHDOG_USEC": "400000"})
        self.addCleanup(agent.stop)
        ready = self.receive_until("READY=1")[-1]
        self.assertIn(f"STATUS=serving on {agent.address}", ready)
        # WatchdogSec=0.4s: keep-alives every 0.2 s from the event loop.
        self.receive_until("WATCHDOG=1", timeout=1.0)
        self.receive_until("WATCHDOG=1", timeout=1.0)
        agent.signal(signal.SIGHUP)
        self.receive_until("RELOADING=1")
        self.receive_until("READY=1")
        agent.signal(signal.SIGTERM)
        self.receive_until("STOPPING=1")
        code, _ = agent.stop()
        self.assertEqual(code, 0)

    def test_without_notify_socket_nothing_is_sent(self):
        agent = Agent(self.tmp.file("config.json", config_for(self.hub.url)),
                      env={"NOTIFY_SOCKET": "", "WATCHDOG_USEC": "400000"})
        self.addCleanup(agent.stop)
        self.socket.settimeout(0.8)
        with self.assertRaises(socket.timeout):
            self.socket.recv(4096)


@unittest.skipUnless(SYSTEMD_ANALYZE, "systemd-analyze is not installed")
class UnitFileTest(unittest.TestCase):
    def test_security_exposure_is_at_most_one_point_five(self):
        result = subprocess.run([SYSTEMD_ANALYZE, "security", "--offline=yes", "--threshold=15",
                                 UNIT], capture_output=True, text=True, timeout=60)
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
        score = re.search(r"Overall exposure level for pullguard.service: ([0-9.]+)",
                          result.stdout)
        self.assertIsNotNone(score, result.stdout)
        self.assertLessEqual(float(score.group(1)), 1.5)

    def test_verify_has_no_warnings(self):
        # verify needs ExecStart's binary to exist: point it at the binary under test.
        tmp = TempDir()
        self.addCleanup(tmp.remove)
        with open(UNIT) as handle:
            unit = handle.read().replace("/usr/bin/pullguard", os.path.abspath(PULLGUARD_BIN))
        path = tmp.file("pullguard.service", unit, mode=0o644)
        result = subprocess.run([SYSTEMD_ANALYZE, "verify", "--man=no", path],
                                capture_output=True, text=True, timeout=60)
        # Unknown keys and bad values only warn with exit 0: any output is a failure.
        self.assertEqual((result.returncode, result.stdout + result.stderr), (0, ""))

    def test_unit_has_the_contract_settings(self):
        with open(UNIT) as handle:
            unit = handle.read()
        for line in ("Type=notify", "DynamicUser=yes", "StateDirectory=pullguard",
                     "ConfigurationDirectory=pullguard", "ExecReload=/bin/kill -HUP $MAINPID",
                     "Restart=on-failure", "RestartPreventExitStatus=78"):
            self.assertIn(line + "\n", unit)


if __name__ == "__main__":
    unittest.main()
