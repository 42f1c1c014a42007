#!/usr/bin/env python3
"""Cold-start benchmark: every function's release bootstrap beside a bare Rust Lambda (the
floor) and the status webhook's job on Node.js 20, in one run, under one minimal Lambda
Runtime API emulator. BENCHMARKS.md explains the method and holds the figures.

  python3 scripts/bench-coldstart.py [--starts N] [--quick]

It needs the release bootstraps (`scripts/stack.sh build`: target/lambda/<function>/bootstrap;
CARGO_TARGET_DIR is honoured). It builds the floor from bench/peers/rust-floor (its own
project and Cargo.lock, outside the workspace) into target/peers, copies the Node twin from
bench/peers/node-webhook to target/peers/node-webhook and runs `npm ci` there when Node is
available (else the twin is skipped with a note); bench/peers/README.md says what both are.

Each start is a fresh process with the configuration infra/template.yaml gives the function
(secrets as plain variables, so no Secrets Manager read at init; outside calls go to a stub on
loopback). Starts are interleaved: one of each program, round after round. Measured per
start: exec -> first GET /runtime/invocation/next (cold start), exec -> the first invocation's
answer (first response), VmHWM from /proc/PID/status once the function polls again (peak
RSS), and per program the bootstrap's size and its deflated zip's size. The table goes to
stdout and, as Markdown, to target/bench/coldstart.md.
"""
import argparse
import io
import json
import os
import shutil
import statistics
import subprocess
import sys
import threading
import time
import tomllib
import uuid
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET = Path(os.environ.get("CARGO_TARGET_DIR") or ROOT / "target")
# The reference programs run beside ours (bench/peers/README.md).
PEERS = ROOT / "bench" / "peers"

# Targets the table reports against (nothing fails on them).
MAX_FLOOR_RATIO = 1.3  # median cold start <= 1.3 x the floor's
MIN_NODE_RATIO = 20.0  # Node twin's median cold start >= 20 x ours
MAX_HWM_MB = 16.0  # VmHWM
MAX_ZIP_MB = 4.0  # deflated bootstrap (MB here = 2^20 bytes, as for VmHWM)

START_TIMEOUT = 20.0  # seconds a start may take before it counts as failed

# ---------------------------------------------------------------------------------------
# Configuration: what infra/template.yaml gives each function (Globals + its own Variables),
# with the secrets its SECRETS_ARN names given as plain variables instead.

SECRETS = {
    "UNIPILE_API_KEY": "bench-unipile-api-key",
    "STATE_SIGNING_KEY": "bench-state-signing-key-0123456789abcdef",
    "UNIPILE_WEBHOOK_SECRET": "bench-webhook-secret-0123456789abcdef",
    # base64 of "bench-events-webhook-signing-key" (32 bytes), as the team's secret is given.
    "EVENTS_WEBHOOK_SECRET": "whsec_YmVuY2gtZXZlbnRzLXdlYmhvb2stc2lnbmluZy1rZXk=",
}
# With --secrets-manager: the production path instead, SECRETS_ARN naming one secret per
# purpose (each a JSON object of name to value), served by the stub.
SECRET_ARNS = {
    name: f"arn:aws:secretsmanager:us-east-1:123456789012:secret:unipile-connect/{name.lower()}-AbCdEf"
    for name in SECRETS
}


def template_globals(port):
    return {
        "TABLE_NAME": "unipile-connect-accounts",
        "EVENT_BUS_NAME": "unipile-connect-account-events",
        # The Unipile stub on the emulator's port (the DSN accepts an http URL).
        "UNIPILE_DSN": f"http://127.0.0.1:{port}",
        "USER_ID_CLAIM": "sub",
        "EMAIL_CLAIM": "email",
        "EMAIL_VERIFIED_CLAIM": "email_verified",
        "SERVICE_SCOPE": "unipile-connect/service",
        "RUST_LOG": "info",
        "SCHEDULE_GROUP": "unipile-connect-reconnects",
        "RECONNECT_FUNCTION_ARN": "arn:aws:lambda:us-east-1:123456789012:function:unipile-connect-reconnect-retry",
        "SCHEDULER_ROLE_ARN": "arn:aws:iam::123456789012:role/unipile-connect-scheduler",
        "SCHEDULER_DLQ_ARN": "arn:aws:sqs:us-east-1:123456789012:unipile-connect-reconnect-dlq",
        "COOKIE_KMS_KEY_ID": "arn:aws:kms:us-east-1:123456789012:key/00000000-0000-0000-0000-000000000000",
        "STALE_COOKIE_HOURS": "24",
    }


FOLLOW_UP_ENV = {
    "MAIL_FROM": "accounts@example.com",
    "SES_CONFIGURATION_SET": "",
    "APP_BASE_URL": "https://app.example.com",
    "RECONNECT_PATH": "/accounts?reconnect={account_id}",
    "AUTO_RESTART": "true",
    "COGNITO_USER_POOL_ID": "",
    "JWT_ISSUER": "https://auth.example.com/",
}

FUNCTION_ENV = {
    "hosted-link": {
        "secrets": ["UNIPILE_API_KEY", "STATE_SIGNING_KEY"],
        "PUBLIC_BASE_URL": "https://abcdefghij.execute-api.us-east-1.amazonaws.com",
        "ALLOWED_REDIRECT_ORIGINS": "https://app.example.com",
        "LINK_TTL_MINUTES": "30",
    },
    "connect-callback": {"secrets": ["UNIPILE_API_KEY", "STATE_SIGNING_KEY"]},
    "accounts": {"secrets": ["UNIPILE_API_KEY"]},
    "status-webhook": {"secrets": ["UNIPILE_API_KEY", "UNIPILE_WEBHOOK_SECRET"], **FOLLOW_UP_ENV},
    "cookie-sync": {
        "secrets": ["UNIPILE_API_KEY"],
        "CONNECT_THROTTLE_SECONDS": "300",
        "MAX_LINKEDIN_IDENTITIES": "3",
    },
    "reconnect-retry": {"secrets": ["UNIPILE_API_KEY"], **FOLLOW_UP_ENV},
    "follow-up-sweeper": {"secrets": ["UNIPILE_API_KEY"], **FOLLOW_UP_ENV},
    "webhook-setup": {
        "secrets": ["UNIPILE_API_KEY", "UNIPILE_WEBHOOK_SECRET"],
        "STATUS_WEBHOOK_URL": "https://abcdefghij.execute-api.us-east-1.amazonaws.com/unipile/webhook",
    },
    "account-reconciler": {"secrets": ["UNIPILE_API_KEY"], "RECONCILE_MAX_PAGES": "40"},
    "web-assets": {"secrets": []},
    "events-webhook": {
        "secrets": ["EVENTS_WEBHOOK_SECRET"],
        # The team's endpoint is the stub ({port} is filled in).
        "EVENTS_WEBHOOK_URL": "http://127.0.0.1:{port}/team-webhook",
        "EVENTS_WEBHOOK_QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/123456789012/unipile-connect-events-webhook",
    },
}

# ---------------------------------------------------------------------------------------
# Events: for each program, the first invocation it gets. Each is an event AWS sends in
# production, chosen so that the answer needs no network beyond the loopback stub.


def http_event(method, path, body=None, headers=None, query=None, claims=None, route=None):
    """An HTTP API payload 2.0 event (function URLs send the same shape, without a route)."""
    now = time.time()
    event = {
        "version": "2.0",
        "routeKey": route or "$default",
        "rawPath": path,
        "rawQueryString": "&".join(f"{k}={v}" for k, v in (query or {}).items()),
        "headers": {
            "content-type": "application/json",
            "host": "abcdefghij.execute-api.us-east-1.amazonaws.com",
            "user-agent": "bench",
            **(headers or {}),
        },
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "abcdefghij",
            "domainName": "abcdefghij.execute-api.us-east-1.amazonaws.com",
            "domainPrefix": "abcdefghij",
            "http": {"method": method, "path": path, "protocol": "HTTP/1.1", "sourceIp": "203.0.113.7", "userAgent": "bench"},
            "requestId": str(uuid.uuid4()),
            "routeKey": route or "$default",
            "stage": "$default",
            "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
            "timeEpoch": int(now * 1000),
        },
        "isBase64Encoded": False,
    }
    if query:
        event["queryStringParameters"] = query
    if body is not None:
        event["body"] = body if isinstance(body, str) else json.dumps(body)
    if claims is not None:
        event["requestContext"]["authorizer"] = {"jwt": {"claims": claims, "scopes": None}}
    return event


CLAIMS = {"sub": "user-1", "email": "user-1@example.com", "iss": "https://auth.example.com/", "aud": "app"}
ACCOUNT_STATUS = {"AccountStatus": {"account_id": "acc-1", "account_type": "LINKEDIN", "message": "CREDENTIALS"}}


def events(port):
    """name -> (event, what it is and what the program answers)."""
    return {
        "hosted-link": (
            http_event("POST", "/accounts/link", route="POST /accounts/link", claims=CLAIMS,
                       body={"type": "create", "providers": ["LINKEDIN"], "success_redirect_url": "https://elsewhere.example.net/done"}),
            "HTTP API, JWT claims: a link whose redirect is on an origin not allowed -> 400, no outside call",
        ),
        "connect-callback": (
            http_event("POST", "/unipile/notify", query={"state": "v2.forged.token"},
                       body={"status": "CREATION_SUCCESS", "account_id": "acc-1", "name": "user-1"}),
            "function URL: Unipile's notify with a forged state token -> 401, no outside call",
        ),
        "accounts": (
            http_event("GET", "/accounts", route="GET /accounts", claims=CLAIMS),
            "HTTP API, JWT claims: GET /accounts -> one DynamoDB Query (stub: no items) -> 200",
        ),
        "status-webhook": (
            http_event("POST", "/unipile/webhook", headers={"unipile-auth": "wrong-secret"}, body=ACCOUNT_STATUS),
            "function URL: an AccountStatus delivery with a wrong secret header -> 401, no outside call",
        ),
        "cookie-sync": (
            http_event("POST", "/extension/cookies", route="POST /extension/cookies", claims=CLAIMS,
                       body={"li_at": "AQEDAbench", "user_agent": "", "linkedin_member_id": "12345", "country": "FR"}),
            "HTTP API, JWT claims: the extension's cookies without a user agent -> 400, no outside call",
        ),
        "reconnect-retry": (
            {"account_id": "acc-1", "outage": "outage-1", "attempt": 2},
            "Scheduler input: attempt 2 for an account the table does not hold -> one DynamoDB GetItem (stub: none) -> skipped",
        ),
        "follow-up-sweeper": (
            {"version": "0", "id": str(uuid.uuid4()), "detail-type": "Scheduled Event", "source": "aws.scheduler", "detail": {}},
            "Scheduler event: one sweep -> one DynamoDB Query on GSI2 (stub: nothing due) -> report",
        ),
        "webhook-setup": (
            {"RequestType": "Delete", "ServiceToken": "arn:aws:lambda:us-east-1:123456789012:function:webhook-setup",
             "ResponseURL": f"http://127.0.0.1:{port}/cloudformation-response/bench",
             "StackId": "arn:aws:cloudformation:us-east-1:123456789012:stack/unipile-connect/0", "RequestId": "req-1",
             "LogicalResourceId": "StatusWebhookRegistration", "PhysicalResourceId": "unregistered:req-0",
             "ResourceType": "Custom::UnipileWebhook", "ResourceProperties": {}},
            "CloudFormation Delete of a registration that never was -> SUCCESS PUT to ResponseURL (the stub)",
        ),
        "account-reconciler": (
            {"version": "0", "id": str(uuid.uuid4()), "detail-type": "Scheduled Event", "source": "aws.scheduler", "detail": {}},
            "Scheduler event: one reconciliation -> Unipile account list + DynamoDB Scan (stub: both empty) -> report",
        ),
        "web-assets": (
            http_event("GET", "/web/v5/unipile-accounts.js", route="GET /web/{proxy+}"),
            "HTTP API, no authorizer: GET /web/v5/unipile-accounts.js -> 200 with the embedded file",
        ),
        "events-webhook": (
            {"Records": [{"messageId": "m-1", "receiptHandle": "r-1", "eventSource": "aws:sqs",
                          "attributes": {"ApproximateReceiveCount": "1"},
                          "body": json.dumps({"version": "0", "id": "eb-1", "detail-type": "account.connected",
                                              "source": "unipile-connect", "detail": {
                                                  "id": "evt_1796642059206_3f9c0a1b2c4d", "type": "account.connected",
                                                  "timestamp": "2026-12-07T11:14:19.206Z",
                                                  "data": {"user_id": "u-42", "account_id": "acc_7",
                                                           "provider": "LINKEDIN", "status": "OK", "sequence": 1,
                                                           "how": "hosted"}}})}]},
            "SQS batch of one event -> signed POST to the team's endpoint (stub: 200) -> no item failure",
        ),
        "floor": (
            http_event("POST", "/unipile/webhook", headers={"unipile-auth": "wrong-secret"}, body=ACCOUNT_STATUS),
            "function URL: the status webhook's event -> 200 {} (its handler does nothing)",
        ),
        "node-webhook": (
            http_event("POST", "/unipile/webhook", body=ACCOUNT_STATUS),
            "function URL: the status webhook's event -> one DynamoDB UpdateItem (stub: ok) -> 200",
        ),
    }


# ---------------------------------------------------------------------------------------
# The emulator: the Runtime API (/2018-06-01/runtime/...) and, on the same port, a stub of
# the outside world (DynamoDB, Unipile, CloudFormation's ResponseURL).


class Start:
    """One process start: its event, and what the emulator saw of it."""

    def __init__(self, event):
        self.event = event
        self.request_id = str(uuid.uuid4())
        self.first_poll = None  # perf_counter of the first GET .../next
        self.answered = None  # perf_counter of the first answer (response or error)
        self.answer = None  # ("response"|"error"|"init-error", body)
        self.calls = []  # outside calls: (before the first poll?, what)
        self.idle = threading.Event()  # polled again after answering (or failed at init)
        self.done = threading.Event()  # the process is gone


class Emulator:
    def __init__(self):
        self.current = None
        self.lock = threading.Lock()
        emulator = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # A reply is two writes (headers, then body): with Nagle's algorithm on, the second
            # waits for the client's delayed ACK (40 ms) whenever a function makes a second
            # call on the same connection, which is the stub's delay, not the function's.
            disable_nagle_algorithm = True

            def log_message(self, *args):
                pass

            def body(self):
                if self.headers.get("transfer-encoding", "").lower() == "chunked":
                    data = b""
                    while True:
                        size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                        if size == 0:
                            while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                                pass
                            return data
                        data += self.rfile.read(size)
                        self.rfile.readline()
                return self.rfile.read(int(self.headers.get("content-length") or 0))

            def reply(self, status, body=b"", headers=()):
                self.send_response(status)
                for name, value in headers:
                    self.send_header(name, value)
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self):
                emulator.handle(self, "GET")

            def do_POST(self):
                emulator.handle(self, "POST")

            def do_PUT(self):
                emulator.handle(self, "PUT")

            def do_DELETE(self):
                emulator.handle(self, "DELETE")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def handle(self, h, method):
        now = time.perf_counter()
        start = self.current
        path = h.path.split("?")[0]
        if path == "/2018-06-01/runtime/invocation/next":
            if start is None:
                return h.reply(410)
            with self.lock:
                first = start.first_poll is None
                if first:
                    start.first_poll = now
            if first:
                deadline = int(time.time() * 1000) + 15_000
                return h.reply(200, json.dumps(start.event).encode(), [
                    ("content-type", "application/json"),
                    ("lambda-runtime-aws-request-id", start.request_id),
                    ("lambda-runtime-deadline-ms", str(deadline)),
                    ("lambda-runtime-invoked-function-arn", "arn:aws:lambda:us-east-1:123456789012:function:bench"),
                    ("lambda-runtime-trace-id", "Root=1-00000000-000000000000000000000000;Sampled=0"),
                ])
            # Polled again: the first invocation is done and the function is idle. Hold the
            # poll, as Lambda does, until the process is gone.
            start.idle.set()
            start.done.wait(START_TIMEOUT * 2)
            h.close_connection = True
            return
        body = h.body()
        if path.startswith("/2018-06-01/runtime/"):
            kind = "init-error" if path.endswith("/init/error") else path.rsplit("/", 1)[-1]
            if start is not None and start.answered is None:
                start.answered, start.answer = now, (kind, body.decode("utf-8", "replace"))
                if kind == "init-error":
                    start.idle.set()
            return h.reply(202, b'{"status":"OK"}', [("content-type", "application/json")])
        # The outside world.
        target = h.headers.get("x-amz-target", "")
        what = target or f"{method} {path}"
        if start is not None:
            start.calls.append((start.first_poll is None, what))
        if target.startswith("DynamoDB_20120810."):
            operation = target.split(".", 1)[1]
            answer = {"Query": {"Count": 0, "Items": [], "ScannedCount": 0},
                      "Scan": {"Count": 0, "Items": [], "ScannedCount": 0}}.get(operation, {})
            return h.reply(200, json.dumps(answer).encode(), [("content-type", "application/x-amz-json-1.0")])
        if target == "secretsmanager.GetSecretValue":
            arn = json.loads(body or b"{}").get("SecretId", "")
            name = next((n for n, a in SECRET_ARNS.items() if a == arn), None)
            if name is not None:
                answer = {"ARN": arn, "Name": arn.rsplit(":", 1)[-1], "VersionId": "v1",
                          "SecretString": json.dumps({name: SECRETS[name]}), "VersionStages": ["AWSCURRENT"]}
                return h.reply(200, json.dumps(answer).encode(), [("content-type", "application/x-amz-json-1.1")])
        if method == "GET" and path == "/api/v1/accounts":
            return h.reply(200, b'{"object":"AccountList","items":[],"cursor":null}', [("content-type", "application/json")])
        if method == "PUT" and path.startswith("/cloudformation-response/"):
            return h.reply(200)
        if method == "POST" and path == "/team-webhook":
            return h.reply(200)
        return h.reply(400, b'{"__type":"ValidationException","message":"not served by the benchmark stub"}',
                       [("content-type", "application/x-amz-json-1.0")])


def vm_hwm_kb(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def start_once(emulator, program, env, log_path):
    """Starts `program` once; returns the measurements of that start (or raises)."""
    start = Start(program["event"])
    emulator.current = start
    with open(log_path, "wb") as log:
        t0 = time.perf_counter()
        process = subprocess.Popen(program["cmd"], env=env, cwd=program.get("cwd"),
                                   stdin=subprocess.DEVNULL, stdout=log, stderr=log)
        try:
            while not start.idle.wait(0.002):
                if process.poll() is not None or time.perf_counter() - t0 > START_TIMEOUT:
                    break
            hwm = vm_hwm_kb(process.pid)
        finally:
            process.kill()
            process.wait()
            start.done.set()
            emulator.current = None
    if start.first_poll is None or start.answered is None or not start.idle.is_set():
        raise RuntimeError(f"{program['name']}: no answer (exit {process.returncode}); log: {log_path}")
    if start.answer[0] == "init-error":
        raise RuntimeError(f"{program['name']}: init error {start.answer[1]}; log: {log_path}")
    return {
        "cold_ms": (start.first_poll - t0) * 1000,
        "first_ms": (start.answered - t0) * 1000,
        "hwm_kb": hwm,
        "answer": start.answer,
        "init_calls": [what for before, what in start.calls if before],
        "calls": [what for before, what in start.calls if not before],
    }


# ---------------------------------------------------------------------------------------
# The programs.


def function_names():
    with open(ROOT / "Cargo.toml", "rb") as f:
        workspace = tomllib.load(f)["workspace"]
    return [Path(member).name for member in workspace["default-members"]]


def lambda_env(name, port):
    return {
        "AWS_LAMBDA_RUNTIME_API": f"127.0.0.1:{port}",
        "AWS_LAMBDA_FUNCTION_NAME": f"unipile-connect-{name}",
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "128",
        "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/unipile-connect-{name}",
        "AWS_LAMBDA_LOG_STREAM_NAME": "bench",
        "AWS_EXECUTION_ENV": "AWS_Lambda_provided.al2023",
        "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
        "_HANDLER": "bootstrap",
        "LAMBDA_TASK_ROOT": "/var/task",
        "TZ": ":UTC",
        "LANG": "en_US.UTF-8",
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "AKIDBENCHBENCHBENCH0",
        "AWS_SECRET_ACCESS_KEY": "bench-secret-access-key",
        "AWS_SESSION_TOKEN": "bench-session-token",
        # Every AWS client at the stub; init makes no call (the table counts any).
        "AWS_ENDPOINT_URL": f"http://127.0.0.1:{port}",
    }


def our_env(name, port, secrets_manager=False):
    env = {**lambda_env(name, port), **template_globals(port)}
    own = dict(FUNCTION_ENV[name])
    secrets = own.pop("secrets")
    if secrets_manager and secrets:
        env["SECRETS_ARN"] = ",".join(SECRET_ARNS[secret] for secret in secrets)
    else:
        for secret in secrets:
            env[secret] = SECRETS[secret]
    env.update({key: value.replace("{port}", str(port)) for key, value in own.items()})
    return env


def build_floor():
    manifest = PEERS / "rust-floor" / "Cargo.toml"
    print(f"building the floor: cargo build --release --locked --manifest-path {manifest} --target-dir {TARGET / 'peers'}", flush=True)
    # --locked: the floor builds the crates its committed Cargo.lock names, never newer ones,
    # so that its figure moves only when that file does.
    subprocess.run(["cargo", "build", "--release", "--quiet", "--locked", "--manifest-path", str(manifest),
                    "--target-dir", str(TARGET / "peers")], check=True)
    return TARGET / "peers" / "release" / "floor"


def prepare_node():
    """The Node twin's directory with its node_modules, or None (with a note) without Node.
    It runs from a copy under target/ so that node_modules never lands in the repository."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if not node or not npm:
        print("note: node/npm not found: the Node.js twin is skipped", flush=True)
        return None, None
    source, work = PEERS / "node-webhook", TARGET / "peers" / "node-webhook"
    work.mkdir(parents=True, exist_ok=True)
    changed = False
    for name in ("bootstrap.js", "package.json", "package-lock.json"):
        new = (source / name).read_bytes()
        if not (work / name).exists() or (work / name).read_bytes() != new:
            (work / name).write_bytes(new)
            changed = True
    if changed or not (work / "node_modules").is_dir():
        print(f"npm ci in {work}", flush=True)
        done = subprocess.run([npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=work)
        if done.returncode != 0:
            print("note: npm ci failed: the Node.js twin is skipped", flush=True)
            return None, None
    return node, work


def zipped_size(path):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        info = zipfile.ZipInfo("bootstrap")
        info.external_attr = 0o755 << 16
        info.compress_type = zipfile.ZIP_DEFLATED
        archive.writestr(info, path.read_bytes())
    return buffer.tell()


def dir_size(path):
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def zipped_dir_size(path):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for p in sorted(path.rglob("*")):
            if p.is_file():
                archive.write(p, p.relative_to(path))
    return buffer.tell()


# ---------------------------------------------------------------------------------------
# Figures.


def p95(values):
    """Nearest rank: the smallest value at or above 95 % of the starts."""
    ordered = sorted(values)
    return ordered[max(0, -(-len(ordered) * 95 // 100) - 1)]


def verdict(ok):
    return "PASS" if ok else "MISS"


def describe_answer(kind, body):
    """`response 401` for an HTTP answer, else the answer's start."""
    try:
        status = json.loads(body).get("statusCode")
    except (ValueError, AttributeError):
        status = None
    return f"{kind} {status}" if status is not None else f"{kind} {body[:70]}"


def summarise(programs, results):
    rows = []
    floor = results.get("floor")
    node = results.get("node-webhook")
    floor_cold = statistics.median(r["cold_ms"] for r in floor) if floor else None
    node_cold = statistics.median(r["cold_ms"] for r in node) if node else None
    for program in programs:
        runs = results[program["name"]]
        cold = [r["cold_ms"] for r in runs]
        first = [r["first_ms"] for r in runs]
        hwm = [r["hwm_kb"] for r in runs if r["hwm_kb"] is not None]
        row = {
            "name": program["name"],
            "kind": program["kind"],
            "starts": len(runs),
            "cold_median": statistics.median(cold),
            "cold_p95": p95(cold),
            "first_median": statistics.median(first),
            "first_p95": p95(first),
            "hwm_mb": max(hwm) / 1024 if hwm else None,
            "binary_mb": program["binary_bytes"] / 2**20,
            "zip_mb": program["zip_bytes"] / 2**20,
            "answer": describe_answer(*runs[-1]["answer"]),
            "init_calls": sorted({c for r in runs for c in r["init_calls"]}),
            "calls": sorted({c for r in runs for c in r["calls"]}),
        }
        row["floor_ratio"] = row["cold_median"] / floor_cold if floor_cold else None
        row["node_ratio"] = node_cold / row["cold_median"] if node_cold else None
        if program["kind"] == "ours":
            row["targets"] = [
                verdict(row["floor_ratio"] is not None and row["floor_ratio"] <= MAX_FLOOR_RATIO) if floor_cold else "n/a",
                verdict(row["node_ratio"] is not None and row["node_ratio"] >= MIN_NODE_RATIO) if node_cold else "n/a",
                verdict(row["hwm_mb"] is not None and row["hwm_mb"] <= MAX_HWM_MB),
                verdict(row["zip_mb"] <= MAX_ZIP_MB),
            ]
        else:
            row["targets"] = ["", "", "", ""]
        rows.append(row)
    return rows


HEADERS = ["program", "cold median", "cold p95", "1st resp median", "1st resp p95", "cold / floor",
           "Node / this", "VmHWM", "binary", "zip",
           f"<= {MAX_FLOOR_RATIO}x floor", f">= {MIN_NODE_RATIO:g}x Node", f"<= {MAX_HWM_MB:g} MB", f"zip <= {MAX_ZIP_MB:g} MB"]


def cells(row):
    f = lambda v, fmt: "" if v is None else fmt.format(v)
    return [row["name"], f(row["cold_median"], "{:.1f} ms"), f(row["cold_p95"], "{:.1f} ms"),
            f(row["first_median"], "{:.1f} ms"), f(row["first_p95"], "{:.1f} ms"),
            f(row["floor_ratio"], "{:.2f}x"), f(row["node_ratio"], "{:.0f}x"), f(row["hwm_mb"], "{:.1f} MB"),
            f(row["binary_mb"], "{:.2f} MB"), f(row["zip_mb"], "{:.2f} MB"), *row["targets"]]


def text_table(rows):
    table = [HEADERS] + [cells(r) for r in rows]
    widths = [max(len(line[i]) for line in table) for i in range(len(HEADERS))]
    out = []
    for n, line in enumerate(table):
        out.append("  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(line, widths))))
        if n == 0:
            out.append("  ".join("-" * w for w in widths))
    return "\n".join(out)


def markdown(rows, context, programs):
    lines = ["| " + " | ".join(HEADERS) + " |", "|" + "|".join(["---"] + ["---:"] * (len(HEADERS) - 1)) + "|"]
    lines += ["| " + " | ".join(cells(r)) + " |" for r in rows]
    lines += ["", "Events (the first invocation of each start) and the outside calls it made:", ""]
    by_name = {r["name"]: r for r in rows}
    for program in programs:
        row = by_name[program["name"]]
        calls = ", ".join(row["calls"]) or "none"
        init = ", ".join(row["init_calls"]) or "none"
        lines.append(f"- `{program['name']}`: {program['event_note']}. Answer: `{row['answer'].strip()}`; "
                     f"outside calls at init: {init}; in the invocation: {calls}.")
    lines += ["", context]
    return "\n".join(lines) + "\n"


def machine():
    cpu = ""
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next((line.split(":", 1)[1].strip() for line in f if line.startswith("model name")), "")
    except OSError:
        pass
    return f"{os.cpu_count()} CPUs ({cpu or 'unknown CPU'}), {os.uname().machine}, Linux {os.uname().release}"


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--starts", type=int, default=20, help="starts of each program (default 20)")
    parser.add_argument("--quick", action="store_true", help="a smoke run: 3 starts of each")
    parser.add_argument("--no-node", action="store_true", help="leave out the Node.js twin")
    parser.add_argument("--secrets-manager", action="store_true",
                        help="read the secrets through SECRETS_ARN from the stub, as deployed, instead of plain variables")
    parser.add_argument("--variant", action="append", default=[], metavar="LABEL=FUNCTION:PATH",
                        help="also run the bootstrap PATH as LABEL, with FUNCTION's configuration and event")
    parser.add_argument("--env", action="append", default=[], metavar="KEY=VALUE",
                        help="set KEY in every program's environment, e.g. SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt "
                             "to read TLS roots from one bundle file as on Lambda's al2023 image")
    parser.add_argument("--out", type=Path, default=TARGET / "bench" / "coldstart.md", help="the Markdown table")
    args = parser.parse_args()
    starts = 3 if args.quick else args.starts
    if starts < 1:
        parser.error("--starts must be at least 1")

    emulator = Emulator()
    port = emulator.port
    evs = events(port)
    programs = []
    missing = []
    for name in function_names():
        bootstrap = TARGET / "lambda" / name / "bootstrap"
        if not bootstrap.is_file():
            missing.append(str(bootstrap))
            continue
        programs.append({"name": name, "kind": "ours", "cmd": [str(bootstrap)], "path": bootstrap,
                         "env": our_env(name, port, args.secrets_manager)})
    if missing:
        sys.exit("missing release bootstraps (run scripts/stack.sh build first):\n  " + "\n  ".join(missing))
    for spec in args.variant:
        label, _, rest = spec.partition("=")
        function, _, path = rest.partition(":")
        if function not in FUNCTION_ENV or not Path(path).is_file():
            parser.error(f"--variant {spec}: want LABEL=FUNCTION:PATH with an existing PATH")
        programs.append({"name": label, "kind": "ours", "cmd": [str(Path(path).resolve())], "path": Path(path),
                         "env": our_env(function, port, args.secrets_manager), "event_of": function})
    floor = build_floor()
    programs.append({"name": "floor", "kind": "peer", "cmd": [str(floor)], "path": floor,
                     "env": {**lambda_env("floor", port), "TABLE_NAME": "unipile-connect-accounts"}})
    if not args.no_node:
        node, work = prepare_node()
        if node:
            env = {**lambda_env("node-webhook", port), "TABLE_NAME": "unipile-connect-accounts",
                   "AWS_EXECUTION_ENV": "AWS_Lambda_nodejs20.x", "_HANDLER": "bootstrap.handler",
                   "NODE_PATH": str(work / "node_modules")}
            programs.append({"name": "node-webhook", "kind": "peer", "cmd": [node, "bootstrap.js"], "cwd": str(work),
                             "path": work, "env": env})
    extra_env = {}
    for pair in args.env:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            parser.error(f"--env {pair}: want KEY=VALUE")
        extra_env[key] = value
    for program in programs:
        program["env"].update(extra_env)
        event, note = evs[program.get("event_of", program["name"])]
        program["event"], program["event_note"] = event, note
        if program["path"].is_dir():
            program["binary_bytes"], program["zip_bytes"] = dir_size(program["path"]), zipped_dir_size(program["path"])
        else:
            program["binary_bytes"], program["zip_bytes"] = program["path"].stat().st_size, zipped_size(program["path"])

    logs = TARGET / "bench" / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    results = {p["name"]: [] for p in programs}
    # One unrecorded round first: every binary in the page cache, as on every later start.
    rounds = [False] + [True] * starts
    print(f"{len(programs)} programs x {starts} starts, interleaved (plus one warm-up round)", flush=True)
    began, load_before = time.time(), os.getloadavg()[0]
    for n, recorded in enumerate(rounds):
        for program in programs:
            measured = start_once(emulator, program, program["env"], logs / f"{program['name']}.log")
            if recorded:
                results[program["name"]].append(measured)
            time.sleep(0.02)
        if recorded:
            print(f"  round {n}/{starts} done", flush=True)
    rows = summarise(programs, results)
    print()
    print(text_table(rows))
    built = sorted(p["path"].stat().st_mtime for p in programs if p["kind"] == "ours")
    stamp = lambda t: time.strftime("%Y-%m-%d %H:%M", time.gmtime(t))
    context = (f"{starts} starts of each program, interleaved, on {machine()}; "
               f"bootstraps built {stamp(built[0])} to {stamp(built[-1])} UTC; "
               f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime(began))}; "
               f"load average {load_before:.2f} before, {os.getloadavg()[0]:.2f} after; "
               f"secrets {'through SECRETS_ARN (stub)' if args.secrets_manager else 'as plain variables'}"
               f"{''.join(f'; {pair}' for pair in args.env)}. "
               f"Written by scripts/bench-coldstart.py.")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(markdown(rows, context, programs))
    (args.out.parent / "coldstart.json").write_text(json.dumps(
        {"context": context, "rows": rows, "starts": {k: v for k, v in results.items()}}, indent=1, default=str))
    print(f"\n{context}\nMarkdown: {args.out}")


if __name__ == "__main__":
    main()
