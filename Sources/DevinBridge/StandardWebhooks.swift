import Foundation

/// Verifies Standard Webhooks signatures (standardwebhooks.com; GitLab's signing token, Svix).
///
/// Headers `webhook-id`, `webhook-timestamp` (unix seconds) and `webhook-signature`, a
/// space-separated list of `v1,<base64>` entries (other versions are ignored; any `v1` that
/// matches verifies, which is how senders rotate). The signed content is
/// `<id>.<timestamp>.<body>`; the key is the base64 after a `whsec_` prefix (or the secret's own
/// bytes without one). Timestamps further than the tolerance from now, either way, are refused.
public struct StandardWebhooksVerifier: Sendable {
    public static let defaultTolerance: TimeInterval = 300

    private let keys: [[UInt8]]
    private let tolerance: TimeInterval

    public init(secrets: [Secret], tolerance: TimeInterval = defaultTolerance) {
        keys = secrets.compactMap { Self.key(for: $0) }
        self.tolerance = tolerance
    }

    /// The HMAC key for a secret, or nil when a `whsec_` secret is not valid base64.
    public static func key(for secret: Secret) -> [UInt8]? {
        guard secret.value.hasPrefix("whsec_") else { return Array(secret.value.utf8) }
        return Data(base64Encoded: String(secret.value.dropFirst(6))).map(Array.init)
    }

    public static func isPresent(in headers: HTTPHeaders) -> Bool { headers["webhook-signature"] != nil }

    public func verify(body: [UInt8], headers: HTTPHeaders, now: Date) throws {
        guard let signatureHeader = headers.values("webhook-signature")?.joined(separator: " ") else {
            throw BridgeError.missingSignature
        }
        guard let id = headers["webhook-id"], !id.isEmpty else {
            throw BridgeError.badSignature(header: "Webhook-Id", reason: "the header is missing")
        }
        guard let stamp = headers["webhook-timestamp"], let seconds = Int64(stamp.trimmingASCIIWhitespace()) else {
            throw BridgeError.badSignature(header: "Webhook-Timestamp", reason: "it is missing or not a number of seconds")
        }
        let skew = now.timeIntervalSince1970 - Double(seconds)
        guard abs(skew) <= tolerance else {
            throw BridgeError.badSignature(
                header: "Webhook-Timestamp",
                // Clamped before converting: a timestamp near Int64.min must not trap.
                reason: "it is \(Int(min(abs(skew), 1e12))) s \(skew > 0 ? "old" : "in the future"); the tolerance is \(Int(tolerance)) s (check both clocks)")
        }
        let candidates: [[UInt8]] = signatureHeader.split(separator: " ").compactMap { entry in
            let parts = entry.split(separator: ",", maxSplits: 1)
            guard parts.count == 2, parts[0] == "v1" else { return nil }
            return Data(base64Encoded: String(parts[1])).map(Array.init)
        }
        guard !candidates.isEmpty else {
            throw BridgeError.badSignature(header: "Webhook-Signature", reason: "it holds no v1,<base64> signature")
        }
        let content = Array("\(id).\(stamp.trimmingASCIIWhitespace()).".utf8) + body
        let macs = keys.map { HMACSHA256.authenticate(content, key: $0) }
        var matched = false
        for candidate in candidates {
            for mac in macs where HMACSHA256.constantTimeEquals(mac, candidate) { matched = true }
        }
        guard matched else {
            throw BridgeError.badSignature(header: "Webhook-Signature", reason: "no v1 signature matches the configured secret")
        }
    }

    /// `v1,<base64>` for a message (for `devin-bridge sign --standard` and tests).
    public static func sign(id: String, timestamp: Int64, body: [UInt8], secret: Secret) -> String? {
        guard let key = key(for: secret) else { return nil }
        let mac = HMACSHA256.authenticate(Array("\(id).\(timestamp).".utf8) + body, key: key)
        return "v1," + Data(mac).base64EncodedString()
    }
}

/// A static shared token, for senders that cannot sign (GitLab's `X-Gitlab-Token`, Bugzilla's
/// api-key header, Jira Automation's custom header, Redmine's `?token=` in the URL). No body
/// integrity: only accepted when enabled, compared in constant time, never echoed.
public struct StaticTokenVerifier: Sendable {
    private let digests: [[UInt8]]
    private let headerNames: [String]

    public init(secrets: [Secret], tokenHeader: String?) {
        digests = secrets.map { SHA256Digest.hash(Array($0.value.utf8)) }
        headerNames = ["x-gitlab-token"] + (tokenHeader.map { [$0.lowercased()] } ?? [])
    }

    /// The token the request carries, if any (header first, then the `token` query parameter).
    public func token(headers: HTTPHeaders, query: String) -> String? {
        for name in headerNames {
            if let value = headers[name] { return value }
        }
        for pair in query.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            if parts[0] == "token" {
                return parts.count > 1 ? (String(parts[1]).removingPercentEncoding ?? String(parts[1])) : ""
            }
        }
        return nil
    }

    public func verify(_ token: String) throws {
        // Digests have one length, so the comparison's time says nothing about the token's.
        let digest = SHA256Digest.hash(Array(token.utf8))
        var matched = false
        for expected in digests where HMACSHA256.constantTimeEquals(expected, digest) { matched = true }
        guard matched else { throw BridgeError.badSignature(header: "token", reason: "the token does not match the configured secret") }
    }
}
