import Foundation
import Testing
@testable import DevinBridge

/// Regressions for what the final review found.
@Suite("Review regressions")
struct ReviewFixTests {
    @Test("A secret wrapped onto its own line is never repeated in a parse error or a warning")
    func wrappedSecretNotEchoed() throws {
        let wrapped = "q8Zr+T2kPz0vYwLmN4sXc7Hb/Ua1Ej9Gf6Ri3Do5="
        let parsed = ConfigFile.parse("WEBHOOK_SECRET=\n\(wrapped)\n")
        #expect(parsed.errors.count == 1)
        #expect(!parsed.errors.contains { $0.1.contains("q8Zr") })
        let report = try withConfigFile("DEVIN_API_KEY=\(FakeSecret.apiKey)\ncog_wrappedSecretValue123=\nDEVIN_TYPO=1\n") { path in
            Configuration.load(environment: ["DEVIN_BRIDGE_CONFIG": path])
        }
        #expect(!report.warnings.contains { $0.contains("cog_wrappedSecretValue123") })
        #expect(report.warnings.contains { $0.contains("DEVIN_TYPO") }, "an upper-case typo is still named")
        #expect(ConfigFile.parse("bad key=1").errors.first?.1 == "not a KEY=VALUE line")
        #expect(ConfigFile.parse("BAD-KEY=1").errors.first?.1 == "not a KEY=VALUE line")
        #expect(ConfigFile.parse("BADKEY.X=1").errors.first?.1 == "not a KEY=VALUE line")
    }

    @Test("The delivery key does not depend on the dialect, so a replay under another dialect is a duplicate")
    func keyIgnoresDialect() {
        let github = TicketKey(source: "github", ticket: "acme/shop#42", label: "devin-autofix")
        let gitea = TicketKey(source: "gitea", ticket: "acme/shop#42", label: "Devin-Autofix")
        #expect(github.digest == gitea.digest)
        #expect(github.legacyTag == gitea.legacyTag)
        #expect(github.digest != TicketKey(source: "github", ticket: "acme/shop#43", label: "devin-autofix").digest)
    }

    @Test("A listed session without the ticket's tag is never adopted")
    func lookupNeedsTheTag() throws {
        let untagged = RecordingTransport(status: 200, json: #"{"items":[{"session_id":"ses_other","url":"https://app.devin.ai/sessions/ses_other"}]}"#)
        let client = DevinClient(configuration: makeConfiguration(), transport: untagged)
        #expect(try client.findSession(tag: "devin-bridge:abc") == nil)
        let tagged = RecordingTransport(status: 200, json: #"{"items":[{"session_id":"ses_1","url":"u","tags":["devin-bridge:abc"]}]}"#)
        #expect(try DevinClient(configuration: makeConfiguration(), transport: tagged).findSession(tag: "devin-bridge:abc")?.sessionID == "ses_1")
    }

    @Test("A failed ticket delivered again starts its retention period afresh")
    func redeliveredFailureIsFresh() throws {
        let configuration = makeConfiguration()
        let store = try FileStateStore(directory: configuration.stateDirectory)
        let key = TicketKey(source: "generic", ticket: "PROJ-9", label: "devin-autofix")
        let request = SessionCreateRequest(prompt: "p", title: "t", tags: [key.legacyTag], playbook_id: nil, session_secrets: nil)
        let old = Date(timeIntervalSince1970: 1_600_000_000)
        let now = Date(timeIntervalSince1970: 1_767_225_600)
        let clock = BridgeClock(now: { now }, uptimeNanoseconds: { 0 })
        let refusing = Deliverer(store: store, client: DevinClient(configuration: configuration, transport: RecordingTransport(status: 401, json: "{}")),
                                 configuration: configuration, clock: BridgeClock(now: { old }, uptimeNanoseconds: { 0 }))
        _ = try refusing.deliver(key, request: request, delivery: nil)
        #expect(try store.read(key.digest)?.state == .failed)
        let failing = Deliverer(store: store, client: DevinClient(configuration: configuration, transport: RecordingTransport(status: 503, json: "{}")),
                                configuration: configuration, clock: clock)
        _ = try failing.deliver(key, request: request, delivery: nil)
        let record = try #require(try store.read(key.digest))
        #expect(record.state == .queued)
        #expect(record.firstSeenAt == now, "prune must not give up on it at once")
    }
}
