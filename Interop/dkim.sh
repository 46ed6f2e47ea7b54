#!/usr/bin/env bash
# Interop test: DKIM (RFC 6376, RFC 8463) against dkimpy (Debian's python3-dkim, with
# python3-nacl for Ed25519), both ways:
#   - `tern dkim sign` with an RSA-2048 and an Ed25519 key made by `tern dkim genrsa` and
#     `gened25519`: dkimpy verifies both signatures, with the key records `tern dkim txt` prints;
#   - dkimpy signs with an RSA and an Ed25519 key made by its own dknewkey: `tern dkim verify`
#     passes both, looking the records up in dnsmasq (--txt-record) through `--resolver`;
# for each canonicalization pair (relaxed/relaxed, simple/simple, relaxed/simple,
# simple/relaxed) and messages with folded header fields, 8-bit content and lines longer than
# 998 octets. A changed message fails on both sides. dkimpy also reads Tern's PKCS#8 RSA key,
# and Tern reads OpenSSL's Ed25519 key.
#
# Then `tern serve` signs submitted mail with the DKIM section of domains.yaml (selectors rsa
# and ed with those keys): a message submitted with smtplib to a remote recipient goes through
# the queue to Postfix, the MX of dest.test (MX from dnsmasq, Queue: DirectPort), and one to
# a local recipient is read back over IMAP; dkimpy and `tern dkim verify` pass both
# signatures on each, and `tern config dnsrecords` prints the records they were checked
# with. A reload adding a selector signs the next message three times; a reload pointing that
# selector at a file that is no key is logged naming the file and keeps the three; `tern
# serve` and `tern config test` refuse to start with such a key, naming the file.
#
# Usage: TERN=/path/to/tern bash Interop/dkim.sh (root: installs dnsmasq-base, python3-dkim,
# python3-nacl and postfix when missing; runs a private Postfix with `postfix -c`, /etc/postfix
# is not used). Loopback only. The last stdout line is `PASS dkim (N checks)` or
# `FAIL dkim: <reason>`.
set -euo pipefail
NAME=dkim
# shellcheck source=Interop/lib.bash
source "$(dirname "${BASH_SOURCE[0]}")/lib.bash"
TMP=$(mktemp -d)
# Postfix's daemons and its virtual delivery (as nobody) reach their directories under it.
chmod 755 "$TMP"
DNS_PID=""; PID=""
PFCONF="$TMP/postfix-etc"
POSTFIX_UP=0
cleanup() {
    for pid in "$PID" "$DNS_PID"; do [ -n "$pid" ] && kill "$pid" 2>/dev/null; done
    [ "$POSTFIX_UP" = 1 ] && postfix -c "$PFCONF" stop >/dev/null 2>&1
    [ -n "${KEEP:-}" ] || rm -rf "$TMP"
}
trap cleanup EXIT

apt_install dnsmasq dnsmasq-base
apt_install_python "dkim, nacl" python3-dkim python3-nacl
postfix_install
command -v dknewkey >/dev/null || fail "dknewkey (python3-dkim) is missing"
free_port DNS_PORT MX_PORT SUBMISSION IMAP
cd "$TMP"

# --- keys: Tern's for Tern's signatures, dkimpy's own (dknewkey) for dkimpy's ---
"$TERN" dkim genrsa >tern-rsa.pem || fail "tern dkim genrsa"
"$TERN" dkim gened25519 >tern-ed.pem || fail "tern dkim gened25519"
"$TERN" dkim txt tern-rsa.pem >tern-rsa.txt || fail "tern dkim txt (RSA)"
"$TERN" dkim txt tern-ed.pem >tern-ed.txt || fail "tern dkim txt (Ed25519)"
# The key of selector ed2, which a reload of `tern serve` adds (its record published first).
"$TERN" dkim gened25519 >tern-ed2.pem && "$TERN" dkim txt tern-ed2.pem >tern-ed2.txt || fail "a third key"
dknewkey py-rsa >/dev/null 2>&1 || fail "dknewkey (RSA)"
dknewkey --ktype ed25519 py-ed >/dev/null 2>&1 || fail "dknewkey (Ed25519)"
pass "keys and records: tern genrsa, gened25519, txt; dkimpy's dknewkey"

# Tern reads a key made by OpenSSL and publishes OpenSSL's public key.
openssl genpkey -algorithm ed25519 -out openssl-ed.pem 2>/dev/null || fail "openssl genpkey ed25519"
expected="v=DKIM1; k=ed25519; p=$(openssl pkey -in openssl-ed.pem -pubout -outform DER | tail -c 32 | base64 -w0)"
[ "$("$TERN" dkim txt openssl-ed.pem)" = "$expected" ] || fail "tern dkim txt of OpenSSL's Ed25519 key is not OpenSSL's public key"
pass "tern dkim txt reads OpenSSL's PKCS#8 Ed25519 key"

# --- DNS: the four key records (dnsmasq splits the long RSA ones into 255-octet strings), and
# dest.test's MX for `tern serve` ---
dnsmasq --keep-in-foreground --port="$DNS_PORT" --listen-address=127.0.0.1 --bind-interfaces --no-resolv --no-hosts \
    --conf-file=/dev/null --user=root \
    --txt-record="rsa._domainkey.tern.test,$(cat tern-rsa.txt)" --txt-record="ed._domainkey.tern.test,$(cat tern-ed.txt)" \
    --txt-record="ed2._domainkey.tern.test,$(cat tern-ed2.txt)" \
    --txt-record="rsa._domainkey.py.test,$(cat py-rsa.dns)" --txt-record="ed._domainkey.py.test,$(cat py-ed.dns)" \
    --mx-host=dest.test,mx.dest.test,10 --host-record=mx.dest.test,127.0.0.1 \
    >dnsmasq.out 2>&1 &
DNS_PID=$!
for _ in $(seq 1 50); do "$TERN" dns lookup --resolver "127.0.0.1:$DNS_PORT" TXT rsa._domainkey.py.test >/dev/null 2>&1 && break; sleep 0.1; done
[ "$("$TERN" dns lookup --resolver "127.0.0.1:$DNS_PORT" TXT rsa._domainkey.tern.test | grep -c '" "')" = 1 ] \
    || fail "dnsmasq does not serve the RSA key record as several strings"
pass "dnsmasq serves the key records"

# --- dkimpy's side: sign with its keys, verify with the records Tern printed ---
cat >dkimpy.py <<'PY'
import re, sys
import dkim

def sign(path, canonicalization):
    message = open(path, "rb").read()
    header, body = canonicalization.encode().split(b"/")
    fields = b""
    for selector, key, algorithm in ((b"rsa", "py-rsa.key", b"rsa-sha256"), (b"ed", "py-ed.key", b"ed25519-sha256")):
        fields += dkim.sign(message, selector, b"py.test", open(key, "rb").read().strip(), canonicalize=(header, body),
                            signature_algorithm=algorithm)
    sys.stdout.buffer.write(fields + message)

def verify(path):
    records = {b"rsa._domainkey.tern.test.": open("tern-rsa.txt", "rb").read().strip(),
               b"ed._domainkey.tern.test.": open("tern-ed.txt", "rb").read().strip(),
               b"ed2._domainkey.tern.test.": open("tern-ed2.txt", "rb").read().strip()}
    message = open(path, "rb").read()
    count = len(re.findall(rb"(?im)^dkim-signature:", message))
    checker = dkim.DKIM(message)
    results = []
    for index in range(count):
        try:
            results.append("pass" if checker.verify(idx=index, dnsfunc=lambda name, timeout=5: records.get(name)) else "fail")
        except dkim.ValidationError:  # dkimpy raises for some failures (a body hash mismatch)
            results.append("fail")
    print(" ".join(results))

if sys.argv[1] == "sign":
    sign(sys.argv[2], sys.argv[3])
else:
    verify(sys.argv[2])
PY

# --- messages ---
printf '%s\r\n' \
    'From: "Joe Q. Public"' \
    ' <joe@tern.test>' \
    'To: Mary Smith <mary@example.net>,' \
    '	jane@example.org,   bob@example.com' \
    'Subject: A subject long enough that it had to be folded onto a second line by' \
    '  the writer   of the message' \
    'Date: Fri, 21 Nov 1997 09:55:06 -0600' \
    'Message-ID: <1234@local.machine.example>' \
    '' \
    'Body with white space at the end   ' \
    '	and   runs	of	tabs' \
    '' \
    '' >folded.eml
{
    printf 'From: Jörg <joerg@tern.test>\r\nTo: bob@example.net\r\nSubject: Grüße aus Köln\r\nMIME-Version: 1.0\r\n'
    printf 'Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n'
    printf 'Die Straße ist naß. 日本語のテキスト\r\nLatin-1: \351t\351\r\n'
} >8bit.eml
{
    printf 'From: joe@tern.test\r\nTo: bob@example.net\r\nSubject: long lines\r\n\r\n'
    for _ in 1 2 3; do head -c 3000 /dev/zero | tr '\0' 'x'; printf '\r\n'; done
    printf 'end'
} >long.eml
MESSAGES="folded 8bit long"

# --- the matrix: both directions, every canonicalization pair, every message ---
for canonicalization in relaxed/relaxed simple/simple relaxed/simple simple/relaxed; do
    for message in $MESSAGES; do
        label="$message, $canonicalization"
        "$TERN" dkim sign --domain tern.test --selector rsa --key tern-rsa.pem --selector ed --key tern-ed.pem \
            --canonicalization "$canonicalization" "$message.eml" >tern-signed.eml 2>sign.err \
            || { cat sign.err >&2; fail "tern dkim sign ($label)"; }
        cmp -s <(tail -c "$(stat -c %s "$message.eml")" tern-signed.eml) "$message.eml" || fail "tern dkim sign changed the message ($label)"
        result=$(/usr/bin/python3 dkimpy.py verify tern-signed.eml 2>dkimpy.err) || { cat dkimpy.err >&2; fail "dkimpy verify ($label)"; }
        [ "$result" = "pass pass" ] || { cat tern-signed.eml >&2; fail "dkimpy: Tern's RSA and Ed25519 signatures: $result ($label)"; }
        pass "Tern signs, dkimpy verifies RSA and Ed25519 ($label)"

        /usr/bin/python3 dkimpy.py sign "$message.eml" "$canonicalization" >py-signed.eml 2>dkimpy.err \
            || { cat dkimpy.err >&2; fail "dkimpy sign ($label)"; }
        "$TERN" dkim verify --resolver "127.0.0.1:$DNS_PORT" py-signed.eml >verify.out 2>verify.err \
            || { cat verify.out verify.err py-signed.eml >&2; fail "tern dkim verify: dkimpy's signatures do not pass ($label)"; }
        [ "$(grep -c '^result: pass$' verify.out)" = 2 ] || { cat verify.out >&2; fail "tern dkim verify: not two passes ($label)"; }
        grep -q '^algorithm: ed25519-sha256$' verify.out || fail "tern dkim verify: no Ed25519 result ($label)"
        pass "dkimpy signs, Tern verifies RSA and Ed25519 ($label)"
    done
done

# --- changed messages fail on both sides ---
"$TERN" dkim sign --domain tern.test --selector rsa --key tern-rsa.pem --selector ed --key tern-ed.pem folded.eml >tern-signed.eml
sed -i 's/and   runs/and runs, changed/' tern-signed.eml
[ "$(/usr/bin/python3 dkimpy.py verify tern-signed.eml)" = "fail fail" ] || fail "dkimpy passes a changed message signed by Tern"
pass "a changed body fails Tern's signatures in dkimpy"
/usr/bin/python3 dkimpy.py sign folded.eml relaxed/relaxed >py-signed.eml
sed -i 's/^Subject: A subject/Subject: Another subject/' py-signed.eml
if "$TERN" dkim verify --resolver "127.0.0.1:$DNS_PORT" py-signed.eml >verify.out 2>&1; then
    cat verify.out >&2
    fail "tern dkim verify passes a changed message signed by dkimpy"
fi
[ "$(grep -c '^reason: signature did not verify$' verify.out)" = 2 ] || { cat verify.out >&2; fail "tern dkim verify: a changed Subject is not 'signature did not verify'"; }
pass "a changed Subject fails dkimpy's signatures in Tern (exit status 1)"

# dkimpy signs with Tern's PKCS#8 RSA key; Tern verifies it.
/usr/bin/python3 - <<'PY' >tern-key-signed.eml || fail "dkimpy cannot sign with Tern's PKCS#8 RSA key"
import sys, dkim
message = open("folded.eml", "rb").read()
sys.stdout.buffer.write(dkim.sign(message, b"rsa", b"tern.test", open("tern-rsa.pem", "rb").read()) + message)
PY
"$TERN" dkim verify --resolver "127.0.0.1:$DNS_PORT" tern-key-signed.eml >verify.out || { cat verify.out >&2; fail "dkimpy's signature with Tern's key"; }
pass "dkimpy signs with Tern's PKCS#8 RSA key"

# --- tern serve signs submitted mail ---
# Postfix: the MX of dest.test, delivering into one maildir.
mkdir -p "$PFCONF"
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=mx.dest.test -addext subjectAltName=DNS:mx.dest.test \
    -keyout "$PFCONF/key.pem" -out "$PFCONF/cert.pem" >/dev/null 2>&1 || fail "openssl could not make a test certificate"
postfix_mx_main_cf "$PFCONF" mx.dest.test dest.test "mydomain = dest.test"
postfix_master_cf "$PFCONF/master.cf" "127.0.0.1:$MX_PORT" "$POSTFIX_VIRTUAL"
POSTFIX_UP=1
postfix_start "$PFCONF" "$MX_PORT"

mkdir -p config
{
    serve_yaml_head "127.0.0.1:$DNS_PORT" "$SUBMISSION" "$IMAP"
    printf 'Queue:\n  DirectPort: %s\n' "$MX_PORT"
} >config/tern.yaml
DOMAINS=$(serve_domains_yaml dkim-secret)
write_domains() {  # write_domains [ED2_KEY_FILE]: tern.test signs with rsa and ed, and ed2 when given
    local dkim extra="" sign="rsa, ed"
    if [ -n "${1:-}" ]; then extra=$'\n        ed2:\n          PrivateKeyFile: '"$1"; sign="rsa, ed, ed2"; fi
    dkim=$'  tern.test:\n    DKIM:\n      Selectors:\n        rsa:\n          PrivateKeyFile: ../tern-rsa.pem\n        ed:\n          PrivateKeyFile: ../tern-ed.pem'"$extra"$'\n      Sign: ['"$sign"']'
    # A new file renamed into place, as editors do: the watcher sees a new inode.
    printf '%s\n' "${DOMAINS/  tern.test: \{\}/$dkim}" >config/domains.yaml.new
    mv config/domains.yaml.new config/domains.yaml
}
write_domains
"$TERN" config test --config config/tern.yaml >check.out 2>&1 || { cat check.out >&2; fail "config test rejects the DKIM configuration"; }

# The records `tern config dnsrecords` prints are the ones dkimpy checks with.
"$TERN" config dnsrecords --config config/tern.yaml tern.test >records.zone 2>records.err || { cat records.err >&2; fail "tern config dnsrecords"; }
for selector in rsa ed; do
    printed=$(grep "^$selector._domainkey.tern.test." records.zone | sed 's/^[^"]*//; s/" "//g; s/^"//; s/"$//')
    [ "$printed" = "$(cat "tern-$selector.txt")" ] || { cat records.zone >&2; fail "dnsrecords: the $selector key record is not the key's"; }
done
[ "$(grep -c '^rsa._domainkey.tern.test.*" "' records.zone)" = 1 ] || fail "dnsrecords: the RSA record is not split into strings"
pass "tern config dnsrecords prints both selectors' key records, the RSA one in 255-octet strings"

"$TERN" serve --config config/tern.yaml >serve.out 2>serve.err &
PID=$!
wait_for 30 port_listening "$SUBMISSION" || { tail -20 serve.err >&2; fail "serve did not start"; }

# signed_by FILE WHAT EXPECTED: dkimpy and `tern dkim verify` both pass every signature of FILE.
signed_by() {
    local result
    result=$(/usr/bin/python3 dkimpy.py verify "$1" 2>dkimpy.err) || { cat dkimpy.err >&2; fail "dkimpy verify ($2)"; }
    [ "$result" = "$3" ] || { cat "$1" >&2; fail "dkimpy: '$result', expected '$3' ($2)"; }
    "$TERN" dkim verify --resolver "127.0.0.1:$DNS_PORT" "$1" >verify.out 2>&1 || { cat verify.out >&2; fail "tern dkim verify ($2)"; }
    [ "$(grep -c '^result: pass$' verify.out)" = "$(wc -w <<<"$3")" ] || { cat verify.out >&2; fail "tern dkim verify: not all pass ($2)"; }
    pass "$2: dkimpy and tern dkim verify say $3"
}
# from_inbox ID FILE: the message with subject ID in alice's Inbox, over IMAP.
from_inbox() {
    timeout 30 python3 - "$IMAP" "$1" "$2" <<'PY' >imap.out 2>&1 || { cat imap.out >&2; fail "reading $1 over IMAP"; }
import imaplib, sys
port, ident, out = int(sys.argv[1]), sys.argv[2], sys.argv[3]
with imaplib.IMAP4("127.0.0.1", port) as m:
    m.login("alice@tern.test", "dkim-secret")
    m.select("INBOX", readonly=True)
    typ, data = m.search(None, "SUBJECT", ident)
    ids = data[0].split()
    assert len(ids) == 1, data
    typ, data = m.fetch(ids[0], "(BODY.PEEK[])")
    open(out, "wb").write(data[0][1])
PY
}

submit_message "$SUBMISSION" dkim-secret remote1 bob@dest.test
wait_for 60 arrived remote1 || { tail -20 serve.err >&2; tail -20 "$TMP/postfix.log" >&2; fail "the submitted message did not reach Postfix"; }
cp "$(grep -rlF -- end-of-remote1 "$TMP/vmail/maildir/new")" remote1.eml
[ "$(head -c 15 remote1.eml)" != "DKIM-Signature:" ] || fail "Postfix added no Received field above the signatures"
signed_by remote1.eml "submitted, queued, delivered by Postfix" "pass pass"

submit_message "$SUBMISSION" dkim-secret local1 alice@tern.test
from_inbox local1 local1.eml
[ "$(head -c 15 local1.eml)" = "DKIM-Signature:" ] || fail "the signatures are not the first fields of the local copy"
signed_by local1.eml "submitted to a local recipient, read over IMAP" "pass pass"

# A reload adds selector ed2: the next message carries three signatures.
reloads() { grep -c "domains configuration reloaded" serve.err || true; }
reloaded_since() { [ "$(reloads)" -gt "$1" ]; }  # reloaded_since COUNT: more reloads logged than COUNT
before=$(reloads)
write_domains ../tern-ed2.pem
wait_for 30 reloaded_since "$before" || fail "the reload adding selector ed2 was not applied"
submit_message "$SUBMISSION" dkim-secret local2 alice@tern.test
from_inbox local2 local2.eml
signed_by local2.eml "after a reload adding a selector" "pass pass pass"

# A reload pointing ed2 at a file that is no key: logged with the file, the three stay.
echo "not a key" >garbage.pem
before=$(reloads)
write_domains ../garbage.pem
wait_for 30 reloaded_since "$before" || fail "the reload with a broken key was not applied"
grep "DKIM key not applied" serve.err | grep -qF "PrivateKeyFile $TMP/garbage.pem: not a PEM private key" \
    || { tail -5 serve.err >&2; fail "the unusable key file is not logged with its name"; }
submit_message "$SUBMISSION" dkim-secret local3 alice@tern.test
from_inbox local3 local3.eml
signed_by local3.eml "after a reload with an unusable key (previous signing kept)" "pass pass pass"

stop_cleanly "$PID" serve.err
PID=""

# Started with that file, serve and config test refuse, naming it.
status=0
timeout 30 "$TERN" serve --config config/tern.yaml >serve2.out 2>serve2.err || status=$?
[ "$status" = 1 ] || { cat serve2.err >&2; fail "serve with an unusable DKIM key exited with $status, not 1"; }
grep -qF "config/domains.yaml: DKIM selector ed2 of tern.test: PrivateKeyFile $TMP/garbage.pem: not a PEM private key" serve2.err \
    || { cat serve2.err >&2; fail "serve does not name the unusable key file"; }
"$TERN" config test --config config/tern.yaml >check.out 2>&1 && fail "config test accepts an unusable DKIM key"
grep -qF "PrivateKeyFile $TMP/garbage.pem: not a PEM private key" check.out || { cat check.out >&2; fail "config test does not name the unusable key file"; }
pass "serve and config test refuse an unusable DKIM key, naming the file"

succeed
