#!/usr/bin/env python3
"""The monthly AWS cost of a deployment, flow by flow, with its arithmetic: the table in
docs/operations.md ("What it costs") is this script's output.

  scripts/cost.py [--durations target/rehearsal/durations.tsv] [ACCOUNTS ...]

Durations are the median billed time of each function's invocations in the deploy rehearsal
(release binaries against moto and the Unipile simulator on loopback; the rehearsal writes
them to target/rehearsal/durations.tsv). In AWS each outside call adds its network time:
NETWORK_MS per AWS call and UNIPILE_MS per Unipile call are added on top.
Prices: us-east-1, on-demand, without free tiers.
"""
import argparse
import csv
import re
from pathlib import Path

# --- prices (USD) ---
LAMBDA_GB_SECOND_ARM = 0.0000133334
LAMBDA_REQUEST = 0.20 / 1e6
MEMORY_GB = 128 / 1024
HTTP_API_REQUEST = 1.00 / 1e6
DDB_WRITE_UNIT = 0.625 / 1e6
DDB_READ_UNIT = 0.125 / 1e6
DDB_STORAGE_GB = 0.25
SES_EMAIL = 0.10 / 1000
SCHEDULER_INVOCATION = 1.00 / 1e6
KMS_KEY_MONTH = 1.00
KMS_REQUEST = 0.03 / 10000
SECRET_MONTH = 0.40
SECRETS_REQUEST = 0.05 / 10000
ALARM_MONTH = 0.10
CUSTOM_METRIC_MONTH = 0.30
DASHBOARD_MONTH = 3.00
LOG_INGEST_GB = 0.50
LOG_STORE_GB = 0.03
XRAY_TRACE = 5.00 / 1e6
EVENTBRIDGE_EVENT = 1.00 / 1e6  # a custom event put on a bus (64 KB chunks; ours are < 1 KB)
SQS_REQUEST = 0.40 / 1e6
# The event feed: per event, an entry in the whole feed, one in its account's, and the
# marker of its first position, in one transaction (2 WRU an item).
FEED_ITEMS = 3
FEED_WRU = 2 * FEED_ITEMS

# --- the signed webhooks, only with EventsWebhookUrl ---
WEBHOOK_ENDPOINT_MS = 200  # the team's endpoint answering one try (assumed)
# Lambda's SQS event source polls with about 5 long polls of 20 s at a time, all month.
SQS_POLLS = 5 * 3 * 60 * 24 * 30

# --- what the stack has ---
TEMPLATE = Path(__file__).resolve().parent.parent / "infra" / "template.yaml"


def resources_of(kind, template=TEMPLATE):
    """The logical ids of the template's resources of type `kind`, with whether each has a
    Condition (created only in some deployments). Read off the text: every resource is a
    two-space key under Resources, its Type and Condition four spaces in."""
    text = template.read_text()
    resources = text.split("\nResources:\n", 1)[1].split("\nOutputs:\n", 1)[0]
    found = []
    for block in re.split(r"\n(?=  [A-Za-z0-9]+:\n)", resources):
        head = re.match(r"\s*  ([A-Za-z0-9]+):\n", block)
        if head and re.search(rf"^    Type: {re.escape(kind)}$", block, re.M):
            found.append((head.group(1), re.search(r"^    Condition: ", block, re.M) is not None))
    return found


# Alarms every deployment has (the two function-URL 5xx alarms exist only with
# UnipileEndpoint=FunctionUrl), functions, and HTTP APIs. A second HTTP API (Unipile's) costs
# nothing of its own: HTTP APIs bill per request, and Unipile's requests only moved to it;
# its 5xx alarm is counted with the others.
ALARMS = sum(1 for _, conditional in resources_of("AWS::CloudWatch::Alarm") if not conditional)
FUNCTIONS = sum(1 for _, conditional in resources_of("AWS::Serverless::Function") if not conditional)
CUSTOM_METRICS = 30  # metrics x dimension values seen (StatusChanged by status, ...)
SECRETS = 3
WEBHOOK_ALARMS = sum(
    1 for name, conditional in resources_of("AWS::CloudWatch::Alarm") if conditional and name.startswith("EventsWebhook")
)

# --- network time added to the measured durations in AWS ---
NETWORK_MS = 8  # one DynamoDB, KMS, SES or Scheduler call from Lambda
UNIPILE_MS = 300  # one Unipile API call
COOKIE_LOGIN_MS = 4000  # a cookie connect or reconnect: Unipile logs in to LinkedIn

# --- assumptions, per connected account and month ---
ASSUMPTIONS = [
    ("share of accounts that are LinkedIn synced by the extension", 0.5),
    ("extension syncs per synced account (every 10 min, 10 h a day, 22 days)", 1320),
    ("of those, hourly heartbeats (the same cookie, an hour after its last write)", 198),
    ("of those, changed cookies (LinkedIn renews li_at about once a day)", 22),
    ("status changes per account (one outage: CREDENTIALS, then OK)", 2),
    ("deliveries that change nothing per account (Unipile's retries, duplicates)", 2),
    ("owner emails per account (one per outage, none when a cookie mends it)", 0.6),
    ("reconnect attempts per synced account (one outage, 1.5 attempts)", 1.5),
    ("landing-page visits per account (GET /accounts)", 4),
    ("hosted links per account (create or reconnect)", 0.5),
    ("table items per account (account, cookie, profile, spent states), 1 KB each", 3),
]
A = dict((name, value) for name, value in ASSUMPTIONS)


def flows(durations):
    """(flow, function, invocations per account, AWS calls, Unipile calls, WRU, RRU, KMS,
    HTTP API requests, emails, schedules) for each flow, per account and month."""
    synced = A["share of accounts that are LinkedIn synced by the extension"]
    return [
        # The same cookie within the hour: one Query (1 RRU); no KMS call, no write.
        ("unchanged cookie sync", "CookieSyncFunction",
         synced * (A["extension syncs per synced account (every 10 min, 10 h a day, 22 days)"]
                   - A["of those, hourly heartbeats (the same cookie, an hour after its last write)"]
                   - A["of those, changed cookies (LinkedIn renews li_at about once a day)"]),
         1, 0, 0, 1, 0, 1, 0, 0),
        # The same cookie an hour on: Query, the dates written (1 WRU), the account read.
        ("heartbeat cookie sync", "CookieSyncFunction",
         synced * A["of those, hourly heartbeats (the same cookie, an hour after its last write)"],
         3, 0, 1, 2, 0, 1, 0, 0),
        # A new cookie: Query, one GenerateDataKey seals both cookies, rewrite (2 WRU), account.
        ("changed cookie sync", "CookieSyncFunction",
         synced * A["of those, changed cookies (LinkedIn renews li_at about once a day)"],
         4, 0, 2, 2, 1, 1, 0, 0),
        # Read the account (1 RRU), Unipile GET, one write of the confirmed status (1 WRU),
        # with the email's mark in it when one is owed. Unipile's calls come through the HTTP
        # API (UnipileEndpoint=HttpApi, the default): one API request each.
        ("status change", "StatusWebhookFunction",
         A["status changes per account (one outage: CREDENTIALS, then OK)"],
         2, 1, 1, 1, 0, 1, 0, 0),
        # One read: the account as it is.
        ("delivery that changes nothing", "StatusWebhookFunction",
         A["deliveries that change nothing per account (Unipile's retries, duplicates)"],
         1, 0, 0, 1, 0, 1, 0, 0),
        # The owner's address read (1 RRU), then SES.
        ("owner email", "StatusWebhookFunction", 0, 0, 0, 0, 1, 0, 0,
         A["owner emails per account (one per outage, none when a cookie mends it)"], 0),
        # Read account and cookie, open both cookies (1 KMS Decrypt of the data key), log in,
        # 2 writes, next schedule.
        ("reconnect attempt", "ReconnectRetryFunction",
         synced * A["reconnect attempts per synced account (one outage, 1.5 attempts)"],
         6, 2, 2, 2, 1, 0, 0, 1),
        ("landing page", "AccountsFunction",
         A["landing-page visits per account (GET /accounts)"], 1, 0, 0, 1, 0, 1, 0, 0),
        # Link: state item + profile (2 WRU); then the notify callback: the owner read, the
        # state spent on the new account, the upsert.
        ("hosted link", "HostedLinkFunction",
         A["hosted links per account (create or reconnect)"], 2, 1, 2, 0, 0, 1, 0, 0),
        ("notify callback", "ConnectCallbackFunction",
         A["hosted links per account (create or reconnect)"], 3, 1, 2, 1, 0, 1, 0, 0),
    ]


def median_durations(path):
    found = {}
    with open(path) as f:
        for row in csv.DictReader(f, delimiter="\t"):
            found[row["function"]] = float(row["median ms"])
    return found


def lambda_cost(ms, invocations):
    return invocations * (LAMBDA_REQUEST + MEMORY_GB * ms / 1000 * LAMBDA_GB_SECOND_ARM)


def events_of(accounts):
    """Facts per month: each status change, each email's credentials_needed, each hosted
    connect or reconnect."""
    return accounts * (A["status changes per account (one outage: CREDENTIALS, then OK)"]
                       + A["owner emails per account (one per outage, none when a cookie mends it)"]
                       + A["hosted links per account (create or reconnect)"])


def webhooks(accounts, durations):
    """What EventsWebhookUrl adds: the queue's requests (EventBridge's send, the poller's
    receive and delete for each event, and its long polls), one invocation per event (they
    seldom share a batch) waiting for the endpoint, the webhook secret and its three alarms."""
    events = events_of(accounts)
    ms = durations.get("EventsWebhookFunction", 0.0) + NETWORK_MS + WEBHOOK_ENDPOINT_MS
    requests = 3 * events + SQS_POLLS
    cost = (lambda_cost(ms, events) + requests * SQS_REQUEST + SECRET_MONTH
            + 30 * 24 * 4 * SECRETS_REQUEST + WEBHOOK_ALARMS * ALARM_MONTH)
    arithmetic = (f"{events:,.0f} events x ({ms:,.0f} ms + 3 SQS requests) + {SQS_POLLS:,} long polls"
                  f" + 1 secret + {WEBHOOK_ALARMS} alarms")
    return arithmetic, cost


def month(accounts, durations):
    lines = []
    total = 0.0

    def add(what, arithmetic, cost):
        nonlocal total
        total += cost
        lines.append(f"| {what} | {arithmetic} | ${cost:,.2f} |")

    for (flow, function, per_account, aws_calls, unipile_calls, wru, rru, kms, api,
         emails, schedules) in flows(durations):
        n = per_account * accounts
        if flow == "owner email":
            n = emails * accounts
            cost = n * (SES_EMAIL + wru * DDB_WRITE_UNIT + rru * DDB_READ_UNIT)
            add(flow, f"{n:,.0f} emails x (SES ${SES_EMAIL * 1000:.2f}/1000 + {wru} WRU + {rru} RRU)", cost)
            continue
        login = COOKIE_LOGIN_MS if flow == "reconnect attempt" else 0
        ms = durations[function] + aws_calls * NETWORK_MS + unipile_calls * UNIPILE_MS + login
        compute = lambda_cost(ms, n)
        other = n * (wru * DDB_WRITE_UNIT + rru * DDB_READ_UNIT + kms * KMS_REQUEST
                     + api * HTTP_API_REQUEST + schedules * SCHEDULER_INVOCATION)
        add(flow,
            f"{n:,.0f} x ({ms:,.0f} ms x 0.125 GB + request; {wru} WRU, {rru} RRU, {kms} KMS,"
            f" {api} API, {schedules} schedule)",
            compute + other)

    # Each fact: one more write (the outbox cleared once published), the event feed's
    # transaction (three items, written transactionally: 6 WRU) and one PutEvents entry,
    # with their network time on the function that made the change. Facts per account: each
    # status change, each email's credentials_needed, each hosted connect or reconnect.
    facts = events_of(accounts)
    add("account events", f"{facts:,.0f} events x (EventBridge ${EVENTBRIDGE_EVENT * 1e6:.2f}/million"
        f" + 1 + {FEED_WRU} WRU + {3 * NETWORK_MS} ms)",
        facts * (EVENTBRIDGE_EVENT + (1 + FEED_WRU) * DDB_WRITE_UNIT
                 + lambda_cost(3 * NETWORK_MS, 1) - LAMBDA_REQUEST))
    sweeps = 30 * 24 * 12
    add("follow-up sweeper", f"{sweeps:,} runs x ({durations['FollowUpSweeperFunction'] + NETWORK_MS:.0f} ms"
        " + 1 GSI2 query + 1 GSI3 query + 1 schedule)",
        lambda_cost(durations["FollowUpSweeperFunction"] + NETWORK_MS, sweeps)
        + sweeps * (2 * 0.5 * DDB_READ_UNIT + SCHEDULER_INVOCATION))
    runs = 30 * 24
    # The feed keeps three items per event for 30 days: the Scans read them too.
    items = (A["table items per account (account, cookie, profile, spent states), 1 KB each"] * accounts
             + FEED_ITEMS * events_of(accounts))
    scan_units = max(1.0, items * 1 / 4 * 0.5)
    # Unipile's list, 250 a page, at most ReconcileMaxPages (40) pages a run.
    pages = min(40, max(1, accounts // 250))
    recon_ms = durations["AccountReconcilerFunction"] + pages * UNIPILE_MS
    add("hourly reconciliation",
        f"{runs} runs x ({recon_ms:,.0f} ms; Scan of {items:,.0f} items = {scan_units:,.0f} RRU)",
        lambda_cost(recon_ms, runs) + runs * (scan_units * DDB_READ_UNIT + SCHEDULER_INVOCATION))
    storage_gb = items / 1e6
    add("table storage", f"{storage_gb:.3f} GB x ${DDB_STORAGE_GB}", storage_gb * DDB_STORAGE_GB)
    add("KMS keys", f"3 keys (cookies, digests, alarm topic) x ${KMS_KEY_MONTH:.2f}", 3 * KMS_KEY_MONTH)
    cold_starts = FUNCTIONS * 30 * 24 * 4  # about 4 new instances an hour per function
    add("Secrets Manager", f"{SECRETS} secrets x ${SECRET_MONTH} + {cold_starts:,} cold-start reads",
        SECRETS * SECRET_MONTH + cold_starts * 2 * SECRETS_REQUEST)
    add("CloudWatch alarms, metrics, dashboard",
        f"{ALARMS} alarms x ${ALARM_MONTH} + {CUSTOM_METRICS} metrics x ${CUSTOM_METRIC_MONTH} + ${DASHBOARD_MONTH:.0f}",
        ALARMS * ALARM_MONTH + CUSTOM_METRICS * CUSTOM_METRIC_MONTH + DASHBOARD_MONTH)
    invocations = sum(f[2] for f in flows(durations)) * accounts + sweeps + runs
    log_gb = invocations * 1.5 / 1e6  # about 1.5 KB of log lines per invocation (start, decision, end)
    add("CloudWatch Logs", f"{invocations:,.0f} invocations x 1.5 KB = {log_gb:.2f} GB x (${LOG_INGEST_GB} + ${LOG_STORE_GB})",
        log_gb * (LOG_INGEST_GB + LOG_STORE_GB))
    # X-Ray's default sampling: the first request each second, then 5% of the rest.
    seconds = 30 * 24 * 3600
    traced = min(invocations, seconds) + 0.05 * max(0.0, invocations - seconds)
    add("X-Ray traces (Tracing: Active, default sampling)",
        f"{traced:,.0f} traces x ${XRAY_TRACE * 1e6:.0f}/million", traced * XRAY_TRACE)
    return lines, total


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--durations", default="target/rehearsal/durations.tsv")
    parser.add_argument("accounts", nargs="*", type=int, default=[1000, 100000])
    args = parser.parse_args()
    durations = median_durations(args.durations)
    print("Assumptions, per connected account and month:\n")
    for name, value in ASSUMPTIONS:
        print(f"- {name}: {value:g}")
    print(f"- network time added per AWS call: {NETWORK_MS} ms; per Unipile call: {UNIPILE_MS} ms;"
          f" per cookie login: {COOKIE_LOGIN_MS} ms")
    print("\nMeasured median durations (ms):", ", ".join(f"{k} {v:.1f}" for k, v in sorted(durations.items())))
    for accounts in args.accounts:
        lines, total = month(accounts, durations)
        print(f"\n**{accounts:,} connected accounts: ${total:,.2f} a month**\n")
        print("| item | arithmetic | per month |")
        print("|---|---|---|")
        print("\n".join(lines))
        arithmetic, cost = webhooks(accounts, durations)
        print(f"\nWith signed webhooks (EventsWebhookUrl), add ${cost:,.2f}: {arithmetic}.")


if __name__ == "__main__":
    main()
