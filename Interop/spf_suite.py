"""The RFC 7208 SPF test suite (openspf.org's rfc7208-tests.yml, as shipped in pyspf) run
against `tern spf check`.

The suite is a series of YAML documents, one per scenario: `zonedata` (DNS records per name)
and `tests`, each with a client `host` (IP), `mailfrom`, `helo`, the expected `result` (one
result, or a list of acceptable ones) and sometimes the expected `explanation` ("DEFAULT"
meaning the domain gave none).

For each scenario this serves its zonedata from a small authoritative DNS server written here
(RFC 1035 §4 messages over UDP and TCP on 127.0.0.1:PORT), then runs every test as
`tern spf check --resolver 127.0.0.1:PORT HOST MAILFROM HELO`, several at once, and compares
the printed `result:` and `explanation:` lines.

How the zonedata is served, following the suite's own conventions (its header and the pyspf
driver that ships with it):
  SPF      records of the obsolete SPF RR type (99, RFC 7208 §3.1). They are served as type 99,
           and also as TXT unless the name has TXT entries of its own (the suite relies on
           drivers copying SPF to TXT so that one file tests every kind of implementation).
  TXT: NONE  the name has no TXT records, but this blocks that copying.
  TIMEOUT  queries for a type the name has no records of are not answered at all, so the
           resolver times out (a DNS error).
  CNAME    followed within the zone data, with the chain in the answer (RFC 1034 §4.3.2).
A name absent from the zonedata is NXDOMAIN (NOERROR if a name below it exists), and every
negative answer carries an SOA record (RFC 2308 §3).

Usage: spf_suite.py TERN SUITE.yml PORT
One line per failing test on stderr; the last stdout line is "CHECKS FAILURES FIRST-FAILURE"
(FIRST-FAILURE "-" when there is none). Exits 0 when nothing failed.
"""
import concurrent.futures
import socket
import socketserver
import struct
import subprocess
import sys
import threading

import yaml

# Explanations compared without regard to ASCII case, each with why.
EXPLANATION_CASE_IGNORED = {
    # The suite wants %{ir} of CAFE:BABE::1 as "...E.B.A.B.E.F.A.C.ip6.arpa", uppercase nibbles
    # (what pyspf prints), while its %{c} in the same text is lowercase. RFC 7208 §7.3 only
    # says "i" expands to "a dot-format address", and §7.4's own example of %{ir} for
    # 2001:db8::cb01 is lowercase ("1.0.b.c.0.0. ... 8.b.d.0.1.0.0.2.ip6"), which Tern follows;
    # DNS names compare case-insensitively anyway. The text is still checked, only not its case.
    "v-macro-ip6": "RFC 7208 §7.4 writes %{ir} nibbles in lowercase",
}

# How many `tern spf check` processes run at once: most of a check is waiting for DNS (and the
# TIMEOUT tests wait for the resolver's time-out), not CPU.
PARALLEL_CHECKS = 8

TYPE_CODES = {"A": 1, "CNAME": 5, "SOA": 6, "PTR": 12, "MX": 15, "TXT": 16, "AAAA": 28, "SPF": 99}
TYPE_OPT = 41
RCODE_NXDOMAIN = 3
# What the resolver may cache: nothing, so no answer outlives its scenario.
TTL = 0


def wire_name(text):
    """RFC 1035 §3.1: length-prefixed labels, as written (the suite has names with ':', '/',
    '%' and spaces in them), without compression."""
    text = text.rstrip(".")
    labels = text.split(".") if text else []
    return b"".join(bytes([len(label)]) + label for label in (part.encode("utf-8") for part in labels)) + b"\0"


def zone_key(text):
    """Names compare case-insensitively in ASCII (RFC 4343 §3)."""
    return text.rstrip(".").encode("utf-8").lower()


def character_strings(strings):
    """RFC 1035 §3.3.14: TXT data is one or more <character-string>s of at most 255 octets."""
    out = b""
    for string in strings:
        data = string.encode("utf-8")
        chunks = [data[i:i + 255] for i in range(0, len(data), 255)] or [b""]
        out += b"".join(bytes([len(chunk)]) + chunk for chunk in chunks)
    return out


def rdata(rtype, value):
    if rtype == "A":
        return socket.inet_pton(socket.AF_INET, value)
    if rtype == "AAAA":
        return socket.inet_pton(socket.AF_INET6, value)
    if rtype == "MX":
        preference, exchange = value
        return struct.pack("!H", preference) + wire_name(exchange)
    if rtype in ("PTR", "CNAME"):
        return wire_name(value)
    if rtype in ("TXT", "SPF"):
        return character_strings([value] if isinstance(value, str) else value)
    raise ValueError(f"record type {rtype} is not served")


class Node:
    """One name's records in zone order: (type code, rdata, for CNAME the target's key, the
    value as written)."""

    def __init__(self, entries):
        self.records = []
        self.times_out = False
        spf_values = []
        has_txt = False
        for entry in entries:
            if entry == "TIMEOUT":
                self.times_out = True
                continue
            ((rtype, value),) = entry.items()
            has_txt = has_txt or rtype == "TXT"
            if value == "NONE":
                continue
            if rtype == "SPF":
                spf_values.append(value)
            self.add(rtype, value)
        if not has_txt:
            for value in spf_values:
                self.add("TXT", value)

    def add(self, rtype, value):
        target = zone_key(value) if rtype == "CNAME" else None
        self.records.append((TYPE_CODES[rtype], rdata(rtype, value), target, value))


class Zone:
    def __init__(self, zonedata):
        self.nodes = {zone_key(name): Node(entries) for name, entries in (zonedata or {}).items()}

    def exists(self, key):
        """The name or a name below it is in the zone (RFC 8020: else NXDOMAIN)."""
        return key in self.nodes or any(name.endswith(b"." + key) for name in self.nodes)

    def resolve(self, question_name, key, qtype):
        """(rcode, answer records as (owner wire, type, rdata)); None for a query left
        unanswered."""
        answers = []
        owner_wire = question_name
        seen = {key}
        while True:
            node = self.nodes.get(key)
            if node is None:
                return (0 if self.exists(key) else RCODE_NXDOMAIN), answers
            cnames = [record for record in node.records if record[0] == TYPE_CODES["CNAME"]]
            if cnames and qtype != TYPE_CODES["CNAME"]:
                code, data, target, written = cnames[0]
                answers.append((owner_wire, code, data))
                if target in seen:
                    return 0, answers
                seen.add(target)
                key, owner_wire = target, wire_name(written)
                continue
            matching = [(owner_wire, code, data) for code, data, _, _ in node.records if code == qtype]
            if not matching and node.times_out:
                return None
            return 0, answers + matching


# RFC 2308 §3: negative answers carry the zone's SOA; this server speaks for the whole tree.
SOA_RECORD = (b"\0", TYPE_CODES["SOA"], wire_name("ns.spf-suite.test") + wire_name("hostmaster.spf-suite.test") + struct.pack("!IIIII", 1, 3600, 600, 86400, TTL))


def encode_record(owner, rtype, data):
    return owner + struct.pack("!HHIH", rtype, 1, TTL, len(data)) + data


def parse_query(message):
    """The ID, flags, question name (wire form), its lookup key, type, the whole question
    section, and the EDNS UDP payload size (None without OPT, RFC 6891 §6.2.3)."""
    query_id, flags, qdcount, _, _, arcount = struct.unpack("!6H", message[:12])
    if qdcount != 1:
        raise ValueError("not one question")
    position = 12
    labels = []
    while message[position]:
        length = message[position]
        labels.append(message[position + 1:position + 1 + length])
        position += 1 + length
    name_wire = message[12:position + 1]
    position += 1
    qtype, _ = struct.unpack("!HH", message[position:position + 4])
    question = message[12:position + 4]
    position += 4
    payload = None
    for _ in range(arcount):
        if message[position] != 0:
            break
        rtype, rclass, _, rdlength = struct.unpack("!HHIH", message[position + 1:position + 11])
        if rtype == TYPE_OPT:
            payload = max(512, rclass)
        position += 11 + rdlength
    return query_id, flags, name_wire, b".".join(labels).lower(), qtype, question, payload


def respond(zone, message, over_udp):
    """The response to one query, or None to leave it unanswered. Over UDP, an answer longer
    than the client takes (512 octets, or its EDNS payload size) is sent with TC set and no
    records (RFC 1035 §4.2.1, RFC 6891 §6.2.5)."""
    query_id, flags, name_wire, key, qtype, question, payload = parse_query(message)
    outcome = zone.resolve(name_wire, key, qtype)
    if outcome is None:
        return None
    rcode, answers = outcome
    authority = [SOA_RECORD] if not answers or rcode else []
    # QR, the opcode and RD copied, AA (RFC 1035 §4.1.1).
    response_flags = 0x8000 | (flags & 0x7900) | 0x0400 | rcode
    # RFC 6891 §7: an OPT in the response only when the query had one.
    opt = struct.pack("!BHHIH", 0, TYPE_OPT, 1232, 0, 0) if payload is not None else b""
    body = b"".join(encode_record(*record) for record in answers + authority)
    header = struct.pack("!6H", query_id, response_flags, 1, len(answers), len(authority), 1 if opt else 0)
    response = header + question + body + opt
    if over_udp and len(response) > (payload or 512):
        header = struct.pack("!6H", query_id, response_flags | 0x0200, 1, 0, 0, 1 if opt else 0)
        response = header + question + opt
    return response


class DNSServer:
    """UDP and TCP on 127.0.0.1:port, answering from `zone`, which is swapped per scenario."""

    def __init__(self, port):
        self.zone = Zone({})
        server = self

        class UDPHandler(socketserver.BaseRequestHandler):
            def handle(self):
                message, sock = self.request
                try:
                    response = respond(server.zone, message, over_udp=True)
                except (ValueError, IndexError, struct.error) as error:
                    print(f"spf-suite dns: bad query: {error}", file=sys.stderr)
                    return
                if response is not None:
                    sock.sendto(response, self.client_address)

        class TCPHandler(socketserver.BaseRequestHandler):
            def handle(self):
                connection = self.request
                length_bytes = self.receive(connection, 2)
                if length_bytes is None:
                    return
                message = self.receive(connection, struct.unpack("!H", length_bytes)[0])
                if message is None:
                    return
                try:
                    response = respond(server.zone, message, over_udp=False)
                except (ValueError, IndexError, struct.error) as error:
                    print(f"spf-suite dns: bad query: {error}", file=sys.stderr)
                    return
                if response is not None:
                    connection.sendall(struct.pack("!H", len(response)) + response)

            @staticmethod
            def receive(connection, count):
                data = b""
                while len(data) < count:
                    chunk = connection.recv(count - len(data))
                    if not chunk:
                        return None
                    data += chunk
                return data

        socketserver.ThreadingUDPServer.allow_reuse_address = True
        socketserver.ThreadingTCPServer.allow_reuse_address = True
        self.udp = socketserver.ThreadingUDPServer(("127.0.0.1", port), UDPHandler)
        self.tcp = socketserver.ThreadingTCPServer(("127.0.0.1", port), TCPHandler)
        self.udp.daemon_threads = self.tcp.daemon_threads = True
        for listener in (self.udp, self.tcp):
            threading.Thread(target=listener.serve_forever, daemon=True).start()

    def close(self):
        for listener in (self.udp, self.tcp):
            listener.shutdown()
            listener.server_close()


def run_check(tern, port, test):
    """`tern spf check`'s printed fields: {"result": ..., "explanation": ...}."""
    command = [tern, "spf", "check", "--resolver", f"127.0.0.1:{port}", str(test["host"]), test["mailfrom"], test["helo"]]
    completed = subprocess.run(command, capture_output=True, text=True, timeout=120)
    if completed.returncode != 0:
        return {"error": f"exit {completed.returncode}: {completed.stderr.strip()[-300:]}"}
    fields = {}
    for line in completed.stdout.splitlines():
        key, separator, value = line.partition(": ")
        if separator and key in ("result", "explanation", "problem", "mechanism"):
            fields[key] = value
    return fields


def judge(name, test, fields):
    """The failures of one test (empty when it passed) and the number of checks made."""
    if "error" in fields:
        return [fields["error"]], 1
    expected = test["result"] if isinstance(test["result"], list) else [test["result"]]
    result = fields.get("result")
    failures = []
    if result not in expected:
        failures.append(f"result {result}, expected {' or '.join(expected)} ({fields.get('problem') or fields.get('mechanism') or 'no detail'})")
    checks = 1
    if "explanation" in test:
        checks += 1
        # "DEFAULT" stands for the checker's own default text: the domain gave none.
        wanted = None if test["explanation"] == "DEFAULT" else test["explanation"]
        explanation = fields.get("explanation")
        if name in EXPLANATION_CASE_IGNORED and explanation is not None and wanted is not None:
            explanation, wanted = explanation.lower(), wanted.lower()
        if explanation != wanted:
            failures.append(f"explanation {explanation!r}, expected {wanted!r}")
    return failures, checks


def main():
    tern, suite_path, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
    with open(suite_path, "rb") as suite_file:
        scenarios = list(yaml.safe_load_all(suite_file))
    server = DNSServer(port)
    checks = 0
    failed = []
    try:
        for scenario in scenarios:
            server.zone = Zone(scenario.get("zonedata"))
            tests = scenario["tests"]
            with concurrent.futures.ThreadPoolExecutor(PARALLEL_CHECKS) as pool:
                outcomes = dict(zip(tests, pool.map(lambda test: run_check(tern, port, test), tests.values())))
            for name, test in tests.items():
                failures, count = judge(name, test, outcomes[name])
                checks += count
                for failure in failures:
                    print(f"FAIL {name} ({scenario['description']}, RFC 7208 {test.get('spec')}): {failure}", file=sys.stderr)
                if failures:
                    failed.append(name)
    finally:
        server.close()
    for name, reason in EXPLANATION_CASE_IGNORED.items():
        print(f"note: the explanation of {name} was compared without regard to case: {reason}", file=sys.stderr)
    print(f"{checks} {len(failed)} {failed[0] if failed else '-'}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
