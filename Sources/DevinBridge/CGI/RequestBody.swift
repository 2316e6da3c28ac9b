import Foundation

/// Gets the JSON document out of a body, from the body's own bytes.
///
/// A body whose first non-blank byte is `{` (or `[`, refused later as not an object) is the JSON
/// document itself; any other body is a form
/// (`application/x-www-form-urlencoded`, as GitHub and Gitea/Forgejo can send) whose one
/// `payload` field holds the document. The unsigned `Content-Type` never decides which: the same
/// signed bytes always give the same document.
public enum RequestBody {
    public enum Format: Equatable, Sendable { case json, form }

    public static func format(of body: [UInt8]) -> Format {
        for byte in body {
            switch byte {
            case 0x20, 0x09, 0x0A, 0x0D: continue
            case UInt8(ascii: "{"), UInt8(ascii: "["): return .json
            default: return .form
            }
        }
        return .json
    }

    /// Refuses a `Content-Type` that is neither JSON nor a form (it decides nothing else).
    public static func checkMediaType(_ contentType: String?) throws {
        let mediaType = (contentType ?? "").split(separator: ";", maxSplits: 1).first
            .map { $0.trimmingASCIIWhitespace().lowercased() } ?? ""
        switch mediaType {
        case "", "application/json", "text/json", "application/x-www-form-urlencoded": return
        case let type where type.hasPrefix("application/") && type.hasSuffix("+json"): return
        default: throw BridgeError.unsupportedMediaType(contentType ?? "")
        }
    }

    /// The JSON document of a body: the body, or its form's `payload` field.
    public static func json(_ body: [UInt8]) throws -> [UInt8] {
        switch format(of: body) {
        case .json: return body
        case .form: return try formPayload(body)
        }
    }

    /// The form's `payload` field, when the body is a form that has exactly one (for verifying
    /// senders that sign the document rather than the form); nil otherwise.
    public static func formDocument(_ body: [UInt8]) -> [UInt8]? {
        guard format(of: body) == .form else { return nil }
        return try? formPayload(body)
    }

    /// The decoded `payload` field of a form body; exactly one, holding a JSON object.
    static func formPayload(_ body: [UInt8]) throws -> [UInt8] {
        guard let text = String(validating: body, as: UTF8.self) else {
            throw BridgeError.invalidJSON("the form body is not valid UTF-8")
        }
        var found: [UInt8]?
        for field in text.split(separator: "&") {
            let parts = field.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard parts[0] == "payload" else { continue }
            guard found == nil else { throw BridgeError.invalidJSON("the form has more than one payload field") }
            let encoded = parts.count > 1 ? parts[1].replacingOccurrences(of: "+", with: " ") : ""
            guard let decoded = encoded.removingPercentEncoding else {
                throw BridgeError.invalidJSON("the form's payload field is not properly percent-encoded")
            }
            found = Array(decoded.utf8)
        }
        guard let found else {
            throw BridgeError.invalidJSON("the body is neither a JSON object nor a form with a payload field")
        }
        guard found.first(where: { ![0x20, 0x09, 0x0A, 0x0D].contains($0) }) == UInt8(ascii: "{") else {
            throw BridgeError.invalidJSON("the form's payload field does not hold a JSON object")
        }
        return found
    }
}
