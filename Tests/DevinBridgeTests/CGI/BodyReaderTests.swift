import Testing
@testable import DevinBridge

@Suite("Body reading")
struct BodyReaderTests {
    func read(_ source: ByteSource, contentLength: String?, limit: Int = 1024) -> Result<[UInt8], BridgeError> {
        BodyReader.read(contentLength: contentLength, limit: limit, from: source.read)
    }

    static func bytes(_ count: Int) -> [UInt8] {
        (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
    }

    @Test("exactly CONTENT_LENGTH bytes are read, even when more input follows")
    func exactLength() {
        let source = ByteSource("0123456789EXTRA")
        #expect(read(source, contentLength: "10") == .success(Array("0123456789".utf8)))
        #expect(source.consumed == 10)
    }

    @Test("CONTENT_LENGTH with blanks around it is accepted")
    func lengthWithBlanks() {
        #expect(read(ByteSource("abc"), contentLength: " 3\t") == .success(Array("abc".utf8)))
    }

    @Test("CONTENT_LENGTH 0 reads nothing")
    func zeroLength() {
        let source = ByteSource("ignored")
        #expect(read(source, contentLength: "0") == .success([]))
        #expect(source.consumed == 0)
    }

    @Test("without CONTENT_LENGTH the body runs to the end of input")
    func toEndOfInput() {
        let body = Self.bytes(5000)
        let source = ByteSource(body)
        #expect(read(source, contentLength: nil, limit: 10_000) == .success(body))
        #expect(source.remaining == 0)
    }

    @Test("a body larger than 64 KiB (the read chunk) arrives whole", arguments: ["200000", nil] as [String?])
    func largerThanAChunk(_ contentLength: String?) {
        let body = Self.bytes(200_000)
        #expect(read(ByteSource(body), contentLength: contentLength, limit: 300_000) == .success(body))
    }

    @Test("a body delivered 1 to 7 bytes at a time arrives whole", arguments: ["500", nil] as [String?])
    func smallPieces(_ contentLength: String?) {
        let body = Self.bytes(500)
        let source = ByteSource(body, pieceSizes: [1, 7, 2, 6, 3, 5, 4])
        #expect(read(source, contentLength: contentLength) == .success(body))
        #expect(source.consumed == 500)
    }

    @Test("a body of exactly the limit is accepted", arguments: ["1024", nil] as [String?])
    func exactlyTheLimit(_ contentLength: String?) {
        let body = Self.bytes(1024)
        #expect(read(ByteSource(body), contentLength: contentLength, limit: 1024) == .success(body))
    }

    @Test("a CONTENT_LENGTH over the limit is payloadTooLarge, after draining the whole body")
    func oversizeByLength() {
        let source = ByteSource(Self.bytes(5000), pieceSizes: [1, 7, 3])
        #expect(read(source, contentLength: "5000", limit: 1024) == .failure(.payloadTooLarge(limit: 1024)))
        #expect(source.consumed == 5000)
    }

    @Test("an announced CONTENT_LENGTH over the limit is refused even if the body turns out shorter")
    func oversizeAnnouncedOnly() {
        let source = ByteSource(Self.bytes(10))
        #expect(read(source, contentLength: "5000", limit: 1024) == .failure(.payloadTooLarge(limit: 1024)))
        #expect(source.remaining == 0)
    }

    @Test("a body over the limit without CONTENT_LENGTH is payloadTooLarge, after draining to the end")
    func oversizeWithoutLength() {
        let source = ByteSource(Self.bytes(5000), pieceSizes: [1, 7, 3, 64])
        #expect(read(source, contentLength: nil, limit: 1024) == .failure(.payloadTooLarge(limit: 1024)))
        #expect(source.remaining == 0)
    }

    @Test("a body one byte over the limit is refused", arguments: ["1025", nil] as [String?])
    func oneByteOver(_ contentLength: String?) {
        #expect(read(ByteSource(Self.bytes(1025)), contentLength: contentLength, limit: 1024)
                == .failure(.payloadTooLarge(limit: 1024)))
    }

    @Test("a refused body is drained no further than the drain limit")
    func drainLimit() {
        // Pretend to be an endless input and count what is taken.
        var taken = 0
        let result = BodyReader.read(contentLength: nil, limit: 10) { buffer in
            taken += buffer.count
            return buffer.count
        }
        #expect(result == .failure(.payloadTooLarge(limit: 10)))
        #expect(taken == BodyReader.drainLimit)
    }

    @Test("a CONTENT_LENGTH that is not a non-negative decimal number is badContentLength, and the input is drained",
          arguments: ["-1", "abc", "12abc", "1.5", "0x10", "١٢", "99999999999999999999999"])
    func badContentLength(_ value: String) {
        let source = ByteSource("{\"id\":1}")
        #expect(read(source, contentLength: value) == .failure(.badContentLength(value)))
        #expect(source.remaining == 0)
    }

    @Test("a body shorter than CONTENT_LENGTH is bodyTruncated with both counts")
    func truncated() {
        let source = ByteSource("short", pieceSizes: [2])
        #expect(read(source, contentLength: "20") == .failure(.bodyTruncated(expected: 20, received: 5)))
    }

    @Test("a read error is bodyUnreadable, with or without CONTENT_LENGTH")
    func readError() {
        let source = ByteSource(Self.bytes(100), pieceSizes: [10])
        source.failAfter = 30
        #expect(read(source, contentLength: "100") == .failure(.bodyUnreadable))
        let chunked = ByteSource(Self.bytes(100), pieceSizes: [10])
        chunked.failAfter = 30
        #expect(read(chunked, contentLength: nil) == .failure(.bodyUnreadable))
    }

    @Test("an empty CONTENT_LENGTH is not a number")
    func emptyString() {
        // CGIRequestHead turns an empty CONTENT_LENGTH into nil; the reader itself refuses "".
        #expect(read(ByteSource(""), contentLength: "") == .failure(.badContentLength("")))
    }
}

@Suite("CGI request head")
struct CGIRequestHeadTests {
    @Test("HTTP_* variables become lower-case dashed header names")
    func headers() {
        let head = CGIRequestHead(environment: [
            "REQUEST_METHOD": "POST",
            "HTTP_X_HUB_SIGNATURE_256": "sha256=abc",
            "HTTP_X_GITHUB_DELIVERY": "d-1",
            "HTTP_USER_AGENT": "GitHub-Hookshot/1",
            "SERVER_SOFTWARE": "Apache",
            "HTTPS": "on",
            "DEVIN_API_KEY": FakeSecret.apiKey,
        ])
        #expect(head.headers["x-hub-signature-256"] == "sha256=abc")
        #expect(head.headers["X-Hub-Signature-256"] == "sha256=abc")
        #expect(head.headers["x-github-delivery"] == "d-1")
        #expect(head.headers["user-agent"] == "GitHub-Hookshot/1")
        #expect(head.headers.names == ["user-agent", "x-github-delivery", "x-hub-signature-256"])
    }

    @Test("CONTENT_TYPE becomes the content-type header; an empty one is dropped")
    func contentType() {
        #expect(CGIRequestHead(environment: ["CONTENT_TYPE": "application/json"]).headers["content-type"] == "application/json")
        #expect(CGIRequestHead(environment: ["CONTENT_TYPE": ""]).headers["content-type"] == nil)
        #expect(CGIRequestHead(environment: [:]).headers.names == [])
    }

    @Test("CONTENT_LENGTH is kept as given; unset or empty is nil", arguments: [
        ("42", "42"), (" 42", " 42"), ("-1", "-1"), ("", nil),
    ] as [(String, String?)])
    func contentLength(_ value: String, _ expected: String?) {
        #expect(CGIRequestHead(environment: ["CONTENT_LENGTH": value]).contentLength == expected)
    }

    @Test("no CONTENT_LENGTH is nil")
    func noContentLength() {
        #expect(CGIRequestHead(environment: ["REQUEST_METHOD": "POST"]).contentLength == nil)
    }

    @Test("the method is upper-cased; a missing one is GET", arguments: [
        ("post", "POST"), ("Post", "POST"), ("PUT", "PUT"), ("head", "HEAD"),
    ])
    func method(_ value: String, _ method: String) {
        #expect(CGIRequestHead(environment: ["REQUEST_METHOD": value]).method == method)
    }

    @Test("a missing REQUEST_METHOD is GET")
    func missingMethod() {
        #expect(CGIRequestHead(environment: [:]).method == "GET")
    }

    @Test("PATH_INFO and QUERY_STRING are kept, empty when unset")
    func pathAndQuery() {
        let head = CGIRequestHead(environment: ["PATH_INFO": "/jira", "QUERY_STRING": "a=1&b=2"])
        #expect(head.pathInfo == "/jira")
        #expect(head.queryString == "a=1&b=2")
        let bare = CGIRequestHead(environment: [:])
        #expect(bare.pathInfo == "")
        #expect(bare.queryString == "")
    }

    @Test("the environment reading equals the explicit initializer")
    func equalsExplicit() {
        let head = CGIRequestHead(environment: [
            "REQUEST_METHOD": "post", "CONTENT_LENGTH": "12", "CONTENT_TYPE": "application/json",
            "HTTP_X_SIGNATURE": "abc", "PATH_INFO": "/p",
        ])
        let expected = CGIRequestHead(
            method: "POST",
            headers: HTTPHeaders([("x-signature", "abc"), ("content-type", "application/json")]),
            contentLength: "12", pathInfo: "/p")
        #expect(head == expected)
    }
}
