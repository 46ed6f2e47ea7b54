#!/usr/bin/env bash
# Interop test: Tern's outbound queue delivering to a real MX. Postfix (from Debian) is the
# MX of dest.test on a free loopback port with STARTTLS and a test certificate, delivering
# into one maildir; a dnsmasq on loopback answers MX dest.test → mx.dest.test → 127.0.0.1;
# `tern serve` asks that dnsmasq (Resolver) and delivers directly on Postfix's port
# (Queue: DirectPort). Mail is submitted with Python's smtplib (AUTH) and DSNs are read
# from the sender's Inbox with imaplib. Checked:
#   - a message to ok@dest.test arrives over TLS with its content intact;
#   - one message to ok2@, reject@ (Postfix: 550) and tempfail@ (Postfix: 450): ok2 arrives,
#     reject@ gets a failure DSN (Action: failed, Status 5.1.1, Postfix's reply as the
#     diagnostic), tempfail@ is retried (several 450s in Postfix's log, "delivery
#     deferred" in Tern's), gets a delayed DSN and, after Queue: MaximumAge, a failure DSN
#     (Status 5.4.7 with Postfix's 450 as the diagnostic);
#   - a REQUIRETLS message (RFC 8689) is not sent to Postfix, whose certificate does not
#     verify: the sender gets a failure DSN with Status 5.7.10;
#   - the queue survives kill -9: with Postfix stopped, N messages are submitted (250s),
#     tern is killed, restarted, Postfix started: all N arrive (duplicates are counted and
#     printed: a kill between the remote 250 and the local commit may cause one);
#   - SOCKS5 transports (Queue: Transports: NAME: Socks) through two microsocks proxies on
#     loopback, one without authentication and one with RFC 1929 username/password, picked
#     by routes of the domain and of the account in domains.yaml, changed while tern runs:
#     a domain route delivers through the first proxy and an account route, added by a
#     reload, through the second (each transport's Hostname in Postfix's Received field);
#     a wrong proxy password and a proxy whose CONNECT is refused (Postfix down, reply 5)
#     are temporary failures naming the proxy and its answer, and the messages arrive once
#     fixed; a route to a transport tern.yaml does not define is refused, by `config test`
#     and by the reload, with the domains file, line and key.
# A smarthost route with SASL AUTH to Postfix is Interop/smarthost.sh.
#
# Usage: TERN=/path/to/tern bash Interop/queue.sh (root: installs postfix, dnsmasq-base and
# microsocks when missing and runs a private Postfix with `postfix -c`; /etc/postfix is not
# used).
# Loopback only. The last stdout line is `PASS queue (N checks)` or `FAIL queue: <reason>`.
set -euo pipefail
NAME=queue
# shellcheck source=Interop/lib.bash
source "$(dirname "${BASH_SOURCE[0]}")/lib.bash"
TMP=$(mktemp -d)
chmod 755 "$TMP"
PID=""; DNS_PID=""; SOCKS_PID=""; SOCKS_AUTH_PID=""
PFCONF="$TMP/postfix-etc"
POSTFIX_UP=0
cleanup() {
    for pid in "$PID" "$DNS_PID" "$SOCKS_PID" "$SOCKS_AUTH_PID"; do [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null; done
    [ "$POSTFIX_UP" = 1 ] && postfix -c "$PFCONF" stop >/dev/null 2>&1
    rm -rf "$TMP"
}
trap cleanup EXIT

postfix_install
apt_install dnsmasq dnsmasq-base
apt_install microsocks microsocks

free_port DNS_PORT MX_PORT SUBMISSION IMAP SMTP SOCKS SOCKS_AUTH

# --- DNS: dest.test's MX on loopback ---
dnsmasq --keep-in-foreground --port="$DNS_PORT" --listen-address=127.0.0.1 --bind-interfaces --no-resolv --no-hosts \
    --conf-file=/dev/null --user=root --mx-host=dest.test,mx.dest.test,10 --host-record=mx.dest.test,127.0.0.1 \
    --log-queries --log-facility="$TMP/dnsmasq.log" >"$TMP/dnsmasq.out" 2>&1 &
DNS_PID=$!
disown "$DNS_PID"
for _ in $(seq 1 50); do "$TERN" dns lookup --resolver "127.0.0.1:$DNS_PORT" MX dest.test >"$TMP/mx" 2>&1 && break; sleep 0.1; done
grep -q "MX	10 mx.dest.test." "$TMP/mx" || { cat "$TMP/mx" "$TMP/dnsmasq.out" >&2; fail "dnsmasq does not answer MX dest.test"; }
"$TERN" dns lookup --resolver "127.0.0.1:$DNS_PORT" A mx.dest.test 2>&1 | grep -q "127.0.0.1" || fail "dnsmasq does not answer A mx.dest.test"
pass "dnsmasq answers MX dest.test → mx.dest.test → 127.0.0.1"

# --- Postfix: the MX of dest.test, STARTTLS, a 550 and a 450 recipient ---
mkdir -p "$PFCONF"
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=mx.dest.test -addext subjectAltName=DNS:mx.dest.test \
    -keyout "$PFCONF/key.pem" -out "$PFCONF/cert.pem" >/dev/null 2>&1 || fail "openssl could not make a test certificate"
cat >"$PFCONF/access" <<'ACCESS'
reject@dest.test 550 5.1.1 no such user here
tempfail@dest.test 450 4.2.0 try again later
ACCESS
postfix_mx_main_cf "$PFCONF" mx.dest.test dest.test \
    "mydomain = dest.test" \
    "smtputf8_enable = yes" \
    "smtpd_recipient_restrictions = check_recipient_access texthash:$PFCONF/access, permit_mynetworks, reject_unauth_destination"
postfix_master_cf "$PFCONF/master.cf" "127.0.0.1:$MX_PORT" "$POSTFIX_VIRTUAL"
start_postfix() {
    POSTFIX_UP=1
    postfix_start "$PFCONF" "$MX_PORT"
}
stop_postfix() {
    postfix -c "$PFCONF" stop >/dev/null 2>&1 || fail "postfix did not stop"
    POSTFIX_UP=0
    for _ in $(seq 1 100); do port_listening "$MX_PORT" || return 0; sleep 0.1; done
    fail "postfix still listens on $MX_PORT after stop"
}
start_postfix
pass "postfix runs as the MX on 127.0.0.1:$MX_PORT"

# --- tern serve: submission, IMAP, the queue on the test DNS and Postfix's port ---
mkdir -p "$TMP/config"
PASSWORDS=$(printf 'queue-secret' | "$TERN" config password --iterations 4096)
write_config() {  # write_config MAXIMUM_AGE
    {
        serve_yaml_head "127.0.0.1:$DNS_PORT" "$SUBMISSION" "$IMAP" "$SMTP"
        cat <<YAML
Queue:
  FirstRetryInterval: 1s
  MaximumAge: $1
  DelayedDSNAfterAttempts: 2
  DirectPort: $MX_PORT
  Transports:
    proxied:
      Socks:
        Address: 127.0.0.1:$SOCKS
        RemoteIPs: [127.0.0.1]
        Hostname: proxy.tern.test
    proxiedauth:
      Socks:
        Address: 127.0.0.1:$SOCKS_AUTH
        RemoteIPs: [127.0.0.1]
        Hostname: proxy-auth.tern.test
        Auth:
          Username: tern
          Password: socks-secret
    wrongauth:
      Socks:
        Address: 127.0.0.1:$SOCKS_AUTH
        RemoteIPs: [127.0.0.1]
        Hostname: proxy-auth.tern.test
        Auth:
          Username: tern
          Password: not-the-secret
YAML
    } >"$TMP/config/tern.yaml"
}
write_config 12s
write_domains() {  # write_domains DOMAIN_TRANSPORT ACCOUNT_TRANSPORT: domains.yaml, each route left out when ""
    local domain_routes="" account_routes=""
    [ -n "$1" ] && domain_routes="
    Routes:
      - Transport: $1"
    [ -n "$2" ] && account_routes="
    Routes:
      - RecipientDomains: [dest.test]
        Transport: $2"
    cat >"$TMP/config/domains.yaml" <<YAML
Domains:
  tern.test:$([ -n "$1" ] || echo " {}")$domain_routes
Accounts:
  alice:
    Domain: tern.test
    Destinations:
      alice: {}$account_routes
$PASSWORDS
YAML
}
write_domains "" ""
"$TERN" config test --config "$TMP/config/tern.yaml" >"$TMP/check" 2>&1 || { cat "$TMP/check" >&2; fail "config test rejects the configuration"; }
pass "config test accepts Resolver, Queue: DirectPort and Socks transports"

start_tern() {
    "$TERN" serve --config "$TMP/config/tern.yaml" >>"$TMP/out" 2>>"$TMP/err" &
    PID=$!
    for _ in $(seq 1 150); do port_listening "$SUBMISSION" && port_listening "$IMAP" && return 0; kill -0 "$PID" 2>/dev/null || break; sleep 0.1; done
    tail -20 "$TMP/err" >&2
    fail "serve did not start"
}
start_tern

submit() {  # submit MESSAGE_ID SUBJECT RECIPIENT...: one message over submission with AUTH
    local id=$1 subject=$2; shift 2
    timeout 30 python3 - "$SUBMISSION" "$id" "$subject" "$@" <<'PY' >"$TMP/submit" 2>&1 || { cat "$TMP/submit" >&2; fail "submitting $id"; }
import smtplib, sys
port, ident, subject, recipients = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4:]
body = (f"From: Alice <alice@tern.test>\r\nTo: {', '.join(recipients)}\r\nSubject: {subject}\r\nMessage-ID: <{ident}>\r\n"
        f"\r\nfirst line of {ident}\r\n.leading dot stays\r\n" + "0123456789" * 30 + f"\r\nend-of-{ident}\r\n")
with smtplib.SMTP("127.0.0.1", port, timeout=20) as s:
    s.login("alice@tern.test", "queue-secret")
    refused = s.sendmail("alice@tern.test", recipients, body.encode())
    assert refused == {}, refused
PY
}
maildir_with() {  # maildir_with TEXT: how many delivered messages contain TEXT
    grep -rlF -- "$1" "$TMP/vmail/maildir/new" 2>/dev/null | wc -l
}
# inbox_dump: every message of alice's Inbox into $TMP/inbox/N (over IMAP, imaplib)
inbox_dump() {
    rm -rf "$TMP/inbox"; mkdir -p "$TMP/inbox"
    timeout 20 python3 - "$IMAP" "$TMP/inbox" <<'PY' >"$TMP/imap.out" 2>&1
import imaplib, sys
port, directory = int(sys.argv[1]), sys.argv[2]
with imaplib.IMAP4("127.0.0.1", port) as m:
    m.login("alice@tern.test", "queue-secret")
    typ, data = m.select("INBOX", readonly=True)
    count = int(data[0])
    if count:
        typ, data = m.fetch(f"1:{count}", "(BODY.PEEK[])")
        n = 0
        for item in data:
            if isinstance(item, tuple):
                n += 1
                open(f"{directory}/{n}", "wb").write(item[1])
PY
}
# dsn_with TEXT...: some message of the Inbox (a DSN, multipart/report) contains every TEXT
dsn_with() {
    inbox_dump || return 1
    local file text
    for file in "$TMP"/inbox/*; do
        [ -f "$file" ] || continue
        grep -q "multipart/report" "$file" || continue
        for text in "$@"; do grep -qF -- "$text" "$file" || continue 2; done
        return 0
    done
    return 1
}

# --- 1. delivery over TLS, content intact ---
submit "ok-1@tern.test" "to the MX" ok@dest.test
pass "submission accepted a message to ok@dest.test"
# The maildir file appears before Postfix's virtual agent logs the delivery, through postlogd:
# the log checks below wait for their lines.
wait_for 30 arrived "ok-1@tern.test" || { tail -20 "$TMP/err" >&2; tail -20 "$TMP/postfix.log" >&2; fail "ok@dest.test did not arrive at postfix"; }
FILE=$(grep -rlF "Message-ID: <ok-1@tern.test>" "$TMP/vmail/maildir/new" | head -1)
python3 - "$FILE" <<'PY' || fail "the delivered message is not intact"
import sys
data = open(sys.argv[1], "rb").read()
expected = (b"\r\nfirst line of ok-1@tern.test\r\n.leading dot stays\r\n" + b"0123456789" * 30 + b"\r\nend-of-ok-1@tern.test\r\n").replace(b"\r\n", b"\n")
assert data.endswith(expected), data[-400:]
assert b"Subject: to the MX\n" in data and b"From: Alice <alice@tern.test>\n" in data
PY
pass "ok@dest.test arrived with its content intact"
grep -q "from mail.tern.test" "$FILE" && grep -q "(using TLSv1\.[23] with cipher" "$FILE" || { head -20 "$FILE" >&2; fail "postfix's Received field does not show TLS from mail.tern.test"; }
grep -q "TLS connection established from" "$TMP/postfix.log" || fail "no TLS connection in postfix's log"
wait_for 10 grep -q "to=<ok@dest.test>.*status=sent" "$TMP/postfix.log" || fail "postfix did not log delivering ok@dest.test"
pass "delivered over STARTTLS (postfix's Received field and log)"

# --- 2. one message to a good, a rejected (550) and a tempfailed (450) recipient ---
submit "mixed-1@tern.test" "three recipients" ok2@dest.test reject@dest.test tempfail@dest.test
wait_for 30 arrived "mixed-1@tern.test" || { tail -20 "$TMP/err" >&2; fail "ok2@dest.test did not arrive"; }
wait_for 10 grep -q "to=<ok2@dest.test>.*status=sent" "$TMP/postfix.log" || fail "postfix did not log delivering ok2@dest.test"
pass "ok2@dest.test of the mixed message arrived"
wait_for 30 dsn_with "Action: failed" "reject@dest.test" "Status: 5.1.1" "no such user here" "mx.dest.test" \
    || { cat "$TMP/imap.out" >&2; tail -20 "$TMP/err" >&2; fail "no failure DSN for reject@dest.test in the sender's Inbox"; }
pass "reject@dest.test: failure DSN in the Inbox (Action: failed, Status: 5.1.1, postfix's reply as diagnostic)"
wait_for 20 dsn_with "Action: delayed" "tempfail@dest.test" "try again later" \
    || { tail -20 "$TMP/err" >&2; fail "no delayed DSN for tempfail@dest.test"; }
pass "tempfail@dest.test: delayed DSN after 2 attempts"
wait_for 40 dsn_with "Action: failed" "tempfail@dest.test" "Status: 5.4.7" "try again later" \
    || { tail -20 "$TMP/err" >&2; fail "no failure DSN for tempfail@dest.test after MaximumAge"; }
tempfails=$(grep -c "<tempfail@dest.test>: Recipient address rejected: try again later" "$TMP/postfix.log" || true)
deferred=$(grep -c 'm="delivery deferred".*tempfail@dest.test' "$TMP/err" || true)
[ "$tempfails" -ge 3 ] && [ "$deferred" -ge 2 ] || fail "tempfail@dest.test was not retried (postfix saw $tempfails attempts, tern logged $deferred deferrals)"
pass "tempfail@dest.test retried $tempfails times, then a failure DSN (Action: failed, Status: 5.4.7)"
[ "$(maildir_with "end-of-mixed-1@tern.test")" -eq 1 ] || fail "the mixed message was delivered more than once"
inbox_dump
[ "$(grep -l "multipart/report" "$TMP"/inbox/* | wc -l)" -eq 3 ] || fail "expected 3 DSNs in the Inbox, found $(grep -l "multipart/report" "$TMP"/inbox/* | wc -l)"
pass "exactly 3 DSNs (reject failed, tempfail delayed and failed); ok2 delivered once"

# --- 2b. REQUIRETLS (RFC 8689) to Postfix, whose certificate does not verify (and which
# does not offer REQUIRETLS): nothing is sent, the sender gets a DSN with 5.7.10 ---
timeout 30 python3 - "$SUBMISSION" <<'PY' >"$TMP/submit" 2>&1 || { cat "$TMP/submit" >&2; fail "submitting with REQUIRETLS"; }
import smtplib, ssl, sys
with smtplib.SMTP("127.0.0.1", int(sys.argv[1]), timeout=20) as s:
    s.starttls(context=ssl._create_unverified_context())
    s.login("alice@tern.test", "queue-secret")
    assert s.has_extn("requiretls"), s.esmtp_features
    body = b"From: alice@tern.test\r\nTo: secure@dest.test\r\nSubject: requiretls\r\n\r\nend-of-requiretls\r\n"
    assert s.sendmail("alice@tern.test", ["secure@dest.test"], body, mail_options=["REQUIRETLS"]) == {}
PY
wait_for 30 dsn_with "Action: failed" "secure@dest.test" "Status: 5.7.10" "REQUIRETLS (RFC 8689) could not be met" \
    || { tail -20 "$TMP/err" >&2; fail "no 5.7.10 DSN for the REQUIRETLS message"; }
[ "$(maildir_with "end-of-requiretls")" -eq 0 ] || fail "the REQUIRETLS message reached postfix"
pass "REQUIRETLS to an MX without verified TLS: not sent, DSN with Status 5.7.10"
# RFC 8460: the sessions with Postfix so far, opportunistic STARTTLS without a policy; the
# REQUIRETLS message was refused before connecting (no MX vouched for), not a TLS failure.
tlsrpt_reported "$TMP/config/tern.yaml" "dest\.test recipient-domain=dest\.test policy=no-policy-found successful=[1-9][0-9]* failed=0$" \
    "the TLS sessions with Postfix as no-policy-found successes"

stop_cleanly "$PID" "$TMP/err"
PID=""

# --- 3. the queue survives kill -9 ---
write_config 10m
start_tern
stop_postfix
N=6
for i in $(seq 1 "$N"); do submit "restart-$i@tern.test" "restart $i" "r$i@dest.test"; done
pass "$N messages acknowledged with postfix down"
sleep 0.5  # let the queue fail an attempt or two against the closed port
kill -9 "$PID"
wait "$PID" 2>/dev/null || true
PID=""
start_tern
start_postfix
all_arrived() { for i in $(seq 1 "$N"); do arrived "restart-$i@tern.test" || return 1; done; }
wait_for 60 all_arrived || { tail -20 "$TMP/err" >&2; fail "not every acknowledged message arrived after kill -9 and restart"; }
duplicates=0
for i in $(seq 1 "$N"); do
    count=$(maildir_with "end-of-restart-$i@tern.test")
    [ "$count" -gt 1 ] && { duplicates=$((duplicates + count - 1)); log "restart-$i@tern.test arrived $count times"; }
done
log "duplicates after kill -9: $duplicates"
pass "all $N acknowledged messages arrived after kill -9 and restart ($duplicates duplicates)"

stop_cleanly "$PID" "$TMP/err"
PID=""

# --- 4. SOCKS5 transports, picked by the routes of the domain and the account ---
microsocks -i 127.0.0.1 -p "$SOCKS" >"$TMP/socks.log" 2>&1 &
SOCKS_PID=$!
microsocks -i 127.0.0.1 -p "$SOCKS_AUTH" -u tern -P socks-secret >"$TMP/socks-auth.log" 2>&1 &
SOCKS_AUTH_PID=$!
disown "$SOCKS_PID" "$SOCKS_AUTH_PID"
wait_for 10 port_listening "$SOCKS" && wait_for 10 port_listening "$SOCKS_AUTH" || fail "microsocks did not open its ports"
pass "microsocks proxies on 127.0.0.1:$SOCKS (no authentication) and 127.0.0.1:$SOCKS_AUTH (username/password)"
received_from() {  # received_from MESSAGE_ID: the HELO name in postfix's Received field of the delivered message
    local file
    file=$(grep -rlF "Message-ID: <$1>" "$TMP/vmail/maildir/new" | head -1)
    sed -n 's/^Received: from \([^ ]*\) .*/\1/p' "$file" | head -1
}
reloads() { grep -c 'm="domains configuration reloaded"' "$TMP/err" || true; }
reload_domains() {  # reload_domains DOMAIN_TRANSPORT ACCOUNT_TRANSPORT: rewrites domains.yaml and waits for tern to apply it
    local before
    before=$(reloads)
    write_domains "$1" "$2"
    wait_for 20 eval '[ "$(reloads)" -gt "$before" ]' || { tail -5 "$TMP/err" >&2; fail "domains.yaml with routes '$1' '$2' was not applied"; }
}
logged() { grep -qF -- "$1" "$TMP/err"; }

write_domains proxied ""
start_tern
submit "socks-1@tern.test" "through a proxy" ok-socks@dest.test
wait_for 30 arrived "socks-1@tern.test" || { tail -20 "$TMP/err" >&2; cat "$TMP/socks.log" >&2; fail "socks-1 did not arrive through the proxy"; }
[ "$(received_from socks-1@tern.test)" = "proxy.tern.test" ] || fail "socks-1 arrived from '$(received_from socks-1@tern.test)', not the proxied transport's Hostname"
pass "a domain route sent socks-1 through the proxy without authentication (EHLO proxy.tern.test)"

reload_domains proxied wrongauth
submit "socks-2@tern.test" "wrong proxy password" ok-socks@dest.test
wait_for 30 logged "SOCKS5 proxy: 127.0.0.1:$SOCKS_AUTH rejected the username and password (RFC 1929 status" \
    || { tail -20 "$TMP/err" >&2; fail "no temporary failure naming the proxy for a wrong password"; }
[ "$(maildir_with "end-of-socks-2@tern.test")" -eq 0 ] || fail "socks-2 arrived despite the wrong proxy password"
pass "an account route, added by a reload, beats the domain's: a wrong proxy password is a temporary failure naming the proxy"
reload_domains proxied proxiedauth
wait_for 40 arrived "socks-2@tern.test" || { tail -20 "$TMP/err" >&2; fail "socks-2 did not arrive after the password was fixed"; }
[ "$(received_from socks-2@tern.test)" = "proxy-auth.tern.test" ] || fail "socks-2 arrived from '$(received_from socks-2@tern.test)'"
pass "after the next reload the queued socks-2 went through the proxy with username/password (EHLO proxy-auth.tern.test)"

stop_postfix
submit "socks-3@tern.test" "proxy cannot connect" ok-socks@dest.test
wait_for 30 logged "SOCKS5 proxy: 127.0.0.1:$SOCKS_AUTH answered CONNECT with reply 5, connection refused (RFC 1928 §6)" \
    || { tail -20 "$TMP/err" >&2; fail "no temporary failure naming the proxy's CONNECT reply"; }
pass "CONNECT refused by the proxy (postfix down) is a temporary failure with the proxy's reply"
start_postfix
wait_for 40 arrived "socks-3@tern.test" || { tail -20 "$TMP/err" >&2; fail "socks-3 did not arrive once postfix was back"; }
pass "socks-3 arrived through the proxy when postfix was back"

before=$(grep -c 'm="domains configuration not applied"' "$TMP/err" || true)
write_domains proxied nosuch
"$TERN" config test --config "$TMP/config/tern.yaml" >"$TMP/check" 2>&1 && fail "config test accepts a route to an undefined transport"
grep -qF "$TMP/config/domains.yaml:12:9: Accounts.alice.Routes[0].Transport: no transport named 'nosuch' under Queue.Transports in the static config" "$TMP/check" \
    || { cat "$TMP/check" >&2; fail "config test does not name the domains file, line and key of the unknown transport"; }
wait_for 20 eval '[ "$(grep -c "m=\"domains configuration not applied\".*no transport named .nosuch." "$TMP/err" || true)" -gt "$before" ]' \
    || { tail -5 "$TMP/err" >&2; fail "the reload did not refuse a route to an undefined transport"; }
pass "a route to an undefined transport: config test and the reload name domains.yaml:12:9 Accounts.alice.Routes[0].Transport"

stop_cleanly "$PID" "$TMP/err"
PID=""
"$TERN" verifydata "$TMP/data" >"$TMP/verify" 2>&1 || { cat "$TMP/verify" >&2; fail "verifydata found problems"; }
pass "verifydata clean"

succeed
