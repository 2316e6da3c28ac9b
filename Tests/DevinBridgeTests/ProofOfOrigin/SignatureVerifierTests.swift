import Testing
@testable import DevinBridge

@Suite("Signature verification")
struct SignatureVerifierTests {
    static let secret = "It's a Secret to Everybody"
    static let body = Array("Hello, World!".utf8)
    static let hex = "757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
    static let otherHex = "0000000000000000000000000000000000000000000000000000000000000000"

    let verifier = SignatureVerifier(secrets: [Secret(Self.secret)])

    func verify(_ headers: [(String, String)], body: [UInt8] = Self.body) throws {
        try verifier.verify(body: body, headers: HTTPHeaders(headers))
    }

    /// The error thrown for `headers`, or nil when they verify.
    func failure(_ headers: [(String, String)], body: [UInt8] = Self.body) -> BridgeError? {
        bridgeError(allowSuccess: true) { try verify(headers, body: body) }
    }

    static let validCases: [(String, String)] = [
        ("X-Hub-Signature-256", "sha256=\(hex)"),
        ("X-Hub-Signature-256", hex),
        ("X-Hub-Signature", "sha256=\(hex)"),
        ("X-Hub-Signature", hex),
        ("X-Signature", hex),
        ("X-Signature", "sha256=\(hex)"),
        ("x-signature", "sha256=\(hex)"),
        ("X-Hub-Signature-256", "sha256=\(hex.uppercased())"),
        ("X-Hub-Signature-256", "SHA256=\(hex)"),
        ("X-Hub-Signature-256", "  sha256=\(hex)\t"),
    ]

    @Test("a correct signature verifies", arguments: validCases)
    func validSignature(_ header: String, _ value: String) throws {
        try verify([(header, value)])
    }

    @Test("a request without any signature header is missingSignature")
    func missing() {
        #expect(failure([]) == .missingSignature)
        #expect(failure([("X-Unknown-Signature", Self.hex), ("Content-Type", "application/json")]) == .missingSignature)
    }

    static let empty = "the header is empty"
    static let notHex = "it is not 64 hex digits"
    static let mismatch = "it does not match the HMAC-SHA256 of the body under the configured secret"
    static let emptyValue = "one of its values is empty"
    static let badCases: [(String, String)] = [
        ("", empty),
        ("   ", empty),
        ("sha256=", notHex),
        ("sha256=\(hex.dropLast())", notHex),
        ("sha256=\(hex)00", notHex),
        (String(hex.dropLast(2)), notHex),
        ("sha256=\(hex.dropLast())g", notHex),
        ("sha256=\(hex.dropLast(2)) 7", notHex),
        ("sha1=0a4d55a8d778e5022fab701977c5d840bbc486d0", #"it uses "sha1"; only sha256 is accepted"#),
        ("md5=\(hex)", #"it uses "md5"; only sha256 is accepted"#),
        ("sha256=\(otherHex)", mismatch),
        ("sha256=\(hex), sha256=\(otherHex)", mismatch),
        ("sha256=\(otherHex), sha256=\(hex)", mismatch),
        ("sha256=\(hex), ", emptyValue),
        ("sha256=\(hex),,sha256=\(hex)", emptyValue),
    ]

    @Test("a malformed or wrong signature is badSignature naming the header", arguments: badCases)
    func badSignature(_ value: String, _ reason: String) {
        #expect(failure([("X-Hub-Signature-256", value)]) == .badSignature(header: "X-Hub-Signature-256", reason: reason))
    }

    @Test("a sha1 signature alone is refused, in whichever header it comes")
    func sha1Only() {
        let sha1 = "sha1=0a4d55a8d778e5022fab701977c5d840bbc486d0"
        let error = failure([("X-Hub-Signature", sha1)])
        #expect(error == .badSignature(header: "X-Hub-Signature", reason: #"it uses "sha1"; only sha256 is accepted"#))
        #expect(error?.status == .unauthorized)
    }

    @Test("a valid signature of a different body is refused")
    func signatureOfAnotherBody() {
        #expect(failure([("X-Hub-Signature-256", "sha256=" + Self.hex)], body: Array("Hello, World!\n".utf8)) != nil)
        #expect(failure([("X-Hub-Signature-256", "sha256=" + Self.hex)], body: []) != nil)
    }

    @Test("a signature made with another secret is refused")
    func anotherSecret() {
        let value = signature("Hello, World!", secret: "It's a Secret to Everybody!")
        #expect(failure([("X-Hub-Signature-256", value)]) != nil)
    }

    @Test("two comma-joined identical valid values verify (Apache joins repeated headers)")
    func twoIdenticalValues() throws {
        try verify([("X-Hub-Signature-256", "sha256=\(Self.hex), sha256=\(Self.hex)")])
        try verify([("X-Hub-Signature-256", "sha256=\(Self.hex)"), ("X-Hub-Signature-256", Self.hex.uppercased())])
    }

    @Test("two separate header values where one is wrong are refused")
    func twoSeparateValuesOneWrong() {
        #expect(failure([("X-Hub-Signature-256", "sha256=\(Self.hex)"), ("X-Hub-Signature-256", "sha256=\(Self.otherHex)")]) != nil)
    }

    @Test("X-Hub-Signature-256 wins over X-Hub-Signature: a bad strong header is not rescued by a valid weaker one")
    func headerPriority() {
        let error = failure([
            ("X-Hub-Signature-256", "sha256=" + Self.otherHex),
            ("X-Hub-Signature", "sha256=" + Self.hex),
            ("X-Signature", Self.hex),
        ])
        #expect(error == .badSignature(
            header: "X-Hub-Signature-256",
            reason: "it does not match the HMAC-SHA256 of the body under the configured secret"))
    }

    @Test("X-Hub-Signature wins over X-Signature")
    func secondPriority() {
        let error = failure([("X-Signature", Self.hex), ("X-Hub-Signature", "sha256=" + Self.otherHex)])
        if case .badSignature(let header, _)? = error {
            #expect(header == "X-Hub-Signature")
        } else {
            Issue.record("expected badSignature, got \(String(describing: error))")
        }
    }

    @Test("an empty X-Hub-Signature-256 is refused rather than skipped in favour of the next header")
    func emptyStrongHeader() {
        let error = failure([("X-Hub-Signature-256", ""), ("X-Hub-Signature", "sha256=" + Self.hex)])
        #expect(error == .badSignature(header: "X-Hub-Signature-256", reason: "the header is empty"))
    }

    @Test("any of several configured secrets may have signed the body")
    func rotation() throws {
        let verifier = SignatureVerifier(secrets: [Secret("the-new-secret-value"), Secret(Self.secret)])
        try verifier.verify(body: Self.body, headers: HTTPHeaders([("X-Hub-Signature-256", "sha256=" + Self.hex)]))
        #expect(throws: BridgeError.self) {
            try SignatureVerifier(secrets: [Secret("the-new-secret-value")])
                .verify(body: Self.body, headers: HTTPHeaders([("X-Hub-Signature-256", "sha256=" + Self.hex)]))
        }
    }

    @Test("an error message never contains the secret or the expected MAC")
    func messagesDoNotLeak() {
        for value in ["sha256=" + Self.otherHex, "sha1=abc", "", "zz"] {
            guard let error = failure([("X-Hub-Signature-256", value)]) else {
                Issue.record("\(value) verified")
                continue
            }
            #expect(!error.message.contains(Self.secret))
            #expect(!error.message.contains(Self.hex))
            #expect(!error.logDetail.contains(Self.hex))
        }
    }

    @Test("headerLine prints the header devin-bridge sign documents")
    func headerLine() {
        #expect(SignatureVerifier.headerLine(body: Self.body, secret: Secret(Self.secret))
                == "X-Hub-Signature-256: sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17")
        #expect(SignatureVerifier.headerLine(body: [], secret: Secret(Self.secret))
                == "X-Hub-Signature-256: sha256=66a0c074deaa0f489ead6537e0d32f9a344b90bbeda705b6ed45ecd3b413fb40")
    }

    @Test("the line headerLine prints verifies when sent back as a header")
    func headerLineRoundTrip() throws {
        let body = Array(#"{"id":"PROJ-1","title":"Fix it"}"#.utf8)
        let line = SignatureVerifier.headerLine(body: body, secret: Secret(FakeSecret.webhookSecret))
        let parts = line.split(separator: ":", maxSplits: 1).map { String($0).trimmingASCIIWhitespace() }
        try #require(parts.count == 2)
        try SignatureVerifier(secrets: [Secret(FakeSecret.webhookSecret)])
            .verify(body: body, headers: HTTPHeaders([(parts[0], parts[1])]))
    }
}

@Suite("HTTP headers")
struct HTTPHeadersTests {
    @Test("names are case-insensitive and keep every value in order")
    func caseInsensitive() {
        var headers = HTTPHeaders([("X-Hub-Signature-256", "one")])
        headers.add("x-hub-signature-256", "two")
        #expect(headers.values("X-HUB-SIGNATURE-256") == ["one", "two"])
        #expect(headers["x-Hub-signature-256"] == "one")
        #expect(headers.values("x-signature") == nil)
        #expect(headers.names == ["x-hub-signature-256"])
    }

    @Test("displayName capitalises each dash-separated word", arguments: [
        ("x-hub-signature-256", "X-Hub-Signature-256"),
        ("content-type", "Content-Type"),
        ("x-signature", "X-Signature"),
        ("etag", "Etag"),
    ])
    func displayName(_ name: String, _ display: String) {
        #expect(HTTPHeaders.displayName(name) == display)
    }
}
