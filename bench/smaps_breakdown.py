#!/usr/bin/env python3
"""Where a process's resident memory goes, from /proc/PID/smaps: shared libraries (clean pages
vs private dirty ones), the main heap, malloc's per-thread arenas, thread stacks, the rest.

usage: smaps_breakdown.py PID [--top N]
Prints a table in KiB. Thread stacks are the 8 MiB-ish anonymous mappings that follow a
guard page; arenas are 64 MiB-aligned anonymous mappings followed by their reserved tail.
"""

import argparse
import collections
import re

HEADER = re.compile(r"^([0-9a-f]+)-([0-9a-f]+) (\S+) \S+ \S+ \S+\s*(.*)$")
ARENA = 64 * 1024 * 1024


def read_mappings(pid):
    mappings = []
    with open(f"/proc/{pid}/smaps") as smaps:
        for line in smaps:
            match = HEADER.match(line)
            if match:
                mappings.append({"start": int(match.group(1), 16), "end": int(match.group(2), 16),
                                 "perms": match.group(3), "path": match.group(4).strip()})
                continue
            key, _, value = line.partition(":")
            if value.strip().endswith("kB"):
                mappings[-1][key] = int(value.split()[0])
    return mappings


def classify(mappings):
    """Yields (category, mapping) for every mapping."""
    for index, mapping in enumerate(mappings):
        path = mapping["path"]
        before = mappings[index - 1] if index > 0 else None
        after = mappings[index + 1] if index + 1 < len(mappings) else None
        if path.startswith("/"):
            yield path.rsplit("/", 1)[-1], mapping
        elif path:
            yield path, mapping  # [heap], [stack], [vdso], ...
        elif (mapping["start"] % ARENA == 0 and after and after["perms"] == "---p"
              and not after["path"] and after["end"] - mapping["start"] == ARENA):
            yield "malloc arenas (per-thread)", mapping
        elif (mapping["perms"] == "---p" and before and before["start"] % ARENA == 0
              and mapping["end"] - before["start"] == ARENA):
            yield "malloc arenas (per-thread)", mapping
        elif (before and before["perms"] == "---p" and not before["path"]
              and before["end"] == mapping["start"]
              and 1 << 20 <= mapping["end"] - mapping["start"] <= 16 << 20):
            yield "thread stacks", mapping
        else:
            yield "other anonymous", mapping


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("pid", type=int)
    parser.add_argument("--top", type=int, default=8, help="libraries listed one by one")
    args = parser.parse_args()
    totals = collections.defaultdict(collections.Counter)
    for category, mapping in classify(read_mappings(args.pid)):
        counter = totals[category]
        counter["rss"] += mapping.get("Rss", 0)
        counter["pss"] += mapping.get("Pss", 0)
        counter["private_dirty"] += mapping.get("Private_Dirty", 0)
        counter["clean"] += mapping.get("Shared_Clean", 0) + mapping.get("Private_Clean", 0)
        counter["mappings"] += 1
    is_library = lambda name: not name.startswith("[") and name not in (
        "malloc arenas (per-thread)", "thread stacks", "other anonymous")
    libraries = sorted((n for n in totals if is_library(n)), key=lambda n: -totals[n]["rss"])
    others = sorted((n for n in totals if not is_library(n)), key=lambda n: -totals[n]["rss"])
    rows = [(n, totals[n]) for n in others if totals[n]["rss"]]
    rows += [(n, totals[n]) for n in libraries[:args.top]]
    rest = collections.Counter()
    for name in libraries[args.top:]:
        rest.update(totals[name])
    if rest:
        rows.append((f"{len(libraries) - args.top} more libraries", rest))
    all_libraries = collections.Counter()
    for name in libraries:
        all_libraries.update(totals[name])
    grand = collections.Counter()
    for counter in totals.values():
        grand.update(counter)
    print("| mapping | RSS KiB | PSS KiB | private dirty KiB | clean (file) KiB |")
    print("|---|---:|---:|---:|---:|")
    for name, c in rows:
        print(f"| {name} | {c['rss']} | {c['pss']} | {c['private_dirty']} | {c['clean']} |")
    c = all_libraries
    print(f"| all {len(libraries)} files (binary + libraries) | {c['rss']} | {c['pss']} | "
          f"{c['private_dirty']} | {c['clean']} |")
    c = grand
    print(f"| **total** | {c['rss']} | {c['pss']} | {c['private_dirty']} | {c['clean']} |")


if __name__ == "__main__":
    main()
