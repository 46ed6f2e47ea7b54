#!/usr/bin/env bash
# Builds and runs a libFuzzer target. Usage: Fuzz/run.sh [SECONDS] (default 60).
# The DNS wire-format files import nothing but the C library, so they are compiled here
# directly with the fuzzer and AddressSanitizer instrumentation, without SwiftPM.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
out=.build-fuzz
mkdir -p "$out" Fuzz/corpus/dns-message Fuzz/crashes
swiftc -sanitize=fuzzer,address -parse-as-library -O -module-name DNSFuzz \
    Fuzz/DNSMessageFuzzer.swift \
    Sources/DNS/DNSMessage.swift Sources/DNS/DNSName.swift Sources/DNS/RecordData.swift \
    Sources/DNS/RecordType.swift Sources/DNS/IPAddress.swift Sources/DNS/ExtendedDNSError.swift \
    -o "$out/dns-message"
# Seeds: real-looking answers (compressed MX, TXT, TLSA, NXDOMAIN with SOA and an EDE).
python3 - Fuzz/corpus/dns-message <<'PY'
import sys, os
d = sys.argv[1]
seeds = {
 "mx": "000181800001000100000000076578616d706c6503636f6d00000f0001c00c000f000100000e100009000a046d61696cc00c",
 "txt-opt": "000281a000010001000000010474657374000010000100000010000c0b763d73706631202d616c6c0000291000000080000000",
 "tlsa": "0003818000010001000000000335323504746370046d61696c0474657374000034000100000034000100000100250301010102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20"[:0] or "00038180000100010000000003 5f323504 5f746370 046d61696c 0474657374 00 0034 0001 c00c 0034 0001 0000003c 0023 030101 0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20".replace(" ",""),
 "nxdomain-ede": "0004818300010000000100010262780474657374000001000100000600010000003c001602ff0004686f737403746573740000000001000000010000000100000001000000010000291000000080000000000f000f0006000662616420736967",
}
for name, h in seeds.items():
    try:
        open(os.path.join(d, name), "wb").write(bytes.fromhex(h))
    except ValueError:
        pass
PY
"$out/dns-message" -max_total_time="$seconds" -timeout=5 -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix=Fuzz/crashes/ Fuzz/corpus/dns-message
