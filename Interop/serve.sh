#!/usr/bin/env bash
# Interop test: `tern serve` from real configuration files, with Python's smtplib as the
# client: subaddressing, unknown users and relay refusal on SMTP; submission with the
# domains file's SCRAM passwords (from `tern config password`) and sender ownership; the
# Prometheus endpoint; the MTA-STS policy over HTTPS (MTASTSHTTPS, fetched with curl) and
# its change by a reload; reloading domains.yaml while running (a valid and an invalid
# change); clean shutdown; `tern verifydata` afterwards.
#
# Usage: TERN=/path/to/tern bash Interop/serve.sh. Loopback only. The last stdout line is
# `PASS serve (N checks)` or `FAIL serve: <first failure>`.
set -euo pipefail
NAME=serve
# shellcheck source=Interop/lib.bash
source "$(dirname "${BASH_SOURCE[0]}")/lib.bash"
TMP=$(mktemp -d)
PID=""
cleanup() { [ -n "$PID" ] && kill -9 "$PID" 2>/dev/null; rm -rf "$TMP"; }
trap cleanup EXIT

pick_base_port
SMTP=$((BASE + 25)); SUBMISSION=$((BASE + 587)); SUBMISSIONS=$((BASE + 465)); METRICS=$((BASE + 10))
free_port POLICY_PORT

mkdir -p "$TMP/config"
PASSWORDS=$(printf 'wonderland' | "$TERN" config password --iterations 4096)
cat >"$TMP/config/tern.yaml" <<YAML
DataDir: ../data
Hostname: mail.example.test
LogLevel: info
Postmaster:
  Account: admin
  Mailbox: Inbox
Listeners:
  local:
    IPs:
      - 127.0.0.1
    TLS:
      SelfSigned: true
    SMTP:
      Enabled: true
      Port: $SMTP
    Submission:
      Enabled: true
      Port: $SUBMISSION
      PlaintextAuthOnLoopback: true
    Submissions:
      Enabled: true
      Port: $SUBMISSIONS
    Metrics:
      Enabled: true
      Port: $METRICS
    MTASTSHTTPS:
      Enabled: true
      Port: $POLICY_PORT
YAML
MTASTS_MODE=enforce
write_domains() {  # write_domains EXTRA_ACCOUNT_YAML, with the MTA-STS policy in mode $MTASTS_MODE
    cat >"$TMP/config/domains.yaml.new" <<YAML
Domains:
  example.test:
    LocalpartCatchallSeparator: "+"
    MTASTS:
      PolicyID: $MTASTS_MODE
      Mode: $MTASTS_MODE
      MaxAge: 1h
      MX:
        - "*.example.test"
Accounts:
  admin:
    Domain: example.test
    Destinations:
      admin: {}
  alice:
    Domain: example.test
    Destinations:
      alice: {}
$PASSWORDS
$1
YAML
    mv "$TMP/config/domains.yaml.new" "$TMP/config/domains.yaml"
}
write_domains ""

"$TERN" config test --config "$TMP/config/tern.yaml" >"$TMP/check" 2>&1 || { cat "$TMP/check" >&2; fail "config test rejects the configuration"; }
pass "config test"

# Started with a low soft limit on descriptors, which serve raises to the hard one.
(ulimit -Sn 256; exec "$TERN" serve --config "$TMP/config/tern.yaml") >"$TMP/out" 2>"$TMP/err" &
PID=$!
for _ in $(seq 1 100); do port_listening "$SMTP" && port_listening "$METRICS" && break; sleep 0.1; done
port_listening "$SMTP" || { tail -20 "$TMP/err" >&2; fail "serve did not start listening"; }
read -r SOFT HARD < <(awk '/^Max open files/ {print $4, $5}' "/proc/$PID/limits")
[ "$SOFT" = "$HARD" ] || fail "descriptor limit not raised: soft $SOFT, hard $HARD"
pass "descriptor limit raised to the hard limit ($HARD)"

smtp_check() {  # smtp_check NAME PYTHON: runs with s (SMTP on port), the check must not raise
    local name=$1 code=$2
    if ! timeout 60 python3 - "$SMTP" "$SUBMISSION" "$SUBMISSIONS" <<PY >"$TMP/check" 2>&1; then tail -15 "$TMP/check" >&2; fail "$name"; fi
import smtplib, ssl, sys
smtp, submission, submissions = (int(port) for port in sys.argv[1:4])
unverified = ssl._create_unverified_context()
message = b"Subject: interop\r\n\r\nhello\r\n"
# Mail from other servers needs its From field (RFC 5322 §3.6; refused without, RFC 7489 §6.6.1).
remote = b"From: X <x@remote.example>\r\n" + message
$code
PY
    pass "$name"
}

smtp_check "SMTP: subaddress and postmaster accepted" '
with smtplib.SMTP("127.0.0.1", smtp) as s:
    s.starttls(context=unverified)
    assert s.sendmail("x@remote.example", ["alice+news@example.test", "postmaster@example.test"], remote) == {}
'
smtp_check "SMTP: unknown user 550 5.1.1, remote domain refused" '
with smtplib.SMTP("127.0.0.1", smtp) as s:
    s.ehlo("client.test")
    s.mail("x@remote.example")
    code, text = s.rcpt("nobody@example.test"); assert code == 550 and text.startswith(b"5.1.1"), (code, text)
    code, text = s.rcpt("victim@elsewhere.example"); assert code == 550 and b"relaying denied" in text, (code, text)
'
smtp_check "submission: login with the domains file password, own address only" '
with smtplib.SMTP("127.0.0.1", submission) as s:
    s.starttls(context=unverified)
    s.login("alice@example.test", "wonderland")
    assert s.sendmail("alice@example.test", ["admin@example.test"], b"From: Alice <alice@example.test>\r\n" + message) == {}
    try:
        s.sendmail("admin@example.test", ["admin@example.test"], message)
        raise AssertionError("sending as another account was accepted")
    except smtplib.SMTPSenderRefused as refused:
        assert refused.smtp_code == 550, refused
with smtplib.SMTP_SSL("127.0.0.1", submissions, context=unverified) as s:
    try:
        s.login("alice@example.test", "wrong")
        raise AssertionError("wrong password accepted")
    except smtplib.SMTPAuthenticationError as error:
        assert error.smtp_code == 535, error
'

log "check: metrics"
curl -sf "http://127.0.0.1:$METRICS/metrics" >"$TMP/metrics" || fail "GET /metrics failed"
grep -q '^tern_smtp_messages_total{result="delivered"} 2$' "$TMP/metrics" || { grep tern_smtp "$TMP/metrics" >&2; fail "delivered count not 2 in /metrics"; }
grep -q '^tern_dns_lookups_total{result="servfail"} 0$' "$TMP/metrics" || fail "alert counters not created at zero"
grep -Eq '^tern_smtp_auth_total\{result="failed"\} [1-9]' "$TMP/metrics" || { grep tern_smtp_auth "$TMP/metrics" >&2; fail "failed authentication not counted"; }
pass "metrics"

policy() {  # the policy fetched from the Policy Host of HOST (-k: the certificate is self-signed)
    curl -sk --max-time 10 --resolve "$1:$POLICY_PORT:127.0.0.1" -w '%{http_code} %{content_type}' \
        "https://$1:$POLICY_PORT/.well-known/mta-sts.txt"
}
expected_policy() { printf 'version: STSv1\r\nmode: %s\r\nmx: *.example.test\r\nmax_age: 3600\r\n200 text/plain' "$1"; }
[ "$(policy mta-sts.example.test)" = "$(expected_policy enforce)" ] || { policy mta-sts.example.test | od -c | head >&2; fail "no MTA-STS policy at mta-sts.example.test"; }
[ "$(policy mta-sts.other.test)" = "404 " ] || fail "a policy for a domain that is not configured"
echo | timeout 10 openssl s_client -connect "127.0.0.1:$POLICY_PORT" -servername mta-sts.example.test 2>/dev/null \
    | openssl x509 -noout -ext subjectAltName | grep -q "DNS:mta-sts.example.test" || fail "the certificate does not name mta-sts.example.test"
pass "MTA-STS policy over HTTPS with CRLF lines, 404 for other hosts, the certificate names the Policy Host"

log "check: a valid domains.yaml change applies without a restart"
MTASTS_MODE=testing
write_domains "  bob:
    Domain: example.test
    Destinations:
      bob: {}"
applied=""
for _ in $(seq 1 50); do
    if timeout 10 python3 -c "
import smtplib, sys
with smtplib.SMTP('127.0.0.1', $SMTP) as s:
    s.ehlo('c'); s.mail('x@remote.example'); code, _ = s.rcpt('bob@example.test'); sys.exit(0 if code == 250 else 1)
" 2>/dev/null; then applied=yes; break; fi
    sleep 0.2
done
[ -n "$applied" ] || { tail -5 "$TMP/err" >&2; fail "new account bob not accepted after the reload"; }
[ "$(policy mta-sts.example.test)" = "$(expected_policy testing)" ] || fail "the reload did not change the MTA-STS policy"
pass "reload applies a valid change, to the MTA-STS policy too"

log "check: an invalid domains.yaml is not applied"
printf 'Domains:\n  example.test:\n    Bogus: 1\nAccounts: {}\n' >"$TMP/config/domains.yaml"
for _ in $(seq 1 50); do grep -q "domains configuration not applied" "$TMP/err" && break; sleep 0.2; done
grep -q "domains configuration not applied" "$TMP/err" || fail "invalid domains.yaml not reported"
smtp_check "SMTP: the previous configuration stays in effect" '
with smtplib.SMTP("127.0.0.1", smtp) as s:
    assert s.sendmail("x@remote.example", ["bob@example.test"], remote) == {}
'

log "check: SIGTERM stops serve cleanly, verifydata is clean"
kill -TERM "$PID"
wait "$PID" && status=0 || status=$?
PID=""
[ "$status" -eq 0 ] || { tail -5 "$TMP/err" >&2; fail "serve exited with $status after SIGTERM"; }
"$TERN" verifydata "$TMP/data" >"$TMP/verify" 2>&1 || { cat "$TMP/verify" >&2; fail "verifydata found problems"; }
for account in alice admin bob; do
    [ -d "$TMP/data/accounts/$account/msg" ] || fail "no messages stored for $account"
done
pass "clean shutdown and verifydata"

succeed
