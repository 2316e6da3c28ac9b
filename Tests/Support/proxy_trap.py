#!/usr/bin/env python3
"""A server that lets nothing through, for the tests of where the bridge's requests go: it
records the head of every request it receives (a CONNECT, or a plain request sent to it as a
proxy) as a JSON line, answers 403 and closes. With --tls it speaks TLS with the given
certificate (a self-signed one in the tests) and records a failed handshake as such. Loopback
only; prints `PORT <n>` first.

  proxy_trap.py --record FILE [--tls CERT KEY] [--lifetime SECONDS]
"""
import argparse
import json
import socket
import ssl
import threading
import time


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--record", required=True)
    parser.add_argument("--tls", nargs=2, metavar=("CERT", "KEY"))
    parser.add_argument("--lifetime", type=float, default=300)
    args = parser.parse_args()
    context = None
    if args.tls:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(args.tls[0], args.tls[1])
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    server.settimeout(0.5)
    print(f"PORT {server.getsockname()[1]}", flush=True)
    lock = threading.Lock()

    def record(entry):
        with lock, open(args.record, "a") as file:
            file.write(json.dumps(entry) + "\n")

    def serve(connection):
        connection.settimeout(5)
        head = b""
        if context:
            try:
                connection = context.wrap_socket(connection, server_side=True)
            except (ssl.SSLError, OSError) as error:
                connection.close()
                record({"kind": "handshake_failed", "error": type(error).__name__})
                return
        try:
            while b"\r\n\r\n" not in head and len(head) < 65536:
                chunk = connection.recv(4096)
                if not chunk:
                    break
                head += chunk
            connection.sendall(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        except OSError:
            pass
        finally:
            connection.close()
        record({"kind": "request", "head": head.decode("latin-1")})

    deadline = time.monotonic() + args.lifetime
    while time.monotonic() < deadline:
        try:
            connection, _ = server.accept()
        except socket.timeout:
            continue
        threading.Thread(target=serve, args=(connection,), daemon=True).start()


if __name__ == "__main__":
    main()
