# Shared by the ACME interop scripts: pebble (Let's Encrypt's test CA) on loopback.
#   install_pebble: installs Debian's pebble when missing.
#   prepare_pebble: makes pebble's HTTPS certificate with a throwaway openssl CA (Debian's
#     pebble ships none; trust it with $TMP/https-ca.pem) and picks free ports: sets
#     ACME_PORT, MGMT_PORT and DIRECTORY (the ACME directory URL).
#   start_pebble DNSPORT TLSPORT: starts pebble resolving through 127.0.0.1:DNSPORT and
#     validating tls-alpn-01 on TLSPORT; sets PEBBLE_PID.
# Needs TMP, and lib.bash's log/fail/free_port/apt_install.
install_pebble() {
    apt_install pebble pebble
    command -v openssl >/dev/null || fail "openssl missing"
}

prepare_pebble() {
    free_port ACME_PORT MGMT_PORT PEBBLE_HTTP_PORT
    DIRECTORY="https://localhost:$ACME_PORT/dir"
    {
        openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$TMP/https-ca.key" \
            -out "$TMP/https-ca.pem" -days 2 -subj "/CN=Tern interop HTTPS CA" \
            -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign"
        openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$TMP/https.key" \
            -out "$TMP/https.csr" -subj "/CN=localhost"
        printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' >"$TMP/https.ext"
        openssl x509 -req -in "$TMP/https.csr" -CA "$TMP/https-ca.pem" -CAkey "$TMP/https-ca.key" -CAcreateserial \
            -out "$TMP/https.pem" -days 2 -extfile "$TMP/https.ext"
    } >"$TMP/openssl.log" 2>&1 || { cat "$TMP/openssl.log" >&2; fail "openssl could not make the HTTPS certificate"; }
}

start_pebble() {
    local dns_port=$1 tls_port=$2
    cat >"$TMP/pebble.json" <<JSON
{
  "pebble": {
    "listenAddress": "127.0.0.1:$ACME_PORT",
    "managementListenAddress": "127.0.0.1:$MGMT_PORT",
    "certificate": "$TMP/https.pem",
    "privateKey": "$TMP/https.key",
    "httpPort": $PEBBLE_HTTP_PORT,
    "tlsPort": $tls_port,
    "ocspResponderURL": "",
    "externalAccountBindingRequired": false
  }
}
JSON
    log "starting pebble (ACME $ACME_PORT, management $MGMT_PORT, tls-alpn-01 to $tls_port, DNS 127.0.0.1:$dns_port)"
    PEBBLE_VA_NOSLEEP=1 pebble -config "$TMP/pebble.json" -dnsserver "127.0.0.1:$dns_port" -strict=false \
        >"$TMP/pebble.log" 2>&1 &
    PEBBLE_PID=$!
    disown "$PEBBLE_PID"  # stopped by the exit trap, without the shell's job notice
    for _ in $(seq 1 100); do port_used "$ACME_PORT" && return 0; sleep 0.1; done
    tail -20 "$TMP/pebble.log" >&2
    fail "pebble did not start"
}
