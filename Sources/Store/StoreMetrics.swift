import Metrics

/// The store's metrics, through the swift-metrics API (the executable picks the backend).
///
/// Every acknowledgement of a message (SMTP 250, IMAP APPEND OK) waits for a group
/// transaction to become durable (GroupCommit.swift), so these two say where a server's
/// delivery time goes:
/// - `tern_store_commit_duration_seconds`: one group transaction from its start to its
///   COMMIT returning: the directory syncs of large files, the statements of every write in
///   it, the WAL write and its fsync. On an idle server this is most of the time between a
///   message's last octet and its acknowledgement, and it is bounded below by the disk's
///   flush latency, which no server that acknowledges only durable mail can avoid.
/// - `tern_store_commit_writes`: how many writes (deliveries, appends, flag changes...)
///   shared one transaction. Above 1 the group commit is saving fsyncs: under load, the
///   transactions per second stay near 1 / duration while the writes per second grow.
/// Both carry `database`: `account` (the account databases) or `journal` (the delivery
/// journal of multi-account deliveries).
public struct StoreMetrics: Sendable {
    public static let commitDurationLabel = "tern_store_commit_duration_seconds"
    public static let commitWritesLabel = "tern_store_commit_writes"
    /// From a fast SSD's flush (tens of microseconds) to a congested disk's (a second).
    public static let commitDurationBuckets: [Duration] = [
        .microseconds(100), .microseconds(250), .microseconds(500), .milliseconds(1), .microseconds(2500), .milliseconds(5),
        .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250), .seconds(1),
    ]
    /// Up to `GroupCommitter`'s largest batch, 64.
    public static let commitWritesBuckets: [Double] = [1, 2, 4, 8, 16, 32, 64]

    let accounts: CommitMetrics
    let journal: CommitMetrics

    public init(factory: any MetricsFactory = MetricsSystem.factory) {
        accounts = CommitMetrics(database: "account", factory: factory)
        journal = CommitMetrics(database: "journal", factory: factory)
    }
}

/// The commit metrics of one kind of database.
struct CommitMetrics: Sendable {
    private let duration: Timer
    private let writes: Recorder

    init(database: String, factory: any MetricsFactory) {
        let dimensions = [("database", database)]
        duration = Timer(label: StoreMetrics.commitDurationLabel, dimensions: dimensions, preferredDisplayUnit: .seconds, factory: factory)
        writes = Recorder(label: StoreMetrics.commitWritesLabel, dimensions: dimensions, aggregate: true, factory: factory)
    }

    /// A transaction of `count` writes, begun at `start`, has committed.
    func committed(_ count: Int, since start: ContinuousClock.Instant) {
        duration.record(duration: ContinuousClock.now - start)
        writes.record(count)
    }
}
