#!/usr/bin/env bash
# Interop test: TLS of `tern localserve` against OpenSSL's s_client and Python's ssl module.
#   - SCRAM-SHA-256-PLUS with channel binding (RFC 5802 §6), the binding computed by OpenSSL,
#     a Python SCRAM client (Interop/scram_plus.py, hashlib/hmac, written from RFC 5802 §3)
#     authenticating with it: tls-exporter (RFC 9266) on TLS 1.3 through s_client's STARTTLS
#     session (-keymatexport EXPORTER-Channel-Binding); tls-unique (RFC 5929 §3.1) on TLS 1.2
#     through Python's ssl (get_channel_binding), after a full handshake and on a resumed
#     session. A binding with one bit flipped, or under the other cb-name, must be refused;
#     TLS 1.2 without extended master secret (RFC 7627) must get no -PLUS (RFC 9266 §1).
#   - TLS 1.0 and 1.1 are refused (RFC 8996), TLS 1.2 and 1.3 accepted, on STARTTLS and on
#     implicit TLS (RFC 8314).
#
# Usage: TERN=/path/to/tern bash Interop/tls.sh (TERN defaults to the debug build). Needs
# openssl and python3 (present on the build machines). Loopback only. The last stdout line
# is `PASS tls (N checks)` or `FAIL tls: <first failure>`.
set -euo pipefail
NAME=tls
# shellcheck source=Interop/lib.bash
source "$(dirname "${BASH_SOURCE[0]}")/lib.bash"
TMP=$(mktemp -d)
PID=""
cleanup() { [ -n "$PID" ] && kill -9 "$PID" 2>/dev/null; rm -rf "$TMP"; }
trap cleanup EXIT
command -v openssl >/dev/null || fail "openssl missing"

pick_base_port
SUBMISSION=$((BASE + 587)); SUBMISSIONS=$((BASE + 465))
"$TERN" localserve --dir "$TMP/ls" --base-port "$BASE" >"$TMP/out" 2>"$TMP/err" &
PID=$!
for _ in $(seq 1 100); do grep -q '^password:' "$TMP/out" 2>/dev/null && break; sleep 0.2; done
grep -q '^password:' "$TMP/out" || { tail -20 "$TMP/err" >&2; fail "localserve did not start"; }
PASSWORD=$(awk '/^password:/ {print $2}' "$TMP/out")

scram() {  # scram MODE [VARIANT] -> the final reply code (Interop/scram_plus.py)
    timeout 30 python3 "$ROOT/Interop/scram_plus.py" "$1" "$SUBMISSION" tern@localhost "$PASSWORD" "${2:-}" 2>"$TMP/scram.err" \
        || { cat "$TMP/scram.err" >&2; echo error; }
}
log "check: SCRAM-SHA-256-PLUS with OpenSSL's tls-exporter (TLS 1.3)"
[ "$(scram exporter)" = 235 ] || fail "SCRAM-SHA-256-PLUS with the right tls-exporter binding was not accepted"
pass "SCRAM-SHA-256-PLUS authenticated with OpenSSL's tls-exporter (235)"
[ "$(scram exporter tamper)" = 535 ] || fail "SCRAM-SHA-256-PLUS with a wrong tls-exporter binding was not refused with 535"
pass "a wrong tls-exporter binding is refused (535)"

log "check: SCRAM-SHA-256-PLUS with OpenSSL's tls-unique (TLS 1.2)"
[ "$(scram unique)" = 235 ] || fail "SCRAM-SHA-256-PLUS with the right tls-unique binding was not accepted"
pass "-PLUS offered on TLS 1.2, SCRAM-SHA-256-PLUS authenticated with Python's tls-unique (235)"
[ "$(scram unique tamper)" = 535 ] || fail "SCRAM-SHA-256-PLUS with a wrong tls-unique binding was not refused with 535"
pass "a wrong tls-unique binding is refused (535)"
[ "$(scram unique exporter-name)" = 535 ] || fail "the tls-unique data under the name tls-exporter was not refused with 535"
pass "the binding under the wrong cb-name (p=tls-exporter on TLS 1.2) is refused (535)"
[ "$(scram resumed)" = 235 ] || fail "SCRAM-SHA-256-PLUS on a resumed TLS 1.2 session was not accepted"
pass "tls-unique of an abbreviated handshake (resumed session, the server's Finished) accepted (235)"
[ "$(scram no-ems)" = not-offered ] || fail "-PLUS offered on TLS 1.2 without extended master secret"
pass "no -PLUS on TLS 1.2 without extended master secret (RFC 9266 §1)"

handshake() {  # handshake VERSIONFLAG PORT [starttls]
    local extra=()
    [ "${3:-}" = starttls ] && extra=(-starttls smtp)
    # Debian's openssl.cnf and security level 1 forbid TLS < 1.2 on the client side; both
    # are lifted, so a refusal can only come from the server (checked against s_server).
    echo QUIT | OPENSSL_CONF=/dev/null timeout 20 openssl s_client -connect "127.0.0.1:$2" "${extra[@]}" "$1" \
        -cipher 'DEFAULT@SECLEVEL=0' -ign_eof >"$TMP/hs.out" 2>&1 || true
    grep -q "Cipher is [A-Z]" "$TMP/hs.out"
}
# Control: the same client does complete a TLS 1.0/1.1 handshake with a server allowing it.
CONTROL=$((BASE + 10))
OPENSSL_CONF=/dev/null openssl s_server -accept "$CONTROL" -cert "$TMP/ls/localhost.crt" -key "$TMP/ls/localhost.key" \
    -cipher 'DEFAULT@SECLEVEL=0' -quiet >/dev/null 2>&1 </dev/null &
SERVER=$!
for _ in $(seq 1 50); do port_listening "$CONTROL" && break; sleep 0.1; done
for version in -tls1 -tls1_1; do
    handshake "$version" "$CONTROL" || { kill "$SERVER"; cat "$TMP/hs.out" >&2; fail "control: $version handshake with s_server failed"; }
done
kill "$SERVER" 2>/dev/null || true
pass "control: this openssl client speaks TLS 1.0 and 1.1"

for port in "$SUBMISSION starttls" "$SUBMISSIONS"; do
    set -- $port
    for version in -tls1_2 -tls1_3; do
        handshake "$version" "$1" "${2:-}" || { cat "$TMP/hs.out" >&2; fail "$version refused on port $1"; }
        pass "$version accepted on port $1 ${2:-implicit}"
    done
    for version in -tls1 -tls1_1; do
        if handshake "$version" "$1" "${2:-}"; then cat "$TMP/hs.out" >&2; fail "$version accepted on port $1"; fi
        pass "$version refused on port $1 ${2:-implicit}"
    done
done

succeed
