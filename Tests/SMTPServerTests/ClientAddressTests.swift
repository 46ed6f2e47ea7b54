@testable import ServerSupport
import Testing

@Suite struct ClientAddressTests {
    @Test func ipv6CountsByItsSlash64() {
        #expect(ClientAddress.limitKey("2001:db8:1:2:aaaa:bbbb:cccc:dddd") == "2001:db8:1:2::/64")
        #expect(ClientAddress.limitKey("2001:db8:1:2::1") == ClientAddress.limitKey("2001:db8:1:2:ffff::9"))
        #expect(ClientAddress.limitKey("2001:db8:1:3::1") != ClientAddress.limitKey("2001:db8:1:2::1"))
        #expect(ClientAddress.limitKey("::ffff:192.0.2.7") == "192.0.2.7")
        #expect(ClientAddress.limitKey("192.0.2.7") == "192.0.2.7")
        #expect(ClientAddress.limitKey("unknown") == "unknown")
    }

    /// One client with many addresses of its /64 gets the per-address limits once.
    @Test func limitersCountTheSlash64() async {
        let connections = ConnectionLimiter(maxPerAddress: 2)
        #expect(await connections.acquire("2001:db8::1"))
        #expect(await connections.acquire("2001:db8::2"))
        #expect(await !connections.acquire("2001:db8::3"))
        #expect(await connections.acquire("2001:db8:0:1::3"))
        await connections.release("2001:db8::1")
        #expect(await connections.acquire("2001:db8::4"))

        let failures = AuthFailureLimiter(maxFailures: 2, baseDelay: .milliseconds(1))
        _ = await failures.recordFailure("2001:db8::1")
        _ = await failures.recordFailure("2001:db8::2")
        #expect(await failures.isBlocked("2001:db8::3"))
        #expect(await !failures.isBlocked("2001:db8:0:1::3"))
        await failures.recordSuccess("2001:db8::9")
        #expect(await !failures.isBlocked("2001:db8::3"))
    }
}
