"""Shared pieces of the integration tests: the fake hub, the real pullguard binary, scrapes.

Every process started here is stopped by its PID; every temporary directory is removed.
Traffic goes to 127.0.0.1 and ::1 only.
"""

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

PULLGUARD_BIN = os.environ.get("PULLGUARD_BIN", "pullguard")
FAKEHUB = os.environ.get(
    "PULLGUARD_FAKEHUB",
    os.path.join(os.path.dirname(__file__), "..", "fakehub", "fakehub.py"))
TESTDATA = os.environ.get(
    "PULLGUARD_TESTDATA", os.path.join(os.path.dirname(__file__), "..", "testdata"))

# Distinctive secrets: tests assert these appear nowhere they must not.
PLANTED_PASSWORD = "Pw-Do-Not-Leak-7731"
PLANTED_TOKEN = "Tok-Do-Not-Leak-4242"

# Lines ASan, LSan, UBSan and TSan print; under a sanitizer build any of them fails the test.
SANITIZER_MARKERS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:",
                     "WARNING: ThreadSanitizer")


def http_get(url, timeout=5.0, method="GET"):
    """Returns (status, headers, body text) for any status, raising only on transport errors."""
    request = urllib.request.Request(url, method=method)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, dict(response.headers), response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read().decode()


def wait_until(predicate, timeout=15.0, interval=0.1, what="condition"):
    """Polls predicate until it returns a truthy value, which it returns."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = predicate()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what} (last: {last!r})")


class FakeHub:
    """The fake Docker Hub (tests/fakehub) as a subprocess on an ephemeral loopback port."""

    def __init__(self, *args):
        self.process = subprocess.Popen(
            [sys.executable, FAKEHUB, *args], stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True)
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError("fakehub did not start: " + self.process.stderr.read())
        self.port = json.loads(line)["port"]
        self.url = f"http://127.0.0.1:{self.port}"
        # "localhost" resolves to 127.0.0.1 and ::1, so per-family probes reach it both ways.
        self.localhost_url = f"http://localhost:{self.port}"

    def control(self, path, body=None):
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            f"{self.url}/_control/{path}", data=data, method="GET" if body is None else "POST",
            headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=5) as response:
            return json.loads(response.read().decode() or "{}")

    def stats(self):
        return self.control("stats")

    def faults(self, *faults):
        return self.control("faults", {"faults": list(faults)})

    def bucket(self, **fields):
        return self.control("bucket", fields)

    def spend(self, count, repository="ratelimitpreview/test"):
        """Pulls `count` manifests anonymously over IPv4 (GETs that count), like a real client."""
        token = json.loads(http_get(
            f"{self.url}/token?service=registry.docker.io&scope=repository:{repository}:pull")[2])
        for _ in range(count):
            request = urllib.request.Request(
                f"{self.url}/v2/{repository}/manifests/latest",
                headers={"Authorization": "Bearer " + token["token"]})
            try:
                urllib.request.urlopen(request, timeout=5).read()
            except urllib.error.HTTPError:
                pass

    def stop(self):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process.stdout.close()
        self.process.stderr.close()


class TempDir:
    def __init__(self):
        self.path = tempfile.mkdtemp(prefix="pullguard-test-")

    def file(self, name, content, mode=0o600):
        path = os.path.join(self.path, name)
        with open(path, "w") as handle:
            handle.write(content if isinstance(content, str) else json.dumps(content))
        os.chmod(path, mode)
        return path

    def remove(self):
        shutil.rmtree(self.path, ignore_errors=True)


def config_for(hub_url, identities=None, interval=10, timeout=2, **extra):
    """A config dict probing the fake hub, quickly and without jitter, web on a free port."""
    config = {
        "registry": {"url": hub_url},
        "probe": {"interval_seconds": interval, "timeout_seconds": timeout, "jitter_ratio": 0},
        "identities": identities or [{"name": "anonymous"}],
        "web": {"listen_address": "127.0.0.1:0"},
    }
    config.update(extra)
    return config


def run_cli(*args, env=None, timeout=30):
    """Runs pullguard to completion; returns CompletedProcess with text stdout/stderr."""
    full_env = dict(os.environ)
    full_env.update(env or {})
    result = subprocess.run([PULLGUARD_BIN, *args], capture_output=True, text=True,
                            env=full_env, timeout=timeout)
    for marker in SANITIZER_MARKERS:
        if marker in result.stderr:
            raise AssertionError(f"sanitizer report from pullguard {args}:\n{result.stderr}")
    return result


class Agent:
    """The real pullguard daemon; stderr goes to a file so the log can be read at any time."""

    def __init__(self, config_path=None, args=(), env=None, storage_path=None):
        self.dir = TempDir()
        # Every agent keeps its history in a directory of its own (never the host's
        # /var/lib/pullguard); pass storage_path to share one across a restart.
        self.storage_path = storage_path or os.path.join(self.dir.path, "state")
        os.makedirs(self.storage_path, exist_ok=True)
        self.stopped = False
        self.log_path = os.path.join(self.dir.path, "agent.log")
        self._log = open(self.log_path, "w")
        full_env = dict(os.environ)
        full_env.update(env or {})
        command = [PULLGUARD_BIN]
        if config_path:
            command += ["--config.file", config_path]
        command += list(args)
        if not any(str(a).startswith("--storage.path") for a in args):
            command += ["--storage.path", self.storage_path]
        self.process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=self._log,
                                        env=full_env, text=True)
        match = wait_until(lambda: self._listening(), timeout=10, what="the agent to listen")
        self.address = match
        self.url = f"http://{self.address}"

    def _listening(self):
        if self.process.poll() is not None:
            raise AssertionError(f"agent exited with {self.process.returncode}: {self.log()}")
        found = re.search(r"msg=listening address=(\S+)", self.log())
        return found.group(1) if found else None

    def log(self):
        if self.stopped:
            return self._final_log
        with open(self.log_path) as handle:
            return handle.read()

    def metrics(self):
        return http_get(self.url + "/metrics")[2]

    def status(self):
        return json.loads(http_get(self.url + "/api/v1/status")[2])

    def wait_for_probes(self, count=1, timeout=20.0):
        """Waits until every bucket has finished at least `count` probes."""
        def done():
            samples = parse_metrics(self.metrics())
            totals = {}
            for (name, labels), value in samples.items():
                if name == "pullguard_probes_total":
                    key = (labels["identity"], labels["family"])
                    totals[key] = totals.get(key, 0) + value
            return totals if totals and all(v >= count for v in totals.values()) else None
        return wait_until(done, timeout=timeout, what=f"{count} probe(s) per bucket")

    def signal(self, sig):
        self.process.send_signal(sig)

    def stop(self, timeout=5):
        """SIGTERM; returns (exit code, seconds it took). Fails on a sanitizer report or a
        non-zero exit, so every test that runs the daemon also checks a clean shutdown."""
        started = time.monotonic()
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        elapsed = time.monotonic() - started
        if self.stopped:
            return self.process.returncode, elapsed
        self._log.close()
        log = self._final_log = self.log()
        self.stopped = True
        self.process.stdout.close()
        code = self.process.returncode
        self.dir.remove()
        for marker in SANITIZER_MARKERS:
            if marker in log:
                raise AssertionError(f"sanitizer report in the agent's log:\n{log}")
        if code != 0:
            raise AssertionError(f"agent exited with {code}:\n{log}")
        return code, elapsed


def parse_metrics(text):
    """Prometheus text format -> {(name, frozenset-free labels dict as tuple): value}."""
    samples = {}
    pattern = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$')
    label_pattern = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        match = pattern.match(line)
        if not match:
            raise AssertionError(f"unparseable metrics line: {line!r}")
        labels = LabelDict(label_pattern.findall(match.group(2) or ""))
        samples[(match.group(1), labels)] = float(match.group(3))
    return samples


class LabelDict(dict):
    """A hashable dict, so label sets can be dictionary keys."""

    def __hash__(self):
        return hash(tuple(sorted(self.items())))


def sample(samples, name, **labels):
    """The value of the one series of `name` whose labels include `labels`, else None."""
    found = [v for (n, l), v in samples.items()
             if n == name and all(l.get(k) == str(val) for k, val in labels.items())]
    if len(found) > 1:
        raise AssertionError(f"{name}{labels} matches {len(found)} series")
    return found[0] if found else None
