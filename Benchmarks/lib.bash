# Shared by the comparison scripts: sourced after `set -euo pipefail`, with REPEAT from $1.
# Sets ROOT, BENCH (shared/bench), TERN (the release build), TMP (removed on exit) and an
# exit trap that stops the server whose PID is in PID.
#   start_localserve: `tern localserve` on base port 3000 in $TMP/ls; sets PID and PASSWORD.
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH=${BENCH:-$ROOT/../shared/bench}
TERN=${TERN:-$ROOT/.build/release/tern}
TMP=$(mktemp -d)
PID=""
cleanup() { [ -n "$PID" ] && kill "$PID" 2>/dev/null; rm -rf "$TMP"; }
trap cleanup EXIT

start_localserve() {
    "$TERN" localserve --dir "$TMP/ls" --base-port 3000 >"$TMP/out" 2>"$TMP/err" &
    PID=$!
    for _ in $(seq 1 100); do grep -q '^password:' "$TMP/out" 2>/dev/null && break; sleep 0.1; done
    PASSWORD=$(awk '/^password:/ {print $2}' "$TMP/out")
}
