import Foundation
import Testing
@testable import DevinBridge

// Each ticketing system's dialect, decoded from the payload shapes in Tests/Fixtures/webhooks:
// the ticket it yields (source-qualified id, title, description, labels, link, project, source)
// and what happened to it. Skipped events are `.ignored` with a reason and never throw;
// malformed issue events throw an error naming the JSON path.

/// The webhook fixtures and the few helpers the dialect tests share.
enum WebhookFixture {
    static let directory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent()
        .deletingLastPathComponent()
        .deletingLastPathComponent()
        .appendingPathComponent("Fixtures/webhooks", isDirectory: true)

    static func bytes(_ name: String) throws -> [UInt8] {
        Array(try Data(contentsOf: directory.appendingPathComponent("\(name).json")))
    }

    static func object(_ name: String) throws -> [String: JSONValue] {
        try JSONValue.parseObject(bytes(name))
    }

    static func object(json: String) throws -> [String: JSONValue] {
        try JSONValue.parseObject(Array(json.utf8))
    }

    /// Decodes fixture `name` as `source` with the sender's headers.
    static func decode(_ name: String, as source: TicketSource, headers: [(String, String)] = []) throws -> DecodedWebhook {
        try source.decode(object(name), headers: HTTPHeaders(headers))
    }

    static func decode(json: String, as source: TicketSource, headers: [(String, String)] = []) throws -> DecodedWebhook {
        try source.decode(object(json: json), headers: HTTPHeaders(headers))
    }

    /// The reason of an `.ignored` event, nil for any other event.
    static func reason(_ webhook: DecodedWebhook) -> String? {
        if case .ignored(let reason) = webhook.event { return reason }
        return nil
    }

    /// The rules of `makeConfiguration()`: devin-autofix (with a playbook), then devin-feature.
    static let rules = TriggerRules([TriggerLabel("devin-autofix", playbookID: "playbook-autofix1"), TriggerLabel("devin-feature")])
}
