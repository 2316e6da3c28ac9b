#!/usr/bin/env bash
# Runs the bridge's main job on this machine, with nothing installed system-wide: builds it,
# serves it as a CGI program from a real web server on 127.0.0.1 (a private prefix under
# .build/try-it), with local stand-ins for the Devin API and a Gitea server, posts the signed
# sample tickets with curl, and shows the answer, the web server's log line, the comments the
# ticket receives (Devin started, then a pull request) and what reached the API.
#
#   deploy/try-it.sh            # nginx + fcgiwrap
#   deploy/try-it.sh apache     # Apache with mod_cgid
#
# Everything it starts is stopped when it ends.
set -euo pipefail

server=${1:-nginx}
case "$server" in apache|nginx) ;; *) echo "usage: $0 [nginx|apache]" >&2; exit 2 ;; esac
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

echo "==> building"
swift build --product devin-bridge 2>&1 | tail -1
bin=$(swift build --show-bin-path)/devin-bridge

work=$root/.build/try-it/$server
rm -rf "$work"
mkdir -p "$work"
chmod 755 "$root/.build/try-it" "$work"

standin_pid=
tracker_pid=
cleanup() {
    python3 Tests/Support/webserver.py stop --prefix "$work/server" 2>/dev/null || true
    [ -n "$standin_pid" ] && kill "$standin_pid" 2>/dev/null || true
    [ -n "$tracker_pid" ] && kill "$tracker_pid" 2>/dev/null || true
}
trap cleanup EXIT

echo "==> starting a local stand-in for the Devin API"
python3 Tests/Support/devin_standin.py --api-key try-it-not-a-real-key --org org-tryit \
    --record "$work/api.jsonl" --lifetime 600 > "$work/standin.out" &
standin_pid=$!
for _ in $(seq 100); do grep -q '^PORT ' "$work/standin.out" 2>/dev/null && break; sleep 0.05; done
api_port=$(sed -n 's/^PORT //p' "$work/standin.out")
[ -n "$api_port" ] || { echo "the API stand-in did not start" >&2; exit 1; }

echo "==> starting a local stand-in for a Gitea server's comment API (the ticket hears back there)"
python3 Tests/Support/ticket_standin.py --mode gitea --token try-it-not-a-real-ticket-token \
    --record "$work/gitea.jsonl" --lifetime 600 > "$work/gitea.out" &
tracker_pid=$!
for _ in $(seq 100); do grep -q '^PORT ' "$work/gitea.out" 2>/dev/null && break; sleep 0.05; done
gitea_port=$(sed -n 's/^PORT //p' "$work/gitea.out")
[ -n "$gitea_port" ] || { echo "the Gitea stand-in did not start" >&2; exit 1; }

# The state directory; webserver.py gives it (and the config below) the owners install.sh gives
# them: devin-bridge:devin-bridge 2770 (and bridge.conf root:devin-bridge 0640) when run as root.
mkdir -m 0750 "$work/state"

# The configuration a sysadmin writes to /etc/devin-bridge/bridge.conf, with placeholder values.
cat > "$work/bridge.conf" <<CONF
DEVIN_API_KEY=try-it-not-a-real-key
DEVIN_ORG_ID=org-tryit
WEBHOOK_SECRET=try-it-shared-webhook-secret
TICKET_API_TOKEN=try-it-not-a-real-ticket-token
TRIGGER_LABELS=devin-autofix=playbook-tryit0000,devin-feature
TICKET_URL_TEMPLATE=https://tickets.example.com/browse/{id}
DEVIN_API_BASE=http://127.0.0.1:$api_port
STATE_DIR=$work/state
TICKET_API_BASE_GITEA=http://127.0.0.1:$gitea_port/api/v1
CONF
chmod 0640 "$work/bridge.conf"

echo "==> starting $server on 127.0.0.1 with deploy/$server/devin-bridge.conf"
info=$(python3 Tests/Support/webserver.py start --server "$server" --prefix "$work/server" \
    --cgi "$bin" --config "$work/bridge.conf" --state-dir "$work/state")
url=$(printf '%s' "$info" | python3 -c 'import json,sys; print(json.load(sys.stdin)["url"])')
error_log=$(printf '%s' "$info" | python3 -c 'import json,sys; print(json.load(sys.stdin)["error_log"])')

echo "==> signing deploy/sample-ticket.json and posting it to $url/hooks/tickets"
signature=$(DEVIN_BRIDGE_CONFIG="$work/bridge.conf" "$bin" sign < deploy/sample-ticket.json)
echo "    $signature"
echo
answer=$(curl -sS -i -H "$signature" -H 'Content-Type: application/json' -H 'X-Request-Id: try-it-1' \
    --data-binary @deploy/sample-ticket.json "$url/hooks/tickets")
printf '%s\n' "$answer"
case "$answer" in
    *'"status":"created"'*) ;;
    *) echo "try-it: expected a created session" >&2; exit 1 ;;
esac
echo
echo "==> the bridge's line in the $server error log"
sleep 0.2
grep 'devin-bridge: ' "$error_log" | tail -1
echo
echo "==> the same ticket again (a redelivery): no second session"
curl -sS -H "$signature" -H 'Content-Type: application/json' --data-binary @deploy/sample-ticket.json "$url/hooks/tickets"
echo
echo
echo "==> a Gitea issue webhook (deploy/sample-gitea-issue.json): the ticket hears back"
gitea_signature=$(DEVIN_BRIDGE_CONFIG="$work/bridge.conf" "$bin" sign < deploy/sample-gitea-issue.json | sed 's/.*sha256=//')
curl -sS -H "X-Gitea-Event: issues" -H "X-Gitea-Signature: $gitea_signature" -H 'Content-Type: application/json' \
    --data-binary @deploy/sample-gitea-issue.json "$url/hooks/tickets/gitea"
echo
comments() {
    curl -sS "http://127.0.0.1:$gitea_port/_control/comments" | python3 -c '
import json, sys
for ticket, bodies in json.load(sys.stdin).items():
    for body in bodies:
        print(f"    [{ticket}] " + body.replace("\n\n", "\n").replace("\n", "\n        "))'
}
for _ in $(seq 100); do [ -n "$(comments)" ] && break; sleep 0.05; done
echo "==> the comment on the ticket, posted right after the answer"
comments
[ -n "$(comments)" ] || { echo "try-it: expected the acknowledgement on the ticket" >&2; exit 1; }
session=$(python3 -c 'import json,sys
for line in open(sys.argv[1]):
    record = json.loads(line)
    if record["kind"] == "session": last = record["session"]["session_id"]
print(last)' "$work/api.jsonl")
echo "==> Devin opens a pull request; the timer's devin-bridge retry follows the session"
curl -sS -o /dev/null -X POST -H 'Content-Type: application/json' \
    -d '{"status":"running","status_detail":"working","pull_requests":[{"pr_url":"https://git.example.com/tools/cli/pulls/8","pr_state":"open"}]}' \
    "http://127.0.0.1:$api_port/_control/sessions/$session"
DEVIN_BRIDGE_CONFIG="$work/bridge.conf" "$bin" retry | sed 's/^/    /'
echo "==> the comments on the ticket now"
comments
echo
echo "==> devin-bridge status"
DEVIN_BRIDGE_CONFIG="$work/bridge.conf" "$bin" status | sed 's/^/    /'
echo "==> what the Devin API stand-in received"
python3 - "$work/api.jsonl" <<'PY'
import json, sys
for line in open(sys.argv[1]):
    record = json.loads(line)
    if record["kind"] == "request" and record["method"] == "POST":
        body = record["json"] or {}
        print(f'    {record["method"]} {record["path"]}')
        print(f'    title: {body.get("title")}   tags: {body.get("tags")}   playbook_id: {body.get("playbook_id")}')
        print(f'    session_secrets: {[s["key"] for s in body.get("session_secrets") or []]}')
    elif record["kind"] == "request":
        print(f'    {record["method"]} {record["path"]} (the sync pass reading the sessions\' state)')
PY
