import Foundation
import Testing
@testable import DevinBridge

@Suite("Proof of origin: choosing and applying the signature scheme")
struct WebhookAuthenticatorTests {
    /// One value serves HMAC (its text) and Standard Webhooks (its base64-decoded bytes).
    static let secret = "whsec_" + Data("fake-webhook-signing-key-DO-NOT-USE-2".utf8).base64EncodedString()
    static let previous = "whsec_" + Data("fake-previous-signing-key-DO-NOT-USE-8".utf8).base64EncodedString()
    static let unrelated = "whsec_" + Data("fake-unrelated-signing-key-DO-NOT-USE-9".utf8).base64EncodedString()
    static let body = #"{"id":"PROJ-1","title":"t","labels":["devin-autofix"]}"#
    static let now = Date(timeIntervalSince1970: 1_767_225_600)
    static let stamp: Int64 = 1_767_225_600

    /// A configuration from `makeConfiguration()` with the signature keys set.
    static let token = FakeSecret.webhookToken
    static let previousToken = "fake-previous-webhook-token-DO-NOT-USE-10"

    static func configuration(scheme: SignatureScheme = .auto, secret: String = secret, previous: String? = nil,
                              allowStaticToken: Bool = false, signatureHeader: String? = nil, tokenHeader: String? = nil,
                              tolerance: Double = 300) -> Configuration {
        var configuration = makeConfiguration()
        configuration.webhookSecret = Secret(secret)
        configuration.previousWebhookSecret = previous.map(Secret.init)
        configuration.signatureScheme = scheme
        configuration.allowStaticToken = allowStaticToken
        // A token is its own setting (WEBHOOK_TOKEN); "allowing" tokens means configuring one.
        configuration.webhookTokens = allowStaticToken || scheme == .token
            ? [Secret(token)] + (previous == nil ? [] : [Secret(previousToken)]) : []
        configuration.signatureHeader = signatureHeader
        configuration.tokenHeader = tokenHeader
        configuration.toleranceSeconds = tolerance
        return configuration
    }

    /// `X-Hub-Signature-256` over `body` under `secret`.
    static func hmac(_ secret: String = secret, body: String = body, header: String = "X-Hub-Signature-256") -> [(String, String)] {
        [(header, signature(body, secret: secret))]
    }

    /// The three Standard Webhooks headers for `body` under `secret`, signed at `stamp`.
    static func standard(_ secret: String = secret, body: String = body, stamp: Int64 = stamp) -> [(String, String)] {
        let value = StandardWebhooksVerifier.sign(id: "msg_test1", timestamp: stamp, body: Array(body.utf8), secret: Secret(secret)) ?? "v1,invalid"
        return [("webhook-id", "msg_test1"), ("webhook-timestamp", String(stamp)), ("webhook-signature", value)]
    }

    static func gitlabToken(_ token: String = token) -> [(String, String)] { [("X-Gitlab-Token", token)] }

    func verify(_ configuration: Configuration, _ headers: [(String, String)], query: String = "",
                body: String = Self.body, now: Date = Self.now) throws -> SignatureScheme {
        let head = CGIRequestHead(method: "POST", headers: HTTPHeaders(headers), queryString: query)
        return try WebhookAuthenticator(configuration: configuration).verify(body: Array(body.utf8), head: head, now: now).scheme
    }

    /// The error for a request that must fail (the test fails if it passes).
    func failure(_ configuration: Configuration, _ headers: [(String, String)], query: String = "",
                 body: String = Self.body, now: Date = Self.now) -> BridgeError? {
        bridgeError { try verify(configuration, headers, query: query, body: body, now: now) }
    }

    func header(of error: BridgeError?) -> String? {
        if case .badSignature(let header, _)? = error { return header }
        return nil
    }

    // MARK: - auto

    @Test("auto: Standard Webhooks headers verify as standard")
    func autoStandard() throws {
        #expect(try verify(Self.configuration(), Self.standard()) == .standard)
    }

    @Test("auto: a failing Standard Webhooks signature is not rescued by a valid HMAC header or token")
    func autoStandardNotRescued() {
        let configuration = Self.configuration(allowStaticToken: true)
        let error = failure(configuration, Self.standard(Self.unrelated) + Self.hmac() + Self.gitlabToken())
        #expect(header(of: error) == "Webhook-Signature")
        let stale = failure(configuration, Self.standard(stamp: Self.stamp - 3600) + Self.hmac())
        #expect(header(of: stale) == "Webhook-Timestamp")
    }

    @Test("auto: an HMAC header verifies as hmac")
    func autoHMAC() throws {
        #expect(try verify(Self.configuration(), Self.hmac()) == .hmac)
    }

    @Test("auto: a failing HMAC is not rescued by a valid token, even with tokens enabled", arguments: [
        ("", [("X-Gitlab-Token", FakeSecret.webhookToken)]),
        ("token=\(FakeSecret.webhookToken)", []),
    ] as [(String, [(String, String)])])
    func autoHMACNotRescued(_ query: String, _ token: [(String, String)]) {
        let error = failure(Self.configuration(allowStaticToken: true), Self.hmac(Self.unrelated) + token, query: query)
        #expect(header(of: error) == "X-Hub-Signature-256")
    }

    @Test("auto: a static token is refused while no WEBHOOK_TOKEN is configured, with a message naming it")
    func autoTokenDisabled() throws {
        let error = try #require(failure(Self.configuration(), Self.gitlabToken()))
        #expect(header(of: error) == "token")
        #expect(error.status == .unauthorized)
        #expect(error.message.contains("WEBHOOK_TOKEN"))
        #expect(!error.message.contains(FakeSecret.marker))
        // Even a wrong token gets the same answer: nothing is compared while tokens are disabled.
        #expect(failure(Self.configuration(), Self.gitlabToken(Self.unrelated)) == error)
        #expect(failure(Self.configuration(), [], query: "token=\(Self.token)") == error)
    }

    @Test("the webhook secret is never a token: sent as one it fails, even with a token configured", arguments: [
        ("", [("X-Gitlab-Token", FakeSecret.webhookSecret)]),
        ("token=\(FakeSecret.webhookSecret.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!)", []),
        ("", [("Authorization", "Bearer \(FakeSecret.webhookSecret)")]),
    ] as [(String, [(String, String)])])
    func secretIsNoToken(_ query: String, _ headers: [(String, String)]) {
        for configuration in [Self.configuration(), Self.configuration(allowStaticToken: true), Self.configuration(scheme: .token)] {
            #expect(header(of: failure(configuration, headers, query: query)) == "token")
        }
    }

    @Test("auto: a static token verifies when ALLOW_STATIC_TOKEN is set", arguments: [
        ([("X-Gitlab-Token", FakeSecret.webhookToken)], ""),
        ([("X-Bugzilla-Key", FakeSecret.webhookToken)], ""),
        ([("Authorization", "Bearer \(FakeSecret.webhookToken)")], ""),
        ([], "source=redmine&token=\(FakeSecret.webhookToken)"),
    ] as [([(String, String)], String)])
    func autoTokenAllowed(_ headers: [(String, String)], _ query: String) throws {
        let configuration = Self.configuration(allowStaticToken: true, tokenHeader: "X-Bugzilla-Key")
        #expect(try verify(configuration, headers, query: query) == .token)
    }

    @Test("auto: a wrong static token fails without echoing it")
    func autoTokenWrong() throws {
        let error = try #require(failure(Self.configuration(allowStaticToken: true), Self.gitlabToken("offered-wrong-token-XYZ")))
        #expect(header(of: error) == "token")
        #expect(!error.message.contains("offered-wrong-token-XYZ"))
        #expect(!error.message.contains(FakeSecret.marker))
    }

    @Test("auto: a request with no proof at all is missingSignature", arguments: [false, true])
    func autoNothing(_ allow: Bool) {
        #expect(failure(Self.configuration(allowStaticToken: allow), [("X-GitHub-Event", "issues")]) == .missingSignature)
    }

    // MARK: - Explicit schemes

    @Test("SIGNATURE_SCHEME=token accepts a token without ALLOW_STATIC_TOKEN")
    func tokenScheme() throws {
        let configuration = Self.configuration(scheme: .token)
        #expect(WebhookAuthenticator(configuration: configuration).allowsStaticToken())
        #expect(!WebhookAuthenticator(configuration: Self.configuration()).allowsStaticToken())
        #expect(try verify(configuration, Self.gitlabToken()) == .token)
        #expect(header(of: failure(configuration, Self.gitlabToken(Self.unrelated))) == "token")
    }

    @Test("SIGNATURE_SCHEME=hmac accepts only an HMAC header")
    func hmacScheme() throws {
        let configuration = Self.configuration(scheme: .hmac, allowStaticToken: true)
        #expect(try verify(configuration, Self.hmac()) == .hmac)
        #expect(failure(configuration, Self.standard()) == .missingSignature)
        #expect(failure(configuration, Self.gitlabToken()) == .missingSignature)
        #expect(header(of: failure(configuration, Self.hmac(Self.unrelated) + Self.standard())) == "X-Hub-Signature-256")
    }

    @Test("SIGNATURE_SCHEME=standard accepts only Standard Webhooks")
    func standardScheme() throws {
        let configuration = Self.configuration(scheme: .standard, allowStaticToken: true)
        #expect(try verify(configuration, Self.standard()) == .standard)
        #expect(failure(configuration, Self.hmac()) == .missingSignature)
        #expect(failure(configuration, Self.gitlabToken()) == .missingSignature)
        #expect(header(of: failure(configuration, Self.standard(Self.unrelated) + Self.hmac())) == "Webhook-Signature")
    }

    @Test("SIGNATURE_SCHEME=token accepts only a token")
    func tokenSchemeOnly() {
        let configuration = Self.configuration(scheme: .token)
        #expect(failure(configuration, Self.hmac()) == .missingSignature)
        #expect(failure(configuration, Self.standard()) == .missingSignature)
    }

    // MARK: - Rotation

    @Test("WEBHOOK_SECRET_PREVIOUS verifies for every scheme; an unrelated secret for none", arguments: SignatureScheme.allCases)
    func rotation(_ scheme: SignatureScheme) throws {
        let configuration = Self.configuration(scheme: scheme, previous: Self.previous, allowStaticToken: true)
        let requests: [SignatureScheme: (String) -> [(String, String)]] = [
            .hmac: { Self.hmac($0) }, .standard: { Self.standard($0) }, .token: { Self.gitlabToken($0) },
        ]
        let schemes: [SignatureScheme] = scheme == .auto ? [.hmac, .standard, .token] : [scheme]
        for kind in schemes {
            let request = try #require(requests[kind])
            let (current, old) = kind == .token ? (Self.token, Self.previousToken) : (Self.secret, Self.previous)
            #expect(try verify(configuration, request(current)) == kind)
            #expect(try verify(configuration, request(old)) == kind)
            #expect(failure(configuration, request(Self.unrelated)) != nil)
            // Without the previous secret configured, the old one no longer verifies.
            #expect(failure(Self.configuration(scheme: scheme, allowStaticToken: true), request(old)) != nil)
        }
    }

    @Test("a whsec_ previous secret verifies Standard Webhooks next to a plain current one")
    func whsecPrevious() throws {
        let old = "whsec_" + Data("fake-old-standard-key-DO-NOT-USE".utf8).base64EncodedString()
        let configuration = Self.configuration(previous: old)
        #expect(try verify(configuration, Self.standard(old)) == .standard)
    }

    // MARK: - Headers

    @Test("the HMAC headers of each sender are read, bare or prefixed, either case", arguments: [
        ("X-Gitea-Signature", false), ("X-Forgejo-Signature", false), ("Linear-Signature", false),
        ("X-Hub-Signature", true), ("X-Hub-Signature-256", true), ("X-Signature", false),
    ])
    func senderHeaders(_ name: String, _ prefixed: Bool) throws {
        let hex = String(signature(Self.body, secret: Self.secret).dropFirst("sha256=".count))
        for value in [prefixed ? "sha256=" + hex : hex, (prefixed ? "sha256=" : "") + hex.uppercased()] {
            #expect(try verify(Self.configuration(), [(name, value)]) == .hmac)
        }
    }

    @Test("SIGNATURE_HEADER is read, and searched before the standard headers")
    func configuredHeader() throws {
        let configuration = Self.configuration(signatureHeader: "X-Tracker-Signature")
        #expect(try verify(configuration, Self.hmac(header: "X-Tracker-Signature")) == .hmac)
        #expect(try verify(configuration, Self.hmac(header: "x-tracker-signature")) == .hmac)
        // It is the one that counts when both are present.
        #expect(header(of: failure(configuration, Self.hmac(Self.unrelated, header: "X-Tracker-Signature") + Self.hmac()))
                == "X-Tracker-Signature")
        // Not configured: the header is not a signature at all.
        #expect(failure(Self.configuration(), Self.hmac(header: "X-Tracker-Signature")) == .missingSignature)
    }

    // MARK: - Secrets as written

    @Test("GitHub's documented secret with spaces verifies its published vector")
    func githubVector() throws {
        let configuration = Self.configuration(secret: "It's a Secret to Everybody")
        let headers = [("X-Hub-Signature-256", "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17")]
        #expect(try verify(configuration, headers, body: "Hello, World!") == .hmac)
        #expect(failure(configuration, headers, body: "Hello, World?") != nil)
        #expect(failure(Self.configuration(secret: "It's a Secret to Everybody "), headers, body: "Hello, World!") != nil)
    }

    @Test("the published vector verifies from the configuration file's value, spaces and all")
    func githubVectorFromConfiguration() throws {
        let report = try loadFromEnvironment(requiredEnvironment.merging(["WEBHOOK_SECRET": "It's a Secret to Everybody"]) { $1 })
        let configuration = try #require(report.configuration)
        #expect(configuration.webhookSecret.value == "It's a Secret to Everybody")
        let headers = [("X-Hub-Signature-256", "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17")]
        #expect(try verify(configuration, headers, body: "Hello, World!") == .hmac)
    }

    @Test("a secret with leading and trailing spaces is used exactly as written")
    func paddedSecret() throws {
        let padded = "  fake padded secret DO-NOT-USE  "
        let report = try loadFromEnvironment(requiredEnvironment.merging(["WEBHOOK_SECRET": padded]) { $1 })
        let configuration = try #require(report.configuration)
        #expect(configuration.webhookSecret.value == padded)
        #expect(try verify(configuration, Self.hmac(padded)) == .hmac)
        #expect(failure(configuration, Self.hmac("fake padded secret DO-NOT-USE")) != nil)
    }

    @Test("the Standard Webhooks vector verifies end to end with the clock injected, within the configured tolerance")
    func standardVector() throws {
        let body = #"{"test": 2432232314}"#
        let headers = [("webhook-id", "msg_p5jXN8AQM9LWM0D4loKWxJek"), ("webhook-timestamp", "1614265330"),
                       ("webhook-signature", "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=")]
        let configuration = Self.configuration(secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
        let at = { (offset: TimeInterval) in Date(timeIntervalSince1970: 1614265330 + offset) }
        #expect(try verify(configuration, headers, body: body, now: at(0)) == .standard)
        #expect(try verify(configuration, headers, body: body, now: at(300)) == .standard)
        #expect(header(of: failure(configuration, headers, body: body, now: at(301))) == "Webhook-Timestamp")
        var wider = configuration
        wider.toleranceSeconds = 600
        #expect(try verify(wider, headers, body: body, now: at(301)) == .standard)
        #expect(try verify(wider, headers, body: body, now: at(-600)) == .standard)
    }
}
