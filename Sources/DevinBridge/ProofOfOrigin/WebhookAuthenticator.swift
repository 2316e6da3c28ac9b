import FoundationEssentials

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

/// What verified a request: the scheme, and the sender whose own secret or token it was (nil:
/// the shared `WEBHOOK_SECRET` / `WEBHOOK_TOKEN`).
public struct Proof: Equatable, Sendable {
    public var scheme: SignatureScheme
    public var sender: TicketSource?

    public init(scheme: SignatureScheme, sender: TicketSource? = nil) {
        self.scheme = scheme
        self.sender = sender
    }
}

/// Checks a request's proof of origin before anything in it is trusted.
///
/// In `auto`, a request that carries Standard Webhooks headers must verify as such, else one
/// that carries an HMAC header must verify as HMAC; only a request that carries neither may
/// present a static token, and only when a token is configured. A request can therefore never
/// pass by offering a weaker proof next to a failing stronger one.
///
/// Each scheme has its own key material, so a message signed for one never verifies as another:
/// HMAC uses the secret's text, Standard Webhooks its base64-decoded bytes, and a static token is
/// a value of its own (`WEBHOOK_TOKEN`), never a signing key. A sender named by the request
/// (URL, `TICKET_SOURCE` or its event header) that has its own secret (`WEBHOOK_SECRET_<SOURCE>`)
/// or token is verified with that alone, and the request is then read as that sender's.
public struct WebhookAuthenticator: Sendable {
    public let scheme: SignatureScheme
    let configuration: Configuration

    public init(configuration: Configuration) {
        self.configuration = configuration
        scheme = configuration.signatureScheme
    }

    /// Whether any static token is configured for `sender` (its own, else the shared one).
    public func allowsStaticToken(for sender: TicketSource? = nil) -> Bool {
        tokenVerifier(for: sender).verifier.isEnabled
    }

    func signingSecrets(for sender: TicketSource?) -> (secrets: [Secret], owner: TicketSource?) {
        if let sender, let own = configuration.senderSecrets[sender] { return (own, sender) }
        return ([configuration.webhookSecret] + (configuration.previousWebhookSecret.map { [$0] } ?? []), nil)
    }

    func tokenVerifier(for sender: TicketSource?) -> (verifier: StaticTokenVerifier, owner: TicketSource?) {
        if let sender, let own = configuration.senderTokens[sender] {
            return (StaticTokenVerifier(tokens: own, tokenHeader: configuration.tokenHeader), sender)
        }
        return (StaticTokenVerifier(tokens: configuration.webhookTokens, tokenHeader: configuration.tokenHeader), nil)
    }

    /// Verifies the request's proof; throws a 401 error otherwise.
    ///
    /// - Parameters:
    ///   - body: the raw body, as signed by most senders.
    ///   - document: the JSON document read from the body when it is a form (Gitea and Forgejo
    ///     sign that document, not the form); nil for a JSON body. It is a function of the body,
    ///     so accepting a signature over either still gives the body one reading.
    ///   - claimed: the sender the unsigned parts of the request name, if any.
    public func verify(body: [UInt8], document: [UInt8]? = nil, head: CGIRequestHead, claimed: TicketSource? = nil,
                       now: Date) throws -> Proof {
        let (secrets, secretOwner) = signingSecrets(for: claimed)
        let hmac = SignatureVerifier(secrets: secrets, extraHeader: configuration.signatureHeader)
        let standard = StandardWebhooksVerifier(secrets: secrets, tolerance: configuration.toleranceSeconds)
        let (token, tokenOwner) = tokenVerifier(for: claimed)
        let contents = [body] + (document.map { [$0] } ?? [])

        let offersStandard = StandardWebhooksVerifier.isPresent(in: head.headers)
        let offersHMAC = hmac.isPresent(in: head.headers)
        let offeredToken = token.token(headers: head.headers, query: head.queryString)

        switch scheme {
        case .standard:
            try standard.verify(body: body, headers: head.headers, now: now)
            return Proof(scheme: .standard, sender: secretOwner)
        case .hmac:
            try hmac.verify(contents: contents, headers: head.headers)
            return Proof(scheme: .hmac, sender: secretOwner)
        case .token:
            guard let offeredToken else { throw BridgeError.missingSignature }
            try token.verify(offeredToken)
            return Proof(scheme: .token, sender: tokenOwner)
        case .auto:
            if offersStandard {
                try standard.verify(body: body, headers: head.headers, now: now)
                return Proof(scheme: .standard, sender: secretOwner)
            }
            if offersHMAC {
                try hmac.verify(contents: contents, headers: head.headers)
                return Proof(scheme: .hmac, sender: secretOwner)
            }
            if let offeredToken {
                guard token.isEnabled else {
                    throw BridgeError.badSignature(
                        header: "token",
                        reason: "no static token is configured; sign the webhook with the secret, or set WEBHOOK_TOKEN (its own random value, never the secret) for a sender that cannot sign")
                }
                try token.verify(offeredToken)
                return Proof(scheme: .token, sender: tokenOwner)
            }
            throw BridgeError.missingSignature
        }
    }

    /// Refuses a request verified with the shared secret or token that reads as a sender with
    /// credentials of its own: a leaked shared secret must not sign for that sender.
    public func checkBinding(_ proof: Proof, source: TicketSource) throws {
        guard proof.sender == nil,
              configuration.senderSecrets[source] != nil || configuration.senderTokens[source] != nil
        else { return }
        let name = source.rawValue.uppercased()
        throw BridgeError.badSignature(
            header: proof.scheme == .token ? "token" : "signature",
            reason: "this \(source.rawValue) webhook is verified by the shared secret, but \(source.rawValue) has its own (WEBHOOK_SECRET_\(name) or WEBHOOK_TOKEN_\(name)); point the sender at /hooks/tickets/\(source.rawValue) with that one")
    }
}
