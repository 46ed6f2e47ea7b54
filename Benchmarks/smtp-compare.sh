#!/usr/bin/env bash
# SMTP throughput of Tern against Postfix + Dovecot, same harness, same parameters, same run
# (shared/bench/mailbench.py; peers from shared/bench/peers/peers.sh). Tern answers 250
# only once a message is stored durably in the mailbox; for Postfix the run includes the
# time until its queue has delivered everything into Dovecot (drain), the like-for-like
# figure.
#
# Usage: bash Benchmarks/smtp-compare.sh [REPEAT] (default 3), after
#   swift build -c release --product tern
#   bash ../shared/bench/peers/peers.sh install && bash ../shared/bench/peers/peers.sh start
# Prints one line per case with the median of REPEAT runs.
set -euo pipefail
REPEAT=${1:-3}
# shellcheck source=Benchmarks/lib.bash
source "$(dirname "${BASH_SOURCE[0]}")/lib.bash"

start_localserve

run() {  # run LABEL PORT RCPT DRAIN ARGS...
    local label=$1 port=$2 rcpt=$3 drain=$4; shift 4
    python3 "$BENCH/mailbench.py" smtp --port "$port" --rcpt "$rcpt" --repeat "$REPEAT" --label "$label" \
        ${drain:+--drain-cmd "$drain"} "$@" --out "$TMP/$label.json" >/dev/null
    python3 - "$TMP/$label.json" "$label" <<'PY'
import json, sys
median = json.load(open(sys.argv[1]))["median"]
latency = median.get("latency_ms", {})
summary = {k: median[k] for k in ("msgs_per_s", "mb_per_s", "drained_msgs_per_s", "ok", "errors") if k in median}
summary.update({"p50_ms": latency.get("p50"), "p99_ms": latency.get("p99")})
print(sys.argv[2], json.dumps(summary))
PY
}
DRAIN="bash $BENCH/peers/peers.sh wait-queue"
for case in "1k-c1:-s 1024 -c 1 -m 400" "1k-c8:-s 1024 -c 8 -m 100" "100k-c4:-s 102400 -c 4 -m 40"; do
    name=${case%%:*}; args=${case#*:}
    # shellcheck disable=SC2086
    run "tern-$name" 3025 someone@localhost "" $args
    # shellcheck disable=SC2086
    run "postfix-$name" 2525 bench@bench.test "$DRAIN" $args
done
python3 "$BENCH/mailbench.py" idle --proto smtp --port 3025 -c 500 --spread-src --pid "$PID" --label tern-idle-500 --out "$TMP/idle.json" >/dev/null
python3 -c "import json; r=json.load(open('$TMP/idle.json'))['runs'][0]; print('tern-idle-500', json.dumps({k: r[k] for k in ('connections_open', 'rss_per_conn_kb', 'pss_per_conn_kb')}))"
