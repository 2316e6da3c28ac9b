#!/usr/bin/env python3
"""A local stand-in for the Devin API v3, for tests and the README's try-it command.

It behaves as ../shared/reference/devin-api-v3.md describes the real API: bearer-token auth,
`POST /v3/organizations/{org}/sessions` with the request body validated field by field (422 with
a `detail` list otherwise), `GET .../sessions?tags=...` to list sessions by tag, and faults on
demand. It listens on 127.0.0.1 only, prints `PORT <n>` on its first stdout line, and appends
every request it receives (and every session it creates) to the JSON-lines file given by --record.

Faults (--fault): 500, 503, 429, 401, 403, 404, 422, timeout (answer after --delay seconds),
drop (close the connection without answering), created-then-drop and created-then-timeout
(create the session, then drop or stall: the answer is lost but the session exists),
created-then-oversized (create the session, then answer with 24 MiB).
--fail-times N applies the fault to the first N create calls only, then behaves normally.
--list-fault 500|429 fails list calls (GET .../sessions) the same way, for the first --list-fail-times
N of them (0: all); 429 carries Retry-After: --retry-after when that is given.

Reading sessions: `GET .../sessions` filters by `tags` (each listed tag must be on the session) and by
`session_ids` (repeatable; the `devin-` + id form is accepted too), pages with `first` (1..200, default 100)
and `after` (the `end_cursor` of the previous page); `GET .../sessions/{id}` returns one session (404 if
unknown; `{id}` may also be `devin-` + id). Sessions start as status "new", status_detail null, no pull
requests.

Test control (no auth; recorded as "kind": "control", never "request"):
- `POST /_control/sessions/{session_id}` with JSON holding any of `status` (string), `status_detail`
  (string or null) and `pull_requests` ([{"pr_url", "pr_state"}]) updates that session (404 if unknown)
  and answers with the updated session.
- `GET /_control/sessions` answers with every session, as a JSON array.
"""
import argparse
import json
import os
import re
import secrets
import signal
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

SESSION_PATH = re.compile(r"^/v3/organizations/([^/]+)/sessions$")
ONE_SESSION_PATH = re.compile(r"^/v3/organizations/([^/]+)/sessions/([^/]+)$")
CONTROL_SESSION_PATH = re.compile(r"^/_control/sessions/([^/]+)$")
MESSAGES_PATH = re.compile(r"^/v3/organizations/([^/]+)/sessions/([^/]+)/messages$")
FIELDS = {
    "prompt": str, "title": str, "tags": list, "playbook_id": str, "session_secrets": list,
    "knowledge_ids": list, "secret_ids": list, "max_acu_limit": int, "repos": list,
    "attachment_urls": list, "structured_output_schema": dict, "structured_output_required": bool,
    "devin_mode": str, "create_as_user_id": str,
}


class State:
    def __init__(self, args):
        self.args = args
        self.lock = threading.Lock()
        self.sessions = []
        self.create_calls = 0
        self.list_calls = 0
        self.message_calls = 0
        # session_id -> [{"message", "source", "created_at", "event_id"}]
        self.messages = {}

    def find(self, session_id):
        """The session named `session_id` or `devin-` + its id; call with the lock held."""
        for session in self.sessions:
            if session_id in (session["session_id"], "devin-" + session["session_id"]):
                return session
        return None

    def record(self, entry):
        if not self.args.record:
            return
        with self.lock, open(self.args.record, "a", encoding="utf-8") as out:
            out.write(json.dumps(entry) + "\n")
            out.flush()
            os.fsync(out.fileno())


def validate(body):
    """The SessionCreateRequest checks; returns a list of pydantic-style error items."""
    errors = []
    if not isinstance(body, dict):
        return [{"loc": ["body"], "msg": "Input should be a valid dictionary", "type": "dict_type"}]
    if "prompt" not in body:
        errors.append({"loc": ["body", "prompt"], "msg": "Field required", "type": "missing"})
    for name, value in body.items():
        kind = FIELDS.get(name)
        if kind is None:
            errors.append({"loc": ["body", name], "msg": "Extra inputs are not permitted", "type": "extra_forbidden"})
        elif value is not None and (not isinstance(value, kind) or (kind is int and isinstance(value, bool))):
            errors.append({"loc": ["body", name], "msg": f"Input should be a valid {kind.__name__}", "type": "type_error", "input": value})
    if isinstance(body.get("prompt"), str) and not body["prompt"].strip():
        errors.append({"loc": ["body", "prompt"], "msg": "String should have at least 1 character", "type": "string_too_short"})
    if isinstance(body.get("max_acu_limit"), int) and not isinstance(body["max_acu_limit"], bool) and body["max_acu_limit"] <= 0:
        errors.append({"loc": ["body", "max_acu_limit"], "msg": "Input should be greater than 0", "type": "greater_than"})
    for i, repo in enumerate(body.get("repos") or []):
        if not isinstance(repo, str) or not repo:
            errors.append({"loc": ["body", "repos", i], "msg": "Input should be a valid string", "type": "string_type"})
    for i, tag in enumerate(body.get("tags") or []):
        if not isinstance(tag, str):
            errors.append({"loc": ["body", "tags", i], "msg": "Input should be a valid string", "type": "string_type"})
    for i, secret in enumerate(body.get("session_secrets") or []):
        if not isinstance(secret, dict):
            errors.append({"loc": ["body", "session_secrets", i], "msg": "Input should be an object", "type": "dict_type"})
            continue
        key, value = secret.get("key"), secret.get("value")
        if not isinstance(key, str) or not 1 <= len(key) <= 256:
            errors.append({"loc": ["body", "session_secrets", i, "key"], "msg": "key must be a string of 1..256", "type": "value_error"})
        if not isinstance(value, str) or len(value) > 65536:
            errors.append({"loc": ["body", "session_secrets", i, "value"], "msg": "value must be a string of at most 65536", "type": "value_error"})
        if "sensitive" in secret and not isinstance(secret["sensitive"], bool):
            errors.append({"loc": ["body", "session_secrets", i, "sensitive"], "msg": "Input should be a valid boolean", "type": "bool_type"})
        extra = set(secret) - {"key", "value", "sensitive"}
        if extra:
            errors.append({"loc": ["body", "session_secrets", i], "msg": f"Extra inputs are not permitted: {sorted(extra)}", "type": "extra_forbidden"})
    if body.get("playbook_id") is not None and not str(body["playbook_id"]).strip():
        errors.append({"loc": ["body", "playbook_id"], "msg": "playbook_id must not be empty", "type": "value_error"})
    return errors


def make_handler(state):
    args = state.args

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "devin-standin"

        def log_message(self, fmt, *values):  # keep the test output quiet
            if args.verbose:
                sys.stderr.write("standin: " + fmt % values + "\n")

        def send_json(self, status, value, headers=None):
            data = json.dumps(value).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for name, val in (headers or {}).items():
                self.send_header(name, val)
            self.end_headers()
            self.wfile.write(data)

        def send_empty(self, status, headers=None):
            self.send_response(status)
            self.send_header("Content-Length", "0")
            for name, val in (headers or {}).items():
                self.send_header(name, val)
            self.end_headers()

        def read_body(self):
            length = int(self.headers.get("Content-Length") or 0)
            return self.rfile.read(length) if length else b""

        def authorized(self):
            if self.headers.get("Authorization") != f"Bearer {args.api_key}":
                self.send_json(401, {"detail": "Invalid or expired token"})
                return False
            if args.forbid:
                self.send_json(403, {"detail": "Missing permission ManageOrgSessions"})
                return False
            return True

        def entry(self, raw, kind="request"):
            try:
                parsed = json.loads(raw) if raw else None
            except ValueError:
                parsed = None
            return {
                "kind": kind, "time": time.time(), "method": self.command, "path": self.path,
                "headers": {k.lower(): v for k, v in self.headers.items()},
                "raw": raw.decode("utf-8", "replace"), "json": parsed,
            }

        def do_GET(self):
            url = urlsplit(self.path)
            messages = MESSAGES_PATH.match(url.path)
            if messages is not None:
                state.record(self.entry(b""))
                if not self.authorized():
                    return
                if messages.group(1) != args.org:
                    return self.send_json(404, {"detail": "Organization not found"})
                with state.lock:
                    session = state.find(messages.group(2))
                    items = list(state.messages.get(session["session_id"], [])) if session else None
                if items is None:
                    return self.send_json(404, {"detail": "Session not found"})
                return self.send_json(200, {"items": items, "end_cursor": None, "has_next_page": False})
            if url.path == "/_control/sessions":
                state.record(self.entry(b"", "control"))
                with state.lock:
                    items = [dict(s) for s in state.sessions]
                return self.send_json(200, items)
            match = SESSION_PATH.match(url.path)
            one = ONE_SESSION_PATH.match(url.path)
            state.record(self.entry(b""))
            if not self.authorized():
                return
            if match is None and one is None:
                return self.send_json(404, {"detail": "Not Found"})
            if (match or one).group(1) != args.org:
                return self.send_json(404, {"detail": "Organization not found"})
            if one is not None:
                with state.lock:
                    session = state.find(one.group(2))
                    session = dict(session) if session else None
                if session is None:
                    return self.send_json(404, {"detail": "Session not found"})
                return self.send_json(200, session)
            return self.list_sessions(parse_qs(url.query, keep_blank_values=True))

        def list_sessions(self, query):
            first_values = query.get("first", ["100"])
            try:
                first = int(first_values[-1])
            except ValueError:
                first = None
            if first is None or not 1 <= first <= 200:
                return self.send_json(422, {"detail": [{"loc": ["query", "first"], "msg": "Input should be an integer from 1 to 200", "type": "value_error", "input": first_values[-1]}]})
            after = query.get("after", [""])[-1]
            if after and not after.isdigit():
                return self.send_json(422, {"detail": [{"loc": ["query", "after"], "msg": "Invalid cursor", "type": "value_error", "input": after}]})
            with state.lock:
                state.list_calls += 1
                faulty = args.list_fault != "none" and (args.list_fail_times == 0 or state.list_calls <= args.list_fail_times)
            if faulty and args.list_fault == "429":
                headers = {"Retry-After": args.retry_after} if args.retry_after else {}
                return self.send_json(429, {"detail": "Too many requests"}, headers)
            if faulty:
                return self.send_json(int(args.list_fault), {"detail": "Internal error"})
            tags = query.get("tags", [])
            ids = set(query.get("session_ids", []))
            with state.lock:
                items = [dict(s) for s in state.sessions
                         if all(t in s["tags"] for t in tags)
                         and (not ids or s["session_id"] in ids or "devin-" + s["session_id"] in ids)]
            start = int(after) if after else 0
            page = items[start:start + first]
            more = start + first < len(items)
            self.send_json(200, {"items": page, "end_cursor": str(start + len(page)) if more else None, "has_next_page": more})

        def post_message(self, match, raw):
            """`POST .../sessions/{devin_id}/messages` `{"message": str}`: kept in the session's
            conversation; a suspended session resumes. `--message-fault` fails the first
            `--message-fail-times` calls (503, 500, 422 for an ended session, drop, or
            stored-then-drop: kept, the answer lost)."""
            if not self.authorized():
                return
            if match.group(1) != args.org:
                return self.send_json(404, {"detail": "Organization not found"})
            if not match.group(2).startswith("devin-"):
                return self.send_json(404, {"detail": "Session not found (use devin- + the session id)"})
            try:
                body = json.loads(raw)
            except ValueError:
                return self.send_json(422, {"detail": [{"loc": ["body"], "msg": "JSON decode error", "type": "json_invalid"}]})
            if not isinstance(body, dict) or not isinstance(body.get("message"), str) or not body["message"]:
                return self.send_json(422, {"detail": [{"loc": ["body", "message"], "msg": "Field required", "type": "missing"}]})
            with state.lock:
                session = state.find(match.group(2))
                state.message_calls += 1
                faulty = args.message_fault != "none" and (args.message_fail_times == 0 or state.message_calls <= args.message_fail_times)
            if session is None:
                return self.send_json(404, {"detail": "Session not found"})
            fault = args.message_fault if faulty else "none"
            if fault in ("500", "503"):
                return self.send_json(int(fault), {"detail": "Internal error"})
            if fault == "422":
                return self.send_json(422, {"detail": [{"loc": ["body", "message"], "msg": "the session has ended", "type": "value_error"}]})
            if fault == "drop":
                return self.drop()
            item = {"message": body["message"], "source": "user", "created_at": int(time.time()),
                    "event_id": "evt_" + secrets.token_hex(8)}
            with state.lock:
                state.messages.setdefault(session["session_id"], []).append(item)
                if session.get("status") == "suspended":
                    session["status"] = "running"
                    session["status_detail"] = "working"
                session["updated_at"] = max(int(time.time()), session["updated_at"] + 1)
            state.record({"kind": "message", "time": time.time(), "session_id": session["session_id"], "message": body["message"]})
            if fault == "stored-then-drop":
                return self.drop()
            self.send_json(200, {})

        def control(self, session_id, raw):
            try:
                body = json.loads(raw)
            except ValueError:
                return self.send_json(400, {"detail": "the body is not JSON"})
            if not isinstance(body, dict) or set(body) - {"status", "status_detail", "pull_requests"}:
                return self.send_json(422, {"detail": "expected an object with status, status_detail, pull_requests"})
            if "status" in body and not isinstance(body["status"], str):
                return self.send_json(422, {"detail": "status must be a string"})
            if "status_detail" in body and body["status_detail"] is not None and not isinstance(body["status_detail"], str):
                return self.send_json(422, {"detail": "status_detail must be a string or null"})
            prs = body.get("pull_requests", [])
            if not isinstance(prs, list) or not all(isinstance(p, dict) for p in prs):
                return self.send_json(422, {"detail": "pull_requests must be a list of objects"})
            with state.lock:
                session = state.find(session_id)
                if session is not None:
                    session.update(body)
                    session["updated_at"] = max(int(time.time()), session["updated_at"] + 1)
                    session = dict(session)
            if session is None:
                return self.send_json(404, {"detail": "Session not found"})
            self.send_json(200, session)

        def do_POST(self):
            raw = self.read_body()
            url = urlsplit(self.path)
            if url.path == "/elsewhere":
                state.record(self.entry(raw))
                return self.send_json(200, {"detail": "followed a redirect"})
            control = CONTROL_SESSION_PATH.match(url.path)
            if control is not None:
                state.record(self.entry(raw, "control"))
                return self.control(control.group(1), raw)
            messages = MESSAGES_PATH.match(url.path)
            if messages is not None:
                state.record(self.entry(raw))
                return self.post_message(messages, raw)
            match = SESSION_PATH.match(url.path)
            state.record(self.entry(raw))
            if not self.authorized():
                return
            if match is None:
                return self.send_json(404, {"detail": "Not Found"})
            if match.group(1) != args.org:
                return self.send_json(404, {"detail": "Organization not found"})
            if (self.headers.get("Content-Type") or "").split(";")[0].strip() != "application/json":
                return self.send_json(422, {"detail": [{"loc": ["header", "content-type"], "msg": "Content-Type must be application/json", "type": "value_error"}]})
            try:
                body = json.loads(raw)
            except ValueError:
                return self.send_json(422, {"detail": [{"loc": ["body"], "msg": "JSON decode error", "type": "json_invalid"}]})
            errors = validate(body)
            if errors:
                return self.send_json(422, {"detail": errors})

            with state.lock:
                state.create_calls += 1
                faulty = args.fault != "none" and (args.fail_times == 0 or state.create_calls <= args.fail_times)
            fault = args.fault if faulty else "none"
            if fault in ("500", "503"):
                return self.send_json(int(fault), {"detail": "Internal error"})
            if fault == "429":
                headers = {"Retry-After": args.retry_after} if args.retry_after else {}
                return self.send_json(429, {"detail": "Too many requests"}, headers)
            if fault in ("401", "403", "404"):
                return self.send_json(int(fault), {"detail": "refused by fault injection"})
            if fault == "422":
                return self.send_json(422, {"detail": [{"loc": ["body", "prompt"], "msg": "refused by fault injection", "type": "value_error", "input": body.get("prompt")}]})
            if fault == "redirect":
                return self.send_empty(307, {"Location": f"http://127.0.0.1:{self.server.server_address[1]}/elsewhere"})
            if fault == "timeout":
                time.sleep(args.delay)
            if fault == "drop":
                return self.drop()

            now = int(time.time())
            session_id = "ses_" + secrets.token_hex(16)
            session = {
                "session_id": session_id, "url": f"https://app.devin.ai/sessions/{session_id}",
                "status": "new", "status_detail": None, "tags": body.get("tags") or [], "org_id": args.org,
                "created_at": now, "updated_at": now, "acus_consumed": 0, "pull_requests": [],
                "title": body.get("title"), "playbook_id": body.get("playbook_id"),
                "repos": body.get("repos"), "max_acu_limit": body.get("max_acu_limit"),
            }
            with state.lock:
                state.sessions.append(session)
            state.record({"kind": "session", "time": time.time(), "session": session})
            if fault == "created-then-drop":
                return self.drop()
            if fault == "created-then-timeout":
                time.sleep(args.delay)
            if fault == "created-then-oversized":
                return self.send_oversized(session)
            self.send_json(200, session)

        def send_oversized(self, session):
            """The session, padded to 24 MiB (more than any client should hold), sent in pieces."""
            padding = 24 << 20
            head = json.dumps(session)[:-1].encode() + b', "padding": "'
            tail = b'"}'
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(head) + padding + len(tail)))
            self.end_headers()
            try:
                self.wfile.write(head)
                chunk = b"x" * (1 << 20)
                for _ in range(padding >> 20):
                    self.wfile.write(chunk)
                self.wfile.write(tail)
            except OSError:
                pass  # the client stopped reading: what it should do

        def drop(self):
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    return Handler


def main():
    # A parent running on a thread with signals blocked (Swift's Process does this) passes that
    # mask on: unblock, or SIGTERM from the test that started us would be ignored.
    signal.pthread_sigmask(signal.SIG_SETMASK, [])
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--api-key", required=True, help="the bearer token to accept")
    parser.add_argument("--org", required=True, help="the organization id to accept")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--record", help="append every request and session to this JSON-lines file")
    parser.add_argument("--fault", default="none")
    parser.add_argument("--fail-times", type=int, default=0, help="fault only the first N create calls (0: all)")
    parser.add_argument("--list-fault", default="none", choices=["none", "500", "429"], help="fail list calls")
    parser.add_argument("--list-fail-times", type=int, default=0, help="fault only the first N list calls (0: all)")
    parser.add_argument("--retry-after", default="", help="Retry-After value sent with 429")
    parser.add_argument("--message-fault", default="none", choices=["none", "500", "503", "422", "drop", "stored-then-drop"],
                        help="fail calls that send a message to a session")
    parser.add_argument("--message-fail-times", type=int, default=0, help="fault only the first N message calls (0: all)")
    parser.add_argument("--delay", type=float, default=30.0, help="seconds a timeout fault stalls")
    parser.add_argument("--forbid", action="store_true", help="answer 403 to everything")
    parser.add_argument("--lifetime", type=float, default=900.0, help="exit after this many seconds, whatever happens")
    parser.add_argument("--verbose", action="store_true")
    args = parser.parse_args()

    state = State(args)
    server = ThreadingHTTPServer(("127.0.0.1", args.port), make_handler(state))
    server.daemon_threads = True
    # A test that dies without stopping the stand-in must not leave it running for ever.
    watchdog = threading.Timer(args.lifetime, lambda: os._exit(0))
    watchdog.daemon = True
    watchdog.start()
    print(f"PORT {server.server_address[1]}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
