/// Runs one step of a connection's work (a command, say) in a child task whose memory is
/// returned when the step ends, and gives back its result.
///
/// Why: a Swift task keeps the memory of its deepest chain of async calls until the task
/// ends (the runtime's task allocator keeps the slabs it grew into), so a connection task
/// that once handled a command with a deep chain (an IMAP SELECT or FETCH) would hold that
/// memory for as long as the connection stays open, idle or not. heaptrack showed 20 kB of
/// such frames held by every IMAP connection idling in IDLE; in a child task they are freed
/// with the task, and an idle connection keeps only its read loop's frames. A child task
/// costs one allocation per step, nothing next to a command's work.
///
/// `subject` (the protocol session) is handed to the child and back: the caller waits for
/// the step to end before it touches the subject again, so exactly one task uses it at a
/// time, which is why the hand-over may be unchecked.
public func inShortLivedTask<Subject: AnyObject, Value: Sendable>(
    _ subject: Subject, _ step: @escaping @Sendable (Subject) async throws -> Value
) async throws -> Value {
    let handover = Handover(subject)
    return try await withThrowingTaskGroup(of: Value.self) { group in
        group.addTask { try await step(handover.subject) }
        // The group has exactly one child, so `next()` yields its result (or rethrows).
        guard let value = try await group.next() else { throw CancellationError() }
        return value
    }
}

/// The subject of `inShortLivedTask` on its way to the child task and back.
private struct Handover<Subject: AnyObject>: @unchecked Sendable {
    // @unchecked: the caller is suspended until the child ends (see inShortLivedTask).
    let subject: Subject
    init(_ subject: Subject) { self.subject = subject }
}
