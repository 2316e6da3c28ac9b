import CCurl
import DevinBridge
#if canImport(Glibc)
import Glibc
#endif

/// The real transport: libcurl's easy interface, called directly in the process, one request at
/// a time, performed synchronously. libcurl is loaded (dlopen) by the first request, so a process
/// that sends none (a skipped or rejected webhook) never loads it. No Foundation networking.
///
/// - TLS: the peer's certificate and host name are verified (libcurl's defaults, never turned
///   off), against the system CA bundle, or `CURL_CA_BUNDLE` / `SSL_CERT_FILE` and `SSL_CERT_DIR`
///   when `readsCertificateVariables` (not for a restricted caller: its environment chose them).
/// - No redirects: a 3xx is the answer. Following one would resend the Authorization header and
///   the body (with the session secret) to wherever it points.
/// - http and https only, also for anything libcurl might be asked to go to next.
/// - Proxies: `https_proxy` (or `HTTPS_PROXY`) for https URLs, with `no_proxy` (or `NO_PROXY`),
///   set explicitly: libcurl's own reading of the environment (`http_proxy`, `ALL_PROXY`, ...) is
///   turned off, so nothing else a CGI environment holds steers the request.
/// - No cookies, no `.netrc`, no compressed answers asked for, no `Expect: 100-continue` wait.
///   A `User-Agent` is sent unless the request has its own (GitHub's API refuses requests without).
/// - An answer's body is read up to `maximumAnswerBytes`; a longer one ends the transfer there
///   (the request may have been acted on: it counts as dropped), so a faulty server cannot make
///   the process hold more than that.
public struct CurlTransport: HTTPTransport {
    /// 16 MiB: far above any answer the bridge asks for (a page of 200 sessions, a ticket's
    /// comments), far below what would strain a web server's CGI process.
    public static let maximumAnswerBytes = 16 << 20

    public let readsCertificateVariables: Bool

    public init(readsCertificateVariables: Bool = true) {
        self.readsCertificateVariables = readsCertificateVariables
    }

    /// The transport for this process: a restricted one (run setgid by a caller outside its
    /// group) does not take CA settings from its caller's environment.
    public static func forProcess(_ identity: ProcessIdentity) -> CurlTransport {
        CurlTransport(readsCertificateVariables: !identity.restricted)
    }

    public func send(_ request: HTTPRequest, timeout: Double) -> Result<HTTPResponse, TransportError> {
        if let failure = bridge_curl_load() { return .failure(.connection(String(cString: failure))) }
        guard Self.isValidURL(request.url) else { return .failure(.connection("the URL is not valid")) }
        guard Self.isValidMethod(request.method) else { return .failure(.connection("the request method is not valid")) }
        guard request.headers.allSatisfy({ Self.isValidHeader(name: $0.key, value: $0.value) }) else {
            return .failure(.connection("a request header is not valid"))
        }
        guard let handle = bridge_curl_easy_init() else { return .failure(.connection("libcurl could not be initialised")) }
        defer { bridge_curl_easy_cleanup(handle) }

        var headerList: UnsafeMutablePointer<curl_slist>?
        defer { bridge_curl_slist_free_all(headerList) }
        // Sorted: the same request always goes out the same way.
        var lines = request.headers.sorted { $0.key < $1.key }.map { $0.value.isEmpty ? "\($0.key);" : "\($0.key): \($0.value)" }
        // Without this libcurl holds a large body back for up to a second, waiting for "100 Continue".
        if !request.headers.keys.contains(where: { $0.lowercased() == "expect" }) { lines.append("Expect:") }
        for line in lines {
            guard let list = bridge_curl_slist_append(headerList, line) else { return .failure(.connection("out of memory")) }
            headerList = list
        }

        let answer = Answer()
        let context = Unmanaged.passUnretained(answer).toOpaque()
        let milliseconds = Self.milliseconds(timeout)
        var refused: CURLcode?
        func set(_ code: CURLcode) { if code != CURLE_OK && refused == nil { refused = code } }

        set(bridge_curl_setopt_string(handle, CURLOPT_URL, request.url))
        set(bridge_curl_setopt_string(handle, CURLOPT_PROTOCOLS_STR, "http,https"))
        set(bridge_curl_setopt_string(handle, CURLOPT_REDIR_PROTOCOLS_STR, "http,https"))
        set(bridge_curl_setopt_long(handle, CURLOPT_FOLLOWLOCATION, 0))
        set(bridge_curl_setopt_long(handle, CURLOPT_SSL_VERIFYPEER, 1))
        set(bridge_curl_setopt_long(handle, CURLOPT_SSL_VERIFYHOST, 2))
        if readsCertificateVariables, let bundle = Self.environment(TransportEnvironment.caBundle) {
            set(bridge_curl_setopt_string(handle, CURLOPT_CAINFO, bundle))
        }
        if readsCertificateVariables, let directory = Self.environment(TransportEnvironment.caDirectory) {
            set(bridge_curl_setopt_string(handle, CURLOPT_CAPATH, directory))
        }
        // "" turns proxies off, libcurl's reading of the environment included.
        set(bridge_curl_setopt_string(handle, CURLOPT_PROXY, Self.proxy(for: request.url) ?? ""))
        if let exceptions = Self.environment(TransportEnvironment.noProxy) {
            set(bridge_curl_setopt_string(handle, CURLOPT_NOPROXY, exceptions))
        }
        set(bridge_curl_setopt_long(handle, CURLOPT_NOSIGNAL, 1))
        set(bridge_curl_setopt_long(handle, CURLOPT_TIMEOUT_MS, milliseconds))
        set(bridge_curl_setopt_long(handle, CURLOPT_CONNECTTIMEOUT_MS, milliseconds))
        set(bridge_curl_setopt_long(handle, CURLOPT_SUPPRESS_CONNECT_HEADERS, 1))
        set(bridge_curl_setopt_string(handle, CURLOPT_USERAGENT, "devin-bridge/\(BridgeVersion.current)"))
        set(bridge_curl_setopt_slist(handle, CURLOPT_HTTPHEADER, headerList))

        switch request.method {
        case "GET" where request.body.isEmpty:
            set(bridge_curl_setopt_long(handle, CURLOPT_HTTPGET, 1))
        case "HEAD" where request.body.isEmpty:
            set(bridge_curl_setopt_long(handle, CURLOPT_NOBODY, 1))
        case "DELETE" where request.body.isEmpty, "OPTIONS" where request.body.isEmpty:
            set(bridge_curl_setopt_string(handle, CURLOPT_CUSTOMREQUEST, request.method))
        default:
            // POST, PUT, PATCH (and anything else with a body): the body as given, exactly its
            // length, with the method on the request line. libcurl copies the bytes.
            set(bridge_curl_setopt_off_t(handle, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(request.body.count)))
            if request.body.isEmpty {
                set(bridge_curl_setopt_string(handle, CURLOPT_COPYPOSTFIELDS, ""))
            } else {
                set(request.body.withUnsafeBytes { bridge_curl_setopt_pointer(handle, CURLOPT_COPYPOSTFIELDS, UnsafeMutableRawPointer(mutating: $0.baseAddress)) })
            }
            if request.method != "POST" { set(bridge_curl_setopt_string(handle, CURLOPT_CUSTOMREQUEST, request.method)) }
        }

        set(bridge_curl_setopt_callback(handle, CURLOPT_WRITEFUNCTION) { data, size, count, context in
            guard let context else { return 0 }
            let total = size * count
            if let data, total > 0 {
                let answer = Unmanaged<Answer>.fromOpaque(context).takeUnretainedValue()
                // Fewer bytes taken than handed over: libcurl ends the transfer (CURLE_WRITE_ERROR).
                guard answer.body.count + total <= CurlTransport.maximumAnswerBytes else {
                    answer.tooLarge = true
                    return 0
                }
                answer.body.append(contentsOf: UnsafeRawBufferPointer(start: data, count: total))
            }
            return total
        })
        set(bridge_curl_setopt_pointer(handle, CURLOPT_WRITEDATA, context))
        set(bridge_curl_setopt_callback(handle, CURLOPT_HEADERFUNCTION) { data, size, count, context in
            guard let context else { return 0 }
            let total = size * count
            if let data, total > 0 {
                Unmanaged<Answer>.fromOpaque(context).takeUnretainedValue()
                    .headerLine(UnsafeRawBufferPointer(start: data, count: total))
            }
            return total
        })
        set(bridge_curl_setopt_pointer(handle, CURLOPT_HEADERDATA, context))

        // An option libcurl refuses (a security one among them, on a libcurl too old for it) stops
        // the request before anything is sent.
        if let refused { return .failure(.connection("libcurl refused an option: \(Self.text(refused))")) }

        let code = withExtendedLifetime(answer) { bridge_curl_easy_perform(handle) }
        if answer.tooLarge { return .failure(Self.tooLarge) }
        guard code == CURLE_OK else {
            return .failure(Self.error(for: code, osErrno: Self.info(handle, CURLINFO_OS_ERRNO),
                                       proxyStatus: Self.info(handle, CURLINFO_HTTP_CONNECTCODE),
                                       requestBytes: Self.info(handle, CURLINFO_REQUEST_SIZE)))
        }
        let status = Self.info(handle, CURLINFO_RESPONSE_CODE)
        guard status > 0 else { return .failure(.dropped("no valid HTTP answer")) }
        return .success(HTTPResponse(status: status, headers: answer.headers, body: answer.body))
    }

    /// What a failed transfer means for the caller. Whether the request may have arrived decides
    /// between `connection` (it was not sent: safe to send again) and `dropped` (it may have been
    /// acted on). The reasons are fixed texts: never the URL, its query or a header.
    static func error(for code: CURLcode, osErrno: Int, proxyStatus: Int, requestBytes: Int) -> TransportError {
        switch code {
        case CURLE_OPERATION_TIMEDOUT:
            return .timeout
        case CURLE_UNSUPPORTED_PROTOCOL, CURLE_URL_MALFORMAT:
            return .connection("the URL is not valid")
        case CURLE_COULDNT_RESOLVE_HOST:
            return .connection("host not found")
        case CURLE_COULDNT_RESOLVE_PROXY:
            return .connection("proxy host not found")
        case CURLE_COULDNT_CONNECT:
            switch Int32(truncatingIfNeeded: osErrno) {
            case ETIMEDOUT: return .timeout
            case ENETUNREACH: return .connection("no network")
            case EHOSTUNREACH: return .connection("host unreachable")
            case ECONNREFUSED: return .connection("connection refused")
            default: return .connection("could not connect")
            }
        case CURLE_SSL_CACERT_BADFILE, CURLE_SSL_CRL_BADFILE:
            return .connection("TLS handshake failed (the CA certificates could not be read)")
        case CURLE_SSL_CONNECT_ERROR, CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_CERTPROBLEM, CURLE_SSL_CIPHER,
             CURLE_SSL_ISSUER_ERROR, CURLE_SSL_PINNEDPUBKEYNOTMATCH, CURLE_SSL_INVALIDCERTSTATUS, CURLE_SSL_CLIENTCERT,
             CURLE_SSL_ENGINE_NOTFOUND, CURLE_SSL_ENGINE_SETFAILED, CURLE_SSL_ENGINE_INITFAILED:
            return .connection("TLS handshake failed (certificate or protocol)")
        case CURLE_RECV_ERROR where proxyStatus != 0 && !(200...299).contains(proxyStatus),
             CURLE_SEND_ERROR where proxyStatus != 0 && !(200...299).contains(proxyStatus):
            // The proxy answered the CONNECT with an error: nothing reached the API.
            return .connection("the proxy refused the connection (HTTP \(proxyStatus))")
        case CURLE_GOT_NOTHING:
            return .dropped("no valid HTTP answer (connection closed)")
        case CURLE_WEIRD_SERVER_REPLY:
            return .dropped("no valid HTTP answer")
        case CURLE_RECV_ERROR, CURLE_SEND_ERROR, CURLE_HTTP2, CURLE_HTTP2_STREAM, CURLE_HTTP3:
            return .dropped("connection dropped before an answer")
        case CURLE_PARTIAL_FILE:
            return .dropped("connection dropped during the answer")
        default:
            let reason = "libcurl: \(text(code))"
            return requestBytes > 0 ? .dropped(reason) : .connection(reason)
        }
    }

    /// An answer longer than `maximumAnswerBytes`: the request went out and was answered, so it
    /// may have been acted on.
    static let tooLarge = TransportError.dropped("the answer is larger than \(maximumAnswerBytes >> 20) MiB")

    /// libcurl's fixed description of a code (no URL, no host name in it).
    static func text(_ code: CURLcode) -> String {
        bridge_curl_easy_strerror(code).map { String(cString: $0) } ?? "error \(code.rawValue)"
    }

    /// CURLOPT_TIMEOUT_MS: at least 1 ms (0 would mean no limit at all), at most what a long holds.
    static func milliseconds(_ timeout: Double) -> Int {
        guard timeout.isFinite else { return Int(Int32.max) }
        return Int(max(1, min(timeout * 1000, Double(Int32.max))))
    }

    /// http(s) only, and nothing libcurl would cut short: a NUL, a line break or a space.
    static func isValidURL(_ url: String) -> Bool {
        let lower = url.lowercased()
        guard lower.hasPrefix("http://") || lower.hasPrefix("https://") else { return false }
        return !url.utf8.contains { $0 <= 0x20 || $0 == 0x7F }
    }

    static func isValidMethod(_ method: String) -> Bool {
        !method.isEmpty && method.utf8.allSatisfy { (0x41...0x5A).contains($0) }
    }

    /// A header line libcurl sends as given: a token name, a value without NUL or line breaks
    /// (which would start a header of their own).
    static func isValidHeader(name: String, value: String) -> Bool {
        !name.isEmpty
            && name.utf8.allSatisfy { $0 > 0x20 && $0 < 0x7F && $0 != UInt8(ascii: ":") && $0 != UInt8(ascii: ";") }
            && !value.utf8.contains { $0 == 0 || $0 == 0x0A || $0 == 0x0D }
    }

    /// The proxy for `url`: `https_proxy` (or `HTTPS_PROXY`) for an https URL; none for http.
    static func proxy(for url: String) -> String? {
        url.lowercased().hasPrefix("https://") ? environment(TransportEnvironment.httpsProxy) : nil
    }

    /// The first of these variables that is set and not empty.
    static func environment(_ names: [String]) -> String? {
        for name in names {
            if let value = getenv(name), value.pointee != 0 { return String(cString: value) }
        }
        return nil
    }

    static func info(_ handle: UnsafeMutableRawPointer, _ info: CURLINFO) -> Int {
        var value = 0
        return bridge_curl_getinfo_long(handle, info, &value) == CURLE_OK ? value : 0
    }
}

/// What the callbacks collect: the body, and the headers of the final answer only.
final class Answer {
    var body: [UInt8] = []
    /// Set when the body went past `CurlTransport.maximumAnswerBytes` and the transfer was ended.
    var tooLarge = false
    /// Lower-cased names; a repeated header's values joined with ", ".
    var headers: [String: String] = [:]
    private var lastName: String?

    /// One header line as libcurl hands it over, line break included.
    func headerLine(_ raw: UnsafeRawBufferPointer) {
        var line = raw[...]
        while let last = line.last, last == 0x0A || last == 0x0D { line = line.dropLast() }
        if line.isEmpty { return } // the end of a header block
        if line.starts(with: "HTTP/".utf8) {
            // A new status line (after a 1xx, or a proxy's answer): only the last answer counts.
            headers = [:]
            lastName = nil
            return
        }
        if line.first == 0x20 || line.first == 0x09 {
            // Obsolete line folding: the value goes on.
            if let lastName, let value = headers[lastName] {
                headers[lastName] = value + " " + Self.trimmed(line)
            }
            return
        }
        guard let colon = line.firstIndex(of: UInt8(ascii: ":")) else { return }
        let name = Self.trimmed(line[..<colon]).lowercased()
        guard !name.isEmpty else { return }
        let value = Self.trimmed(line[(colon + 1)...])
        if let earlier = headers[name] { headers[name] = earlier + ", " + value } else { headers[name] = value }
        lastName = name
    }

    private static func trimmed(_ bytes: Slice<UnsafeRawBufferPointer>) -> String {
        var bytes = bytes
        while let first = bytes.first, first == 0x20 || first == 0x09 { bytes = bytes.dropFirst() }
        while let last = bytes.last, last == 0x20 || last == 0x09 { bytes = bytes.dropLast() }
        return String(decoding: bytes, as: UTF8.self)
    }
}
