#!/usr/bin/env bash
# Crash test: kill -9 `tern localserve` while clients send mail over SMTP and APPEND it over
# IMAP, restart it, and check that every message that got a 250 or an APPEND OK is stored
# and intact and that `tern verifydata` finds no inconsistency. Several rounds, each killed
# at a different moment.
#
# Usage: TERN=/path/to/tern bash Interop/crash.sh [ROUNDS] (default 4). Loopback only.
# The last stdout line is `PASS crash (N rounds, M acknowledged messages)` or `FAIL crash: ...`.
set -euo pipefail
NAME=crash
# shellcheck source=Interop/lib.bash
source "$(dirname "${BASH_SOURCE[0]}")/lib.bash"
ROUNDS=${1:-4}
TMP=$(mktemp -d)
PID=""
cleanup() { [ -n "$PID" ] && kill -9 "$PID" 2>/dev/null; rm -rf "$TMP"; }
trap cleanup EXIT

pick_base_port
SMTP=$((BASE + 25))
IMAP=$((BASE + 143))

start() {
    : >"$TMP/out"
    "$TERN" localserve --dir "$TMP/ls" --base-port "$BASE" >"$TMP/out" 2>>"$TMP/err" &
    PID=$!
    for _ in $(seq 1 100); do grep -q '^password:' "$TMP/out" 2>/dev/null && return 0; sleep 0.1; done
    tail -20 "$TMP/err" >&2
    fail "localserve did not start"
}

: >"$TMP/acked"
for round in $(seq 1 "$ROUNDS"); do
    start
    log "round $round: load, then kill -9"
    # Four SMTP clients send 20 kB messages as fast as they can, two IMAP clients APPEND them
    # (every fifth 150 kB, which is streamed to a file instead of kept in memory), and each
    # records the ids acknowledged.
    PASSWORD=$(awk '/^password:/ {print $2}' "$TMP/out")
    python3 - "$SMTP" "$IMAP" "$PASSWORD" "$round" "$TMP/acked" <<'PY' &
import imaplib, smtplib, sys, threading
smtp_port, imap_port, password, round_number, acked_path = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
lock = threading.Lock()
def message(ident, lines):
    return f"Message-ID: <{ident}>\r\nSubject: crash test\r\n\r\n" + ("x" * 76 + "\r\n") * lines + f"end-of-{ident}\r\n"
def acknowledged(ident):
    with lock, open(acked_path, "a") as f:
        f.write(ident + "\n")
        f.flush()
def smtp_client(number):
    for sequence in range(100000):
        ident = f"r{round_number}-c{number}-m{sequence}@crash.test"
        try:
            with smtplib.SMTP("127.0.0.1", smtp_port, timeout=10) as s:
                s.sendmail("load@crash.test", ["sink@localhost"], message(ident, 260))
        except Exception:
            return  # the server was killed
        acknowledged(ident)
def imap_client(number):
    try:
        session = imaplib.IMAP4("127.0.0.1", imap_port, timeout=10)
        session.login("tern@localhost", password)
    except Exception:
        return
    for sequence in range(100000):
        ident = f"r{round_number}-i{number}-m{sequence}@crash.test"
        try:
            status, _ = session.append("INBOX", None, None, message(ident, 2000 if sequence % 5 == 4 else 260).encode())
        except Exception:
            return  # the server was killed
        if status != "OK":
            return
        acknowledged(ident)
threads = [threading.Thread(target=smtp_client, args=(n,)) for n in range(4)]
threads += [threading.Thread(target=imap_client, args=(n,)) for n in range(2)]
for t in threads: t.start()
for t in threads: t.join()
PY
    LOAD=$!
    sleep "0.$((RANDOM % 9 + 1))"
    sleep $((round % 3))
    kill -9 "$PID"
    PID=""
    wait "$LOAD" || true
    # Restart: recovery runs at start; then stop cleanly and verify.
    start
    kill -TERM "$PID"
    wait "$PID" || fail "round $round: localserve did not stop cleanly after the restart"
    PID=""
    "$TERN" verifydata "$TMP/ls/data" >"$TMP/verify" 2>&1 || { cat "$TMP/verify" >&2; fail "round $round: verifydata found problems"; }
    log "round $round: $(wc -l <"$TMP/acked") acknowledged so far, verifydata clean"
done

# Every acknowledged message is stored, complete.
log "checking $(wc -l <"$TMP/acked") acknowledged messages"
python3 - "$TMP/acked" "$TMP/ls/data/accounts/tern/msg" <<'PY' || fail "an acknowledged message is missing or damaged"
import os, re, sys
acked = [line.strip() for line in open(sys.argv[1]) if line.strip()]
stored = {}
for directory, _, files in os.walk(sys.argv[2]):
    for name in files:
        data = open(os.path.join(directory, name), "rb").read()
        match = re.search(rb"Message-ID: <([^>]+)>", data)
        if match:
            stored[match.group(1).decode()] = data
missing = [ident for ident in acked if ident not in stored]
damaged = [ident for ident in acked if ident in stored and not stored[ident].endswith(f"end-of-{ident}\r\n".encode())]
if missing or damaged:
    print(f"missing {missing[:5]} ({len(missing)}), damaged {damaged[:5]} ({len(damaged)})", file=sys.stderr)
    sys.exit(1)
appended = [ident for ident in acked if "-i" in ident.split("@")[0]]
large = [ident for ident in appended if int(ident.split("-m")[1].split("@")[0]) % 5 == 4]
if len(appended) == len(acked) or not appended or not large:
    print(f"the load did not run: {len(acked)} acknowledged, {len(appended)} by APPEND, {len(large)} of them large", file=sys.stderr)
    sys.exit(1)
PY
succeed "$ROUNDS rounds, $(wc -l <"$TMP/acked") acknowledged messages, $(grep -c -- "-i[0-9]*-m" "$TMP/acked") of them by APPEND"
