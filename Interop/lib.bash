# Shared by the interop scripts: sourced after NAME is set. Loopback only.
#   log MESSAGE, fail REASON (prints the result line and exits 1), pass WHAT (counts a check),
#   port_used PORT, pick_base_port (sets BASE so that BASE+25, BASE+587, BASE+465 and BASE+10
#   are free), TERN (defaults to the debug build).
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TERN=${TERN:-$(cd "$ROOT" && swift build --show-bin-path 2>/dev/null || echo "$ROOT/.build/debug")/tern}
CHECKS=0
log() { printf '[%s] %s\n' "$NAME" "$*" >&2; }
fail() { echo "FAIL $NAME: $*"; exit 1; }
pass() { CHECKS=$((CHECKS + 1)); log "ok: $*"; }
port_used() { grep -qi ":$(printf '%04X' "$1") " /proc/net/tcp /proc/net/tcp6 2>/dev/null; }
pick_base_port() {
    for _ in $(seq 1 20); do
        BASE=$((20000 + RANDOM % 9000))
        port_used $((BASE + 25)) || port_used $((BASE + 587)) || port_used $((BASE + 465)) || port_used $((BASE + 10)) \
            || port_used $((BASE + 26)) || return 0
    done
    fail "no free ports found"
}
