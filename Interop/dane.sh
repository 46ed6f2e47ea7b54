#!/usr/bin/env bash
# Interop test: DANE for SMTP (RFC 7672) on `tern serve`'s direct delivery. The MX hosts of
# the recipient domains are one Postfix on loopback (STARTTLS with a certificate of a test CA,
# the CA certificate in its chain); nsd serves the signed zone dane.test. and the unsigned zone
# insecure.test., and unbound validates them with dane.test.'s DS as its only trust anchor and
# is tern's resolver. The TLSA records are at _PORT._tcp.<MX host>, PORT being the port tern
# dials (Queue: DirectPort), which Dialing.gatherTLSA looks up. Checked, one domain per case:
#   1. ee.dane.test, TLSA 3 1 1 of Postfix's key, and ta.dane.test, TLSA 2 0 1 of the test CA
#      (RFC 7672 §3.1.1, §3.1.2): delivered over TLS, tern logs dane=verified;
#   2. wrong.dane.test, only a TLSA 3 1 1 that matches nothing: deferred (a temporary failure
#      naming DANE), no transaction with Postfix at all, so no plaintext fallback (§2.2);
#   3. insecure.test, not signed, with a mismatching TLSA record: DANE does not apply
#      (§2.2.2), delivered with opportunistic TLS, dane not checked;
#   4. bogus.dane.test, its TLSA RRset's signature broken after signing: the lookup fails
#      (SERVFAIL), the MX host is unusable for now (§2.1.2): deferred, Postfix never dialed.
#
# Usage: TERN=/path/to/tern bash Interop/dane.sh (root: installs postfix, ldnsutils, nsd and
# unbound when missing). Loopback only. The last stdout line is `PASS dane (N checks)` or
# `FAIL dane: <reason>`.
set -euo pipefail
NAME=dane
# shellcheck source=Interop/lib.bash
source "$(dirname "${BASH_SOURCE[0]}")/lib.bash"
serve_dns_postfix_workspace
PASSWORD=dane-secret

postfix_install
dnssec_install
free_port MX_PORT SUBMISSION IMAP

# --- the MX's certificate, from a test CA, and the TLSA data for it ---
test_ca "Tern DANE test CA"
issue_certificate mx-ta.dane.test
# RFC 6698 §2.1: selector 1 is the DER SubjectPublicKeyInfo, selector 0 the whole certificate;
# matching type 1 their SHA-256.
MX_KEY_SHA256=$(openssl x509 -in "$TMP/mx-ta.dane.test.pem" -noout -pubkey | openssl pkey -pubin -outform DER | sha256sum | cut -c1-64)
CA_SHA256=$(openssl x509 -in "$TMP/ca.pem" -outform DER | sha256sum | cut -c1-64)
OTHER_SHA256=$(printf 'not the key of any MX here' | sha256sum | cut -c1-64)

# --- DNS: dane.test. signed, insecure.test. not; unbound validating ---
mkdir -p "$TMP/dns" "$TMP/unbound"
mx_records() {  # mx_records DOMAIN MXHOST TLSA_RDATA: DOMAIN's MX on 127.0.0.1, its TLSA record
    printf '%s.\t3600\tIN\tMX\t10 %s.\n' "$1" "$2"
    printf '%s.\t3600\tIN\tA\t127.0.0.1\n' "$2"
    printf '_%s._tcp.%s.\t3600\tIN\tTLSA\t%s\n' "$MX_PORT" "$2" "$3"
}
{
    dns_zone_head dane.test
    mx_records ee.dane.test mx-ee.dane.test "3 1 1 $MX_KEY_SHA256"
    mx_records ta.dane.test mx-ta.dane.test "2 0 1 $CA_SHA256"
    mx_records wrong.dane.test mx-wrong.dane.test "3 1 1 $OTHER_SHA256"
    # The right record: only the broken signature may keep it from being used.
    mx_records bogus.dane.test mx-bogus.dane.test "3 1 1 $MX_KEY_SHA256"
} >"$TMP/dns/dane.test.zone"
{
    dns_zone_head insecure.test
    mx_records insecure.test mx.insecure.test "3 1 1 $OTHER_SHA256"
} >"$TMP/dns/insecure.test.zone"
dnssec_sign_zone "$TMP/dns" dane.test
dnssec_tamper_rrsig "$TMP/dns/dane.test.zone.signed" "_$MX_PORT._tcp.mx-bogus.dane.test." TLSA
nsd_start "$TMP/dns" dane.test dane.test.zone.signed insecure.test insecure.test.zone
unbound_start "$TMP/unbound" "$NSD_PORT" "$TMP/dns/dane.test.ds" dane.test insecure.test
dns_peer_check "signed MX host" mx-ee.dane.test. A NOERROR yes
dns_peer_check "signed TLSA" "_$MX_PORT._tcp.mx-ee.dane.test." TLSA NOERROR yes
dns_peer_check "tampered TLSA signature" "_$MX_PORT._tcp.mx-bogus.dane.test." TLSA SERVFAIL any
dns_peer_check "unsigned MX host" mx.insecure.test. A NOERROR no
dns_peer_check "unsigned TLSA" "_$MX_PORT._tcp.mx.insecure.test." TLSA NOERROR no

# --- Postfix: the MX of every domain, its certificate and the CA's in its chain ---
mkdir -p "$PFCONF"
cat "$TMP/mx-ta.dane.test.pem" "$TMP/ca.pem" >"$PFCONF/cert.pem"
cp "$TMP/mx-ta.dane.test.key" "$PFCONF/key.pem"
postfix_mx_main_cf "$PFCONF" mx-ta.dane.test "ee.dane.test ta.dane.test wrong.dane.test bogus.dane.test insecure.test"
postfix_master_cf "$PFCONF/master.cf" "127.0.0.1:$MX_PORT" "$POSTFIX_VIRTUAL"
POSTFIX_UP=1
postfix_start "$PFCONF" "$MX_PORT"
# OpenSSL's own DANE check of the records against Postfix (peer setup, not a check of Tern).
openssl_dane() {  # openssl_dane TLSA_RDATA: OpenSSL verifies Postfix's STARTTLS certificate with it
    timeout 10 openssl s_client -brief -starttls smtp -connect "127.0.0.1:$MX_PORT" -dane_tlsa_domain mx-ta.dane.test \
        -dane_tlsa_rrdata "$1" </dev/null 2>&1 | grep -q "^Verification: OK"
}
openssl_dane "3 1 1 $MX_KEY_SHA256" || fail "peer setup: OpenSSL does not verify Postfix with 3 1 1 of its key"
openssl_dane "2 0 1 $CA_SHA256" || fail "peer setup: OpenSSL does not verify Postfix with 2 0 1 of the test CA"
openssl_dane "3 1 1 $OTHER_SHA256" && fail "peer setup: OpenSSL verifies Postfix with a TLSA record of another key"
log "peers ready: nsd, unbound, postfix on 127.0.0.1:$MX_PORT; OpenSSL agrees with the TLSA records"

# --- tern serve, with unbound as its resolver; debug logs of the queue name DANE's outcome ---
mkdir -p "$TMP/config"
{
    serve_yaml_head "127.0.0.1:$UNBOUND_PORT" "$SUBMISSION" "$IMAP"
    cat <<YAML
Queue:
  FirstRetryInterval: 1h
  DirectPort: $MX_PORT
YAML
} >"$TMP/config/tern.yaml"
serve_domains_yaml "$PASSWORD" >"$TMP/config/domains.yaml"
"$TERN" serve --config "$TMP/config/tern.yaml" --log-level info,queue=debug >"$TMP/out" 2>"$TMP/err" &
PID=$!
for _ in $(seq 1 150); do port_listening "$SUBMISSION" && break; kill -0 "$PID" 2>/dev/null || break; sleep 0.1; done
port_listening "$SUBMISSION" || { tail -20 "$TMP/err" >&2; fail "serve did not start"; }

reported() { tlsrpt_reported "$TMP/config/tern.yaml" "$@"; }
DAY='^[0-9]{4}-[0-9]{2}-[0-9]{2}'

# --- the cases: each submits one message to its domain and looks at what followed, in
# Postfix's log and tern's log from the case's start on ---
case_start() {  # case_start ID DOMAIN: submits message ID to bob@DOMAIN
    POSTFIX_LOG_START=$(wc -l <"$TMP/postfix.log")
    TERN_LOG_START=$(wc -l <"$TMP/err")
    submit_message "$SUBMISSION" "$PASSWORD" "$1" "bob@$2"
}
# case_logs: the logs since case_start, into $TMP/case-postfix.log and $TMP/case-tern.log.
case_logs() {
    tail -n +"$((POSTFIX_LOG_START + 1))" "$TMP/postfix.log" >"$TMP/case-postfix.log"
    tail -n +"$((TERN_LOG_START + 1))" "$TMP/err" >"$TMP/case-tern.log"
}
# postfix_logged TEXT: Postfix's log since case_start has TEXT.
postfix_logged() { case_logs && grep -qF -- "$1" "$TMP/case-postfix.log"; }
# tls_logged MXHOST DANE_OUTCOME: tern logged the TLS session to MXHOST with that DANE outcome
# (ClientConnection's "TLS established", dane=verified or dane="not checked").
tls_logged() {
    case_logs
    grep "TLS established" "$TMP/case-tern.log" | grep -F "host=$1" | grep -F -- "dane=$2" >/dev/null \
        || { cat "$TMP/case-tern.log" >&2; return 1; }
}
# delivered_over_tls ID: the message reached Postfix's maildir, received over TLS.
delivered_over_tls() {
    wait_for 30 arrived "$1" || { case_logs; tail -20 "$TMP/case-tern.log" "$TMP/case-postfix.log" >&2; fail "$1: not delivered"; }
    grep -rlF -- "end-of-$1" "$TMP/vmail/maildir/new" | xargs grep -q "(using TLSv1" || fail "$1: Postfix's Received field names no TLS"
    case_logs
    grep -q "TLS connection established from" "$TMP/case-postfix.log" || fail "$1: no TLS connection in Postfix's log"
}
# deferred ID DOMAIN TEXT...: bob@DOMAIN stays queued, pending, with a last failure of class 4
# containing every TEXT; the message never reached Postfix's maildir.
deferred() {
    local id=$1 domain=$2 text
    shift 2
    wait_for 30 queue_lists "bob@$domain pending: 4." || { cat "$TMP/queue" >&2; tail -20 "$TMP/err" >&2; fail "$id: not deferred"; }
    for text in "$@"; do
        grep -F "bob@$domain pending: 4." "$TMP/queue" | grep -F -- "$text" >/dev/null || { cat "$TMP/queue" >&2; fail "$id: the deferral does not say '$text'"; }
    done
    arrived "$id" && fail "$id: delivered anyway"
    # Whatever Postfix would log about this attempt reaches its log within moments.
    sleep 1
    case_logs
}

dane_ee_matches() {
    case_start dane-ee ee.dane.test
    delivered_over_tls dane-ee
    tls_logged mx-ee.dane.test verified || fail "dane-ee: tern did not log dane=verified for mx-ee.dane.test"
    pass "TLSA 3 1 1 of Postfix's key: delivered over TLS, DANE verified"
    # RFC 8460 §3: DANE's policy domain is the MX host.
    reported "$DAY mx-ee\.dane\.test recipient-domain=ee\.dane\.test policy=tlsa successful=1 failed=0$" "a successful tlsa session for the MX host"
    reported "$DAY ee\.dane\.test recipient-domain=ee\.dane\.test policy=no-policy-found successful=1 failed=0$" "and for the recipient domain"
}

dane_ta_matches() {
    case_start dane-ta ta.dane.test
    delivered_over_tls dane-ta
    tls_logged mx-ta.dane.test verified || fail "dane-ta: tern did not log dane=verified for mx-ta.dane.test"
    pass "TLSA 2 0 1 of the test CA: delivered over TLS, DANE verified"
    reported "$DAY mx-ta\.dane\.test recipient-domain=ta\.dane\.test policy=tlsa successful=1 failed=0$" "a successful DANE-TA session"
}

dane_mismatch_defers() {
    case_start dane-wrong wrong.dane.test
    deferred dane-wrong wrong.dane.test "DANE" "TLSA"
    # Postfix sums a session up when it ends: "starttls=0/1", a STARTTLS that failed.
    postfix_logged "starttls=0/1" || { cat "$TMP/case-postfix.log" >&2; fail "dane-wrong: no failed STARTTLS in Postfix's log"; }
    # RFC 7672 §2.2: TLS is required with usable TLSA records; no session may go on without it.
    if grep -qE ": client=|disconnect from .* mail=" "$TMP/case-postfix.log"; then
        cat "$TMP/case-postfix.log" >&2
        fail "dane-wrong: a mail transaction with Postfix all the same"
    fi
    pass "TLSA 3 1 1 matching nothing: deferred naming DANE, STARTTLS aborted, no transaction with Postfix (no plaintext fallback)"
    reported "$DAY mx-wrong\.dane\.test recipient-domain=wrong\.dane\.test policy=tlsa successful=0 failed=1$" "the failed tlsa session"
    reported "^  certificate-not-trusted count=1 mx=mx-wrong\.dane\.test ip=127\.0\.0\.1: the server's certificate matches no DANE-EE TLSA record$" \
        "the TLSA mismatch as certificate-not-trusted"
}

insecure_zone_ignores_tlsa() {
    case_start insecure insecure.test
    delivered_over_tls insecure
    tls_logged mx.insecure.test '"not checked"' || fail "insecure: tern did not log an unchecked DANE outcome for mx.insecure.test"
    pass "MX in an unsigned zone with a mismatching TLSA record: DANE not used, delivered with opportunistic TLS"
    reported "$DAY insecure\.test recipient-domain=insecure\.test policy=no-policy-found successful=1 failed=0$" "no-policy-found only"
    if grep -q "mx.insecure.test recipient-domain" "$TMP/tlsrpt"; then cat "$TMP/tlsrpt" >&2; fail "insecure: a tlsa result for an unsigned MX host"; fi
}

bogus_tlsa_defers() {
    case_start dane-bogus bogus.dane.test
    deferred dane-bogus bogus.dane.test "TLSA _$MX_PORT._tcp.mx-bogus.dane.test" "SERVFAIL"
    # RFC 7672 §2.1.2: the MX host is unusable while its TLSA records cannot be had.
    if grep -q "]: connect from" "$TMP/case-postfix.log"; then cat "$TMP/case-postfix.log" >&2; fail "dane-bogus: tern connected to the MX anyway"; fi
    pass "TLSA RRset with a broken signature: deferred (SERVFAIL), the MX host not dialed"
    reported "$DAY mx-bogus\.dane\.test recipient-domain=bogus\.dane\.test policy=tlsa successful=0 failed=1$" "the bogus TLSA RRset"
    reported "^  dnssec-invalid count=1 mx=mx-bogus\.dane\.test: " "as dnssec-invalid (RFC 8460 §4.3.2.1)"
}

dane_ee_matches
dane_ta_matches
dane_mismatch_defers
insecure_zone_ignores_tlsa
bogus_tlsa_defers
queue_drop_all

stop_cleanly "$PID" "$TMP/err"
PID=""
succeed
