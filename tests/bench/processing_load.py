#!/usr/bin/env python3
"""processing_load.py - the load of bench_processing.sh: a mix of realistic
MIME messages (clean text, URLs in text and HTML, a PDF attachment, a zip
archive, an EICAR attachment) built once into files, sent to imsvad by
several Postfix smtp-source processes at once (a C client, so the sender is
not the bottleneck), while imsvad's /api/status is polled over one
keep-alive connection until every message reached a final state.

Usage: processing_load.py send DIR SMTP_PORT API_URL TOKEN MESSAGES SESSIONS
       processing_load.py setup API_URL TOKEN RULES SOS

send prints one JSON object: intake_s (first MAIL to last 250: the
senders' start to their exit), final_s (first MAIL to the last message
final), backlog_peak (most messages committed but not final at one poll),
states. setup adds RULES rules that match none of the load (keywords and
attachment names, alternately) and waits until the SO sync holds SOS objects.
"""
import email.message
import http.client
import io
import json
import ssl
import subprocess
import sys
import threading
import time
import urllib.parse
import zipfile

FINAL = ("delivered", "quarantined", "deleted", "handoff")
POLL_S = 0.05

LOREM = ("Quarterly figures for the lab network are attached below as agreed. "
         "Please review the numbers before the meeting on Thursday and send any "
         "corrections to the team list. ")
EICAR = r"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"


def text(size):
    return (LOREM * (size // len(LOREM) + 1))[:size]


def base(subject):
    m = email.message.EmailMessage()
    m["From"] = "Alice Sender <alice@example.com>"
    m["To"] = "bob@example.org"
    m["Subject"] = subject
    m["Date"] = "Mon, 07 Dec 2026 10:00:00 +0000"
    m["Message-ID"] = "<bench-%s@example.com>" % subject.replace(" ", "-")
    return m


def pdf(size):
    body = b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n"
    body += b"2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\n"
    body += b"3 0 obj << /Length %d >> stream\n" % size
    body += bytes((i * 7919) % 251 for i in range(size)) + b"\nendstream endobj\n"
    return body + b"trailer << /Root 1 0 R >>\n%%EOF\n"


def archive():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("notes.txt", text(3000))
        z.writestr("figures.csv", "".join("%d,%d,%d\n" % (i, i * i, i * 7) for i in range(200)))
    return buf.getvalue()


def messages():
    """(name, share of the load, message) of each kind."""
    clean = base("clean text")
    clean.set_content(text(2000))

    urls = base("links")
    links = ["http://intranet.example.com/report/%d" % i for i in range(3)] + [
        "https://www.example.org/news?id=42", "http://downloads.example.net/tool.zip"]
    urls.set_content(text(800) + "\n" + "\n".join(links) + "\n")
    urls.add_alternative("<html><body><p>%s</p>%s</body></html>" % (
        text(800), "".join('<a href="%s">link</a><br>' % u for u in links)), subtype="html")

    attach = base("pdf attachment")
    attach.set_content(text(600))
    attach.add_attachment(pdf(6000), maintype="application", subtype="pdf",
                          filename="report.pdf")

    zipped = base("zip archive")
    zipped.set_content(text(600))
    zipped.add_attachment(archive(), maintype="application", subtype="zip",
                          filename="figures.zip")

    virus = base("eicar")
    virus.set_content(text(400))
    virus.add_attachment(EICAR.encode(), maintype="application", subtype="octet-stream",
                         filename="eicar.com")
    return [("clean", 0.40, clean), ("urls", 0.20, urls), ("pdf", 0.15, attach),
            ("zip", 0.20, zipped), ("eicar", 0.05, virus)]


def build(workdir, total, sessions):
    """Write each kind to a file; (file, count, sessions) per kind, counts adding up to total."""
    plan, left, sess_left = [], total, sessions
    kinds = messages()
    for i, (name, share, msg) in enumerate(kinds):
        last = i == len(kinds) - 1
        n = left if last else int(total * share)
        s = max(1, sess_left if last else round(sessions * share))
        path = "%s/%s.eml" % (workdir, name)
        with open(path, "w") as f:  # LF lines: smtp-source -F appends the CRLF
            f.write(msg.as_string().replace("\r\n", "\n"))
        plan.append((path, n, s))
        left -= n
        sess_left -= s
    return plan


class Admin:
    """imsvad's admin API over one keep-alive HTTPS connection."""

    def __init__(self, api, token):
        u = urllib.parse.urlsplit(api)
        ctx = ssl._create_unverified_context()
        self.conn = http.client.HTTPSConnection(u.hostname, u.port, context=ctx, timeout=10)
        self.headers = {"Authorization": "Bearer " + token}

    def call(self, method, path, body=None):
        self.conn.request(method, path, body=json.dumps(body) if body else None,
                          headers=self.headers)
        r = self.conn.getresponse()
        doc = json.loads(r.read())
        if r.status >= 300:
            sys.exit("%s %s: %d %s" % (method, path, r.status, doc))
        return doc

    def counts(self):
        return self.call("GET", "/api/status")


def setup(api, token, rules, sos):
    admin = Admin(api, token)
    for i in range(int(rules)):
        cond = ({"keywords": {"subject": ["zzq-never-%d" % i], "body": ["zzq-never-%d" % i]}}
                if i % 2 == 0 else {"attachment_names": ["never-%d.scr" % i]})
        admin.call("POST", "/api/policies", {
            "name": "bench rule %d" % i, "type": "other", "conditions": cond,
            "actions": {"intercept": {"action": "deliver"}}})
    for _ in range(600):
        if admin.call("GET", "/api/connections/tmcm").get("objects") == int(sos):
            return
        time.sleep(0.2)
    sys.exit("the SO sync did not reach %s objects" % sos)


def send(workdir, smtp_port, api, token, total, sessions):
    total, sessions = int(total), int(sessions)
    plan = build(workdir, total, sessions)
    status = Admin(api, token)
    t0 = time.monotonic()
    senders = [subprocess.Popen(
        ["smtp-source", "-s", str(s), "-m", str(n), "-F", path, "-f", "bench@example.com",
         "-t", "bob@example.org", "127.0.0.1:%s" % smtp_port],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE) for path, n, s in plan if n > 0]
    exits = []

    def reap():
        for p in senders:
            p.wait()
        exits.append(time.monotonic())

    threading.Thread(target=reap, daemon=True).start()
    intake = final = None
    peak = 0
    while final is None:
        c = status.counts()
        states = c["states"]
        done = sum(states.get(s, 0) for s in FINAL)
        peak = max(peak, c["messages"] - done)
        now = time.monotonic()
        if intake is None and exits:
            intake = exits[0] - t0
            for p in senders:
                if p.returncode != 0:
                    sys.exit("smtp-source failed: %s" % p.stderr.read().decode())
        if intake is not None and done >= total:
            final = now - t0
        elif now - t0 > 600:
            sys.exit("processing did not finish in 10 minutes: %s" % json.dumps(c))
        else:
            time.sleep(POLL_S)
    print(json.dumps({"intake_s": intake, "final_s": final, "backlog_peak": peak,
                      "states": states}))


if __name__ == "__main__":
    commands = {"send": (send, 6), "setup": (setup, 4)}
    if len(sys.argv) < 2 or sys.argv[1] not in commands \
            or len(sys.argv) != commands[sys.argv[1]][1] + 2:
        sys.exit(__doc__.split("\n\n")[1])
    commands[sys.argv[1]][0](*sys.argv[2:])
