#!/usr/bin/env bash
# Interop test: `tern localserve` against mbsync (isync), a real two-way IMAP synchroniser.
#
#  1. Python delivers three messages through SMTP (plain ASCII; an 8-bit UTF-8 body sent with
#     BODY=8BITMIME; multipart/mixed with a ~200 KB base64 attachment), creates the folders
#     "Projects", "Projects/2026" and "Ärger" (non-ASCII, modified UTF-7 on the wire), and
#     APPENDs a message to each.
#  2. mbsync (STARTTLS, certificate pinned with CertificateFile) syncs the whole account down
#     to a Maildir. Every message must be there byte for byte: mbsync stores LF line ends in
#     a Maildir and adds its X-TUID field at the end of the header, so the file less that
#     field must equal the sent octets with CRLF turned into LF, after the trace lines the
#     server adds on delivery (Received, Delivered-To, Return-Path) and only those; appended
#     messages get no trace lines. The folder tree must match the server's.
#  3. Local changes: a message flagged (F in the Maildir info), one deleted (its file
#     removed), a new message written into Projects' new/. mbsync syncs up.
#  4. Python imaplib checks on the server: \Flagged set, the deleted message expunged, the new
#     message in Projects with its exact octets (CRLF). A flag set on the server (\Seen) and a
#     message delivered meanwhile come down on the next sync; one more sync changes nothing.
#
# Usage: TERN=/path/to/tern bash Interop/imap-mbsync.sh (TERN defaults to the debug build).
# Loopback only. The last stdout line is `PASS imap-mbsync (N checks)` or
# `FAIL imap-mbsync: <reason>`.
set -euo pipefail
NAME=imap-mbsync
# shellcheck source=Interop/lib.bash
source "$(dirname "${BASH_SOURCE[0]}")/lib.bash"
TMP=$(mktemp -d)
LOCALSERVE_PID=""
cleanup() { [ -n "$LOCALSERVE_PID" ] && kill "$LOCALSERVE_PID" 2>/dev/null; [ -n "${KEEP_TMP:-}" ] || rm -rf "$TMP"; }
trap cleanup EXIT

apt_install mbsync isync
command -v openssl >/dev/null || apt_install openssl openssl

start_localserve "$TMP/ls"
log "localserve: IMAP $IMAP, IMAPS $IMAPS, SMTP $SMTP"

# The server's certificate, pinned for mbsync (it is self-signed).
openssl s_client -connect "127.0.0.1:$IMAP" -starttls imap </dev/null 2>/dev/null | openssl x509 >"$TMP/server.pem" \
    || fail "could not read the server certificate over STARTTLS"
pass "server certificate read over STARTTLS"

# Shared Python: delivery, the server-side checks. Sent messages are kept in $TMP/sent.
mkdir -p "$TMP/sent" "$TMP/mail"
cat >"$TMP/common.py" <<'PY'
import imaplib, os, re, smtplib, ssl, sys, time
host, imap_port, smtp_port, user, password, tmp = "127.0.0.1", int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
checks = 0

def ok(cond, what):
    global checks
    if not cond:
        raise SystemExit("check failed: " + what)
    checks += 1

def save(name, data):
    with open(os.path.join(tmp, "sent", name), "wb") as f:
        f.write(data)

def deliver(name, data, eight_bit=False):
    s = smtplib.SMTP(host, smtp_port)
    s.ehlo()
    options = ["BODY=8BITMIME"] if eight_bit and s.has_extn("8bitmime") else []
    if eight_bit:
        ok(options, "SMTP offers 8BITMIME")
    s.sendmail("sender@example.org", [user], data, mail_options=options)
    s.quit()
    save(name, data)

def login():
    m = imaplib.IMAP4(host, imap_port)
    m.starttls(ssl_context=ssl._create_unverified_context())
    ok(m.login(user, password)[0] == "OK", "LOGIN")
    return m

def find(m, mailbox, message_id):
    """UIDs in mailbox whose Message-ID is message_id."""
    typ, _ = m.select(mailbox)
    ok(typ == "OK", "SELECT " + mailbox)
    typ, data = m.uid("SEARCH", None, "HEADER", "Message-ID", message_id)
    ok(typ == "OK", "SEARCH Message-ID")
    return data[0].split()

def fetch_flags_and_body(m, uid):
    typ, data = m.uid("FETCH", uid, "(FLAGS BODY.PEEK[])")
    ok(typ == "OK" and data and isinstance(data[0], tuple), "FETCH %r: %r" % (uid, data))
    return data[0][0], data[0][1]
PY

log "setup: deliver, create folders, append"
python3 - "$IMAP" "$SMTP" tern@localhost "$PASSWORD" "$TMP" >"$TMP/setup.log" 2>&1 <<'PY' || { tail -5 "$TMP/setup.log" >&2; fail "setup: $(tail -1 "$TMP/setup.log")"; }
import base64, os, sys
exec(open(os.path.join(sys.argv[5], "common.py")).read())
crlf = lambda text: text.replace("\n", "\r\n")
deliver("plain", crlf("From: Sender <sender@example.org>\nTo: tern@localhost\nSubject: plain one\n"
                      "Date: Thu, 1 Jan 2026 10:00:00 +0100\nMessage-ID: <plain@example.org>\n\n"
                      "A plain ASCII body.\n\n-- \nsignature\n").encode())
deliver("utf8", crlf("From: =?UTF-8?Q?J=C3=BCrgen?= <juergen@example.org>\nTo: tern@localhost\n"
                     "Subject: =?UTF-8?Q?Gr=C3=BC=C3=9Fe?=\nDate: Thu, 1 Jan 2026 11:00:00 +0100\n"
                     "Message-ID: <utf8@example.org>\nMIME-Version: 1.0\n"
                     "Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n"
                     "Grüße aus Köln — ünïcödé ✓ 日本語\nZweite Zeile.\n").encode(), eight_bit=True)
attachment = bytes((i * 7 + i // 251) % 256 for i in range(150000))
encoded = base64.encodebytes(attachment).decode().replace("\n", "\r\n")
deliver("multipart", (crlf("From: Sender <sender@example.org>\nTo: tern@localhost\nSubject: with attachment\n"
                           "Date: Thu, 1 Jan 2026 12:00:00 +0100\nMessage-ID: <multipart@example.org>\nMIME-Version: 1.0\n"
                           "Content-Type: multipart/mixed; boundary=\"b0undary\"\n\nPreamble.\n--b0undary\n"
                           "Content-Type: text/plain; charset=us-ascii\n\nSee the attachment.\n--b0undary\n"
                           "Content-Type: application/octet-stream; name=\"data.bin\"\n"
                           "Content-Disposition: attachment; filename=\"data.bin\"\nContent-Transfer-Encoding: base64\n\n")
                      + encoded + crlf("--b0undary--\n")).encode())
m = login()
for name in ("Projects", "Projects/2026", "&AMQ-rger"):
    ok(m.create(name)[0] == "OK", "CREATE " + name)
for mailbox, name in (("Projects", "projects"), ("Projects/2026", "year"), ("&AMQ-rger", "aerger")):
    data = crlf("From: Me <tern@localhost>\nTo: Someone <someone@example.org>\nSubject: in %s\n"
                "Date: Fri, 2 Jan 2026 09:00:00 +0000\nMessage-ID: <%s@localhost>\n\nStored in %s.\n" % (name, name, name)).encode()
    typ, resp = m.append(mailbox, "(\\Seen)", imaplib.Time2Internaldate(time.time()), data)
    ok(typ == "OK", "APPEND to %s: %r" % (mailbox, resp))
    save(name, data)
m.logout()
print("setup: %d checks" % checks)
PY
CHECKS=$((CHECKS + $(awk '/^setup:/ {print $2}' "$TMP/setup.log")))
pass "delivered 3 messages through SMTP, created 3 folders, appended 3 messages"

cat >"$TMP/mbsyncrc" <<EOF
IMAPAccount tern
Host 127.0.0.1
Port $IMAP
User tern@localhost
Pass $PASSWORD
SSLType STARTTLS
CertificateFile $TMP/server.pem
Timeout 60

IMAPStore remote
Account tern

MaildirStore local
Path $TMP/mail/
Inbox $TMP/mail/INBOX
SubFolders Verbatim

Channel tern
Far :remote:
Near :local:
Patterns *
Create Both
Remove None
Expunge Both
CopyArrivalDate yes
SyncState *
EOF

run_mbsync() {  # run_mbsync WHAT
    if ! timeout 300 mbsync -V -c "$TMP/mbsyncrc" -a >"$TMP/mbsync-$1.log" 2>&1; then
        tail -20 "$TMP/mbsync-$1.log" >&2
        fail "mbsync ($1) failed: $(grep -iE 'error|fail|IMAP' "$TMP/mbsync-$1.log" | tail -1)"
    fi
    pass "mbsync $1"
}

log "mbsync: first sync down"
run_mbsync down

# The Maildir must hold every message byte for byte (LF line ends), in the right folder.
log "check: the Maildir"
python3 - "$TMP" >"$TMP/maildir.log" 2>&1 <<'PY' || { tail -5 "$TMP/maildir.log" >&2; fail "Maildir: $(tail -1 "$TMP/maildir.log")"; }
import os, re, sys
tmp = sys.argv[1]
mail = os.path.join(tmp, "mail")
checks = 0
def ok(cond, what):
    global checks
    if not cond:
        raise SystemExit("check failed: " + what)
    checks += 1
folders = {}
tuids = 0
for root, dirs, files in os.walk(mail):
    if os.path.basename(root) in ("cur", "new"):
        folder = os.path.relpath(os.path.dirname(root), mail)
        for f in files:
            data = open(os.path.join(root, f), "rb").read()
            # mbsync adds its own X-TUID field as the last header field of every message it
            # copies (to find it again if the copy is interrupted); nothing else.
            header, sep, body = data.partition(b"\n\n")
            header, count = re.subn(rb"\nX-TUID: [A-Za-z0-9+/]{12}$", b"", header)
            tuids += count
            folders.setdefault(folder, []).append(header + sep + body)
print("folders:", {k: len(v) for k, v in folders.items()}, "X-TUID fields:", tuids)
# mbsync 1.4 keeps the name it was given (modified UTF-7) for the Maildir folder.
aerger = "Ärger" if "Ärger" in folders else "&AMQ-rger"
expected = {"INBOX": ["plain", "utf8", "multipart"], "Projects": ["projects"], "Projects/2026": ["year"], aerger: ["aerger"]}
for folder, names in expected.items():
    ok(folder in folders, "folder %s synced: %r" % (folder, sorted(folders)))
    ok(len(folders[folder]) == len(names), "%s has %d messages: %d" % (folder, len(names), len(folders[folder])))
    for name in names:
        sent = open(os.path.join(tmp, "sent", name), "rb").read().replace(b"\r\n", b"\n")
        found = [d for d in folders[folder] if d.endswith(sent)]
        ok(len(found) == 1, "%s/%s found byte for byte" % (folder, name))
        prefix = found[0][:len(found[0]) - len(sent)]
        if folder == "INBOX":
            # Only trace fields the server added at the top (RFC 5321 §4.4), with their folded lines.
            fields = re.findall(rb"^[^ \t\n][^\n]*\n(?:[ \t][^\n]*\n)*", prefix, re.M)
            ok(b"".join(fields) == prefix and fields, "%s: prefix is whole header fields: %r" % (name, prefix))
            names_added = [f.split(b":", 1)[0].lower() for f in fields]
            ok(all(n in (b"received", b"delivered-to", b"return-path") for n in names_added), "%s: only trace fields added: %r" % (name, names_added))
            ok(b"received" in names_added, "%s: a Received field was added" % name)
        else:
            ok(prefix == b"", "%s: appended message unchanged, got prefix %r" % (name, prefix))
print("maildir: %d checks" % checks)
PY
CHECKS=$((CHECKS + $(awk '/^maildir:/ {print $2}' "$TMP/maildir.log")))
log "$(grep '^folders:' "$TMP/maildir.log")"

# Local changes: flag the plain message, delete the UTF-8 one, add one to Projects.
log "local changes"
maildir_file() {  # maildir_file MESSAGE-ID: the INBOX file with that Message-ID, if any
    grep -rl --include='*' "^Message-ID: <$1>" "$TMP/mail/INBOX/cur" "$TMP/mail/INBOX/new" 2>/dev/null | head -1 || true
}
plain=$(maildir_file plain@example.org)
utf8=$(maildir_file utf8@example.org)
[ -n "$plain" ] && [ -n "$utf8" ] || fail "messages not found in the Maildir INBOX"
case "$plain" in
*:2,*) flagged="${plain%%:2,*}:2,F${plain##*:2,}" ;;
*) flagged="$plain:2,F" ;;
esac
mv "$plain" "$TMP/mail/INBOX/cur/$(basename "$flagged")"
rm "$utf8"
printf 'From: Me <tern@localhost>\nTo: Someone <someone@example.org>\nSubject: written locally\nDate: Sat, 3 Jan 2026 08:00:00 +0000\nMessage-ID: <local@localhost>\n\nWritten into the Maildir, synced up: \xc3\xa4\xc3\xb6\xc3\xbc.\n' \
    >"$TMP/mail/Projects/new/$(date +%s).$$_1.localhost"
cp "$TMP/mail/Projects/new/"*".$$_1.localhost" "$TMP/sent/local"

run_mbsync up

log "check: the server after the sync up"
python3 - "$IMAP" "$SMTP" tern@localhost "$PASSWORD" "$TMP" >"$TMP/server.log" 2>&1 <<'PY' || { tail -5 "$TMP/server.log" >&2; fail "server: $(tail -1 "$TMP/server.log")"; }
import os, sys
exec(open(os.path.join(sys.argv[5], "common.py")).read())
m = login()
uids = find(m, "INBOX", "<plain@example.org>")
ok(len(uids) == 1, "plain message still there: %r" % uids)
meta, _ = fetch_flags_and_body(m, uids[0])
ok(b"\\Flagged" in meta, "flag set locally reached the server: %r" % meta)
ok(find(m, "INBOX", "<utf8@example.org>") == [], "message deleted locally is expunged on the server")
typ, data = m.status("INBOX", "(MESSAGES)")
ok(b"MESSAGES 2" in data[0], "INBOX has 2 messages: %r" % data)
uids = find(m, "Projects", "<local@localhost>")
ok(len(uids) == 1, "new local message is in Projects: %r" % uids)
meta, body = fetch_flags_and_body(m, uids[0])
sent = open(os.path.join(tmp, "sent", "local"), "rb").read().replace(b"\n", b"\r\n")
header, sep, rest = body.partition(b"\r\n\r\n")
header, tuid = re.subn(rb"\r\nX-TUID: [A-Za-z0-9+/]{12}$", b"", header)
ok(tuid <= 1 and header + sep + rest == sent, "uploaded message byte for byte (CRLF, less mbsync's X-TUID): %r" % body)
# Changes on the server side, for the next sync down.
uids = find(m, "INBOX", "<multipart@example.org>")
ok(m.uid("STORE", uids[0], "+FLAGS", "(\\Seen)")[0] == "OK", "STORE \\Seen on the server")
m.logout()
deliver("late", b"From: Sender <sender@example.org>\r\nTo: tern@localhost\r\nSubject: late\r\nMessage-ID: <late@example.org>\r\n\r\nDelivered between syncs.\r\n")
print("server: %d checks" % checks)
PY
CHECKS=$((CHECKS + $(awk '/^server:/ {print $2}' "$TMP/server.log")))

run_mbsync again
multipart=$(maildir_file multipart@example.org)
case "$multipart" in
*:2,*S*) pass "\\Seen set on the server reached the Maildir ($(basename "$multipart"))" ;;
*) fail "\\Seen set on the server did not reach the Maildir: $multipart" ;;
esac
late=$(maildir_file late@example.org)
[ -n "$late" ] && grep -q '^Delivered between syncs.$' "$late" || fail "message delivered between syncs not synced down"
pass "message delivered between syncs synced down"

before=$(find "$TMP/mail" -type f -path '*/cur/*' -o -type f -path '*/new/*' | sort)
run_mbsync idempotent
after=$(find "$TMP/mail" -type f -path '*/cur/*' -o -type f -path '*/new/*' | sort)
[ "$before" = "$after" ] || fail "a sync without changes changed the Maildir"
pass "a sync without changes changes nothing"

kill "$LOCALSERVE_PID"
wait "$LOCALSERVE_PID" 2>/dev/null || true
LOCALSERVE_PID=""
succeed
