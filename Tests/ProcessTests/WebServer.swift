import Foundation

/// Apache (mod_cgid) or nginx + fcgiwrap on a loopback port, configured from deploy/ for a
/// private prefix by Tests/Support/webserver.py, serving the built bridge. Stopped by ``stop()``.
final class WebServer {
    enum Kind: String, CaseIterable, CustomStringConvertible, Sendable {
        case apache, nginx
        var description: String { rawValue }
    }

    /// How the bridge is set up and what else the server serves.
    struct Options {
        /// The bridge under its own group, as deploy/install.sh sets it up (only possible as root).
        var identity = geteuid() == 0
        /// Tests/Support/intruder.sh at /intruder: another www-data script on the same server.
        var intruder = false
        /// More programs at their own locations, outside the bridge's: (location, program).
        var extraCGI: [(String, String)] = []
        /// Serve this program at the hook instead of the built bridge.
        var cgi: String? = nil
        /// The drop-in's CGIDScriptTimeout, replaced.
        var scriptTimeout: Int? = nil
        /// The bridge deploy/install.sh installed with this DESTDIR, served as it is.
        var installedRoot: URL? = nil
        /// Apache: Debian's serve-cgi-bin.conf too.
        var debianCGIBin = false
    }

    let kind: Kind
    let prefix: URL
    let url: String
    let errorLog: URL
    let mainConfig: URL
    let configFile: URL
    let stateDirectory: String
    private var stopped = false

    static let script = Paths.packageRoot.appendingPathComponent("Tests/Support/webserver.py").path

    /// Starts `kind` with a bridge.conf holding `settings`. As root, by default the bridge is set
    /// up under its own group (config root:devin-bridge 0640, state devin-bridge:devin-bridge 2770,
    /// the program setgid devin-bridge); with `identity: false`, the earlier www-data layout.
    init(_ kind: Kind, settings: [String: String], options: Options = Options()) throws {
        self.kind = kind
        prefix = try Paths.temporaryDirectory()
        chmod(prefix.path, 0o755)
        if let root = options.installedRoot {
            // deploy/install.sh made the config and the state directory: keep their owners and modes.
            configFile = root.appendingPathComponent("etc/devin-bridge/bridge.conf")
            stateDirectory = root.appendingPathComponent("var/lib/devin-bridge").path
        } else {
            configFile = prefix.appendingPathComponent("bridge.conf")
            stateDirectory = prefix.appendingPathComponent("state").path
            mkdir(stateDirectory, 0o750)
        }
        let settings = ["STATE_DIR": stateDirectory].merging(settings) { $1 }
        let text = settings.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: "\n") + "\n"
        // In place: an installed file keeps its owner and mode.
        try text.write(to: configFile, atomically: false, encoding: .utf8)

        var arguments = [Self.script, "start", "--server", kind.rawValue, "--prefix", prefix.appendingPathComponent("server").path,
                         "--config", configFile.path, "--state-dir", stateDirectory,
                         options.identity ? "--identity" : "--no-identity"]
        if let root = options.installedRoot {
            arguments += ["--installed-root", root.path]
        } else {
            arguments += ["--cgi", options.cgi ?? Paths.binary]
        }
        if options.intruder { arguments.append("--intruder") }
        for (location, program) in options.extraCGI { arguments += ["--extra-cgi", "\(location)=\(program)"] }
        if let timeout = options.scriptTimeout { arguments += ["--script-timeout", String(timeout)] }
        if options.debianCGIBin { arguments.append("--debian-cgi-bin") }
        let output = try runProcess("/usr/bin/env", arguments: ["python3"] + arguments,
                                    environment: ["PATH": "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin"], stdin: [])
        guard output.exitCode == 0,
              let info = try? JSONSerialization.jsonObject(with: Data(output.stdout)) as? [String: String],
              let url = info["url"], let log = info["error_log"], let main = info["main_config"]
        else {
            _ = try? runProcess("/usr/bin/env", arguments: ["python3", Self.script, "stop", "--prefix", prefix.appendingPathComponent("server").path],
                                environment: ["PATH": "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin"], stdin: [])
            try? FileManager.default.removeItem(at: prefix)
            throw HarnessError("\(kind) did not start: \(output.stderr)")
        }
        self.url = url
        errorLog = URL(fileURLWithPath: log)
        mainConfig = URL(fileURLWithPath: main)
    }

    func stop() {
        guard !stopped else { return }
        stopped = true
        _ = try? runProcess("/usr/bin/env", arguments: ["python3", Self.script, "stop", "--prefix", prefix.appendingPathComponent("server").path],
                            environment: ["PATH": "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin"], stdin: [])
        try? FileManager.default.removeItem(at: prefix)
    }

    deinit { stop() }

    var errorLogText: String { (try? String(contentsOf: errorLog, encoding: .utf8)) ?? "" }

    /// The bridge's own lines in the error log (Apache writes them as they are, nginx quotes them
    /// after "FastCGI sent in stderr").
    var bridgeLogLines: [String] {
        errorLogText.split(separator: "\n").map(String.init).filter { $0.contains("devin-bridge: ") }
    }

    /// Waits briefly for the server to flush the bridge's log line.
    func waitForLogLines(_ count: Int) -> [String] {
        let deadline = Date().addingTimeInterval(3)
        var lines = bridgeLogLines
        while lines.count < count && Date() < deadline {
            usleep(50_000)
            lines = bridgeLogLines
        }
        return lines
    }
}

/// An HTTP answer as curl saw it.
struct HTTPAnswer {
    var status: Int
    var headers: [(String, String)]
    var body: [UInt8]

    func header(_ name: String) -> String? { headers.first { $0.0.lowercased() == name.lowercased() }?.1 }
    var json: [String: Any] { (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any] ?? [:] }
    var text: String { String(decoding: body, as: UTF8.self) }
}

/// Sends one request with curl, as a ticketing system would. `chunked` sends the body with
/// `Transfer-Encoding: chunked` and no Content-Length.
func curl(_ url: String, method: String = "POST", headers: [(String, String)] = [], body: [UInt8]? = nil,
          chunked: Bool = false) throws -> HTTPAnswer {
    let directory = try Paths.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let headerFile = directory.appendingPathComponent("headers").path
    let bodyFile = directory.appendingPathComponent("body").path
    var arguments = ["-sS", "--max-time", "30", "-X", method, "-D", headerFile, "-o", bodyFile, "-w", "%{http_code}"]
    for (name, value) in headers { arguments += ["-H", "\(name): \(value)"] }
    if chunked { arguments += ["-H", "Transfer-Encoding: chunked"] }
    if let body {
        let input = directory.appendingPathComponent("input")
        try Data(body).write(to: input)
        arguments += ["--data-binary", "@\(input.path)"]
        if !headers.contains(where: { $0.0.lowercased() == "content-type" }) {
            arguments += ["-H", "Content-Type: application/json"]
        }
    }
    if method == "HEAD" { arguments = arguments.filter { $0 != "-X" && $0 != "HEAD" } + ["--head"] }
    arguments.append(url)
    let output = try runProcess("/usr/bin/curl", arguments: arguments, environment: ["PATH": "/usr/bin:/bin"], stdin: [])
    guard let status = Int(String(decoding: output.stdout, as: UTF8.self)), status > 0 else {
        throw HarnessError("curl failed: \(output.stderr)")
    }
    let headerText = (try? String(contentsOfFile: headerFile, encoding: .utf8)) ?? ""
    let parsed: [(String, String)] = headerText.split(separator: "\r\n").compactMap { line in
        guard let colon = line.firstIndex(of: ":") else { return nil }
        return (String(line[..<colon]), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces))
    }
    let body = (try? Data(contentsOf: URL(fileURLWithPath: bodyFile))).map(Array.init) ?? []
    return HTTPAnswer(status: status, headers: parsed, body: body)
}
