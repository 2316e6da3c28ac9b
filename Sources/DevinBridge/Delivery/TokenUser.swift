import FoundationEssentials

/// Who the ticketing token belongs to, per system: the bridge posts with it, and Devin comments
/// with it, so its comments are never forwarded back. `TICKET_API_USER` when set; else asked
/// from the API once and kept for a day in `STATE_DIR/token-user-<system>.json`.
public enum TokenUser {
    struct Cached: Codable { var login: String?; var checkedAt: Date }
    static let maximumAge: TimeInterval = 86_400
    /// A failed look-up is not repeated for this long: a hanging API must not slow every comment.
    static let failureAge: TimeInterval = 600

    public static func login(source: TicketSource, configuration: Configuration, store: FileStateStore,
                             transport: any HTTPTransport, clock: BridgeClock, timeout: Double) -> String? {
        if let configured = configuration.comments.apiUser { return configured }
        let path = store.directory + "/token-user-\(source.rawValue).json"
        let now = clock.now()
        if let data = FileManager.default.contents(atPath: path),
           let cached = try? FileStateStore.decoder.decode(Cached.self, from: data) {
            let age = now.timeIntervalSince(cached.checkedAt)
            if let login = cached.login, age < maximumAge, CommentRules.isName(login) { return login }
            if cached.login == nil, age < failureAge { return nil }
        }
        guard let api = ticketAPI(source: source, ticket: sampleID(source), configuration: configuration) else { return nil }
        guard timeout >= 1, case .success(let response) = transport.send(api.identityRequest(), timeout: timeout), response.status == 200,
              let login = api.login(in: response), CommentRules.isName(login) else {
            if let data = try? FileStateStore.encoder.encode(Cached(login: nil, checkedAt: now)) { try? store.atomicWrite(data, to: path) }
            return nil
        }
        if let data = try? FileStateStore.encoder.encode(Cached(login: login, checkedAt: now)) {
            try? store.atomicWrite(data, to: path)
        }
        return login
    }

    /// Any addressable id: the identity request names no ticket.
    static func sampleID(_ source: TicketSource) -> String {
        switch source {
        case .github, .gitea, .forgejo, .gitlab: return "a/b#1"
        case .jira: return "A-1"
        case .redmine: return "#1"
        case .bugzilla: return "bug 1"
        case .generic: return "1"
        }
    }
}
