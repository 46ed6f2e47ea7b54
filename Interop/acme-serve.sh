#!/usr/bin/env bash
# Interop test: `tern serve` with a listener whose TLS is `ACME: pebble`. At start it serves
# an interim self-signed certificate; its certificate manager then gets a certificate from pebble
# (Let's Encrypt's test CA) with real tls-alpn-01 validation on the provider's port, and the
# next handshakes on the mail ports (submissions, IMAPS) show the new certificate, without a
# restart. After a restart the stored certificate is served from the first connection.
#
# The same listener serves the domain's MTA-STS policy (MTASTSHTTPS) on the provider's port,
# where it also answers the validations: the certificate names mta-sts.tern-acme.test too, and
# curl fetches the policy with pebble's root as its only trust. The TLSA record that
# `tern config dnsrecords` prints before the first certificate is that of the key pebble
# certifies, and stays so after a restart.
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

free_port DNS_PORT TLS_PORT SMTP SUBMISSIONS IMAPS
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
    MTASTSHTTPS:
      Enabled: true
      Port: $TLS_PORT
    SMTP:
      Enabled: true
      Port: $SMTP
    Submissions:
      Enabled: true
      Port: $SUBMISSIONS
    IMAPS:
      Enabled: true
      Port: $IMAPS
YAML
cat >"$TMP/config/domains.yaml" <<YAML
Domains:
  tern-acme.test:
    MTASTS:
      PolicyID: 1
      Mode: enforce
      MaxAge: 24h
Accounts:
  admin:
    Domain: tern-acme.test
    Destinations:
      admin: {}
YAML
"$TERN" config test --config "$TMP/config/tern.yaml" >"$TMP/check" 2>&1 || { cat "$TMP/check" >&2; fail "config test rejects the configuration"; }
pass "config test accepts TLS: ACME"

"$TERN" config dnsrecords --config "$TMP/config/tern.yaml" tern-acme.test >"$TMP/records" 2>"$TMP/records.err" \
    || { cat "$TMP/records.err" >&2; fail "config dnsrecords failed"; }
TLSA=$(awk -v owner="_25._tcp.$HOST." '$1 == owner && $4 == "TLSA" {print $5, $6, $7, $8}' "$TMP/records")
[[ "$TLSA" =~ ^3\ 1\ 1\ [0-9a-f]{64}$ ]] || { cat "$TMP/records" >&2; fail "dnsrecords printed no TLSA 3 1 1 record for $HOST"; }
grep -qxF "$(printf '_mta-sts.tern-acme.test.\t3600\tIN\tTXT\t"v=STSv1; id=1"')" "$TMP/records" || fail "dnsrecords printed no _mta-sts record"
pass "config dnsrecords prints the TLSA record before the first certificate ($TLSA)"

start_serve() {
    TERN_ACME_TRUST_ROOT="$TMP/https-ca.pem" "$TERN" serve --config "$TMP/config/tern.yaml" >"$TMP/out" 2>>"$TMP/err" &
    PID=$!
    disown "$PID"
    for _ in $(seq 1 100); do port_listening "$SUBMISSIONS" && port_listening "$IMAPS" && return 0; sleep 0.1; done
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

served_tlsa() {  # the "3 1 1" data of the key of the certificate served on the submissions port
    echo | timeout 10 openssl s_client -connect "127.0.0.1:$SUBMISSIONS" -servername "$HOST" 2>/dev/null \
        | openssl x509 -noout -pubkey | openssl pkey -pubin -outform DER | openssl dgst -sha256 | awk '{print "3 1 1 " $NF}'
}
[ "$(served_tlsa)" = "$TLSA" ] || fail "the served key is not the one of the TLSA record: $(served_tlsa) vs $TLSA"
pass "pebble certified the key of the TLSA record"

POLICY_URL="https://mta-sts.tern-acme.test:$TLS_PORT/.well-known/mta-sts.txt"
fetch() {  # fetch HOST: GET the policy path from HOST on the shared port, trusting pebble's root only
    curl -s --max-time 10 --cacert "$TMP/root.pem" --resolve "$1:$TLS_PORT:127.0.0.1" \
        -D "$TMP/headers" -o "$TMP/body" -w '%{http_code}' "https://$1:$TLS_PORT/.well-known/mta-sts.txt"
}
status=$(fetch mta-sts.tern-acme.test) || fail "curl could not fetch $POLICY_URL (exit $?)"
[ "$status" = 200 ] || fail "$POLICY_URL: status $status"
printf 'version: STSv1\r\nmode: enforce\r\nmx: %s\r\nmax_age: 86400\r\n' "$HOST" | cmp -s - "$TMP/body" \
    || { od -c "$TMP/body" >&2; fail "the policy served is not the configured one with CRLF lines"; }
grep -qi '^content-type: text/plain' "$TMP/headers" || { cat "$TMP/headers" >&2; fail "the policy is not text/plain"; }
pass "the policy is served at $POLICY_URL with pebble's certificate, as text/plain with CRLF lines"
status=$(fetch "$HOST") || fail "curl could not connect as $HOST"
[ "$status" = 404 ] || fail "a request for host $HOST got $status, not 404"
pass "other hosts get 404"

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
[ "$(served_tlsa)" = "$TLSA" ] || fail "after a restart the key is not the one of the TLSA record"
"$TERN" config dnsrecords --config "$TMP/config/tern.yaml" tern-acme.test | grep -qF "$(printf 'TLSA\t%s' "$TLSA")" || fail "dnsrecords prints another TLSA record after a restart"
[ "$(fetch mta-sts.tern-acme.test)" = 200 ] || fail "no policy after a restart"
pass "after a restart: the same key and TLSA record, and the policy"

succeed
