import FoundationEssentials

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

    /// The JSON document of a form that is only `payload=<percent-encoded JSON>` (as Gitea and
    /// Forgejo send it; they sign the document): nil for anything else. It runs before the
    /// signature is checked, on any body, so it is one pass over the bytes and nothing more.
    public static func formDocument(_ body: [UInt8]) -> [UInt8]? {
        let prefix = Array("payload=".utf8)
        guard body.count > prefix.count, body.starts(with: prefix) else { return nil }
        var out = [UInt8]()
        out.reserveCapacity(body.count - prefix.count)
        var index = prefix.count
        while index < body.count {
            let byte = body[index]
            switch byte {
            case UInt8(ascii: "&"), UInt8(ascii: "="):
                return nil // another field: not the one-field form that is signed as its document
            case UInt8(ascii: "+"):
                out.append(UInt8(ascii: " "))
            case UInt8(ascii: "%"):
                guard index + 2 < body.count, let high = hexValue(body[index + 1]), let low = hexValue(body[index + 2]) else { return nil }
                out.append(high << 4 | low)
                index += 2
            default:
                out.append(byte)
            }
            index += 1
        }
        guard out.first(where: { ![0x20, 0x09, 0x0A, 0x0D].contains($0) }) == UInt8(ascii: "{") else { return nil }
        return out
    }

    static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte - UInt8(ascii: "A") + 10
        default: return nil
        }
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
            let encoded = parts.count > 1 ? String(parts[1].replacing("+", with: " ")) : ""
            guard let decoded = encoded.percentDecoded else {
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
