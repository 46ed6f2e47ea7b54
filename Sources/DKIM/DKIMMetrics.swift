import Metrics

/// DKIM's metrics. Every labelled counter exists at zero from the start, so an alert on
/// `increase(tern_dkim_verifications_total{result="temperror"}[1h])` sees the first one.
public struct DKIMMetrics: Sendable {
    private let verifications: [DKIMStatus: Counter]
    private let signatures: [DKIMAlgorithm: Counter]

    public init(factory: MetricsFactory = MetricsSystem.factory) {
        var verifications: [DKIMStatus: Counter] = [:]
        for status in DKIMStatus.allCases {
            verifications[status] = Counter(label: "tern_dkim_verifications_total", dimensions: [("result", status.rawValue)], factory: factory)
        }
        self.verifications = verifications
        var signatures: [DKIMAlgorithm: Counter] = [:]
        for algorithm in [DKIMAlgorithm.rsaSHA256, .ed25519SHA256] {
            signatures[algorithm] = Counter(label: "tern_dkim_signatures_total", dimensions: [("algorithm", algorithm.rawValue)], factory: factory)
        }
        self.signatures = signatures
    }

    func countVerification(_ status: DKIMStatus) {
        verifications[status]?.increment()
    }

    func countSignature(_ algorithm: DKIMAlgorithm) {
        signatures[algorithm]?.increment()
    }
}
