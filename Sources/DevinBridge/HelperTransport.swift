import Foundation

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

    public init(helper: String) { self.helper = helper }

    /// `devin-bridge-http` in the directory of the running executable.
    public static func besideExecutable() -> HelperTransport {
        let executable = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
            ?? CommandLine.arguments[0]
        return HelperTransport(helper: (executable as NSString).deletingLastPathComponent + "/devin-bridge-http")
    }

    public func send(_ request: HTTPRequest, timeout: Double) -> Result<HTTPResponse, TransportError> {
        guard FileManager.default.isExecutableFile(atPath: helper) else {
            return .failure(.connection("the network helper \(helper) is missing: install devin-bridge-http next to devin-bridge"))
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: helper)
        // Only what libcurl may need: the CGI environment (client headers) stays behind.
        var environment = ["PATH": "/usr/bin:/bin"]
        for name in ["https_proxy", "HTTPS_PROXY", "no_proxy", "NO_PROXY", "SSL_CERT_FILE", "SSL_CERT_DIR", "CURL_CA_BUNDLE"] {
            if let value = ProcessInfo.processInfo.environment[name] { environment[name] = value }
        }
        process.environment = environment
        let input = Pipe(), output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        guard let message = try? JSONEncoder().encode(TransportMessage.Request(request: request, timeout: timeout)) else {
            return .failure(.connection("could not encode the request"))
        }
        do {
            try process.run()
        } catch {
            return .failure(.connection("could not start the network helper \(helper)"))
        }
        try? input.fileHandleForWriting.write(contentsOf: message)
        try? input.fileHandleForWriting.close()
        // The helper enforces the timeout itself; this bound only covers a helper that hangs.
        let pid = process.processIdentifier
        let watchdog = DispatchWorkItem { kill(pid, SIGKILL) }
        DispatchQueue.global().asyncAfter(deadline: .now() + timeout + 3, execute: watchdog)
        let answer = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        watchdog.cancel()
        if process.terminationReason == .uncaughtSignal { return .failure(.timeout) }
        guard let response = try? JSONDecoder().decode(TransportMessage.Response.self, from: answer) else {
            return .failure(.dropped("the network helper gave no answer"))
        }
        return response.result
    }
}
