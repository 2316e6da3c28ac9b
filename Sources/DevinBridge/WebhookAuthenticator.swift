import Foundation

/// How a webhook proves it comes from the ticketing system (`SIGNATURE_SCHEME`).
public enum SignatureScheme: String, CaseIterable, Sendable {
    /// Whatever the request offers, strongest first, never a weaker one than it offers.
    case auto
    /// Hex HMAC-SHA256 of the body in a header (GitHub, Gitea, Forgejo, Jira, Linear, ...).
    case hmac
    /// Standard Webhooks (`webhook-id`, `webhook-timestamp`, `webhook-signature`).
    case standard
    /// A static shared token (no body integrity).
    case token
}

/// Checks a request's proof of origin before anything in it is parsed.
///
/// In `auto`, a request that carries Standard Webhooks headers must verify as such, else one
/// that carries an HMAC header must verify as HMAC; only a request that carries neither may
/// present a static token, and only when static tokens are enabled. A request can therefore
/// never pass by offering a weaker proof next to a failing stronger one.
public struct WebhookAuthenticator: Sendable {
    public let scheme: SignatureScheme
    public let allowStaticToken: Bool
    let hmac: SignatureVerifier
    let standard: StandardWebhooksVerifier
    let token: StaticTokenVerifier

    public init(configuration: Configuration) {
        let secrets = [configuration.webhookSecret] + (configuration.previousWebhookSecret.map { [$0] } ?? [])
        scheme = configuration.signatureScheme
        allowStaticToken = configuration.allowStaticToken || configuration.signatureScheme == .token
        hmac = SignatureVerifier(secrets: secrets, extraHeader: configuration.signatureHeader)
        standard = StandardWebhooksVerifier(secrets: secrets, tolerance: configuration.toleranceSeconds)
        token = StaticTokenVerifier(secrets: secrets, tokenHeader: configuration.tokenHeader)
    }

    /// Returns the scheme that verified; throws a 401 error otherwise.
    @discardableResult
    public func verify(body: [UInt8], head: CGIRequestHead, now: Date) throws -> SignatureScheme {
        let offersStandard = StandardWebhooksVerifier.isPresent(in: head.headers)
        let offersHMAC = hmac.isPresent(in: head.headers)
        let offeredToken = token.token(headers: head.headers, query: head.queryString)

        switch scheme {
        case .standard:
            try standard.verify(body: body, headers: head.headers, now: now)
            return .standard
        case .hmac:
            try hmac.verify(body: body, headers: head.headers)
            return .hmac
        case .token:
            guard let offeredToken else { throw BridgeError.missingSignature }
            try token.verify(offeredToken)
            return .token
        case .auto:
            if offersStandard {
                try standard.verify(body: body, headers: head.headers, now: now)
                return .standard
            }
            if offersHMAC {
                try hmac.verify(body: body, headers: head.headers)
                return .hmac
            }
            if let offeredToken {
                guard allowStaticToken else {
                    throw BridgeError.badSignature(
                        header: "token",
                        reason: "static tokens are disabled; sign the webhook with the secret, or set ALLOW_STATIC_TOKEN=1 for a sender that cannot sign")
                }
                try token.verify(offeredToken)
                return .token
            }
            throw BridgeError.missingSignature
        }
    }
}
