#!/usr/bin/env python3
"""A team's webhook endpoint, for the tests: verifies every delivery with `standardwebhooks`,
the Standard Webhooks reference implementation (not our code), keeps what it received, and
refuses tries on request so that retries can be shown.

  RECEIVER_SECRETS="whsec_... [whsec_...]" webhook_receiver.py

Prints "listening <port>" once it listens on 127.0.0.1. Every POST is a delivery, checked
against each secret on its own (during a rotation both must verify) and answered:
  503 when told to refuse it (see /_control), else 401 when a secret does not verify it,
  else 200.
  GET  /_received   what it received, in order: [{"id", "timestamp", "signatures",
                    "verified", "answered", "event"}]
  POST /_control    {"refuse_first": N} refuses the first N tries of each event id;
                    {"refuse_all": true|false} refuses every try while true.
"""
import json
import os
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standardwebhooks.webhooks import Webhook

SECRETS = os.environ.get("RECEIVER_SECRETS", "").split()
LOCK = threading.Lock()
RECEIVED = []
TRIES = {}
CONTROL = {"refuse_first": 0, "refuse_all": False}


class Receiver(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def answer(self, status, body=None):
        data = json.dumps(body if body is not None else {}).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        if self.path != "/_received":
            return self.answer(404)
        with LOCK:
            return self.answer(200, list(RECEIVED))

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("content-length") or 0))
        if self.path == "/_control":
            with LOCK:
                CONTROL.update(json.loads(body))
            return self.answer(200, CONTROL)
        headers = {k: v for k, v in self.headers.items()}
        verified = bool(SECRETS)
        for secret in SECRETS:
            try:
                Webhook(secret).verify(body, headers)
            except Exception:
                verified = False
        event_id = self.headers.get("webhook-id")
        with LOCK:
            TRIES[event_id] = TRIES.get(event_id, 0) + 1
            refuse = CONTROL["refuse_all"] or TRIES[event_id] <= CONTROL["refuse_first"]
            status = 503 if refuse else (200 if verified else 401)
            try:
                event = json.loads(body)
            except ValueError:
                event = None
            RECEIVED.append(
                {
                    "id": event_id,
                    "timestamp": self.headers.get("webhook-timestamp"),
                    "signatures": len((self.headers.get("webhook-signature") or "").split()),
                    "verified": verified,
                    "answered": status,
                    "event": event,
                }
            )
        self.answer(status)


class Server(ThreadingHTTPServer):
    # A batch's tries arrive at once (ten connections): socketserver's default backlog of 5
    # would drop some, and TCP would retry them a second later.
    request_queue_size = 64


def main():
    if not SECRETS:
        sys.exit("RECEIVER_SECRETS is not set")
    server = Server(("127.0.0.1", 0), Receiver)
    print(f"listening {server.server_address[1]}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
