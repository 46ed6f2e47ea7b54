#!/usr/bin/env bash
# Interop test: Tern's DNS client (`tern dns lookup`) against real DNS servers.
#
#   nsd      authoritative for tern.test. (signed here with ldns-signzone) and
#            plain.test. (unsigned), on 127.0.0.1:<free port>
#   unbound  validating resolver on 127.0.0.1:<free port>, stub zones pointing
#            at nsd, tern.test.'s DS as its only trust anchor, RFC 8914 EDE on,
#            everything else answered locally (local-zone "." static).
#
# Usage: TERN=/path/to/tern bash Interop/dnssec.sh
#   (TERN defaults to "$(swift build --show-bin-path)/tern" in the repo; nothing
#   is built here.) Needs root to apt-get install ldnsutils, nsd and unbound when
#   they are missing. Only loopback is used. Progress goes to stderr; the last
#   stdout line is `PASS dnssec (N checks)` or `FAIL dnssec: <first failure>`.
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$SCRIPT_DIR/.." && pwd)

NSD=/usr/sbin/nsd
NSD_CHECKCONF=/usr/sbin/nsd-checkconf
UNBOUND=/usr/sbin/unbound
UNBOUND_CHECKCONF=/usr/sbin/unbound-checkconf
LDNS_KEYGEN=/usr/bin/ldns-keygen
LDNS_SIGNZONE=/usr/bin/ldns-signzone
DRILL=/usr/bin/drill

START_TIME=$SECONDS
TMP=""
NSD_PID=""
UNBOUND_PID=""
CREATED_POLICY_RC=0
POLICY_RC_BACKUP=""
RESULT_PRINTED=0

log() { printf '[dnssec] %s\n' "$*" >&2; }

# The one result line; always the last thing written to stdout.
finish_fail() {
    if [ "$RESULT_PRINTED" = 0 ]; then
        RESULT_PRINTED=1
        echo "FAIL dnssec: $*"
    fi
    exit 1
}

descendants() { # PIDs of all descendants of PID (via /proc)
    local c
    for c in $(cat /proc/"$1"/task/*/children 2>/dev/null); do
        echo "$c"
        descendants "$c"
    done
}
alive() { # running, i.e. exists and is not a zombie
    local st
    st=$(sed -n 's/^.*) \([A-Z]\).*/\1/p' /proc/"$1"/stat 2>/dev/null) || return 1
    [ -n "$st" ] && [ "$st" != Z ] && [ "$st" != X ]
}
stop_pid() { # stop_pid PID NAME: TERM it, wait up to 5 s for it and its children, then KILL
    local pid=$1 name=$2 i p kids
    [ -n "$pid" ] || return 0
    kids=$(descendants "$pid")
    if alive "$pid"; then
        kill -TERM "$pid" 2>/dev/null || true
    fi
    for i in $(seq 1 50); do
        alive "$pid" && { sleep 0.1; continue; }
        for p in $kids; do
            alive "$p" && { sleep 0.1; continue 2; }
        done
        break
    done
    for p in "$pid" $kids; do
        if alive "$p"; then
            log "$name process $p did not stop on TERM, killing it"
            kill -KILL "$p" 2>/dev/null || true
        fi
    done
    wait "$pid" 2>/dev/null || true
}

# Keep Debian from starting the packaged nsd/unbound while installing: a
# temporary policy-rc.d that says "exit 101" (an existing one is put back after).
install_policy_rc() {
    if [ -e /usr/sbin/policy-rc.d ]; then
        POLICY_RC_BACKUP=$(mktemp /var/tmp/policy-rc.d.XXXXXX)
        cp -a /usr/sbin/policy-rc.d "$POLICY_RC_BACKUP"
    fi
    CREATED_POLICY_RC=1
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
    chmod 755 /usr/sbin/policy-rc.d
}
remove_policy_rc() {
    if [ "$CREATED_POLICY_RC" = 1 ]; then
        if [ -n "$POLICY_RC_BACKUP" ]; then
            mv -f "$POLICY_RC_BACKUP" /usr/sbin/policy-rc.d
            POLICY_RC_BACKUP=""
        else
            rm -f /usr/sbin/policy-rc.d
        fi
        CREATED_POLICY_RC=0
    fi
}

cleanup() {
    local rc=$?
    trap - ERR
    set +e
    stop_pid "$UNBOUND_PID" unbound
    stop_pid "$NSD_PID" nsd
    if [ -n "$TMP" ] && [ -d "$TMP" ]; then
        rm -rf "$TMP"
    fi
    remove_policy_rc
    if [ "$RESULT_PRINTED" = 0 ] && [ "$rc" != 0 ]; then
        RESULT_PRINTED=1
        echo "FAIL dnssec: aborted (exit $rc)"
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'finish_fail "internal error at line $LINENO: $BASH_COMMAND"' ERR

# --------------------------------------------------------------------------
# The tern binary
# --------------------------------------------------------------------------
if [ -z "${TERN:-}" ]; then
    if bin_path=$(cd "$ROOT" && timeout 60 swift build --show-bin-path 2>/dev/null) \
       && [ -n "$bin_path" ]; then
        TERN="$bin_path/tern"
    else
        TERN="$ROOT/.build/debug/tern"
        log "'swift build --show-bin-path' failed; trying $TERN"
    fi
fi
[ -x "$TERN" ] || finish_fail "tern binary not found or not executable: $TERN"
log "tern: $TERN"

TMP=$(mktemp -d /tmp/tern-dnssec.XXXXXX)
mkdir -p "$TMP/nsd" "$TMP/unbound" "$TMP/keys" "$TMP/out"

# --------------------------------------------------------------------------
# 1. Packages
# --------------------------------------------------------------------------
missing=()
{ [ -x "$LDNS_KEYGEN" ] && [ -x "$LDNS_SIGNZONE" ] && [ -x "$DRILL" ]; } || missing+=(ldnsutils)
{ [ -x "$NSD" ] && [ -x "$NSD_CHECKCONF" ]; } || missing+=(nsd)
{ [ -x "$UNBOUND" ] && [ -x "$UNBOUND_CHECKCONF" ]; } || missing+=(unbound)
if [ "${#missing[@]}" -gt 0 ]; then
    log "installing: ${missing[*]}"
    [ "$(id -u)" = 0 ] || finish_fail "packages missing (${missing[*]}) and not root to install them"
    install_policy_rc
    apt_log="$TMP/apt.log"
    export DEBIAN_FRONTEND=noninteractive
    if ! apt-get install -y -q "${missing[@]}" >"$apt_log" 2>&1; then
        log "install failed, running apt-get update and retrying"
        if ! { apt-get update -q >>"$apt_log" 2>&1 \
               && apt-get install -y -q "${missing[@]}" >>"$apt_log" 2>&1; }; then
            tail -n 20 "$apt_log" >&2
            finish_fail "apt-get install ${missing[*]} failed"
        fi
    fi
    remove_policy_rc
fi
for b in "$LDNS_KEYGEN" "$LDNS_SIGNZONE" "$DRILL" "$NSD" "$UNBOUND"; do
    [ -x "$b" ] || finish_fail "$b missing after install"
done
log "packages ready ($((SECONDS - START_TIME)) s)"

# --------------------------------------------------------------------------
# 2. Zones, keys, signing
# --------------------------------------------------------------------------
TLSA_HEX=$(printf 'tern dnssec interop' | sha256sum | cut -c1-64)
PAD=$(printf '%.0sabcdefghijklmnopqrstuvwxyz0123' {1..8}) # 256 chars
BIG_COUNT=12
BIG_STRINGS=()
for i in $(seq 1 "$BIG_COUNT"); do
    s=$(printf 'big-%02d-' "$i")
    BIG_STRINGS+=("$s${PAD:0:$((200 - ${#s}))}") # 200 bytes each
done

{
    printf 'tern.test.\t3600\tIN\tSOA\tns1.tern.test. hostmaster.tern.test. 2024010101 3600 900 604800 300\n'
    printf 'tern.test.\t3600\tIN\tNS\tns1.tern.test.\n'
    printf 'tern.test.\t3600\tIN\tA\t127.0.0.1\n'
    printf 'tern.test.\t3600\tIN\tMX\t10 mail.tern.test.\n'
    printf 'tern.test.\t3600\tIN\tTXT\t"v=spf1 -all"\n'
    printf 'ns1.tern.test.\t3600\tIN\tA\t127.0.0.1\n'
    printf 'mail.tern.test.\t3600\tIN\tA\t127.0.0.1\n'
    printf '_25._tcp.mail.tern.test.\t3600\tIN\tTLSA\t3 1 1 %s\n' "$TLSA_HEX"
    for s in "${BIG_STRINGS[@]}"; do
        printf 'big.tern.test.\t3600\tIN\tTXT\t"%s"\n' "$s"
    done
    printf 'bogus.tern.test.\t3600\tIN\tTXT\t"this rrset has a tampered signature"\n'
} > "$TMP/nsd/tern.test.zone"

{
    printf 'plain.test.\t3600\tIN\tSOA\tns1.plain.test. hostmaster.plain.test. 1 3600 900 604800 300\n'
    printf 'plain.test.\t3600\tIN\tNS\tns1.plain.test.\n'
    printf 'ns1.plain.test.\t3600\tIN\tA\t127.0.0.1\n'
    printf 'www.plain.test.\t3600\tIN\tA\t127.0.0.2\n'
} > "$TMP/nsd/plain.test.zone"

# One key with the SEP bit (a CSK): signs everything, its DS is the anchor.
KEY_BASE=$(cd "$TMP/keys" && "$LDNS_KEYGEN" -a ECDSAP256SHA256 -k tern.test)
[ -f "$TMP/keys/$KEY_BASE.ds" ] || finish_fail "ldns-keygen made no DS ($KEY_BASE)"
(cd "$TMP/nsd" && "$LDNS_SIGNZONE" -o tern.test. tern.test.zone "$TMP/keys/$KEY_BASE") \
    || finish_fail "ldns-signzone failed"
SIGNED="$TMP/nsd/tern.test.zone.signed"

# Tamper with the RRSIG over bogus.tern.test./TXT: flip one base64 character
# in the middle of the signature (same length, still valid base64).
awk 'BEGIN { FS = "[ \t]+"; OFS = "\t"; n = 0 }
     tolower($1) == "bogus.tern.test." && toupper($4) == "RRSIG" && toupper($5) == "TXT" {
         sig = $NF; c = substr(sig, 20, 1); r = (c == "A") ? "B" : "A"
         $NF = substr(sig, 1, 19) r substr(sig, 21); n++
     }
     { print }
     END { if (n != 1) exit 3 }' "$SIGNED" > "$SIGNED.tmp" \
    || finish_fail "could not find exactly one RRSIG for bogus.tern.test. TXT in the signed zone"
mv "$SIGNED.tmp" "$SIGNED"
log "zone signed with $KEY_BASE; DS: $(cut -f4- "$TMP/keys/$KEY_BASE.ds" | tr '\t' ' ')"

# --------------------------------------------------------------------------
# Ports and daemons
# --------------------------------------------------------------------------
USED_PORTS=" "
port_in_use() { # any local TCP or UDP socket (v4 or v6) on that port?
    local hex
    hex=$(printf '%04X' "$1")
    awk -v h="$hex" 'FNR > 1 { n = split($2, a, ":"); if (toupper(a[n]) == h) f = 1 }
                     END { exit f ? 0 : 1 }' \
        /proc/net/tcp /proc/net/tcp6 /proc/net/udp /proc/net/udp6 2>/dev/null
}
pick_port() { # pick_port VAR: a free port below the ephemeral range, not used before
    local p i
    for i in $(seq 1 200); do
        p=$((20000 + RANDOM % 12000))
        case "$USED_PORTS" in *" $p "*) continue ;; esac
        if ! port_in_use "$p"; then
            USED_PORTS="$USED_PORTS$p "
            printf -v "$1" '%s' "$p"
            return 0
        fi
    done
    return 1
}

# drill_query PORT TCP(0/1) NAME TYPE -> output of drill (DO bit set), 3 s max
drill_query() {
    local port=$1 tcp=$2 name=$3 type=$4 opt=-u
    [ "$tcp" = 1 ] && opt=-t
    timeout 3 "$DRILL" -D "$opt" -p "$port" "$name" @127.0.0.1 "$type" 2>&1 || true
}
drill_flags() { sed -n 's/^;; flags: \([^;]*\);.*/\1/p;T;q'; }
drill_rcode() { sed -n 's/.*rcode: \([A-Z]*\).*/\1/p;T;q'; }

# wait_dns PORT NAME TYPE PID DEADLINE -> 0 once PORT answers NOERROR over UDP and TCP
wait_dns() {
    local port=$1 name=$2 type=$3 pid=$4 deadline=$5
    while [ "$SECONDS" -lt "$deadline" ]; do
        kill -0 "$pid" 2>/dev/null || return 2
        # TCP first: a closed TCP port is refused at once, while a UDP query
        # to a port not yet bound would sit out drill's timeout.
        if [ "$(drill_query "$port" 1 "$name" "$type" | drill_rcode)" = NOERROR ] \
           && [ "$(drill_query "$port" 0 "$name" "$type" | drill_rcode)" = NOERROR ]; then
            return 0
        fi
        sleep 0.2
    done
    return 1
}

start_nsd() {
    local attempt rc
    for attempt in 1 2 3; do
        pick_port NSD_PORT || finish_fail "no free port for nsd"
        cat > "$TMP/nsd/nsd.conf" <<EOF
server:
    ip-address: 127.0.0.1
    port: $NSD_PORT
    do-ip4: yes
    do-ip6: no
    reuseport: no
    server-count: 1
    username: ""
    chroot: ""
    zonesdir: "$TMP/nsd"
    database: ""
    zonelistfile: "$TMP/nsd/zone.list"
    xfrdfile: "$TMP/nsd/xfrd.state"
    xfrdir: "$TMP/nsd"
    pidfile: "$TMP/nsd/nsd.pid"
    logfile: "$TMP/nsd/nsd.log"
    verbosity: 1
    hide-version: yes
    refuse-any: no
remote-control:
    control-enable: no
zone:
    name: "tern.test"
    zonefile: "tern.test.zone.signed"
zone:
    name: "plain.test"
    zonefile: "plain.test.zone"
EOF
        "$NSD_CHECKCONF" "$TMP/nsd/nsd.conf" >&2 || finish_fail "nsd-checkconf rejected the config"
        "$NSD" -d -c "$TMP/nsd/nsd.conf" >>"$TMP/nsd/nsd.out" 2>&1 &
        NSD_PID=$!
        rc=0
        wait_dns "$NSD_PORT" tern.test. SOA "$NSD_PID" $((SECONDS + 15)) || rc=$?
        if [ "$rc" = 0 ]; then
            log "nsd up: pid $NSD_PID, 127.0.0.1:$NSD_PORT"
            return 0
        fi
        log "nsd did not come up on port $NSD_PORT (attempt $attempt):"
        tail -n 5 "$TMP/nsd/nsd.out" "$TMP/nsd/nsd.log" >&2 2>/dev/null || true
        stop_pid "$NSD_PID" nsd
        NSD_PID=""
        [ "$rc" = 2 ] || break # still running but not answering: do not retry
    done
    finish_fail "nsd did not start"
}

start_unbound() {
    local attempt rc
    for attempt in 1 2 3; do
        pick_port UNBOUND_PORT || finish_fail "no free port for unbound"
        cat > "$TMP/unbound/unbound.conf" <<EOF
server:
    interface: 127.0.0.1
    port: $UNBOUND_PORT
    outgoing-interface: 127.0.0.1
    do-ip4: yes
    do-ip6: no
    do-udp: yes
    do-tcp: yes
    so-reuseport: no
    num-threads: 1
    access-control: 127.0.0.0/8 allow
    username: ""
    chroot: ""
    directory: "$TMP/unbound"
    pidfile: "$TMP/unbound/unbound.pid"
    use-syslog: no
    logfile: ""
    verbosity: 1
    val-log-level: 2
    log-servfail: yes
    # Nothing from the internet: no root anchor, everything outside the two
    # test zones is answered locally. "test." is one of unbound's default
    # static zones, so the two stubs need their own transparent local zones.
    local-zone: "." static
    local-zone: "test." nodefault
    local-zone: "tern.test." transparent
    local-zone: "plain.test." transparent
    do-not-query-localhost: no
    module-config: "validator iterator"
    trust-anchor-file: "$TMP/keys/$KEY_BASE.ds"
    val-permissive-mode: no
    trust-anchor-signaling: no
    root-key-sentinel: no
    harden-dnssec-stripped: yes
    ede: yes
    edns-buffer-size: 1232
    max-udp-size: 1232
    prefetch: no
    qname-minimisation: no
remote-control:
    control-enable: no
stub-zone:
    name: "tern.test."
    stub-addr: 127.0.0.1@$NSD_PORT
stub-zone:
    name: "plain.test."
    stub-addr: 127.0.0.1@$NSD_PORT
EOF
        "$UNBOUND_CHECKCONF" "$TMP/unbound/unbound.conf" >&2 \
            || finish_fail "unbound-checkconf rejected the config"
        "$UNBOUND" -d -c "$TMP/unbound/unbound.conf" >>"$TMP/unbound/unbound.out" 2>&1 &
        UNBOUND_PID=$!
        rc=0
        wait_dns "$UNBOUND_PORT" tern.test. SOA "$UNBOUND_PID" $((SECONDS + 15)) || rc=$?
        if [ "$rc" = 0 ]; then
            log "unbound up: pid $UNBOUND_PID, 127.0.0.1:$UNBOUND_PORT"
            return 0
        fi
        log "unbound did not come up on port $UNBOUND_PORT (attempt $attempt):"
        tail -n 10 "$TMP/unbound/unbound.out" >&2 || true
        stop_pid "$UNBOUND_PID" unbound
        UNBOUND_PID=""
        [ "$rc" = 2 ] || break
    done
    finish_fail "unbound did not start"
}

start_nsd
start_unbound

# Sanity of the peers themselves (not counted as checks): if these fail, the
# setup is wrong, not Tern.
peer_check() { # peer_check DESCRIPTION NAME TYPE WANT_RCODE WANT_AD(yes/no/any)
    local out rcode flags
    out=$(drill_query "$UNBOUND_PORT" 1 "$2" "$3")
    rcode=$(printf '%s\n' "$out" | drill_rcode)
    flags=" $(printf '%s\n' "$out" | drill_flags) "
    if [ "$rcode" != "$4" ] \
       || { [ "$5" = yes ] && [[ "$flags" != *" ad "* ]]; } \
       || { [ "$5" = no ] && [[ "$flags" == *" ad "* ]]; }; then
        printf '%s\n' "$out" >&2
        tail -n 20 "$TMP/unbound/unbound.out" >&2 || true
        finish_fail "peer setup: unbound answered $2 $3 with rcode=$rcode flags=[$flags], wanted $4 ad=$5 ($1)"
    fi
}
peer_check "signed zone validates" mail.tern.test. A NOERROR yes
peer_check "unsigned zone is insecure" www.plain.test. A NOERROR no
peer_check "tampered RRSIG is bogus" bogus.tern.test. TXT SERVFAIL any
peer_check "missing name is NXDOMAIN" nonexistent.tern.test. A NXDOMAIN any
log "peers ready and behaving ($((SECONDS - START_TIME)) s)"

# --------------------------------------------------------------------------
# 3. Checks against tern
# --------------------------------------------------------------------------
CHECKS=0
FIRST_FAIL=""
CUR=""
CUR_OK=1
OUT="$TMP/out/stdout"
ERR="$TMP/out/stderr"
RC=0

check_begin() { CUR=$1; CUR_OK=1; CHECKS=$((CHECKS + 1)); log "check: $CUR"; }

bad() { # bad WHAT EXPECTED
    if [ "$CUR_OK" = 1 ]; then
        CUR_OK=0
        [ -n "$FIRST_FAIL" ] || FIRST_FAIL="$CUR: $1"
        {
            echo "---- FAILED: $CUR"
            echo "  problem:  $1"
            echo "  expected: $2"
            echo "  exit code: $RC"
            echo "  stdout:"; sed 's/^/    | /' "$OUT"
            echo "  stderr:"
            if [ "$(wc -l <"$ERR")" -le 60 ]; then
                sed 's/^/    | /' "$ERR"
            else
                head -n 30 "$ERR" | sed 's/^/    | /'
                echo "    | ..."
                tail -n 30 "$ERR" | sed 's/^/    | /'
            fi
            echo "----"
        } >&2
    fi
}

run_tern() { # run_tern ARGS... -> $RC, $OUT, $ERR
    RC=0
    timeout 20 "$TERN" "$@" >"$OUT" 2>"$ERR" </dev/null || RC=$?
    if [ "$RC" = 124 ]; then
        echo "(timed out after 20 s)" >>"$ERR"
    fi
}

lookup() { run_tern dns lookup --resolver "127.0.0.1:$UNBOUND_PORT" "$@"; }

expect_rc() {
    [ "$RC" = "$1" ] || bad "exit code $RC" "exit code $1"
}

expect_authentic() { # yes|no
    local first
    first=$(head -n 1 "$OUT")
    [ "$first" = "authentic: $1" ] || bad "first stdout line is '$first'" "first stdout line 'authentic: $1'"
}

# Record lines: OWNER<TAB>TTL<TAB>IN<TAB>TYPE<TAB>RDATA (lines 2..). Compared
# case-insensitively; RDATA with all whitespace removed (dig-style hex
# splitting or spacing differences do not matter).
# count_records OWNER TYPE [RDATA_EQUALS|~RDATA_CONTAINS]
count_records() {
    local want=${3:-}
    local mode=any
    if [ -n "$want" ]; then
        if [ "${want:0:1}" = "~" ]; then mode=contains; want=${want:1}; else mode=equals; fi
    fi
    tail -n +2 "$OUT" | awk -F'\t' -v owner="$1" -v type="$2" -v want="$want" -v mode="$mode" '
        function norm(s) { s = tolower(s); gsub(/[ \t]/, "", s); return s }
        NF == 5 && tolower($1) == tolower(owner) && $2 ~ /^[0-9]+$/ && toupper($3) == "IN" \
            && toupper($4) == toupper(type) {
            if (mode == "any" || (mode == "equals" && norm($5) == norm(want)) \
                || (mode == "contains" && index(norm($5), norm(want)) > 0)) n++
        }
        END { print n + 0 }'
}

expect_record() { # OWNER TYPE RDATA-spec (see count_records)
    local n
    n=$(count_records "$@")
    [ "$n" -ge 1 ] || bad "no '$1 $2' record with RDATA ${3}" \
        "a line '$1<TAB>TTL<TAB>IN<TAB>$2<TAB>$3'"
}

expect_stderr() { # SUBSTRING (case-sensitive)
    grep -qF -- "$1" "$ERR" || bad "stderr lacks '$1'" "stderr containing '$1'"
}

check_end() { if [ "$CUR_OK" = 1 ]; then log "  ok"; fi; }

# a. Signed data: authentic, right RDATA.
check_begin "A mail.tern.test"
lookup A mail.tern.test
expect_rc 0; expect_authentic yes; expect_record mail.tern.test. A 127.0.0.1
check_end

check_begin "MX tern.test"
lookup MX tern.test
expect_rc 0; expect_authentic yes; expect_record tern.test. MX "10 mail.tern.test."
check_end

check_begin "TXT tern.test"
lookup TXT tern.test
expect_rc 0; expect_authentic yes; expect_record tern.test. TXT '~v=spf1 -all'
check_end

check_begin "TLSA _25._tcp.mail.tern.test"
lookup TLSA _25._tcp.mail.tern.test
expect_rc 0; expect_authentic yes; expect_record _25._tcp.mail.tern.test. TLSA "3 1 1 $TLSA_HEX"
check_end

# b. Unsigned zone: answered, not authentic.
check_begin "A www.plain.test (insecure)"
lookup A www.plain.test
expect_rc 0; expect_authentic no; expect_record www.plain.test. A 127.0.0.2
check_end

# c. Tampered signature: SERVFAIL with RFC 8914 EDE 6 (DNSSEC Bogus).
check_begin "TXT bogus.tern.test (bogus)"
lookup TXT bogus.tern.test
expect_rc 1; expect_stderr SERVFAIL; expect_stderr "extended error 6"
check_end

# d. Truncated over UDP: the resolver retries over TCP and gets everything.
check_begin "TXT big.tern.test (truncated, retried over TCP)"
run_tern dns lookup --log-level dns=debug --resolver "127.0.0.1:$UNBOUND_PORT" TXT big.tern.test
expect_rc 0; expect_authentic yes
n=$(count_records big.tern.test. TXT)
[ "$n" = "$BIG_COUNT" ] || bad "$n TXT records for big.tern.test." "$BIG_COUNT TXT records"
for s in "${BIG_STRINGS[@]}"; do
    expect_record big.tern.test. TXT "~$s"
done
expect_stderr "retrying over tcp"
check_end

check_begin "--tcp TXT tern.test"
run_tern dns lookup --tcp --resolver "127.0.0.1:$UNBOUND_PORT" TXT tern.test
expect_rc 0; expect_authentic yes; expect_record tern.test. TXT '~v=spf1 -all'
check_end

# e. Name that does not exist.
check_begin "A nonexistent.tern.test (NXDOMAIN)"
lookup A nonexistent.tern.test
expect_rc 1; expect_stderr NXDOMAIN
check_end

log "done in $((SECONDS - START_TIME)) s"
if [ -n "$FIRST_FAIL" ]; then
    finish_fail "$FIRST_FAIL"
fi
RESULT_PRINTED=1
echo "PASS dnssec ($CHECKS checks)"
