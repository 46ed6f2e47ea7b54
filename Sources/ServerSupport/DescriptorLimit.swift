#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The process's limit on open descriptors. Every connection, message file being read and
/// database connection takes one or more, and the usual soft limit (1024) is reached with a
/// few hundred IMAP sessions, after which `accept` fails. A server may raise its soft limit
/// up to the hard one that the administrator set (setrlimit(2)); `serve` does so at start.
public enum DescriptorLimit {
    /// Raises the soft limit to the hard limit; returns the soft limit in force afterwards
    /// (unchanged if the system refuses, nil if it cannot be read).
    @discardableResult
    public static func raiseToHardLimit() -> UInt64? {
        guard let (soft, hard) = current() else { return nil }
        guard soft < hard else { return soft }
        var raised = rlimit(rlim_cur: rlim_t(hard), rlim_max: rlim_t(hard))
        return setrlimit(resource, &raised) == 0 ? hard : soft
    }

    /// The soft and hard limits now, nil if they cannot be read.
    public static func current() -> (soft: UInt64, hard: UInt64)? {
        var limit = rlimit()
        guard getrlimit(resource, &limit) == 0 else { return nil }
        return (UInt64(limit.rlim_cur), UInt64(limit.rlim_max))
    }

    #if canImport(Glibc)
    private static let resource = __rlimit_resource_t(RLIMIT_NOFILE.rawValue)
    #else
    private static let resource = RLIMIT_NOFILE
    #endif
}
