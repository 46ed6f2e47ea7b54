#!/usr/bin/env bash
# Outbound queue figures: `tern serve` relays submitted mail to Postfix's smtp-sink through a
# relay transport and a route (tern.yaml's Queue section), so no DNS is involved.
#
# - Throughput: 100 messages of 1 KiB, each to 16 recipients in 16 domains (16 queue records
#   a message, 1,600 deliveries), submitted with mailbench (AUTH PLAIN on the loopback
#   submission port, 4 connections); deliveries/s from the first submission until smtp-sink
#   has counted all, with Queue Concurrency 1, 4 and 16 (destinations delivered at once).
# - Latency: with an empty queue, one message at a time; the time from the submission's 250
#   to smtp-sink counting it, median and worst of 20.
#
# Usage: bash Benchmarks/queue-sink.sh, after `swift build -c release --product tern`.
# Needs smtp-sink (Debian's postfix package).
set -euo pipefail
REPEAT=1
# shellcheck source=Benchmarks/lib.bash
source "$(dirname "${BASH_SOURCE[0]}")/lib.bash"
command -v smtp-sink >/dev/null || { echo "smtp-sink missing: apt-get install postfix" >&2; exit 1; }

start_localserve
kill "$PID"; wait "$PID" 2>/dev/null || true
PID=""
SINK_PORT=3700
SINK_PID=""
stop_sink() {
    if [ -n "$SINK_PID" ]; then kill "$SINK_PID" 2>/dev/null || true; wait "$SINK_PID" 2>/dev/null || true; fi
    SINK_PID=""
}
trap 'stop_sink; cleanup' EXIT

start_serve() {  # start_serve CONCURRENCY
    cp "$TMP/ls/tern.yaml" "$TMP/ls/serve.yaml"
    cat >>"$TMP/ls/serve.yaml" <<YAML
Queue:
  Concurrency: $1
  Transports:
    sink:
      Host: 127.0.0.1
      Port: $SINK_PORT
      TLS: Opportunistic
  Routes:
    - Transport: sink
YAML
    "$TERN" serve --config "$TMP/ls/serve.yaml" >"$TMP/serve.out" 2>"$TMP/serve.err" &
    PID=$!
    for _ in $(seq 1 100); do grep -q 'port=3587' "$TMP/serve.err" 2>/dev/null && return; sleep 0.1; done
    echo "tern serve did not start" >&2; tail "$TMP/serve.err" >&2; exit 1
}
stop_serve() { kill "$PID"; wait "$PID" 2>/dev/null || true; PID=""; }
start_sink() {
    stop_sink
    smtp-sink -u nobody -c "127.0.0.1:$SINK_PORT" 1000 >"$TMP/sink.out" 2>&1 &
    SINK_PID=$!
    sleep 0.3
}

for concurrency in 1 4 16; do
    start_sink
    start_serve "$concurrency"
    rcpts=()
    for domain in $(seq 1 16); do rcpts+=(--rcpt "user@d$domain.sink.test"); done
    python3 - "$TMP/sink.out" "$concurrency" "$BENCH/mailbench.py" "$PASSWORD" "${rcpts[@]}" <<'PY'
import re, subprocess, sys, time
sink, concurrency, mailbench, password, rcpts = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5:]
expected = 100 * 16
def delivered():
    counts = re.findall(rb"mesg=(\d+)", open(sink, "rb").read())
    return int(counts[-1]) if counts else 0
start = time.time()
subprocess.run([sys.executable, mailbench, "smtp", "--port", "3587", "--user", "tern@localhost", "--password", password,
                "--mail-from", "tern@localhost", "-s", "1024", "-c", "4", "-m", "25", "--out", "/dev/null", *rcpts], check=True, capture_output=True)
submitted = time.time()
while delivered() < expected and time.time() - start < 300:
    time.sleep(0.01)
done = time.time()
print(f"queue-c{concurrency}", {"deliveries": delivered(), "deliveries_per_s": round(delivered() / (done - start), 1),
      "submit_s": round(submitted - start, 2), "drain_after_submit_s": round(done - submitted, 2)})
PY
    stop_serve
done

start_sink
start_serve 8
python3 - "$TMP/sink.out" "$PASSWORD" <<'PY'
import re, smtplib, statistics, sys, time
sink, password = sys.argv[1], sys.argv[2]
def delivered():
    counts = re.findall(rb"mesg=(\d+)", open(sink, "rb").read())
    return int(counts[-1]) if counts else 0
client = smtplib.SMTP("127.0.0.1", 3587)
client.login("tern@localhost", password)
latencies = []
for index in range(20):
    before = delivered()
    client.sendmail("tern@localhost", ["user@latency.sink.test"], f"From: tern@localhost\r\nTo: user@latency.sink.test\r\nSubject: {index}\r\n\r\nlatency\r\n")
    acknowledged = time.time()
    while delivered() <= before and time.time() - acknowledged < 10:
        time.sleep(0.0005)
    latencies.append((time.time() - acknowledged) * 1000)
client.quit()
print("queue-latency", {"median_ms": round(statistics.median(latencies), 1), "max_ms": round(max(latencies), 1)})
PY
stop_serve
