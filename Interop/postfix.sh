#!/usr/bin/env bash
# Interop test: Postfix (from Debian) as a relay that forwards everything to `tern
# localserve` on loopback, using STARTTLS (smtp_tls_security_level = may), PIPELINING,
# 8BITMIME and SMTPUTF8 towards Tern. Python's smtplib hands Postfix three messages (ASCII,
# an 8-bit body, an SMTPUTF8 recipient); all must arrive in Tern's store over TLS.
#
# Usage: TERN=/path/to/tern bash Interop/postfix.sh (root: installs postfix when missing
# and runs a private instance with `postfix -c`; /etc/postfix is not used). Loopback only.
# The last stdout line is `PASS postfix (N checks)` or `FAIL postfix: <first failure>`.
set -euo pipefail
NAME=postfix
# shellcheck source=Interop/lib.bash
source "$(dirname "${BASH_SOURCE[0]}")/lib.bash"
TMP=$(mktemp -d)
chmod 755 "$TMP"
PID=""
PFCONF="$TMP/postfix-etc"
cleanup() {
    [ -n "$PID" ] && kill -9 "$PID" 2>/dev/null
    [ -f "$PFCONF/main.cf" ] && postfix -c "$PFCONF" stop >/dev/null 2>&1
    rm -rf "$TMP"
}
trap cleanup EXIT

postfix_install

pick_base_port
TERN_SMTP=$((BASE + 25)); RELAY=$((BASE + 26))

"$TERN" localserve --dir "$TMP/ls" --base-port "$BASE" >"$TMP/out" 2>"$TMP/err" &
PID=$!
for _ in $(seq 1 100); do grep -q '^password:' "$TMP/out" 2>/dev/null && break; sleep 0.1; done
grep -q '^password:' "$TMP/out" || { tail -20 "$TMP/err" >&2; fail "localserve did not start"; }

postfix_main_cf "$PFCONF" relay.postfix.test \
    "mydomain = postfix.test" \
    "myorigin = \$mydomain" \
    "mynetworks = 127.0.0.0/8" \
    "relayhost = [127.0.0.1]:$TERN_SMTP" \
    "smtp_tls_security_level = may" \
    "smtp_tls_loglevel = 1" \
    "smtputf8_enable = yes"
postfix_master_cf "$PFCONF/master.cf" "127.0.0.1:$RELAY"
postfix_start "$PFCONF" "$RELAY"
pass "postfix relay running"

timeout 60 python3 - "$RELAY" <<'PY' >"$TMP/check" 2>&1 || { cat "$TMP/check" >&2; fail "handing mail to postfix"; }
import smtplib, sys
with smtplib.SMTP("127.0.0.1", int(sys.argv[1])) as s:
    assert s.sendmail("sender@postfix.test", ["ascii@tern.test"], b"Subject: ascii\r\n\r\nplain via postfix\r\n") == {}
    assert s.sendmail("sender@postfix.test", ["eightbit@tern.test"], "Subject: 8bit\r\n\r\nGrüße über Postfix\r\n".encode(), mail_options=["BODY=8BITMIME"]) == {}
    assert s.sendmail("sender@postfix.test", ["empfänger@tern.test"], "Subject: utf8\r\n\r\nSMTPUTF8 via postfix\r\n".encode(), mail_options=["SMTPUTF8"]) == {}
PY
pass "postfix accepted 3 messages"

log "waiting for postfix to relay them to tern"
for _ in $(seq 1 300); do
    [ -z "$(find "$TMP/spool"/{maildrop,incoming,active,deferred} -type f 2>/dev/null | head -1)" ] && break
    sleep 0.2
done
[ -z "$(find "$TMP/spool"/{active,deferred} -type f 2>/dev/null | head -1)" ] || { tail -20 "$TMP/postfix.log" >&2; fail "postfix did not deliver to tern (queue not empty)"; }
grep -q "relay=127.0.0.1\[127.0.0.1\]:$TERN_SMTP.*status=sent" "$TMP/postfix.log" || { tail -20 "$TMP/postfix.log" >&2; fail "no status=sent to tern in the postfix log"; }
grep -q "Trusted TLS connection established\|Untrusted TLS connection established\|Anonymous TLS connection established" "$TMP/postfix.log" || { tail -20 "$TMP/postfix.log" >&2; fail "postfix did not use STARTTLS with tern"; }
pass "postfix relayed over STARTTLS (status=sent)"

stored=$(find "$TMP/ls/data/accounts/tern/msg" -type f | wc -l)
[ "$stored" -eq 3 ] || fail "expected 3 messages in tern, found $stored"
grep -rlq "Grüße über Postfix" "$TMP/ls/data/accounts/tern/msg" || fail "8-bit body not intact"
grep -rlq "by relay.postfix.test" "$TMP/ls/data/accounts/tern/msg" || fail "postfix's Received field missing"
grep -rlq "from relay.postfix.test" "$TMP/ls/data/accounts/tern/msg" || fail "tern's Received field does not name postfix"
grep -rlq "with UTF8SMTPS" "$TMP/ls/data/accounts/tern/msg" || fail "SMTPUTF8 message not received as UTF8SMTPS"
pass "all 3 stored, intact, with trace fields"

succeed
