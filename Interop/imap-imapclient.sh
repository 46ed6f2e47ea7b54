#!/usr/bin/env bash
# Interop test: `tern localserve` against PyPI's imapclient, over the commands imaplib does
# not make easy: ENABLE, ID, NAMESPACE, LIST-EXTENDED / LIST-STATUS with SPECIAL-USE,
# CONDSTORE (FETCH CHANGEDSINCE, STORE UNCHANGEDSINCE with MODIFIED, SEARCH MODSEQ), QRESYNC
# (SELECT with VANISHED (EARLIER), UID FETCH CHANGEDSINCE ... VANISHED), ESEARCH, MOVE, UID
# EXPUNGE, SORT, THREAD, GETQUOTAROOT, IDLE with an SMTP delivery meanwhile, APPEND with
# flags and an internal date, BINARY and BINARY.SIZE of a base64 attachment (with NUL octets,
# so literal8), and ENABLE UTF8=ACCEPT with a non-ASCII folder name.
#
# COMPRESS=DEFLATE is not tested here: imapclient (4.x) has no COMPRESS support; imap.sh
# drives it with raw deflate instead.
#
# imapclient comes from PyPI (`python3 -m pip install imapclient`), with Debian's
# python3-imapclient as the fallback.
#
# Usage: TERN=/path/to/tern bash Interop/imap-imapclient.sh (TERN defaults to the debug
# build). Loopback only. The last stdout line is `PASS imap-imapclient (N checks)` or
# `FAIL imap-imapclient: <reason>`.
set -euo pipefail
NAME=imap-imapclient
# shellcheck source=Interop/lib.bash
source "$(dirname "${BASH_SOURCE[0]}")/lib.bash"
TMP=$(mktemp -d)
LOCALSERVE_PID=""
cleanup() { [ -n "$LOCALSERVE_PID" ] && kill "$LOCALSERVE_PID" 2>/dev/null; [ -n "${KEEP_TMP:-}" ] || rm -rf "$TMP"; }
trap cleanup EXIT

PYTHON=python3
if ! "$PYTHON" -c 'import imapclient' 2>/dev/null; then
    log "installing imapclient from PyPI"
    "$PYTHON" -m pip install -q imapclient >/dev/null 2>&1 \
        || "$PYTHON" -m pip install -q --break-system-packages imapclient >/dev/null 2>&1 \
        || { apt_install /nonexistent python3-imapclient; PYTHON=/usr/bin/python3; }
    "$PYTHON" -c 'import imapclient' 2>/dev/null || fail "imapclient could not be installed"
fi
log "imapclient $("$PYTHON" -c 'import imapclient; print(imapclient.__version__)')"

# The first start writes domains.yaml; restart with a quota for the account (RFC 9208 needs a
# quota root to report).
start_localserve "$TMP/ls"
kill "$LOCALSERVE_PID"; wait "$LOCALSERVE_PID" 2>/dev/null || true
sed -i 's/^    Domain: localhost$/    Domain: localhost\n    QuotaBytes: 50000000/' "$TMP/ls/domains.yaml"
grep -q 'QuotaBytes: 50000000' "$TMP/ls/domains.yaml" || fail "could not set a quota in domains.yaml"
start_localserve "$TMP/ls"
log "localserve: IMAP $IMAP, IMAPS $IMAPS, SMTP $SMTP"

if ! timeout 300 "$PYTHON" - "$IMAPS" "$IMAP" "$SMTP" tern@localhost "$PASSWORD" >"$TMP/check.log" 2>&1 <<'PY'
import base64, datetime, email.utils, re, smtplib, ssl, sys, time
from imapclient import IMAPClient
from imapclient.imapclient import SENT, TRASH, DRAFTS
from imapclient.response_parser import parse_response

tls_port, plain_port, smtp_port, user, password = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5]
context = ssl._create_unverified_context()
checks = 0

def ok(cond, what):
    global checks
    if not cond:
        raise SystemExit("check failed: " + what)
    checks += 1
    print("ok:", what.split(":")[0], flush=True)

def deliver(data):
    s = smtplib.SMTP("127.0.0.1", smtp_port)
    s.sendmail("sender@example.org", [user], data)
    s.quit()

def message(subject, msgid, date, extra="", body="Body.\r\n"):
    return ("From: Sender <sender@example.org>\r\nTo: %s\r\nSubject: %s\r\nDate: %s\r\nMessage-ID: <%s>\r\n%s\r\n%s"
            % (user, subject, date, msgid, extra, body)).encode()

def connect():
    c = IMAPClient("127.0.0.1", port=tls_port, ssl=True, ssl_context=context, timeout=30)
    c.normalise_times = False
    c.login(user, password)
    return c

def raw(c, command, args, uid=False):
    """A command imapclient has no method for; returns (tagged status, untagged responses)."""
    c._imap.untagged_responses.clear()
    typ, data = c._raw_command(command, args, uid=uid)
    untagged = {k: list(v) for k, v in c._imap.untagged_responses.items()}
    c._imap.untagged_responses.clear()
    return typ, data, untagged

# --- Messages: a thread of three, two unrelated, one with a binary attachment.
deliver(message("Thread root", "root@example.org", "Mon, 5 Jan 2026 10:00:00 +0000"))
deliver(message("Re: Thread root", "reply@example.org", "Mon, 5 Jan 2026 11:00:00 +0000",
                "In-Reply-To: <root@example.org>\r\nReferences: <root@example.org>\r\n"))
deliver(message("Re: Re: Thread root", "reply2@example.org", "Mon, 5 Jan 2026 12:00:00 +0000",
                "In-Reply-To: <reply@example.org>\r\nReferences: <root@example.org> <reply@example.org>\r\n"))
deliver(message("apples", "apples@example.org", "Sun, 4 Jan 2026 09:00:00 +0000"))
deliver(message("bananas", "bananas@example.org", "Tue, 6 Jan 2026 09:00:00 +0000"))
# Part 2: 8-bit octets but no NUL (a plain literal does); part 3: with NUL (needs literal8).
attachment = bytes(range(1, 256)) * 40 + b"end"
with_nul = bytes(range(256)) * 4 + b"\x00\x00end"
b64 = lambda data: base64.encodebytes(data).decode().replace("\n", "\r\n")
deliver(message("binary", "binary@example.org", "Wed, 7 Jan 2026 09:00:00 +0000",
                "MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=zz\r\n",
                "--zz\r\nContent-Type: text/plain\r\n\r\nSee attachment.\r\n--zz\r\nContent-Type: application/octet-stream\r\n"
                "Content-Transfer-Encoding: base64\r\n\r\n" + b64(attachment) + "--zz\r\nContent-Type: application/octet-stream\r\n"
                "Content-Transfer-Encoding: base64\r\n\r\n" + b64(with_nul) + "--zz--\r\n"))

c = connect()
caps = c.capabilities()
for cap in (b"ENABLE", b"ID", b"NAMESPACE", b"LIST-EXTENDED", b"LIST-STATUS", b"SPECIAL-USE", b"CONDSTORE", b"QRESYNC",
            b"ESEARCH", b"MOVE", b"UIDPLUS", b"SORT", b"THREAD=REFERENCES", b"THREAD=ORDEREDSUBJECT", b"QUOTA", b"IDLE",
            b"BINARY", b"UTF8=ACCEPT"):
    ok(cap in caps, "capability %s: %r" % (cap, caps))

# --- ID (RFC 2971), NAMESPACE (RFC 2342).
server_id = c.id_({"name": "tern-interop", "version": "1.0"})
fields = server_id[0] if server_id and isinstance(server_id[0], tuple) else server_id  # ((b"name", b"Tern", ...),)
fields = dict(zip(fields[::2], fields[1::2]))
ok(fields.get(b"name") == b"Tern", "ID returns the server's name: %r" % (server_id,))
ns = c.namespace()
ok(ns.personal and ns.personal[0][0] == "" and ns.personal[0][1] == "/", "NAMESPACE personal \"\" \"/\": %r" % (ns,))

# --- ENABLE (RFC 5161).
enabled = c.enable("CONDSTORE", "QRESYNC")
ok(set(enabled) == {b"CONDSTORE", b"QRESYNC"}, "ENABLE CONDSTORE QRESYNC: %r" % enabled)

# --- Folders; SPECIAL-USE (RFC 6154), LIST-EXTENDED (RFC 5258), LIST-STATUS (RFC 5819).
c.create_folder("Work")
c.create_folder("Work/Reports")
ok(c.find_special_folder(SENT) == "Sent" and c.find_special_folder(TRASH) == "Trash" and c.find_special_folder(DRAFTS) == "Drafts",
   "find_special_folder Sent, Trash, Drafts")
typ, data, untagged = raw(c, b"LIST", [b"(SPECIAL-USE)", b'""', b'"*"'])
listed = [parse_response([line]) for line in untagged.get("LIST", [])]
ok(typ == "OK" and listed and all(any(a in (b"\\Sent", b"\\Trash", b"\\Drafts", b"\\Junk", b"\\Archive", b"\\All", b"\\Flagged")
                                      for a in entry[0]) for entry in listed),
   "LIST (SPECIAL-USE) lists only special-use mailboxes: %r" % listed)
ok(not any(entry[2] == "Work" or entry[2] == b"Work" for entry in listed), "LIST (SPECIAL-USE) leaves out Work")
typ, data, untagged = raw(c, b"LIST", [b'""', b'("INBOX" "Work*")', b"RETURN", b"(SPECIAL-USE CHILDREN STATUS (MESSAGES UNSEEN UIDNEXT))"])
text = lambda v: v.decode() if isinstance(v, bytes) else str(v)
listed = {text(parse_response([line])[2]): parse_response([line])[0] for line in untagged.get("LIST", [])}
ok(typ == "OK" and set(listed) == {"INBOX", "Work", "Work/Reports"}, "LIST-EXTENDED with two patterns: %r" % listed)
ok(b"\\HasChildren" in listed["Work"] and b"\\HasNoChildren" in listed["Work/Reports"], "RETURN (CHILDREN): %r" % listed)
statuses = {}
for line in untagged.get("STATUS", []):
    parsed = parse_response([line])
    statuses[text(parsed[0])] = dict(zip(parsed[1][::2], parsed[1][1::2]))
ok(statuses.get("INBOX", {}).get(b"MESSAGES") == 6 and statuses["INBOX"].get(b"UNSEEN") == 6,
   "LIST-STATUS: INBOX MESSAGES 6 UNSEEN 6: %r" % statuses)
ok(statuses.get("Work", {}).get(b"MESSAGES") == 0 and b"UIDNEXT" in statuses["Work"], "LIST-STATUS for Work: %r" % statuses)

# --- CONDSTORE (RFC 7162 §3.1).
info = c.select_folder("INBOX")
highest = info.get(b"HIGHESTMODSEQ")
ok(isinstance(highest, int) and highest > 0, "SELECT reports HIGHESTMODSEQ: %r" % info)
uids = c.search("ALL")
ok(len(uids) == 6, "SEARCH ALL: %r" % uids)
by_subject = {v[b"ENVELOPE"].subject: k for k, v in c.fetch(uids, ["ENVELOPE"]).items()}
root, reply, reply2 = by_subject[b"Thread root"], by_subject[b"Re: Thread root"], by_subject[b"Re: Re: Thread root"]
apples, bananas, binary = by_subject[b"apples"], by_subject[b"bananas"], by_subject[b"binary"]
c.add_flags([apples], [b"\\Flagged"])
changed = c.fetch(uids, ["FLAGS"], modifiers=["CHANGEDSINCE %d" % highest])
ok(list(changed) == [apples] and changed[apples][b"MODSEQ"][0] > highest, "FETCH CHANGEDSINCE returns only the changed message: %r" % changed)
apples_modseq = changed[apples][b"MODSEQ"][0]
typ, data = c._raw_command(b"STORE", [str(apples).encode(), b"(UNCHANGEDSINCE %d)" % highest, b"+FLAGS", b"($Stale)"])
ok(typ == "OK" and b"[MODIFIED %d]" % apples in data[0], "STORE UNCHANGEDSINCE older mod-sequence: MODIFIED: %r" % data)
ok(b"$Stale" not in c.get_flags([apples])[apples], "the conditional STORE changed nothing")
typ, data = c._raw_command(b"STORE", [str(apples).encode(), b"(UNCHANGEDSINCE %d)" % apples_modseq, b"+FLAGS", b"($Fresh)"])
ok(typ == "OK" and b"MODIFIED" not in data[0], "STORE UNCHANGEDSINCE current mod-sequence succeeds: %r" % data)
ok(b"$Fresh" in c.get_flags([apples])[apples], "the conditional STORE set $Fresh")
found = c.search(["MODSEQ", str(highest + 1)])
ok(list(found) == [apples] and getattr(found, "modseq", 0) and found.modseq >= apples_modseq,
   "SEARCH MODSEQ with the (MODSEQ n) result: %r %r" % (found, getattr(found, "modseq", None)))

# --- ESEARCH (RFC 4731).
typ, data, untagged = raw(c, b"SEARCH", [b"RETURN", b"(MIN MAX COUNT ALL)", b"ALL"], uid=True)
esearch = untagged.get("ESEARCH", [b""])[0]
ok(typ == "OK" and b"UID" in esearch and b"COUNT 6" in esearch and b"MIN %d" % min(uids) in esearch
   and b"MAX %d" % max(uids) in esearch, "UID SEARCH RETURN (MIN MAX COUNT ALL): %r" % esearch)

# --- SORT and THREAD (RFC 5256).
ok(c.sort(["DATE"]) == [apples, root, reply, reply2, bananas, binary], "SORT (DATE): %r" % c.sort(["DATE"]))
ok(c.sort(["REVERSE", "DATE"]) == [binary, bananas, reply2, reply, root, apples], "SORT (REVERSE DATE)")
ok(c.sort(["SUBJECT", "DATE"]) == [apples, bananas, binary, root, reply, reply2], "SORT (SUBJECT DATE) strips Re: %r" % c.sort(["SUBJECT", "DATE"]))
threads = c.thread("REFERENCES")
ok((root, reply, reply2) in threads and (apples,) in threads and len(threads) == 4, "THREAD REFERENCES: %r" % (threads,))
threads = c.thread("ORDEREDSUBJECT")
# RFC 5256 §3: one thread per base subject, later messages all children of the first.
ok((root, (reply,), (reply2,)) in threads and (apples,) in threads and len(threads) == 4, "THREAD ORDEREDSUBJECT: %r" % (threads,))

# --- BINARY (RFC 3516): the decoded attachment, with NUL octets (literal8).
fetched = c.fetch([binary], ["BINARY.PEEK[2]", "BINARY.SIZE[2]"])[binary]
ok(fetched.get(b"BINARY[2]") == attachment, "BINARY.PEEK[2] is the decoded attachment (%d octets)" % len(fetched.get(b"BINARY[2]") or b""))
ok(fetched.get(b"BINARY.SIZE[2]") == len(attachment), "BINARY.SIZE[2]: %r" % fetched.get(b"BINARY.SIZE[2]"))
ok(b"\\Seen" not in c.get_flags([binary])[binary], "BINARY.PEEK leaves \\Seen unset")
# imapclient cannot parse literal8 (`~{n}`, RFC 3516 §4.3), which decoded data with NUL needs;
# imaplib's literal reading copes, so check that part through it.
typ, data = c._imap.uid("FETCH", str(binary), "(BINARY.PEEK[3])")
ok(typ == "OK" and data[0][0].endswith(b"BINARY[3] ~{%d}" % len(with_nul)) and data[0][1] == with_nul,
   "BINARY.PEEK[3] with NUL octets comes as literal8: %r" % (data[0][0],))

# --- MOVE (RFC 6851) and UID EXPUNGE (RFC 4315).
result = c.move([bananas], "Work")
ok(c.folder_status("Work", ["MESSAGES"])[b"MESSAGES"] == 1, "MOVE to Work")
ok(bananas not in c.search("ALL"), "moved message gone from INBOX")
c.add_flags([apples, reply2], [b"\\Deleted"], silent=True)
c.uid_expunge([apples])
remaining = c.search("ALL")
ok(apples not in remaining and reply2 in remaining, "UID EXPUNGE removes only the given UID: %r" % remaining)
c.remove_flags([reply2], [b"\\Deleted"])

# --- GETQUOTAROOT (RFC 9208).
roots, quotas = c.get_quota_root("INBOX")
ok(roots.mailbox == "INBOX" and roots.quota_roots is not None, "GETQUOTAROOT roots: %r" % (roots,))
storage = [q for q in quotas if q.resource.upper() == "STORAGE"]
# RFC 9208 §5.1: STORAGE is in units of 1024 octets.
ok(storage and 0 < storage[0].usage < storage[0].limit and storage[0].limit == 50000000 // 1024, "QUOTA STORAGE usage and limit: %r" % quotas)

# --- QRESYNC (RFC 7162 §3.2): resynchronise after changes made by another session.
info = c.select_folder("INBOX")
uidvalidity, modseq = info[b"UIDVALIDITY"], info[b"HIGHESTMODSEQ"]
c.unselect_folder()
other = connect()
other.select_folder("INBOX")
other.add_flags([root], [b"\\Answered"])
other.add_flags([reply], [b"\\Deleted"])
other.expunge()
other.logout()
typ, data, untagged = raw(c, b"SELECT", [b"INBOX", b"(QRESYNC (%d %d 1:%d))" % (uidvalidity, modseq, max(uids))])
c._imap.state = "SELECTED"
vanished = untagged.get("VANISHED", [])
ok(typ == "OK" and vanished == [b"(EARLIER) %d" % reply], "SELECT (QRESYNC ...) reports VANISHED (EARLIER): %r" % untagged)
fetches = [parse_response([line]) for line in untagged.get("FETCH", [])]
ok(any(str(root).encode() in line and b"\\Answered" in line and b"MODSEQ" in line for line in untagged.get("FETCH", [])),
   "SELECT (QRESYNC ...) sends the flag change with UID and MODSEQ: %r" % untagged.get("FETCH"))
typ, data, untagged = raw(c, b"FETCH", [b"1:*", b"(FLAGS)", b"(CHANGEDSINCE %d VANISHED)" % modseq], uid=True)
ok(typ == "OK" and untagged.get("VANISHED") == [b"(EARLIER) %d" % reply], "UID FETCH (CHANGEDSINCE n VANISHED): %r" % untagged)
c.add_flags([root], [b"\\Deleted"])
typ, data, untagged = raw(c, b"EXPUNGE", [])
ok(typ == "OK" and untagged.get("VANISHED") == [str(root).encode()] and "EXPUNGE" not in untagged,
   "EXPUNGE under QRESYNC answers VANISHED, not EXPUNGE: %r" % untagged)

# --- APPEND with flags and an internal date (RFC 9051 §6.3.12).
when = datetime.datetime(2020, 5, 17, 12, 34, 56, tzinfo=datetime.timezone(datetime.timedelta(hours=2)))
appended = message("appended", "appended@example.org", "Sun, 17 May 2020 12:34:56 +0200")
response = c.append("Work", appended, flags=[b"\\Seen", b"$Label1"], msg_time=when)
ok(b"APPENDUID" in response, "APPEND answers APPENDUID: %r" % response)
uid = int(re.search(rb"APPENDUID \d+ (\d+)", response).group(1))
c.select_folder("Work")
fetched = c.fetch([uid], ["FLAGS", "INTERNALDATE", "BODY.PEEK[]", "RFC822.SIZE"])[uid]
ok(set(fetched[b"FLAGS"]) >= {b"\\Seen", b"$Label1"}, "APPEND flags: %r" % (fetched[b"FLAGS"],))
# The same instant; the zone need not be kept (RFC 9051 §2.3.3 only asks for the date-time).
ok(fetched[b"INTERNALDATE"] == when, "APPEND internal date kept: %r" % fetched[b"INTERNALDATE"])
ok(fetched[b"BODY[]"] == appended and fetched[b"RFC822.SIZE"] == len(appended), "appended octets")

# --- IDLE (RFC 2177): an SMTP delivery during IDLE is pushed as EXISTS.
info = c.select_folder("INBOX")
count = info[b"EXISTS"]
c.idle()
deliver(message("during idle", "idle@example.org", "Thu, 8 Jan 2026 09:00:00 +0000"))
responses = []
deadline = time.time() + 20
while time.time() < deadline and not any(r[1] == b"EXISTS" for r in responses if isinstance(r, tuple) and len(r) > 1):
    responses += c.idle_check(timeout=2)
done = c.idle_done()
ok((count + 1, b"EXISTS") in responses, "EXISTS pushed during IDLE: %r" % responses)
ok(done[0].startswith(b"IDLE") or b"terminated" in done[0].lower() or done[0], "IDLE done: %r" % (done,))
c.logout()

# --- UTF8=ACCEPT (RFC 6855): UTF-8 mailbox names both ways; a rev1 client sees modified UTF-7.
u = connect()
u.folder_encode = False
ok(u.enable("UTF8=ACCEPT") == [b"UTF8=ACCEPT"], "ENABLE UTF8=ACCEPT")
typ, data = u._raw_command(b"CREATE", [b"\xc3\x84rger/B\xc3\xbcro"], uid=False)  # 8-bit: sent as a literal
ok(typ == "OK", "CREATE with a UTF-8 name: %r" % data)
names = [f[2] for f in u.list_folders("", "*rger*")]
ok(sorted(n if isinstance(n, bytes) else n.encode() for n in names) == [b"\xc3\x84rger", b"\xc3\x84rger/B\xc3\xbcro"],
   "LIST after UTF8=ACCEPT shows UTF-8 names: %r" % names)
u.logout()
r = connect()
names = [f[2] for f in r.list_folders("", "*rger*")]
ok(sorted(names) == ["Ärger", "Ärger/Büro"], "a modified UTF-7 client sees the same folders: %r" % names)
r.select_folder("Ärger/Büro")
ok(r.folder_status("Ärger/Büro", ["MESSAGES"])[b"MESSAGES"] == 0, "STATUS on a non-ASCII folder")
r.logout()
print("imapclient: %d checks" % checks)
PY
then
    grep -v '^ok:' "$TMP/check.log" | tail -20 >&2
    fail "$(tail -1 "$TMP/check.log")"
fi
CHECKS=$((CHECKS + $(awk '/^imapclient:/ {print $2}' "$TMP/check.log")))

kill "$LOCALSERVE_PID"
wait "$LOCALSERVE_PID" 2>/dev/null || true
LOCALSERVE_PID=""
succeed
