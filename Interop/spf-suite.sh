#!/usr/bin/env bash
# Interop test: the RFC 7208 SPF conformance suite (openspf.org's rfc7208-tests.yml, the one
# third-party SPF implementations are measured with) against `tern spf check`.
#
#   rfc7208-tests.yml                     the suite, fetched at run time from the test/ folder
#                                         of pyspf 2.0.14's source distribution on PyPI (`pip
#                                         download --no-binary :all: --no-deps pyspf==2.0.14`);
#                                         it is another project's file, so it is not kept here
#   Interop/spf_suite.py                  serves each scenario's zone data from its own small
#                                         authoritative DNS server (UDP and TCP on
#                                         127.0.0.1:<free port>), runs every test through
#                                         `tern spf check --resolver`, and compares the
#                                         printed result and explanation
#
# Every test of the suite runs; one explanation is compared without regard to case (see
# EXPLANATION_CASE_IGNORED in spf_suite.py for why).
#
# Usage: TERN=/path/to/tern bash Interop/spf-suite.sh
#   (TERN defaults to "$(swift build --show-bin-path)/tern"; nothing is built here.) Needs
#   python3 with PyYAML (Debian's python3-yaml is installed when missing) and PyPI for the
#   suite. Only loopback is used for the tests. Failing tests are listed on stderr; the last stdout line is
#   `PASS spf-suite (N checks)` or `FAIL spf-suite: <reason>`.
set -euo pipefail
NAME=spf-suite
# shellcheck source=Interop/lib.bash
source "$(dirname "${BASH_SOURCE[0]}")/lib.bash"

START_TIME=$SECONDS
[ -x "$TERN" ] || fail "tern binary not found or not executable: $TERN"
log "tern: $TERN"

PYTHON=python3
if ! "$PYTHON" -c 'import yaml' 2>/dev/null; then
    apt_install /nonexistent python3-yaml
    PYTHON=/usr/bin/python3
    "$PYTHON" -c 'import yaml' 2>/dev/null || fail "PyYAML could not be installed"
fi

TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
python3 -m pip download -q --no-binary :all: --no-deps pyspf==2.0.14 -d "$TMP" >&2 || fail "pip could not download pyspf 2.0.14's source (the suite)"
tar -xzf "$TMP"/pyspf-2.0.14.tar.gz -C "$TMP" --wildcards '*/test/rfc7208-tests.yml' || fail "no test/rfc7208-tests.yml in pyspf 2.0.14"
SUITE=$(find "$TMP" -name rfc7208-tests.yml | head -n 1)

free_port DNS_PORT
log "DNS server on 127.0.0.1:$DNS_PORT"
summary=$(timeout 600 "$PYTHON" "$ROOT/Interop/spf_suite.py" "$TERN" "$SUITE" "$DNS_PORT" | tail -n 1) || true
read -r CHECKS FAILURES FIRST_FAILURE <<<"$summary" || true
[[ "${CHECKS:-}" =~ ^[0-9]+$ && "${FAILURES:-}" =~ ^[0-9]+$ ]] || fail "the suite driver did not finish (see stderr)"
log "done in $((SECONDS - START_TIME)) s"
[ "$FAILURES" -eq 0 ] || fail "$FAILURES test(s) failed, the first $FIRST_FAILURE (each on stderr)"
[ "$CHECKS" -gt 0 ] || fail "no test ran"
succeed
