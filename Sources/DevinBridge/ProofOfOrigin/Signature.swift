/// Verifies the HMAC-SHA256 signature a ticketing system sends with its webhook.
///
/// The signature is the hex HMAC-SHA256 of the raw body under the shared secret, in the first of
/// these headers that the request carries: `SIGNATURE_HEADER` when configured, then
/// `X-Hub-Signature-256` (GitHub, Gitea), `X-Gitea-Signature`, `X-Forgejo-Signature`,
/// `X-Hub-Signature` (Jira Server/Data Center), `Linear-Signature`, `X-Signature`. Each takes
/// `sha256=<hex>` or bare `<hex>`, either case.
/// When a header holds several values (Apache joins repeated headers with `, `), every one must verify.
public struct SignatureVerifier: Sendable {
    /// The headers searched, strongest first.
    public static let headerNames = [
        "x-hub-signature-256", "x-gitea-signature", "x-forgejo-signature", "x-hub-signature", "linear-signature", "x-signature",
    ]

    private let keys: [[UInt8]]
    private let names: [String]

    /// - Parameters:
    ///   - secrets: the secrets that may have signed the body (the current one first).
    ///   - extraHeader: `SIGNATURE_HEADER`, searched before the standard ones.
    public init(secrets: [Secret], extraHeader: String? = nil) {
        keys = secrets.map { Array($0.value.utf8) }
        names = (extraHeader.map { [$0.lowercased()] } ?? []) + Self.headerNames
    }

    /// Whether the request carries any header this verifier reads.
    public func isPresent(in headers: HTTPHeaders) -> Bool {
        names.contains { headers.values($0) != nil }
    }

    /// Apache joins repeated headers; a rotation needs two values. More is somebody guessing.
    public static let maximumCandidates = 8

    /// Throws ``BridgeError/missingSignature`` or ``BridgeError/badSignature(header:reason:)``.
    public func verify(body: [UInt8], headers: HTTPHeaders) throws {
        try verify(contents: [body], headers: headers)
    }

    /// Verifies that every signature in the header is the HMAC of one of `contents` (the same one
    /// for all) under a configured key. More than one content only where a sender signs something
    /// other than the raw body that determines it (Gitea's form body carries the JSON it signed).
    public func verify(contents: [[UInt8]], headers: HTTPHeaders) throws {
        guard let (name, values) = names.lazy
            .compactMap({ name in headers.values(name).map { (name, $0) } }).first
        else { throw BridgeError.missingSignature }
        let display = HTTPHeaders.displayName(name)

        let signatures = try values.flatMap { value in
            try Self.parse(value, header: display)
        }
        guard !signatures.isEmpty else {
            throw BridgeError.badSignature(header: display, reason: "the header is empty")
        }
        guard signatures.count <= Self.maximumCandidates else {
            throw BridgeError.badSignature(header: display, reason: "it holds \(signatures.count) signatures; at most \(Self.maximumCandidates) are read")
        }
        var verified = false
        for content in contents {
            let macs = keys.map { HMACSHA256.authenticate(content, key: $0) }
            // Check every key and signature, always, so the time taken does not tell which matched.
            var all = true
            for signature in signatures {
                var matched = false
                for mac in macs where HMACSHA256.constantTimeEquals(mac, signature) { matched = true }
                all = all && matched
            }
            verified = verified || all
        }
        guard verified else {
            throw BridgeError.badSignature(
                header: display,
                reason: "it does not match the HMAC-SHA256 of the body under the configured secret")
        }
    }

    /// Splits one header value into signatures, rejecting anything malformed.
    static func parse(_ value: String, header: String) throws -> [[UInt8]] {
        try value.split(separator: ",", omittingEmptySubsequences: false).compactMap { item in
            let text = item.trimmingASCIIWhitespace()
            if text.isEmpty {
                if value.trimmingASCIIWhitespace().isEmpty { return nil }
                throw BridgeError.badSignature(header: header, reason: "one of its values is empty")
            }
            var hex = Substring(text)
            if let equals = text.firstIndex(of: "=") {
                let algorithm = text[..<equals].lowercased()
                guard algorithm == "sha256" else {
                    throw BridgeError.badSignature(
                        header: header,
                        reason: "it uses \(algorithm.prefix(16).debugDescription); only sha256 is accepted")
                }
                hex = text[text.index(after: equals)...]
            }
            guard hex.utf8.count == HMACSHA256.byteCount * 2, let bytes = Hex.decode(hex) else {
                throw BridgeError.badSignature(
                    header: header, reason: "it is not \(HMACSHA256.byteCount * 2) hex digits")
            }
            return bytes
        }
    }

    /// The header line `devin-bridge sign` prints for a body.
    public static func headerLine(body: [UInt8], secret: Secret) -> String {
        "X-Hub-Signature-256: sha256=" + Hex.encode(HMACSHA256.authenticate(body, key: Array(secret.value.utf8)))
    }
}

extension StringProtocol {
    /// The text without leading and trailing spaces and tabs.
    func trimmingASCIIWhitespace() -> String {
        var scalars = Substring(self).unicodeScalars[...]
        while let first = scalars.first, first == " " || first == "\t" { scalars.removeFirst() }
        while let last = scalars.last, last == " " || last == "\t" { scalars.removeLast() }
        return String(scalars)
    }
}
