import Foundation
import Testing
@testable import DevinBridge

@Suite("Configuration loading")
struct ConfigurationTests {
    /// Loads `environment` over a temporary file holding `file`.
    func load(file: String = "", _ environment: [String: String] = [:]) throws -> ConfigurationReport {
        try withConfigFile(file) { path in
            var environment = environment
            environment["DEVIN_BRIDGE_CONFIG"] = path
            return Configuration.load(environment: environment)
        }
    }

    /// Loads the required settings plus `key=value` from the environment.
    func load(_ key: String, _ value: String) throws -> ConfigurationReport {
        try load(requiredEnvironment.merging([key: value]) { $1 })
    }

    static let requiredFile = """
        DEVIN_API_KEY=\(FakeSecret.apiKey)
        DEVIN_ORG_ID=org-fromfile
        WEBHOOK_SECRET=\(FakeSecret.webhookSecret)
        """

    // MARK: - Sources

    @Test("a complete file alone gives a configuration with the documented defaults")
    func fileAlone() throws {
        let (report, path) = try withConfigFile(Self.requiredFile) { path in
            (Configuration.load(environment: ["DEVIN_BRIDGE_CONFIG": path]), path)
        }
        #expect(report.problems == [])
        #expect(report.warnings == [])
        #expect(report.file == path)
        #expect(report.origins["DEVIN_ORG_ID"] == path)
        let configuration = try #require(report.configuration)
        #expect(configuration.apiKey == Secret(FakeSecret.apiKey))
        #expect(configuration.orgID == "org-fromfile")
        #expect(configuration.webhookSecret == Secret(FakeSecret.webhookSecret))
        #expect(configuration.ticketAPIToken == nil)
        #expect(configuration.triggerLabels == [TriggerLabel("devin-autofix"), TriggerLabel("devin-feature")])
        #expect(configuration.apiBase == "https://api.devin.ai")
        #expect(configuration.timeoutSeconds == 8)
        #expect(configuration.maxBodyBytes == 1_048_576)
        #expect(configuration.dryRun == false)
        #expect(configuration.ticketAPIDocsURL == nil)
        #expect(configuration.ticketURLTemplate == nil)
    }

    @Test("the environment overrides the file, key by key")
    func environmentOverridesFile() throws {
        let report = try load(file: Self.requiredFile + "\nDRY_RUN=1\n", ["DEVIN_ORG_ID": "org-fromenv"])
        let configuration = try #require(report.configuration)
        #expect(configuration.orgID == "org-fromenv")
        #expect(configuration.dryRun == true)
        #expect(report.origins["DEVIN_ORG_ID"] == "environment")
        #expect(report.origins["DRY_RUN"] == report.file)
        #expect(report.settings["DEVIN_ORG_ID"] == "org-fromenv")
    }

    @Test("a file named by DEVIN_BRIDGE_CONFIG that does not exist is a problem")
    func missingExplicitFile() throws {
        try withTemporaryDirectory { directory in
            let path = directory.appendingPathComponent("no-such-bridge.conf").path
            var environment = requiredEnvironment
            environment["DEVIN_BRIDGE_CONFIG"] = path
            let report = Configuration.load(environment: environment)
            #expect(report.problems == ["DEVIN_BRIDGE_CONFIG names \(path), which does not exist"])
            #expect(report.configuration == nil)
            #expect(report.file == nil)
        }
    }

    @Test("a missing default file is fine when the environment has everything",
          .enabled(if: !FileManager.default.fileExists(atPath: Configuration.defaultFile),
                   "this machine has a \(Configuration.defaultFile)"))
    func missingDefaultFile() throws {
        for environment in [requiredEnvironment, requiredEnvironment.merging(["DEVIN_BRIDGE_CONFIG": ""]) { $1 }] {
            let report = Configuration.load(environment: environment)
            #expect(report.file == nil)
            #expect(report.problems == [])
            #expect(!report.problems.contains { $0.contains(Configuration.defaultFile) || $0.contains("DEVIN_BRIDGE_CONFIG") })
            #expect(report.configuration != nil)
        }
    }

    @Test("a configuration file that cannot be read is a problem that says why")
    func unreadableFile() throws {
        try withTemporaryDirectory { directory in
            let report = Configuration.load(environment: requiredEnvironment.merging(["DEVIN_BRIDGE_CONFIG": directory.path]) { $1 })
            #expect(report.problems.count == 1)
            #expect(report.problems.first?.hasPrefix("cannot read the configuration file \(directory.path): ") == true)
            #expect(report.configuration == nil)

            let latin1 = directory.appendingPathComponent("latin1.conf")
            try Data([0x41, 0x3d, 0xe9, 0x0a]).write(to: latin1)
            let second = Configuration.load(environment: requiredEnvironment.merging(["DEVIN_BRIDGE_CONFIG": latin1.path]) { $1 })
            #expect(second.problems == ["cannot read the configuration file \(latin1.path): it is not UTF-8 text"])
        }
    }

    @Test("bad lines in the file are problems naming the file and the line")
    func badLineInFile() throws {
        let report = try load(file: "# settings\nthis is not a setting\n", requiredEnvironment)
        let path = try #require(report.file)
        #expect(report.problems == ["\(path) line 2: expected KEY=VALUE"])
        #expect(report.configuration == nil)
    }

    @Test("an unknown key in the file is a warning naming it; DEVIN_BRIDGE_CONFIG in the file is not")
    func unknownKeyInFile() throws {
        let report = try load(file: Self.requiredFile + "\nDEVIN_API_KEYS=x\nDEVIN_BRIDGE_CONFIG=/elsewhere\n")
        let path = try #require(report.file)
        #expect(report.warnings == ["\(path) sets DEVIN_API_KEYS, which the bridge does not read (a typo?)"])
        #expect(report.problems == [])
        #expect(report.configuration != nil)
        #expect(report.settings["DEVIN_API_KEYS"] == nil)
    }

    @Test("unknown variables in the environment are not warned about (it holds the whole CGI environment)")
    func unknownEnvironmentVariables() throws {
        let report = try load(requiredEnvironment.merging(["HTTP_HOST": "x", "PATH": "/bin", "DEVIN_API_KEYS": "x"]) { $1 })
        #expect(report.warnings == [])
        #expect(report.settings["PATH"] == nil)
    }

    // MARK: - Required keys

    @Test("each required key that is missing is named in the problems",
          arguments: ["DEVIN_API_KEY", "DEVIN_ORG_ID", "WEBHOOK_SECRET"])
    func requiredKeyMissing(_ key: String) throws {
        var environment = requiredEnvironment
        environment[key] = nil
        let report = try load(environment)
        #expect(report.problems == ["\(key) is not set"])
        #expect(report.configuration == nil)
    }

    @Test("a required key set to the empty string counts as missing",
          arguments: ["DEVIN_API_KEY", "DEVIN_ORG_ID", "WEBHOOK_SECRET"])
    func requiredKeyEmpty(_ key: String) throws {
        let report = try load(key, "")
        #expect(report.problems == ["\(key) is not set"])
    }

    @Test("nothing configured names all three required keys")
    func nothingConfigured() throws {
        let report = try load([:])
        #expect(report.problems == ["DEVIN_API_KEY is not set", "DEVIN_ORG_ID is not set", "WEBHOOK_SECRET is not set"])
        #expect(report.configuration == nil)
    }

    @Test("a WEBHOOK_SECRET shorter than 8 characters is refused; 8 is enough", arguments: [
        ("1234567", false), ("12345678", true), ("x", false),
    ])
    func shortWebhookSecret(_ secret: String, _ accepted: Bool) throws {
        let report = try load("WEBHOOK_SECRET", secret)
        #expect((report.configuration != nil) == accepted)
        #expect(report.problems.contains("WEBHOOK_SECRET is shorter than 8 characters: choose a long random one") == !accepted)
    }

    @Test("the webhook secret is taken exactly as written, spaces included")
    func webhookSecretKeepsSpaces() throws {
        let report = try load("WEBHOOK_SECRET", " It's a Secret to Everybody ")
        #expect(report.configuration?.webhookSecret.value == " It's a Secret to Everybody ")
    }

    @Test("an API key with spaces around it is refused")
    func apiKeyWithSpaces() throws {
        let report = try load("DEVIN_API_KEY", " \(FakeSecret.apiKey)")
        #expect(report.problems == ["DEVIN_API_KEY has spaces around it: remove them"])
    }

    @Test("an org id is trimmed; one with / ? # or a space inside is refused", arguments: [
        (" org-abc ", "org-abc"), ("org-a/b", nil), ("org-a?b", nil), ("org-a#b", nil), ("org a", nil),
    ] as [(String, String?)])
    func orgID(_ value: String, _ expected: String?) throws {
        let report = try load("DEVIN_ORG_ID", value)
        #expect(report.configuration?.orgID == expected)
        if expected == nil {
            #expect(report.problems.count == 1)
            #expect(report.problems.first?.hasPrefix("DEVIN_ORG_ID ") == true)
        }
    }

    @Test("the ticket API token is optional; empty means unset")
    func ticketToken() throws {
        #expect(try load("TICKET_API_TOKEN", FakeSecret.ticketToken).configuration?.ticketAPIToken == Secret(FakeSecret.ticketToken))
        let empty = try load("TICKET_API_TOKEN", "")
        #expect(empty.configuration != nil)
        #expect(empty.configuration?.ticketAPIToken == nil)
    }

    // MARK: - DEVIN_API_BASE

    @Test("DEVIN_API_BASE: https anywhere, plain http only on loopback; trailing slashes removed", arguments: [
        ("https://api.devin.ai", "https://api.devin.ai"),
        ("https://api.devin.ai/", "https://api.devin.ai"),
        ("https://devin.corp.example//", "https://devin.corp.example"),
        ("https://devin.corp.example:8443/base/", "https://devin.corp.example:8443/base"),
        ("http://127.0.0.1:8080", "http://127.0.0.1:8080"),
        ("http://127.0.0.1:8080/", "http://127.0.0.1:8080"),
        ("http://127.1.2.3", "http://127.1.2.3"),
        ("http://localhost", "http://localhost"),
        ("http://LOCALHOST:9/", "http://LOCALHOST:9"),
        ("http://[::1]:9", "http://[::1]:9"),
    ])
    func apiBaseAccepted(_ value: String, _ expected: String) throws {
        let report = try load("DEVIN_API_BASE", value)
        #expect(report.problems == [])
        #expect(report.configuration?.apiBase == expected)
    }

    @Test("DEVIN_API_BASE: plain http off loopback is refused", arguments: [
        "http://api.devin.ai", "http://10.0.0.5:8080", "http://127.0.0.1.nip.io", "http://localhost.attacker.example",
        "http://[::2]", "http://128.0.0.1", "http://127.0.0.256",
    ])
    func apiBasePlainHTTPRefused(_ value: String) throws {
        let report = try load("DEVIN_API_BASE", value)
        #expect(report.configuration == nil)
        #expect(report.problems.count == 1)
        #expect(report.problems.first?.contains("only https:// is allowed off loopback") == true)
    }

    @Test("DEVIN_API_BASE: anything but an absolute http(s) URL without query, fragment or user is refused", arguments: [
        "api.devin.ai", "ftp://api.devin.ai", "https://", "https:///v3", "https://api.devin.ai?x=1",
        "https://api.devin.ai#top", "https://user@api.devin.ai", "not a url",
    ])
    func apiBaseMalformed(_ value: String) throws {
        let report = try load("DEVIN_API_BASE", value)
        #expect(report.configuration == nil)
        #expect(report.problems.count == 1)
        #expect(report.problems.first?.hasPrefix("DEVIN_API_BASE must be a plain URL such as https://api.devin.ai") == true)
    }

    // MARK: - Numbers and switches

    @Test("DEVIN_TIMEOUT_SECONDS takes seconds in (0, 300]", arguments: [
        ("2.5", 2.5), ("8", 8), (" 5 ", 5), ("300", 300),
    ])
    func timeoutAccepted(_ value: String, _ seconds: Double) throws {
        let report = try load("DEVIN_TIMEOUT_SECONDS", value)
        #expect(report.problems == [])
        #expect(report.configuration?.timeoutSeconds == seconds)
    }

    @Test("DEVIN_TIMEOUT_SECONDS over 10 is allowed with a warning")
    func longTimeoutWarns() throws {
        let report = try load("DEVIN_TIMEOUT_SECONDS", "30")
        #expect(report.configuration?.timeoutSeconds == 30)
        #expect(report.warnings == ["DEVIN_TIMEOUT_SECONDS is 30: most ticketing systems give up after 5-10 s"])
    }

    @Test("a bad DEVIN_TIMEOUT_SECONDS is a problem quoting it", arguments: [
        "0", "-1", "301", "abc", "5s", "nan", "inf", "1e400",
    ])
    func timeoutRefused(_ value: String) throws {
        let report = try load("DEVIN_TIMEOUT_SECONDS", value)
        #expect(report.configuration == nil)
        #expect(report.problems == ["DEVIN_TIMEOUT_SECONDS must be a number of seconds between 0 and 300, not \(value.debugDescription)"])
    }

    @Test("MAX_BODY_BYTES takes a positive whole number")
    func maxBodyAccepted() throws {
        #expect(try load("MAX_BODY_BYTES", "2048").configuration?.maxBodyBytes == 2048)
    }

    @Test("a bad MAX_BODY_BYTES is a problem quoting it", arguments: ["0", "-5", "1MB", "1.5", "lots"])
    func maxBodyRefused(_ value: String) throws {
        let report = try load("MAX_BODY_BYTES", value)
        #expect(report.configuration == nil)
        #expect(report.problems == ["MAX_BODY_BYTES must be a positive number of bytes, not \(value.debugDescription)"])
    }

    @Test("the report's maxBodyBytes falls back to a usable value when the configuration is broken", arguments: [
        ("2048", 2048), ("0", 1_048_576), ("junk", 1_048_576),
    ])
    func reportMaxBodyBytes(_ value: String, _ expected: Int) throws {
        let report = try load(["MAX_BODY_BYTES": value])
        #expect(report.configuration == nil)
        #expect(report.maxBodyBytes == expected)
    }

    @Test("DRY_RUN takes the usual spellings of yes and no", arguments: [
        ("1", true), ("true", true), ("YES", true), ("On", true),
        ("0", false), ("false", false), ("no", false), ("OFF", false), ("", false),
    ])
    func dryRun(_ value: String, _ expected: Bool) throws {
        let report = try load("DRY_RUN", value)
        #expect(report.problems == [])
        #expect(report.configuration?.dryRun == expected)
    }

    @Test("any other DRY_RUN is a problem", arguments: ["2", "maybe", "y"])
    func dryRunRefused(_ value: String) throws {
        let report = try load("DRY_RUN", value)
        #expect(report.problems == ["DRY_RUN must be 1 or 0, not \(value.debugDescription)"])
    }

    // MARK: - Labels and URLs

    @Test("TRIGGER_LABELS is read into labels with optional playbooks")
    func triggerLabels() throws {
        let report = try load("TRIGGER_LABELS", "a=playbook-1, b")
        #expect(report.configuration?.triggerLabels == [TriggerLabel("a", playbookID: "playbook-1"), TriggerLabel("b")])
    }

    @Test("a bad TRIGGER_LABELS is a problem", arguments: ["a,A", "=x", "a=", ",", " , "])
    func triggerLabelsRefused(_ value: String) throws {
        let report = try load("TRIGGER_LABELS", value)
        #expect(report.configuration == nil)
        #expect(report.problems.count == 1)
        #expect(report.problems.first?.hasPrefix("TRIGGER_LABELS") == true)
    }

    @Test("an empty TRIGGER_LABELS means the default labels")
    func emptyTriggerLabels() throws {
        let report = try load("TRIGGER_LABELS", "  ")
        #expect(report.configuration?.triggerLabels.map(\.name) == ["devin-autofix", "devin-feature"])
    }

    @Test("TICKET_URL_TEMPLATE must contain {id}")
    func urlTemplate() throws {
        let good = try load("TICKET_URL_TEMPLATE", "https://jira.example.com/browse/{id}")
        #expect(good.configuration?.ticketURLTemplate == "https://jira.example.com/browse/{id}")
        let bad = try load("TICKET_URL_TEMPLATE", "https://jira.example.com/browse/")
        #expect(bad.configuration == nil)
        #expect(bad.problems == ["TICKET_URL_TEMPLATE must contain {id}, e.g. https://jira.example.com/browse/{id}"])
    }

    @Test("TICKET_API_DOCS_URL is kept, trimmed")
    func docsURL() throws {
        let report = try load("TICKET_API_DOCS_URL", " https://docs.example.com/api ")
        #expect(report.configuration?.ticketAPIDocsURL == "https://docs.example.com/api")
    }

    @Test("several problems are all reported at once")
    func severalProblems() throws {
        let report = try load(["DEVIN_API_KEY": FakeSecret.apiKey, "DRY_RUN": "maybe", "MAX_BODY_BYTES": "0"])
        #expect(report.problems.count == 4)
        #expect(report.problems.contains("DEVIN_ORG_ID is not set"))
        #expect(report.problems.contains("WEBHOOK_SECRET is not set"))
    }

    // MARK: - Secrets

    @Test("no problem, warning or description repeats a secret's value")
    func problemsNeverHoldSecrets() throws {
        let apiKey = "sekrit-API-KEY-value-123"
        let webhook = "sekrit7"  // too short: refused, and must not be quoted while refusing it
        let token = "sekrit-TICKET-token-789"
        let file = """
            DEVIN_API_KEY= \(apiKey)x
            WEBHOOK_SECRET=\(webhook)
            TICKET_API_TOKEN=\(token)
            DEVIN_API_KEYS=\(apiKey)
            WEBHOOK_SECRETT=\(webhook)
            TRIGGER_LABELS=a,a
            DEVIN_API_BASE=http://api.example.com
            DEVIN_TIMEOUT_SECONDS=forever
            a line without equals \(apiKey)
            """
        let report = try load(file: file, ["DEVIN_API_KEY": " \(apiKey) ", "DEVIN_ORG_ID": "org/bad"])
        #expect(report.problems.count >= 7)
        #expect(report.warnings.count == 2)
        for text in report.problems + report.warnings {
            for secret in [apiKey, webhook, token] {
                #expect(!text.contains(secret), "\(text.debugDescription) holds a secret")
            }
        }
        #expect(!String(describing: Secret(apiKey)).contains(apiKey))
        #expect(!String(reflecting: Secret(apiKey)).contains(apiKey))
        #expect(!"\(Secret(apiKey))".contains(apiKey))
    }

    @Test("a masked secret shows its length only")
    func masked() {
        #expect(Secret("12345678").masked == "******** (8 characters)")
        #expect(Secret(FakeSecret.apiKey).description == "********")
        #expect(Secret(FakeSecret.apiKey).debugDescription == "Secret(********)")
    }
}
