import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// What devin-bridge and its network helper, devin-bridge-http, say to each other: one JSON
/// document each way over the helper's stdin and stdout (never its arguments or environment, so
/// the API key does not show in `ps`).
public enum TransportMessage {
    public struct Request: Codable, Sendable {
        public var request: HTTPRequest
        public var timeout: Double

        public init(request: HTTPRequest, timeout: Double) {
            self.request = request
            self.timeout = timeout
        }
    }

    public struct Response: Codable, Sendable {
        public var response: HTTPResponse?
        /// `timeout`, `connection` or `dropped`.
        public var error: String?
        public var reason: String?

        public init(_ result: Result<HTTPResponse, TransportError>) {
            switch result {
            case .success(let answer): response = answer
            case .failure(.timeout): error = "timeout"
            case .failure(.connection(let text)): error = "connection"; reason = text
            case .failure(.dropped(let text)): error = "dropped"; reason = text
            }
        }

        public var result: Result<HTTPResponse, TransportError> {
            if let response { return .success(response) }
            switch error {
            case "timeout": return .failure(.timeout)
            case "dropped": return .failure(.dropped(reason ?? "connection dropped"))
            default: return .failure(.connection(reason ?? "the network helper failed"))
            }
        }
    }
}




/// The transport devin-bridge uses: runs the network helper (`devin-bridge-http`, installed next
/// to it) for each request, so URLSession and libcurl are only loaded when a ticket is accepted.
public struct HelperTransport: HTTPTransport {
    public let helper: String
    /// Environment variables passed on to the helper (libcurl's proxy and CA settings).
    public let passedVariables: [String]

    public static let proxyVariables = ["https_proxy", "HTTPS_PROXY", "no_proxy", "NO_PROXY"]
    /// How much longer than its timeout a helper may take (its own start-up) before it is killed.
    public static let watchdogSlack: Double = 3
    public static let certificateVariables = ["SSL_CERT_FILE", "SSL_CERT_DIR", "CURL_CA_BUNDLE"]

    public init(helper: String, passedVariables: [String] = proxyVariables + certificateVariables) {
        self.helper = helper
        self.passedVariables = passedVariables
    }

    /// `devin-bridge-http` in the directory of the running executable. A restricted bridge (run
    /// setgid by a caller outside its group) passes no CA settings: its caller chose them.
    public static func besideExecutable(identity: ProcessIdentity = .plain) -> HelperTransport {
        let executable = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
            ?? CommandLine.arguments[0]
        return HelperTransport(helper: (executable as NSString).deletingLastPathComponent + "/devin-bridge-http",
                               passedVariables: identity.restricted ? proxyVariables : proxyVariables + certificateVariables)
    }

    public func send(_ request: HTTPRequest, timeout: Double) -> Result<HTTPResponse, TransportError> {
        guard FileManager.default.isExecutableFile(atPath: helper) else {
            return .failure(.connection("the network helper \(helper) is missing: install devin-bridge-http next to devin-bridge"))
        }
        // Only what libcurl may need: the CGI environment (client headers) stays behind.
        var environment = ["PATH=/usr/bin:/bin"]
        for name in passedVariables {
            if let value = ProcessInfo.processInfo.environment[name] { environment.append("\(name)=\(value)") }
        }
        guard let message = try? JSONEncoder().encode(TransportMessage.Request(request: request, timeout: timeout)) else {
            return .failure(.connection("could not encode the request"))
        }
        guard let child = Self.spawn(helper, environment: environment) else {
            return .failure(.connection("could not start the network helper \(helper)"))
        }
        // The helper enforces the timeout itself; this bound only covers a helper that hangs.
        let watchdog = DispatchWorkItem { kill(child.pid, SIGKILL) }
        DispatchQueue.global().asyncAfter(deadline: .now() + timeout + Self.watchdogSlack, execute: watchdog)
        defer { watchdog.cancel() }
        Self.writeAll(child.stdin, Array(message))
        close(child.stdin)
        let answer = Self.readAll(child.stdout)
        close(child.stdout)
        var status: Int32 = 0
        while waitpid(child.pid, &status, 0) < 0 && errno == EINTR {}
        if status & 0x7f != 0 { return .failure(.timeout) } // killed by a signal: the watchdog
        guard let response = try? JSONDecoder().decode(TransportMessage.Response.self, from: Data(answer)) else {
            return .failure(.dropped("the network helper gave no answer"))
        }
        return response.result
    }

    /// posix_spawn with the helper's stdin and stdout on pipes and stderr on /dev/null.
    /// (Foundation's Process polls for the child's exit every 50 ms; this waits for it directly.)
    static func spawn(_ path: String, environment: [String]) -> (pid: pid_t, stdin: Int32, stdout: Int32)? {
        var input: [Int32] = [0, 0], output: [Int32] = [0, 0]
        guard pipe(&input) == 0 else { return nil }
        guard pipe(&output) == 0 else { close(input[0]); close(input[1]); return nil }
        // Not inherited by anything else the process may start (dup2 in the child clears it on 0 and 1).
        for fd in input + output { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, input[0], 0)
        posix_spawn_file_actions_adddup2(&actions, output[1], 1)
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        var attributes = posix_spawnattr_t()
        Self.initializeCleanSignals(&attributes, defaults: [SIGPIPE], extraFlags: 0)
        defer { posix_spawnattr_destroy(&attributes) }

        let argv: [UnsafeMutablePointer<CChar>?] = [strdup(path), nil]
        let envp: [UnsafeMutablePointer<CChar>?] = environment.map { strdup($0) } + [nil]
        defer { (argv + envp).forEach { free($0) } }
        var pid: pid_t = 0
        let result = posix_spawn(&pid, path, &actions, &attributes, argv, envp)
        close(input[0])
        close(output[1])
        guard result == 0 else {
            close(input[1])
            close(output[0])
            return nil
        }
        return (pid, input[1], output[0])
    }

    /// Spawn attributes for a child that starts clean: a CGI parent may run with signals blocked
    /// or ignored. `defaults` go back to their default action. Destroy them after the spawn.
    static func initializeCleanSignals(_ attributes: inout posix_spawnattr_t, defaults signals: [Int32], extraFlags: Int32) {
        posix_spawnattr_init(&attributes)
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigmask(&attributes, &empty)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in signals { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | extraFlags))
    }

    static func writeAll(_ fd: Int32, _ bytes: [UInt8]) {
        var offset = 0
        // A helper that died early closes its stdin: ignore SIGPIPE for this write (EPIPE instead).
        let previous = signal(SIGPIPE, SIG_IGN)
        defer { signal(SIGPIPE, previous) }
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if written < 0 && errno == EINTR { continue }
            if written <= 0 { return }
            offset += written
        }
    }

    static func readAll(_ fd: Int32) -> [UInt8] {
        var result: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            if count <= 0 { break }
            result += chunk[0..<count]
        }
        return result
    }
}
