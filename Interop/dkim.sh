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
# Usage: TERN=/path/to/tern bash Interop/dkim.sh (root: installs dnsmasq-base, python3-dkim
# and python3-nacl when missing). Loopback only. The last stdout line is `PASS dkim (N checks)`
# or `FAIL dkim: <reason>`.
set -euo pipefail
NAME=dkim
# shellcheck source=Interop/lib.bash
source "$(dirname "${BASH_SOURCE[0]}")/lib.bash"
TMP=$(mktemp -d)
DNS_PID=""
cleanup() {
    [ -n "$DNS_PID" ] && kill "$DNS_PID" 2>/dev/null
    [ -n "${KEEP:-}" ] || rm -rf "$TMP"
}
trap cleanup EXIT

apt_install dnsmasq dnsmasq-base
apt_install_python "dkim, nacl" python3-dkim python3-nacl
command -v dknewkey >/dev/null || fail "dknewkey (python3-dkim) is missing"
free_port DNS_PORT
cd "$TMP"

# --- keys: Tern's for Tern's signatures, dkimpy's own (dknewkey) for dkimpy's ---
"$TERN" dkim genrsa >tern-rsa.pem || fail "tern dkim genrsa"
"$TERN" dkim gened25519 >tern-ed.pem || fail "tern dkim gened25519"
"$TERN" dkim txt tern-rsa.pem >tern-rsa.txt || fail "tern dkim txt (RSA)"
"$TERN" dkim txt tern-ed.pem >tern-ed.txt || fail "tern dkim txt (Ed25519)"
dknewkey py-rsa >/dev/null 2>&1 || fail "dknewkey (RSA)"
dknewkey --ktype ed25519 py-ed >/dev/null 2>&1 || fail "dknewkey (Ed25519)"
pass "keys and records: tern genrsa, gened25519, txt; dkimpy's dknewkey"

# Tern reads a key made by OpenSSL and publishes OpenSSL's public key.
openssl genpkey -algorithm ed25519 -out openssl-ed.pem 2>/dev/null || fail "openssl genpkey ed25519"
expected="v=DKIM1; k=ed25519; p=$(openssl pkey -in openssl-ed.pem -pubout -outform DER | tail -c 32 | base64 -w0)"
[ "$("$TERN" dkim txt openssl-ed.pem)" = "$expected" ] || fail "tern dkim txt of OpenSSL's Ed25519 key is not OpenSSL's public key"
pass "tern dkim txt reads OpenSSL's PKCS#8 Ed25519 key"

# --- DNS: the four key records (dnsmasq splits the long RSA ones into 255-octet strings) ---
dnsmasq --keep-in-foreground --port="$DNS_PORT" --listen-address=127.0.0.1 --bind-interfaces --no-resolv --no-hosts \
    --conf-file=/dev/null --user=root \
    --txt-record="rsa._domainkey.tern.test,$(cat tern-rsa.txt)" --txt-record="ed._domainkey.tern.test,$(cat tern-ed.txt)" \
    --txt-record="rsa._domainkey.py.test,$(cat py-rsa.dns)" --txt-record="ed._domainkey.py.test,$(cat py-ed.dns)" \
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
               b"ed._domainkey.tern.test.": open("tern-ed.txt", "rb").read().strip()}
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

echo "PASS $NAME ($CHECKS checks)"
