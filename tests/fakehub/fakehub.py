#!/usr/bin/env python3
"""Fake Docker Hub: registry and token service in one process.

Integration tests and the README's offline demo run pullguard against this server
instead of registry-1.docker.io and auth.docker.io. It copies what the agent relies on
(Bearer challenge, token JSON, rate-limit headers, 429 body, per-IP and per-account
buckets, HEAD not counting) and adds a JSON control API under /_control/ so tests can
set buckets, script faults and check which requests the agent made.

Standard library only (Python 3.11). See README.md in this directory.
"""

import argparse
import base64
import binascii
import collections
import hashlib
import ipaddress
import json
import os
import re
import secrets
import signal
import socket
import socketserver
import struct
import sys
import threading
import time
import traceback
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

SERVICE = "registry.docker.io"
RECENT_MAX = 200
USER_NAMESPACE = uuid.NAMESPACE_URL
TOO_MANY = ("You have reached your pull rate limit. You may increase the limit by "
            "authenticating and upgrading: https://www.docker.com/increase-rate-limit")
MANIFEST_TYPE = "application/vnd.oci.image.manifest.v1+json"
MANIFEST_BODY = json.dumps({
    "schemaVersion": 2,
    "mediaType": MANIFEST_TYPE,
    "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "size": 2,
               "digest": "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"},
    "layers": [],
}, separators=(",", ":")).encode()
BLOB_BODY = b"fakehub blob\n"
LIMIT_HEADERS = ("ratelimit-limit", "ratelimit-remaining")
CAPITALISED = {"ratelimit-limit": "RateLimit-Limit", "ratelimit-remaining": "RateLimit-Remaining",
               "docker-ratelimit-source": "Docker-RateLimit-Source"}
MANIFEST_RE = re.compile(r"^/v2/(?P<name>.+)/manifests/(?P<ref>[^/]+)$")
BLOB_RE = re.compile(r"^/v2/(?P<name>.+)/blobs/(?P<ref>[^/]+)$")
FAULT_TARGETS = {"manifest", "blob", "token", "base", "other", "any"}
FAULT_KEYS = {"target", "method", "times", "family", "status", "body", "no_limit_headers",
              "headers", "capitalised", "delay", "reset", "huge_header_bytes", "token_body"}
ERROR_CODES = {400: "BAD_REQUEST", 401: "UNAUTHORIZED", 403: "DENIED", 404: "NOT_FOUND",
               429: "TOOMANYREQUESTS"}


def user_source(username):
    """Stable account UUID for a user, as Docker Hub reports it in docker-ratelimit-source."""
    return str(uuid.uuid5(USER_NAMESPACE, "https://hub.docker.com/u/" + username))


def client_ip(address):
    """Parse a peer address; an IPv4-mapped IPv6 address counts as plain IPv4."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if ip.version == 6 and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    return ip


def anonymous_source(address):
    """Docker Hub buckets anonymous pulls per IPv4 address or per IPv6 /64."""
    ip = client_ip(address)
    if ip.version == 4:
        return str(ip)
    return ipaddress.IPv6Network((ip, 64), strict=False).network_address.compressed


def rfc3339_nanos(ns):
    """auth.docker.io style issued_at: UTC with a nine-digit fraction."""
    secs, frac = divmod(ns, 10 ** 9)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(secs)) + f".{frac:09d}Z"


def error_body(code, message, detail=None):
    """Registry error JSON as distribution writes it."""
    error = {"code": code, "message": message}
    if detail is not None:
        error["detail"] = detail
    return json.dumps({"errors": [error]}).encode()


@dataclass
class Reply:
    """A response before fault header changes are applied."""
    status: int
    body: bytes = b""
    headers: list = field(default_factory=list)

    @classmethod
    def json(cls, status, obj, extra=()):
        body = obj if isinstance(obj, bytes) else json.dumps(obj).encode()
        return cls(status, body, [("Content-Type", "application/json"), *extra])


@dataclass
class Token:
    identity: str  # "anonymous" or a username
    scopes: set    # repository names granted pull
    expires: float  # time.monotonic() deadline


class Bucket:
    """Sliding-window pull counter; pulls are stored as (time, count) pairs."""

    def __init__(self, limit, window, identity):
        self.limit = limit
        self.window = window
        self.identity = identity  # "anonymous" or the username, for stats
        self.pulls = collections.deque()

    def remaining(self, now):
        while self.pulls and self.pulls[0][0] <= now - self.window:
            self.pulls.popleft()
        used = sum(count for _, count in self.pulls)
        return max(0, self.limit - used)

    def take(self, now):
        """Record one pull if quota is left; False means the GET must get a 429."""
        if self.remaining(now) <= 0:
            return False
        self.pulls.append((now, 1))
        return True

    def set(self, limit, remaining, window, age, now):
        """Synthesise limit-remaining pulls made `age` seconds ago, so later GETs keep counting."""
        self.limit, self.window = limit, window
        self.pulls.clear()
        used = limit - max(0, min(remaining, limit))
        if used:
            self.pulls.append((now - age, used))

    def headers(self, now):
        return [("ratelimit-limit", f"{self.limit};w={self.window}"),
                ("ratelimit-remaining", f"{self.remaining(now)};w={self.window}")]


class HubState:
    """Everything the handlers share; one lock, since the server is threaded."""

    def __init__(self, args):
        self.args = args
        self.users = dict(args.users)
        self.paid = dict(args.paid_users)
        self.lock = threading.Lock()
        self.reset()

    def reset(self):
        self.requests = collections.Counter()
        self.token_counts = collections.defaultdict(
            lambda: {"ok": 0, "denied": 0, "faulted": 0})
        self.buckets = {}
        self.tokens = {}
        self.faults = []
        self.recent = collections.deque(maxlen=RECENT_MAX)

    # --- identities and buckets -------------------------------------------------

    def check_password(self, user, password):
        known = self.users.get(user, self.paid.get(user))
        return known is not None and secrets.compare_digest(known, password)

    def bucket_for(self, source, identity):
        """Bucket for a source, created on first use with the identity's default limit."""
        bucket = self.buckets.get(source)
        if bucket is None:
            limit = self.args.anonymous_limit if identity == "anonymous" else self.args.user_limit
            bucket = self.buckets[source] = Bucket(limit, self.args.window, identity)
        return bucket

    def set_bucket(self, spec):
        """Control API: set a bucket's limit, remaining and window."""
        if "identity" in spec:
            identity = spec["identity"]
            if identity in self.paid:
                raise ValueError("paid users are unlimited and have no bucket")
            if identity not in self.users:
                raise ValueError(f"unknown user {identity!r}")
            source = user_source(identity)
        elif "source" in spec:
            source, identity = str(spec["source"]), "anonymous"
        else:
            raise ValueError("give 'source' or 'identity'")
        with self.lock:
            bucket = self.bucket_for(source, identity)
            limit = _int(spec, "limit", bucket.limit, 0)
            window = _int(spec, "window", bucket.window, 1)
            remaining = _int(spec, "remaining", limit, 0)
            age = float(spec.get("age", 0))
            now = time.monotonic()
            bucket.set(limit, remaining, window, age, now)
            return {"source": source, "identity": identity, "limit": bucket.limit,
                    "remaining": bucket.remaining(now), "window": bucket.window}

    # --- tokens -------------------------------------------------------------------

    def issue_token(self, identity, scopes):
        now = time.monotonic()
        with self.lock:
            for key in [k for k, t in self.tokens.items() if t.expires <= now]:
                del self.tokens[key]
            value = secrets.token_urlsafe(32)
            self.tokens[value] = Token(identity, scopes, now + self.args.token_ttl)
            self.token_counts[identity]["ok"] += 1
        return value

    def lookup_token(self, value):
        with self.lock:
            token = self.tokens.get(value)
        if token is None or token.expires <= time.monotonic():
            return None
        return token

    def count_token(self, identity, outcome):
        with self.lock:
            self.token_counts[identity][outcome] += 1

    # --- faults and bookkeeping --------------------------------------------------

    def take_fault(self, kind, method, family):
        """First matching fault with uses left; returns (index, fault) or (None, None)."""
        with self.lock:
            for index, fault in enumerate(self.faults):
                if fault["remaining"] is not None and fault["remaining"] <= 0:
                    continue
                if fault.get("target", "any") not in ("any", kind):
                    continue
                if fault.get("method", "any").upper() not in ("ANY", method):
                    continue
                if fault.get("family", "any") not in ("any", family):
                    continue
                if fault["remaining"] is not None:
                    fault["remaining"] -= 1
                fault["applied"] += 1
                return index, fault
        return None, None

    def set_faults(self, faults):
        checked = [_check_fault(f) for f in faults]
        with self.lock:
            self.faults = checked

    def record(self, entry):
        with self.lock:
            self.recent.append(entry)

    def stats(self):
        now = time.monotonic()
        with self.lock:
            return {
                "requests": dict(self.requests),
                "tokens": {k: dict(v) for k, v in self.token_counts.items()},
                "buckets": {src: {"limit": b.limit, "remaining": b.remaining(now),
                                  "window": b.window, "identity": b.identity}
                            for src, b in self.buckets.items()},
                "users": {**{u: {"source": user_source(u), "paid": False} for u in self.users},
                          **{u: {"source": user_source(u), "paid": True} for u in self.paid}},
                "recent": list(self.recent),
            }


def _int(spec, key, default, minimum):
    value = spec.get(key, default)
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        raise ValueError(f"{key!r} must be an integer >= {minimum}")
    return value


def _check_fault(fault):
    """Reject typos early: a silently ignored fault makes a test pass for the wrong reason."""
    if not isinstance(fault, dict):
        raise ValueError("each fault must be an object")
    unknown = set(fault) - FAULT_KEYS
    if unknown:
        raise ValueError(f"unknown fault keys: {sorted(unknown)}")
    if fault.get("target", "any") not in FAULT_TARGETS:
        raise ValueError(f"target must be one of {sorted(FAULT_TARGETS)}")
    if str(fault.get("method", "any")).upper() not in ("ANY", "GET", "HEAD"):
        raise ValueError("method must be HEAD, GET or any")
    if fault.get("family", "any") not in ("any", "ipv4", "ipv6"):
        raise ValueError("family must be ipv4, ipv6 or any")
    if fault.get("reset", False) not in (False, True, "immediate", "partial"):
        raise ValueError("reset must be true, 'immediate' or 'partial'")
    if not isinstance(fault.get("headers", {}), dict):
        raise ValueError("headers must be an object of name: value")
    times = fault.get("times")
    if times is not None and (not isinstance(times, int) or times < 0):
        raise ValueError("times must be a non-negative integer")
    return {**fault, "remaining": times, "applied": 0}


def apply_header_faults(reply, fault):
    """Change headers of a normal reply the way flaky or old Docker Hub responses did."""
    headers = reply.headers
    if fault.get("no_limit_headers"):
        headers = [(n, v) for n, v in headers if n.lower() not in LIMIT_HEADERS]
    if fault.get("capitalised"):
        headers = [(CAPITALISED.get(n.lower(), n), v) for n, v in headers]
    for name, value in fault.get("headers", {}).items():
        headers = [(n, v) for n, v in headers if n.lower() != name.lower()]
        if value != "":
            headers.append((name, str(value)))
    if fault.get("huge_header_bytes"):
        headers.append(("x-padding", "x" * int(fault["huge_header_bytes"])))
    reply.headers = headers


def classify(path):
    """Request kind used for counting and fault matching."""
    if path.startswith("/_control/"):
        return "control"
    if path == "/token":
        return "token"
    if path in ("/v2", "/v2/"):
        return "base"
    if MANIFEST_RE.match(path):
        return "manifest"
    if BLOB_RE.match(path):
        return "blob"
    return "other"


class HubHandler(BaseHTTPRequestHandler):
    """One connection; HTTP/1.1 keep-alive, every reply carries Content-Length."""

    protocol_version = "HTTP/1.1"
    server_version = "fakehub/1.0"
    disable_nagle_algorithm = True
    timeout = 120  # idle keep-alive connections are dropped after this

    def handle(self):
        """Clients hang up mid-request; that is normal here, not an error."""
        try:
            super().handle()
        except (ConnectionError, TimeoutError, OSError):
            self.close_connection = True

    def log_message(self, format, *args):  # noqa: A002 - signature fixed by the base class
        """Quiet unless --verbose; the request line never contains Authorization values."""
        if self.server.state.args.verbose:
            sys.stderr.write(f"fakehub {self.address_string()} {format % args}\n")

    def do_GET(self):
        self._dispatch()

    do_HEAD = do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = do_GET

    # --- request plumbing -------------------------------------------------------------

    @property
    def state(self):
        return self.server.state

    def _read_body(self):
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            self.close_connection = True
            return None
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _auth_type(self):
        scheme = self.headers.get("Authorization", "").split(" ", 1)[0].lower()
        return scheme if scheme in ("basic", "bearer") else ("other" if scheme else None)

    def _dispatch(self):
        url = urlsplit(self.path)
        kind = classify(url.path)
        body = self._read_body()
        ip = client_ip(self.client_address[0])
        family = "ipv4" if ip.version == 4 else "ipv6"
        with self.state.lock:
            self.state.requests[f"{self.command} {kind}"] += 1
        entry = {"time": time.time(), "method": self.command, "path": self.path, "kind": kind,
                 "client": self.client_address[0], "family": family, "identity": None,
                 "status": None, "auth": self._auth_type(), "fault": None}
        self._entry = entry
        if body is None:
            self._send(Reply.json(411, {"error": "chunked bodies are not supported"}))
            return
        if kind == "control":
            self._send(self._control(url.path, body), record=False)
            return
        index, fault = self.state.take_fault(kind, self.command, family)
        entry["fault"] = index
        if fault and fault.get("delay"):
            time.sleep(float(fault["delay"]))
        if fault and fault.get("reset"):
            self.state.record(entry)
            self._abort(partial=fault["reset"] == "partial")
            return
        reply = self._fault_reply(kind, url.path, fault) if fault else None
        if reply is None:
            reply = self._route(kind, url)
            if fault:
                apply_header_faults(reply, fault)
        self._send(reply)

    def _send(self, reply, record=True):
        """Record first: a client that has the reply must find it in /_control/stats."""
        if record:
            self._entry["status"] = reply.status
            self.state.record(self._entry)
        self.send_response(reply.status)
        for name, value in reply.headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(reply.body)))
        self.end_headers()
        if self.command != "HEAD" and reply.body:
            self.wfile.write(reply.body)

    def _abort(self, partial):
        """Reset the TCP connection (SO_LINGER 0 -> RST), optionally mid-way through headers."""
        self.close_connection = True
        sock = self.connection
        try:
            if partial:
                sock.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: " + MANIFEST_TYPE.encode()
                             + b"\r\nratelimit-li")
                time.sleep(0.05)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            os.close(sock.detach())  # bypass the rfile reference and the FIN from shutdown()
        except OSError:
            pass

    # --- faults -----------------------------------------------------------------------

    def _fault_reply(self, kind, path, fault):
        """Replies that replace normal processing: status and token_body faults."""
        if kind == "token" and "token_body" in fault:
            self.state.count_token(self._token_identity(), "faulted")
            return Reply(200, str(fault["token_body"]).encode(),
                         [("Content-Type", "application/json")])
        if "status" not in fault:
            return None
        status = int(fault["status"])
        if kind == "token":
            self.state.count_token(self._token_identity(), "faulted")
        body_mode = fault.get("body", "json")
        if body_mode == "empty":
            reply = Reply(status, b"", [])
        elif body_mode != "json":
            reply = Reply(status, str(body_mode).encode(), [("Content-Type", "text/plain")])
        elif kind == "token" and status == 401:
            reply = Reply.json(status, {"details": "incorrect username or password"})
        elif status == 429:
            reply = Reply.json(status, error_body("TOOMANYREQUESTS", TOO_MANY))
        else:
            code = ERROR_CODES.get(status, "UNAVAILABLE" if status >= 500 else "UNKNOWN")
            reply = Reply.json(status, error_body(code, f"fakehub fault: status {status}"))
        if status == 401 and kind in ("manifest", "blob", "base"):
            reply.headers.append(("WWW-Authenticate", self._challenge(self._repo_name(path))))
        apply_header_faults(reply, fault)
        return reply

    # --- registry ---------------------------------------------------------------------

    def _route(self, kind, url):
        if kind == "token":
            return self._token(url.query)
        if kind == "other":
            return Reply.json(404, error_body("NOT_FOUND", "not found"))
        if self.command not in ("GET", "HEAD"):
            return Reply.json(405, error_body("UNSUPPORTED", "method not allowed"))
        name = self._repo_name(url.path)
        token, error = self._authorise(name)
        if token is None:
            return self._unauthorised(name, error)
        self._entry["identity"] = token.identity
        if kind == "base":
            return Reply.json(200, {}, [("Docker-Distribution-API-Version", "registry/2.0")])
        if kind == "blob":
            return Reply(200, BLOB_BODY, [
                ("Content-Type", "application/octet-stream"),
                ("Docker-Content-Digest", "sha256:" + hashlib.sha256(BLOB_BODY).hexdigest())])
        return self._manifest(token)

    @staticmethod
    def _repo_name(path):
        match = MANIFEST_RE.match(path) or BLOB_RE.match(path)
        return match.group("name") if match else None

    def _authorise(self, name):
        """Returns (token, None), or (None, error) where error goes into the challenge.

        error is None (no usable credentials), "invalid_token" (unknown or expired)
        or "insufficient_scope" (token for another repository).
        """
        scheme, _, value = self.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            return None, None
        token = self.state.lookup_token(value.strip())
        if token is None:
            return None, "invalid_token"
        if name is not None and name not in token.scopes:
            return None, "insufficient_scope"
        if (name is not None and self.command == "HEAD" and token.identity == "anonymous"
                and self.state.args.require_auth_for_head):
            return None, None
        return token, None

    def _challenge(self, name, error=None):
        host = self.headers.get("Host") or "%s:%d" % self.server.server_address[:2]
        challenge = f'Bearer realm="http://{host}/token",service="{SERVICE}"'
        if name is not None:
            challenge += f',scope="repository:{name}:pull"'
        if error:
            challenge += f',error="{error}"'
        return challenge

    def _unauthorised(self, name, error):
        detail = None if name is None else [
            {"Type": "repository", "Class": "", "Name": name, "Action": "pull"}]
        message = "insufficient scope" if error == "insufficient_scope" else \
            "authentication required"
        return Reply.json(401, error_body("UNAUTHORIZED", message, detail),
                          [("WWW-Authenticate", self._challenge(name, error)),
                           ("Docker-Distribution-API-Version", "registry/2.0")])

    def _manifest(self, token):
        """Rate-limit headers on HEAD and GET; only a GET spends quota (as on Docker Hub)."""
        if token.identity == "anonymous":
            source = anonymous_source(self.client_address[0])
        else:
            source = user_source(token.identity)
        source_header = ("docker-ratelimit-source", source)
        digest = ("Docker-Content-Digest", "sha256:" + hashlib.sha256(MANIFEST_BODY).hexdigest())
        if token.identity in self.state.paid:
            return Reply(200, MANIFEST_BODY, [("Content-Type", MANIFEST_TYPE), digest,
                                              source_header])
        now = time.monotonic()
        with self.state.lock:
            bucket = self.state.bucket_for(source, token.identity)
            allowed = self.command == "HEAD" or bucket.take(now)
            limit_headers = bucket.headers(now)
        if not allowed:
            return Reply.json(429, error_body("TOOMANYREQUESTS", TOO_MANY),
                              [*limit_headers, source_header])
        return Reply(200, MANIFEST_BODY, [("Content-Type", MANIFEST_TYPE), digest,
                                          *limit_headers, source_header])

    # --- token service ------------------------------------------------------------------

    def _token_identity(self):
        """Who a token request claims to be, for counting (also for denied requests)."""
        scheme, _, value = self.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "basic":
            return "anonymous"
        try:
            return base64.b64decode(value.strip(), validate=True).decode().partition(":")[0]
        except (binascii.Error, UnicodeDecodeError):
            return "invalid"

    def _token(self, query):
        identity = self._token_identity()
        self._entry["identity"] = identity
        if identity != "anonymous":
            _, _, value = self.headers["Authorization"].partition(" ")
            try:
                user, _, password = base64.b64decode(value.strip()).decode().partition(":")
            except (binascii.Error, UnicodeDecodeError):
                user, password = "", ""
            if not self.state.check_password(user, password):
                self.state.count_token(identity, "denied")
                return Reply.json(401, {"details": "incorrect username or password"})
        scopes = set()
        for raw in parse_qs(query).get("scope", []):
            for scope in raw.split():
                kind, _, rest = scope.partition(":")
                name, _, actions = rest.rpartition(":")
                if kind == "repository" and name and ({"pull", "*"} & set(actions.split(","))):
                    scopes.add(name)
        value = self.state.issue_token(identity, scopes)
        return Reply.json(200, {"token": value, "access_token": value,
                                "expires_in": self.state.args.token_ttl,
                                "issued_at": rfc3339_nanos(time.time_ns())})

    # --- control API --------------------------------------------------------------------

    def _control(self, path, body):
        try:
            spec = json.loads(body) if body else {}
            return self._control_route(path, spec)
        except (ValueError, TypeError) as exc:
            return Reply.json(400, {"error": str(exc)})

    def _control_route(self, path, spec):
        method, state = self.command, self.state
        if path == "/_control/health" and method == "GET":
            return Reply.json(200, {"ok": True})
        if path == "/_control/stats" and method == "GET":
            return Reply.json(200, state.stats())
        if path == "/_control/reset" and method == "POST":
            with state.lock:
                state.reset()
            return Reply.json(200, {"ok": True})
        if path == "/_control/bucket" and method == "POST":
            return Reply.json(200, state.set_bucket(spec))
        if path == "/_control/faults" and method == "POST":
            faults = spec.get("faults") if isinstance(spec, dict) else None
            if not isinstance(faults, list):
                raise ValueError("body must be {\"faults\": [...]}")
            state.set_faults(faults)
        if path == "/_control/faults" and method in ("GET", "POST"):
            with state.lock:
                return Reply.json(200, {"faults": [dict(f) for f in state.faults]})
        return Reply.json(404, {"error": f"no control endpoint {method} {path}"})


class HubServer(ThreadingHTTPServer):
    """Threaded server for one address family; all listeners share one HubState."""

    daemon_threads = True
    request_queue_size = 128

    def __init__(self, address, state, family):
        self.address_family = family
        self.state = state
        super().__init__(address, HubHandler)

    def server_bind(self):
        """Skip HTTPServer's getfqdn() (slow without DNS); keep IPv6 sockets IPv6-only."""
        if self.address_family == socket.AF_INET6:
            self.socket.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = self.server_address[:2]

    def handle_error(self, request, client_address):
        if self.state.args.verbose and not isinstance(sys.exc_info()[1], ConnectionError):
            traceback.print_exc(file=sys.stderr)


def bind_servers(args, state):
    """Bind host:port and, with --ipv6, [::1] on the same port (retrying ephemeral pairs)."""
    family = socket.AF_INET6 if ":" in args.host else socket.AF_INET
    both = args.ipv6 and family == socket.AF_INET
    attempts = 10 if both and args.port == 0 else 1
    for attempt in range(attempts):
        primary = HubServer((args.host, args.port), state, family)
        if not both:
            return [primary]
        try:
            return [primary, HubServer(("::1", primary.server_address[1]), state,
                                       socket.AF_INET6)]
        except OSError:
            primary.server_close()
            if attempt == attempts - 1:
                raise
    raise AssertionError("unreachable")


def announce(port, port_file):
    """Tell the parent which port we got: one JSON line on stdout and an atomic port file."""
    line = json.dumps({"port": port})
    if port_file:  # first, so a reader of stdout can rely on the file existing
        tmp = f"{port_file}.tmp{os.getpid()}"
        with open(tmp, "w", encoding="utf-8") as handle:
            handle.write(line + "\n")
        os.replace(tmp, port_file)
    try:
        print(line, flush=True)
    except BrokenPipeError:
        pass


def credentials(text):
    name, sep, password = text.partition(":")
    if not sep or not name:
        raise argparse.ArgumentTypeError("expected NAME:PASSWORD")
    return name, password


def parse_args(argv):
    parser = argparse.ArgumentParser(description="Fake Docker Hub registry + token service")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 = ephemeral")
    parser.add_argument("--ipv6", action="store_true", help="also listen on [::1], same port")
    parser.add_argument("--port-file", help="write {\"port\": N} here once listening")
    parser.add_argument("--user", dest="users", action="append", type=credentials, default=[],
                        metavar="NAME:PASSWORD")
    parser.add_argument("--paid-user", dest="paid_users", action="append", type=credentials,
                        default=[], metavar="NAME:PASSWORD")
    parser.add_argument("--anonymous-limit", type=int, default=100)
    parser.add_argument("--user-limit", type=int, default=200)
    parser.add_argument("--window", type=int, default=21600, help="seconds")
    parser.add_argument("--token-ttl", type=int, default=300, help="seconds")
    parser.add_argument("--require-auth-for-head", action="store_true",
                        help="anonymous tokens get 401 on manifest HEAD")
    parser.add_argument("--verbose", action="store_true", help="log requests to stderr")
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    state = HubState(args)
    # Block the signals before threads start so that only sigwait() below sees them.
    stop_signals = {signal.SIGTERM, signal.SIGINT}
    signal.pthread_sigmask(signal.SIG_BLOCK, stop_signals)
    try:
        servers = bind_servers(args, state)
    except OSError as exc:
        sys.stderr.write(f"fakehub: cannot bind: {exc}\n")
        return 2
    for server in servers:
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1},
                         daemon=True).start()
    announce(servers[0].server_address[1], args.port_file)
    signal.sigwait(stop_signals)
    for server in servers:
        server.shutdown()
        server.server_close()
    return 0


if __name__ == "__main__":
    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)  # do not wait for daemon handler threads stuck in keep-alive reads
