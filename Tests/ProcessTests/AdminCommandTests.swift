import Foundation
import Testing

/// The admin command line of the built binary.
@Suite("The admin command line")
struct AdminCommandTests {
    @Test("sign reproduces GitHub's documented vector")
    func signVector() throws {
        let output = try runProcess(Paths.binary, arguments: ["sign"],
                                    environment: ["WEBHOOK_SECRET": "It's a Secret to Everybody", "DEVIN_BRIDGE_CONFIG": "/dev/null"],
                                    stdin: Array("Hello, World!".utf8))
        #expect(output.exitCode == 0)
        #expect(String(decoding: output.stdout, as: UTF8.self)
            == "X-Hub-Signature-256: sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17\n")
    }

    @Test("check reads the config file, masks secrets and exits 0 when all is well")
    func checkOK() throws {
        let directory = try Paths.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("bridge.conf")
        let state = TemporaryDirectory()
        try """
            # bridge configuration
            DEVIN_API_KEY=\(TestSecrets.apiKey)
            DEVIN_ORG_ID=\(TestSecrets.orgID)
            WEBHOOK_SECRET=\(TestSecrets.webhookSecret)
            TICKET_API_TOKEN="\(TestSecrets.ticketToken)"
            TRIGGER_LABELS=devin-autofix=playbook-1234
            STATE_DIR=\(state.path)
            """.write(to: file, atomically: true, encoding: .utf8)
        let output = try runProcess(Paths.binary, arguments: ["check"],
                                    environment: ["DEVIN_BRIDGE_CONFIG": file.path], stdin: [])
        let stdout = String(decoding: output.stdout, as: UTF8.self)
        #expect(output.exitCode == 0, "\(output.stderr)")
        #expect(stdout.contains("configuration OK"))
        #expect(stdout.contains(TestSecrets.orgID))
        #expect(stdout.contains("devin-autofix -> playbook-1234"))
        for secret in TestSecrets.all {
            #expect(!stdout.contains(secret))
            #expect(!output.stderr.contains(secret))
        }
    }

    @Test("check exits non-zero and names every problem")
    func checkProblems() throws {
        let output = try runProcess(Paths.binary, arguments: ["check"],
                                    environment: ["DEVIN_BRIDGE_CONFIG": "/nonexistent/bridge.conf",
                                                  "DEVIN_API_BASE": "http://api.example.com"], stdin: [])
        #expect(output.exitCode != 0)
        #expect(output.stderr.contains("/nonexistent/bridge.conf"))
        #expect(output.stderr.contains("DEVIN_API_KEY is not set"))
        #expect(output.stderr.contains("WEBHOOK_SECRET is not set"))
        #expect(output.stderr.contains("DEVIN_API_BASE"))
    }

    @Test("--version and --help answer; an unknown command exits 2")
    func versionAndHelp() throws {
        let version = try runProcess(Paths.binary, arguments: ["--version"], environment: [:], stdin: [])
        #expect(version.exitCode == 0)
        #expect(String(decoding: version.stdout, as: UTF8.self).hasPrefix("devin-bridge "))
        let help = try runProcess(Paths.binary, arguments: ["--help"], environment: [:], stdin: [])
        #expect(String(decoding: help.stdout, as: UTF8.self).contains("devin-bridge check"))
        let unknown = try runProcess(Paths.binary, arguments: ["frobnicate"], environment: [:], stdin: [])
        #expect(unknown.exitCode == 2)
    }
}
