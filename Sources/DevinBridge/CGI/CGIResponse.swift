import FoundationEssentials

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

    /// A JSON object of string fields, written by hand: the answers most requests get (skipped,
    /// refused) cost no encoder. Keys in sorted order and nil fields left out, as `json` does.
    public static func json(_ status: HTTPStatus, fields: KeyValuePairs<String, String?>, headers: [(String, String)] = []) -> CGIResponse {
        var text = "{"
        for (key, value) in fields.sorted(by: { $0.key < $1.key }) {
            guard let value else { continue }
            if text.utf8.count > 1 { text += "," }
            JSONText.appendString(key, to: &text)
            text += ":"
            JSONText.appendString(value, to: &text)
        }
        text += "}\n"
        return CGIResponse(
            status: status,
            headers: [("Content-Type", "application/json")] + headers + [("Cache-Control", "no-store")],
            body: Array(text.utf8))
    }

    /// The `{"error","message"}` document for a failure.
    public static func error(_ error: BridgeError, headers: [(String, String)] = []) -> CGIResponse {
        json(error.status, fields: ["error": error.code, "message": error.message], headers: headers)
    }

    /// `{"status":"skipped","ticket","reason"}`.
    static func skipped(ticket: String?, reason: String) -> CGIResponse {
        json(.ok, fields: ["status": "skipped", "ticket": ticket, "reason": reason])
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

/// JSON string literals, escaped as Foundation's encoder escapes them (slashes left as they are).
enum JSONText {
    static func appendString(_ value: String, to text: inout String) {
        text += "\""
        var plainStart = value.utf8.startIndex
        var position = plainStart
        let utf8 = value.utf8
        while position != utf8.endIndex {
            let byte = utf8[position]
            let escaped: String?
            switch byte {
            case 0x22: escaped = "\\\""
            case 0x5c: escaped = "\\\\"
            case 0x0a: escaped = "\\n"
            case 0x0d: escaped = "\\r"
            case 0x09: escaped = "\\t"
            case 0x08: escaped = "\\b"
            case 0x0c: escaped = "\\f"
            case 0..<0x20: escaped = "\\u00" + String(byte >> 4, radix: 16) + String(byte & 0x0f, radix: 16)
            default: escaped = nil
            }
            if let escaped {
                text += Substring(utf8[plainStart..<position])
                text += escaped
                plainStart = utf8.index(after: position)
            }
            position = utf8.index(after: position)
        }
        text += Substring(utf8[plainStart..<utf8.endIndex])
        text += "\""
    }
}
