#!/usr/bin/env bash
# Interop test: `tern localserve` against real SMTP clients: swaks (STARTTLS, pipelining,
# AUTH PLAIN and LOGIN, a wrong password) and Python's smtplib (SMTPUTF8 address, 8-bit
# body, BDAT, implicit TLS, FUTURERELEASE). Then every accepted message must be in the
# store, byte-exact where it matters, a held one not before its time, and SIGTERM must stop
# the server cleanly.
#
# Usage: TERN=/path/to/tern bash Interop/smtp.sh (TERN defaults to the debug build).
# Installs swaks with apt-get when missing (root). Loopback only. The last stdout line is
# `PASS smtp (N checks)` or `FAIL smtp: <first failure>`.
set -euo pipefail
NAME=smtp
# shellcheck source=Interop/lib.bash
source "$(dirname "${BASH_SOURCE[0]}")/lib.bash"
TMP=$(mktemp -d)
PID=""
cleanup() { [ -n "$PID" ] && kill -9 "$PID" 2>/dev/null; rm -rf "$TMP"; }
trap cleanup EXIT

if ! command -v swaks >/dev/null; then
    log "installing swaks"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q swaks >/dev/null 2>&1 \
        || { apt-get update -q >/dev/null 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q swaks >/dev/null 2>&1; } \
        || fail "apt-get install swaks failed"
fi

# Three free ports at BASE+25, BASE+587, BASE+465.
pick_base_port
SMTP=$((BASE + 25)); SUBMISSION=$((BASE + 587)); SUBMISSIONS=$((BASE + 465))

"$TERN" localserve --dir "$TMP/ls" --base-port "$BASE" >"$TMP/out" 2>"$TMP/err" &
PID=$!
for _ in $(seq 1 100); do grep -q '^password:' "$TMP/out" 2>/dev/null && break; sleep 0.2; done
grep -q '^password:' "$TMP/out" || { tail -20 "$TMP/err" >&2; fail "localserve did not start"; }
PASSWORD=$(awk '/^password:/ {print $2}' "$TMP/out")

check() {  # check NAME COMMAND...: the command must succeed
    local name=$1; shift
    log "check: $name"
    if ! "$@" >"$TMP/check.log" 2>&1; then tail -15 "$TMP/check.log" >&2; fail "$name"; fi
    CHECKS=$((CHECKS + 1))
}

check "localserve's generated configuration passes tern config test" \
    "$TERN" config test --config "$TMP/ls/tern.yaml"
check "swaks SMTP with STARTTLS and pipelining" \
    timeout 30 swaks --server 127.0.0.1 --port "$SMTP" --from sender@example.org --to someone@example.com \
    --tls --pipeline --header "Subject: swaks starttls" --body "hello over TLS"
check "swaks submission AUTH PLAIN over STARTTLS" \
    timeout 30 swaks --server 127.0.0.1 --port "$SUBMISSION" --tls --auth PLAIN --auth-user tern@localhost \
    --auth-password "$PASSWORD" --from tern@localhost --to friend@example.net --header "Subject: swaks plain"
check "swaks submission AUTH LOGIN without TLS (loopback)" \
    timeout 30 swaks --server 127.0.0.1 --port "$SUBMISSION" --auth LOGIN --auth-user tern \
    --auth-password "$PASSWORD" --from tern@localhost --to friend@example.net --header "Subject: swaks login"
log "check: wrong password is refused with 535"
if timeout 30 swaks --server 127.0.0.1 --port "$SUBMISSION" --auth PLAIN --auth-user tern --auth-password wrong \
    --from tern@localhost --to x@example.net >"$TMP/check.log" 2>&1; then fail "wrong password accepted"; fi
grep -q "535 5.7.8" "$TMP/check.log" || { tail -10 "$TMP/check.log" >&2; fail "no 535 5.7.8 for a wrong password"; }
CHECKS=$((CHECKS + 1))

check "python smtplib: SMTPUTF8, 8-bit body, BDAT, implicit TLS" timeout 60 python3 - "$SMTP" "$SUBMISSIONS" "$PASSWORD" <<'PY'
import smtplib, ssl, sys
smtp_port, submissions_port, password = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
unverified = ssl._create_unverified_context()
# SMTPUTF8 address and an 8-bit body (RFC 6531, RFC 6152).
s = smtplib.SMTP("127.0.0.1", smtp_port)
s.ehlo("client.test")
assert s.has_extn("smtputf8") and s.has_extn("8bitmime") and s.has_extn("chunking"), s.esmtp_features
body = "Subject: utf8\r\n\r\nGrüße aus München, 8-bit body\r\n".encode()
refused = s.sendmail("absender@example.org", ["empfänger@bücher.example"], body, mail_options=["SMTPUTF8", "BODY=8BITMIME"])
assert refused == {}, refused
# BDAT (RFC 3030): two chunks, the second LAST.
code, _ = s.mail("chunks@example.org"); assert code == 250
code, _ = s.rcpt("someone@example.com"); assert code == 250
first, second = b"Subject: bdat\r\n\r\n", b"chunked body\r\n"
s.send(b"BDAT %d\r\n" % len(first) + first)
code, reply = s.getreply(); assert code == 250, (code, reply)
s.send(b"BDAT %d LAST\r\n" % len(second) + second)
code, reply = s.getreply(); assert code == 250, (code, reply)
s.quit()
# Implicit TLS with SCRAM-less login (smtplib knows PLAIN/LOGIN/CRAM-MD5).
s = smtplib.SMTP_SSL("127.0.0.1", submissions_port, context=unverified)
s.login("tern@localhost", password)
assert s.sendmail("tern@localhost", ["a@example.net"], b"From: tern@localhost\r\nSubject: implicit\r\n\r\nover implicit TLS\r\n") == {}
s.quit()
PY

stored_count() { find "$TMP/ls/data/accounts/tern/msg" -type f | wc -l; }
# wait_stored N: until N messages are stored, for at most 30 s. Submitted mail to other
# domains goes through localserve's outbound queue and loops back to its SMTP port after
# the 250, so it is waited for rather than counted at once.
wait_stored() {
    local stored
    for _ in $(seq 1 300); do
        stored=$(stored_count)
        [ "$stored" -ge "$1" ] && break
        sleep 0.1
    done
    [ "$stored" -eq "$1" ] || fail "expected $1 stored messages, found $stored"
}

log "check: all 6 messages stored, 8-bit body intact"
wait_stored 6
grep -rlq "Grüße aus München" "$TMP/ls/data/accounts/tern/msg" || fail "8-bit body not stored intact"
grep -rlq "^tls TLS_\|	tls TLS_" "$TMP/ls/data/accounts/tern/msg" || fail "no Received tls clause in a message over TLS"
CHECKS=$((CHECKS + 1))

check "python smtplib: FUTURERELEASE on submission only, a hold past the maximum refused with 501" \
    timeout 30 python3 - "$SMTP" "$SUBMISSION" "$PASSWORD" <<'PY'
import smtplib, sys
smtp_port, submission_port, password = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
s = smtplib.SMTP("127.0.0.1", smtp_port)
s.ehlo("client.test")
assert not s.has_extn("futurerelease"), s.esmtp_features  # RFC 4865 §4.2: submission only
s.quit()
s = smtplib.SMTP("127.0.0.1", submission_port)
s.ehlo("client.test")
s.login("tern@localhost", password)
interval = int(s.esmtp_features["futurerelease"].split()[0])
code, reply = s.mail("tern@localhost", ["HOLDFOR=%d" % (interval + 1)])
assert code == 501 and reply.startswith(b"5.5.4"), (code, reply)
s.rset()
# Held for 3 seconds: one local recipient, one that loops back through the queue.
message = b"From: tern@localhost\r\nSubject: held\r\n\r\nreleased later\r\n"
assert s.sendmail("tern@localhost", ["tern@localhost", "later@example.net"], message, mail_options=["HOLDFOR=3"]) == {}
s.quit()
PY
log "check: the held message arrives, but not before its release time"
sleep 1.5
[ "$(stored_count)" -eq 6 ] || fail "the held message arrived early ($(stored_count) stored)"
wait_stored 8
CHECKS=$((CHECKS + 1))

stop_cleanly "$PID" "$TMP/err"
PID=""

succeed
