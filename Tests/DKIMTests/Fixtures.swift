import DKIM
import DNS
import Foundation

/// `text` with each LF made CRLF, as a message travels.
func crlf(_ text: String) -> [UInt8] {
    Array(text.replacingOccurrences(of: "\n", with: "\r\n").utf8)
}

func name(_ text: String) -> DNSName { (try? DNSName(text)) ?? .root }

extension MockResolver {
    /// A TXT record of one or more character-strings.
    func addTXT(_ owner: String, _ strings: [String], authentic: Bool = false) {
        add([ResourceRecord(name: name(owner), ttl: 300, data: .txt(strings.map { Array($0.utf8) }))], authentic: authentic)
    }
}

/// RFC 8463 Appendix A: a message with an Ed25519 and an RSA signature, their keys and key
/// records. Per A.3, lines start at the first position except the continuation lines of
/// the DKIM-Signature fields (one space), and a blank line follows "Joe.".
enum RFC8463 {
    static let message = crlf(
        """
        DKIM-Signature: v=1; a=ed25519-sha256; c=relaxed/relaxed;
         d=football.example.com; i=@football.example.com;
         q=dns/txt; s=brisbane; t=1528637909; h=from : to :
         subject : date : message-id : from : subject : date;
         bh=2jUSOH9NhtVGCQWNr9BrIAPreKQjO6Sn7XIkfJVOzv8=;
         b=/gCrinpcQOoIfuHNQIbq4pgh9kyIK3AQUdt9OdqQehSwhEIug4D11Bus
         Fa3bT3FY5OsU7ZbnKELq+eXdp1Q1Dw==
        DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed;
         d=football.example.com; i=@football.example.com;
         q=dns/txt; s=test; t=1528637909; h=from : to : subject :
         date : message-id : from : subject : date;
         bh=2jUSOH9NhtVGCQWNr9BrIAPreKQjO6Sn7XIkfJVOzv8=;
         b=F45dVWDfMbQDGHJFlXUNB2HKfbCeLRyhDXgFpEL8GwpsRe0IeIixNTe3
         DhCVlUrSjV4BwcVcOF6+FF3Zo9Rpo1tFOeS9mPYQTnGdaSGsgeefOsk2Jz
         dA+L10TeYt9BgDfQNZtKdN1WO//KgIqXP7OdEFE4LjFYNcUxZQ4FADY+8=
        \(unsigned)
        """)

    /// The message without its signatures.
    static let unsigned = """
        From: Joe SixPack <joe@football.example.com>
        To: Suzie Q <suzie@shopping.example.net>
        Subject: Is dinner ready?
        Date: Fri, 11 Jul 2003 21:00:37 -0700 (PDT)
        Message-ID: <20030712040037.46341.5F8J@football.example.com>

        Hi.

        We lost the game.  Are you hungry yet?

        Joe.


        """

    static let ed25519Name = "brisbane._domainkey.football.example.com"
    static let rsaName = "test._domainkey.football.example.com"
    static let ed25519Record = "v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo="
    /// A.2 gives the RSA record as four character-strings, joined without separators.
    static let rsaRecordStrings = [
        "v=DKIM1; k=rsa; p=MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDkHlOQoBTzWR",
        "iGs5V6NpP3idY6Wk08a5qhdR6wy5bdOKb2jLQiY/J16JYi0Qvx/byYzCNb3W91y3FutAC",
        "DfzwQ/BC/e/8uBsCR+yz1Lxj+PL6lHvqMKrM3rG4hstT5QjvHO9PzoxZyVYLzBfO2EeC3",
        "Ip3G+2kryOTIKT+l/K4w3QIDAQAB",
    ]

    /// A.1: the RSA key (1024 bits), PKCS#1.
    static let rsaPrivateKeyPEM = """
        -----BEGIN RSA PRIVATE KEY-----
        MIICXQIBAAKBgQDkHlOQoBTzWRiGs5V6NpP3idY6Wk08a5qhdR6wy5bdOKb2jLQi
        Y/J16JYi0Qvx/byYzCNb3W91y3FutACDfzwQ/BC/e/8uBsCR+yz1Lxj+PL6lHvqM
        KrM3rG4hstT5QjvHO9PzoxZyVYLzBfO2EeC3Ip3G+2kryOTIKT+l/K4w3QIDAQAB
        AoGAH0cxOhFZDgzXWhDhnAJDw5s4roOXN4OhjiXa8W7Y3rhX3FJqmJSPuC8N9vQm
        6SVbaLAE4SG5mLMueHlh4KXffEpuLEiNp9Ss3O4YfLiQpbRqE7Tm5SxKjvvQoZZe
        zHorimOaChRL2it47iuWxzxSiRMv4c+j70GiWdxXnxe4UoECQQDzJB/0U58W7RZy
        6enGVj2kWF732CoWFZWzi1FicudrBFoy63QwcowpoCazKtvZGMNlPWnC7x/6o8Gc
        uSe0ga2xAkEA8C7PipPm1/1fTRQvj1o/dDmZp243044ZNyxjg+/OPN0oWCbXIGxy
        WvmZbXriOWoSALJTjExEgraHEgnXssuk7QJBALl5ICsYMu6hMxO73gnfNayNgPxd
        WFV6Z7ULnKyV7HSVYF0hgYOHjeYe9gaMtiJYoo0zGN+L3AAtNP9huqkWlzECQE1a
        licIeVlo1e+qJ6Mgqr0Q7Aa7falZ448ccbSFYEPD6oFxiOl9Y9se9iYHZKKfIcst
        o7DUw1/hz2Ck4N5JrgUCQQCyKveNvjzkkd8HjYs0SwM0fPjK16//5qDZ2UiDGnOe
        uEzxBDAr518Z8VFbR41in3W4Y3yCDgQlLlcETrS+zYcL
        -----END RSA PRIVATE KEY-----
        """

    /// A.1: the Ed25519 secret key, RFC 8032 §7.1 test 1, as base64 of the 32-octet seed.
    static let ed25519Seed = "nWGxne/9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A="

    /// A resolver with both key records.
    static func resolver(authentic: Bool = false) -> MockResolver {
        let resolver = MockResolver()
        resolver.addTXT(ed25519Name, [ed25519Record], authentic: authentic)
        resolver.addTXT(rsaName, rsaRecordStrings, authentic: authentic)
        return resolver
    }
}

/// Signatures made by dkimpy with the RFC 8463 RSA key (selector "test"), for what Tern's
/// signer does not write.
enum Dkimpy {
    /// l=54, the whole relaxed body of RFC8463.unsigned.
    static let bodyLengthSignature = """
        DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed;
         d=football.example.com; i=@football.example.com; l=54; q=dns/txt;
         s=test; t=1795340346; h=from : to : subject : date : message-id;
         bh=2jUSOH9NhtVGCQWNr9BrIAPreKQjO6Sn7XIkfJVOzv8=;
         b=ImvFqqbAh7nCXpivs6G/+N+TzV0SezV6kEADDHgUbCGMCzTdgKKy4AIcIzHXK/j/iPSIG
         MHWj3QvNdeU4lzZzJSVvLFkoJdgYCJf9iVgaKHLnEdnp6UytjnXWgTDZseA0ViNLzZzkxrK
         OCpI7IReGQ83/a6wL0oQ/yVB2Yxz7Tg=

        """

    /// rsa-sha1 over From, To and Subject of RFC8463.unsigned.
    static let rsaSHA1Signature = """
        DKIM-Signature: v=1; a=rsa-sha1; c=relaxed/simple;
         d=football.example.com; i=@football.example.com; q=dns/txt; s=test;
         t=1795340332; h=from : to : subject; bh=NusQdCEdbIrlDBgnlbQjBOFK4uI=;
         b=sV0i9Tf6PMIlwor55zexVwFpOxAB6MBdYhbS/VwO6DFlLiPrU3nxvuZeOYQDzyf9IaO9e
         YJVvLAMg1mySk55ILitZVtQJ909wDlIgBqPuCNMvDP3TnfoeoGGNWQHaR8Udw4c1NqTtLNh
         ybyyKU+jcX0EDZaR0o+W/MmzNplMaEY=

        """

    /// A real rsa-sha256 signature by a 512-bit key (selector "short").
    static let shortKeySignature = """
        DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/simple;
         d=football.example.com; i=@football.example.com; q=dns/txt; s=short;
         t=1795340332; h=from : to : subject;
         bh=4bLNXImK9drULnmePzZNEBleUanJCX5PIsDIFoH4KTQ=;
         b=nAmip3MXOizMoab8bomTSu2s44lq0J3sgHB3J/isPv4SRtdsGORMNj9nbDH8PmENyQyp4
         aAQ19D4tbVN/mn4Ug==

        """

    /// The public half of that 512-bit key, SubjectPublicKeyInfo.
    static let shortKeyRecord =
        "v=DKIM1; k=rsa; p=MFwwDQYJKoZIhvcNAQEBBQADSwAwSAJBAJ5iID48/W9B4yfAkkNpyVkI/jLlMuXAWebPxEkzH/r8cIR0nBNVdNvMUOb04+l77s2+2tZVjSUYxUKYFh6k7LkCAwEAAQ=="
}
