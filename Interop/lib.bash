# Shared by the interop scripts: sourced after NAME is set. Loopback only.
#   log MESSAGE, fail REASON (prints the result line and exits 1), pass WHAT (counts a check),
#   port_used PORT, port_listening PORT, pick_base_port (sets BASE so that BASE+25, BASE+587, BASE+465 and BASE+10
#   are free), TERN (defaults to the debug build).
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TERN=${TERN:-$(cd "$ROOT" && swift build --show-bin-path 2>/dev/null || echo "$ROOT/.build/debug")/tern}
CHECKS=0
log() { printf '[%s] %s\n' "$NAME" "$*" >&2; }
fail() { echo "FAIL $NAME: $*"; exit 1; }
pass() { CHECKS=$((CHECKS + 1)); log "ok: $*"; }
port_used() { grep -qi ":$(printf '%04X' "$1") " /proc/net/tcp /proc/net/tcp6 2>/dev/null; }
# port_listening PORT: something listens on PORT (state 0A), unlike port_used, which also sees
# the TIME_WAIT entries a server leaves behind for a while after closing connections.
port_listening() { grep -qi ":$(printf '%04X' "$1") [0-9A-F]*:0000 0A " /proc/net/tcp /proc/net/tcp6 2>/dev/null; }
# free_port NAME...: sets each variable NAME to a free loopback port in 20000-39999, none
# handed out twice in this run (a variable, not $(...): a subshell could not remember).
free_port() {
    local name port
    for name in "$@"; do
        for _ in $(seq 1 50); do
            port=$((20000 + RANDOM % 20000))
            port_used "$port" || [[ " ${USED_PORTS:-} " == *" $port "* ]] || break
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
