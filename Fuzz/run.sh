#!/usr/bin/env bash
# Builds and runs a libFuzzer target. Usage: Fuzz/run.sh TARGET [SECONDS] (default 60), TARGET
# one of dns-message, mime-message, imap-command, smtp-protocol, mtasts, spf-record, dmarc-record, dkim-signature. The files under test import
# nothing but Foundation, the C library, the Base64 module (Message, IMAP) and (for mtasts and spf-record) the pure part of the DNS
# module, so they are compiled here directly with the fuzzer and AddressSanitizer instrumentation, without SwiftPM.
set -euo pipefail
cd "$(dirname "$0")/.."
target=${1:?usage: Fuzz/run.sh dns-message|mime-message|imap-command|smtp-protocol|mtasts|spf-record|dmarc-record|dkim-signature [SECONDS]}
seconds=${2:-60}
out=.build-fuzz
mkdir -p "$out" "Fuzz/corpus/$target" Fuzz/crashes
# The Base64 module compiled on its own, for the files that import it.
base64_module() {
    swiftc -sanitize=fuzzer,address -parse-as-library -O -module-name Base64 -emit-module -emit-module-path "$out/Base64.swiftmodule" \
        -emit-library -static -o "$out/libBase64.a" Sources/Base64/*.swift
}
case "$target" in
dns-message)
    swiftc -sanitize=fuzzer,address -parse-as-library -O -module-name DNSFuzz \
        Fuzz/DNSMessageFuzzer.swift \
        Sources/DNS/DNSMessage.swift Sources/DNS/DNSName.swift Sources/DNS/RecordData.swift \
        Sources/DNS/RecordType.swift Sources/DNS/IPAddress.swift Sources/DNS/ExtendedDNSError.swift \
        -o "$out/$target"
    ;;
mime-message)
    base64_module
    swiftc -sanitize=fuzzer,address -parse-as-library -O -module-name MessageFuzz -I "$out" -L "$out" -lBase64 \
        Fuzz/MIMEMessageFuzzer.swift Sources/Message/*.swift -o "$out/$target"
    cp Fuzz/seeds/mime-message/* "Fuzz/corpus/$target/" 2>/dev/null || true
    ;;
imap-command)
    # The IMAP module imports only Foundation and Base64. Seeds: two control octets, then RFC examples.
    base64_module
    swiftc -sanitize=fuzzer,address -parse-as-library -O -module-name IMAPFuzz -I "$out" -L "$out" -lBase64 \
        Fuzz/IMAPCommandFuzzer.swift Fuzz/FuzzSupport.swift Sources/IMAP/*.swift -o "$out/$target"
    cp Fuzz/seeds/imap-command/* "Fuzz/corpus/$target/" 2>/dev/null || true
    ;;
smtp-protocol)
    # The SMTP module imports nothing. Seeds: one control octet, then sessions, DATA bodies
    # with the end-of-data variants other servers accept, and server replies.
    swiftc -sanitize=fuzzer,address -parse-as-library -O -module-name SMTPFuzz \
        Fuzz/SMTPProtocolFuzzer.swift Fuzz/FuzzSupport.swift Sources/SMTP/*.swift -o "$out/$target"
    cp Fuzz/seeds/smtp-protocol/* "Fuzz/corpus/$target/" 2>/dev/null || true
    ;;
mtasts)
    # The MTA-STS record and policy parsers, on the DNS module's name types compiled first as a
    # module of their own (the MTASTS files import DNS). Seeds: RFC 8461 examples.
    swiftc -sanitize=fuzzer,address -parse-as-library -O -module-name DNS -emit-module -emit-module-path "$out/DNS.swiftmodule" \
        -emit-library -static -o "$out/libDNS.a" \
        Sources/DNS/Domain.swift Sources/DNS/Punycode.swift Sources/DNS/DNSName.swift Sources/DNS/Resolver.swift \
        Sources/DNS/DNSMessage.swift Sources/DNS/RecordData.swift Sources/DNS/RecordType.swift Sources/DNS/IPAddress.swift \
        Sources/DNS/ExtendedDNSError.swift
    swiftc -sanitize=fuzzer,address -parse-as-library -O -module-name MTASTSFuzz -I "$out" -L "$out" -lDNS \
        Fuzz/MTASTSFuzzer.swift Sources/MTASTS/STSRecord.swift Sources/MTASTS/STSPolicy.swift Sources/MTASTS/MXPattern.swift \
        Sources/MTASTS/PolicyFetcher.swift -o "$out/$target"
    cp Fuzz/seeds/mtasts/* "Fuzz/corpus/$target/" 2>/dev/null || true
    ;;
spf-record)
    # The SPF parsers need only the DNS module's address and name types, so all are
    # compiled as one module named DNS (the SPF files' "import DNS" then names their own
    # module, which swiftc ignores with a warning).
    # Seeds: RFC 7208 records and macro-strings.
    swiftc -sanitize=fuzzer,address -parse-as-library -O -module-name DNS \
        Fuzz/SPFRecordFuzzer.swift Sources/SPF/SPFRecord.swift Sources/SPF/MacroString.swift \
        Sources/SPF/ASCII.swift Sources/SPF/IPMatching.swift Sources/SPF/SPFResult.swift \
        Sources/DNS/IPAddress.swift Sources/DNS/DNSName.swift -o "$out/$target"
    cp Fuzz/seeds/spf-record/* "Fuzz/corpus/$target/" 2>/dev/null || true
    ;;
dmarc-record)
    # The DMARC record parser imports nothing. Seeds: RFC 7489 Appendix B records, every tag,
    # invalid values.
    swiftc -sanitize=fuzzer,address -parse-as-library -O -module-name DMARCFuzz \
        Fuzz/DMARCRecordFuzzer.swift Sources/DMARC/DMARCRecord.swift -o "$out/$target"
    cp Fuzz/seeds/dmarc-record/* "Fuzz/corpus/$target/" 2>/dev/null || true
    ;;
dkim-signature)
    # The DKIM-Signature and key-record parsers and the canonicalization import only
    # Foundation; the verifier and signer (DNS, crypto) are left out. Seeds: the RFC 8463
    # Appendix A signatures and key records, RFC 6376 §3.5's example, a folded body.
    swiftc -sanitize=fuzzer,address -parse-as-library -O -module-name DKIMFuzz \
        Fuzz/DKIMSignatureFuzzer.swift Sources/DKIM/DKIM.swift Sources/DKIM/TagList.swift Sources/DKIM/DKIMSignature.swift \
        Sources/DKIM/DKIMKeyRecord.swift Sources/DKIM/Canonicalization.swift -o "$out/$target"
    cp Fuzz/seeds/dkim-signature/* "Fuzz/corpus/$target/" 2>/dev/null || true
    ;;
*)
    echo "unknown fuzz target $target" >&2
    exit 2
    ;;
esac
if [ "$target" = dns-message ]; then
    # Seeds: real-looking answers (compressed MX, TXT with OPT, TLSA, NXDOMAIN with SOA and EDE).
    python3 - "Fuzz/corpus/$target" <<'PY'
import os, struct, sys
def name(text):
    return b"".join(bytes([len(label)]) + label.encode() for label in text.split(".") if label) + b"\0"
def message(ident, flags, question, answers=b"", counts=(0, 0, 0)):
    return struct.pack(">HHHHHH", ident, flags, 1, *counts) + question + answers
def rr(owner, rtype, ttl, data):
    return owner + struct.pack(">HHIH", rtype, 1, ttl, len(data)) + data
opt = b"\0" + struct.pack(">HHIH", 41, 1232, 0x8000, 0)
ede = b"\0" + struct.pack(">HHIH", 41, 1232, 0x8000, 10) + struct.pack(">HHH", 15, 6, 6) + b"bogus!"
seeds = {
    "mx": message(1, 0x8180, name("example.com") + struct.pack(">HH", 15, 1),
                  rr(b"\xc0\x0c", 15, 3600, struct.pack(">H", 10) + b"\x04mail\xc0\x0c"), (1, 0, 0)),
    "txt-opt": message(2, 0x81A0, name("test") + struct.pack(">HH", 16, 1),
                       rr(b"\xc0\x0c", 16, 60, b"\x0bv=spf1 -all") + opt, (1, 0, 1)),
    "tlsa": message(3, 0x81A0, name("_25._tcp.mail.test") + struct.pack(">HH", 52, 1),
                    rr(b"\xc0\x0c", 52, 60, bytes([3, 1, 1]) + bytes(range(32))), (1, 0, 0)),
    "nxdomain-ede": message(4, 0x8183, name("nx.test") + struct.pack(">HH", 1, 1),
                            rr(name("test"), 6, 60, name("ns.test") + name("host.test") + struct.pack(">IIIII", 1, 2, 3, 4, 5)) + ede,
                            (0, 1, 1)),
}
for key, data in seeds.items():
    open(os.path.join(sys.argv[1], key), "wb").write(data)
PY
fi
# Swift's own crash backtracer would read the stack under AddressSanitizer, which then reports
# its reads instead of the crash: let libFuzzer's handler alone report a trap.
SWIFT_BACKTRACE=enable=no "$out/$target" -max_total_time="$seconds" -timeout=5 -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="Fuzz/crashes/$target-" "Fuzz/corpus/$target"
