#!/usr/bin/env bash
# Interop test: Tern's queue relaying through a smarthost with SASL AUTH. Postfix (from
# Debian) is the smarthost on a free loopback port: STARTTLS required, relaying only for
# authenticated clients, SASL from a private Dovecot (`smtpd_sasl_type = dovecot`, its auth
# service on a loopback TCP port, users in a passwd-file) offering PLAIN, LOGIN, CRAM-MD5,
# SCRAM-SHA-1 and SCRAM-SHA-256. `tern serve` has one relay transport per mechanism (Auth:
# Mechanisms) and one without a choice, picked by routes on the recipient domain. Checked:
#   - a message per mechanism arrives, and Postfix's log names that mechanism
#     (sasl_method=...) for the authenticated client;
#   - without a configured mechanism Tern picks the strongest offered, SCRAM-SHA-256;
#   - a wrong password gets Postfix's 535, and the message stays queued, deferred (the
#     operator fixes the credentials; it is not bounced), and nothing is relayed.
#
# Usage: TERN=/path/to/tern bash Interop/smarthost.sh (root: installs postfix and
# dovecot-core when missing; runs private instances with `postfix -c` and `dovecot -c`,
# /etc/postfix and /etc/dovecot are not used). Loopback only. The last stdout line is
# `PASS smarthost (N checks)` or `FAIL smarthost: <reason>`.
set -euo pipefail
NAME=smarthost
# shellcheck source=Interop/lib.bash
source "$(dirname "${BASH_SOURCE[0]}")/lib.bash"
TMP=$(mktemp -d)
chmod 755 "$TMP"
PID=""; DOVECOT_UP=0; POSTFIX_UP=0
PFCONF="$TMP/postfix-etc"
cleanup() {
    [ -n "$PID" ] && kill -9 "$PID" 2>/dev/null
    [ "$POSTFIX_UP" = 1 ] && postfix -c "$PFCONF" stop >/dev/null 2>&1
    [ "$DOVECOT_UP" = 1 ] && doveadm -c "$TMP/dovecot.conf" stop >/dev/null 2>&1
    [ -n "${KEEP:-}" ] || rm -rf "$TMP"
}
trap cleanup EXIT

postfix_install
apt_install dovecot dovecot-core

free_port AUTH_PORT RELAY_PORT SUBMISSION IMAP
MECHANISMS="PLAIN LOGIN CRAM-MD5 SCRAM-SHA-1 SCRAM-SHA-256"

# --- Dovecot: only its auth service, for Postfix ---
mkdir -p "$TMP/dovecot-run" "$TMP/dovecot-state"
echo "relay-user:{PLAIN}relay-secret" >"$TMP/dovecot-passwd"
cat >"$TMP/dovecot.conf" <<CONF
protocols =
listen = 127.0.0.1
base_dir = $TMP/dovecot-run
state_dir = $TMP/dovecot-state
log_path = $TMP/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login cram-md5 scram-sha-1 scram-sha-256
passdb {
  driver = passwd-file
  args = $TMP/dovecot-passwd
}
userdb {
  driver = static
  args = uid=65534 gid=65534 home=/nonexistent
}
service auth {
  inet_listener {
    address = 127.0.0.1
    port = $AUTH_PORT
  }
}
CONF
dovecot -c "$TMP/dovecot.conf" >"$TMP/dovecot.out" 2>&1 || { cat "$TMP/dovecot.out" "$TMP/dovecot.log" >&2 2>/dev/null; fail "dovecot did not start"; }
DOVECOT_UP=1
for _ in $(seq 1 100); do port_listening "$AUTH_PORT" && break; sleep 0.1; done
port_listening "$AUTH_PORT" || { cat "$TMP/dovecot.log" >&2 2>/dev/null; fail "dovecot's auth service does not listen on $AUTH_PORT"; }
pass "dovecot's auth service listens on 127.0.0.1:$AUTH_PORT"

# --- Postfix: the smarthost, STARTTLS and AUTH required to relay ---
mkdir -p "$PFCONF" "$TMP/vmail"
chown nobody:nogroup "$TMP/vmail"
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=smarthost.test -addext subjectAltName=DNS:smarthost.test \
    -keyout "$PFCONF/key.pem" -out "$PFCONF/cert.pem" >/dev/null 2>&1 || fail "openssl could not make a test certificate"
DOMAINS="plain.test login.test cram.test scram1.test scram256.test strongest.test wrong.test"
postfix_main_cf "$PFCONF" smarthost.test \
    "mynetworks =" \
    "virtual_mailbox_domains = $DOMAINS" \
    "virtual_mailbox_base = $TMP/vmail" \
    "virtual_mailbox_maps = static:maildir/" \
    "virtual_uid_maps = static:65534" \
    "virtual_gid_maps = static:65534" \
    "smtpd_tls_security_level = encrypt" \
    "smtpd_tls_auth_only = yes" \
    "smtpd_tls_cert_file = $PFCONF/cert.pem" \
    "smtpd_tls_key_file = $PFCONF/key.pem" \
    "smtpd_sasl_auth_enable = yes" \
    "smtpd_sasl_type = dovecot" \
    "smtpd_sasl_path = inet:127.0.0.1:$AUTH_PORT" \
    "smtpd_relay_restrictions = permit_sasl_authenticated, reject" \
    "smtpd_recipient_restrictions = permit_sasl_authenticated, reject"
postfix_master_cf "$PFCONF/master.cf" "127.0.0.1:$RELAY_PORT" \
    "virtual   unix  -       n       n       -       -       virtual"
POSTFIX_UP=1
postfix_start "$PFCONF" "$RELAY_PORT"
timeout 20 python3 - "$RELAY_PORT" "$MECHANISMS" <<'PY' >"$TMP/ehlo" 2>&1 || { cat "$TMP/ehlo" >&2; tail -20 "$TMP/postfix.log" >&2; fail "postfix does not offer the mechanisms after STARTTLS"; }
import smtplib, ssl, sys
port, wanted = int(sys.argv[1]), set(sys.argv[2].split())
with smtplib.SMTP("127.0.0.1", port, timeout=10) as s:
    s.ehlo("probe.test")
    assert not s.has_extn("auth"), "AUTH offered before TLS"
    s.starttls(context=ssl._create_unverified_context())
    s.ehlo("probe.test")
    offered = set(s.esmtp_features.get("auth", "").upper().split())
    assert wanted <= offered, (wanted, offered)
PY
pass "postfix relays on 127.0.0.1:$RELAY_PORT with STARTTLS, offering $MECHANISMS through dovecot"

# --- tern serve: a relay transport per mechanism, routes by recipient domain ---
mkdir -p "$TMP/config"
transport() {  # transport NAME PASSWORD [MECHANISM]
    cat <<YAML
    $1:
      Host: 127.0.0.1
      Port: $RELAY_PORT
      TLS: STARTTLS
      IgnoreVerificationErrors: true
      Auth:
        Username: relay-user
        Password: $2
YAML
    [ -n "${3:-}" ] && printf '        Mechanisms: [%s]\n' "$3"
    return 0
}
route() {  # route DOMAIN TRANSPORT
    printf '    - RecipientDomains: [%s]\n      Transport: %s\n' "$1" "$2"
}
{
    serve_yaml_head "127.0.0.1:9" "$SUBMISSION" "$IMAP"
    cat <<YAML
Queue:
  FirstRetryInterval: 1m
  Transports:
YAML
    transport plain relay-secret PLAIN
    transport login relay-secret LOGIN
    transport cram relay-secret CRAM-MD5
    transport scram1 relay-secret SCRAM-SHA-1
    transport scram256 relay-secret SCRAM-SHA-256
    transport strongest relay-secret
    transport wrong not-the-password PLAIN
    echo "  Routes:"
    for name in plain login cram scram1 scram256 strongest wrong; do route "$name.test" "$name"; done
} >"$TMP/config/tern.yaml"
serve_domains_yaml alice-secret >"$TMP/config/domains.yaml"
"$TERN" config test --config "$TMP/config/tern.yaml" >"$TMP/check" 2>&1 || { cat "$TMP/check" >&2; fail "config test rejects the configuration"; }
pass "config test accepts seven relay transports with Auth: Mechanisms and their routes"

"$TERN" serve --config "$TMP/config/tern.yaml" >"$TMP/out" 2>"$TMP/err" &
PID=$!
for _ in $(seq 1 150); do port_listening "$SUBMISSION" && port_listening "$IMAP" && break; kill -0 "$PID" 2>/dev/null || break; sleep 0.1; done
port_listening "$SUBMISSION" || { tail -20 "$TMP/err" >&2; fail "serve did not start"; }

timeout 30 python3 - "$SUBMISSION" $DOMAINS <<'PY' >"$TMP/submit" 2>&1 || { cat "$TMP/submit" >&2; fail "submitting the messages"; }
import smtplib, sys
port, domains = int(sys.argv[1]), sys.argv[2:]
with smtplib.SMTP("127.0.0.1", port, timeout=20) as s:
    s.login("alice@tern.test", "alice-secret")
    for domain in domains:
        body = f"From: alice@tern.test\r\nTo: bob@{domain}\r\nSubject: via {domain}\r\n\r\nend-of-{domain}\r\n"
        assert s.sendmail("alice@tern.test", [f"bob@{domain}"], body.encode()) == {}
PY
pass "7 messages submitted, one per route"

# logged_delivery DOMAIN: prints the queue id of the virtual agent's delivery to bob@DOMAIN;
# false while Postfix has not logged it.
logged_delivery() {
    local id
    id=$(grep -F "to=<bob@$1>" "$TMP/postfix.log" | grep -o 'postfix/virtual\[[0-9]*\]: [0-9A-F]*' | awk '{print $2}' | head -1) || true
    [ -n "$id" ] && echo "$id"
}
for pair in plain.test:PLAIN login.test:LOGIN cram.test:CRAM-MD5 scram1.test:SCRAM-SHA-1 scram256.test:SCRAM-SHA-256 strongest.test:SCRAM-SHA-256; do
    domain=${pair%%:*}; mechanism=${pair#*:}
    wait_for 30 arrived "$domain" || { tail -20 "$TMP/err" >&2; tail -20 "$TMP/postfix.log" >&2; fail "the message to bob@$domain did not arrive"; }
    # The maildir file appears before Postfix's virtual agent logs the delivery, so wait
    # for that line too. Postfix logs the SASL method with the queue id it accepted.
    wait_for 10 logged_delivery "$domain" >/dev/null || { tail -20 "$TMP/postfix.log" >&2; fail "no delivery of bob@$domain in postfix's log"; }
    queue_id=$(logged_delivery "$domain")
    grep -q "$queue_id: client=.*sasl_method=$mechanism, sasl_username=relay-user" "$TMP/postfix.log" \
        || { grep "$queue_id" "$TMP/postfix.log" >&2; fail "bob@$domain was not relayed with AUTH $mechanism"; }
    pass "bob@$domain relayed after AUTH $mechanism"
done

# A wrong password: Postfix answers 535; the message stays queued (deferred, 4.7.8, like
# Postfix's own smtp_sasl_auth_soft_bounce) for the operator to fix the credentials.
deferred_wrong() {
    "$TERN" queue list --config "$TMP/config/tern.yaml" >"$TMP/queue" 2>&1 || return 1
    grep -q "bob@wrong.test pending.*4.7.8 535 5.7.8" "$TMP/queue"
}
wait_for 30 deferred_wrong || { cat "$TMP/queue" >&2; tail -20 "$TMP/err" >&2; fail "bob@wrong.test is not deferred with postfix's 535"; }
# Postfix writes its log through postlogd, a separate process, so a line may lag a little.
wait_for 10 grep -q "SASL PLAIN authentication failed" "$TMP/postfix.log" || fail "postfix did not log the failed AUTH"
arrived wrong.test && fail "the message to bob@wrong.test was relayed without AUTH"
pass "a wrong password: postfix's 535 defers bob@wrong.test (tern queue list), nothing relayed"

stop_cleanly "$PID" "$TMP/err"
PID=""
succeed
