import Glibc
import ServerSupport
import Testing

@Suite struct DescriptorLimitTests {
    /// A soft limit below the hard one is raised to it, and what is returned is the limit in
    /// force. (The soft limit is first lowered by one, which no test comes near.)
    @Test func softLimitIsRaisedToTheHardLimit() throws {
        let before = try #require(DescriptorLimit.current())
        var lowered = rlimit(rlim_cur: rlim_t(before.hard - 1), rlim_max: rlim_t(before.hard))
        try #require(setrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &lowered) == 0)
        #expect(DescriptorLimit.current()?.soft == before.hard - 1)
        #expect(DescriptorLimit.raiseToHardLimit() == before.hard)
        #expect(DescriptorLimit.current()?.soft == before.hard)
        #expect(DescriptorLimit.current()?.hard == before.hard)
    }
}
