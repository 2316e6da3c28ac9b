import Foundation
import Testing
@testable import DevinBridge

@Suite("Standard Webhooks signatures")
struct StandardWebhooksVerifierTests {
    // The vector published by standardwebhooks.com.
    static let secret = Secret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
    static let id = "msg_p5jXN8AQM9LWM0D4loKWxJek"
    static let timestamp: Int64 = 1614265330
    static let body = Array(#"{"test": 2432232314}"#.utf8)
    static let expected = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
    /// A well-formed v1 signature that is not the right one.
    static let wrong = "v1," + Data(repeating: 0x5a, count: 32).base64EncodedString()

    static func at(_ offset: Int64) -> Date { Date(timeIntervalSince1970: TimeInterval(timestamp + offset)) }

    static func headers(id: String? = id, timestamp: String? = String(timestamp), signature: String? = expected) -> HTTPHeaders {
        var headers = HTTPHeaders()
        if let id { headers.add("webhook-id", id) }
        if let timestamp { headers.add("webhook-timestamp", timestamp) }
        if let signature { headers.add("webhook-signature", signature) }
        return headers
    }

    let verifier = StandardWebhooksVerifier(secrets: [Self.secret])

    func verify(_ headers: HTTPHeaders = Self.headers(), body: [UInt8] = Self.body, now: Date = Self.at(0)) throws {
        try verifier.verify(body: body, headers: headers, now: now)
    }

    // MARK: - The vector and the clock

    @Test("the published vector verifies with the clock at its timestamp")
    func vector() throws {
        try verify()
    }

    @Test("sign() reproduces the published vector")
    func signVector() {
        #expect(StandardWebhooksVerifier.sign(id: Self.id, timestamp: Self.timestamp, body: Self.body, secret: Self.secret) == Self.expected)
    }

    @Test("within 300 s either way verifies, edges included", arguments: [-300, -299, -1, 1, 299, 300] as [Int64])
    func withinTolerance(_ offset: Int64) throws {
        try verify(now: Self.at(offset))
    }

    @Test("301 s either way is refused, saying old or in the future", arguments: [
        (Int64(301), "it is 301 s old; the tolerance is 300 s (check both clocks)"),
        (Int64(-301), "it is 301 s in the future; the tolerance is 300 s (check both clocks)"),
        (Int64(86_400), "it is 86400 s old; the tolerance is 300 s (check both clocks)"),
    ])
    func outsideTolerance(_ offset: Int64, _ reason: String) {
        #expect(throws: BridgeError.badSignature(header: "Webhook-Timestamp", reason: reason)) {
            try verify(now: Self.at(offset))
        }
    }

    @Test("a configured tolerance moves the edges")
    func customTolerance() throws {
        let verifier = StandardWebhooksVerifier(secrets: [Self.secret], tolerance: 10)
        try verifier.verify(body: Self.body, headers: Self.headers(), now: Self.at(10))
        try verifier.verify(body: Self.body, headers: Self.headers(), now: Self.at(-10))
        #expect(throws: BridgeError.self) { try verifier.verify(body: Self.body, headers: Self.headers(), now: Self.at(11)) }
        #expect(StandardWebhooksVerifier.defaultTolerance == 300)
    }

    // MARK: - Several signatures

    @Test("any matching v1 entry in the space-separated list verifies", arguments: [
        "\(wrong) \(expected)",
        "\(expected) \(wrong)",
        "v2,\(expected.dropFirst(3)) \(expected)",
        "v1,!!notbase64!! \(expected)",
        "v1a,xyz \(expected)",
    ])
    func severalSignatures(_ header: String) throws {
        try verify(Self.headers(signature: header))
    }

    @Test("a repeated webhook-signature header counts as one list")
    func repeatedHeader() throws {
        var headers = Self.headers(signature: Self.wrong)
        headers.add("webhook-signature", Self.expected)
        try verify(headers)
    }

    @Test("only wrong v1 signatures: badSignature, no match")
    func onlyWrong() {
        #expect(throws: BridgeError.badSignature(header: "Webhook-Signature", reason: "no v1 signature matches the configured secret")) {
            try verify(Self.headers(signature: "\(Self.wrong) \(Self.wrong)"))
        }
    }

    @Test("v2 and other versions are ignored: the right MAC under another tag is no signature", arguments: [
        "v2,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
        "v1a,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
        "g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
        "v1,%%%",
    ])
    func noV1(_ header: String) {
        #expect(throws: BridgeError.badSignature(header: "Webhook-Signature", reason: "it holds no v1,<base64> signature")) {
            try verify(Self.headers(signature: header))
        }
    }

    // MARK: - Missing or malformed headers

    @Test("no webhook-signature is missingSignature")
    func missingSignature() {
        #expect(throws: BridgeError.missingSignature) { try verify(Self.headers(signature: nil)) }
    }

    @Test("a missing or empty webhook-id is badSignature naming Webhook-Id", arguments: [nil, ""] as [String?])
    func missingID(_ id: String?) {
        #expect(throws: BridgeError.badSignature(header: "Webhook-Id", reason: "the header is missing")) {
            try verify(Self.headers(id: id))
        }
    }

    @Test("a missing or non-numeric webhook-timestamp is badSignature naming Webhook-Timestamp",
          arguments: [nil, "", "soon", "1614265330.5", "0x603780F2", "2021-02-25T15:02:10Z"] as [String?])
    func badTimestamp(_ timestamp: String?) {
        #expect(throws: BridgeError.badSignature(header: "Webhook-Timestamp", reason: "it is missing or not a number of seconds")) {
            try verify(Self.headers(timestamp: timestamp))
        }
    }

    @Test("blanks around the timestamp are tolerated")
    func paddedTimestamp() throws {
        try verify(Self.headers(timestamp: " \(Self.timestamp)\t"))
    }

    // MARK: - What the signature covers

    @Test("a tampered body, id or timestamp does not verify")
    func tampered() {
        let mismatch = BridgeError.badSignature(header: "Webhook-Signature", reason: "no v1 signature matches the configured secret")
        #expect(throws: mismatch) { try verify(body: Array(#"{"test": 2432232315}"#.utf8)) }
        #expect(throws: mismatch) { try verify(body: Self.body + [0x0a]) }
        #expect(throws: mismatch) { try verify(Self.headers(id: "msg_p5jXN8AQM9LWM0D4loKWxJeK")) }
        #expect(throws: mismatch) { try verify(Self.headers(timestamp: String(Self.timestamp + 1))) }
    }

    @Test("another secret does not verify; either of two secrets does (rotation)")
    func secrets() throws {
        let other = Secret("whsec_" + Data("fake-other-key-DO-NOT-USE-0001".utf8).base64EncodedString())
        #expect(throws: BridgeError.self) {
            try StandardWebhooksVerifier(secrets: [other]).verify(body: Self.body, headers: Self.headers(), now: Self.at(0))
        }
        try StandardWebhooksVerifier(secrets: [other, Self.secret]).verify(body: Self.body, headers: Self.headers(), now: Self.at(0))
        try StandardWebhooksVerifier(secrets: [Self.secret, other]).verify(body: Self.body, headers: Self.headers(), now: Self.at(0))
    }

    // MARK: - Signing and keys

    @Test("sign() round-trips through verify() for whsec_ and unprefixed base64 secrets", arguments: [
        "whsec_" + Data("fake-round-trip-key-DO-NOT-USE".utf8).base64EncodedString(),
        Data("fake-unprefixed-key-DO-NOT-USE".utf8).base64EncodedString(),
    ])
    func roundTrip(_ text: String) throws {
        let secret = Secret(text)
        let body = Array(#"{"object_kind":"issue"}"#.utf8)
        let signature = try #require(StandardWebhooksVerifier.sign(id: "msg_rt1", timestamp: 1_767_225_600, body: body, secret: secret))
        #expect(signature.hasPrefix("v1,"))
        let headers = Self.headers(id: "msg_rt1", timestamp: "1767225600", signature: signature)
        try StandardWebhooksVerifier(secrets: [secret]).verify(body: body, headers: headers, now: Date(timeIntervalSince1970: 1_767_225_600))
    }

    @Test("a secret without whsec_ is base64-decoded as the spec's libraries do; one that is not base64 cannot sign")
    func plainSecretBytes() throws {
        let key = Array("fake-unprefixed-standard-key-DO-NOT-USE".utf8)
        let text = Data(key).base64EncodedString()
        #expect(StandardWebhooksVerifier.key(for: Secret(text)) == key)
        #expect(StandardWebhooksVerifier.key(for: Secret("whsec_" + text)) == key)
        // Without padding, as some senders print it.
        #expect(StandardWebhooksVerifier.key(for: Secret(String(text.trimmingCharacters(in: ["="])))) == key)
        let body = Array("hello".utf8)
        let mac = HMACSHA256.authenticate(Array("msg_1.1767225600.".utf8) + body, key: key)
        #expect(StandardWebhooksVerifier.sign(id: "msg_1", timestamp: 1_767_225_600, body: body, secret: Secret(text))
                == "v1," + Data(mac).base64EncodedString())
        // A secret's own text is never the key: "It's a Secret to Everybody" is not base64.
        #expect(StandardWebhooksVerifier.key(for: Secret("It's a Secret to Everybody")) == nil)
    }

    @Test("a key shorter than 24 bytes is refused, however it is written", arguments: [1, 16, 23])
    func shortKey(_ bytes: Int) {
        let text = "whsec_" + Data(repeating: 7, count: bytes).base64EncodedString()
        #expect(StandardWebhooksVerifier.key(for: Secret(text)) == nil)
        #expect(StandardWebhooksVerifier.keyProblem(Secret(text)) == .tooShort(bytes))
    }

    @Test("more than 8 signatures in one header are refused before any is compared")
    func candidateCap() throws {
        let nine = Array(repeating: "v1,AAAA", count: 9).joined(separator: " ")
        let error = try #require(throws: BridgeError.self) {
            try verifier.verify(body: Self.body, headers: Self.headers(signature: nine), now: Self.at(0))
        }
        #expect(error == .badSignature(header: "Webhook-Signature", reason: "it holds 9 signatures; at most 8 are read"))
    }

    @Test("a whsec_ secret's key is the base64 after the prefix")
    func whsecKey() {
        #expect(StandardWebhooksVerifier.key(for: Self.secret) == Array(Data(base64Encoded: "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")!))
        #expect(StandardWebhooksVerifier.key(for: Self.secret)?.count == 24)
    }

    @Test("key(for:) and sign() are nil for a whsec_ secret that is not base64", arguments: [
        "whsec_not base64!", "whsec_abc", "whsec_%%%%", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaS",
    ])
    func invalidKey(_ text: String) {
        #expect(StandardWebhooksVerifier.key(for: Secret(text)) == nil)
        #expect(StandardWebhooksVerifier.sign(id: "m", timestamp: 1, body: [], secret: Secret(text)) == nil)
    }

    @Test("isPresent looks for webhook-signature only")
    func isPresent() {
        #expect(StandardWebhooksVerifier.isPresent(in: HTTPHeaders([("Webhook-Signature", "v1,x")])))
        #expect(!StandardWebhooksVerifier.isPresent(in: HTTPHeaders([("webhook-id", "m"), ("webhook-timestamp", "1")])))
    }
}

@Suite("Static shared tokens")
struct StaticTokenVerifierTests {
    static let secret = "fake-static-token-DO-NOT-USE-5"
    static let previous = "fake-previous-token-DO-NOT-USE-6"

    let verifier = StaticTokenVerifier(tokens: [Secret(Self.secret), Secret(Self.previous)], tokenHeader: "X-Api-Key")

    func token(_ headers: [(String, String)] = [], query: String = "") -> String? {
        verifier.token(headers: HTTPHeaders(headers), query: query)
    }

    @Test("the token comes from X-Gitlab-Token, the configured TOKEN_HEADER, or ?token=", arguments: [
        ([("X-Gitlab-Token", "abc")], "", "abc"),
        ([("x-api-key", "abc")], "", "abc"),
        ([("X-API-KEY", "abc")], "", "abc"),
        ([], "token=abc", "abc"),
        ([], "source=redmine&token=abc&x=1", "abc"),
        ([], "token=a%20b%2Bc%26d", "a b+c&d"),
        ([], "token=a+b", "a+b"),
        ([], "token=", ""),
        ([], "token", ""),
        ([("Authorization", "Bearer abc")], "", "abc"),
        ([("Authorization", "token abc")], "", "abc"),
        ([("Authorization", "abc")], "", "abc"),
    ] as [([(String, String)], String, String)])
    func found(_ headers: [(String, String)], _ query: String, _ expected: String) {
        #expect(token(headers, query: query) == expected)
    }

    @Test("a header beats the query")
    func headerFirst() {
        #expect(token([("X-Gitlab-Token", "from-header")], query: "token=from-query") == "from-header")
    }

    @Test("no token: nil (an unconfigured header or another parameter does not count)")
    func absent() {
        #expect(token() == nil)
        #expect(token([("X-Other-Token", "abc"), ("Authorization", "Basic YTpi")], query: "tokens=abc&xtoken=abc") == nil)
        #expect(StaticTokenVerifier(tokens: [], tokenHeader: nil).token(headers: HTTPHeaders([("X-Api-Key", "abc")]), query: "") == nil)
    }

    @Test("the current and the previous secret verify")
    func verifies() throws {
        try verifier.verify(Self.secret)
        try verifier.verify(Self.previous)
    }

    @Test("a wrong token fails, and the message shows neither the token nor the secret", arguments: [
        "wrong-token-OFFERED-7", secret + " ", String(secret.dropLast()), secret.uppercased(), "",
    ])
    func wrong(_ offered: String) throws {
        let error = try #require(throws: BridgeError.self) { try verifier.verify(offered) }
        #expect(error == .badSignature(header: "token", reason: "the token does not match the configured token"))
        #expect(error.status == .unauthorized)
        for text in [error.message, error.logDetail, "\(error)"] {
            #expect(!text.contains(Self.secret))
            #expect(!text.contains("DO-NOT-USE"))
            if !offered.isEmpty { #expect(!text.contains(offered)) }
        }
    }
}
