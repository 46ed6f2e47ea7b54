#!/usr/bin/env bash
# The ceiling of the single-connection figures on this machine: what mailbench measures
# against a server that does no work at all except the one thing a durable server cannot
# skip, an fdatasync before it acknowledges. It answers SMTP and IMAP at once from memory,
# but before the 250 to the end of DATA and before an APPEND's OK it writes 4 KiB to a file
# on the disk and fdatasyncs it. Then the same server without the flush: mailbench's own
# ceiling with this server. (shared/bench/nullserver.py has no flush to switch on, and as a
# single asyncio thread it is itself slower per round trip than this one, 1,290-1,400 SMTP
# msg/s here against 1,720-2,310, so the two figures would not differ by the flush alone.)
#
# Same parameters as smtp-compare.sh (1 KiB, one connection) and imap-compare.sh (APPEND of
# 10 KiB). Usage: bash Benchmarks/fsync-ceiling.sh [REPEAT] (default 3). Loopback only.
set -euo pipefail
REPEAT=${1:-3}
# shellcheck source=Benchmarks/lib.bash
source "$(dirname "${BASH_SOURCE[0]}")/lib.bash"

cat >"$TMP/server.py" <<'PY'
# server.py SMTPPORT IMAPPORT SYNCFILE|-: one thread per connection; only what mailbench sends.
import os, socket, sys, threading

smtp_port, imap_port = int(sys.argv[1]), int(sys.argv[2])
sync_file = None if sys.argv[3] == "-" else os.open(sys.argv[3], os.O_RDWR | os.O_CREAT, 0o600)
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

def listen(port):
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", port))
    listener.listen(64)
    return listener

def serve(listener, handler):
    while True:
        conn, _ = listener.accept()
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        threading.Thread(target=handler, args=(conn,), daemon=True).start()

# Both bound before either serves: the script waits for the SMTP port only.
imap_listener, smtp_listener = listen(imap_port), listen(smtp_port)
threading.Thread(target=serve, args=(imap_listener, imap), daemon=True).start()
serve(smtp_listener, smtp)
PY

measure() {  # measure LABEL SERVER-COMMAND...: the server listens on SMTP 3925 and IMAP 3943
    local label=$1
    shift
    "$@" >"$TMP/server.out" 2>&1 &
    PID=$!
    for _ in $(seq 1 50); do (exec 3<>/dev/tcp/127.0.0.1/3925) 2>/dev/null && break; sleep 0.1; done
    python3 "$BENCH/mailbench.py" smtp --port 3925 --rcpt ceiling@localhost -s 1024 -c 1 -m 2000 --repeat "$REPEAT" \
        --out "$TMP/smtp.json" >/dev/null 2>&1
    python3 "$BENCH/mailbench.py" imap --port 3943 --user ceiling --password ceiling --append 1000 --append-size 10240 \
        --repeat "$REPEAT" --out "$TMP/imap.json" >/dev/null 2>&1
    python3 - "$TMP/smtp.json" "$TMP/imap.json" "$label" <<'PY'
import json, sys
smtp = json.load(open(sys.argv[1]))["median"]
imap = json.load(open(sys.argv[2]))["median"]
print(sys.argv[3], json.dumps({"smtp_1k_c1_msgs_per_s": smtp["msgs_per_s"], "smtp_p50_ms": smtp["latency_ms"]["p50"],
                               "append_10k_msgs_per_s": imap["append_msgs_per_s"]}))
PY
    kill "$PID"
    wait "$PID" 2>/dev/null || true
    PID=""
}

measure ceiling-fdatasync python3 "$TMP/server.py" 3925 3943 "$TMP/sync"
measure ceiling-nothing python3 "$TMP/server.py" 3925 3943 -
