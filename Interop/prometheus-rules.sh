#!/usr/bin/env bash
# Interop test: the example alerting rules (Examples/prometheus-alerts.yml) against Prometheus's
# own tooling: `promtool check rules` (syntax, PromQL), `promtool test rules` with
# Examples/prometheus-alerts.test.yml (each alert fires on the series it is meant for, and not
# below its threshold), and every metric the rules name is one that tern exports (its name in
# the sources).
#
# Usage: bash Interop/prometheus-rules.sh (root: installs Debian's prometheus package for
# promtool when missing). The last stdout line is `PASS prometheus-rules (N checks)` or
# `FAIL prometheus-rules: <reason>`.
set -euo pipefail
NAME=prometheus-rules
# shellcheck source=Interop/lib.bash
source "$(dirname "${BASH_SOURCE[0]}")/lib.bash"

apt_install promtool prometheus
cd "$ROOT/Examples"
promtool check rules prometheus-alerts.yml >&2 || fail "promtool check rules failed"
pass "the rules parse"
promtool test rules prometheus-alerts.test.yml >&2 || fail "promtool test rules failed"
pass "the rules' unit tests"
for metric in $(grep -v '^ *#' prometheus-alerts.yml | grep -oE 'tern_[a-z_]+' | sort -u); do
    grep -rqF "\"$metric\"" "$ROOT/Sources" || fail "the rules use $metric, which tern does not export"
    pass "$metric is exported"
done
succeed
