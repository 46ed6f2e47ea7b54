#!/usr/bin/env bash
# Interop test: `tern localserve` against neomutt, a real interactive IMAP client.
#
# Why neomutt and how: neomutt is the client people actually drive by hand, and unlike
# offlineimap it exercises the interactive paths (message index, pager, folder browser,
# COPY/STORE on the fly, APPEND of the Fcc copy). It has no batch mode for reading, so it
# runs in a detached tmux session on a private socket (`tmux -L`): keys are sent with
# `tmux send-keys` and the screen is read with `tmux capture-pane`, waiting for each screen
# before the next key. Its batch mode (`neomutt -s ... < body`) is used for sending.
#
# It checks, over IMAPS (certificate pinned with certificate_file, SASL via GNU SASL):
#  - batch send through Tern's SMTP (neomutt does no IMAP Fcc in batch mode);
#  - the index of INBOX lists the delivered messages; the pager shows a UTF-8 body decoded;
#  - pipe-message writes the raw message (compared with the sent octets, LF line ends, after
#    the trace lines Tern adds) and copy-message saves it to a local mbox;
#  - copy-message to an IMAP folder (COPY), flag-message + sync (STORE), the folder browser
#    (LIST) shows the folders including a non-ASCII one, changing to another folder, and
#    copy-message from the local mbox to the non-ASCII IMAP folder (APPEND);
#  - afterwards Python imaplib verifies the flag, the COPY and the APPEND on the server.
#
# Usage: TERN=/path/to/tern bash Interop/imap-neomutt.sh (TERN defaults to the debug build).
# Loopback only. The last stdout line is `PASS imap-neomutt (N checks)` or
# `FAIL imap-neomutt: <reason>`.
set -euo pipefail
NAME=imap-neomutt
# shellcheck source=Interop/lib.bash
source "$(dirname "${BASH_SOURCE[0]}")/lib.bash"
TMP=$(mktemp -d)
LOCALSERVE_PID=""
TMUX_SOCKET="tern-interop-$$"
TMUX_PID=""
cleanup() {
    [ -n "$TMUX_PID" ] && kill "$TMUX_PID" 2>/dev/null
    [ -n "$LOCALSERVE_PID" ] && kill "$LOCALSERVE_PID" 2>/dev/null
    [ -n "${KEEP_TMP:-}" ] || rm -rf "$TMP"
}
trap cleanup EXIT

apt_install neomutt neomutt
apt_install tmux tmux
command -v openssl >/dev/null || apt_install openssl openssl
export LANG=C.UTF-8 LC_ALL=C.UTF-8

start_localserve "$TMP/ls"
log "localserve: IMAP $IMAP, IMAPS $IMAPS, SMTP $SMTP"

openssl s_client -connect "127.0.0.1:$IMAPS" </dev/null 2>/dev/null | openssl x509 >"$TMP/certificates" \
    || fail "could not read the server certificate over IMAPS"

mkdir -p "$TMP/sent" "$TMP/home"
python3 - "$IMAP" "$SMTP" tern@localhost "$PASSWORD" "$TMP" >"$TMP/setup.log" 2>&1 <<'PY' || { tail -5 "$TMP/setup.log" >&2; fail "setup: $(tail -1 "$TMP/setup.log")"; }
import imaplib, smtplib, ssl, sys
imap_port, smtp_port, user, password, tmp = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
def deliver(name, text):
    data = text.replace("\n", "\r\n").encode()
    s = smtplib.SMTP("127.0.0.1", smtp_port)
    s.ehlo()
    s.sendmail("sender@example.org", [user], data, mail_options=["BODY=8BITMIME"])
    s.quit()
    open("%s/sent/%s" % (tmp, name), "wb").write(data)
deliver("plain", "From: Alice <alice@example.org>\nTo: tern@localhost\nSubject: plain one\nDate: Mon, 5 Jan 2026 10:00:00 +0000\n"
                 "Message-ID: <plain@example.org>\n\nThe line neomutt pipes.\nSecond line.\n")
deliver("utf8", "From: =?UTF-8?Q?J=C3=BCrgen?= <juergen@example.org>\nTo: tern@localhost\nSubject: =?UTF-8?Q?Gr=C3=BC=C3=9Fe?=\n"
                "Date: Tue, 6 Jan 2026 10:00:00 +0000\nMessage-ID: <utf8@example.org>\nMIME-Version: 1.0\n"
                "Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\nGrüße aus Köln, schön hier.\n")
m = imaplib.IMAP4("127.0.0.1", imap_port)
m.starttls(ssl_context=ssl._create_unverified_context())
m.login(user, password)
for name in ("Work", "&AMQ-rger"):
    typ, data = m.create(name)
    assert typ == "OK", (name, data)
m.logout()
print("setup done")
PY
pass "delivered 2 messages, created Work and Ärger"

cat >"$TMP/muttrc" <<EOF
set folder = "imaps://127.0.0.1:$IMAPS/"
set spoolfile = "+INBOX"
set copy = no
set imap_user = "tern@localhost"
set imap_pass = "$PASSWORD"
set certificate_file = "$TMP/certificates"
set ssl_verify_host = no
set smtp_url = "smtp://127.0.0.1:$SMTP/"
set from = "tern@localhost"
set realname = "Tern Neomutt"
set hostname = "localhost"
set use_from = yes
set header_cache = ""
set message_cachedir = ""
set mail_check = 5
set timeout = 5
set imap_keepalive = 60
set sort = date
set confirmappend = no
set confirmcreate = no
set wait_key = no
set pipe_decode = no
set quit = yes
set delete = no
set move = no
set mark_old = no
set beep = no
set help = no
set charset = "utf-8"
set send_charset = "utf-8"
set index_format = "%4C %Z %-20.20L %s"
EOF

# Batch send through Tern's SMTP (neomutt skips an IMAP Fcc in batch mode, so APPEND is
# tested below by copying from a local mbox).
printf 'Sent from neomutt in batch mode.\n' >"$TMP/body"
if ! HOME="$TMP/home" timeout 60 neomutt -n -F "$TMP/muttrc" -s "from neomutt" -- tern@localhost <"$TMP/body" >"$TMP/send.log" 2>&1; then
    tail -5 "$TMP/send.log" >&2
    fail "neomutt batch send failed: $(tail -1 "$TMP/send.log")"
fi
pass "neomutt batch send (SMTP)"

# The interactive session.
tmux_() { tmux -L "$TMUX_SOCKET" "$@"; }
screen() { tmux_ capture-pane -p -t tern 2>/dev/null || true; }
wait_for() {  # wait_for PATTERN WHAT [SECONDS]: waits until the screen shows PATTERN (grep -E)
    local deadline=$(($(date +%s) + ${3:-30}))
    while [ "$(date +%s)" -lt "$deadline" ]; do
        screen | grep -qE "$1" && { pass "$2"; return 0; }
        sleep 0.3
    done
    screen >&2
    fail "$2: the screen never showed /$1/"
}
keys() { tmux_ send-keys -t tern "$@"; sleep 0.5; }

tmux_ -f /dev/null new-session -d -s tern -x 160 -y 45 \
    "HOME='$TMP/home' TERM=xterm-256color LANG=C.UTF-8 LC_ALL=C.UTF-8 neomutt -n -F '$TMP/muttrc' 2>'$TMP/neomutt.err'; sleep 30"
TMUX_PID=$(tmux_ display-message -p -t tern '#{pid}')

wait_for 'plain one' "the INBOX index over IMAPS lists the delivered messages"
wait_for 'Grüße' "the index shows the RFC 2047 subject decoded"
wait_for 'from neomutt' "the message neomutt sent arrived in INBOX" 30

# Read the UTF-8 message in the pager.
keys l; keys -l '~i utf8@example.org'; keys Enter
wait_for 'Msgs:1/3' "limit to the UTF-8 message"
keys Enter
wait_for 'Grüße aus Köln, schön hier\.' "the pager shows the 8-bit UTF-8 body decoded"
keys q

# Pipe and save the plain message.
keys l; keys -l '~i plain@example.org'; keys Enter
sleep 1
screen | grep -q 'Grüße' && { screen >&2; fail "limit to the plain message: the UTF-8 one is still listed"; }
wait_for '^ +[0-9]+ .*plain one' "limit to the plain message"
keys '|'; keys -l "cat > $TMP/piped.eml"; keys Enter
keys C; keys C-u; keys -l "$TMP/saved.mbox"; keys Enter
keys C; keys C-u; keys -l "=Work"; keys Enter
sleep 1
keys F; keys '$'
sleep 2
for _ in $(seq 1 30); do [ -s "$TMP/piped.eml" ] && [ -s "$TMP/saved.mbox" ] && break; sleep 0.3; done

# The folder browser: LIST over IMAP.
keys l; keys -l 'all'; keys Enter
keys c; keys C-u; keys Tab
wait_for 'Work' "the folder browser lists Work"
wait_for 'Ärger' "the folder browser lists Ärger (modified UTF-7 decoded)"
wait_for 'Sent' "the folder browser lists Sent"
keys q
keys c; keys C-u; keys -l '=Work'; keys Enter
wait_for 'plain one' "changing to Work shows the copied message"
# APPEND: from the local mbox into the non-ASCII IMAP folder.
keys c; keys C-u; keys -l "$TMP/saved.mbox"; keys Enter
wait_for 'saved.mbox' "opening the local mbox"
keys C; keys C-u; keys -l '=Ärger'; keys Enter
sleep 2
keys q
sleep 1

# The piped message: the stored octets (LF), trace lines added only at the top.
python3 - "$TMP" >"$TMP/files.log" 2>&1 <<'PY' || { tail -5 "$TMP/files.log" >&2; fail "$(tail -1 "$TMP/files.log")"; }
import re, sys
tmp = sys.argv[1]
sent = open(tmp + "/sent/plain", "rb").read().replace(b"\r\n", b"\n")
piped = open(tmp + "/piped.eml", "rb").read()
assert piped.endswith(sent), "piped message differs from the sent one: %r" % piped
prefix = piped[:-len(sent)]
fields = re.findall(rb"^[^ \t\n][^\n]*\n(?:[ \t][^\n]*\n)*", prefix, re.M)
assert b"".join(fields) == prefix and all(f.split(b":")[0].lower() in (b"received", b"delivered-to", b"return-path") for f in fields), \
    "unexpected lines before the message: %r" % prefix
mbox = open(tmp + "/saved.mbox", "rb").read()
assert mbox.startswith(b"From ") and b"\nThe line neomutt pipes.\nSecond line.\n" in mbox and b"Message-ID: <plain@example.org>" in mbox, \
    "saved mbox: %r" % mbox[:300]
print("files ok")
PY
pass "pipe-message gives the exact message"
pass "copy-message to a local mbox"

python3 - "$IMAP" tern@localhost "$PASSWORD" "$TMP" >"$TMP/server.log" 2>&1 <<'PY' || { tail -5 "$TMP/server.log" >&2; fail "server: $(tail -1 "$TMP/server.log")"; }
import imaplib, re, ssl, sys
imap_port, user, password, tmp = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
m = imaplib.IMAP4("127.0.0.1", imap_port)
m.starttls(ssl_context=ssl._create_unverified_context())
m.login(user, password)
def one(mailbox, *criteria):
    m.select(mailbox)
    typ, data = m.uid("SEARCH", None, *criteria)
    uids = data[0].split()
    assert typ == "OK" and len(uids) == 1, "%s %r: %r" % (mailbox, criteria, data)
    typ, data = m.uid("FETCH", uids[0], "(FLAGS BODY.PEEK[])")
    return data[0][0], data[0][1]
meta, _ = one("INBOX", "HEADER", "Message-ID", "<plain@example.org>")
assert b"\\Flagged" in meta, "flag-message did not reach the server: %r" % meta
sent = open(tmp + "/sent/plain", "rb").read()
_, body = one("Work", "HEADER", "Message-ID", "<plain@example.org>")
assert body.endswith(sent), "copy in Work differs: %r" % body
_, body = one("&AMQ-rger", "HEADER", "Message-ID", "<plain@example.org>")
# neomutt's mbox copy gained Content-Length and Lines fields; the rest arrives as it was.
body = re.sub(rb"\r\nContent-Length: \d+\r\nLines: \d+\r\n\r\n", b"\r\n\r\n", body, count=1)
assert body.endswith(sent) and body.startswith(b"Delivered-To:"), "message APPENDed to Ärger differs: %r" % body
_, body = one("INBOX", "SUBJECT", '"from neomutt"')
assert b"Received:" in body and b"Sent from neomutt in batch mode." in body, "sent message delivered: %r" % body
m.logout()
print("server ok")
PY
pass "flag-message + sync reached the server (STORE \\Flagged)"
pass "copy-message to =Work reached the server (COPY)"
pass "copy-message from a local mbox to =Ärger reached the server (APPEND)"
pass "the message sent in batch mode arrived in INBOX"

grep -qiE 'error|fail' "$TMP/neomutt.err" 2>/dev/null && { cat "$TMP/neomutt.err" >&2; fail "neomutt reported errors"; }
kill "$TMUX_PID" 2>/dev/null || true
TMUX_PID=""
kill "$LOCALSERVE_PID"
wait "$LOCALSERVE_PID" 2>/dev/null || true
LOCALSERVE_PID=""
succeed
