/// The part of a CGI request that arrives in the environment (RFC 3875 §4.1).
public struct CGIRequestHead: Sendable, Equatable {
    public var method: String
    public var headers: HTTPHeaders
    /// `CONTENT_LENGTH` exactly as given, or nil when unset (a chunked upload).
    public var contentLength: String?
    public var pathInfo: String
    public var queryString: String

    public init(method: String, headers: HTTPHeaders = HTTPHeaders(), contentLength: String? = nil,
                pathInfo: String = "", queryString: String = "") {
        self.method = method
        self.headers = headers
        self.contentLength = contentLength
        self.pathInfo = pathInfo
        self.queryString = queryString
    }

    /// Reads the request head from CGI meta-variables. `HTTP_X_HUB_SIGNATURE_256` becomes the header
    /// `x-hub-signature-256`; `CONTENT_TYPE` and `CONTENT_LENGTH` come without the `HTTP_` prefix
    /// (RFC 3875 §4.1.2, §4.1.3, §4.1.18).
    public init(environment: [String: String]) {
        method = (environment["REQUEST_METHOD"] ?? "GET").uppercased()
        var headers = HTTPHeaders()
        for (name, value) in environment where name.hasPrefix("HTTP_") {
            headers.add(name.dropFirst(5).lowercased().replacingOccurrences(of: "_", with: "-"), value)
        }
        if let type = environment["CONTENT_TYPE"], !type.isEmpty { headers.add("content-type", type) }
        let length = environment["CONTENT_LENGTH"]
        contentLength = (length?.isEmpty ?? true) ? nil : length
        self.headers = headers
        pathInfo = environment["PATH_INFO"] ?? ""
        queryString = environment["QUERY_STRING"] ?? ""
    }
}

/// Reads up to `buffer.count` bytes of the body into `buffer`; returns the count, 0 at end of input,
/// or a negative number on a read error.
public typealias ReadFunction = (UnsafeMutableRawBufferPointer) -> Int

/// Reads a request body with the rules every CGI host needs: all of it, always.
///
/// Apache (mod_cgid) and fcgiwrap lose the response when a script exits without reading the body,
/// so even a body that is refused is drained first, up to a fixed bound.
public enum BodyReader {
    /// The most a refused body is read before the input is abandoned.
    public static let drainLimit = 64 << 20

    /// Reads `CONTENT_LENGTH` bytes, or to the end of input when it is unset, keeping at most `limit`.
    public static func read(contentLength: String?, limit: Int, from read: ReadFunction) -> Result<[UInt8], BridgeError> {
        var expected: Int?
        var failure: BridgeError?
        if let contentLength {
            let trimmed = contentLength.trimmingASCIIWhitespace()
            if !trimmed.isEmpty, trimmed.utf8.allSatisfy({ (48...57).contains($0) }), let value = Int(trimmed) {
                expected = value
                if value > limit { failure = .payloadTooLarge(limit: limit) }
            } else {
                failure = .badContentLength(contentLength)
            }
        }

        var body = [UInt8]()
        if failure == nil { body.reserveCapacity(min(expected ?? 65536, limit)) }
        var chunk = [UInt8](repeating: 0, count: 65536)
        var total = 0
        let stop = min(expected ?? Int.max, drainLimit)
        while total < stop {
            let wanted = min(chunk.count, stop - total)
            let count = chunk.withUnsafeMutableBytes { read(UnsafeMutableRawBufferPointer(rebasing: $0[0..<wanted])) }
            if count < 0 {
                if failure == nil { failure = .bodyUnreadable }
                break
            }
            if count == 0 { break }
            total += count
            guard failure == nil else { continue }
            if total > limit {
                failure = .payloadTooLarge(limit: limit)
                body = []
            } else {
                body.append(contentsOf: chunk[0..<count])
            }
        }
        if let failure { return .failure(failure) }
        if let expected, total < expected { return .failure(.bodyTruncated(expected: expected, received: total)) }
        return .success(body)
    }
}
