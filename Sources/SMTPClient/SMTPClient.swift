// SMTPClient: Tern's side of SMTP as a client (RFC 5321), used by the outbound queue to
// deliver to other domains' MX hosts and to send through smarthosts and submission
// servers.
//
// Flow of one connection (`ClientConnection.withConnection`):
//
//   connect, directly or through a SOCKS5 proxy (RFC 1928 CONNECT, with RFC 1929
//   username/password when configured)
//     ─▶ [implicit TLS, RFC 8314] ─▶ 220 greeting (RFC 5321 §4.3.1)
//     ─▶ EHLO, or HELO when EHLO gets 5xx (§4.1.1.1, §3.2)
//     ─▶ [STARTTLS (RFC 3207) ─▶ TLS handshake with the caller's verification: PKIX
//         (RFC 5280, RFC 6125) and/or DANE (RFC 7672) through a hook ─▶ EHLO again]
//     ─▶ [AUTH with the SASL module's client (RFC 4954): the configured mechanism, or the
//         strongest offered; SCRAM-*-PLUS with tls-exporter (RFC 9266) on TLS 1.3,
//         tls-unique (RFC 5929) on TLS 1.2]
//     ─▶ transactions, as many as the caller has (RSET before each after the first):
//         MAIL FROM (SIZE RFC 1870, BODY RFC 6152/3030, SMTPUTF8 RFC 6531, REQUIRETLS
//         RFC 8689) ─▶ RCPT TO each ─▶ DATA with dot-stuffing (§4.5.2), or BDAT when
//         CHUNKING is offered (RFC 3030); pipelined when PIPELINING is offered (RFC 2920)
//         ─▶ a result per recipient
//     ─▶ QUIT (§4.1.1.10)
//
// The protocol is `ClientSession`, a state machine that takes the server's octets and
// events and returns actions; `ClientConnection` runs it over a NIO channel and does
// nothing but I/O. The proxy's handshake is a state machine of its own too
// (`SOCKS5Handshake`), run by `SOCKS5TunnelHandler` before the session starts; its
// failures are temporary errors of step "SOCKS5 proxy" naming the proxy and its reply.
// Reply parsing, extension keywords, command encoding and dot-stuffing are the SMTP
// module's shared vocabulary.
//
// Before anything is sent the session checks what the message needs: a message larger
// than the server's SIZE fails permanently; 8-bit, binary or UTF-8 content to a server
// without the extension fails temporarily (a filtering front server may hide it, another
// MX may have it); REQUIRETLS needs verified TLS and the extension (RFC 8689 §4.2.1).
// Every error (`ClientError`) names the command or stage, the reply code, the enhanced
// code and the text, and whether it is permanent. Each wait has its own timeout (RFC 5321
// §4.5.3.2); replies are bounded in line length and line count (`ReplyReader.Limits`).
//
// `Dialing` finds where to connect: MX hosts by preference, random within a preference
// (the randomness is the caller's), the implicit MX, null MX (RFC 7505), addresses of both
// families, and the TLSA records that apply (RFC 7672 §2.2), each with its DNSSEC status.
