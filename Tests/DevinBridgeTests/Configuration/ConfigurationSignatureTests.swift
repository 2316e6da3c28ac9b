import Foundation
import Testing
@testable import DevinBridge

@Suite("Configuration: signature schemes, rotation and ticket sources")
struct ConfigurationSignatureTests {
    static let previous = "fake-previous-secret-DO-NOT-USE-10"
    static let standardSecret = "whsec_" + Data("fake-standard-signing-key-DO-NOT-USE-1".utf8).base64EncodedString()
    static let standardPrevious = "whsec_" + Data("fake-standard-previous-key-DO-NOT-USE-2".utf8).base64EncodedString()

    /// Loads the required settings plus `extra` from the environment alone.
    func load(_ extra: [String: String]) throws -> ConfigurationReport {
        try loadFromEnvironment(requiredEnvironment.merging(extra) { $1 })
    }

    func configuration(_ extra: [String: String]) throws -> Configuration {
        let report = try load(extra)
        #expect(report.problems == [])
        return try #require(report.configuration)
    }

    /// The problems `extra` causes; the configuration must be refused.
    func problems(_ extra: [String: String]) throws -> [String] {
        let report = try load(extra)
        #expect(report.configuration == nil, "a configuration with problems must be refused")
        return report.problems
    }

    @Test("unset, the new keys take their documented defaults")
    func defaults() throws {
        let configuration = try configuration([:])
        #expect(configuration.previousWebhookSecret == nil)
        #expect(configuration.signatureScheme == .auto)
        #expect(configuration.signatureHeader == nil)
        #expect(configuration.toleranceSeconds == 300)
        #expect(configuration.allowStaticToken == false)
        #expect(configuration.tokenHeader == nil)
        #expect(configuration.ticketSource == nil)
        for key in ["WEBHOOK_SECRET_PREVIOUS", "SIGNATURE_SCHEME", "SIGNATURE_HEADER", "WEBHOOK_TOLERANCE_SECONDS",
                    "ALLOW_STATIC_TOKEN", "TOKEN_HEADER", "TICKET_SOURCE"] {
            #expect(Configuration.knownKeys.contains(key))
        }
    }

    @Test("every new key is read")
    func allSet() throws {
        let configuration = try configuration([
            "WEBHOOK_SECRET": Self.standardSecret, "WEBHOOK_SECRET_PREVIOUS": Self.standardPrevious,
            "SIGNATURE_SCHEME": "Standard", "SIGNATURE_HEADER": "X-My-Signature",
            "WEBHOOK_TOLERANCE_SECONDS": "600", "ALLOW_STATIC_TOKEN": "yes", "TOKEN_HEADER": "X-Api-Key", "TICKET_SOURCE": "Jira",
            "WEBHOOK_TOKEN": FakeSecret.webhookToken,
        ])
        #expect(configuration.previousWebhookSecret == Secret(Self.standardPrevious))
        #expect(configuration.webhookTokens == [Secret(FakeSecret.webhookToken)])
        #expect(configuration.signatureScheme == .standard)
        #expect(configuration.signatureHeader == "X-My-Signature")
        #expect(configuration.toleranceSeconds == 600)
        #expect(configuration.allowStaticToken == true)
        #expect(configuration.tokenHeader == "X-Api-Key")
        #expect(configuration.ticketSource == .jira)
    }

    @Test("empty values count as unset")
    func emptyValues() throws {
        let configuration = try configuration([
            "WEBHOOK_SECRET_PREVIOUS": "", "SIGNATURE_SCHEME": "", "SIGNATURE_HEADER": " ", "WEBHOOK_TOLERANCE_SECONDS": "",
            "ALLOW_STATIC_TOKEN": "", "TOKEN_HEADER": "", "TICKET_SOURCE": "",
        ])
        #expect(configuration.previousWebhookSecret == nil)
        #expect(configuration.signatureScheme == .auto)
        #expect(configuration.signatureHeader == nil)
        #expect(configuration.ticketSource == nil)
    }

    // MARK: - SIGNATURE_SCHEME

    @Test("SIGNATURE_SCHEME takes each scheme, whatever the case", arguments: SignatureScheme.allCases)
    func schemes(_ scheme: SignatureScheme) throws {
        // The standard scheme needs a Standard Webhooks secret; the token scheme a token.
        let needs = ["WEBHOOK_SECRET": Self.standardSecret, "WEBHOOK_TOKEN": FakeSecret.webhookToken]
        #expect(try configuration(needs.merging(["SIGNATURE_SCHEME": scheme.rawValue]) { $1 }).signatureScheme == scheme)
        #expect(try configuration(needs.merging(["SIGNATURE_SCHEME": scheme.rawValue.uppercased()]) { $1 }).signatureScheme == scheme)
    }

    @Test("an unknown SIGNATURE_SCHEME is a problem naming the choices", arguments: ["hmac-sha1", "none", "svix"])
    func badScheme(_ value: String) throws {
        #expect(try problems(["SIGNATURE_SCHEME": value])
                == ["SIGNATURE_SCHEME must be one of auto, hmac, standard, token, not \"\(value)\""])
    }

    // MARK: - TICKET_SOURCE

    @Test("TICKET_SOURCE takes each source, whatever the case", arguments: TicketSource.allCases)
    func sources(_ source: TicketSource) throws {
        #expect(try configuration(["TICKET_SOURCE": source.rawValue]).ticketSource == source)
        #expect(try configuration(["TICKET_SOURCE": source.rawValue.capitalized]).ticketSource == source)
    }

    @Test("TICKET_SOURCE=auto means detect per request", arguments: ["auto", "AUTO", " auto "])
    func autoSource(_ value: String) throws {
        #expect(try configuration(["TICKET_SOURCE": value]).ticketSource == nil)
    }

    @Test("an unknown TICKET_SOURCE is a problem listing the sources")
    func badSource() throws {
        #expect(try problems(["TICKET_SOURCE": "trac"]) == [
            "TICKET_SOURCE must be auto or one of generic, github, gitlab, gitea, forgejo, jira, redmine, bugzilla, not \"trac\"",
        ])
    }

    // MARK: - WEBHOOK_SECRET_PREVIOUS and whsec_ secrets

    @Test("a WEBHOOK_SECRET_PREVIOUS shorter than 8 characters is refused, without showing it")
    func shortPrevious() throws {
        let found = try problems(["WEBHOOK_SECRET_PREVIOUS": "prev-7c"])
        #expect(found == ["WEBHOOK_SECRET_PREVIOUS is shorter than 8 characters"])
        #expect(try configuration(["WEBHOOK_SECRET_PREVIOUS": "prev-8ch"]).previousWebhookSecret == Secret("prev-8ch"))
    }

    @Test("WEBHOOK_SECRET_PREVIOUS is taken exactly as written, spaces included")
    func previousAsWritten() throws {
        let padded = " fake previous with spaces DO-NOT-USE "
        #expect(try configuration(["WEBHOOK_SECRET_PREVIOUS": padded]).previousWebhookSecret?.value == padded)
    }

    @Test("a whsec_ secret whose rest is not base64 is refused, current or previous", arguments: ["WEBHOOK_SECRET", "WEBHOOK_SECRET_PREVIOUS"])
    func badWhsec(_ key: String) throws {
        let found = try problems([key: "whsec_not*base64*DO-NOT-USE"])
        #expect(found == ["\(key) starts with whsec_ but the rest is not base64"])
        #expect(!found.joined().contains("DO-NOT-USE"))
    }

    @Test("a valid whsec_ secret is accepted as written")
    func goodWhsec() throws {
        let configuration = try configuration(["WEBHOOK_SECRET": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
                                               "WEBHOOK_SECRET_PREVIOUS": "whsec_" + Data("fake-previous-key-DO-NOT-USE-0123".utf8).base64EncodedString()])
        #expect(configuration.webhookSecret.value == "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
    }

    // MARK: - Header names

    @Test("SIGNATURE_HEADER and TOKEN_HEADER must be header names", arguments: [
        "X-Sig: abc", "X Sig", "X_Sig", "X-Sïg", "X-Sig\r\nX-Evil", "sha256=", "X-Sig;",
    ])
    func badHeaderNames(_ value: String) throws {
        for key in ["SIGNATURE_HEADER", "TOKEN_HEADER"] {
            let found = try problems([key: value])
            #expect(found.count == 1)
            #expect(found.first?.hasPrefix("\(key) must be a header name such as X-My-Signature (letters, digits and -)") == true)
        }
    }

    @Test("good header names are kept", arguments: ["X-Hub-Signature-256", "Linear-Signature", "x-api-key", "Authorization"])
    func goodHeaderNames(_ value: String) throws {
        #expect(try configuration(["SIGNATURE_HEADER": value]).signatureHeader == value)
        #expect(try configuration(["TOKEN_HEADER": value]).tokenHeader == value)
    }

    // MARK: - WEBHOOK_TOLERANCE_SECONDS

    @Test("WEBHOOK_TOLERANCE_SECONDS between 1 and 86400, edges included", arguments: [
        ("1", 1.0), ("86400", 86_400.0), ("300", 300.0), ("90.5", 90.5),
    ])
    func toleranceInRange(_ text: String, _ value: Double) throws {
        #expect(try configuration(["WEBHOOK_TOLERANCE_SECONDS": text]).toleranceSeconds == value)
    }

    @Test("WEBHOOK_TOLERANCE_SECONDS out of range or not a number is a problem",
          arguments: ["0", "0.5", "86401", "-300", "five minutes", "nan", "inf", "1e9"])
    func toleranceOutOfRange(_ text: String) throws {
        #expect(try problems(["WEBHOOK_TOLERANCE_SECONDS": text])
                == ["WEBHOOK_TOLERANCE_SECONDS must be a number of seconds between 1 and 86400, not \"\(text)\""])
    }

    // MARK: - ALLOW_STATIC_TOKEN

    @Test("ALLOW_STATIC_TOKEN is a flag", arguments: [("1", true), ("true", true), ("ON", true), ("0", false), ("no", false)])
    func allowStaticToken(_ text: String, _ value: Bool) throws {
        #expect(try configuration(["ALLOW_STATIC_TOKEN": text, "WEBHOOK_TOKEN": FakeSecret.webhookToken]).allowStaticToken == value)
    }

    @Test("ALLOW_STATIC_TOKEN that is not a flag is a problem")
    func badAllowStaticToken() throws {
        #expect(try problems(["ALLOW_STATIC_TOKEN": "maybe"]) == ["ALLOW_STATIC_TOKEN must be 1 or 0, not \"maybe\""])
    }

    // MARK: - check

    @Test("check masks WEBHOOK_SECRET_PREVIOUS and shows the new keys with their defaults")
    func checkMasksPrevious() throws {
        let result = AdminCommands.check(try load(["WEBHOOK_SECRET_PREVIOUS": Self.previous, "SIGNATURE_SCHEME": "hmac"]))
        #expect(result.exitCode == 0)
        let output = result.stdout + result.stderr
        #expect(!output.contains(Self.previous))
        #expect(!output.contains(FakeSecret.marker))
        let line = try #require(result.stdout.split(separator: "\n").first { $0.hasPrefix("WEBHOOK_SECRET_PREVIOUS ") })
        #expect(line.contains("******** (\(Self.previous.count) characters)"))
        #expect(line.contains("[environment]"))
        let lines = result.stdout.split(separator: "\n")
        #expect(lines.contains { $0.hasPrefix("SIGNATURE_SCHEME ") && $0.contains("hmac") })
        #expect(lines.contains { $0.hasPrefix("TICKET_SOURCE ") && $0.contains("auto") && $0.contains("[default]") })
        #expect(lines.contains { $0.hasPrefix("WEBHOOK_TOLERANCE_SECONDS ") && $0.contains("300") })
    }

    @Test("check never prints a refused WEBHOOK_SECRET_PREVIOUS either")
    func checkMasksRefusedPrevious() throws {
        let short = "DO-NOT"
        let result = AdminCommands.check(try load(["WEBHOOK_SECRET_PREVIOUS": short]))
        #expect(result.exitCode == 1)
        #expect(result.stderr.contains("WEBHOOK_SECRET_PREVIOUS is shorter than 8 characters"))
        #expect(!(result.stdout + result.stderr).contains(short))
    }
}
