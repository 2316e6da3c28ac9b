import Foundation

/// A response as a CGI program writes it (RFC 3875 §6): header lines, a blank line, the body.
public struct CGIResponse: Sendable, Equatable {
    public var status: HTTPStatus
    public var headers: [(String, String)]
    public var body: [UInt8]

    public init(status: HTTPStatus, headers: [(String, String)] = [], body: [UInt8] = []) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    public static func == (lhs: CGIResponse, rhs: CGIResponse) -> Bool {
        lhs.status == rhs.status && lhs.body == rhs.body
            && lhs.headers.map { "\($0.0): \($0.1)" } == rhs.headers.map { "\($0.0): \($0.1)" }
    }

    /// A JSON document with `Content-Type: application/json`.
    public static func json(_ status: HTTPStatus, _ value: some Encodable, headers: [(String, String)] = []) -> CGIResponse {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var body = (try? encoder.encode(value)).map(Array.init) ?? Array(#"{"error":"internal"}"#.utf8)
        body.append(UInt8(ascii: "\n"))
        return CGIResponse(
            status: status,
            headers: [("Content-Type", "application/json")] + headers + [("Cache-Control", "no-store")],
            body: body)
    }

    /// The `{"error","message"}` document for a failure.
    public static func error(_ error: BridgeError, headers: [(String, String)] = []) -> CGIResponse {
        json(error.status, ErrorBody(error: error.code, message: error.message), headers: headers)
    }

    /// The bytes for stdout. A `HEAD` request gets the header block only.
    public func serialized(includeBody: Bool = true) -> [UInt8] {
        var text = "Status: \(status)\r\n"
        for (name, value) in headers { text += "\(name): \(value)\r\n" }
        text += "\r\n"
        var bytes = Array(text.utf8)
        if includeBody { bytes += body }
        return bytes
    }
}

struct ErrorBody: Encodable {
    let error: String
    let message: String
}
