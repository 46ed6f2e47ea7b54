#!/usr/bin/env bash
# IMAP figures of Tern against Dovecot, same harness, same parameters, same run
# (shared/bench/mailbench.py; peers from shared/bench/peers/peers.sh): both INBOXes get the
# same 2,000 messages of 10 KiB over SMTP, then FETCH 1:* (UID FLAGS RFC822.SIZE ENVELOPE),
# FETCH 1:* BODY.PEEK[], UID SEARCH HEADER, STORE +FLAGS/-FLAGS on 1:*, 200 APPENDs of
# 10 KiB, and memory per connection with 500 connections in IDLE.
#
# Usage: bash Benchmarks/imap-compare.sh [REPEAT] (default 3), after
#   swift build -c release --product tern
#   bash ../shared/bench/peers/peers.sh install && bash ../shared/bench/peers/peers.sh start
set -euo pipefail
REPEAT=${1:-3}
# shellcheck source=Benchmarks/lib.bash
source "$(dirname "${BASH_SOURCE[0]}")/lib.bash"

# localserve writes the configuration; `tern serve` then runs it with room for 500 IMAP
# sessions of the one account (the default limit is 50 per account).
start_localserve
kill "$PID"; wait "$PID" 2>/dev/null || true
printf 'Limits:\n  ConnectionsPerAccount: 1000\n  ConnectionsPerIP: 1000\n' >>"$TMP/ls/tern.yaml"
"$TERN" serve --config "$TMP/ls/tern.yaml" >"$TMP/out" 2>"$TMP/err" &
PID=$!
for _ in $(seq 1 100); do grep -q 'port=3143' "$TMP/err" 2>/dev/null && break; sleep 0.1; done

fill() {  # fill SMTPPORT RCPT: 2,000 messages of 10 KiB
    python3 "$BENCH/mailbench.py" smtp --port "$1" --rcpt "$2" -s 10240 -c 4 -m 500 --out "$TMP/fill.json" >/dev/null 2>&1
}
# Dovecot starts from an empty mailbox too (`peers.sh reset` empties it).
bash "$BENCH/peers/peers.sh" reset >/dev/null
bash "$BENCH/peers/peers.sh" start >/dev/null 2>&1 || true
fill 3025 tern@localhost
fill 2525 bench@bench.test
bash "$BENCH/peers/peers.sh" wait-queue >/dev/null

summary() {  # summary LABEL JSON
    python3 - "$2" "$1" <<'PY'
import json, sys
data = json.load(open(sys.argv[1]))
median = data.get("median", data)
flat = {}
for key, value in median.items():
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        flat[key] = value
    elif isinstance(value, dict):
        for inner, number in value.items():
            if isinstance(number, (int, float)) and not isinstance(number, bool) and inner in ("ms", "p50", "msgs_per_s", "mb_per_s", "count"):
                flat[f"{key}.{inner}"] = number
print(sys.argv[2], json.dumps(flat))
PY
}
python3 "$BENCH/mailbench.py" imap --port 3143 --user tern@localhost --password "$PASSWORD" --append 200 --append-size 10240 \
    --repeat "$REPEAT" --out "$TMP/tern.json" >/dev/null
summary tern-imap "$TMP/tern.json"
python3 "$BENCH/mailbench.py" imap --port 2143 --user bench@bench.test --password benchpass --append 200 --append-size 10240 \
    --repeat "$REPEAT" --out "$TMP/dovecot.json" >/dev/null
summary dovecot-imap "$TMP/dovecot.json"
python3 "$BENCH/mailbench.py" idle --proto imap --port 3143 --user tern@localhost --password "$PASSWORD" -c 500 --spread-src \
    --pid "$PID" --out "$TMP/idle.json" >/dev/null
python3 -c "import json; r=json.load(open('$TMP/idle.json'))['runs'][0]; print('tern-imap-idle-500', json.dumps({k: r[k] for k in ('connections_open', 'rss_per_conn_kb', 'pss_per_conn_kb')}))"
