import FoundationEssentials

/// What an admin command prints and how it exits.
public struct CommandResult: Equatable, Sendable {
    public var stdout: String
    public var stderr: String
    public var exitCode: Int32

    public init(stdout: String = "", stderr: String = "", exitCode: Int32 = 0) {
        self.stdout = stdout
        self.stderr = stderr
        self.exitCode = exitCode
    }
}

/// The admin command line: `check`, `sign`, `--version`, `--help`.
public enum AdminCommands {
    public static let usage = """
        devin-bridge \(BridgeVersion.current): ticketing webhooks in, Devin sessions out.

        As a CGI program (GATEWAY_INTERFACE set), it answers one webhook request.
        From a shell:
          devin-bridge check          load and validate the configuration, print it with secrets masked;
                                      exits 1 when something must be fixed
          devin-bridge retry [--now]  deliver the queued tickets that are due (--now: all of them, ignoring the
                                      backoff but not MAX_SESSIONS_PER_HOUR), resolve interrupted attempts,
                                      follow the sessions' state and post the comments owed to tickets,
                                      prune old records; for cron or the systemd timer in deploy/systemd
          devin-bridge status [--json]
                                      recent sessions with their state, pull requests and comments; queued
                                      and failed tickets with reasons and next attempt
          devin-bridge why TICKET     what happened to a ticket: every delivery seen, the decision and its reason,
                                      its sessions, comments and forwarded replies
          devin-bridge sign [--source NAME]
                                      print the signature header for the body on stdin, e.g.
                                        curl -H "$(devin-bridge sign < ticket.json)" --data-binary @ticket.json URL
                                      (--source: with that sender's WEBHOOK_SECRET_<NAME> when it has one)
          devin-bridge sign --standard [--source NAME]
                                      print Standard Webhooks headers (webhook-id, -timestamp, -signature)
          devin-bridge --version      print the version
          devin-bridge --help         print this help

        Configuration: the environment, over the KEY=VALUE file at $DEVIN_BRIDGE_CONFIG
        (default \(Configuration.defaultFile)). See the README for every key.

        """

    /// What a caller outside the bridge's group may run through the setgid program: nothing that
    /// reads a secret or the state directory for it (`sign` would be a signing oracle). The
    /// comment worker only posts what the bridge already owes a ticket.
    public static let unrestrictedCommands: Set<String> = ["--help", "-h", "help", "--version", "-V", "version", CommentWorker.command]

    public static func run(_ arguments: [String], environment: [String: String], transport: any HTTPTransport,
                           clock: BridgeClock = .system, identity: ProcessIdentity = .plain,
                           stdin: () -> [UInt8]) -> CommandResult {
        if identity.restricted && !unrestrictedCommands.contains(arguments.first ?? "--help") {
            return CommandResult(stderr: "devin-bridge: this command needs root or a member of group \(identity.groupName): the program runs setgid "
                + "\(identity.groupName) to read its secrets, and answers only CGI requests for anyone else\n", exitCode: 1)
        }
        switch arguments.first {
        case nil, "--help", "-h", "help":
            return CommandResult(stdout: usage)
        case "--version", "-V", "version":
            return CommandResult(stdout: "devin-bridge \(BridgeVersion.current)\n")
        case "check":
            return check(Configuration.load(environment: environment))
        case "sign":
            var options = Array(arguments.dropFirst())
            var source: TicketSource?
            if let index = options.firstIndex(of: "--source") {
                guard index + 1 < options.count, let named = TicketSource(rawValue: options[index + 1].lowercased()) else {
                    return CommandResult(stderr: "devin-bridge sign: --source takes one of " + TicketSource.allCases.map(\.rawValue).joined(separator: ", ") + "\n", exitCode: 2)
                }
                source = named
                options.removeSubrange(index...(index + 1))
            }
            guard options.allSatisfy({ $0 == "--standard" }) else {
                return CommandResult(stderr: "devin-bridge sign: unknown option \(options.filter { $0 != "--standard" }.joined(separator: " "))\n", exitCode: 2)
            }
            let report = Configuration.load(environment: environment)
            if options.contains("--standard") {
                return signStandard(report, body: stdin(), now: clock.now(), source: source)
            }
            return sign(report, body: stdin(), source: source)
        case CommentWorker.command:
            // Internal: the worker the CGI program starts after its answer (`post-comments <key>`).
            let report = Configuration.load(environment: environment)
            guard arguments.count == 2, FileStateStore.isKey(arguments[1]), let configuration = report.configuration,
                  let store = try? FileStateStore(directory: configuration.stateDirectory) else {
                return CommandResult(stderr: "devin-bridge \(CommentWorker.command): needs a ticket key and a usable configuration\n", exitCode: 2)
            }
            let poster = CommentPoster(store: store, configuration: configuration, transport: transport, clock: clock)
            let results = poster.postDue(key: arguments[1])
            return CommandResult(stdout: results.map { "\($0.0.event): \($0.1)\n" }.joined())
        case "why":
            guard arguments.count == 2 else {
                return CommandResult(stderr: "devin-bridge why: name one ticket, as the bridge shows it (PROJ-123, group/project#23, #1234, bug 5678)\n", exitCode: 2)
            }
            let report = Configuration.load(environment: environment)
            guard let configuration = report.configuration else {
                return CommandResult(stderr: report.problems.map { "problem: \($0)\n" }.joined()
                                        + "devin-bridge why: fix the configuration first (devin-bridge check)\n", exitCode: 1)
            }
            _ = try? StateOwner.adopt(configuration.stateDirectory)
            return why(arguments[1], configuration: configuration)
        case "retry", "status":
            let options = Set(arguments.dropFirst())
            let known: Set<String> = arguments.first == "retry" ? ["--now"] : ["--json"]
            guard options.isSubset(of: known) else {
                return CommandResult(stderr: "devin-bridge \(arguments[0]): unknown option \(options.subtracting(known).sorted().joined(separator: " "))\n", exitCode: 2)
            }
            let report = Configuration.load(environment: environment)
            guard let configuration = report.configuration else {
                return CommandResult(stderr: report.problems.map { "problem: \($0)\n" }.joined()
                                        + "devin-bridge \(arguments[0]): fix the configuration first (devin-bridge check)\n", exitCode: 1)
            }
            var note = ""
            do {
                if let switched = try StateOwner.adopt(configuration.stateDirectory) { note = "devin-bridge: \(switched)\n" }
            } catch let error as BridgeError {
                return CommandResult(stderr: "devin-bridge \(arguments[0]): \(error.logDetail)\n", exitCode: 1)
            } catch {}
            var result = arguments[0] == "status"
                ? status(configuration, clock: clock, json: options.contains("--json"))
                : retry(configuration, transport: transport, clock: clock, ignoringBackoff: options.contains("--now"))
            result.stderr = note + result.stderr
            return result
        case let other?:
            return CommandResult(stderr: "devin-bridge: unknown command \(other.debugDescription)\n\n" + usage, exitCode: 2)
        }
    }

    /// Prints every setting (secrets masked), then warnings and problems.
    public static func check(_ report: ConfigurationReport) -> CommandResult {
        var problems = report.problems
        var out = "configuration file: \(report.file ?? "(none read)")\n"
        let width = Configuration.knownKeys.map(\.count).max() ?? 0
        for key in Configuration.knownKeys {
            // A sender's own secrets and tokens are listed when set; there are four per system.
            if (Configuration.perSenderKeys.contains(key) || Configuration.perSystemAPIKeys.contains(key))
                && (report.settings[key] ?? "").isEmpty { continue }
            var value = "(not set)"
            var origin = ""
            if let raw = report.settings[key], !raw.isEmpty {
                value = Configuration.secretKeys.contains(key) ? Secret(raw).masked : URLMask.masked(raw)
                origin = report.origins[key].map { "  [\($0)]" } ?? ""
            } else if let fallback = Configuration.defaults[key] {
                value = fallback
                origin = "  [default]"
            }
            out += key + String(repeating: " ", count: max(0, width - key.count)) + "  " + value + origin + "\n"
        }
        if let configuration = report.configuration {
            out += "trigger labels: " + configuration.triggerLabels.map { label in
                label.name + (label.playbookID.map { " -> \($0)" } ?? " (no playbook)")
            }.joined(separator: ", ") + "\n"
            out += "sessions are created at: \(DevinClient(configuration: configuration, transport: NoTransport()).sessionsURL)"
            out += configuration.dryRun ? " (DRY_RUN: not called)\n" : "\n"
            let state = StateOwner.describe(configuration.stateDirectory)
            out += state.line + "\n"
            if let problem = state.problem { problems.append(problem) }
        }
        var err = ""
        for warning in report.warnings { err += "warning: \(warning)\n" }
        for problem in problems { err += "problem: \(problem)\n" }
        if problems.isEmpty {
            out += "configuration OK\n"
            return CommandResult(stdout: out, stderr: err)
        }
        err += report.problems.isEmpty
            ? "\(problems.count) problem(s): accepted tickets fail until they are fixed\n"
            : "\(problems.count) problem(s): the bridge refuses every webhook until they are fixed\n"
        return CommandResult(stdout: out, stderr: err, exitCode: 1)
    }

    /// The signing secret `sign` uses: the sender's own (`WEBHOOK_SECRET_<SOURCE>`) when it has
    /// one, else `WEBHOOK_SECRET`; or the sentence that says what is missing.
    static func signingSecret(_ report: ConfigurationReport, source: TicketSource?) -> Result<(key: String, value: String), CommandFailure> {
        if let source, let own = report.settings["WEBHOOK_SECRET_\(source.rawValue.uppercased())"], !own.isEmpty {
            return .success(("WEBHOOK_SECRET_\(source.rawValue.uppercased())", own))
        }
        guard let secret = report.settings["WEBHOOK_SECRET"], !secret.isEmpty else {
            return .failure(CommandFailure(result: CommandResult(
                stderr: "devin-bridge sign: WEBHOOK_SECRET is not set (environment or \(report.file ?? Configuration.defaultFile))\n", exitCode: 1)))
        }
        return .success(("WEBHOOK_SECRET", secret))
    }

    /// Prints the three Standard Webhooks headers for the body, signed now.
    public static func signStandard(_ report: ConfigurationReport, body: [UInt8], now: Date, source: TicketSource? = nil) -> CommandResult {
        let secret: (key: String, value: String)
        switch signingSecret(report, source: source) {
        case .success(let found): secret = found
        case .failure(let failure): return failure.result
        }
        let id = "msg_" + UUID().uuidString.replacing("-", with: "").lowercased()
        let timestamp = Int64(now.timeIntervalSince1970)
        guard let signature = StandardWebhooksVerifier.sign(id: id, timestamp: timestamp, body: body, secret: Secret(secret.value)) else {
            return CommandResult(stderr: "devin-bridge sign: \(secret.key) is not a Standard Webhooks secret (whsec_ and base64 of at least \(StandardWebhooksVerifier.minimumKeyBytes) bytes)\n", exitCode: 1)
        }
        return CommandResult(stdout: "webhook-id: \(id)\nwebhook-timestamp: \(timestamp)\nwebhook-signature: \(signature)\n")
    }

    /// Prints `X-Hub-Signature-256: sha256=<hex>` for the body; needs only the signing secret.
    public static func sign(_ report: ConfigurationReport, body: [UInt8], source: TicketSource? = nil) -> CommandResult {
        switch signingSecret(report, source: source) {
        case .success(let secret):
            return CommandResult(stdout: SignatureVerifier.headerLine(body: body, secret: Secret(secret.value)) + "\n")
        case .failure(let failure):
            return failure.result
        }
    }
}

/// A transport for code paths that only need URLs.
struct NoTransport: HTTPTransport {
    func send(_ request: HTTPRequest, timeout: Double) -> Result<HTTPResponse, TransportError> {
        .failure(.connection("no transport"))
    }
}
