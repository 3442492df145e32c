"""The budget history survives the daemon: kill -9, a corrupt file, a full or read-only disk.

The history lives in --storage.path/history.json and is replaced atomically after probes, so a
kill -9 loses at most the last interval, and a storage failure is logged and counted while the
agent keeps probing. The full and read-only cases mount a small tmpfs (the tests run as root;
without CAP_SYS_ADMIN they are skipped) and unmount it afterwards.
"""

import errno
import json
import os
import re
import signal
import subprocess
import unittest

import harness

INTERVAL = 10  # the shortest probe interval the config accepts


def read_history(storage):
    """The parsed history.json, or None while there is none (or it is being replaced)."""
    try:
        with open(os.path.join(storage, "history.json")) as handle:
            return json.load(handle)
    except (OSError, ValueError):
        return None


def observation_count(storage):
    document = read_history(storage)
    if not document:
        return 0
    return sum(len(bucket["observations"]) for bucket in document["buckets"])


def warn_lines(log, pattern):
    return [line for line in log.splitlines()
            if "level=warn" in line and re.search(pattern, line)]


class PersistenceTestCase(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.hub = harness.FakeHub()
        cls.addClassCleanup(cls.hub.stop)

    def setUp(self):
        self.hub.control("reset", {})
        self.hub.bucket(source="127.0.0.1", limit=100, remaining=90)
        self.tmp = harness.TempDir()
        self.addCleanup(self.tmp.remove)
        self.storage = os.path.join(self.tmp.path, "state")
        os.makedirs(self.storage, mode=0o700)

    def start(self, timeout=2):
        config = harness.config_for(self.hub.url, interval=INTERVAL, timeout=timeout)
        path = self.tmp.file(f"config-{len(os.listdir(self.tmp.path))}.json", config)
        agent = harness.Agent(path, storage_path=self.storage)
        self.addCleanup(agent.stop)
        return agent

    def kill9(self, agent):
        """SIGKILL, then the harness's cleanup, which must see that exit (and no sanitizer)."""
        agent.signal(signal.SIGKILL)
        agent.process.wait(timeout=5)
        with self.assertRaisesRegex(AssertionError, "agent exited with -9"):
            agent.stop()

    def writes(self, agent, outcome):
        samples = harness.parse_metrics(agent.metrics())
        return harness.sample(samples, "pullguard_storage_writes_total", outcome=outcome) or 0

    def wait_writes(self, agent, outcome, at_least, timeout=2.5 * INTERVAL):
        return harness.wait_until(lambda: self.writes(agent, outcome) >= at_least and
                                  self.writes(agent, outcome),
                                  timeout=timeout, what=f"{at_least} storage write(s) {outcome}")

    def only_entry(self, agent):
        results = agent.status()["results"]
        self.assertEqual(len(results), 1, results)
        return results[0]

    def assert_no_temp_file(self):
        self.assertNotIn("history.json.tmp", os.listdir(self.storage))


class RestartTest(PersistenceTestCase):
    def test_kill9_keeps_the_history_and_status_shows_it_at_once(self):
        agent = self.start()
        # Saves come at most once per interval, an interval after the first unsaved reading;
        # a run of equal readings is kept as its first and last.
        harness.wait_until(lambda: observation_count(self.storage) >= 2,
                           timeout=5 * INTERVAL, what="2 observations saved")
        document = read_history(self.storage)
        self.assertEqual(document["version"], 1)
        self.assertEqual(len(document["buckets"]), 1, document)
        bucket = document["buckets"][0]
        self.assertEqual((bucket["identity"], bucket["family"], bucket["source"]),
                         ("anonymous", "any", "127.0.0.1"))
        self.assertEqual(bucket["observations"][-1][1:], [90, 100, 21600])
        self.assertEqual(os.stat(os.path.join(self.storage, "history.json")).st_mode & 0o777,
                         0o600)
        saved = observation_count(self.storage)
        self.assertGreaterEqual(self.only_entry(agent)["forecast"]["history_points"], saved)
        self.kill9(agent)

        # The next agent's first probe is held back, so what status shows came from the file;
        # a pull meanwhile makes that probe's reading a new point.
        self.hub.spend(1)
        self.hub.faults({"target": "manifest", "delay": 3, "times": 1})
        restarted = self.start(timeout=5)
        entry = self.only_entry(restarted)
        self.assertIsNone(entry["outcome"], entry)  # not probed yet
        forecast = entry["forecast"]
        self.assertGreaterEqual(forecast["history_points"], saved, entry)
        self.assertIn("15m", forecast["consumption_rate"])
        self.assertIn("1h", forecast["consumption_rate"])
        self.assertEqual(warn_lines(restarted.log(), r"history"), [])

        # The restored history grows from there.
        restarted.wait_for_probes(1, timeout=2 * INTERVAL)
        harness.wait_until(
            lambda: self.only_entry(restarted)["forecast"]["history_points"] > saved,
            timeout=5, what="the first new observation")
        self.assert_no_temp_file()


class ShutdownTest(PersistenceTestCase):
    def test_sigterm_writes_the_readings_a_scheduled_save_had_not(self):
        agent = self.start()
        agent.wait_for_probes(1, timeout=2 * INTERVAL)
        self.assertIsNone(read_history(self.storage))  # the save is an interval away
        agent.stop()
        self.assertGreaterEqual(observation_count(self.storage), 1)


class CorruptFileTest(PersistenceTestCase):
    def test_corrupt_file_is_set_aside_and_the_agent_runs(self):
        path = os.path.join(self.storage, "history.json")
        with open(path, "w") as handle:
            handle.write('{"version":1,"saved_at":0,"buckets":[{"Planted-Secret-99":1}')
        agent = self.start()
        lines = warn_lines(agent.log(), r"is corrupt")
        self.assertEqual(len(lines), 1, agent.log())
        self.assertRegex(lines[0], r"set aside as history\.json\.corrupt-\d+")
        self.assertNotIn("Planted-Secret-99", agent.log())
        aside = [name for name in os.listdir(self.storage) if ".corrupt-" in name]
        self.assertEqual(len(aside), 1, os.listdir(self.storage))
        with open(os.path.join(self.storage, aside[0])) as handle:
            self.assertIn("Planted-Secret-99", handle.read())

        agent.wait_for_probes(1, timeout=INTERVAL)
        harness.wait_until(lambda: observation_count(self.storage) >= 1,
                           timeout=2.5 * INTERVAL, what="a fresh history.json")
        self.assertIsNone(agent.process.poll())
        self.assertEqual(self.only_entry(agent)["remaining"], 90)


class StorageFaultTest(PersistenceTestCase):
    """The storage directory is a small tmpfs that the test fills or remounts read-only."""

    def setUp(self):
        super().setUp()
        done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16k,mode=0700",
                               "pullguard-test", self.storage], capture_output=True, text=True)
        if done.returncode != 0:
            self.skipTest("cannot mount a tmpfs here: " + done.stderr.strip())
        # Cleanups run last-in first-out: unmount after the agent has stopped.
        self.addCleanup(subprocess.run, ["umount", "-l", self.storage], check=False)

    def fill(self):
        """Writes a filler file until the tmpfs is full; returns its path."""
        filler = os.path.join(self.storage, "filler")
        with open(filler, "wb", buffering=0) as handle:
            while True:
                try:
                    handle.write(b"\0" * 1024)
                except OSError as error:
                    self.assertEqual(error.errno, errno.ENOSPC)
                    break
        return filler

    def remount(self, mode):
        subprocess.run(["mount", "-o", f"remount,{mode}", self.storage], check=True)

    def assert_fails_then_recovers(self, break_storage, repair_storage, reason):
        agent = self.start()
        self.wait_writes(agent, "success", 1)
        before = read_history(self.storage)
        self.assertIsNotNone(before)

        break_storage()
        failures = self.wait_writes(agent, "failure", 1)
        lines = warn_lines(agent.log(), reason)
        self.assertGreaterEqual(len(lines), 1, agent.log())
        self.assertIn("history.json", lines[0])
        self.assertEqual(read_history(self.storage), before)  # the old file is intact
        self.assert_no_temp_file()
        self.assertIsNone(agent.process.poll())

        repair_storage()
        successes = self.writes(agent, "success")
        self.wait_writes(agent, "success", successes + 1)
        self.assertGreater(observation_count(self.storage), 0)
        self.assertEqual(self.writes(agent, "failure"), failures)
        self.assertEqual(self.only_entry(agent)["outcome"], "ok")

    def test_full_disk_is_counted_and_recovers(self):
        filler = os.path.join(self.storage, "filler")
        self.assert_fails_then_recovers(self.fill, lambda: os.unlink(filler),
                                        r"No space left on device")

    def test_read_only_storage_is_counted_and_recovers(self):
        self.addCleanup(subprocess.run, ["mount", "-o", "remount,rw", self.storage], check=False)
        self.assert_fails_then_recovers(lambda: self.remount("ro"), lambda: self.remount("rw"),
                                        r"Read-only file system")


if __name__ == "__main__":
    unittest.main()
