#!/usr/bin/env bash
# Interop test: `tern localserve` against Python's imaplib: capabilities, STARTTLS (when
# offered), LOGIN, LIST with special-use, CREATE/RENAME/DELETE with a modified UTF-7 name,
# STATUS, APPEND (APPENDUID), SEARCH inside a base64 body and in an RFC 2047 subject, FETCH
# of the exact octets, BODYSTRUCTURE, BINARY, STORE/COPY/MOVE/EXPUNGE, and IDLE over
# implicit TLS with a message delivered by SMTP meanwhile, reported to a second session,
# and COMPRESS=DEFLATE (RFC 4978) when advertised. Then sessions race on one mailbox
# (APPEND, FETCH, STORE, EXPUNGE; Interop/imap_views.py checks every session's view of it),
# and verifydata checks the data directory after the stop.
#
# localserve's IMAP: BASE+143 (plaintext login allowed on loopback), BASE+993 (implicit
# TLS); SMTP on BASE+25 delivers into the account.
#
# Usage: TERN=/path/to/tern bash Interop/imap.sh (TERN defaults to the debug build).
# Loopback only. The last stdout line is `PASS imap (N checks)` or `FAIL imap: <reason>`.
set -euo pipefail
NAME=imap
# shellcheck source=Interop/lib.bash
source "$(dirname "${BASH_SOURCE[0]}")/lib.bash"
TMP=$(mktemp -d)
PID=""
cleanup() { [ -n "$PID" ] && kill -9 "$PID" 2>/dev/null; rm -rf "$TMP"; }
trap cleanup EXIT

for _ in $(seq 1 20); do
    pick_base_port
    port_used $((BASE + 143)) || port_used $((BASE + 993)) || break
done
IMAP=$((BASE + 143)); IMAPS=$((BASE + 993)); SMTP=$((BASE + 25))

"$TERN" localserve --dir "$TMP/ls" --base-port "$BASE" >"$TMP/out" 2>"$TMP/err" &
PID=$!
for _ in $(seq 1 100); do grep -q '^password:' "$TMP/out" 2>/dev/null && break; sleep 0.2; done
grep -q '^password:' "$TMP/out" || { tail -20 "$TMP/err" >&2; fail "localserve did not start"; }
PASSWORD=$(awk '/^password:/ {print $2}' "$TMP/out")
for _ in $(seq 1 50); do port_listening "$IMAP" && port_listening "$IMAPS" && break; sleep 0.2; done
port_listening "$IMAP" || fail "nothing listens on the IMAP port $IMAP"

log "check: python imaplib session"
if ! timeout 120 python3 - 127.0.0.1 "$IMAP" "$IMAPS" tern@localhost "$PASSWORD" "smtp:$SMTP" >"$TMP/check.log" 2>&1 <<'PY'
import imaplib, re, socket, ssl, sys, time, base64, os, smtplib, zlib

host, plain_port, tls_port, user, password, deliver = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5], sys.argv[6]
unverified = ssl._create_unverified_context()
checks = 0

def ok(cond, what):
    global checks
    if not cond:
        raise SystemExit("check failed: " + what)
    checks += 1

def deliver_message(subject):
    msg = ("From: Sender <sender@example.org>\r\nTo: %s\r\nSubject: %s\r\nMessage-ID: <%s@example.org>\r\n\r\nDelivered body.\r\n" % (user, subject, subject.replace(" ", "-"))).encode()
    if deliver.startswith("smtp:"):
        s = smtplib.SMTP("127.0.0.1", int(deliver[5:]))
        s.sendmail("sender@example.org", [user if "@" in user else user + "@localhost"], msg)
        s.quit()
    else:
        path = deliver[4:]
        with open(path + "/.tmp-deliver", "wb") as f:
            f.write(msg)
        os.rename(path + "/.tmp-deliver", path + "/deliver-%d" % time.time_ns())

# Plaintext port: capabilities, STARTTLS when offered, LOGIN.
m = imaplib.IMAP4("127.0.0.1", plain_port)
caps = m.capabilities
for cap in ("IMAP4REV2", "IMAP4REV1", "IDLE", "UIDPLUS", "MOVE", "CONDSTORE", "QRESYNC", "ESEARCH", "SPECIAL-USE", "LITERAL+"):
    ok(cap in caps, "capability " + cap + " in " + repr(caps))
if "STARTTLS" in caps:
    typ, _ = m.starttls(ssl_context=unverified)
    ok(typ == "OK", "STARTTLS")
typ, data = m.login(user, password)
ok(typ == "OK", "LOGIN")
typ, data = m.list()
names = b"\n".join(data)
ok(typ == "OK" and b"INBOX" in names and b"\\Sent" in names and b"\\Trash" in names, "LIST with special-use: %r" % data)
ok(m.create("&AOQ-rger/Sub")[0] == "OK", "CREATE with modified UTF-7")
ok(m.rename("&AOQ-rger", "Projekte")[0] == "OK", "RENAME")
typ, data = m.list('""', "Projekte*")
ok(len(data) == 2 and b"Projekte/Sub" in b"".join(data), "LIST after RENAME: %r" % data)
ok(m.delete("Projekte/Sub")[0] == "OK" and m.delete("Projekte")[0] == "OK", "DELETE")
typ, data = m.status("INBOX", "(MESSAGES UIDNEXT UNSEEN SIZE)")
ok(typ == "OK" and b"MESSAGES" in data[0], "STATUS: %r" % data)

# APPEND a multipart message whose word is only inside base64.
body = base64.b64encode(b"The secret word is zeppelin.\r\n").decode()
message = ("From: Alice <alice@example.org>\r\nTo: Bob <bob@example.com>\r\nSubject: =?UTF-8?Q?Gr=C3=BC=C3=9Fe?=\r\n"
           "Date: Thu, 1 Jan 2026 10:00:00 +0100\r\nMessage-ID: <interop-1@example.org>\r\nMIME-Version: 1.0\r\n"
           "Content-Type: multipart/alternative; boundary=xyz\r\n\r\n--xyz\r\nContent-Type: text/plain; charset=utf-8\r\n"
           "Content-Transfer-Encoding: base64\r\n\r\n" + body + "\r\n--xyz--\r\n").encode()
typ, data = m.append("INBOX", "(\\Seen $Interop)", imaplib.Time2Internaldate(time.time()), message)
ok(typ == "OK" and b"APPENDUID" in data[0], "APPEND with APPENDUID: %r" % data)
appended_uid = data[0].split()[2].rstrip(b"]")

typ, data = m.select("INBOX")
ok(typ == "OK", "SELECT")
typ, data = m.uid("SEARCH", None, "BODY", "zeppelin")
ok(typ == "OK" and data[0].split() == [appended_uid], "UID SEARCH BODY inside base64: %r" % data)
typ, data = m.search("UTF-8", "SUBJECT", "\"Grüße\"".encode())
ok(typ == "OK" and len(data[0].split()) == 1, "SEARCH SUBJECT with RFC 2047: %r" % data)
typ, data = m.uid("FETCH", appended_uid, "(BODY.PEEK[] FLAGS BODYSTRUCTURE ENVELOPE)")
ok(typ == "OK" and data[0][1] == message, "FETCH BODY[] returns the exact octets")
meta = data[0][0] + (data[1] if isinstance(data[1], bytes) else b"")
ok(b"$Interop" in meta and b"\\Seen" in meta, "FETCH FLAGS: %r" % meta)
ok(b'"TEXT" "PLAIN"' in meta and b'"ALTERNATIVE"' in meta, "BODYSTRUCTURE: %r" % meta)
typ, data = m.uid("FETCH", appended_uid, "(BINARY.PEEK[1])")
ok(typ == "OK" and data[0][1] == b"The secret word is zeppelin.\r\n", "FETCH BINARY[1] decodes base64: %r" % data)
ok(m.uid("STORE", appended_uid, "+FLAGS", "(\\Flagged)")[0] == "OK", "UID STORE")
typ, data = m.uid("COPY", appended_uid, "Archive")
ok(typ == "OK", "UID COPY: %r" % data)
typ, data = m.uid("MOVE", appended_uid, "Trash")
ok(typ == "OK", "UID MOVE: %r" % data)
typ, data = m.status("Trash", "(MESSAGES)")
ok(b"MESSAGES 1" in data[0], "moved message in Trash: %r" % data)

# Implicit TLS, IDLE: a delivery is pushed at once.
w = imaplib.IMAP4_SSL("127.0.0.1", tls_port, ssl_context=unverified)
ok(w.login(user, password)[0] == "OK", "LOGIN over implicit TLS")
typ, data = w.select("INBOX")
before = int(data[0])
tag = w._new_tag()
w.send(tag + b" IDLE\r\n")
line = w.readline()
ok(line.startswith(b"+"), "IDLE continuation: %r" % line)
deliver_message("pushed while idling")
w.sock.settimeout(20)
line = w.readline()
ok(line.strip() == b"* %d EXISTS" % (before + 1), "EXISTS pushed during IDLE: %r" % line)
w.send(b"DONE\r\n")
while True:
    line = w.readline()
    if line.startswith(tag):
        break
ok(b"OK" in line, "IDLE ended: %r" % line)
w.sock.settimeout(None)
typ, data = w.fetch(str(before + 1), "(ENVELOPE)")
ok(typ == "OK" and b"pushed while idling" in data[0], "FETCH ENVELOPE of the delivered message: %r" % data)

# The first session learns of the new message at its next command.
typ, data = m.noop()
ok(typ == "OK", "NOOP")
ok(any(b"EXISTS" in r for r in m.untagged_responses.get("EXISTS", [b""])) or "EXISTS" in m.untagged_responses, "EXISTS reported to the other session: %r" % m.untagged_responses)
ok(m.uid("STORE", "1:*", "+FLAGS.SILENT", "(\\Deleted)")[0] == "OK", "STORE \\Deleted")
typ, data = m.expunge()
ok(typ == "OK", "EXPUNGE: %r" % data)
typ, data = w.noop()
ok("EXPUNGE" in w.untagged_responses, "EXPUNGE reported to the other session: %r" % w.untagged_responses)
m.logout()
w.logout()

# RFC 4978 COMPRESS=DEFLATE, when advertised: raw deflate both ways after the OK.
if "COMPRESS=DEFLATE" in caps:
    c = imaplib.IMAP4("127.0.0.1", plain_port)
    c.login(user, password)
    c.send(b"z1 COMPRESS DEFLATE\r\n")
    line = c.readline()
    ok(line.startswith(b"z1 OK"), "COMPRESS DEFLATE: %r" % line)
    out, inp = zlib.compressobj(wbits=-15), zlib.decompressobj(wbits=-15)
    c.sock.sendall(out.compress(b"z2 SELECT INBOX\r\nz3 LOGOUT\r\n") + out.flush(zlib.Z_SYNC_FLUSH))
    received = b""
    c.sock.settimeout(20)
    while b"z3 OK" not in received:
        chunk = c.sock.recv(65536)
        if not chunk:
            break
        received += inp.decompress(chunk)
    ok(b"z2 OK [READ-WRITE]" in received and b"z3 OK" in received, "compressed session: %r" % received)
    c.sock.close()
print("python imaplib: %d checks" % checks)
PY
then
    tail -20 "$TMP/check.log" >&2
    fail "$(tail -1 "$TMP/check.log")"
fi
PYCHECKS=$(awk '/^python imaplib:/ {print $3}' "$TMP/check.log")
CHECKS=$((CHECKS + ${PYCHECKS:-0}))
log "ok: $(tail -1 "$TMP/check.log")"

log "check: every session's view stays consistent while others change the mailbox"
timeout 90 python3 "$ROOT/Interop/imap_views.py" "$IMAP" tern@localhost "$PASSWORD" INBOX 8 "$SMTP" >"$TMP/views.log" 2>&1 \
    || { tail -12 "$TMP/views.log" >&2; fail "session views: $(tail -1 "$TMP/views.log")"; }
grep -q "unreadable" "$TMP/err" && { grep "unreadable" "$TMP/err" | head -3 >&2; fail "session views: the server logged an unreadable message file"; }
pass "EXISTS, EXPUNGE and FETCH keep racing sessions' sequence numbers and UIDs consistent and serve whole bodies, with APPEND and SMTP delivery into the INBOX ($(tail -1 "$TMP/views.log"))"

stop_cleanly "$PID" "$TMP/err"
PID=""
"$TERN" verifydata "$TMP/ls/data" >"$TMP/verify" 2>&1 || { cat "$TMP/verify" >&2; fail "verifydata after the run"; }
grep -q "no problems found" "$TMP/verify" || { cat "$TMP/verify" >&2; fail "verifydata found problems"; }
pass "verifydata: no problems after the run (no file outlives its message, none is missing)"

succeed
