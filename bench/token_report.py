#!/usr/bin/env python3
"""Token requests of a pullguard daemon against the fake hub, for bench/run.sh.

usage: token_report.py DAEMON_URL HUB_URL TTL SECONDS
Prints table rows: per identity, the tokens the daemon says it fetched
(pullguard_token_requests_total{outcome="ok"}) and the tokens the hub issued per account
(anonymous identities share the hub's "anonymous" account), against the allowance of one per
identity per token lifetime: ceil(SECONDS / TTL) + 1 over a run of SECONDS. Then one line
"VERDICT ...".
"""

import json
import math
import re
import sys
import urllib.request

SAMPLE = re.compile(r"^pullguard_token_requests_total\{([^}]*)\} (\S+)$", re.M)
LABEL = re.compile(r'([a-zA-Z_]\w*)="((?:[^"\\]|\\.)*)"')


def fetch(url):
    with urllib.request.urlopen(url, timeout=5) as response:
        return response.read().decode()


def main():
    daemon, hub, ttl, seconds = sys.argv[1:5]
    ttl, seconds = int(ttl), float(seconds)
    made = {}
    for labels, value in SAMPLE.findall(fetch(daemon + "/metrics")):
        fields = dict(LABEL.findall(labels))
        if fields.get("outcome") == "ok":
            made[fields["identity"]] = float(value)
    issued = {k: v.get("ok", 0) for k, v in json.loads(fetch(hub + "/_control/stats"))
              .get("tokens", {}).items()}
    allowed = math.ceil(seconds / ttl) + 1
    anonymous = [name for name in made if name.startswith("anonymous")]
    accounts = {k: v for k, v in issued.items() if k != "anonymous"}
    most = max(made.values(), default=0)
    most_account = max(accounts.values(), default=0)
    print(f"| token requests over {seconds:.0f} s, token TTL {ttl} s (allowed per identity: "
          f"ceil({seconds:.0f}/{ttl})+1 = {allowed}): most by one identity, daemon-counted / "
          f"hub-issued to one account | {most:.0f} / {most_account} | ≤ {allowed} | |")
    print(f"| … all {len(made)} identities, daemon-counted / hub-issued (anonymous + accounts) | "
          f"{sum(made.values()):.0f} / {issued.get('anonymous', 0)} + "
          f"{sum(accounts.values())} | ≤ {allowed * len(made)} | |")
    ok = (most <= allowed and most_account <= allowed
          and issued.get("anonymous", 0) <= allowed * len(anonymous))
    print(f"VERDICT token requests <= 1 per identity per lifetime (TTL {ttl} s, {seconds:.0f} s):"
          f" most {most:.0f} per identity, allowed {allowed}: {'met' if ok else 'NOT MET'}")


if __name__ == "__main__":
    main()
