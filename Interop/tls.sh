#!/usr/bin/env bash
# Interop test: TLS of `tern localserve` against OpenSSL's s_client.
#   - SCRAM-SHA-256-PLUS with tls-exporter channel binding (RFC 9266, RFC 5802 §6): OpenSSL
#     computes the binding itself (-keymatexport EXPORTER-Channel-Binding), a Python SCRAM
#     client (hashlib/hmac, written from RFC 5802 §3) authenticates with it through
#     s_client's STARTTLS session; a binding with one bit flipped must be refused.
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

cat >"$TMP/scram_plus.py" <<'PY'
# SCRAM-SHA-256-PLUS over `openssl s_client -starttls smtp`, binding from OpenSSL's exporter.
import base64, hashlib, hmac, os, subprocess, sys

port, user, password, tamper = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4] == "tamper"
proc = subprocess.Popen(
    ["openssl", "s_client", "-connect", f"127.0.0.1:{port}", "-starttls", "smtp", "-tls1_3",
     "-keymatexport", "EXPORTER-Channel-Binding", "-keymatexportlen", "32", "-nocommands", "-ign_eof"],
    stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, bufsize=1)

def line():
    text = proc.stdout.readline()
    if not text:
        sys.exit("s_client ended")
    return text.rstrip("\r\n")

def send(text):
    proc.stdin.write(text + "\r\n")
    proc.stdin.flush()

def reply():
    while True:
        text = line()
        if len(text) >= 4 and text[:3].isdigit() and text[3] in " -":
            lines = [text]
            while lines[-1][3] == "-":
                lines.append(line())
            return int(text[:3]), [l[4:] for l in lines]

binding = None
while binding is None:
    text = line().strip()
    if text.startswith("Keying material:"):
        binding = bytes.fromhex(text.split(":", 1)[1].strip())
if tamper:
    binding = bytes([binding[0] ^ 1]) + binding[1:]
send("EHLO interop.example")
code, lines = reply()
auth = next((l for l in lines if l.startswith("AUTH ")), "")
if "SCRAM-SHA-256-PLUS" not in auth.split():
    sys.exit(f"no SCRAM-SHA-256-PLUS in {auth!r}")

gs2 = b"p=tls-exporter,,"
nonce = base64.b64encode(os.urandom(18)).decode()
first_bare = f"n={user},r={nonce}"
send("AUTH SCRAM-SHA-256-PLUS " + base64.b64encode(gs2 + first_bare.encode()).decode())
code, lines = reply()
if code != 334:
    sys.exit(f"server-first: {code} {lines}")
server_first = base64.b64decode(lines[0]).decode()
fields = dict(item.split("=", 1) for item in server_first.split(","))
if not fields["r"].startswith(nonce):
    sys.exit("server nonce does not extend ours")
salted = hashlib.pbkdf2_hmac("sha256", password.encode(), base64.b64decode(fields["s"]), int(fields["i"]))
client_key = hmac.new(salted, b"Client Key", hashlib.sha256).digest()
stored_key = hashlib.sha256(client_key).digest()
final_bare = "c=" + base64.b64encode(gs2 + binding).decode() + ",r=" + fields["r"]
message = f"{first_bare},{server_first},{final_bare}".encode()
signature = hmac.new(stored_key, message, hashlib.sha256).digest()
proof = bytes(a ^ b for a, b in zip(client_key, signature))
send(base64.b64encode(f"{final_bare},p={base64.b64encode(proof).decode()}".encode()).decode())
code, lines = reply()
if code == 334:
    server_final = base64.b64decode(lines[0]).decode()
    server_key = hmac.new(salted, b"Server Key", hashlib.sha256).digest()
    expected = base64.b64encode(hmac.new(server_key, message, hashlib.sha256).digest()).decode()
    if server_final != "v=" + expected:
        sys.exit("server signature wrong")
    send("")
    code, lines = reply()
send("QUIT")
proc.stdin.close()
proc.wait(timeout=10)
print(code)
PY

scram() {  # scram MODE -> the final reply code
    timeout 30 python3 "$TMP/scram_plus.py" "$SUBMISSION" tern@localhost "$PASSWORD" "$1" 2>"$TMP/scram.err" || { cat "$TMP/scram.err" >&2; echo error; }
}
log "check: SCRAM-SHA-256-PLUS with OpenSSL's tls-exporter"
[ "$(scram ok)" = 235 ] || fail "SCRAM-SHA-256-PLUS with the right binding was not accepted"
pass "SCRAM-SHA-256-PLUS authenticated with OpenSSL's binding (235)"
[ "$(scram tamper)" = 535 ] || fail "SCRAM-SHA-256-PLUS with a wrong binding was not refused with 535"
pass "a wrong binding is refused (535)"

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
for _ in $(seq 1 50); do port_used "$CONTROL" && break; sleep 0.1; done
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

echo "PASS $NAME ($CHECKS checks)"
