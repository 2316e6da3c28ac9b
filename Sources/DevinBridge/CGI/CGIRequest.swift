import FoundationEssentials
import Glibc

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
            headers.add(name.dropFirst(5).lowercased().replacing("_", with: "-"), value)
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
/// ``BodyReader/timedOut`` when the body's deadline passed, or another negative number on a read error.
public typealias ReadFunction = (UnsafeMutableRawBufferPointer) -> Int

/// The request's time budget: the web server's limit is 30 s (the drop-ins in deploy/), so the
/// bridge answers within 25 s whatever the sender or the Devin API do.
///
/// - the body must arrive within ``bodySeconds`` (a sender dribbling it is answered 408);
/// - every later wait (the ticket's lock, the session look-up, the sessions-per-hour ledger, the
///   create call) is cut to what is left, less ``answerReserve`` for recording and answering;
/// - what cannot be done in time is queued, never dropped: the retry timer finishes it.
public struct RequestDeadline: Sendable {
    public static let totalSeconds: Double = 25
    public static let bodySeconds: Double = 10
    /// Kept back for writing the record and the answer.
    public static let answerReserve: Double = 2
    /// A Devin call is not started with less than this left: it would only time out.
    public static let minimumCallSeconds: Double = 2

    let clock: BridgeClock
    let endsAt: UInt64

    public init(clock: BridgeClock, startedAt: UInt64, seconds: Double = totalSeconds) {
        self.clock = clock
        endsAt = startedAt &+ UInt64(max(0, seconds) * 1e9)
    }

    /// Seconds left before the answer must be written (never negative).
    public var remaining: Double {
        let now = clock.uptimeNanoseconds()
        return now >= endsAt ? 0 : Double(endsAt - now) / 1e9
    }

    /// Seconds a wait or a call may take now: at most `wanted`, never past the reserve.
    public func budget(_ wanted: Double) -> Double { max(0, min(wanted, remaining - Self.answerReserve)) }
}

/// Reads a request body with the rules every CGI host needs: all of it, always.
///
/// Apache (mod_cgid) and fcgiwrap lose the response when a script exits without reading the body,
/// so even a body that is refused is drained first, up to a fixed bound.
public enum BodyReader {
    /// The most a refused body is read before the input is abandoned.
    public static let drainLimit = 64 << 20
    /// What a ``ReadFunction`` returns when the body's deadline passed.
    public static let timedOut = -2

    /// Reads standard input, waiting for each piece at most until `deadline` (monotonic
    /// nanoseconds, ``BridgeClock/uptimeNanoseconds``).
    public static func standardInput(until deadline: UInt64, clock: BridgeClock = .system) -> ReadFunction {
        { buffer in
            while true {
                let now = clock.uptimeNanoseconds()
                guard now < deadline else { return timedOut }
                var descriptor = pollfd(fd: 0, events: Int16(POLLIN), revents: 0)
                let wait = Int32(min(Double(deadline - now) / 1e6 + 1, 60_000))
                let ready = poll(&descriptor, 1, wait)
                if ready < 0 && errno == EINTR { continue }
                if ready < 0 { return -1 }
                if ready == 0 { continue } // loop: the deadline check answers
                let count = Glibc.read(0, buffer.baseAddress, buffer.count)
                if count < 0 && (errno == EINTR || errno == EAGAIN) { continue }
                return count
            }
        }
    }

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

        if failure == nil, let expected, expected <= drainLimit {
            // The length is known and allowed: read straight into the body, no chunk to copy from.
            let body = [UInt8](unsafeUninitializedCapacity: expected) { buffer, filled in
                let bytes = UnsafeMutableRawBufferPointer(buffer)
                while filled < expected {
                    let count = read(UnsafeMutableRawBufferPointer(rebasing: bytes[filled..<expected]))
                    if count == timedOut {
                        failure = .bodyTimeout(seconds: RequestDeadline.bodySeconds)
                        return
                    }
                    if count < 0 {
                        failure = .bodyUnreadable
                        return
                    }
                    if count == 0 { return }
                    filled += count
                }
            }
            if let failure { return .failure(failure) }
            if body.count < expected { return .failure(.bodyTruncated(expected: expected, received: body.count)) }
            return .success(body)
        }

        var body = [UInt8]()
        if failure == nil { body.reserveCapacity(min(65536, limit)) }
        var chunk = [UInt8](repeating: 0, count: 65536)
        var total = 0
        let stop = min(expected ?? Int.max, drainLimit)
        while total < stop {
            let wanted = min(chunk.count, stop - total)
            let count = chunk.withUnsafeMutableBytes { read(UnsafeMutableRawBufferPointer(rebasing: $0[0..<wanted])) }
            if count == timedOut {
                // Abandoned: a sender this slow is not worth waiting for, whatever it sends.
                failure = .bodyTimeout(seconds: RequestDeadline.bodySeconds)
                break
            }
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
