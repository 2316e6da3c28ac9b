#!/usr/bin/env python3
"""A local stand-in for one ticketing system's comment API, for tests.

One process plays one system (--mode), as ../shared/reference/ticket-apis.md describes its REST API:

  mode      base (default --prefix)  auth header                                  post a comment                                        list comments
  github    "" (GHES: --prefix /api/v3)  Authorization: Bearer T (or: token T),   POST /repos/{owner}/{repo}/issues/{n}/comments {"body"}  GET same ?per_page=&page= (array)
                                     Accept: application/vnd.github+json or application/json
  gitlab    /api/v4                  PRIVATE-TOKEN: T                             POST /projects/{id|url-encoded path}/issues/{iid}/notes {"body"}  GET same ?per_page=&page=&sort= (array)
  gitea     /api/v1                  Authorization: token T                       POST /repos/{owner}/{repo}/issues/{n}/comments {"body"}  GET same (array)
  jira      ""                       Authorization: Bearer T                      POST /rest/api/2/issue/{key}/comment {"body"}          GET same ?startAt=&maxResults= ({"comments": [...]})
  redmine   ""                       X-Redmine-API-Key: T                         PUT /issues/{id}.json {"issue": {"notes"}} -> 204      GET /issues/{id}.json?include=journals
  bugzilla  ""                       X-BUGZILLA-API-KEY: T                        POST /rest/bug/{id}/comment {"comment"[, "is_markdown"]}  GET same (comment 0: --description)

Also, per mode, who the token belongs to (login --user, default bridge-bot, bridge-bot@example.com for
bugzilla): GET /user (github, gitlab, gitea), /rest/api/2/myself (jira), /users/current.json (redmine),
/rest/whoami (bugzilla).

Errors, each with a JSON body shaped like that system's: 401 wrong or missing token; 415 a write whose
Content-Type is not application/json (GitHub: also an Accept it does not serve); 400 a body that is not JSON;
422 (gitlab, jira, bugzilla: 400) a body whose comment field is missing, not a string or blank; 404 an unknown
path, a method the path does not take, a non-numeric number/iid/id, a ticket named by --missing.

Tickets: every ticket exists, with no comments, unless named by --missing KEY (repeatable). A ticket's KEY is
the same in --missing, in "comment" records and in GET /_control/comments:
  github, gitea: owner/repo#N      gitlab: PROJECT#IID, PROJECT as the decoded id or path (42#7, platform/backend#7)
  jira: the issue key or id as in the path (PROJ-12)      redmine, bugzilla: the number (42)

Faults (--fault) apply to writes only (post a comment, Redmine's PUT) that passed the checks above, for the
first --fail-times N of them (0: all): 401, 403, 404 (the ticket was deleted), 429 (Retry-After: --retry-after
when given), 500, drop (close the connection without an answer), timeout-after-store (store the comment, then
answer only after --delay seconds: the client times out but the comment exists), drop-after-store (store the
comment, then close without an answer), timeout (wait --delay seconds, then store and answer).

Records (--record, JSON lines): every request {"kind": "request", "time", "method", "path" (without the query),
"query" ({name: [values]}), "headers" (all, names lower-cased), "raw" (the body as text), "json" (parsed or
null)}; every stored comment {"kind": "comment", "time", "ticket": KEY, "id", "body", "author"}; control requests
as "kind": "control".

Test control (no auth, never under --prefix):
  GET  /_control/comments  -> {KEY: [bodies, oldest first]} (Bugzilla's description is not included)
  POST /_control/comments  {"ticket": KEY, "body": str, "author": str (default: another-user)} adds a comment as
       someone else would have (not recorded as "comment" and never faulted) -> 201 the stored comment

It listens on 127.0.0.1 only, prints `PORT <n>` as its first stdout line, and exits after --lifetime seconds.
"""
import argparse
import json
import os
import re
import signal
import socket
import sys
import threading
import time
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlsplit

MODES = ("github", "gitlab", "gitea", "jira", "redmine", "bugzilla")
DEFAULT_PREFIX = {"gitlab": "/api/v4", "gitea": "/api/v1"}
FAULTS = ("none", "401", "403", "404", "429", "500", "timeout", "timeout-after-store", "drop", "drop-after-store")

NUMBER = re.compile(r"^[1-9][0-9]{0,17}$")
NAME = re.compile(r"^[A-Za-z0-9_.-]+$")
GITLAB_PATH = re.compile(r"^[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)+$")
JIRA_KEY = re.compile(r"^([A-Z][A-Z0-9_]*-[1-9][0-9]*|[1-9][0-9]*)$")

# The comment routes, on the raw (still percent-encoded) path below the prefix.
ROUTES = {
    "github": re.compile(r"^/repos/([^/]+)/([^/]+)/issues/([^/]+)/comments$"),
    "gitea": re.compile(r"^/repos/([^/]+)/([^/]+)/issues/([^/]+)/comments$"),
    "gitlab": re.compile(r"^/projects/([^/]+)/issues/([^/]+)/notes$"),
    "jira": re.compile(r"^/rest/api/2/issue/([^/]+)/comment$"),
    "redmine": re.compile(r"^/issues/([^/]+)\.json$"),
    "bugzilla": re.compile(r"^/rest/bug/([^/]+)/comment$"),
}
WRITE_METHOD = {"redmine": "PUT"}
IDENTITY_PATH = {"github": "/user", "gitlab": "/user", "gitea": "/user", "jira": "/rest/api/2/myself",
                 "redmine": "/users/current.json", "bugzilla": "/rest/whoami"}
BAD_FIELD_STATUS = {"github": 422, "gitea": 422, "redmine": 422, "gitlab": 400, "jira": 400, "bugzilla": 400}


def ticket_key(mode, match):
    """The ticket's KEY from a route match, or None when the path does not name a ticket."""
    if mode in ("github", "gitea"):
        owner, repo, number = match.groups()
        if NAME.match(owner) and NAME.match(repo) and NUMBER.match(number):
            return f"{owner}/{repo}#{number}"
        return None
    if mode == "gitlab":
        project, iid = unquote(match.group(1)), match.group(2)
        if (NUMBER.match(project) or GITLAB_PATH.match(project)) and NUMBER.match(iid):
            return f"{project}#{iid}"
        return None
    if mode == "jira":
        return match.group(1) if JIRA_KEY.match(match.group(1)) else None
    return match.group(1) if NUMBER.match(match.group(1)) else None


def iso(t):
    return datetime.fromtimestamp(t, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class State:
    def __init__(self, args):
        self.args = args
        self.lock = threading.Lock()
        self.record_lock = threading.Lock()
        self.comments = {}  # KEY -> [{"id", "body", "author", "time"}]
        self.next_id = 1001
        self.writes = 0

    def record(self, entry):
        if not self.args.record:
            return
        with self.record_lock, open(self.args.record, "a", encoding="utf-8") as out:
            out.write(json.dumps(entry) + "\n")
            out.flush()
            os.fsync(out.fileno())

    def store(self, key, body, author):
        with self.lock:
            comment = {"id": self.next_id, "body": body, "author": author, "time": time.time()}
            self.next_id += 1
            self.comments.setdefault(key, []).append(comment)
            return dict(comment)

    def list(self, key):
        with self.lock:
            return [dict(c) for c in self.comments.get(key, [])]


def make_handler(state):
    args = state.args
    mode = args.mode

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = f"ticket-standin-{mode}"

        def log_message(self, fmt, *values):  # keep the test output quiet
            if args.verbose:
                sys.stderr.write("ticket-standin: " + fmt % values + "\n")

        # --- answers -------------------------------------------------------------------------

        def send_json(self, status, value, headers=None):
            data = json.dumps(value).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            for name, val in (headers or {}).items():
                self.send_header(name, val)
            self.end_headers()
            self.wfile.write(data)

        def send_empty(self, status):
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def error(self, status, message, headers=None):
            """An error body shaped like the system's own."""
            if mode == "github":
                body = {"message": message, "documentation_url": "https://docs.github.com/rest", "status": str(status)}
            elif mode == "gitlab":
                body = {"message": f"{status} {message}"} if status in (401, 403, 404) else {"error": message}
            elif mode == "gitea":
                body = {"message": message, "url": "https://gitea.example/api/swagger"}
            elif mode == "jira":
                body = {"errorMessages": [message], "errors": {}}
            elif mode == "redmine":
                body = {"errors": [message]}
            else:
                body = {"error": True, "code": 32000 if status >= 500 else 100 + status, "message": message,
                        "documentation": "https://bugzilla.readthedocs.io/en/latest/api/"}
            self.send_json(status, body, headers)

        def drop(self):
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

        # --- requests ------------------------------------------------------------------------

        def read_body(self):
            if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
                data = b""
                while True:
                    size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                    if size == 0:
                        while self.rfile.readline().strip():
                            pass
                        return data
                    data += self.rfile.read(size)
                    self.rfile.readline()
            length = int(self.headers.get("Content-Length") or 0)
            return self.rfile.read(length) if length else b""

        def entry(self, kind, url, raw):
            try:
                parsed = json.loads(raw) if raw else None
            except ValueError:
                parsed = None
            headers = {}
            for name, value in self.headers.items():
                name = name.lower()
                headers[name] = f"{headers[name]}, {value}" if name in headers else value
            return {
                "kind": kind, "time": time.time(), "method": self.command, "path": url.path,
                "query": parse_qs(url.query, keep_blank_values=True), "headers": headers,
                "raw": raw.decode("utf-8", "replace"), "json": parsed,
            }

        def authorized(self):
            h = self.headers
            if mode == "github":
                ok = h.get("Authorization") in (f"Bearer {args.token}", f"token {args.token}")
            elif mode == "gitlab":
                ok = h.get("PRIVATE-TOKEN") == args.token
            elif mode == "gitea":
                ok = h.get("Authorization") == f"token {args.token}"
            elif mode == "jira":
                ok = h.get("Authorization") == f"Bearer {args.token}"
            elif mode == "redmine":
                ok = h.get("X-Redmine-API-Key") == args.token
            else:
                ok = h.get("X-BUGZILLA-API-KEY") == args.token
            if not ok:
                self.error(401, "Bad credentials" if mode == "github" else "Unauthorized")
                return False
            if mode == "github":
                accept = h.get("Accept") or ""
                if "application/vnd.github+json" not in accept and "application/json" not in accept:
                    self.error(415, "Unsupported 'Accept' header")
                    return False
            return True

        def do_GET(self):
            self.dispatch()

        def do_POST(self):
            self.dispatch()

        def do_PUT(self):
            self.dispatch()

        def do_PATCH(self):
            self.dispatch()

        def do_DELETE(self):
            self.dispatch()

        def dispatch(self):
            raw = self.read_body()
            url = urlsplit(self.path)
            if url.path.startswith("/_control/"):
                state.record(self.entry("control", url, raw))
                return self.control(url, raw)
            state.record(self.entry("request", url, raw))
            if args.prefix and not (url.path + "/").startswith(args.prefix + "/"):
                return self.error(404, "Not Found")
            path = url.path[len(args.prefix):]
            if path == IDENTITY_PATH[mode]:
                if self.command != "GET":
                    return self.error(404, "Not Found")
                if not self.authorized():
                    return
                return self.identity()
            match = ROUTES[mode].match(path)
            if match is None or self.command not in ("GET", WRITE_METHOD.get(mode, "POST")):
                return self.error(404, "Not Found")
            if not self.authorized():
                return
            key = ticket_key(mode, match)
            if key is None or key in args.missing:
                return self.error(404, "Not Found" if mode != "gitlab" else "Not found")
            if self.command == "GET":
                return self.list_comments(key, parse_qs(url.query, keep_blank_values=True), url)
            return self.write(key, raw)

        # --- the API -------------------------------------------------------------------------

        def identity(self):
            user = args.user
            self.send_json(200, {
                "github": {"login": user, "id": 4242, "type": "User"},
                "gitlab": {"id": 4242, "username": user, "name": user, "state": "active"},
                "gitea": {"id": 4242, "login": user, "username": user, "full_name": user},
                "jira": {"name": user, "key": "JIRAUSER4242", "displayName": user, "active": True},
                "redmine": {"user": {"id": 4242, "login": user, "firstname": user, "lastname": ""}},
                "bugzilla": {"id": 4242, "name": user, "real_name": user},
            }[mode])

        def write(self, key, raw):
            content_type = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
            if content_type != "application/json":
                return self.error(415, "Content-Type must be application/json")
            try:
                body = json.loads(raw)
            except ValueError:
                return self.error(400, "Problems parsing JSON")
            if mode == "redmine":
                issue = body.get("issue") if isinstance(body, dict) else None
                text = issue.get("notes") if isinstance(issue, dict) else None
                field = "notes"
            elif mode == "bugzilla":
                text = body.get("comment") if isinstance(body, dict) else None
                field = "comment"
                if isinstance(body, dict) and "is_markdown" in body and not isinstance(body["is_markdown"], bool):
                    return self.error(400, "is_markdown must be a boolean")
            else:
                text = body.get("body") if isinstance(body, dict) else None
                field = "body"
            if not isinstance(text, str) or not text.strip():
                return self.error(BAD_FIELD_STATUS[mode], f"{field} is missing, not a string, or blank")

            with state.lock:
                state.writes += 1
                faulty = args.fault != "none" and (args.fail_times == 0 or state.writes <= args.fail_times)
            fault = args.fault if faulty else "none"
            if fault == "429":
                headers = {"Retry-After": args.retry_after} if args.retry_after else {}
                return self.error(429, "API rate limit exceeded", headers)
            if fault in ("401", "403", "404", "500"):
                return self.error(int(fault), {"401": "Unauthorized", "403": "Forbidden", "404": "Not Found",
                                               "500": "Internal Server Error"}[fault])
            if fault == "drop":
                return self.drop()
            if fault == "timeout":
                time.sleep(args.delay)

            comment = state.store(key, text, args.user)
            state.record({"kind": "comment", "time": time.time(), "ticket": key, "id": comment["id"],
                          "body": text, "author": args.user})
            if fault == "drop-after-store":
                return self.drop()
            if fault == "timeout-after-store":
                time.sleep(args.delay)
            if mode == "redmine":
                return self.send_empty(204)
            if mode == "bugzilla":
                return self.send_json(201, {"id": comment["id"]})
            self.send_json(201, self.render(key, comment))

        def render(self, key, c):
            """One comment as the system shows it."""
            t = iso(c["time"])
            if mode in ("github", "gitea"):
                repo, number = key.split("#")
                host = "https://github.example" if mode == "github" else "https://gitea.example"
                out = {"id": c["id"], "body": c["body"], "user": {"login": c["author"], "id": 4242 if c["author"] == args.user else 7},
                       "html_url": f"{host}/{repo}/issues/{number}#issuecomment-{c['id']}",
                       "created_at": t, "updated_at": t}
                if mode == "github":
                    out["author_association"] = "MEMBER"
                return out
            if mode == "gitlab":
                return {"id": c["id"], "body": c["body"], "author": {"username": c["author"], "name": c["author"]},
                        "system": False, "noteable_type": "Issue", "noteable_iid": int(key.rsplit("#", 1)[1]),
                        "created_at": t, "updated_at": t}
            if mode == "jira":
                return {"id": str(c["id"] + 9000), "body": c["body"], "author": {"name": c["author"], "displayName": c["author"]},
                        "created": t, "updated": t}
            if mode == "redmine":
                return {"id": c["id"], "notes": c["body"], "user": {"id": 4242 if c["author"] == args.user else 7, "name": c["author"]},
                        "created_on": t, "private_notes": False, "details": []}
            return {"id": c["id"], "bug_id": int(key), "text": c["body"], "creator": c["author"],
                    "creation_time": t, "time": t, "is_private": False, "is_markdown": False, "tags": [], "attachment_id": None}

        def list_comments(self, key, query, url):
            comments = [self.render(key, c) for c in state.list(key)]

            def number(name, default, low, high):
                try:
                    return min(max(int(query.get(name, [default])[-1]), low), high)
                except ValueError:
                    return default

            if mode in ("github", "gitlab"):
                if mode == "gitlab" and query.get("sort", ["desc"])[-1] != "asc":
                    comments.reverse()  # GitLab lists notes newest first unless sort=asc
                per_page = number("per_page", 30 if mode == "github" else 20, 1, 100)
                page = number("page", 1, 1, 10 ** 6)
                pages = max(1, -(-len(comments) // per_page))
                chunk = comments[(page - 1) * per_page:page * per_page]
                host = self.headers.get("Host") or f"127.0.0.1:{self.server.server_address[1]}"
                base = f"http://{host}{url.path}?per_page={per_page}&page="
                links = []
                if page < pages:
                    links.append(f'<{base}{page + 1}>; rel="next"')
                links.append(f'<{base}{pages}>; rel="last"')
                headers = {"Link": ", ".join(links)}
                if mode == "gitlab":
                    headers.update({"X-Total": str(len(comments)), "X-Total-Pages": str(pages), "X-Page": str(page),
                                    "X-Per-Page": str(per_page), "X-Next-Page": str(page + 1) if page < pages else ""})
                return self.send_json(200, chunk, headers)
            if mode == "gitea":
                return self.send_json(200, comments)
            if mode == "jira":
                start = number("startAt", 0, 0, 10 ** 9)
                most = number("maxResults", 5000, 0, 5000)
                chunk = comments[start:start + most]
                return self.send_json(200, {"startAt": start, "maxResults": most, "total": len(comments), "comments": chunk})
            if mode == "redmine":
                issue = {"id": int(key), "subject": f"Issue {key}", "description": args.description,
                         "project": {"id": 1, "name": "Project"}, "status": {"id": 1, "name": "New"}}
                if "journals" in ",".join(query.get("include", [])).split(","):
                    issue["journals"] = comments
                return self.send_json(200, {"issue": issue})
            description = {"id": 10 ** 9 + int(key), "bug_id": int(key), "count": 0, "text": args.description,
                           "creator": "reporter@example.com", "creation_time": iso(0), "time": iso(0),
                           "is_private": False, "is_markdown": False, "tags": [], "attachment_id": None}
            for count, c in enumerate(comments, 1):
                c["count"] = count
            self.send_json(200, {"bugs": {key: {"comments": [description] + comments}}, "comments": {}})

        # --- test control --------------------------------------------------------------------

        def control(self, url, raw):
            if url.path == "/_control/comments" and self.command == "GET":
                with state.lock:
                    value = {k: [c["body"] for c in v] for k, v in state.comments.items()}
                return self.send_json(200, value)
            if url.path == "/_control/comments" and self.command == "POST":
                try:
                    body = json.loads(raw)
                except ValueError:
                    return self.send_json(400, {"error": "the body is not JSON"})
                if not isinstance(body, dict) or not isinstance(body.get("ticket"), str) or not body["ticket"] \
                        or not isinstance(body.get("body"), str) or not isinstance(body.get("author", ""), str):
                    return self.send_json(422, {"error": "expected {\"ticket\": str, \"body\": str, \"author\": str}"})
                comment = state.store(body["ticket"], body["body"], body.get("author") or "another-user")
                return self.send_json(201, comment)
            self.send_json(404, {"error": "no such control endpoint"})

    return Handler


def main():
    # A parent running on a thread with signals blocked (Swift's Process does this) passes that
    # mask on: unblock, or SIGTERM from the test that started us would be ignored.
    signal.pthread_sigmask(signal.SIG_SETMASK, [])
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mode", required=True, choices=MODES)
    parser.add_argument("--token", required=True, help="the token to accept")
    parser.add_argument("--record", help="append every request and stored comment to this JSON-lines file")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--prefix", default=None, help="serve the API under this path (default: /api/v4 for gitlab, /api/v1 for gitea, none otherwise)")
    parser.add_argument("--fault", default="none", choices=FAULTS)
    parser.add_argument("--fail-times", type=int, default=0, help="fault only the first N writes (0: all)")
    parser.add_argument("--retry-after", default="", help="Retry-After value sent with 429")
    parser.add_argument("--delay", type=float, default=30.0, help="seconds a timeout fault stalls")
    parser.add_argument("--missing", action="append", default=[], metavar="KEY", help="this ticket does not exist (repeatable)")
    parser.add_argument("--description", default="The description of the bug.", help="Bugzilla comment 0, Redmine's description")
    parser.add_argument("--user", default=None, help="the login the token belongs to (default bridge-bot; bugzilla: bridge-bot@example.com)")
    parser.add_argument("--lifetime", type=float, default=900.0, help="exit after this many seconds, whatever happens")
    parser.add_argument("--verbose", action="store_true")
    args = parser.parse_args()
    if args.prefix is None:
        args.prefix = DEFAULT_PREFIX.get(args.mode, "")
    args.prefix = args.prefix.rstrip("/")
    if args.prefix and not args.prefix.startswith("/"):
        args.prefix = "/" + args.prefix
    if args.user is None:
        args.user = "bridge-bot@example.com" if args.mode == "bugzilla" else "bridge-bot"
    args.missing = set(args.missing)

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
