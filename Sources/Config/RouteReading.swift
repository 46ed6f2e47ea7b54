// Reading `Routes` lists: tern.yaml's global routes, and the routes of domains and accounts
// in domains.yaml, which have the same keys.

import Yams

extension DocumentReader {
    /// The `Routes` list of `fields`, if written, with paths under `parent`; routes with
    /// errors are reported and left out. `transportProblem` checks a transport name where
    /// the file can: tern.yaml defines the transports, and the routes of domains.yaml are
    /// checked against it afterwards (`StaticConfig.routeIssues`).
    func routes(_ fields: Fields, under parent: KeyPath, transportProblem: (String) -> String? = { _ in nil }) -> [RouteConfig] {
        guard let nodes = fields.list("Routes") else { return [] }
        return nodes.enumerated().compactMap { index, node in
            route(node, parent.key("Routes").index(index), transportProblem: transportProblem)
        }
    }

    private func route(_ node: Node, _ path: KeyPath, transportProblem: (String) -> String?) -> RouteConfig? {
        guard let fields = fields(node, path, owner: Position(node.mark), known: StaticSchema.route) else { return nil }
        func domains(_ key: String) -> [String] {
            guard let nodes = fields.list(key) else { return [] }
            return nodes.enumerated().compactMap { index, node -> String? in
                guard let text = string(node, path.key(key).index(index)) else { return nil }
                switch Validation.hostname(text) {
                case let .success(domain): return domain.ascii.lowercased()
                case let .failure(message):
                    error(path.key(key).index(index), message, node: node)
                    return nil
                }
            }
        }
        let senders = domains("SenderDomains")
        let recipients = domains("RecipientDomains")
        let minimumAttempt = fields.int("MinimumAttempt", default: 1, range: 1...1000)
        guard let name = fields.string("Transport", required: true) else { return nil }
        if let problem = transportProblem(name) {
            error(path.key("Transport"), problem, at: fields.position("Transport"))
            return nil
        }
        return RouteConfig(senderDomains: senders, recipientDomains: recipients, minimumAttempt: minimumAttempt, transport: name)
    }
}
