import DurableFiles

extension StoreError {
    init(_ error: FileIOError) {
        self = .io(operation: error.operation, path: error.path, errno: error.errno)
    }
}

/// Runs file operations of the DurableFiles module, reporting a failure as the store's own
/// `StoreError.io`, which callers (the IMAP and SMTP servers) map to their responses.
func storeIO<T>(_ body: () throws(FileIOError) -> T) throws(StoreError) -> T {
    do {
        return try body()
    } catch {
        throw StoreError(error)
    }
}
