import NIOCore

/// Runs a connection's task on its channel's event loop (SE-0417 task executor
/// preference), so that reading a command, handling it and writing the reply happen on
/// the one thread that owns the socket: no hand-over to the cooperative pool and back for
/// every command, which on a small machine costs more than handling the command.
///
/// Nonisolated async code of the task runs here, NIO's async channel included. Blocking
/// work must not: the store does its fsyncs on its own threads, and CPU-heavy steps (parsing
/// a large message) leave with `withTaskExecutorPreference(globalConcurrentExecutor)`.
public final class EventLoopTaskExecutor: TaskExecutor, @unchecked Sendable {
    // @unchecked: immutable; EventLoop is thread-safe.
    public let eventLoop: any EventLoop

    public init(_ eventLoop: any EventLoop) {
        self.eventLoop = eventLoop
    }

    public func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        eventLoop.execute { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
    }
}
