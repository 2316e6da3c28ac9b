/// A label that sends a ticket to Devin, and the playbook it picks.
public struct TriggerLabel: Equatable, Sendable {
    public var name: String
    public var playbookID: String?

    public init(_ name: String, playbookID: String? = nil) {
        self.name = name
        self.playbookID = playbookID
    }

    /// Parses `TRIGGER_LABELS`: `label[=playbook-id]` items, comma-separated; blanks around items are
    /// ignored. Throws a message naming the bad item.
    public static func parseList(_ text: String) throws -> [TriggerLabel] {
        var labels: [TriggerLabel] = []
        for item in text.split(separator: ",") {
            let parts = item.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let name = parts[0].trimmingASCIIWhitespace()
            let playbook = parts.count > 1 ? parts[1].trimmingASCIIWhitespace() : nil
            if name.isEmpty && playbook == nil && item.trimmingASCIIWhitespace().isEmpty { continue }
            guard !name.isEmpty else {
                throw ConfigurationProblem("TRIGGER_LABELS has an item with no label: \(String(item).debugDescription)")
            }
            if let playbook, playbook.isEmpty {
                throw ConfigurationProblem("TRIGGER_LABELS item \(String(item).debugDescription) has '=' but no playbook id")
            }
            guard !labels.contains(where: { $0.name.lowercased() == name.lowercased() }) else {
                throw ConfigurationProblem("TRIGGER_LABELS names \(name.debugDescription) twice")
            }
            labels.append(TriggerLabel(name, playbookID: playbook))
        }
        guard !labels.isEmpty else { throw ConfigurationProblem("TRIGGER_LABELS names no label") }
        return labels
    }
}

/// The rule that decides whether a ticket is meant for Devin.
public struct TriggerRules: Sendable {
    public let labels: [TriggerLabel]

    public init(_ labels: [TriggerLabel]) { self.labels = labels }

    /// The first trigger label, in configuration order, that the ticket carries (case-insensitive).
    public func match(_ ticketLabels: [String]) -> TriggerLabel? {
        let carried = Set(ticketLabels.map { $0.trimmingASCIIWhitespace().lowercased() })
        return labels.first { carried.contains($0.name.lowercased()) }
    }
}
