#!/usr/bin/env bash
# Interop test: MTA-STS (RFC 8461) on `tern serve`'s direct delivery. dest.test's MX is a
# Postfix on loopback with a certificate from a test CA; dnsmasq answers its MX, A and
# `_mta-sts` TXT records; its policy is served at https://mta-sts.dest.test/.well-known/
# mta-sts.txt by Python's HTTPS server on 127.0.0.1:443 (the name in /etc/hosts while the
# test runs), with a certificate from the same CA, which tern trusts through the test-only
# TERN_MTASTS_TRUST_ROOT. Checked:
#   - enforce, MX listed: delivered over TLS verified for mx.dest.test; the policy cached;
#   - enforce, MX not listed (a new policy id): not delivered, deferred with the reason;
#   - testing, MX not listed: delivered anyway (RFC 8461 §5);
#   - enforce with the MX listed but Postfix's certificate from another CA: not delivered.
# Each case's TLS report result (RFC 8460) is checked in `tern tlsrpt results`, and the TLS
# session counters in /metrics.
#
# Usage: TERN=/path/to/tern bash Interop/mtasts.sh (root: installs postfix and dnsmasq-base
# when missing, binds port 443, edits /etc/hosts and restores it). Loopback only. The last
# stdout line is `PASS mtasts (N checks)` or `FAIL mtasts: <reason>`.
set -euo pipefail
NAME=mtasts
# shellcheck source=Interop/lib.bash
source "$(dirname "${BASH_SOURCE[0]}")/lib.bash"
TMP=$(mktemp -d)
chmod 755 "$TMP"
PID=""; DNS_PID=""; HTTPS_PID=""; POSTFIX_UP=0
PFCONF="$TMP/postfix-etc"
HOSTS_LINE="127.0.0.1 mta-sts.dest.test # tern Interop/mtasts.sh"
cleanup() {
    for pid in "$PID" "$DNS_PID" "$HTTPS_PID"; do [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null; done
    [ "$POSTFIX_UP" = 1 ] && postfix -c "$PFCONF" stop >/dev/null 2>&1
    grep -vF "$HOSTS_LINE" /etc/hosts >"$TMP/hosts" 2>/dev/null && cat "$TMP/hosts" >/etc/hosts
    [ -n "${KEEP:-}" ] || rm -rf "$TMP"
}
trap cleanup EXIT

postfix_install
apt_install dnsmasq dnsmasq-base
port_listening 443 && fail "port 443 is in use"
free_port DNS_PORT MX_PORT SUBMISSION IMAP METRICS

# --- a test CA and its certificates for the policy's web server and for the MX ---
test_ca "Tern MTA-STS test CA"
issue_certificate mta-sts.dest.test
issue_certificate mx.dest.test
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=mx.dest.test -addext subjectAltName=DNS:mx.dest.test \
    -keyout "$TMP/untrusted.key" -out "$TMP/untrusted.pem" >/dev/null 2>&1 || fail "openssl could not make a self-signed certificate"

# --- DNS: MX and the _mta-sts record, restarted with a new policy id for each case ---
start_dns() {  # start_dns POLICY_ID
    [ -n "$DNS_PID" ] && { kill "$DNS_PID" 2>/dev/null; wait "$DNS_PID" 2>/dev/null || true; }
    dnsmasq --keep-in-foreground --port="$DNS_PORT" --listen-address=127.0.0.1 --bind-interfaces --no-resolv --no-hosts \
        --conf-file=/dev/null --user=root --mx-host=dest.test,mx.dest.test,10 --host-record=mx.dest.test,127.0.0.1 \
        --txt-record=_mta-sts.dest.test,"v=STSv1; id=$1" >"$TMP/dnsmasq.out" 2>&1 &
    DNS_PID=$!
    disown "$DNS_PID"
    for _ in $(seq 1 50); do "$TERN" dns lookup --resolver "127.0.0.1:$DNS_PORT" TXT _mta-sts.dest.test 2>/dev/null | grep -q "id=$1" && return 0; sleep 0.1; done
    fail "dnsmasq does not answer the _mta-sts record"
}
start_dns 1

# --- the policy over HTTPS ---
mkdir -p "$TMP/www/.well-known"
policy() {  # policy MODE MX
    printf 'version: STSv1\r\nmode: %s\r\nmx: %s\r\nmax_age: 86400\r\n' "$1" "$2" >"$TMP/www/.well-known/mta-sts.txt"
}
policy enforce mx.dest.test
cat /etc/hosts >"$TMP/hosts.orig"
echo "$HOSTS_LINE" >>/etc/hosts
python3 - "$TMP/www" "$TMP/mta-sts.dest.test.pem" "$TMP/mta-sts.dest.test.key" >"$TMP/https.out" 2>&1 <<'PY' &
import functools, http.server, ssl, sys
root, cert, key = sys.argv[1:4]
handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=root)
server = http.server.ThreadingHTTPServer(("127.0.0.1", 443), handler)
context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
context.load_cert_chain(cert, key)
server.socket = context.wrap_socket(server.socket, server_side=True)
server.serve_forever()
PY
HTTPS_PID=$!
disown "$HTTPS_PID"
for _ in $(seq 1 50); do port_listening 443 && break; sleep 0.1; done
python3 - "$TMP/ca.pem" <<'PY' >"$TMP/fetch" 2>&1 || { cat "$TMP/fetch" "$TMP/https.out" >&2; fail "the policy is not served at https://mta-sts.dest.test/.well-known/mta-sts.txt"; }
import ssl, sys, urllib.request
context = ssl.create_default_context(cafile=sys.argv[1])
with urllib.request.urlopen("https://mta-sts.dest.test/.well-known/mta-sts.txt", context=context, timeout=10) as response:
    assert response.headers.get_content_type() == "text/plain", response.headers
    assert b"mode: enforce" in response.read()
PY
pass "policy served over HTTPS with a certificate of the test CA; _mta-sts record in dnsmasq"

# --- Postfix: the MX, STARTTLS with a certificate of the test CA ---
mkdir -p "$PFCONF"
cp "$TMP/mx.dest.test.pem" "$PFCONF/cert.pem"
cp "$TMP/mx.dest.test.key" "$PFCONF/key.pem"
postfix_mx_main_cf "$PFCONF" mx.dest.test dest.test
postfix_master_cf "$PFCONF/master.cf" "127.0.0.1:$MX_PORT" "$POSTFIX_VIRTUAL"
POSTFIX_UP=1
postfix_start "$PFCONF" "$MX_PORT"

# --- tern serve ---
mkdir -p "$TMP/config"
{
    serve_yaml_head "127.0.0.1:$DNS_PORT" "$SUBMISSION" "$IMAP" "" "$METRICS"
    cat <<YAML
Queue:
  FirstRetryInterval: 1h
  DirectPort: $MX_PORT
YAML
} >"$TMP/config/tern.yaml"
serve_domains_yaml sts-secret >"$TMP/config/domains.yaml"
TERN_MTASTS_TRUST_ROOT="$TMP/ca.pem" "$TERN" serve --config "$TMP/config/tern.yaml" >"$TMP/out" 2>"$TMP/err" &
PID=$!
for _ in $(seq 1 150); do port_listening "$SUBMISSION" && break; kill -0 "$PID" 2>/dev/null || break; sleep 0.1; done
port_listening "$SUBMISSION" || { tail -20 "$TMP/err" >&2; fail "serve did not start"; }

submit() { submit_message "$SUBMISSION" sts-secret "$1" bob@dest.test; }
reported() { tlsrpt_reported "$TMP/config/tern.yaml" "$@"; }

# 1. enforce, the MX listed: delivered over verified TLS.
submit enforce-listed
wait_for 30 arrived enforce-listed || { tail -20 "$TMP/err" >&2; fail "enforce with the MX listed: not delivered"; }
grep -q "TLS connection established from" "$TMP/postfix.log" || fail "no TLS connection in postfix's log"
[ -s "$TMP/data/mtasts.db" ] || fail "no MTA-STS policy cache"
pass "enforce, MX listed: delivered over TLS verified for mx.dest.test, policy cached"
reported "^[0-9-]{10} dest\.test recipient-domain=dest\.test policy=sts \(mode: enforce\) successful=1 failed=0$" "a successful sts session"

# 2. enforce, the MX not listed (policy id 2): deferred, not delivered.
policy enforce other.dest.test
start_dns 2
submit enforce-unlisted
wait_for 30 queue_lists "not allowed by the MTA-STS policy of dest.test" \
    || { cat "$TMP/queue" >&2; tail -20 "$TMP/err" >&2; fail "enforce with the MX not listed: no deferral naming the policy"; }
arrived enforce-unlisted && fail "enforce with the MX not listed: delivered anyway"
pass "enforce, MX not listed: deferred (4.4.4, not allowed by the policy), not delivered"
reported "^  validation-failure count=1 mx=mx\.dest\.test: MX host mx\.dest\.test is not in the MTA-STS policy$" "the MX outside the enforced policy"
queue_drop_all

# 3. testing, the MX not listed (policy id 3): delivered anyway.
policy testing other.dest.test
start_dns 3
submit testing-unlisted
wait_for 30 arrived testing-unlisted || { tail -20 "$TMP/err" >&2; fail "testing mode: not delivered"; }
pass "testing, MX not listed: delivered (RFC 8461 §5)"
reported "policy=sts \(mode: testing\) successful=0 failed=1$" "testing mode records the failure"
reported "^  validation-failure count=1 mx=mx\.dest\.test ip=127\.0\.0\.1: MX host mx\.dest\.test is not in the MTA-STS policy$" \
    "the session to the MX outside the testing policy"

# 4. enforce, the MX listed, but its certificate is not from a trusted CA: deferred.
policy enforce mx.dest.test
start_dns 4
cp "$TMP/untrusted.pem" "$PFCONF/cert.pem"
cp "$TMP/untrusted.key" "$PFCONF/key.pem"
# A restart, not a reload: an idle smtpd of the last case may serve one more session with the
# old certificate after a reload.
postfix -c "$PFCONF" stop >/dev/null 2>&1 || fail "postfix stop"
for _ in $(seq 1 100); do port_listening "$MX_PORT" || break; sleep 0.1; done
postfix_start "$PFCONF" "$MX_PORT"
submit enforce-untrusted
wait_for 30 queue_lists "certificate" \
    || { cat "$TMP/queue" >&2; tail -20 "$TMP/err" >&2; fail "enforce with an untrusted certificate: no deferral naming the certificate"; }
arrived enforce-untrusted && fail "enforce with an untrusted certificate: delivered anyway"
pass "enforce, MX certificate not trusted: deferred, not delivered"
reported "^  certificate-not-trusted count=1 mx=mx\.dest\.test ip=127\.0\.0\.1: " "the untrusted certificate"
curl -sf "http://127.0.0.1:$METRICS/metrics" >"$TMP/metrics" || fail "GET /metrics failed"
grep -q '^tern_queue_tls_sessions_total{result="success"} 2$' "$TMP/metrics" \
    && grep -q '^tern_queue_tls_failures_total{result_type="certificate-not-trusted",reason="verification"} 1$' "$TMP/metrics" \
    || { grep tern_queue_tls "$TMP/metrics" >&2; fail "TLS session metrics"; }
pass "metrics: TLS sessions and the certificate failure counted"

stop_cleanly "$PID" "$TMP/err"
PID=""
succeed
