import Testing
@testable import DevinBridge

@Suite("CGI response writing")
struct CGIResponseTests {
    let response = CGIResponse(status: .ok, headers: [("Content-Type", "application/json"), ("X-Thing", "1")],
                               body: Array("{\"a\":1}\n".utf8))

    @Test("the Status line comes first, each header ends in CRLF, a blank line precedes the body")
    func layout() {
        let text = response.serialized().text
        #expect(text == "Status: 200 OK\r\nContent-Type: application/json\r\nX-Thing: 1\r\n\r\n{\"a\":1}\n")
    }

    @Test("HEAD gets the header block only")
    func head() {
        #expect(response.serialized(includeBody: false).text == "Status: 200 OK\r\nContent-Type: application/json\r\nX-Thing: 1\r\n\r\n")
    }

    @Test("a response without headers or body is the Status line and the blank line")
    func minimal() {
        #expect(CGIResponse(status: .badGateway).serialized().text == "Status: 502 Bad Gateway\r\n\r\n")
    }

    @Test("the body is written byte for byte, even when it is not text")
    func binaryBody() {
        let body: [UInt8] = [0x00, 0xff, 0x0d, 0x0a]
        let bytes = CGIResponse(status: .ok, body: body).serialized()
        #expect(Array(bytes.suffix(4)) == body)
        #expect(bytes.count == "Status: 200 OK\r\n\r\n".utf8.count + 4)
    }

    @Test("json sets Content-Type first and Cache-Control last, extra headers between, and ends in a newline")
    func json() throws {
        let response = CGIResponse.json(.ok, ["url": "https://a.example/b"], headers: [("Allow", "POST")])
        #expect(response.headers.map(\.0) == ["Content-Type", "Allow", "Cache-Control"])
        #expect(response.headers.first?.1 == "application/json")
        #expect(response.headers.last?.1 == "no-store")
        #expect(response.body.last == UInt8(ascii: "\n"))
        #expect(response.body.text == "{\"url\":\"https://a.example/b\"}\n")
    }

    @Test("an error document has exactly the keys error and message", arguments: [
        BridgeError.missingSignature, .methodNotAllowed("PUT"), .upstreamTimeout(seconds: 8),
        .notConfigured(["DEVIN_API_KEY is not set"]), .invalidField("id", "is empty"),
    ])
    func errorDocument(_ error: BridgeError) throws {
        let response = CGIResponse.error(error)
        #expect(response.status == error.status)
        let object = try jsonObject(response.body)
        #expect(Set(object.keys) == ["error", "message"])
        #expect(object["error"] as? String == error.code)
        #expect(object["message"] as? String == error.message)
    }

    @Test("an error with extra headers keeps them")
    func errorHeaders() {
        let response = CGIResponse.error(.methodNotAllowed("PUT"), headers: [("Allow", "POST")])
        #expect(response.status.code == 405)
        #expect(response.headers.contains { $0 == ("Allow", "POST") })
        #expect(response.serialized().text.hasPrefix("Status: 405 Method Not Allowed\r\n"))
    }

    @Test("responses compare by status, headers in order, and body")
    func equality() {
        #expect(response == CGIResponse(status: .ok, headers: [("Content-Type", "application/json"), ("X-Thing", "1")],
                                        body: Array("{\"a\":1}\n".utf8)))
        #expect(response != CGIResponse(status: .ok, headers: [("X-Thing", "1"), ("Content-Type", "application/json")],
                                        body: Array("{\"a\":1}\n".utf8)))
        #expect(response != CGIResponse(status: .accepted, headers: response.headers, body: response.body))
    }
}

@Suite("Log line")
struct LogLineTests {
    @Test("plain values are written bare, in the order first set")
    func plain() {
        var line = LogLine()
        line.set("decision", "created")
        line.set("status", "200")
        line.set("ticket", "PROJ-1")
        #expect(line.description == "devin-bridge: decision=created status=200 ticket=PROJ-1")
    }

    @Test("setting a key again replaces its value in place; nil sets nothing")
    func replace() {
        var line = LogLine()
        line.set("a", "1")
        line.set("b", "2")
        line.set("a", "3")
        line.set("c", nil)
        #expect(line.description == "devin-bridge: a=3 b=2")
        #expect(line["a"] == "3")
        #expect(line["c"] == nil)
    }

    @Test("values that need it are quoted and escaped", arguments: [
        ("two words", #""two words""#),
        (#"say "hi""#, #""say \"hi\"""#),
        (#"back\slash"#, #""back\\slash""#),
        ("a=b", #""a=b""#),
        ("", #""""#),
        ("line\nbreak", #""line\nbreak""#),
        ("cr\rlf\n", #""cr\rlf\n""#),
        ("tab\there", #""tab\there""#),
        ("bell\u{7}", #""bell\u{7}""#),
        ("nel\u{85}", #""nel\u{85}""#),
        ("café", #""café""#),
    ])
    func quoting(_ value: String, _ written: String) {
        #expect(LogLine.quote(value) == written)
    }

    @Test("a value with newlines never breaks the line", arguments: [
        "a\nb", "a\r\nb", "\n", "x\u{0b}y\u{0c}z", String(repeating: "line\n", count: 500),
    ])
    func neverMultiLine(_ value: String) {
        var line = LogLine()
        line.set("reason", value)
        line.set("ticket", value)
        let text = line.description
        #expect(!text.unicodeScalars.contains { $0 == "\n" || $0 == "\r" || $0 == "\u{0b}" || $0 == "\u{0c}" })
    }

    @Test("a very long value is cut at 1000 characters")
    func longValue() {
        let quoted = LogLine.quote(String(repeating: "x ", count: 2000))
        #expect(quoted.count == 1002)
    }

    @Test("log lines compare by what they print")
    func equality() {
        var a = LogLine()
        a.set("k", "v")
        var b = LogLine()
        b.set("k", "v")
        #expect(a == b)
        b.set("k", "w")
        #expect(a != b)
    }
}
