#!/usr/bin/env python3
"""The usual hand-rolled alternative, for bench/run.sh: a Python standard-library CGI script
doing the bridge's minimum job (HMAC check, JSON decode, label check, urllib POST)."""
import hashlib
import hmac
import json
import os
import sys
import urllib.request


def answer(status, document):
    sys.stdout.write(f"Status: {status}\r\nContent-Type: application/json\r\n\r\n{json.dumps(document)}\n")


def main():
    length = int(os.environ.get("CONTENT_LENGTH") or 0)
    body = sys.stdin.buffer.read(length)
    expected = "sha256=" + hmac.new(os.environ["WEBHOOK_SECRET"].encode(), body, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, os.environ.get("HTTP_X_HUB_SIGNATURE_256", "")):
        return answer("401 Unauthorized", {"error": "bad_signature", "message": "The signature does not verify."})
    try:
        ticket = json.loads(body)
    except ValueError:
        return answer("400 Bad Request", {"error": "invalid_json", "message": "not JSON"})
    if "devin-autofix" not in [label.lower() for label in ticket.get("labels", [])]:
        return answer("200 OK", {"status": "skipped", "reason": "no trigger label"})
    request = urllib.request.Request(
        f"{os.environ['DEVIN_API_BASE']}/v3/organizations/{os.environ['DEVIN_ORG_ID']}/sessions",
        data=json.dumps({"prompt": f"Ticket {ticket['id']}: {ticket['title']}", "title": str(ticket["title"]), "tags": [f"ticket:{ticket['id']}"]}).encode(),
        headers={"Authorization": f"Bearer {os.environ['DEVIN_API_KEY']}", "Content-Type": "application/json"},
        method="POST")
    try:
        with urllib.request.urlopen(request, timeout=8) as response:
            session = json.load(response)
    except Exception:
        return answer("502 Bad Gateway", {"error": "upstream"})
    answer("200 OK", {"status": "created", "session_id": session["session_id"]})


main()
