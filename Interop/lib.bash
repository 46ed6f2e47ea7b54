# Shared by the interop scripts: sourced after NAME is set. Loopback only.
#   log MESSAGE, fail REASON (prints the result line and exits 1), pass WHAT (counts a check),
#   succeed [SUMMARY] (prints the PASS result line),
#   port_used PORT, port_listening PORT, pick_base_port (sets BASE so that BASE+25, BASE+587, BASE+465 and BASE+10
#   are free), TERN (defaults to the debug build).
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TERN=${TERN:-$(cd "$ROOT" && swift build --show-bin-path 2>/dev/null || echo "$ROOT/.build/debug")/tern}
CHECKS=0
log() { printf '[%s] %s\n' "$NAME" "$*" >&2; }
fail() { trap - ERR; echo "FAIL $NAME: $*"; exit 1; }
# succeed [SUMMARY]: prints the PASS result line, "(N checks)" unless given a summary.
succeed() { trap - ERR; echo "PASS $NAME (${1:-$CHECKS checks})"; }
# A command that fails outside a check would end the script through `set -e` with no result
# line (and no reason). The trap names it instead. errtrace carries it into functions; in
# subshells and command substitutions it stays quiet, since their failure reaches the shell
# that runs them, and a substitution's output may be a value (`x=$(...) || true`).
set -o errtrace
trap '[ "$BASH_SUBSHELL" = 0 ] && fail "internal error at line $LINENO: $BASH_COMMAND"' ERR
pass() { CHECKS=$((CHECKS + 1)); log "ok: $*"; }
port_used() { grep -qi ":$(printf '%04X' "$1") " /proc/net/tcp /proc/net/tcp6 2>/dev/null; }
# port_listening PORT: something listens on PORT (state 0A), unlike port_used, which also sees
# the TIME_WAIT entries a server leaves behind for a while after closing connections.
port_listening() { grep -qi ":$(printf '%04X' "$1") [0-9A-F]*:0000 0A " /proc/net/tcp /proc/net/tcp6 2>/dev/null; }
udp_port_used() { grep -qi ":$(printf '%04X' "$1") " /proc/net/udp /proc/net/udp6 2>/dev/null; }
# free_port NAME...: sets each variable NAME to a loopback port in 20000-39999 that is free
# for TCP and UDP (a DNS server needs both), none handed out twice in this run (a variable,
# not $(...): a subshell could not remember).
free_port() {
    local name port
    for name in "$@"; do
        for _ in $(seq 1 50); do
            port=$((20000 + RANDOM % 20000))
            port_used "$port" || udp_port_used "$port" || [[ " ${USED_PORTS:-} " == *" $port "* ]] || break
            port=""
        done
        [ -n "$port" ] || fail "no free port"
        USED_PORTS="${USED_PORTS:-} $port"
        printf -v "$name" '%s' "$port"
    done
}

pick_base_port() {
    for _ in $(seq 1 20); do
        BASE=$((20000 + RANDOM % 9000))
        port_used $((BASE + 25)) || port_used $((BASE + 587)) || port_used $((BASE + 465)) || port_used $((BASE + 10)) \
            || port_used $((BASE + 26)) || return 0
    done
    fail "no free ports found"
}
# start_localserve DIR: starts `tern localserve --dir DIR` on free ports and waits for it. Sets
# BASE, IMAP (BASE+143, plaintext login allowed on loopback), IMAPS (BASE+993, self-signed),
# SMTP (BASE+25), PASSWORD (of tern@localhost) and LOCALSERVE_PID; stdout and stderr go to
# DIR.out and DIR.err. The caller's exit trap stops it by that PID.
start_localserve() {
    local dir=$1
    for _ in $(seq 1 20); do
        pick_base_port
        port_used $((BASE + 143)) || port_used $((BASE + 993)) || break
    done
    IMAP=$((BASE + 143)); IMAPS=$((BASE + 993)); SMTP=$((BASE + 25))
    "$TERN" localserve --dir "$dir" --base-port "$BASE" >"$dir.out" 2>"$dir.err" &
    LOCALSERVE_PID=$!
    for _ in $(seq 1 100); do grep -q '^password:' "$dir.out" 2>/dev/null && break; sleep 0.2; done
    grep -q '^password:' "$dir.out" || { tail -20 "$dir.err" >&2; fail "localserve did not start"; }
    PASSWORD=$(awk '/^password:/ {print $2}' "$dir.out")
    for _ in $(seq 1 50); do port_used "$IMAP" && port_used "$IMAPS" && port_used "$SMTP" && break; sleep 0.2; done
    port_used "$IMAP" && port_used "$IMAPS" || fail "nothing listens on the IMAP ports $IMAP, $IMAPS"
}
# apt_install COMMAND PACKAGE...: installs the Debian packages unless COMMAND exists, keeping
# Debian from starting services meanwhile (INTEROP.md).
apt_install() {
    local command=$1; shift
    command -v "$command" >/dev/null && return 0
    apt_install_packages "$@"
}
# apt_install_python MODULE PACKAGE...: installs the Debian packages unless Debian's own python3
# (/usr/bin/python3, which Debian's python3-* packages install for; a python3 earlier in PATH
# may be another one) can import MODULE.
apt_install_python() {
    local module=$1; shift
    /usr/bin/python3 -c "import $module" 2>/dev/null && return 0
    apt_install_packages "$@"
}
# apt_install_packages PACKAGE...: the installation itself.
apt_install_packages() {
    log "installing $*"
    local policy_created=0
    if [ ! -e /usr/sbin/policy-rc.d ]; then printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d; chmod 755 /usr/sbin/policy-rc.d; policy_created=1; fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$@" >/dev/null 2>&1 \
        || { apt-get update -q >/dev/null 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$@" >/dev/null 2>&1; } \
        || { [ "$policy_created" = 1 ] && rm -f /usr/sbin/policy-rc.d; fail "apt-get install $* failed"; }
    [ "$policy_created" = 1 ] && rm -f /usr/sbin/policy-rc.d
    return 0
}
# stop_cleanly PID ERRFILE: SIGTERM must end the server within 10 s with exit status 0
# (graceful shutdown); counts one check. The caller clears its PID variable afterwards.
stop_cleanly() {
    local pid=$1 err=$2 status
    log "check: SIGTERM stops the server cleanly"
    kill -TERM "$pid"
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    if kill -0 "$pid" 2>/dev/null; then fail "server still running 10 s after SIGTERM"; fi
    wait "$pid" && status=0 || status=$?
    [ "$status" -eq 0 ] || { tail -5 "$err" >&2; fail "server exited with $status after SIGTERM"; }
    CHECKS=$((CHECKS + 1))
}

# wait_for SECONDS COMMAND...: polls every 0.2 s until COMMAND succeeds; false after SECONDS.
wait_for() {
    local deadline=$((SECONDS + $1)); shift
    until "$@"; do [ "$SECONDS" -ge "$deadline" ] && return 1; sleep 0.2; done
}
# stop_pid PID NAME: TERM to PID, up to 5 s for it and its children (daemons such as nsd fork
# even in the foreground) to end, then KILL to what is left. Nothing for an empty PID.
stop_pid() {
    local pid=$1 name=$2 p kids
    [ -n "$pid" ] || return 0
    kids=$(descendants "$pid")
    if alive "$pid"; then kill -TERM "$pid" 2>/dev/null || true; fi
    for _ in $(seq 1 50); do
        alive "$pid" && { sleep 0.1; continue; }
        for p in $kids; do alive "$p" && { sleep 0.1; continue 2; }; done
        break
    done
    for p in "$pid" $kids; do
        alive "$p" || continue
        log "$name process $p did not stop on TERM, killing it"
        kill -KILL "$p" 2>/dev/null || true
    done
    wait "$pid" 2>/dev/null || true
}
descendants() {  # descendants PID: the PIDs of all its descendants (from /proc)
    local child
    for child in $(cat /proc/"$1"/task/*/children 2>/dev/null); do
        echo "$child"
        descendants "$child"
    done
}
alive() {  # alive PID: exists and is not a zombie
    local state
    state=$(sed -n 's/^.*) \([A-Z]\).*/\1/p' /proc/"$1"/stat 2>/dev/null) || return 1
    [ -n "$state" ] && [ "$state" != Z ] && [ "$state" != X ]
}

# test_ca SUBJECT: a test CA valid for two days, $TMP/ca.pem and $TMP/ca.key.
test_ca() {
    openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=$1" -keyout "$TMP/ca.key" -out "$TMP/ca.pem" \
        >/dev/null 2>&1 || fail "openssl could not make the test CA"
}
# issue_certificate NAME: $TMP/NAME.key and $TMP/NAME.pem for the DNS name NAME, by the test CA.
issue_certificate() {
    openssl req -newkey rsa:2048 -nodes -subj "/CN=$1" -keyout "$TMP/$1.key" -out "$TMP/$1.csr" >/dev/null 2>&1
    printf 'subjectAltName=DNS:%s\n' "$1" >"$TMP/$1.ext"
    openssl x509 -req -in "$TMP/$1.csr" -CA "$TMP/ca.pem" -CAkey "$TMP/ca.key" -CAcreateserial -days 2 \
        -extfile "$TMP/$1.ext" -out "$TMP/$1.pem" >/dev/null 2>&1 || fail "openssl could not issue a certificate for $1"
}

# tlsrpt_reported CONFIG REGEX WHAT: `tern tlsrpt results` of the server of CONFIG has a line
# matching REGEX (a TLS report result recorded by delivery, RFC 8460); counts a check.
tlsrpt_reported() {
    "$TERN" tlsrpt results --config "$1" >"$TMP/tlsrpt" 2>&1 || { cat "$TMP/tlsrpt" >&2; fail "tern tlsrpt results failed"; }
    grep -qE -- "$2" "$TMP/tlsrpt" || { cat "$TMP/tlsrpt" >&2; fail "TLS report results: $3"; }
    pass "TLS report result: $3"
}

# serve_yaml_head RESOLVER SUBMISSION_PORT IMAP_PORT [SMTP_PORT]: the start of a tern.yaml for
# serve_yaml_head RESOLVER SUBMISSION IMAP [SMTP] [METRICS]: `tern serve` on loopback: data in
# ../data, alice the postmaster, submission with AUTH allowed without TLS on loopback, IMAP
# without STARTTLS, SMTP and the metrics endpoint when their ports are given (SMTP "" to skip
# it); the caller adds its Queue section.
serve_yaml_head() {
    cat <<YAML
DataDir: ../data
Hostname: mail.tern.test
Resolver: $1
Postmaster:
  Account: alice
  Mailbox: Inbox
Listeners:
  local:
    IPs:
      - 127.0.0.1
    TLS:
      SelfSigned: true
YAML
    if [ -n "${4:-}" ]; then printf '    SMTP:\n      Enabled: true\n      Port: %s\n' "$4"; fi
    cat <<YAML
    Submission:
      Enabled: true
      Port: $2
      PlaintextAuthOnLoopback: true
    IMAP:
      Enabled: true
      Port: $3
      NoRequireSTARTTLS: true
YAML
    if [ -n "${5:-}" ]; then printf '    Metrics:\n      Enabled: true\n      Port: %s\n' "$5"; fi
}

# serve_domains_yaml PASSWORD: a domains.yaml with the one account alice@tern.test (the
# postmaster of serve_yaml_head), whose password is PASSWORD.
serve_domains_yaml() {
    cat <<YAML
Domains:
  tern.test: {}
Accounts:
  alice:
    Domain: tern.test
    Destinations:
      alice: {}
$(printf '%s' "$1" | "$TERN" config password --iterations 4096)
YAML
}

# submit_message PORT PASSWORD ID RECIPIENT: one message from alice@tern.test (serve_domains_yaml)
# to RECIPIENT over submission on PORT with AUTH, subject ID, its body ending in end-of-ID.
submit_message() {
    timeout 30 python3 - "$@" <<'PY' >"$TMP/submit" 2>&1 || { cat "$TMP/submit" >&2; fail "submitting $3"; }
import smtplib, sys
port, password, ident, recipient = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
with smtplib.SMTP("127.0.0.1", port, timeout=20) as s:
    s.login("alice@tern.test", password)
    body = f"From: alice@tern.test\r\nTo: {recipient}\r\nSubject: {ident}\r\n\r\nend-of-{ident}\r\n"
    assert s.sendmail("alice@tern.test", [recipient], body.encode()) == {}
PY
}
# queue_lists TEXT: `tern queue list` of the server configured in $TMP/config/tern.yaml shows
# TEXT (e.g. in a recipient's last failure); the listing is left in $TMP/queue.
queue_lists() {
    "$TERN" queue list --config "$TMP/config/tern.yaml" >"$TMP/queue" 2>&1 && grep -qF -- "$1" "$TMP/queue"
}
# queue_drop_all: drops every message queued by that server.
queue_drop_all() { "$TERN" queue drop --all --config "$TMP/config/tern.yaml" >/dev/null 2>&1 || true; }

# postfix_install: Postfix from Debian without a system configuration ("No configuration").
postfix_install() {
    command -v postfix >/dev/null || echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
    apt_install postfix postfix
    # That install leaves no /etc/postfix/main.cf, and Postfix's tools read it even when
    # given another directory; an empty one means all defaults.
    [ -e /etc/postfix/main.cf ] || touch /etc/postfix/main.cf
}

# postfix_main_cf DIR HOSTNAME [LINE...]: DIR/main.cf of a private test instance: spool,
# data and log (postfix.log) under $TMP, loopback IPv4 only, no DNS, no aliases, no local
# domains; then the LINEs. Creates the directories it names.
postfix_main_cf() {
    local dir=$1 hostname=$2
    shift 2
    mkdir -p "$dir" "$TMP/spool" "$TMP/pfdata"
    chown postfix "$TMP/pfdata"
    touch "$TMP/postfix.log"
    {
        cat <<CF
compatibility_level = 3.6
myhostname = $hostname
mydestination =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
queue_directory = $TMP/spool
data_directory = $TMP/pfdata
mail_owner = postfix
setgid_group = postdrop
maillog_file = $TMP/postfix.log
maillog_file_prefixes = $TMP
smtpd_peername_lookup = no
smtp_dns_support_level = disabled
biff = no
append_dot_mydomain = no
alias_maps =
alias_database =
local_recipient_maps =
CF
        printf '%s\n' "$@"
    } >"$dir/main.cf"
}

# postfix_mx_main_cf DIR HOSTNAME DOMAINS [LINE...]: postfix_main_cf for an MX that accepts
# from loopback every recipient of DOMAINS (space-separated) into one maildir, $TMP/vmail/
# maildir (see `arrived`), offering STARTTLS with DIR/cert.pem and DIR/key.pem, logging TLS
# connections and naming TLS in the Received field it adds; then the LINEs. Its master.cf
# needs the virtual service: postfix_master_cf FILE LISTEN "$POSTFIX_VIRTUAL".
POSTFIX_VIRTUAL="virtual   unix  -       n       n       -       -       virtual"
postfix_mx_main_cf() {
    local dir=$1 hostname=$2 domains=$3
    shift 3
    mkdir -p "$TMP/vmail"
    chown nobody:nogroup "$TMP/vmail"
    postfix_main_cf "$dir" "$hostname" \
        "mynetworks = 127.0.0.0/8" \
        "virtual_mailbox_domains = $domains" \
        "virtual_mailbox_base = $TMP/vmail" \
        "virtual_mailbox_maps = static:maildir/" \
        "virtual_uid_maps = static:65534" \
        "virtual_gid_maps = static:65534" \
        "smtpd_tls_security_level = may" \
        "smtpd_tls_cert_file = $dir/cert.pem" \
        "smtpd_tls_key_file = $dir/key.pem" \
        "smtpd_tls_loglevel = 1" \
        "smtpd_tls_received_header = yes" \
        "$@"
}
# arrived ID: the message submit_message sent as ID is in the maildir of postfix_mx_main_cf.
arrived() { grep -rlqF -- "end-of-$1" "$TMP/vmail/maildir/new" 2>/dev/null; }

# postfix_start DIR PORT: checks the instance's configuration, starts it and waits until it
# listens on PORT.
postfix_start() {
    local dir=$1 port=$2
    postfix -c "$dir" set-permissions create-missing >/dev/null 2>&1 || true
    postfix -c "$dir" check >"$TMP/postfix-check" 2>&1 || { cat "$TMP/postfix-check" >&2; fail "postfix check"; }
    postfix -c "$dir" start >/dev/null 2>&1 || { tail -20 "$TMP/postfix.log" >&2; fail "postfix did not start"; }
    for _ in $(seq 1 100); do port_listening "$port" && return 0; sleep 0.1; done
    fail "postfix did not open 127.0.0.1:$port"
}

# postfix_master_cf FILE LISTEN [EXTRA_LINE...]: a Postfix master.cf for a test instance,
# smtpd on LISTEN (address:port) and the daemons a queue needs, plus EXTRA_LINEs.
postfix_master_cf() {
    local file=$1 listen=$2
    shift 2
    {
        echo "$listen inet n - n - - smtpd"
        cat <<'CF'
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
proxywrite unix -       -       n       -       1       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
postlog   unix-dgram n  -       n       -       1       postlogd
CF
        for line in "$@"; do echo "$line"; done
    } >"$file"
}

# --- DNSSEC test zones (dnssec.sh, dane.sh): signed with ldns-signzone, served by nsd,
# validated by unbound with the signed zone's DS as its only trust anchor. Loopback only. ---

# dnssec_install: ldnsutils (ldns-keygen, ldns-signzone, drill), nsd and unbound.
# serve_dns_postfix_workspace: for a test of `tern serve` with nsd, unbound and Postfix: TMP (a
# new directory), PFCONF (Postfix's configuration directory in it), PID, NSD_PID, UNBOUND_PID
# and POSTFIX_UP (set them as the peers start), and an exit trap that stops whatever runs and
# removes TMP (kept when KEEP is set).
serve_dns_postfix_workspace() {
    TMP=$(mktemp -d)
    chmod 755 "$TMP"
    PID=""; NSD_PID=""; UNBOUND_PID=""; POSTFIX_UP=0
    PFCONF="$TMP/postfix-etc"
    trap serve_dns_postfix_cleanup EXIT
}
serve_dns_postfix_cleanup() {
    [ -n "$PID" ] && kill -9 "$PID" 2>/dev/null
    stop_pid "$UNBOUND_PID" unbound
    stop_pid "$NSD_PID" nsd
    [ "$POSTFIX_UP" = 1 ] && postfix -c "$PFCONF" stop >/dev/null 2>&1
    [ -n "${KEEP:-}" ] || rm -rf "$TMP"
}

# dns_zone_head ZONE: a zone file's SOA, NS and the name server's address (127.0.0.1).
dns_zone_head() {
    printf '%s.\t3600\tIN\tSOA\tns1.%s. hostmaster.%s. 1 3600 900 604800 300\n' "$1" "$1" "$1"
    printf '%s.\t3600\tIN\tNS\tns1.%s.\n' "$1" "$1"
    printf 'ns1.%s.\t3600\tIN\tA\t127.0.0.1\n' "$1"
}

dnssec_install() {
    apt_install ldns-signzone ldnsutils
    apt_install nsd nsd
    apt_install unbound unbound
}

# dnssec_sign_zone DIR ZONE: signs DIR/ZONE.zone (ZONE without the final dot) into
# DIR/ZONE.zone.signed with a new ECDSA P-256 key with the SEP bit, which signs everything (a
# combined signing key); the key's DS record, the resolver's trust anchor, goes to DIR/ZONE.ds.
dnssec_sign_zone() {
    local dir=$1 zone=$2 key
    key=$(cd "$dir" && ldns-keygen -a ECDSAP256SHA256 -k "$zone") || fail "ldns-keygen failed for $zone"
    [ -f "$dir/$key.ds" ] || fail "ldns-keygen made no DS for $zone ($key)"
    (cd "$dir" && ldns-signzone -o "$zone." "$zone.zone" "$key") || fail "ldns-signzone failed for $zone"
    mv "$dir/$key.ds" "$dir/$zone.ds"
}

# dnssec_tamper_rrsig FILE OWNER TYPE: flips one base64 character in the middle of the
# signature over OWNER's TYPE records in the signed zone FILE (same length, still base64), so
# that a validating resolver finds them bogus (RFC 4035 §5.3).
dnssec_tamper_rrsig() {
    local file=$1 owner=$2 type=$3
    awk -v owner="$owner" -v type="$type" 'BEGIN { FS = "[ \t]+"; OFS = "\t"; n = 0 }
         tolower($1) == tolower(owner) && toupper($4) == "RRSIG" && toupper($5) == toupper(type) {
             sig = $NF; c = substr(sig, 20, 1); r = (c == "A") ? "B" : "A"
             $NF = substr(sig, 1, 19) r substr(sig, 21); n++
         }
         { print }
         END { if (n != 1) exit 3 }' "$file" >"$file.tmp" || fail "not exactly one RRSIG over $owner $type in $file"
    mv "$file.tmp" "$file"
}

# drill_query PORT TCP(0/1) NAME TYPE: drill's output for the query (DO bit set), 3 s at most.
drill_query() {
    local port=$1 tcp=$2 name=$3 type=$4 opt=-u
    [ "$tcp" = 1 ] && opt=-t
    timeout 3 drill -D "$opt" -p "$port" "$name" @127.0.0.1 "$type" 2>&1 || true
}
drill_flags() { sed -n 's/^;; flags: \([^;]*\);.*/\1/p;T;q'; }
drill_rcode() { sed -n 's/.*rcode: \([A-Z]*\).*/\1/p;T;q'; }

# dns_wait PORT NAME TYPE PID DEADLINE: 0 once PORT answers NOERROR over UDP and TCP, 2 when
# PID ended, 1 at DEADLINE (in $SECONDS).
dns_wait() {
    local port=$1 name=$2 type=$3 pid=$4 deadline=$5
    while [ "$SECONDS" -lt "$deadline" ]; do
        kill -0 "$pid" 2>/dev/null || return 2
        # TCP first: a closed TCP port is refused at once, while a UDP query to a port not yet
        # bound would sit out drill's timeout.
        if [ "$(drill_query "$port" 1 "$name" "$type" | drill_rcode)" = NOERROR ] \
            && [ "$(drill_query "$port" 0 "$name" "$type" | drill_rcode)" = NOERROR ]; then
            return 0
        fi
        sleep 0.2
    done
    return 1
}

# nsd_start DIR ZONE FILE [ZONE FILE...]: nsd in the foreground, authoritative for each ZONE
# (without the final dot) from DIR/FILE, on 127.0.0.1:NSD_PORT, a free port (tried up to three
# times, in case another process takes the port first). Sets NSD_PORT and NSD_PID; its log is
# DIR/nsd.log and DIR/nsd.out.
nsd_start() {
    local dir=$1 first_zone=$2 attempt rc zones
    shift
    for attempt in 1 2 3; do
        free_port NSD_PORT
        cat >"$dir/nsd.conf" <<CONF
server:
    ip-address: 127.0.0.1
    port: $NSD_PORT
    do-ip4: yes
    do-ip6: no
    reuseport: no
    server-count: 1
    username: ""
    chroot: ""
    zonesdir: "$dir"
    database: ""
    zonelistfile: "$dir/zone.list"
    xfrdfile: "$dir/xfrd.state"
    xfrdir: "$dir"
    pidfile: "$dir/nsd.pid"
    logfile: "$dir/nsd.log"
    verbosity: 1
    hide-version: yes
    refuse-any: no
remote-control:
    control-enable: no
CONF
        zones=("$@")
        while [ "${#zones[@]}" -ge 2 ]; do
            printf 'zone:\n    name: "%s"\n    zonefile: "%s"\n' "${zones[0]}" "${zones[1]}" >>"$dir/nsd.conf"
            zones=("${zones[@]:2}")
        done
        nsd-checkconf "$dir/nsd.conf" >&2 || fail "nsd-checkconf rejected $dir/nsd.conf"
        nsd -d -c "$dir/nsd.conf" >>"$dir/nsd.out" 2>&1 &
        NSD_PID=$!
        rc=0
        dns_wait "$NSD_PORT" "$first_zone." SOA "$NSD_PID" $((SECONDS + 15)) || rc=$?
        if [ "$rc" = 0 ]; then
            log "nsd up: pid $NSD_PID, 127.0.0.1:$NSD_PORT"
            return 0
        fi
        log "nsd did not come up on port $NSD_PORT (attempt $attempt):"
        tail -n 5 "$dir/nsd.out" "$dir/nsd.log" >&2 2>/dev/null || true
        stop_pid "$NSD_PID" nsd
        NSD_PID=""
        [ "$rc" = 2 ] || break  # still running but not answering: another try would not help
    done
    fail "nsd did not start"
}

# unbound_start DIR NSD_PORT TRUST_ANCHOR_FILE ZONE...: a validating unbound in the foreground on
# 127.0.0.1:UNBOUND_PORT, a free port, that asks nsd on NSD_PORT for each ZONE (without the
# final dot; stub zones), trusts only the DS records in TRUST_ANCHOR_FILE, adds RFC 8914
# extended errors, and answers everything else itself (nothing from the internet). Sets
# UNBOUND_PORT, UNBOUND_PID and UNBOUND_DIR (DIR, with its output in unbound.out).
unbound_start() {
    local dir=$1 nsd_port=$2 anchor=$3 attempt zone rc
    shift 3
    UNBOUND_DIR=$dir
    for attempt in 1 2 3; do
        free_port UNBOUND_PORT
        {
            cat <<CONF
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
    directory: "$dir"
    pidfile: "$dir/unbound.pid"
    use-syslog: no
    logfile: ""
    verbosity: 1
    val-log-level: 2
    log-servfail: yes
    # Nothing from the internet: no root anchor, everything outside the test zones is
    # answered locally. "test." is one of unbound's default static zones, so the stubs need
    # their own transparent local zones.
    local-zone: "." static
    local-zone: "test." nodefault
    do-not-query-localhost: no
    module-config: "validator iterator"
    trust-anchor-file: "$anchor"
    val-permissive-mode: no
    trust-anchor-signaling: no
    root-key-sentinel: no
    harden-dnssec-stripped: yes
    ede: yes
    edns-buffer-size: 1232
    max-udp-size: 1232
    prefetch: no
    qname-minimisation: no
CONF
            for zone in "$@"; do
                # The loopback reverse zone is another default static zone (localhost's PTR).
                case "$zone" in *127.in-addr.arpa) printf '    local-zone: "127.in-addr.arpa." nodefault\n' ;; esac
                printf '    local-zone: "%s." transparent\n' "$zone"
            done
            printf 'remote-control:\n    control-enable: no\n'
            for zone in "$@"; do printf 'stub-zone:\n    name: "%s."\n    stub-addr: 127.0.0.1@%s\n' "$zone" "$nsd_port"; done
        } >"$dir/unbound.conf"
        unbound-checkconf "$dir/unbound.conf" >&2 || fail "unbound-checkconf rejected $dir/unbound.conf"
        unbound -d -c "$dir/unbound.conf" >>"$dir/unbound.out" 2>&1 &
        UNBOUND_PID=$!
        rc=0
        dns_wait "$UNBOUND_PORT" "$1." SOA "$UNBOUND_PID" $((SECONDS + 15)) || rc=$?
        if [ "$rc" = 0 ]; then
            log "unbound up: pid $UNBOUND_PID, 127.0.0.1:$UNBOUND_PORT"
            return 0
        fi
        log "unbound did not come up on port $UNBOUND_PORT (attempt $attempt):"
        tail -n 10 "$dir/unbound.out" >&2 || true
        stop_pid "$UNBOUND_PID" unbound
        UNBOUND_PID=""
        [ "$rc" = 2 ] || break
    done
    fail "unbound did not start"
}

# dns_peer_check DESCRIPTION NAME TYPE WANT_RCODE WANT_AD(yes/no/any): unbound answers NAME
# TYPE as the test zones mean it to; otherwise the setup is wrong, not Tern (not a check).
dns_peer_check() {
    local out rcode flags
    out=$(drill_query "$UNBOUND_PORT" 1 "$2" "$3")
    rcode=$(printf '%s\n' "$out" | drill_rcode)
    flags=" $(printf '%s\n' "$out" | drill_flags) "
    if [ "$rcode" != "$4" ] \
        || { [ "$5" = yes ] && [[ "$flags" != *" ad "* ]]; } \
        || { [ "$5" = no ] && [[ "$flags" == *" ad "* ]]; }; then
        printf '%s\n' "$out" >&2
        tail -n 20 "$UNBOUND_DIR/unbound.out" >&2 || true
        fail "peer setup: unbound answered $2 $3 with rcode=$rcode flags=[$flags], wanted $4 ad=$5 ($1)"
    fi
}
