#!/usr/bin/env bash
# Interop test: Tern's ACME client (RFC 8555) against pebble, Let's Encrypt's test CA, with
# real tls-alpn-01 validation (RFC 8737): pebble connects to a ServerSupport
# ConnectionListener whose implicit TLS has the ACMEChallengeResponder in front, and must
# get the challenge certificate there. The client side is `acme-interop`, a small program
# around ACME's CertificateManager (Tests/ACMEInterop), not `tern serve` yet.
#
# Names: pebble resolves the identifiers with `-dnsserver` pointed at acme-interop's
# FakeDNSServer on loopback (every name is 127.0.0.1, no AAAA), so any test name works and
# /etc/hosts is left alone. pebble's HTTPS certificate comes from a throwaway CA made here
# with openssl (Debian's pebble ships none); acme-interop trusts it through the manager's
# test-only additionalTrustRootPEM.
#
# Checks: a certificate is obtained for two names; it chains to pebble's root (management
# port /roots/0) with `openssl verify`; its SANs and key match; key, chain and account key
# are 0600; the same listener still serves normal TLS (greeting over openssl s_client, the
# listener's own certificate) also for acme-tls/1 once the challenge is unpublished; a
# second run reuses the stored certificate without asking the CA.
#
# Usage: ACME_INTEROP=/path/to/acme-interop bash Interop/acme.sh (defaults to the debug
# build's acme-interop). Installs pebble with apt-get when missing (root). Loopback only.
# The last stdout line is `PASS acme (N checks)` or `FAIL acme: <first failure>`.
set -euo pipefail
NAME=acme
# shellcheck source=Interop/lib.bash
source "$(dirname "${BASH_SOURCE[0]}")/lib.bash"
ACME_INTEROP=${ACME_INTEROP:-$(cd "$ROOT" && swift build --show-bin-path 2>/dev/null || echo "$ROOT/.build/debug")/acme-interop}
TMP=$(mktemp -d)
PEBBLE_PID=""
CLIENT_PID=""
cleanup() {
    [ -n "$CLIENT_PID" ] && kill -9 "$CLIENT_PID" 2>/dev/null
    [ -n "$PEBBLE_PID" ] && kill -9 "$PEBBLE_PID" 2>/dev/null
    rm -rf "$TMP"
}
trap cleanup EXIT

[ -x "$ACME_INTEROP" ] || fail "no acme-interop binary at $ACME_INTEROP (swift build --product acme-interop)"

# shellcheck source=Interop/pebble.bash
source "$(dirname "${BASH_SOURCE[0]}")/pebble.bash"
install_pebble

free_port TLS_PORT
prepare_pebble
NAMES=(mail.tern-interop.test imap.tern-interop.test)

client_args=(--directory "$DIRECTORY" --ca-pem "$TMP/https-ca.pem" --storage "$TMP/acme"
    --tls-port "$TLS_PORT" --contact postmaster@tern-interop.test)
for name in "${NAMES[@]}"; do client_args+=(--name "$name"); done

# acme-interop first: its DNS server's port goes into pebble's -dnsserver.
"$ACME_INTEROP" "${client_args[@]}" --hold >"$TMP/client.out" 2>"$TMP/client.err" &
CLIENT_PID=$!
for _ in $(seq 1 100); do grep -q '^dns-port ' "$TMP/client.out" 2>/dev/null && break; sleep 0.1; done
grep -q '^dns-port ' "$TMP/client.out" || { tail -20 "$TMP/client.err" >&2; fail "acme-interop did not start"; }
DNS_PORT=$(awk '/^dns-port/ {print $2}' "$TMP/client.out")

start_pebble "$DNS_PORT" "$TLS_PORT"

log "waiting for the certificate"
for _ in $(seq 1 1200); do
    grep -q '^ready' "$TMP/client.out" 2>/dev/null && break
    kill -0 "$CLIENT_PID" 2>/dev/null || break
    sleep 0.1
done
if ! grep -q '^ready' "$TMP/client.out"; then
    tail -30 "$TMP/client.err" >&2; tail -20 "$TMP/pebble.log" >&2
    fail "no certificate from pebble"
fi
field() { awk -v key="$1" '$1 == key {print $2}' "$TMP/client.out"; }

check() {  # check NAME COMMAND...: the command must succeed
    local name=$1; shift
    log "check: $name"
    if ! "$@" >"$TMP/check.log" 2>&1; then tail -15 "$TMP/check.log" >&2; fail "$name"; fi
    CHECKS=$((CHECKS + 1))
}

CHAIN=$(field chain); KEY=$(field key)
check "a new certificate was obtained" test "$(field status)" = obtained
check "pebble validated a challenge for both names" \
    bash -c "[ \$(grep -c 'set VALID by completed challenge' '$TMP/pebble.log') -eq 2 ]"
check "the challenge certificates were unpublished" test "$(field challenges-left)" = 0

log "fetching pebble's root from its management port"
curl -sf --cacert "$TMP/https-ca.pem" "https://localhost:$MGMT_PORT/roots/0" -o "$TMP/root.pem" \
    || fail "cannot fetch pebble's root"
openssl x509 -in "$CHAIN" -out "$TMP/leaf.pem" 2>/dev/null || fail "chain has no leaf"
check "openssl verify: the chain leads to pebble's root" \
    openssl verify -CAfile "$TMP/root.pem" -untrusted "$CHAIN" "$TMP/leaf.pem"
check "the certificate names both hosts" bash -c \
    "openssl x509 -in '$TMP/leaf.pem' -noout -ext subjectAltName | grep -q 'DNS:${NAMES[0]}' &&
     openssl x509 -in '$TMP/leaf.pem' -noout -ext subjectAltName | grep -q 'DNS:${NAMES[1]}'"
check "the stored key is the certificate's" bash -c \
    "diff <(openssl pkey -in '$KEY' -pubout) <(openssl x509 -in '$TMP/leaf.pem' -noout -pubkey)"
check "key, chain and account key are 0600" bash -c \
    "[ \$(stat -c %a '$KEY') = 600 ] && [ \$(stat -c %a '$CHAIN') = 600 ] && [ \$(stat -c %a '$TMP/acme/account-key.pem') = 600 ]"

# The listener pebble validated against is a normal implicit-TLS listener for everyone else.
log "check: normal TLS on the validation listener"
# -ign_eof: wait for the greeting (sent after the handshake) and the server's close.
printf 'QUIT\r\n' | timeout 10 openssl s_client -ign_eof -connect "127.0.0.1:$TLS_PORT" -servername "${NAMES[0]}" \
    >"$TMP/sclient.log" 2>&1 || true
grep -q "220 acme-interop ready" "$TMP/sclient.log" || { tail -20 "$TMP/sclient.log" >&2; fail "no greeting over normal TLS"; }
CHECKS=$((CHECKS + 1))
log "check: acme-tls/1 after validation gets the listener's own certificate, no ALPN"
echo | timeout 10 openssl s_client -connect "127.0.0.1:$TLS_PORT" -servername "${NAMES[0]}" -alpn acme-tls/1 -showcerts \
    >"$TMP/sclient2.log" 2>&1 || true
grep -q "No ALPN negotiated" "$TMP/sclient2.log" || { tail -20 "$TMP/sclient2.log" >&2; fail "acme-tls/1 still negotiated"; }
openssl x509 -in "$TMP/sclient2.log" -noout -text 2>/dev/null | grep -q "1.3.6.1.5.5.7.1.31" \
    && fail "a challenge certificate is still served"
CHECKS=$((CHECKS + 1))

kill "$CLIENT_PID" 2>/dev/null; wait "$CLIENT_PID" 2>/dev/null || true
CLIENT_PID=""

log "check: a second run reuses the stored certificate"
before=$(sha256sum "$CHAIN" | cut -d' ' -f1)
timeout 60 "$ACME_INTEROP" "${client_args[@]}" >"$TMP/client.out" 2>"$TMP/client2.err" \
    || { tail -20 "$TMP/client2.err" >&2; fail "second run failed"; }
[ "$(field status)" = reused ] || fail "second run did not reuse the certificate"
[ "$(sha256sum "$CHAIN" | cut -d' ' -f1)" = "$before" ] || fail "second run replaced the chain"
CHECKS=$((CHECKS + 1))

succeed
