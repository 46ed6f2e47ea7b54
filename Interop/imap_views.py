"""Sessions racing on one mailbox, each checking that what the server tells it keeps its view
of the mailbox consistent (RFC 9051 §7.5.1 EXISTS, §7.5.2 EXPUNGE, §7.5.3 FETCH; the checks
Dovecot's imaptest makes of every response):

  - EXISTS never shrinks the mailbox: only EXPUNGE removes a message;
  - EXPUNGE and FETCH name a message the session has;
  - FETCH's UID for a sequence number, once known, never changes, and UIDs ascend along the
    sequence numbers;
  - once all are quiet, every session sees the same messages with the same flags;
  - with QRESYNC enabled, expunges come as VANISHED, never EXPUNGE (RFC 7162 §3.2.10);
  - every body FETCH serves as many octets as RFC822.SIZE says;
  - every command but an EXPUNGE that lost a race ends in OK, and a FETCH that loses messages
    to another session's expunge says so with NO [EXPUNGEISSUED] (RFC 9051 §7.1): a body
    whose file an expunge took meanwhile is not an error (no "message cannot be read").

Two sessions APPEND while three others FETCH, STORE, SEARCH, mark, EXPUNGE and IDLE at random.
With an SMTP port, the second one delivers by SMTP instead (to the account's INBOX: pass INBOX
as the mailbox).

Usage: python3 imap_views.py PORT USER PASSWORD MAILBOX SECONDS [SMTPPORT]. Prints one summary
line; exits 1 with the first problems on stderr when the server broke an invariant.
"""
import random
import re
import smtplib
import socket
import sys
import threading
import time

PORT, USER, PASSWORD, MAILBOX, SECONDS = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4], float(sys.argv[5])
SMTP_PORT = int(sys.argv[6]) if len(sys.argv) > 6 else None
LITERAL = re.compile(rb"\{(\d+)\}\r\n$")
problems = []
counts = {"commands": 0, "exists": 0, "expunge": 0, "vanished": 0, "fetch": 0, "expungeissued": 0}
lock = threading.Lock()
# The final comparison waits until every session has stopped changing the mailbox.
quiet = threading.Barrier(5)
final_flags = {}  # each checking session's flags of every message, once all are quiet


def problem(session, text):
    with lock:
        problems.append(f"session {session}: {text}")


class Session:
    def __init__(self, name, qresync=False):
        self.name = name
        self.qresync = qresync
        self.sock = socket.create_connection(("127.0.0.1", PORT), timeout=30)
        self.file = self.sock.makefile("rb")
        self.tag = 0
        self.view = None  # UIDs by sequence number (None: not known yet); set by SELECT
        self.file.readline()

    def response(self):
        """One whole response: its first line's text with every literal's octets inlined."""
        line = self.file.readline()
        if not line:
            raise EOFError("connection closed")
        whole = line
        while (match := LITERAL.search(line)):
            whole += self.file.read(int(match.group(1)))
            line = self.file.readline()
            whole += line
        return whole

    def command(self, text):
        self.tag += 1
        tag = b"v%d" % self.tag
        self.sock.sendall(tag + b" " + text.encode() + b"\r\n")
        while True:
            response = self.response()
            if response.startswith(tag + b" "):
                with lock:
                    counts["commands"] += 1
                return response[len(tag) + 1:].split(b"\r\n", 1)[0]
            if response.startswith(b"* "):
                self.untagged(response)

    def untagged(self, response):
        if self.view is None:
            return
        if (match := re.match(rb"\* (\d+) EXISTS", response)):
            exists = int(match.group(1))
            if exists < len(self.view):
                problem(self.name, f"EXISTS {exists} below the {len(self.view)} messages it had")
            self.view += [None] * (exists - len(self.view))
            with lock:
                counts["exists"] += 1
        elif (match := re.match(rb"\* VANISHED (\(EARLIER\) )?([0-9:,]+)", response)):
            if not self.qresync:
                problem(self.name, "VANISHED without QRESYNC enabled")
            elif not match.group(1):
                self.vanished(match.group(2))
        elif (match := re.match(rb"\* (\d+) EXPUNGE", response)):
            if self.qresync:
                problem(self.name, "EXPUNGE with QRESYNC enabled (RFC 7162 §3.2.10: VANISHED instead)")
            number = int(match.group(1))
            if not 1 <= number <= len(self.view):
                problem(self.name, f"EXPUNGE {number} of {len(self.view)} messages")
            else:
                del self.view[number - 1]
            with lock:
                counts["expunge"] += 1
        elif (match := re.match(rb"\* (\d+) FETCH \(", response)):
            number = int(match.group(1))
            uid = re.search(rb"[( ]UID (\d+)", response)
            if not 1 <= number <= len(self.view):
                problem(self.name, f"FETCH {number} of {len(self.view)} messages: {response[:80]!r}")
            elif uid:
                uid = int(uid.group(1))
                known = self.view[number - 1]
                if known is not None and known != uid:
                    problem(self.name, f"FETCH {number} says UID {uid}, it was UID {known}")
                self.view[number - 1] = uid
                before = [u for u in self.view[:number - 1] if u is not None]
                after = [u for u in self.view[number:] if u is not None]
                if (before and before[-1] >= uid) or (after and after[0] <= uid):
                    problem(self.name, f"UID {uid} at {number} is out of order")
            size, body = re.search(rb"RFC822\.SIZE (\d+)", response), re.search(rb"BODY\[\] \{(\d+)\}", response)
            if size and body and size.group(1) != body.group(1):
                problem(self.name, f"FETCH {number}: a body of {body.group(1)} octets, RFC822.SIZE {size.group(1)}")
            with lock:
                counts["fetch"] += 1

    def vanished(self, text):
        """RFC 7162 §3.2.10: each UID leaves the view. A UID the session has not learnt yet
        (its message known only from EXISTS) stands in a gap of unknown UIDs between the known
        ones around it, as UIDs ascend: one of that gap goes."""
        uids = []
        for part in text.split(b","):
            low, _, high = part.partition(b":")
            first, last = int(low), int(high or low)
            uids += range(min(first, last), max(first, last) + 1)
        for uid in uids:
            if uid in self.view:
                self.view.remove(uid)
                continue
            below = max((i for i, u in enumerate(self.view) if u is not None and u < uid), default=-1)
            above = min((i for i, u in enumerate(self.view) if u is not None and u > uid), default=len(self.view))
            gap = [i for i in range(below + 1, above) if self.view[i] is None]
            if not gap:
                problem(self.name, f"VANISHED {uid}, which the session has no place for")
                continue
            del self.view[gap[0]]
        with lock:
            counts["vanished"] += len(uids)

    def idle(self, seconds):
        """IDLE (RFC 2177) for `seconds`, checking what is pushed meanwhile, then DONE."""
        self.tag += 1
        tag = b"v%d" % self.tag
        self.sock.sendall(tag + b" IDLE\r\n")
        while not (response := self.response()).startswith(b"+"):
            if response.startswith(tag + b" "):
                return response[len(tag) + 1:]
            self.untagged(response)
        # What is pushed meanwhile waits in the socket and is read, in order, before the
        # tagged OK.
        time.sleep(seconds)
        self.sock.sendall(b"DONE\r\n")
        while not (response := self.response()).startswith(tag + b" "):
            self.untagged(response)
        with lock:
            counts["commands"] += 1
        return response[len(tag) + 1:].split(b"\r\n", 1)[0]

    def select(self):
        self.view = []
        status = self.command(f"SELECT {MAILBOX}")
        if not status.startswith(b"OK"):
            problem(self.name, f"SELECT: {status!r}")


def appender(name, stop):
    session = Session(name)
    session.command(f"LOGIN {USER} {PASSWORD}")
    number = 0
    while time.time() < stop:
        body = (f"From: a@example.com\r\nSubject: {name} {number}\r\n\r\n" + "a line\r\n" * random.randint(1, 400)).encode()
        session.tag += 1
        tag = b"v%d" % session.tag
        session.sock.sendall(tag + b" APPEND " + MAILBOX.encode() + b" {%d+}\r\n" % len(body) + body + b"\r\n")
        while not (response := session.response()).startswith(tag + b" "):
            pass
        if not response[len(tag) + 1:].startswith(b"OK"):
            problem(name, f"APPEND: {response!r}")
        number += 1
    quiet.wait()


def deliverer(name, stop):
    with smtplib.SMTP("127.0.0.1", SMTP_PORT, timeout=30) as smtp:
        number = 0
        while time.time() < stop:
            body = f"From: b@example.com\r\nSubject: {name} {number}\r\n\r\n" + "a line\r\n" * random.randint(1, 400)
            try:
                smtp.sendmail("b@example.com", [USER], body.encode())
            except smtplib.SMTPException as error:
                problem(name, f"SMTP delivery: {error}")
            number += 1
    quiet.wait()


def checker(name, stop, qresync=False):
    session = Session(name, qresync)
    session.command(f"LOGIN {USER} {PASSWORD}")
    if qresync and not session.command("ENABLE QRESYNC").startswith(b"OK"):
        problem(name, "ENABLE QRESYNC failed")
    session.select()
    while time.time() < stop:
        count = len(session.view)
        some = str(random.randint(1, count)) if count else None
        choice = random.choice(["noop", "fetch", "uidfetch", "store", "uidstore", "search", "expunge", "bodies", "idle"])
        if choice == "noop":
            status = session.command("NOOP")
        elif choice == "idle":
            status = session.idle(random.uniform(0.01, 0.1))
        elif choice == "fetch" and count:
            status = session.command("FETCH 1:* (UID FLAGS)")
        elif choice == "uidfetch":
            status = session.command("UID FETCH 1:* (FLAGS)")
        elif choice == "store" and some:
            status = session.command(f"STORE {some} +FLAGS (\\Flagged)")
        elif choice == "uidstore":
            status = session.command("UID STORE 1:* -FLAGS.SILENT (\\Flagged)")
        elif choice == "search":
            status = session.command("UID SEARCH ALL")
        elif choice == "expunge" and count > 10 and some:
            session.command(f"STORE {some} +FLAGS.SILENT (\\Deleted)")
            status = session.command("EXPUNGE")
        elif choice == "bodies":
            status = session.command("UID FETCH 1:* (RFC822.SIZE BODY.PEEK[])")
        else:
            continue
        if status.startswith(b"NO [EXPUNGEISSUED]"):
            with lock:
                counts["expungeissued"] += 1
        elif not status.startswith(b"OK"):
            problem(name, f"{choice}: {status!r}")
    quiet.wait()
    session.command("NOOP")
    uids = []
    session.tag += 1
    tag = b"v%d" % session.tag
    session.sock.sendall(tag + b" UID SEARCH ALL\r\n")
    while not (response := session.response()).startswith(tag + b" "):
        if response.startswith(b"* SEARCH"):
            uids = [int(u) for u in response.split()[2:]]
        else:
            session.untagged(response)
    known = [u for u in session.view if u is not None]
    if len(session.view) != len(uids) or any(u not in uids for u in known):
        problem(name, f"after NOOP the session has {len(session.view)} messages, the mailbox {len(uids)}")
    # Every session then sees the same flags on every message.
    flags = {}
    session.tag += 1
    tag = b"v%d" % session.tag
    session.sock.sendall(tag + b" UID FETCH 1:* (FLAGS)\r\n")
    while not (response := session.response()).startswith(tag + b" "):
        session.untagged(response)
        if (uid := re.search(rb"[( ]UID (\d+)", response)) and (found := re.search(rb"FLAGS \(([^)]*)\)", response)):
            flags[int(uid.group(1))] = set(found.group(1).split()) - {b"\\Recent"}
    if set(flags) != set(uids):
        problem(name, f"UID FETCH 1:* (FLAGS) gave {len(flags)} messages, UID SEARCH ALL {len(uids)}")
    with lock:
        final_flags[name] = flags


def main():
    setup = Session("setup")
    setup.command(f"LOGIN {USER} {PASSWORD}")
    setup.command(f"CREATE {MAILBOX}")
    stop = time.time() + SECONDS
    threads = [threading.Thread(target=appender, args=("append0", stop))]
    threads.append(threading.Thread(target=deliverer, args=("smtp", stop)) if SMTP_PORT else threading.Thread(target=appender, args=("append1", stop)))
    # The third checking session has QRESYNC enabled: it is told of expunges by VANISHED.
    threads += [threading.Thread(target=checker, args=(f"check{n}", stop, n == 2)) for n in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    views = list(final_flags.items())
    for name, flags in views[1:]:
        if flags != views[0][1]:
            differing = [uid for uid in set(flags) | set(views[0][1]) if flags.get(uid) != views[0][1].get(uid)]
            problem(name, f"flags differ from {views[0][0]}'s on UIDs {sorted(differing)[:5]}")
    if problems:
        for text in problems[:10]:
            print(text, file=sys.stderr)
        print(f"views: {len(problems)} problems", file=sys.stderr)
        sys.exit(1)
    print("views: " + ", ".join(f"{key} {value}" for key, value in counts.items()))


main()
