/// Where a session works and what it may spend: the repository (`repos`) and the ACU limit
/// (`max_acu_limit`) of its session request.
///
/// The repository comes from the payload for the code-hosting systems (GitHub, GitLab,
/// Gitea/Forgejo), and from `REPOSITORY_MAP` for the others: a Jira project key, a Redmine
/// project identifier, a Bugzilla `Product/Component` (or `Product`). The ACU limit is the
/// trigger's own (`MAX_ACU_LIMITS`: a label, `@mention` or `@assigned`), else `MAX_ACU_LIMIT`.
public struct SessionScope: Sendable, Equatable {
    /// `REPOSITORY_MAP`: project (as the ticket's system names it) -> repository.
    public var repositoryMap: [String: String] = [:]
    public var defaultACULimit: Int?
    /// Per trigger (lower-cased label name, `@mention`, `@assigned`).
    public var acuLimits: [String: Int] = [:]

    public init() {}

    /// The repository of a ticket, or nil with the reason there is none.
    public func repository(for ticket: Ticket) -> (repository: String?, reason: String?) {
        if let repository = ticket.repository, Self.isRepository(repository) { return (repository, nil) }
        guard let project = ticket.project else { return (nil, "the ticket names no project") }
        if let mapped = repositoryMap[project] ?? repositoryMap[project.lowercased()] { return (mapped, nil) }
        // Bugzilla: `Product/Component`, else `Product`.
        if let product = project.split(separator: "/").first.map(String.init), product != project,
           let mapped = repositoryMap[product] ?? repositoryMap[product.lowercased()] {
            return (mapped, nil)
        }
        return (nil, "no REPOSITORY_MAP entry for \(project.prefix(80))")
    }

    public func acuLimit(for trigger: TriggerLabel) -> Int? {
        acuLimits[trigger.name.lowercased()] ?? defaultACULimit
    }

    /// `owner/repo`, `group/sub/project`: 2 to 20 segments of letters, digits and `. _ -`.
    public static func isRepository(_ text: String) -> Bool {
        let segments = text.split(separator: "/", omittingEmptySubsequences: false)
        return (2...20).contains(segments.count) && text.count <= 300 && segments.allSatisfy { segment in
            !segment.isEmpty && segment.first != "." && segment.unicodeScalars.allSatisfy {
                $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || $0 == "." || $0 == "_" || $0 == "-")
            }
        }
    }

    static func parse(settings value: (String) -> String?, triggers: [TriggerLabel]) throws -> SessionScope {
        var scope = SessionScope()
        if let text = value("REPOSITORY_MAP") {
            for item in text.split(separator: ",") {
                let parts = item.split(separator: "=", maxSplits: 1).map { $0.trimmingASCIIWhitespace() }
                guard parts.count == 2, !parts[0].isEmpty, parts[0].count <= 200, isRepository(parts[1]) else {
                    throw ConfigurationProblem("REPOSITORY_MAP items are project=owner/repo, e.g. PROJ=acme/backend,Intranet/Reports=acme/intranet; \(String(item.prefix(80)).debugDescription) is not")
                }
                scope.repositoryMap[parts[0]] = parts[1]
            }
        }
        func positive(_ key: String, _ text: String) throws -> Int {
            guard let value = Int(text.trimmingASCIIWhitespace()), value > 0, value <= 100_000 else {
                throw ConfigurationProblem("\(key) must be a positive whole number of ACUs, not \(String(text.prefix(40)).debugDescription)")
            }
            return value
        }
        if let text = value("MAX_ACU_LIMIT") { scope.defaultACULimit = try positive("MAX_ACU_LIMIT", text) }
        if let text = value("MAX_ACU_LIMITS") {
            let known = Set(triggers.map { $0.name.lowercased() } + [CommentRules.mentionLabel, CommentRules.assignmentLabel])
            for item in text.split(separator: ",") {
                let parts = item.split(separator: "=", maxSplits: 1).map { $0.trimmingASCIIWhitespace() }
                guard parts.count == 2 else {
                    throw ConfigurationProblem("MAX_ACU_LIMITS items are trigger=ACUs, e.g. devin-autofix=5,devin-feature=20,@mention=5")
                }
                guard known.contains(parts[0].lowercased()) else {
                    throw ConfigurationProblem("MAX_ACU_LIMITS names \(String(parts[0].prefix(60)).debugDescription), which is no trigger: use a TRIGGER_LABELS label, @mention or @assigned")
                }
                scope.acuLimits[parts[0].lowercased()] = try positive("MAX_ACU_LIMITS (\(parts[0]))", parts[1])
            }
        }
        return scope
    }
}
