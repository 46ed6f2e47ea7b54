#!/usr/bin/env bash
# Interop test: `tern serve` with a listener whose TLS is `ACME: pebble`. At start it serves
# an interim self-signed certificate; its certificate manager then gets a certificate from pebble
# (Let's Encrypt's test CA) with real tls-alpn-01 validation on the provider's port, and the
# next handshakes on the mail ports (submissions, IMAPS) show the new certificate, without a
# restart. After a restart the stored certificate is served from the first connection.
#
# Names: pebble resolves mail.tern-acme.test through a dnsmasq on loopback (Debian's
# dnsmasq-base). pebble's HTTPS CA is made by Interop/pebble.bash; tern trusts it through
# the test-only TERN_ACME_TRUST_ROOT.
#
# Usage: TERN=/path/to/tern bash Interop/acme-serve.sh (TERN defaults to the debug build).
# Installs pebble and dnsmasq-base with apt-get when missing (root). Loopback only. The last
# stdout line is `PASS acme-serve (N checks)` or `FAIL acme-serve: <first failure>`.
set -euo pipefail
NAME=acme-serve
# shellcheck source=Interop/lib.bash
source "$(dirname "${BASH_SOURCE[0]}")/lib.bash"
# shellcheck source=Interop/pebble.bash
source "$(dirname "${BASH_SOURCE[0]}")/pebble.bash"
TMP=$(mktemp -d)
PEBBLE_PID=""; DNS_PID=""; PID=""
cleanup() {
    for pid in "$PID" "$PEBBLE_PID" "$DNS_PID"; do [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null; done
    rm -rf "$TMP"
}
trap cleanup EXIT
install_pebble
apt_install dnsmasq dnsmasq-base
HOST=mail.tern-acme.test

free_port DNS_PORT TLS_PORT SUBMISSIONS IMAPS
dnsmasq --keep-in-foreground --port="$DNS_PORT" --listen-address=127.0.0.1 --bind-interfaces --no-resolv --no-hosts \
    --conf-file=/dev/null --user=root --address="/tern-acme.test/127.0.0.1" >"$TMP/dnsmasq.log" 2>&1 &
DNS_PID=$!
disown "$DNS_PID"
prepare_pebble
start_pebble "$DNS_PORT" "$TLS_PORT"

mkdir -p "$TMP/config"
cat >"$TMP/config/tern.yaml" <<YAML
DataDir: ../data
Hostname: $HOST
Postmaster:
  Account: admin
  Mailbox: Inbox
ACME:
  pebble:
    DirectoryURL: $DIRECTORY
    ContactEmail: postmaster@tern-acme.test
    Port: $TLS_PORT
Listeners:
  public:
    IPs:
      - 127.0.0.1
    TLS:
      ACME: pebble
    Submissions:
      Enabled: true
      Port: $SUBMISSIONS
    IMAPS:
      Enabled: true
      Port: $IMAPS
YAML
printf 'Domains:\n  tern-acme.test: {}\nAccounts:\n  admin:\n    Domain: tern-acme.test\n    Destinations:\n      admin: {}\n' \
    >"$TMP/config/domains.yaml"
"$TERN" config test --config "$TMP/config/tern.yaml" >"$TMP/check" 2>&1 || { cat "$TMP/check" >&2; fail "config test rejects the configuration"; }
pass "config test accepts TLS: ACME"

start_serve() {
    TERN_ACME_TRUST_ROOT="$TMP/https-ca.pem" "$TERN" serve --config "$TMP/config/tern.yaml" >"$TMP/out" 2>>"$TMP/err" &
    PID=$!
    disown "$PID"
    for _ in $(seq 1 100); do port_used "$SUBMISSIONS" && port_used "$IMAPS" && return 0; sleep 0.1; done
    tail -20 "$TMP/err" >&2
    fail "serve did not start"
}
issuer() {  # issuer PORT: the issuer of the certificate served there
    echo | timeout 10 openssl s_client -connect "127.0.0.1:$1" -servername "$HOST" 2>/dev/null \
        | openssl x509 -noout -issuer 2>/dev/null
}
start_serve

log "waiting for pebble's certificate on the submissions port"
for _ in $(seq 1 300); do
    issuer "$SUBMISSIONS" | grep -qi "pebble" && break
    kill -0 "$PID" 2>/dev/null || break
    sleep 0.2
done
issuer "$SUBMISSIONS" | grep -qi "pebble" || { tail -30 "$TMP/err" >&2; tail -20 "$TMP/pebble.log" >&2; fail "no pebble certificate on submissions"; }
pass "submissions switched to the certificate from pebble without a restart"
grep -q "set VALID by completed challenge" "$TMP/pebble.log" || fail "pebble did not validate a tls-alpn-01 challenge"
pass "pebble validated tls-alpn-01 on the provider's port"
issuer "$IMAPS" | grep -qi "pebble" || fail "IMAPS does not serve the certificate from pebble"
pass "IMAPS serves it too"

curl -sf --cacert "$TMP/https-ca.pem" "https://localhost:$MGMT_PORT/roots/0" -o "$TMP/root.pem" || fail "cannot fetch pebble's root"
echo | timeout 10 openssl s_client -connect "127.0.0.1:$SUBMISSIONS" -servername "$HOST" -showcerts 2>/dev/null \
    | awk '/BEGIN CERT/,/END CERT/' >"$TMP/served.pem"
openssl x509 -in "$TMP/served.pem" -out "$TMP/leaf.pem" 2>/dev/null || fail "no served certificate"
openssl verify -CAfile "$TMP/root.pem" -untrusted "$TMP/served.pem" "$TMP/leaf.pem" >"$TMP/verify.log" 2>&1 \
    || { cat "$TMP/verify.log" >&2; fail "the served chain does not verify against pebble's root"; }
openssl x509 -in "$TMP/leaf.pem" -noout -ext subjectAltName | grep -q "DNS:$HOST" || fail "the certificate does not name $HOST"
pass "the served chain verifies against pebble's root and names $HOST"

log "restarting: the stored certificate is served at once"
kill "$PID"
for _ in $(seq 1 50); do kill -0 "$PID" 2>/dev/null || break; sleep 0.1; done
before=$(grep -c "set VALID by completed challenge" "$TMP/pebble.log")
start_serve
# (Ports of the first run can linger in TIME_WAIT, so wait for a handshake, not the port.)
for _ in $(seq 1 50); do issuer "$SUBMISSIONS" | grep -q . && break; sleep 0.2; done
issuer "$SUBMISSIONS" | grep -qi "pebble" || { tail -15 "$TMP/err" >&2; fail "after a restart the stored certificate is not served"; }
sleep 1
[ "$(grep -c "set VALID by completed challenge" "$TMP/pebble.log")" = "$before" ] || fail "a restart asked the CA again"
pass "after a restart the stored certificate is served without asking the CA"

echo "PASS $NAME ($CHECKS checks)"
