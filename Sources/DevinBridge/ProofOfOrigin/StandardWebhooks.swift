import FoundationEssentials

/// Verifies Standard Webhooks signatures (standardwebhooks.com; GitLab's signing token, Svix).
///
/// Headers `webhook-id`, `webhook-timestamp` (unix seconds) and `webhook-signature`, a
/// space-separated list of `v1,<base64>` entries (other versions are ignored; any `v1` that
/// matches verifies, which is how senders rotate). The signed content is
/// `<id>.<timestamp>.<body>`; the key is the base64 after an optional `whsec_` prefix, decoded
/// (at least 24 bytes). Timestamps further than the tolerance from now, either way, are refused.
public struct StandardWebhooksVerifier: Sendable {
    public static let defaultTolerance: TimeInterval = 300

    private let keys: [[UInt8]]
    private let tolerance: TimeInterval

    public init(secrets: [Secret], tolerance: TimeInterval = defaultTolerance) {
        keys = secrets.compactMap { Self.key(for: $0) }
        self.tolerance = tolerance
    }

    /// The spec's lower bound for a signing key (24 to 64 random bytes).
    public static let minimumKeyBytes = 24
    /// A rotation needs two or three `v1` entries; more is somebody guessing.
    public static let maximumCandidates = 8

    public enum KeyProblem: Equatable, Sendable {
        case notBase64
        case tooShort(Int)
    }

    /// The HMAC key for a secret, as the spec's libraries derive it: the base64 after an optional
    /// `whsec_` prefix, decoded. Nil when that is not base64 of at least ``minimumKeyBytes``
    /// bytes: such a secret cannot sign Standard Webhooks. (The key is never the secret's own
    /// text, so a Standard Webhooks message can never verify as a plain HMAC of a body.)
    public static func key(for secret: Secret) -> [UInt8]? {
        guard keyProblem(secret) == nil else { return nil }
        return decode(secret)
    }

    public static func keyProblem(_ secret: Secret) -> KeyProblem? {
        guard let bytes = decode(secret) else { return .notBase64 }
        return bytes.count < minimumKeyBytes ? .tooShort(bytes.count) : nil
    }

    static func decode(_ secret: Secret) -> [UInt8]? {
        var text = secret.value.hasPrefix("whsec_") ? String(secret.value.dropFirst(6)) : secret.value
        guard !text.isEmpty else { return nil }
        // Padding is optional, as in the reference libraries.
        while text.utf8.count % 4 != 0 { text += "=" }
        return Data(base64Encoded: text).map(Array.init)
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
        let entries = signatureHeader.split(separator: " ")
        guard entries.count <= Self.maximumCandidates else {
            throw BridgeError.badSignature(header: "Webhook-Signature", reason: "it holds \(entries.count) signatures; at most \(Self.maximumCandidates) are read")
        }
        guard !keys.isEmpty else {
            throw BridgeError.badSignature(header: "Webhook-Signature", reason: "the configured secret is not a Standard Webhooks secret (whsec_ and base64 of at least \(Self.minimumKeyBytes) bytes): set the sender's signing token as the secret")
        }
        let candidates: [[UInt8]] = entries.compactMap { entry in
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
/// api-key header or `Authorization`, Jira Automation's custom header, Redmine's `?token=` in the
/// URL). No body integrity: its own secret (`WEBHOOK_TOKEN`), never a signing key, compared in
/// constant time, never echoed.
public struct StaticTokenVerifier: Sendable {
    private let digests: [[UInt8]]
    private let headerNames: [String]

    public init(tokens: [Secret], tokenHeader: String?) {
        digests = tokens.map { SHA256Digest.hash(Array($0.value.utf8)) }
        headerNames = ["x-gitlab-token"] + (tokenHeader.map { [$0.lowercased()] } ?? [])
    }

    public var isEnabled: Bool { !digests.isEmpty }

    /// The token the request carries, if any: a token header, else `Authorization` (`Bearer`,
    /// `Token` or bare), else the `token` query parameter.
    public func token(headers: HTTPHeaders, query: String) -> String? {
        for name in headerNames {
            if let value = headers[name] { return value }
        }
        if let value = headers["authorization"] {
            for scheme in ["bearer ", "token "] where value.lowercased().hasPrefix(scheme) {
                return String(value.dropFirst(scheme.count)).trimmingASCIIWhitespace()
            }
            // Basic credentials belong to a proxy, not to the bridge.
            if !value.lowercased().hasPrefix("basic ") { return value.trimmingASCIIWhitespace() }
        }
        for pair in query.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            if parts[0] == "token" {
                return parts.count > 1 ? (String(parts[1]).percentDecoded ?? String(parts[1])) : ""
            }
        }
        return nil
    }

    public func verify(_ token: String) throws {
        // Digests have one length, so the comparison's time says nothing about the token's.
        let digest = SHA256Digest.hash(Array(token.utf8))
        var matched = false
        for expected in digests where HMACSHA256.constantTimeEquals(expected, digest) { matched = true }
        guard matched else { throw BridgeError.badSignature(header: "token", reason: "the token does not match the configured token") }
    }
}
