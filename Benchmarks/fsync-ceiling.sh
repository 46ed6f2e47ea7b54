#!/usr/bin/env bash
# The ceiling of the single-connection figures on this machine: what mailbench measures
# against a server that does no work at all except the one thing a durable server cannot
# skip, an fdatasync before it acknowledges. It answers SMTP and IMAP at once from memory,
# but before the 250 to the end of DATA and before an APPEND's OK it writes 4 KiB to a file
# in the data directory's filesystem and fdatasyncs it. Run without the flush too, which is
# mailbench's own ceiling.
#
# Same parameters as smtp-compare.sh (1 KiB, one connection) and imap-compare.sh (APPEND of
# 10 KiB). Usage: bash Benchmarks/fsync-ceiling.sh [REPEAT] (default 3). Loopback only.
set -euo pipefail
REPEAT=${1:-3}
BENCH=${BENCH:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/../shared/bench}
TMP=$(mktemp -d)
SERVER=""
cleanup() { [ -n "$SERVER" ] && kill "$SERVER" 2>/dev/null; rm -rf "$TMP"; }
trap cleanup EXIT

cat >"$TMP/server.py" <<'PY'
# server.py SMTPPORT IMAPPORT SYNCFILE|-: one thread per connection; only what mailbench sends.
import os, socket, sys, threading

smtp_port, imap_port, sync_path = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
sync_file = None if sync_path == "-" else os.open(sync_path, os.O_RDWR | os.O_CREAT, 0o600)
block = b"x" * 4096

def durable():
    if sync_file is not None:
        os.pwrite(sync_file, block, 0)
        os.fdatasync(sync_file)

def smtp(conn):
    reader = conn.makefile("rb")
    conn.sendall(b"220 ceiling ESMTP\r\n")
    while line := reader.readline():
        verb = line[:4].upper()
        if verb == b"EHLO":
            conn.sendall(b"250-ceiling\r\n250 8BITMIME\r\n")
        elif verb == b"DATA":
            conn.sendall(b"354 go ahead\r\n")
            while (data := reader.readline()) and data != b".\r\n":
                pass
            durable()
            conn.sendall(b"250 2.0.0 stored\r\n")
        elif verb == b"QUIT":
            conn.sendall(b"221 bye\r\n")
            return
        else:
            conn.sendall(b"250 ok\r\n")

def imap(conn):
    reader = conn.makefile("rb")
    conn.sendall(b"* OK ceiling\r\n")
    while line := reader.readline():
        tag, _, rest = line.partition(b" ")
        command = rest.split(b" ", 1)[0].strip().upper()
        if command == b"APPEND":
            announced = line[line.rindex(b"{") + 1:line.rindex(b"}")]
            if not announced.endswith(b"+"):
                conn.sendall(b"+ go ahead\r\n")
            reader.read(int(announced.rstrip(b"+")))
            reader.readline()
            durable()
            conn.sendall(tag + b" OK APPEND completed\r\n")
        elif command in (b"SELECT", b"EXAMINE"):
            conn.sendall(b"* 0 EXISTS\r\n" + tag + b" OK [READ-WRITE] done\r\n")
        elif command == b"CAPABILITY":
            conn.sendall(b"* CAPABILITY IMAP4rev1\r\n" + tag + b" OK done\r\n")
        elif command == b"LOGOUT":
            conn.sendall(b"* BYE\r\n" + tag + b" OK done\r\n")
            return
        else:
            conn.sendall(tag + b" OK done\r\n")

def serve(port, handler):
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", port))
    listener.listen(64)
    while True:
        conn, _ = listener.accept()
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        threading.Thread(target=handler, args=(conn,), daemon=True).start()

threading.Thread(target=serve, args=(imap_port, imap), daemon=True).start()
print("ready", flush=True)
serve(smtp_port, smtp)
PY

measure() {  # measure LABEL SYNCFILE
    python3 "$TMP/server.py" 3925 3943 "$2" >"$TMP/server.out" 2>&1 &
    SERVER=$!
    for _ in $(seq 1 50); do grep -q ready "$TMP/server.out" 2>/dev/null && break; sleep 0.1; done
    python3 "$BENCH/mailbench.py" smtp --port 3925 --rcpt ceiling@localhost -s 1024 -c 1 -m 2000 --repeat "$REPEAT" \
        --out "$TMP/smtp.json" >/dev/null 2>&1
    python3 "$BENCH/mailbench.py" imap --port 3943 --user ceiling --password ceiling --append 1000 --append-size 10240 \
        --repeat "$REPEAT" --out "$TMP/imap.json" >/dev/null 2>&1
    python3 - "$TMP/smtp.json" "$TMP/imap.json" "$1" <<'PY'
import json, sys
smtp = json.load(open(sys.argv[1]))["median"]
imap = json.load(open(sys.argv[2]))["median"]
print(sys.argv[3], json.dumps({"smtp_1k_c1_msgs_per_s": smtp["msgs_per_s"], "smtp_p50_ms": smtp["latency_ms"]["p50"],
                               "append_10k_msgs_per_s": imap["append_msgs_per_s"]}))
PY
    kill "$SERVER"
    wait "$SERVER" 2>/dev/null || true
    SERVER=""
}

measure ceiling-fdatasync "$TMP/sync"
measure ceiling-nothing -
