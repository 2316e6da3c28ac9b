#!/usr/bin/env python3
"""Per-request cost of CGI programs, measured side by side in one run (see bench/run.sh).

Each request is a fresh process, as a web server runs it: a CGI environment, the body on stdin.
Wall time is from fork to exit, CPU and peak RSS come from wait4's rusage. Candidates are
interleaved request by request, so drift on a shared machine hits them alike; medians are
reported, with ratios against the C reference measured in the same run.
"""
import hashlib
import hmac
import json
import os
import pwd
import statistics
import sys
import time

SECRET = "bench-webhook-secret-0001"


def ticket(index, labels):
    return json.dumps({"id": f"BENCH-{index}", "title": "Checkout total ignores the discount code",
                       "description": "Apply SAVE10 at checkout: the total does not change. " * 8,
                       "labels": labels}).encode()


def sign(body):
    return "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()


def run_once(argv, env, body, user=None):
    read_in, write_in = os.pipe()
    read_out, write_out = os.pipe()
    start = time.perf_counter()
    pid = os.fork()
    if pid == 0:
        os.dup2(read_in, 0)
        os.dup2(write_out, 1)
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 2)
        for fd in (read_in, write_in, read_out, write_out):
            os.close(fd)
        if user:  # as the web server runs a CGI program: its user, no supplementary groups
            os.setgroups([])
            os.setgid(user.pw_gid)
            os.setuid(user.pw_uid)
        os.execve(argv[0], argv, env)
    os.close(read_in)
    os.close(write_out)
    view = memoryview(body)
    try:
        while view:
            written = os.write(write_in, view[:65536])
            view = view[written:]
    except BrokenPipeError:
        pass  # a program that answers without reading (bench/startup's) may be gone already
    os.close(write_in)
    chunks = []
    while True:
        chunk = os.read(read_out, 65536)
        if not chunk:
            break
        chunks.append(chunk)
    os.close(read_out)
    _, status, usage = os.wait4(pid, 0)
    wall = time.perf_counter() - start
    output = b"".join(chunks)
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss, output


def main():
    config = json.loads(sys.argv[1])
    # name -> argv, or {"argv": [...], "env": {...}} with variables of its own on top of "env"
    candidates = {name: value if isinstance(value, dict) else {"argv": value, "env": {}}
                  for name, value in config["candidates"].items()}
    base_env = config["env"]
    user = pwd.getpwnam(config["user"]) if config.get("user") else None
    iterations = config["iterations"]
    paths = config["paths"]
    results = {}
    counter = [0]

    def request(path):
        counter[0] += 1
        index = counter[0]
        env = dict(base_env)
        env.update({"GATEWAY_INTERFACE": "CGI/1.1", "REQUEST_METHOD": "POST", "CONTENT_TYPE": "application/json",
                    "SERVER_PROTOCOL": "HTTP/1.1", "SCRIPT_NAME": "/hooks/tickets"})
        if path == "skip":
            body = ticket(index, ["bug", "ui"])
            env["HTTP_X_HUB_SIGNATURE_256"] = sign(body)
        elif path == "reject":
            body = ticket(index, ["devin-autofix"])
            env["HTTP_X_HUB_SIGNATURE_256"] = "sha256=" + "0" * 64
        elif path == "skip-1MiB":  # a signed ticket of just under 1 MiB (MAX_BODY_BYTES' default), no trigger label
            body = ticket(index, ["bug", "ui"])
            text = json.loads(body)
            text["description"] += "Steps, logs and a stack trace follow. " * ((1048576 - len(body) - 64) // 38)
            body = json.dumps(text).encode()
            env["HTTP_X_HUB_SIGNATURE_256"] = sign(body)
        elif path == "reject-1MiB":
            body = b"x" * 1048576
            env["HTTP_X_HUB_SIGNATURE_256"] = "sha256=" + "0" * 64
        else:  # create: a new ticket each time, so every request really creates a session
            body = ticket(f"{os.getpid()}-{index}", ["devin-autofix"])
            env["HTTP_X_HUB_SIGNATURE_256"] = sign(body)
        env["CONTENT_LENGTH"] = str(len(body))
        return env, body

    expected = {"skip": b"skipped", "skip-1MiB": b"skipped", "reject": b"401", "reject-1MiB": b"401", "create": b"created"}
    for path in paths:
        for name in candidates:
            results[(name, path)] = []
        for i in range(iterations + 3):
            order = list(candidates) if i % 2 == 0 else list(reversed(candidates))
            for name in order:
                env, body = request(path)
                wall, cpu, rss, output = run_once(candidates[name]["argv"], env | candidates[name]["env"], body, user)
                if expected[path] not in output:
                    sys.exit(f"bench: {name} on {path} answered unexpectedly: {output[:300]!r}")
                if i >= 3:  # the first runs warm the page cache
                    results[(name, path)].append((wall, cpu, rss))
    summary = {}
    for (name, path), samples in results.items():
        walls = sorted(s[0] for s in samples)
        summary[f"{name}|{path}"] = {
            "wall_ms": statistics.median(walls) * 1000,
            "wall_p90_ms": walls[int(len(walls) * 0.9) - 1] * 1000,
            "cpu_ms": statistics.median(s[1] for s in samples) * 1000,
            "rss_kb": statistics.median(s[2] for s in samples),
        }
    json.dump(summary, sys.stdout)


if __name__ == "__main__":
    main()
