#!/usr/bin/env bash
# Interop test: the verdicts `tern serve` writes into mail from other servers (RFC 8601
# Authentication-Results, RFC 7208 Received-SPF) and the DMARC dispositions it applies, with a
# real sending MTA, a real DKIM signer and real DNS. Postfix (mail.sender.test) relays to
# tern's SMTP listener; dkimpy signs one message; nsd serves the signed zone sender.test. and
# the unsigned zones plain.test., reject.test. and 0.0.127.in-addr.arpa. (127.0.0.1's PTR,
# mail.sender.test); unbound validates with sender.test.'s DS as its only trust anchor and
# is tern's resolver. Checked, reading the delivered messages over IMAP:
#   1. from sender.test (SPF ip4:127.0.0.1, DMARC p=reject): spf=pass and dmarc=pass, each
#      "(DNSSEC)" since the records are signed, and iprev=pass naming mail.sender.test, "(no
#      DNSSEC)" as the reverse zone is not signed; a Received-SPF: pass field;
#   2. from plain.test (SPF -all, DMARC p=quarantine): spf=fail and dmarc=fail "(no DNSSEC)",
#      delivered into Junk; a forged Authentication-Results claiming tern's name is gone
#      (RFC 8601 §5), another host's is kept;
#   3. the null reverse-path: SPF checks the HELO name, smtp.helo=mail.sender.test;
#   4. From sender.test, signed by dkimpy with a key in the signed zone, sent with a
#      plain.test envelope: dkim=pass "(DNSSEC)" header.d=sender.test, dmarc=pass through
#      DKIM although SPF fails;
#   5. From reject.test (DMARC p=reject), SPF failing: refused with 550 5.7.26 (Postfix's log).
#
# Usage: TERN=/path/to/tern bash Interop/authentication.sh (root: installs postfix,
# ldnsutils, nsd and unbound when missing). Loopback only. The last stdout line is
# `PASS authentication (N checks)` or `FAIL authentication: <reason>`.
set -euo pipefail
NAME=authentication
# shellcheck source=Interop/lib.bash
source "$(dirname "${BASH_SOURCE[0]}")/lib.bash"
serve_dns_postfix_workspace
PASSWORD=auth-secret

postfix_install
dnssec_install
apt_install_python dkim python3-dkim
free_port SMTP SUBMISSION IMAP RELAY

# --- a DKIM key for sender.test, its record in the zone in strings of at most 255 octets ---
"$TERN" dkim genrsa >"$TMP/dkim.pem" || fail "tern dkim genrsa"
DKIM_RECORD=$("$TERN" dkim txt "$TMP/dkim.pem" | fold -w 250 | sed 's/.*/"&"/' | tr '\n' ' ')

# --- DNS: sender.test. signed; plain.test. and the loopback reverse zone not ---
mkdir -p "$TMP/dns" "$TMP/unbound"
{
    dns_zone_head sender.test
    printf 'sender.test.\t3600\tIN\tTXT\t"v=spf1 ip4:127.0.0.1 -all"\n'
    printf 'mail.sender.test.\t3600\tIN\tA\t127.0.0.1\n'
    printf 'mail.sender.test.\t3600\tIN\tTXT\t"v=spf1 a -all"\n'
    printf '_dmarc.sender.test.\t3600\tIN\tTXT\t"v=DMARC1; p=reject"\n'
    printf 'sel._domainkey.sender.test.\t3600\tIN\tTXT\t%s\n' "$DKIM_RECORD"
} >"$TMP/dns/sender.test.zone"
{
    dns_zone_head plain.test
    printf 'plain.test.\t3600\tIN\tTXT\t"v=spf1 -all"\n'
    printf '_dmarc.plain.test.\t3600\tIN\tTXT\t"v=DMARC1; p=quarantine"\n'
} >"$TMP/dns/plain.test.zone"
{
    dns_zone_head reject.test
    printf 'reject.test.\t3600\tIN\tTXT\t"v=spf1 -all"\n'
    printf '_dmarc.reject.test.\t3600\tIN\tTXT\t"v=DMARC1; p=reject"\n'
} >"$TMP/dns/reject.test.zone"
{
    dns_zone_head 0.0.127.in-addr.arpa
    printf '1.0.0.127.in-addr.arpa.\t3600\tIN\tPTR\tmail.sender.test.\n'
} >"$TMP/dns/reverse.zone"
dnssec_sign_zone "$TMP/dns" sender.test
nsd_start "$TMP/dns" sender.test sender.test.zone.signed plain.test plain.test.zone reject.test reject.test.zone 0.0.127.in-addr.arpa reverse.zone
unbound_start "$TMP/unbound" "$NSD_PORT" "$TMP/dns/sender.test.ds" sender.test plain.test reject.test 0.0.127.in-addr.arpa
dns_peer_check "signed SPF record" sender.test. TXT NOERROR yes
dns_peer_check "unsigned SPF record" plain.test. TXT NOERROR no
dns_peer_check "loopback PTR from nsd" 1.0.0.127.in-addr.arpa. PTR NOERROR no
dns_peer_check "signed DKIM key record" sel._domainkey.sender.test. TXT NOERROR yes

# --- tern serve: SMTP for tern.test, unbound as its resolver ---
mkdir -p "$TMP/config"
{
    serve_yaml_head "127.0.0.1:$UNBOUND_PORT" "$SUBMISSION" "$IMAP" "$SMTP"
    printf 'Queue:\n  FirstRetryInterval: 1h\n'
} >"$TMP/config/tern.yaml"
serve_domains_yaml "$PASSWORD" >"$TMP/config/domains.yaml"
"$TERN" serve --config "$TMP/config/tern.yaml" >"$TMP/out" 2>"$TMP/err" &
PID=$!
for _ in $(seq 1 150); do port_listening "$SMTP" && port_listening "$IMAP" && break; kill -0 "$PID" 2>/dev/null || break; sleep 0.1; done
port_listening "$SMTP" || { tail -20 "$TMP/err" >&2; fail "serve did not start"; }

# --- Postfix: mail.sender.test, relaying everything to tern ---
postfix_main_cf "$PFCONF" mail.sender.test \
    "mynetworks = 127.0.0.0/8" \
    "relayhost = [127.0.0.1]:$SMTP" \
    "smtp_tls_security_level = may"
postfix_master_cf "$PFCONF/master.cf" "127.0.0.1:$RELAY"
POSTFIX_UP=1
postfix_start "$PFCONF" "$RELAY"

# dkimpy signs case-dkim for sender.test with the key in the signed zone.
/usr/bin/python3 - "$TMP/dkim.pem" >"$TMP/signed.eml" <<'PY' || fail "dkimpy could not sign"
import dkim, sys
message = b"From: Ann <ann@sender.test>\r\nTo: alice@tern.test\r\nSubject: case-dkim\r\n\r\nsigned by dkimpy\r\n"
signature = dkim.sign(message, b"sel", b"sender.test", open(sys.argv[1], "rb").read(), include_headers=[b"from", b"to", b"subject"])
sys.stdout.buffer.write(signature + message)
PY

timeout 60 python3 - "$RELAY" "$TMP/signed.eml" <<'PY' >"$TMP/send" 2>&1 || { cat "$TMP/send" >&2; fail "handing mail to postfix"; }
import smtplib, sys
with smtplib.SMTP("127.0.0.1", int(sys.argv[1])) as s:
    s.sendmail("someone@sender.test", ["alice@tern.test"], b"From: someone@sender.test\r\nSubject: case-pass\r\n\r\nsigned domain\r\n")
    forged = (b"Authentication-Results: mail.tern.test; spf=pass smtp.mailfrom=bank.test\r\n"
              b"Authentication-Results: relay.example; dkim=pass header.d=plain.test\r\n"
              b"From: someone@plain.test\r\nSubject: case-fail\r\n\r\nunsigned domain\r\n")
    s.sendmail("someone@plain.test", ["alice@tern.test"], forged)
    s.sendmail("", ["alice@tern.test"], b"From: MAILER-DAEMON@sender.test\r\nSubject: case-bounce\r\n\r\nnull sender\r\n")
    with open(sys.argv[2], "rb") as signed:
        s.sendmail("someone@plain.test", ["alice@tern.test"], signed.read())
    try:
        s.sendmail("someone@reject.test", ["alice@tern.test"], b"From: ceo@reject.test\r\nSubject: case-reject\r\n\r\npay now\r\n")
    except smtplib.SMTPException:
        pass  # Postfix queues it and learns tern's answer later; the check reads its log
PY

# --- the messages as alice's mail client sees them ---
fetch() {  # fetch SUBJECT [MAILBOX]: the header section of the message with SUBJECT, unfolded, into $TMP/SUBJECT
    timeout 30 python3 - "$IMAP" "$PASSWORD" "$1" "${2:-INBOX}" <<'PY' >"$TMP/$1" 2>"$TMP/fetch.err"
import imaplib, re, sys
port, password, subject, mailbox = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
with imaplib.IMAP4("127.0.0.1", port) as imap:
    imap.login("alice@tern.test", password)
    imap.select(mailbox, readonly=True)
    _, data = imap.search(None, "SUBJECT", subject)
    ids = data[0].split()
    if not ids:
        sys.exit(1)
    _, parts = imap.fetch(ids[-1], "(BODY.PEEK[HEADER])")
    header = parts[0][1].decode()
    print(re.sub(r"\r\n[ \t]+", " ", header).replace("\r\n", "\n"), end="")
PY
}
header_has() {  # header_has SUBJECT REGEX WHAT
    grep -qE -- "$2" "$TMP/$1" || { cat "$TMP/$1" >&2; fail "$1: $3"; }
    pass "$1: $3"
}
for subject in case-pass case-bounce case-dkim; do
    wait_for 60 fetch "$subject" || { tail -20 "$TMP/postfix.log" "$TMP/err" >&2; fail "$subject did not arrive"; }
done
# RFC 7489 p=quarantine: into Junk.
wait_for 60 fetch case-fail Junk || { tail -20 "$TMP/err" >&2; fail "case-fail did not arrive in Junk"; }
pass "case-fail: DMARC p=quarantine, delivered into Junk"

# 1. Signed SPF and DMARC records, unsigned reverse zone.
header_has case-pass '^Authentication-Results: mail\.tern\.test; iprev=pass \(mail\.sender\.test, no DNSSEC\) policy\.iprev=127\.0\.0\.1; spf=pass \(DNSSEC\) smtp\.mailfrom=sender\.test; dmarc=pass \(DNSSEC\) header\.from=sender\.test$' \
    "iprev=pass (no DNSSEC), spf=pass (DNSSEC), dmarc=pass (DNSSEC) for sender.test"
header_has case-pass '^Received-SPF: pass \(mail\.tern\.test: domain of someone@sender\.test designates 127\.0\.0\.1 as permitted sender\)' \
    "Received-SPF: pass"
[ "$(head -1 "$TMP/case-pass" | cut -d: -f1)" = Authentication-Results ] || fail "case-pass: Authentication-Results is not the first field"
pass "case-pass: Authentication-Results on top (RFC 8601 §4)"

# 2. SPF fail, forged results removed, another host's kept.
header_has case-fail '^Authentication-Results: mail\.tern\.test; iprev=pass .*; spf=fail \(no DNSSEC\) smtp\.mailfrom=plain\.test; dmarc=fail \(p=quarantine dis=quarantine no DNSSEC\) reason=".*" header\.from=plain\.test$' \
    "spf=fail and dmarc=fail (p=quarantine, no DNSSEC) for plain.test"
if grep -q "bank.test" "$TMP/case-fail"; then cat "$TMP/case-fail" >&2; fail "case-fail: the forged Authentication-Results is still there"; fi
pass "case-fail: the forged Authentication-Results claiming mail.tern.test removed (RFC 8601 §5)"
header_has case-fail '^Authentication-Results: relay\.example; dkim=pass header\.d=plain\.test$' "another host's Authentication-Results kept"

# 3. Null reverse-path: the HELO identity.
header_has case-bounce 'spf=pass \(DNSSEC\) smtp\.helo=mail\.sender\.test; dmarc=pass \(DNSSEC\) header\.from=sender\.test$' \
    "null sender: spf=pass for the HELO name mail.sender.test, aligned for DMARC"

# 4. DKIM by dkimpy: aligned with From, DMARC passes although SPF fails. header.b is the
# signature's first 8 characters, quoted when they hold a "/" (RFC 8601 §2.2: a value is a
# token or a quoted-string, and "/" is not a token character, RFC 2045 §5.1).
header_has case-dkim 'spf=fail \(no DNSSEC\) smtp\.mailfrom=plain\.test; dkim=pass \(DNSSEC\) header\.d=sender\.test header\.s=sel header\.a=rsa-sha256 header\.b=([^ ;"]{8}|"[^"]{8}"); dmarc=pass \(DNSSEC\) header\.from=sender\.test$' \
    "dkimpy's signature: dkim=pass (DNSSEC) for sender.test, dmarc=pass through DKIM"

# 5. DMARC p=reject: refused at the end of DATA (RFC 7372 X.7.26).
wait_for 60 grep -q "said: 550 5.7.26 message refused by the DMARC policy of reject.test" "$TMP/postfix.log" \
    || { grep -i reject "$TMP/postfix.log" >&2; fail "case-reject: no 550 5.7.26 in Postfix's log"; }
pass "case-reject: DMARC p=reject refused with 550 5.7.26"
if fetch case-reject; then fail "case-reject was delivered"; fi

stop_cleanly "$PID" "$TMP/err"
PID=""
succeed
