#!/usr/bin/env bash
# Interop test: Tern's DNS client (`tern dns lookup`, `tern dmarc lookup`) against real DNS
# servers.
#
#   nsd      authoritative for tern.test. (signed here with ldns-signzone) and
#            plain.test. (unsigned), on 127.0.0.1:<free port>
#   unbound  validating resolver on 127.0.0.1:<free port>, stub zones pointing
#            at nsd, tern.test.'s DS as its only trust anchor, RFC 8914 EDE on,
#            everything else answered locally (local-zone "." static).
# (Both set up by the DNSSEC helpers of lib.bash, which dane.sh shares.)
#
# Usage: TERN=/path/to/tern bash Interop/dnssec.sh
#   (TERN defaults to "$(swift build --show-bin-path)/tern" in the repo; nothing
#   is built here.) Needs root to apt-get install ldnsutils, nsd and unbound when
#   they are missing. Only loopback is used. Progress goes to stderr; the last
#   stdout line is `PASS dnssec (N checks)` or `FAIL dnssec: <first failure>`.
set -euo pipefail
NAME=dnssec
# shellcheck source=Interop/lib.bash
source "$(dirname "${BASH_SOURCE[0]}")/lib.bash"

START_TIME=$SECONDS
TMP=""
NSD_PID=""
UNBOUND_PID=""

cleanup() {
    local rc=$?
    trap - ERR
    set +e
    stop_pid "$UNBOUND_PID" unbound
    stop_pid "$NSD_PID" nsd
    if [ -n "$TMP" ] && [ -d "$TMP" ]; then
        rm -rf "$TMP"
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

[ -x "$TERN" ] || fail "tern binary not found or not executable: $TERN"
log "tern: $TERN"

TMP=$(mktemp -d /tmp/tern-dnssec.XXXXXX)
mkdir -p "$TMP/dns" "$TMP/unbound" "$TMP/out"

# --------------------------------------------------------------------------
# 1. Packages
# --------------------------------------------------------------------------
dnssec_install
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
    printf '_dmarc.tern.test.\t3600\tIN\tTXT\t"v=DMARC1; p=reject; sp=quarantine; " "rua=mailto:dmarc@tern.test!10m"\n'
} > "$TMP/dns/tern.test.zone"

{
    printf 'plain.test.\t3600\tIN\tSOA\tns1.plain.test. hostmaster.plain.test. 1 3600 900 604800 300\n'
    printf 'plain.test.\t3600\tIN\tNS\tns1.plain.test.\n'
    printf 'ns1.plain.test.\t3600\tIN\tA\t127.0.0.1\n'
    printf 'www.plain.test.\t3600\tIN\tA\t127.0.0.2\n'
    printf '_dmarc.plain.test.\t3600\tIN\tTXT\t"v=DMARC1; p=none"\n'
} > "$TMP/dns/plain.test.zone"

dnssec_sign_zone "$TMP/dns" tern.test
dnssec_tamper_rrsig "$TMP/dns/tern.test.zone.signed" bogus.tern.test. TXT
log "zone signed; DS: $(cut -f4- "$TMP/dns/tern.test.ds" | tr '\t' ' ')"

# --------------------------------------------------------------------------
# Daemons
# --------------------------------------------------------------------------
nsd_start "$TMP/dns" tern.test tern.test.zone.signed plain.test plain.test.zone
unbound_start "$TMP/unbound" "$NSD_PORT" "$TMP/dns/tern.test.ds" tern.test plain.test

# Sanity of the peers themselves (not counted as checks): if these fail, the
# setup is wrong, not Tern.
dns_peer_check "signed zone validates" mail.tern.test. A NOERROR yes
dns_peer_check "unsigned zone is insecure" www.plain.test. A NOERROR no
dns_peer_check "tampered RRSIG is bogus" bogus.tern.test. TXT SERVFAIL any
dns_peer_check "missing name is NXDOMAIN" nonexistent.tern.test. A NXDOMAIN any
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

# f. DMARC policy discovery (RFC 7489 §6.6.3) through the validating resolver: the
#    organizational domain's record after an NSEC-proven NXDOMAIN at the subdomain is
#    authentic; the same in the unsigned zone is not.
expect_stdout_line() { # LINE (exact)
    grep -qxF -- "$1" "$OUT" || bad "stdout lacks the line '$1'" "a stdout line '$1'"
}
check_begin "dmarc lookup mail.tern.test (signed, organizational domain's record)"
run_tern dmarc lookup --resolver "127.0.0.1:$UNBOUND_PORT" mail.tern.test
expect_rc 0
expect_stdout_line "record at: _dmarc.tern.test (the organizational domain's, none at the domain)"
expect_stdout_line "authentic: yes"
expect_stdout_line "rua: mailto:dmarc@tern.test (at most 10485760 bytes)"
expect_stdout_line "policy for mail.tern.test: quarantine (sp)"
check_end

check_begin "dmarc lookup www.plain.test (insecure)"
run_tern dmarc lookup --resolver "127.0.0.1:$UNBOUND_PORT" www.plain.test
expect_rc 0
expect_stdout_line "authentic: no"
expect_stdout_line "policy for www.plain.test: none (sp)"
check_end

check_begin "dmarc lookup nonexistent.test (no record)"
run_tern dmarc lookup --resolver "127.0.0.1:$UNBOUND_PORT" nonexistent.test
expect_rc 1; expect_stderr "no DMARC record at _dmarc.nonexistent.test"
check_end

log "done in $((SECONDS - START_TIME)) s"
if [ -n "$FIRST_FAIL" ]; then
    fail "$FIRST_FAIL"
fi
succeed
