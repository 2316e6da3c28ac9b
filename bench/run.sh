#!/usr/bin/env bash
# Measures devin-bridge's per-request cost against a C reference CGI (the floor) and a Python
# standard-library CGI (the usual alternative), side by side in one run, and throughput through
# Apache (mod_cgid) and nginx + fcgiwrap under wrk. Prints a table and writes bench/results.md.
#
#   bench/run.sh              # ~3-4 minutes on 2 cores
#   ITERATIONS=50 WRK_SECONDS=5 bench/run.sh     # quicker, noisier
#
# Needs: the Swift toolchain, gcc, libssl-dev, libcurl4-openssl-dev, python3, wrk, apache2,
# nginx, fcgiwrap (the README's set-up command plus `apt-get install wrk`). Loopback only.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
cd "$root"
ITERATIONS=${ITERATIONS:-200}
WRK_SECONDS=${WRK_SECONDS:-8}
work=$root/.build-bench
mkdir -p "$work"
chmod 755 "$work"

echo "bench: building the bridge as deploy/install.sh builds it, and the C reference"
if ! "$root/deploy/build-release.sh" "$work/swift" > "$work/build.log" 2>&1; then cat "$work/build.log"; exit 1; fi
bin=$work/swift/release
for name in devin-bridge; do
    cp "$bin/$name" "$work/$name"
    strip "$work/$name" 2>/dev/null || true
done
# Start-up floors: a C, a Swift and a Swift + FoundationEssentials program answering a fixed skip.
gcc -O2 -Wall "$here/startup/start.c" -o "$work/c-start"
for start in swift essentials; do
    if ! "$root/deploy/build-release.sh" "$work/build-$start" "$here/startup/$start" "$start-start" > "$work/build-$start.log" 2>&1; then
        cat "$work/build-$start.log"; exit 1
    fi
    strip -o "$work/$start-start" "$work/build-$start/release/$start-start"
done
# The floor for skip and reject loads only libcrypto; the create path's floor also loads libcurl.
gcc -O2 -Wall "$here/reference.c" -lcrypto -o "$work/reference-cgi"
gcc -O2 -Wall -DWITH_CURL "$here/reference.c" -lcrypto -lcurl -o "$work/reference-cgi-curl"
cp "$here/reference.py" "$work/reference.py"
chmod 755 "$work/reference.py"
# The system's Python: the web server's user may not reach one under root's home (pyenv).
python=/usr/bin/python3
[ -x "$python" ] || python=$(command -v python3)

standin_pid=
servers=()
cleanup() {
    for prefix in "${servers[@]}"; do python3 Tests/Support/webserver.py stop --prefix "$prefix" || true; done
    [ -n "$standin_pid" ] && kill "$standin_pid" 2>/dev/null || true
}
trap cleanup EXIT

python3 Tests/Support/devin_standin.py --api-key bench-api-key-0002 --org org-bench --lifetime 1800 > "$work/standin.out" &
standin_pid=$!
for _ in $(seq 100); do grep -q '^PORT ' "$work/standin.out" 2>/dev/null && break; sleep 0.05; done
api="http://127.0.0.1:$(sed -n 's/^PORT //p' "$work/standin.out")"

# As root the bench runs every program as the web server's user (www-data), and devin-bridge as
# deploy/install.sh installs it: setgid to its group devin-bridge (created as install.sh creates
# it when missing), the only group that can read the configuration and the state. The kernel then
# runs it in secure-execution mode, whose cost is part of every request. Otherwise: the current
# user, plain. (Through the web servers, Tests/Support/webserver.py sets up the same as root.)
state=$work/state
rm -rf "$state"
mkdir -p "$state"
run_as=
if [ "$(id -u)" = 0 ]; then
    run_as=www-data
    getent group devin-bridge >/dev/null || groupadd --system devin-bridge
    chown root:devin-bridge "$work/devin-bridge" "$state"
    chmod 2755 "$work/devin-bridge"
    chmod 2770 "$state"
fi
conf=$work/bridge.conf
cat > "$conf" <<CONF
DEVIN_API_KEY=bench-api-key-0002
DEVIN_ORG_ID=org-bench
WEBHOOK_SECRET=bench-webhook-secret-0001
DEVIN_API_BASE=$api
STATE_DIR=$state
MAX_SESSIONS_PER_HOUR=0
CONF
chmod 640 "$conf"
[ "$(id -u)" = 0 ] && chown root:devin-bridge "$conf"

echo "bench: per-request cost, $ITERATIONS requests per program and path, interleaved"
config=$(python3 - "$work" "$python" "$api" "$conf" "$ITERATIONS" "$run_as" <<'PY'
import json, sys
work, python, api, conf, iterations, run_as = sys.argv[1:7]
env = {"PATH": "/usr/bin:/bin", "DEVIN_BRIDGE_CONFIG": conf, "WEBHOOK_SECRET": "bench-webhook-secret-0001",
       "DEVIN_API_KEY": "bench-api-key-0002", "DEVIN_ORG_ID": "org-bench", "DEVIN_API_BASE": api}
print(json.dumps({"candidates": {"bridge": [f"{work}/devin-bridge"], "c": [f"{work}/reference-cgi"],
                                 "c-curl": [f"{work}/reference-cgi-curl"], "python": [python, f"{work}/reference.py"]},
                  "env": env, "iterations": int(iterations), "paths": ["skip", "reject", "skip-1MiB", "reject-1MiB", "create"],
                  "user": run_as or None}))
PY
)
python3 "$here/measure.py" "$config" > "$work/process.json"

echo "bench: start-up floors, $ITERATIONS runs each on the skip path"
cp "$work/swift/release/devin-bridge" "$work/devin-bridge-plain"
strip "$work/devin-bridge-plain"
mkdir -p "$work/state-plain"
[ -n "$run_as" ] && chown "$run_as" "$work/state-plain"
startup=$(python3 - "$config" "$work" <<'PY'
import json, sys
config = json.loads(sys.argv[1])
work = sys.argv[2]
config["candidates"] = {"c-start": [f"{work}/c-start"], "swift-start": [f"{work}/swift-start"],
                        "essentials-start": [f"{work}/essentials-start"], "c": config["candidates"]["c"],
                        "bridge": config["candidates"]["bridge"]}
if config.get("user"):
    # The same program without setgid, its settings from the environment: what secure-execution
    # mode costs.
    config["candidates"]["bridge-plain"] = {"argv": [f"{work}/devin-bridge-plain"],
                                            "env": {"DEVIN_BRIDGE_CONFIG": "/dev/null", "STATE_DIR": f"{work}/state-plain"}}
config["paths"] = ["skip"]
print(json.dumps(config))
PY
)
python3 "$here/measure.py" "$startup" > "$work/startup.json"

# The upstream's own time for the create path: a new connection and one POST, as each CGI does.
python3 - "$api" > "$work/upstream.json" <<'PY'
import http.client, json, statistics, sys, time, urllib.parse
url = urllib.parse.urlsplit(sys.argv[1])
times = []
for i in range(200):
    start = time.perf_counter()
    connection = http.client.HTTPConnection(url.hostname, url.port)
    connection.request("POST", "/v3/organizations/org-bench/sessions", body=json.dumps({"prompt": "p", "title": "t", "tags": [f"up-{i}"]}),
                       headers={"Authorization": "Bearer bench-api-key-0002", "Content-Type": "application/json"})
    connection.getresponse().read()
    connection.close()
    times.append(time.perf_counter() - start)
print(json.dumps({"upstream_ms": statistics.median(times) * 1000}))
PY

echo "bench: throughput through the web servers (wrk, ${WRK_SECONDS}s each, skip path)"
body=$(python3 -c 'import json; print(json.dumps({"id":"BENCH-1","title":"t","description":"d","labels":["bug"]}))')
signature=$(printf '%s' "$body" | WEBHOOK_SECRET=bench-webhook-secret-0001 DEVIN_BRIDGE_CONFIG=/dev/null "$work/devin-bridge" sign | cut -d' ' -f2)
cat > "$work/post.lua" <<LUA
wrk.method = "POST"
wrk.body = '$body'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["X-Hub-Signature-256"] = "$signature"
LUA
echo '{}' > "$work/wrk.json"
for server in apache nginx; do
    for program in bridge c; do
        binary=$work/devin-bridge
        [ $program = c ] && binary=$work/reference-cgi
        prefix=$work/server-$server-$program
        rm -rf "$prefix"
        info=$(python3 Tests/Support/webserver.py start --server $server --prefix "$prefix" --cgi "$binary" --config "$conf" --state-dir "$state" --children 2)
        servers+=("$prefix")
        url=$(printf '%s' "$info" | python3 -c 'import json,sys; print(json.load(sys.stdin)["url"])')
        curl -sS -o /dev/null -H "X-Hub-Signature-256: $signature" -H 'Content-Type: application/json' --data "$body" "$url/hooks/tickets"
        wrk -t2 -c4 -d"${WRK_SECONDS}s" --latency -s "$work/post.lua" "$url/hooks/tickets" > "$work/wrk-$server-$program.txt"
        python3 Tests/Support/webserver.py stop --prefix "$prefix"
        python3 - "$work/wrk.json" "$server|$program" "$work/wrk-$server-$program.txt" <<'PY'
import json, re, sys
path, key, report = sys.argv[1:4]
text = open(report).read()
data = json.load(open(path))
def ms(value):
    number, unit = re.match(r"([\d.]+)(\w+)", value).groups()
    return float(number) * {"us": 0.001, "ms": 1, "s": 1000}[unit]
entry = {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))}
for percentile in ("50", "90", "99"):
    entry[f"p{percentile}_ms"] = ms(re.search(rf"\s{percentile}%\s+([\d.]+\w+)", text).group(1))
non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
entry["errors"] = int(non2xx.group(1)) if non2xx else 0
data[key] = entry
json.dump(data, open(path, "w"))
PY
    done
done

python3 "$here/report.py" "$work/process.json" "$work/upstream.json" "$work/wrk.json" "$work/devin-bridge" "$work/startup.json" > "$here/results.md"
cat "$here/results.md"
