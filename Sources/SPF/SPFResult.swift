/// RFC 7208 §2.6: the results of check_host().
public enum SPFResult: String, Hashable, Sendable, CaseIterable, CustomStringConvertible {
    case none, neutral, pass, fail, softfail, temperror, permerror
    public var description: String { rawValue }
}
