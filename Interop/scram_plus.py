"""SCRAM-SHA-256-PLUS (RFC 5802 §3, §6) against Tern's submission port after STARTTLS, with
the channel binding computed by a real TLS stack rather than by Tern's code:

  exporter  TLS 1.3 through `openssl s_client`, tls-exporter (RFC 9266) from OpenSSL's own
            exporter (-keymatexport EXPORTER-Channel-Binding)
  unique    TLS 1.2 through Python's ssl module, tls-unique (RFC 5929 §3.1) from OpenSSL's
            Finished (SSLSocket.get_channel_binding)
  resumed   as unique, on a second connection resuming the first one's session: the
            abbreviated handshake, whose first Finished is the server's
  no-ems    TLS 1.2 without extended master secret (RFC 7627), where tls-unique is not
            unique (RFC 9266 §1): prints whether EHLO offers SCRAM-SHA-256-PLUS
            ("offered" or "not-offered") instead of authenticating

Usage: scram_plus.py MODE PORT USER PASSWORD [tamper|exporter-name]
  tamper         flips one bit of the binding
  exporter-name  (unique, resumed) sends the tls-unique data under the name tls-exporter
Prints the final reply code of AUTH. Exits non-zero, with the reason on stderr, when the
server does not offer SCRAM-SHA-256-PLUS or misbehaves otherwise.
"""
import base64
import hashlib
import hmac
import os
import socket
import ssl
import subprocess
import sys


class OpenSSLExporter:
    """`openssl s_client -starttls smtp` over TLS 1.3; it prints the exporter value."""

    binding_name = "tls-exporter"

    def __init__(self, port):
        self.proc = subprocess.Popen(
            ["openssl", "s_client", "-connect", f"127.0.0.1:{port}", "-starttls", "smtp", "-tls1_3",
             "-keymatexport", "EXPORTER-Channel-Binding", "-keymatexportlen", "32", "-nocommands", "-ign_eof"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, bufsize=1)
        self.binding = None
        while self.binding is None:
            text = self.line().strip()
            if text.startswith("Keying material:"):
                self.binding = bytes.fromhex(text.split(":", 1)[1].strip())

    def line(self):
        text = self.proc.stdout.readline()
        if not text:
            sys.exit("s_client ended")
        return text.rstrip("\r\n")

    def send(self, text):
        self.proc.stdin.write(text + "\r\n")
        self.proc.stdin.flush()

    def close(self):
        self.proc.stdin.close()
        self.proc.wait(timeout=10)


class PythonTLS12:
    """STARTTLS by hand with Python's ssl module, TLS 1.2 at most."""

    binding_name = "tls-unique"

    def __init__(self, port, context, session=None):
        self.socket = socket.create_connection(("127.0.0.1", port), timeout=20)
        self.reader = self.socket.makefile("rb")
        self.expect(220)
        self.send("EHLO interop.example")
        self.expect(250)
        self.send("STARTTLS")
        self.expect(220)
        self.socket = context.wrap_socket(self.socket, session=session)
        self.reader = self.socket.makefile("rb")
        if self.socket.version() != "TLSv1.2":
            sys.exit(f"negotiated {self.socket.version()}, not TLS 1.2")
        self.binding = self.socket.get_channel_binding("tls-unique")

    def expect(self, wanted):
        code, lines = reply(self)
        if code != wanted:
            sys.exit(f"wanted {wanted}, got {code} {lines}")

    def line(self):
        text = self.reader.readline()
        if not text:
            sys.exit("server closed the connection")
        return text.decode().rstrip("\r\n")

    def send(self, text):
        self.socket.sendall((text + "\r\n").encode())

    def close(self):
        # close_notify first: OpenSSL keeps a session resumable only if it was sent.
        try:
            self.socket = self.socket.unwrap()
        except OSError:
            pass
        self.socket.close()


def reply(connection):
    """The next reply: its code and its lines' texts."""
    while True:
        text = connection.line()
        if len(text) >= 4 and text[:3].isdigit() and text[3] in " -":
            lines = [text]
            while lines[-1][3] == "-":
                lines.append(connection.line())
            return int(text[:3]), [l[4:] for l in lines]


def authenticate(connection, user, password, binding_name, binding):
    """EHLO, then AUTH SCRAM-SHA-256-PLUS; the final reply code."""
    connection.send("EHLO interop.example")
    code, lines = reply(connection)
    auth = next((l for l in lines if l.startswith("AUTH ")), "")
    if "SCRAM-SHA-256-PLUS" not in auth.split():
        sys.exit(f"no SCRAM-SHA-256-PLUS in {auth!r}")
    # RFC 5802 §7: gs2-cbind-flag "p=" names the channel binding type.
    gs2 = f"p={binding_name},,".encode()
    nonce = base64.b64encode(os.urandom(18)).decode()
    first_bare = f"n={user},r={nonce}"
    connection.send("AUTH SCRAM-SHA-256-PLUS " + base64.b64encode(gs2 + first_bare.encode()).decode())
    code, lines = reply(connection)
    if code != 334:
        return code
    server_first = base64.b64decode(lines[0]).decode()
    fields = dict(item.split("=", 1) for item in server_first.split(","))
    if not fields["r"].startswith(nonce):
        sys.exit("server nonce does not extend ours")
    salted = hashlib.pbkdf2_hmac("sha256", password.encode(), base64.b64decode(fields["s"]), int(fields["i"]))
    client_key = hmac.new(salted, b"Client Key", hashlib.sha256).digest()
    stored_key = hashlib.sha256(client_key).digest()
    final_bare = "c=" + base64.b64encode(gs2 + binding).decode() + ",r=" + fields["r"]
    message = f"{first_bare},{server_first},{final_bare}".encode()
    signature = hmac.new(stored_key, message, hashlib.sha256).digest()
    proof = bytes(a ^ b for a, b in zip(client_key, signature))
    connection.send(base64.b64encode(f"{final_bare},p={base64.b64encode(proof).decode()}".encode()).decode())
    code, lines = reply(connection)
    if code == 334:
        server_final = base64.b64decode(lines[0]).decode()
        server_key = hmac.new(salted, b"Server Key", hashlib.sha256).digest()
        expected = base64.b64encode(hmac.new(server_key, message, hashlib.sha256).digest()).decode()
        if server_final != "v=" + expected:
            sys.exit("server signature wrong")
        connection.send("")
        code, lines = reply(connection)
    return code


# OpenSSL's SSL_OP_NO_EXTENDED_MASTER_SECRET (openssl/ssl.h, OpenSSL 3.0), which Python's
# ssl module passes on but does not name.
OP_NO_EXTENDED_MASTER_SECRET = 1 << 0


def main():
    mode, port, user, password = sys.argv[1:5]
    variant = sys.argv[5] if len(sys.argv) > 5 else ""
    if mode == "exporter":
        connection = OpenSSLExporter(port)
    else:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        context.maximum_version = ssl.TLSVersion.TLSv1_2
        if mode == "no-ems":
            context.options |= OP_NO_EXTENDED_MASTER_SECRET
        connection = PythonTLS12(port, context)
        if mode == "no-ems":
            connection.send("EHLO interop.example")
            code, lines = reply(connection)
            auth = next((l for l in lines if l.startswith("AUTH ")), "")
            print("offered" if "SCRAM-SHA-256-PLUS" in auth.split() else "not-offered")
            connection.send("QUIT")
            connection.close()
            return
        if mode == "resumed":
            session = connection.socket.session
            connection.send("QUIT")
            reply(connection)
            connection.close()
            connection = PythonTLS12(port, context, session=session)
            if not connection.socket.session_reused:
                sys.exit("the server did not resume the TLS 1.2 session")
    binding = connection.binding
    if variant == "tamper":
        binding = bytes([binding[0] ^ 1]) + binding[1:]
    name = "tls-exporter" if variant == "exporter-name" else connection.binding_name
    code = authenticate(connection, user, password, name, binding)
    connection.send("QUIT")
    connection.close()
    print(code)


main()
