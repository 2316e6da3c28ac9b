import FoundationEssentials
import Glibc

/// A problem with the configuration, as a sentence that names the key (never a secret's value).
public struct ConfigurationProblem: Error, Equatable, Sendable, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// The validated configuration (the contract documented in the README).
public struct Configuration: Sendable {
    public var apiKey: Secret
    public var orgID: String
    public var webhookSecret: Secret
    public var ticketAPIToken: Secret?
    public var triggerLabels: [TriggerLabel]
    public var ticketAPIDocsURL: String?
    public var ticketURLTemplate: String?
    public var apiBase: String
    public var timeoutSeconds: Double
    public var maxBodyBytes: Int
    public var dryRun: Bool
    public var stateDirectory: String = Configuration.defaultStateDirectory
    /// 0: no cap.
    public var maxSessionsPerHour: Int = Configuration.defaultMaxSessionsPerHour
    public var retentionDays: Int = Configuration.defaultRetentionDays
    public var previousWebhookSecret: Secret? = nil
    public var signatureScheme: SignatureScheme = .auto
    public var signatureHeader: String? = nil
    public var toleranceSeconds: Double = StandardWebhooksVerifier.defaultTolerance
    public var allowStaticToken: Bool = false
    public var tokenHeader: String? = nil
    /// Forces one dialect for every request; nil: detect per request.
    public var ticketSource: TicketSource? = nil
    /// `WEBHOOK_TOKEN` and `WEBHOOK_TOKEN_PREVIOUS`: static tokens, never signing keys.
    public var webhookTokens: [Secret] = []
    /// `WEBHOOK_SECRET_<SOURCE>` (and `_PREVIOUS`): a sender's own signing secrets, current first.
    public var senderSecrets: [TicketSource: [Secret]] = [:]
    /// `WEBHOOK_TOKEN_<SOURCE>` (and `_PREVIOUS`): a sender's own static tokens.
    public var senderTokens: [TicketSource: [Secret]] = [:]
    /// `TICKET_API_BASE`: the ticketing system's API base URL (its host is also its web host).
    public var ticketAPIBase: String? = nil
    /// `TICKET_API_BASE_<SYSTEM>`: a system's own API base, over `TICKET_API_BASE`.
    public var ticketAPIBases: [TicketSource: String] = [:]
    /// `TICKET_API_TOKEN_<SYSTEM>`: a system's own token, over `TICKET_API_TOKEN`.
    public var ticketAPITokens: [TicketSource: Secret] = [:]
    /// `TICKET_COMMENTS`: which comments the bridge posts on the ticket.
    public var ticketComments: CommentLevel = .all
    /// The comment rules (`DEVIN_HANDLE`, `FORWARD_COMMENTS`, `MENTION_COMMANDS`, ...).
    public var comments: CommentRules = CommentRules()
    /// `REPOSITORY_MAP`, `MAX_ACU_LIMIT`, `MAX_ACU_LIMITS`.
    public var scope: SessionScope = SessionScope()

    public static let defaultFile = "/etc/devin-bridge/bridge.conf"
    public static let defaultTriggerLabels = "devin-autofix,devin-feature"
    public static let defaultAPIBase = "https://api.devin.ai"
    public static let defaultTimeoutSeconds = 8.0
    public static let defaultMaxBodyBytes = 1_048_576
    public static let minimumSecretLength = 8
    /// Static tokens travel in URLs and headers: they must be long and random.
    public static let minimumTokenLength = 16
    public static let defaultStateDirectory = "/var/lib/devin-bridge"
    public static let defaultMaxSessionsPerHour = 20
    public static let defaultRetentionDays = 30

    /// Every key the bridge reads; anything else in the file is probably a typo.
    public static let knownKeys: [String] = [
        "DEVIN_API_KEY", "DEVIN_ORG_ID", "WEBHOOK_SECRET", "TICKET_API_TOKEN", "TRIGGER_LABELS",
        "TICKET_API_DOCS_URL", "TICKET_URL_TEMPLATE", "DEVIN_API_BASE", "DEVIN_TIMEOUT_SECONDS",
        "MAX_BODY_BYTES", "DRY_RUN", "STATE_DIR", "MAX_SESSIONS_PER_HOUR", "RETENTION_DAYS",
        "WEBHOOK_SECRET_PREVIOUS", "SIGNATURE_SCHEME", "SIGNATURE_HEADER", "WEBHOOK_TOLERANCE_SECONDS",
        "ALLOW_STATIC_TOKEN", "TOKEN_HEADER", "TICKET_SOURCE", "WEBHOOK_TOKEN", "WEBHOOK_TOKEN_PREVIOUS",
        "TICKET_API_BASE", "TICKET_COMMENTS", "DEVIN_HANDLE", "FORWARD_COMMENTS", "MENTION_COMMANDS", "MENTION_PLAYBOOK",
        "ASSIGNEES", "ASSIGNMENT_PLAYBOOK", "ALLOWED_AUTHORS", "ALLOWED_ASSOCIATIONS", "TICKET_API_USER",
        "REPOSITORY_MAP", "MAX_ACU_LIMIT", "MAX_ACU_LIMITS",
    ] + perSenderKeys + perSystemAPIKeys
    /// `TICKET_API_BASE_<SYSTEM>` and `TICKET_API_TOKEN_<SYSTEM>`, per ticketing system with an API.
    public static let perSystemAPIKeys: [String] = TicketSource.allCases.filter { $0 != .generic }.flatMap { source -> [String] in
        ["TICKET_API_BASE_\(source.rawValue.uppercased())", "TICKET_API_TOKEN_\(source.rawValue.uppercased())"]
    }
    /// `WEBHOOK_SECRET_<SOURCE>`, `WEBHOOK_TOKEN_<SOURCE>` and their `_PREVIOUS`, per ticketing system.
    public static let perSenderKeys: [String] = TicketSource.allCases.flatMap { source -> [String] in
        let name = source.rawValue.uppercased()
        return ["WEBHOOK_SECRET_\(name)", "WEBHOOK_SECRET_\(name)_PREVIOUS", "WEBHOOK_TOKEN_\(name)", "WEBHOOK_TOKEN_\(name)_PREVIOUS"]
    }
    /// What an unset key means.
    public static let defaults: [String: String] = [
        "TRIGGER_LABELS": defaultTriggerLabels, "DEVIN_API_BASE": defaultAPIBase,
        "DEVIN_TIMEOUT_SECONDS": "8", "MAX_BODY_BYTES": String(defaultMaxBodyBytes), "DRY_RUN": "0",
        "STATE_DIR": defaultStateDirectory, "MAX_SESSIONS_PER_HOUR": String(defaultMaxSessionsPerHour),
        "RETENTION_DAYS": String(defaultRetentionDays), "SIGNATURE_SCHEME": "auto",
        "WEBHOOK_TOLERANCE_SECONDS": "300", "ALLOW_STATIC_TOKEN": "0", "TICKET_SOURCE": "auto",
    ]
    /// Keys whose values are never shown.
    public static let secretKeys: Set<String> = Set(["DEVIN_API_KEY", "WEBHOOK_SECRET", "TICKET_API_TOKEN", "WEBHOOK_SECRET_PREVIOUS",
                                                     "WEBHOOK_TOKEN", "WEBHOOK_TOKEN_PREVIOUS"] + perSenderKeys
                                                    + perSystemAPIKeys.filter { $0.hasPrefix("TICKET_API_TOKEN_") })
}

/// Which comments the bridge posts on the ticket (`TICKET_COMMENTS`).
public enum CommentLevel: String, Sendable, CaseIterable {
    /// The acknowledgement, each pull request, waiting for the user, and the end.
    case all
    /// Only the acknowledgement that Devin started.
    case ack
    /// None.
    case off
}

extension Configuration {
    /// Where and with what the bridge talks to `source`'s API: its own base and token, else the
    /// shared ones; nil when either is missing (then it posts nothing there).
    public func ticketAPI(for source: TicketSource) -> (base: String, token: Secret)? {
        guard source != .generic,
              let base = ticketAPIBases[source] ?? ticketAPIBase,
              let token = ticketAPITokens[source] ?? ticketAPIToken
        else { return nil }
        return (base, token)
    }
}

/// The outcome of loading the configuration: the merged settings, what is wrong, and, when nothing
/// is, the configuration itself.
public struct ConfigurationReport: Sendable {
    /// The file that was read, if any.
    public var file: String?
    /// Merged settings (environment over file), for the keys the bridge knows.
    public var settings: [String: String]
    /// Where each setting came from: "environment", the file path, or "default".
    public var origins: [String: String]
    public var problems: [String]
    public var warnings: [String]
    public var configuration: Configuration?

    /// `MAX_BODY_BYTES` as configured, or the default when it is missing or unusable, so a body
    /// can be read (and drained) even when the rest of the configuration is broken.
    public var maxBodyBytes: Int {
        configuration?.maxBodyBytes
            ?? settings["MAX_BODY_BYTES"].flatMap { Int($0) }.flatMap { $0 > 0 ? $0 : nil }
            ?? Configuration.defaultMaxBodyBytes
    }
}

extension Configuration {
    /// Loads the configuration: the process environment overrides the `KEY=VALUE` file at
    /// `$DEVIN_BRIDGE_CONFIG` (default ``defaultFile``; a missing default file is fine, a missing
    /// file that was named explicitly is a problem).
    public static func load(environment: [String: String], identity: ProcessIdentity = .current) -> ConfigurationReport {
        var problems: [String] = []
        var warnings: [String] = []
        var settings: [String: String] = [:]
        var origins: [String: String] = [:]

        let explicitPath = environment["DEVIN_BRIDGE_CONFIG"].flatMap { $0.isEmpty ? nil : $0 }
        let path = explicitPath ?? defaultFile
        var fileRead: String?
        if let refusal = identity.refusalToRead(path) {
            problems.append(refusal)
        } else {
        switch readConfigFile(path) {
        case .success(let text):
            fileRead = path
            var info = stat()
            if stat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG, info.st_mode & 0o004 != 0 {
                warnings.append("\(path) is readable by every user (mode \(String(info.st_mode & 0o777, radix: 8))) but holds secrets: chmod 0640 it, owned by root and the bridge's group (deploy/install.sh: root:devin-bridge)")
            }
            let parsed = ConfigFile.parse(text)
            for (line, message) in parsed.errors { problems.append("\(path) line \(line): \(message)") }
            for (key, value) in parsed.values {
                if knownKeys.contains(key) {
                    settings[key] = value
                    origins[key] = path
                } else if key != "DEVIN_BRIDGE_CONFIG" {
                    // A lower-case "key" may be a secret wrapped onto its own line: never repeat it.
                    warnings.append(ConfigFile.looksLikeKey(key)
                        ? "\(path) sets \(key), which the bridge does not read (a typo?)"
                        : "\(path) has a line whose key the bridge does not read (is a value wrapped onto its own line?)")
                }
            }
        case .failure(.missing):
            if explicitPath != nil {
                problems.append("DEVIN_BRIDGE_CONFIG names \(path), which does not exist")
            }
        case .failure(.unreadable(let reason)):
            problems.append("cannot read the configuration file \(path): \(reason)")
        }
        }
        // A restricted bridge (run setgid by a caller outside its group) takes no setting from
        // the environment: whoever runs it could choose them.
        let ignored = identity.restricted ? knownKeys.filter { environment[$0] != nil } : []
        if !ignored.isEmpty {
            warnings.append("ignored \(ignored.joined(separator: ", ")) from the environment: the bridge runs setgid \(identity.groupName) and takes its settings from \(path) only")
        }
        for key in knownKeys where !identity.restricted {
            if let value = environment[key] {
                settings[key] = value
                origins[key] = "environment"
            }
        }

        func required(_ key: String) -> String? {
            guard let value = settings[key], !value.isEmpty else {
                problems.append("\(key) is not set")
                return nil
            }
            return value
        }
        func optional(_ key: String) -> String? {
            guard let value = settings[key]?.trimmingASCIIWhitespace(), !value.isEmpty else { return nil }
            return value
        }

        let apiKey = required("DEVIN_API_KEY")
        let orgID = required("DEVIN_ORG_ID")?.trimmingASCIIWhitespace()
        // Taken exactly as written: spaces are part of a secret (GitHub's documented one has them).
        let webhookSecret = required("WEBHOOK_SECRET")
        if let webhookSecret, webhookSecret.count < minimumSecretLength {
            problems.append("WEBHOOK_SECRET is shorter than \(minimumSecretLength) characters: choose a long random one")
        }
        if let apiKey, apiKey.trimmingASCIIWhitespace() != apiKey {
            problems.append("DEVIN_API_KEY has spaces around it: remove them")
        }
        if let orgID, orgID.contains(where: { $0 == "/" || $0 == "?" || $0 == "#" || $0 == " " }) {
            problems.append("DEVIN_ORG_ID \(orgID.debugDescription) is not an organization id (they look like org-abc123)")
        }
        let ticketToken = settings["TICKET_API_TOKEN"].flatMap { $0.isEmpty ? nil : Secret($0) }

        var triggerLabels: [TriggerLabel] = []
        do {
            triggerLabels = try TriggerLabel.parseList(optional("TRIGGER_LABELS") ?? defaultTriggerLabels)
        } catch {
            problems.append("\(error)")
        }

        let template = optional("TICKET_URL_TEMPLATE")
        if let template, !template.contains("{id}") {
            problems.append("TICKET_URL_TEMPLATE must contain {id}, e.g. https://jira.example.com/browse/{id}")
        }
        if let template, !PromptBuilder.isPlainURL(template.replacing("{id}", with: "0")) || PromptBuilder.origin(template) == nil {
            problems.append("TICKET_URL_TEMPLATE must be a plain http(s) URL without user:password, e.g. https://jira.example.com/browse/{id}")
        }
        let docsURL = optional("TICKET_API_DOCS_URL")
        var ticketAPIBase: String?
        if let text = optional("TICKET_API_BASE") {
            do {
                ticketAPIBase = try validateBaseURL(text, key: "TICKET_API_BASE", example: "https://jira.example.com", carries: "the ticketing token")
            } catch {
                problems.append("\(error)")
            }
        }
        var ticketAPIBases: [TicketSource: String] = [:]
        var ticketAPITokens: [TicketSource: Secret] = [:]
        for source in TicketSource.allCases where source != .generic {
            let name = source.rawValue.uppercased()
            if let text = optional("TICKET_API_BASE_\(name)") {
                do {
                    ticketAPIBases[source] = try validateBaseURL(text, key: "TICKET_API_BASE_\(name)", example: source.exampleAPIBase,
                                                                 carries: "the ticketing token")
                } catch {
                    problems.append("\(error)")
                }
            }
            if let token = settings["TICKET_API_TOKEN_\(name)"], !token.isEmpty { ticketAPITokens[source] = Secret(token) }
        }
        var commentRules = CommentRules()
        do {
            commentRules = try CommentRules.parse(settings: { optional($0) })
        } catch {
            problems.append("\(error)")
        }
        var scope = SessionScope()
        do {
            scope = try SessionScope.parse(settings: { optional($0) }, triggers: triggerLabels)
        } catch {
            problems.append("\(error)")
        }
        var ticketComments = CommentLevel.all
        if let text = optional("TICKET_COMMENTS") {
            if let level = CommentLevel(rawValue: text.lowercased()) { ticketComments = level } else {
                problems.append("TICKET_COMMENTS must be all, ack or off, not \(text.debugDescription)")
            }
        }

        var apiBase = defaultAPIBase
        do {
            apiBase = try validateBaseURL(optional("DEVIN_API_BASE") ?? defaultAPIBase, key: "DEVIN_API_BASE",
                                          example: "https://api.devin.ai", carries: "the API key")
        } catch {
            problems.append("\(error)")
        }

        var timeout = defaultTimeoutSeconds
        if let text = optional("DEVIN_TIMEOUT_SECONDS") {
            if let value = Double(text), value > 0, value <= 300, value.isFinite {
                timeout = value
                if value > 10 {
                    warnings.append("DEVIN_TIMEOUT_SECONDS is \(text): most ticketing systems give up after 5-10 s")
                }
            } else {
                problems.append("DEVIN_TIMEOUT_SECONDS must be a number of seconds between 0 and 300, not \(text.debugDescription)")
            }
        }

        var maxBody = defaultMaxBodyBytes
        if let text = optional("MAX_BODY_BYTES") {
            if let value = Int(text), value > 0 {
                maxBody = value
            } else {
                problems.append("MAX_BODY_BYTES must be a positive number of bytes, not \(text.debugDescription)")
            }
        }

        func flag(_ key: String) -> Bool {
            guard let text = optional(key) else { return false }
            switch text.lowercased() {
            case "1", "true", "yes", "on": return true
            case "0", "false", "no", "off": return false
            default:
                problems.append("\(key) must be 1 or 0, not \(text.debugDescription)")
                return false
            }
        }
        let dryRun = flag("DRY_RUN")
        let allowStaticToken = flag("ALLOW_STATIC_TOKEN")

        // Taken exactly as written, like WEBHOOK_SECRET.
        let previousSecret = settings["WEBHOOK_SECRET_PREVIOUS"].flatMap { $0.isEmpty ? nil : $0 }
        if let previousSecret, previousSecret.count < minimumSecretLength {
            problems.append("WEBHOOK_SECRET_PREVIOUS is shorter than \(minimumSecretLength) characters")
        }
        func value(_ key: String) -> String? { settings[key].flatMap { $0.isEmpty ? nil : $0 } }
        // Signing secrets: the default pair and each sender's own.
        var signing: [(String, String)] = [("WEBHOOK_SECRET", webhookSecret), ("WEBHOOK_SECRET_PREVIOUS", previousSecret)]
            .compactMap { key, value in value.map { (key, $0) } }
        var senderSecrets: [TicketSource: [Secret]] = [:]
        var senderTokens: [TicketSource: [Secret]] = [:]
        var tokenValues: [(String, String)] = []
        var webhookTokens: [Secret] = []
        for (key, suffix) in [("WEBHOOK_TOKEN", ""), ("WEBHOOK_TOKEN_PREVIOUS", "")] {
            _ = suffix
            if let token = value(key) {
                tokenValues.append((key, token))
                webhookTokens.append(Secret(token))
            }
        }
        for source in TicketSource.allCases {
            let name = source.rawValue.uppercased()
            let secretKey = "WEBHOOK_SECRET_\(name)", tokenKey = "WEBHOOK_TOKEN_\(name)"
            let secrets = [secretKey, secretKey + "_PREVIOUS"].compactMap { key in value(key).map { (key, $0) } }
            let tokens = [tokenKey, tokenKey + "_PREVIOUS"].compactMap { key in value(key).map { (key, $0) } }
            if value(secretKey) == nil && value(secretKey + "_PREVIOUS") != nil {
                problems.append("\(secretKey)_PREVIOUS is set without \(secretKey)")
            }
            if value(tokenKey) == nil && value(tokenKey + "_PREVIOUS") != nil {
                problems.append("\(tokenKey)_PREVIOUS is set without \(tokenKey)")
            }
            for (key, secret) in secrets where secret.count < minimumSecretLength {
                problems.append("\(key) is shorter than \(minimumSecretLength) characters: choose a long random one")
            }
            signing += secrets
            tokenValues += tokens
            if !secrets.isEmpty { senderSecrets[source] = secrets.map { Secret($0.1) } }
            if !tokens.isEmpty { senderTokens[source] = tokens.map { Secret($0.1) } }
        }
        if value("WEBHOOK_TOKEN") == nil && value("WEBHOOK_TOKEN_PREVIOUS") != nil {
            problems.append("WEBHOOK_TOKEN_PREVIOUS is set without WEBHOOK_TOKEN")
        }
        for (key, secret) in signing where secret.hasPrefix("whsec_") {
            switch StandardWebhooksVerifier.keyProblem(Secret(secret)) {
            case .notBase64?: problems.append("\(key) starts with whsec_ but the rest is not base64")
            case .tooShort(let bytes)?:
                problems.append("\(key) is a Standard Webhooks secret of \(bytes) byte(s): it must decode to at least \(StandardWebhooksVerifier.minimumKeyBytes) bytes (generate a new one in the sender)")
            case nil: break
            }
        }
        for (key, token) in tokenValues where token.count < minimumTokenLength {
            problems.append("\(key) is shorter than \(minimumTokenLength) characters: a token travels in URLs and headers, choose a long random one (openssl rand -hex 24)")
        }
        // One value is never both a token and a signing key: a token ends up in access logs.
        for (tokenKey, token) in tokenValues {
            if let (secretKey, _) = signing.first(where: { $0.1 == token }) {
                problems.append("\(tokenKey) has the same value as \(secretKey): a token travels in URLs and logs, so it must never also be a signing secret; give it its own random value")
            }
        }
        var scheme = SignatureScheme.auto
        if let text = optional("SIGNATURE_SCHEME") {
            if let value = SignatureScheme(rawValue: text.lowercased()) { scheme = value } else {
                problems.append("SIGNATURE_SCHEME must be one of auto, hmac, standard, token, not \(text.debugDescription)")
            }
        }
        if tokenValues.isEmpty && (allowStaticToken || scheme == .token) {
            problems.append((allowStaticToken ? "ALLOW_STATIC_TOKEN=1" : "SIGNATURE_SCHEME=token")
                + " no longer makes WEBHOOK_SECRET a token: set WEBHOOK_TOKEN (or WEBHOOK_TOKEN_<SOURCE>, e.g. WEBHOOK_TOKEN_REDMINE) to its own random value (openssl rand -hex 24) and give that to the sender; WEBHOOK_SECRET stays the signing key")
        }
        if scheme == .standard {
            for (key, secret) in signing where StandardWebhooksVerifier.key(for: Secret(secret)) == nil {
                problems.append("SIGNATURE_SCHEME=standard, but \(key) is not a Standard Webhooks secret (whsec_ followed by base64 of at least \(StandardWebhooksVerifier.minimumKeyBytes) bytes)")
            }
        }
        let signatureHeader = optional("SIGNATURE_HEADER")
        let tokenHeader = optional("TOKEN_HEADER")
        for (key, value) in [("SIGNATURE_HEADER", signatureHeader), ("TOKEN_HEADER", tokenHeader)] {
            if let value, !value.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }) {
                problems.append("\(key) must be a header name such as X-My-Signature (letters, digits and -), not \(value.debugDescription)")
            }
        }
        var tolerance = StandardWebhooksVerifier.defaultTolerance
        if let text = optional("WEBHOOK_TOLERANCE_SECONDS") {
            if let value = Double(text), value >= 1, value <= 86_400 { tolerance = value } else {
                problems.append("WEBHOOK_TOLERANCE_SECONDS must be a number of seconds between 1 and 86400, not \(text.debugDescription)")
            }
        }
        var source: TicketSource?
        if let text = optional("TICKET_SOURCE"), text.lowercased() != "auto" {
            if let value = TicketSource(rawValue: text.lowercased()) { source = value } else {
                problems.append("TICKET_SOURCE must be auto or one of " + TicketSource.allCases.map(\.rawValue).joined(separator: ", ") + ", not \(text.debugDescription)")
            }
        }

        var stateDirectory = defaultStateDirectory
        if let text = optional("STATE_DIR") {
            if text.hasPrefix("/") {
                stateDirectory = text
                while stateDirectory.count > 1 && stateDirectory.hasSuffix("/") { stateDirectory.removeLast() }
            } else {
                problems.append("STATE_DIR must be an absolute path, not \(text.debugDescription)")
            }
        }
        var cap = defaultMaxSessionsPerHour
        if let text = optional("MAX_SESSIONS_PER_HOUR") {
            if let value = Int(text), value >= 0 { cap = value } else {
                problems.append("MAX_SESSIONS_PER_HOUR must be a whole number, 0 for no cap, not \(text.debugDescription)")
            }
        }
        var retention = defaultRetentionDays
        if let text = optional("RETENTION_DAYS") {
            if let value = Int(text), value >= 1 { retention = value } else {
                problems.append("RETENTION_DAYS must be a whole number of days, at least 1, not \(text.debugDescription)")
            }
        }

        var configuration: Configuration?
        if problems.isEmpty, let apiKey, let orgID, let webhookSecret {
            configuration = Configuration(
                apiKey: Secret(apiKey), orgID: orgID, webhookSecret: Secret(webhookSecret),
                ticketAPIToken: ticketToken, triggerLabels: triggerLabels, ticketAPIDocsURL: docsURL,
                ticketURLTemplate: template, apiBase: apiBase, timeoutSeconds: timeout,
                maxBodyBytes: maxBody, dryRun: dryRun, stateDirectory: stateDirectory,
                maxSessionsPerHour: cap, retentionDays: retention,
                previousWebhookSecret: previousSecret.map(Secret.init), signatureScheme: scheme,
                signatureHeader: signatureHeader, toleranceSeconds: tolerance, allowStaticToken: allowStaticToken,
                tokenHeader: tokenHeader, ticketSource: source, webhookTokens: webhookTokens,
                senderSecrets: senderSecrets, senderTokens: senderTokens, ticketAPIBase: ticketAPIBase,
                ticketAPIBases: ticketAPIBases, ticketAPITokens: ticketAPITokens, ticketComments: ticketComments,
                comments: commentRules, scope: scope)
        }
        return ConfigurationReport(
            file: fileRead, settings: settings, origins: origins,
            problems: problems, warnings: warnings, configuration: configuration)
    }

    /// Checks a base URL setting: an absolute http(s) URL, plain `http` only for a loopback host
    /// (a credential travels with every request). Returns it without a trailing slash.
    static func validateBaseURL(_ text: String, key: String, example: String, carries: String) throws -> String {
        guard let components = URLComponents(string: text),
              let scheme = components.scheme?.lowercased(), scheme == "https" || scheme == "http",
              let host = components.host, !host.isEmpty,
              components.query == nil, components.fragment == nil, components.user == nil, components.password == nil
        else {
            // The value is not repeated: it may hold credentials (`https://user:password@host`).
            throw ConfigurationProblem("\(key) must be a plain URL such as \(example) (no user:password, query or fragment)")
        }
        if scheme == "http" && !isLoopback(host) {
            throw ConfigurationProblem("\(key) uses plain http:// for \(host): only https:// is allowed off loopback, since \(carries) travels with every request")
        }
        var base = text
        while base.hasSuffix("/") { base.removeLast() }
        return base
    }

    static func validateAPIBase(_ text: String) throws -> String {
        try validateBaseURL(text, key: "DEVIN_API_BASE", example: "https://api.devin.ai", carries: "the API key")
    }

    static func isLoopback(_ host: String) -> Bool {
        let host = host.lowercased().trimmingScalars { $0 == "[" || $0 == "]" }
        if host == "localhost" || host == "::1" { return true }
        let octets = host.split(separator: ".", omittingEmptySubsequences: false)
        return octets.count == 4 && octets[0] == "127" && octets.allSatisfy { UInt8($0) != nil }
    }
}

enum ConfigFileError: Error {
    case missing
    case unreadable(String)
}

func readConfigFile(_ path: String) -> Result<String, ConfigFileError> {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else {
        if access(path, F_OK) != 0 && errno == ENOENT { return .failure(.missing) }
        return .failure(.unreadable(access(path, R_OK) != 0 ? "permission denied" : "cannot open it"))
    }
    defer { close(fd) }
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 16_384)
    while true {
        let count = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if count < 0 && errno == EINTR { continue }
        guard count >= 0 else { return .failure(.unreadable("read error (is it a directory?)")) }
        if count == 0 { break }
        bytes += chunk[0..<count]
    }
    guard let text = String(validating: bytes, as: UTF8.self) else { return .failure(.unreadable("it is not UTF-8 text")) }
    return .success(text)
}
