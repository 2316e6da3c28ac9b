/// An outgoing HTTP request, as plain data.
public struct HTTPRequest: Sendable, Equatable {
    public var method: String
    public var url: String
    public var headers: [String: String]
    public var body: [UInt8]

    public init(method: String, url: String, headers: [String: String] = [:], body: [UInt8] = []) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
    }
}

/// An answer from upstream; header names are lower-cased.
public struct HTTPResponse: Sendable, Equatable {
    public var status: Int
    public var headers: [String: String]
    public var body: [UInt8]

    public init(status: Int, headers: [String: String] = [:], body: [UInt8] = []) {
        self.status = status
        self.headers = Dictionary(headers.map { ($0.key.lowercased(), $0.value) }, uniquingKeysWith: { a, _ in a })
        self.body = body
    }
}

/// Why no answer arrived.
public enum TransportError: Error, Equatable, Sendable {
    /// Nothing came back within the timeout (the request may have been received).
    case timeout
    /// The connection could not be made: the request was not sent.
    case connection(String)
    /// The connection broke after the request was sent: it may have been acted on.
    case dropped(String)
}

/// Sends one request and waits for the answer, at most `timeout` seconds.
/// The real one calls libcurl (module DevinBridgeHTTP, `CurlTransport`); tests pass fakes.
public protocol HTTPTransport: Sendable {
    func send(_ request: HTTPRequest, timeout: Double) -> Result<HTTPResponse, TransportError>
}

/// The environment variables the real transport reads, named once: it reads them, and a process
/// the bridge starts (the comment worker) is given them and no others of its caller's.
public enum TransportEnvironment {
    /// The proxy for https URLs and its exceptions; nothing else (`HTTP_PROXY` is a CGI client's
    /// `Proxy:` header).
    public static let httpsProxy = ["https_proxy", "HTTPS_PROXY"]
    public static let noProxy = ["no_proxy", "NO_PROXY"]
    /// The CA bundle file and directory; not read for a restricted caller, who chose them.
    public static let caBundle = ["CURL_CA_BUNDLE", "SSL_CERT_FILE"]
    public static let caDirectory = ["SSL_CERT_DIR"]

    public static var proxyVariables: [String] { httpsProxy + noProxy }
    public static var certificateVariables: [String] { caBundle + caDirectory }
}
