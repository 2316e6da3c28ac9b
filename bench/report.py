#!/usr/bin/env python3
"""Formats bench/run.sh's measurements as the Markdown table in bench/results.md."""
import datetime
import json
import os
import platform
import subprocess
import sys

process = json.load(open(sys.argv[1]))
upstream = json.load(open(sys.argv[2]))["upstream_ms"]
wrk = json.load(open(sys.argv[3]))
binary = sys.argv[4]
startup = json.load(open(sys.argv[5])) if len(sys.argv) > 5 else None


def get(name, path, field):
    return process[f"{name}|{path}"][field]


cpu = "unknown"
for line in open("/proc/cpuinfo"):
    if line.startswith("model name"):
        cpu = line.split(":", 1)[1].strip()
        break
print(f"# devin-bridge benchmark\n")
print(f"Measured {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC on {platform.node()}: "
      f"{os.cpu_count()} cores ({cpu}), {platform.system()} {platform.release()}. "
      f"devin-bridge as deploy/install.sh installs it: release (deploy/build-release.sh: Swift and C++ runtimes "
      f"static, no run path, packed relative relocations), stripped, {os.path.getsize(binary) / 1e6:.1f} MB, one file. "
      + ("Every program runs as www-data, as a web server runs it; devin-bridge setgid to a group of its own, as "
         "installed. " if os.stat(binary).st_mode & 0o2000 else "")
      + "Reproduce with `bench/run.sh`.\n")
print("## Per request: one CGI process, medians (ratio to the floor in the same run)\n")
print("The floor is a C CGI that does the path's least work: for skip and reject it loads only libcrypto "
      "(HMAC-SHA256, a substring label check, a fixed answer); for create it also loads libcurl and POSTs. "
      "The C program linked with libcurl on every path (the earlier reference) is shown for comparison. "
      "The 1 MiB bodies: a signed ticket of just under 1 MiB without a trigger label (skip), and 1 MiB with a "
      "bad signature (reject).\n")
print("| path | program | wall ms | p90 ms | CPU ms | peak RSS MiB | wall vs floor | RSS vs floor |")
print("|---|---|---|---|---|---|---|---|")
paths = ("skip", "reject", "skip-1MiB", "reject-1MiB", "create")
for path in paths:
    floor = "c-curl" if path == "create" else "c"
    c_wall = get(floor, path, "wall_ms")
    c_rss = get(floor, path, "rss_kb")
    for name, label in (("bridge", "devin-bridge"), ("c", "C, libcrypto only"), ("c-curl", "C, libcrypto + libcurl"),
                        ("python", "Python stdlib")):
        if path == "create" and name == "c":
            continue  # it does not create anything
        wall = get(name, path, "wall_ms")
        rss = get(name, path, "rss_kb")
        print(f"| {path} | {label} | {wall:.1f} | {get(name, path, 'wall_p90_ms'):.1f} | {get(name, path, 'cpu_ms'):.1f} | "
              f"{rss / 1024:.1f} | {wall / c_wall:.2f}x | {rss / c_rss:.2f}x |")
print()
print("## Targets\n")
print("| path | devin-bridge vs floor | target | |")
print("|---|---|---|---|")
for path, limit in (("skip", 1.5), ("reject", 1.5), ("skip-1MiB", 1.5), ("reject-1MiB", 1.5), ("create", 2.0)):
    floor = "c-curl" if path == "create" else "c"
    ratio = get("bridge", path, "wall_ms") / get(floor, path, "wall_ms")
    print(f"| {path} (wall) | {ratio:.2f}x | {limit}x | {'met' if ratio <= limit else '**not met**'} |")
for path in paths:
    floor = "c-curl" if path == "create" else "c"
    body = 1048576 if "1MiB" in path else 0
    allowed = 2 * get(floor, path, "rss_kb") * 1024 + body
    rss = get("bridge", path, "rss_kb") * 1024
    print(f"| {path} (peak RSS) | {rss / 1048576:.1f} MiB | 2 x floor + body = {allowed / 1048576:.1f} MiB | "
          f"{'met' if rss <= allowed else '**not met**'} |")
print()
bridge_create = get("bridge", "create", "wall_ms") - upstream
c_create = get("c-curl", "create", "wall_ms") - upstream
print(f"Create path without the upstream's own time ({upstream:.1f} ms for a new connection and one POST to the "
      f"local stand-in): devin-bridge {bridge_create:.1f} ms, C + libcurl {c_create:.1f} ms, "
      f"ratio {bridge_create / c_create:.2f}x.\n")
if startup:
    def start(name):
        entry = startup.get(f"{name}|skip")
        return entry["wall_ms"] if entry else None
    c_start, swift_start, essentials_start = start("c-start"), start("swift-start"), start("essentials-start")
    floor, bridge, plain = start("c"), start("bridge"), start("bridge-plain")
    print("## Where a skip's time goes: start-up floors, same run\n")
    print("Programs that start and answer a fixed skip without reading the body (bench/startup), next to "
          "the floor and devin-bridge on the skip path; all built as the bridge is (release, static runtimes, "
          "stripped), measured interleaved in a run of their own.\n")
    print("| program | wall ms | what the step adds | ms |")
    print("|---|---|---|---|")
    print(f"| C: start, fixed answer | {c_start:.2f} | | |")
    print(f"| C floor: + libcrypto, HMAC-SHA256, label check | {floor:.2f} | libcrypto and the first HMAC | {floor - c_start:.2f} |")
    print(f"| Swift, standard library only: start, fixed answer | {swift_start:.2f} | the Swift runtime | {swift_start - c_start:.2f} |")
    print(f"| Swift + FoundationEssentials: start, fixed answer | {essentials_start:.2f} | FoundationEssentials linked | "
          f"{essentials_start - swift_start:.2f} |")
    if plain is not None:
        print(f"| devin-bridge, skip, not setgid (settings from the environment) | {plain:.2f} | | |")
        print(f"| devin-bridge, skip, setgid as installed | {bridge:.2f} | secure-execution mode, reading bridge.conf | {bridge - plain:.2f} |")
    else:
        print(f"| devin-bridge, skip | {bridge:.2f} | | |")
    language = essentials_start + (floor - c_start)
    own = (plain if plain is not None else bridge) - language
    print(f"\nA Swift + FoundationEssentials program doing only the floor's work would take about "
          f"{essentials_start:.2f} + {floor - c_start:.2f} = {language:.2f} ms ({language / floor:.2f}x the floor); "
          f"devin-bridge's own work on a skip (configuration, environment, JSON, rules, answer, decision log line) "
          f"is {own:.2f} ms"
          + (f", and running setgid with its settings in bridge.conf {bridge - plain:.2f} ms" if plain is not None else "")
          + f" ({bridge / floor:.2f}x in all).\n")

print("## Through the web servers: wrk -t2 -c4, skip path (signed ticket, no trigger label)\n")
print("| server | program | requests/s | p50 ms | p90 ms | p99 ms | non-2xx |")
print("|---|---|---|---|---|---|---|")
for server in ("apache", "nginx"):
    for name, label in (("bridge", "devin-bridge"), ("c", "C reference")):
        entry = wrk.get(f"{server}|{name}")
        if entry:
            print(f"| {server} | {label} | {entry['rps']:.0f} | {entry['p50_ms']:.1f} | {entry['p90_ms']:.1f} | {entry['p99_ms']:.1f} | {entry['errors']} |")
