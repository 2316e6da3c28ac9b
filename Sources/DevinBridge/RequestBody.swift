import Foundation

/// Gets the JSON document out of a verified body, by its `Content-Type`.
///
/// JSON comes as is (`application/json`, `text/json`, `application/*+json`, or no type at all).
/// GitHub and Gitea/Forgejo can also send `application/x-www-form-urlencoded` with the JSON in a
/// `payload` field; the signature covers the form as sent, so this runs after verification.
public enum RequestBody {
    public static func json(_ body: [UInt8], contentType: String?) throws -> [UInt8] {
        let mediaType = (contentType ?? "").split(separator: ";", maxSplits: 1).first
            .map { $0.trimmingASCIIWhitespace().lowercased() } ?? ""
        switch mediaType {
        case "", "application/json", "text/json":
            return body
        case "application/x-www-form-urlencoded":
            return try formPayload(body)
        case let type where type.hasPrefix("application/") && type.hasSuffix("+json"):
            return body
        default:
            throw BridgeError.unsupportedMediaType(contentType ?? "")
        }
    }

    /// The decoded `payload` field of a form body.
    static func formPayload(_ body: [UInt8]) throws -> [UInt8] {
        guard let text = String(validating: body, as: UTF8.self) else {
            throw BridgeError.invalidJSON("the form body is not valid UTF-8")
        }
        for field in text.split(separator: "&") {
            let parts = field.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard parts[0] == "payload" else { continue }
            let encoded = parts.count > 1 ? parts[1].replacingOccurrences(of: "+", with: " ") : ""
            guard let decoded = encoded.removingPercentEncoding else {
                throw BridgeError.invalidJSON("the form's payload field is not properly percent-encoded")
            }
            return Array(decoded.utf8)
        }
        throw BridgeError.missingField("payload")
    }
}
