import Foundation
import Testing
@testable import DevinBridge

@Suite("Admin commands")
struct AdminCommandsTests {
    /// Runs a command with `environment` over a temporary configuration file holding `file`.
    func run(_ arguments: [String], file: String = "", environment: [String: String] = [:],
             stdin: String = "") throws -> CommandResult {
        try withConfigFile(file) { path in
            var environment = environment
            environment["DEVIN_BRIDGE_CONFIG"] = path
            var stdinRead = false
            let result = AdminCommands.run(arguments, environment: environment, transport: RecordingTransport.created()) {
                stdinRead = true
                return Array(stdin.utf8)
            }
            if arguments.first != "sign" { #expect(!stdinRead, "only sign reads stdin") }
            return result
        }
    }

    @Test("--version prints the version", arguments: ["--version", "-V", "version"])
    func version(_ argument: String) throws {
        let result = try run([argument])
        #expect(result == CommandResult(stdout: "devin-bridge \(BridgeVersion.current)\n", stderr: "", exitCode: 0))
    }

    @Test("--help, or no command, prints the usage", arguments: [["--help"], ["-h"], ["help"], []])
    func help(_ arguments: [String]) throws {
        let result = try run(arguments)
        #expect(result.exitCode == 0)
        #expect(result.stderr == "")
        #expect(result.stdout == AdminCommands.usage)
        for command in ["check", "sign", "--version", "--help", "DEVIN_BRIDGE_CONFIG", Configuration.defaultFile] {
            #expect(result.stdout.contains(command))
        }
    }

    @Test("an unknown command exits 2 with the usage on stderr", arguments: ["frobnicate", "--check", "CHECK"])
    func unknown(_ command: String) throws {
        let result = try run([command])
        #expect(result.exitCode == 2)
        #expect(result.stdout == "")
        #expect(result.stderr.hasPrefix("devin-bridge: unknown command \(command.debugDescription)\n"))
        #expect(result.stderr.hasSuffix(AdminCommands.usage))
    }

    // MARK: - check

    @Test("check on a good configuration exits 0 and masks every secret")
    func checkOK() throws {
        let environment = requiredEnvironment.merging([
            "TICKET_API_TOKEN": FakeSecret.ticketToken, "TRIGGER_LABELS": "devin-autofix=playbook-1,devin-feature",
            "DRY_RUN": "1",
        ]) { $1 }
        let result = try run(["check"], environment: environment)
        #expect(result.exitCode == 0)
        #expect(result.stdout.hasSuffix("configuration OK\n"))
        #expect(result.stderr == "")
        for secret in FakeSecret.all {
            #expect(!result.stdout.contains(secret))
            #expect(!result.stderr.contains(secret))
        }
        #expect(!result.stdout.contains(FakeSecret.marker))
        let lines = result.stdout.split(separator: "\n").map(String.init)
        #expect(lines.contains { $0.hasPrefix("DEVIN_API_KEY ") && $0.hasSuffix("******** (\(FakeSecret.apiKey.count) characters)  [environment]") })
        #expect(lines.contains { $0.hasPrefix("WEBHOOK_SECRET ") && $0.contains("******** (\(FakeSecret.webhookSecret.count) characters)") })
        #expect(lines.contains { $0.hasPrefix("TICKET_API_TOKEN ") && $0.contains("******** (\(FakeSecret.ticketToken.count) characters)") })
        #expect(lines.contains { $0.hasPrefix("DEVIN_ORG_ID ") && $0.hasSuffix("org-test123  [environment]") })
        #expect(lines.contains { $0.hasPrefix("DEVIN_API_BASE ") && $0.hasSuffix("https://api.devin.ai  [default]") })
        #expect(lines.contains { $0.hasPrefix("TICKET_API_DOCS_URL ") && $0.hasSuffix("(not set)") })
        #expect(lines.contains("trigger labels: devin-autofix -> playbook-1, devin-feature (no playbook)"))
        #expect(lines.contains("sessions are created at: https://api.devin.ai/v3/organizations/org-test123/sessions (DRY_RUN: not called)"))
    }

    @Test("check lists every known key, in order")
    func checkListsKeys() throws {
        let result = try run(["check"], environment: requiredEnvironment)
        let shown = Configuration.knownKeys.filter { !Configuration.perSenderKeys.contains($0) && !Configuration.perSystemAPIKeys.contains($0) }
        let keys = result.stdout.split(separator: "\n").dropFirst().prefix(shown.count)
            .map { String($0.prefix { $0 != " " }) }
        #expect(keys == shown)
    }

    @Test("check names the file it read and where each setting came from")
    func checkOrigins() throws {
        let file = "DEVIN_API_KEY=\(FakeSecret.apiKey)\nDEVIN_ORG_ID=org-file\nWEBHOOK_SECRET=\(FakeSecret.webhookSecret)\n"
        let result = try run(["check"], file: file, environment: ["DEVIN_ORG_ID": "org-env", "STATE_DIR": makeStateDirectory()])
        #expect(result.exitCode == 0)
        let lines = result.stdout.split(separator: "\n").map(String.init)
        let fileLine = try #require(lines.first)
        #expect(fileLine.hasPrefix("configuration file: /"))
        #expect(fileLine.hasSuffix("/bridge.conf"))
        let path = String(fileLine.dropFirst("configuration file: ".count))
        #expect(lines.contains { $0.hasPrefix("DEVIN_ORG_ID ") && $0.hasSuffix("org-env  [environment]") })
        #expect(lines.contains { $0.hasPrefix("DEVIN_API_KEY ") && $0.hasSuffix("  [\(path)]") })
        #expect(!result.stdout.contains(FakeSecret.marker))
    }

    @Test("check with problems exits 1 and lists them on stderr, still masking secrets")
    func checkProblems() throws {
        let result = try run(["check"], file: "MAX_BODY_BYTE=5\n", environment: [
            "DEVIN_API_KEY": FakeSecret.apiKey, "WEBHOOK_SECRET": "short", "DRY_RUN": "perhaps",
        ])
        #expect(result.exitCode == 1)
        #expect(!result.stdout.contains("configuration OK"))
        #expect(!result.stdout.contains("trigger labels:"))
        #expect(result.stderr.contains("problem: DEVIN_ORG_ID is not set\n"))
        #expect(result.stderr.contains("problem: WEBHOOK_SECRET is shorter than 8 characters"))
        #expect(result.stderr.contains(#"problem: DRY_RUN must be 1 or 0, not "perhaps""#))
        #expect(result.stderr.contains("warning: "))
        #expect(result.stderr.contains("MAX_BODY_BYTE, which the bridge does not read"))
        #expect(result.stderr.hasSuffix("3 problem(s): the bridge refuses every webhook until they are fixed\n"))
        #expect(result.stdout.contains("******** (5 characters)"))
        #expect(!result.stdout.contains(FakeSecret.apiKey))
        #expect(!result.stderr.contains(FakeSecret.apiKey))
        #expect(!(result.stdout + result.stderr).contains("short\n"))
    }

    @Test("check with a missing explicit file exits 1")
    func checkMissingFile() throws {
        try withTemporaryDirectory { directory in
            let path = directory.appendingPathComponent("absent.conf").path
            let result = AdminCommands.run(["check"], environment: requiredEnvironment.merging(["DEVIN_BRIDGE_CONFIG": path]) { $1 }, transport: RecordingTransport.created()) { [] }
            #expect(result.exitCode == 1)
            #expect(result.stdout.hasPrefix("configuration file: (none read)\n"))
            #expect(result.stderr.contains("problem: DEVIN_BRIDGE_CONFIG names \(path), which does not exist"))
        }
    }

    // MARK: - sign

    @Test("sign prints the documented vector's header line")
    func signVector() throws {
        let result = try run(["sign"], environment: ["WEBHOOK_SECRET": "It's a Secret to Everybody"], stdin: "Hello, World!")
        #expect(result == CommandResult(
            stdout: "X-Hub-Signature-256: sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17\n",
            stderr: "", exitCode: 0))
    }

    @Test("sign reads the secret from the file too, and works while the rest is unconfigured")
    func signFromFile() throws {
        let result = try run(["sign"], file: "WEBHOOK_SECRET=It's a Secret to Everybody\n", stdin: "Hello, World!")
        #expect(result.exitCode == 0)
        #expect(result.stdout == "X-Hub-Signature-256: sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17\n")
    }

    @Test("sign without a webhook secret exits 1 and says so", arguments: [[:], ["WEBHOOK_SECRET": ""]])
    func signWithoutSecret(_ environment: [String: String]) throws {
        let result = try run(["sign"], environment: environment, stdin: "Hello, World!")
        #expect(result.exitCode == 1)
        #expect(result.stdout == "")
        #expect(result.stderr.hasPrefix("devin-bridge sign: WEBHOOK_SECRET is not set"))
    }

    @Test("sign never prints the secret")
    func signHidesSecret() throws {
        let result = try run(["sign"], environment: ["WEBHOOK_SECRET": FakeSecret.webhookSecret], stdin: "{}")
        #expect(result.exitCode == 0)
        #expect(!result.stdout.contains(FakeSecret.webhookSecret))
        #expect(result.stdout == SignatureVerifier.headerLine(body: Array("{}".utf8), secret: Secret(FakeSecret.webhookSecret)) + "\n")
    }
}
