/// Sessions per account (a named limit), so one account's clients cannot use up the server.
actor AccountConnectionLimiter {
    let maxPerAccount: Int
    private var counts: [String: Int] = [:]

    init(maxPerAccount: Int) {
        self.maxPerAccount = maxPerAccount
    }

    func acquire(_ account: String) -> Bool {
        let count = counts[account, default: 0]
        guard count < maxPerAccount else { return false }
        counts[account] = count + 1
        return true
    }

    func release(_ account: String) {
        let count = counts[account, default: 1] - 1
        counts[account] = count > 0 ? count : nil
    }
}
