import Testing
@testable import DevinBridge

@Suite("Request body: one reading, from the signed bytes")
struct RequestBodyTests {
    let json = Array(#"{"id":1,"title":"t"}"#.utf8)

    @Test("a body that starts with { is JSON, whatever its type says", arguments: [
        nil, "", "application/json", "application/json; charset=utf-8", "Application/JSON", "text/json",
        "application/vnd.github+json", "application/x-www-form-urlencoded",
    ])
    func jsonTypes(_ type: String?) throws {
        try RequestBody.checkMediaType(type)
        #expect(try RequestBody.json(json) == json)
        #expect(try RequestBody.json(Array("  \n".utf8) + json) == Array("  \n".utf8) + json)
        #expect(RequestBody.formDocument(json) == nil)
    }

    @Test("a form body yields its decoded payload field")
    func formPayload() throws {
        let form = Array("action=opened&payload=%7B%22id%22%3A1%2C%22title%22%3A%22a+b%22%7D&x=1".utf8)
        let payload = try RequestBody.json(form)
        #expect(String(decoding: payload, as: UTF8.self) == #"{"id":1,"title":"a b"}"#)
        // Only a one-field `payload=` form is read before the signature is checked.
        #expect(RequestBody.formDocument(form) == nil)
        let gitea = Array("payload=%7B%22id%22%3A1%2C%22title%22%3A%22a+b%22%7D".utf8)
        #expect(RequestBody.formDocument(gitea) == payload)
        #expect(RequestBody.formDocument(Array(repeating: UInt8(ascii: "x"), count: 1 << 20)) == nil)
        #expect(RequestBody.formDocument(Array("payload=%7".utf8)) == nil)
    }

    @Test("a JSON ticket that holds &payload= in its text is still that JSON ticket")
    func smuggledPayload() throws {
        let inner = #"{"id":"EVIL-1","title":"x","labels":["devin-autofix"]}"#
        let encoded = inner.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!
        let body = Array(#"{"id":"PROJ-1","title":"t","description":"a&payload=\#(encoded)&b=1"}"#.utf8)
        #expect(try RequestBody.json(body) == body)
        #expect(RequestBody.formDocument(body) == nil)
    }

    @Test("a form without one payload field holding a JSON object is refused", arguments: [
        "a=1&b=2", "payload=1", "payload=%5B1%5D", "payload=%7B%7D&payload=%7B%7D", "payload=%ZZ",
    ])
    func formWithoutPayload(_ text: String) {
        #expect(throws: BridgeError.self) { try RequestBody.json(Array(text.utf8)) }
    }

    @Test("other types are unsupportedMediaType (415)", arguments: [
        "text/plain", "multipart/form-data; boundary=x", "application/xml", "text/html",
    ])
    func otherTypes(_ type: String) {
        #expect(throws: BridgeError.unsupportedMediaType(type)) { try RequestBody.checkMediaType(type) }
        #expect(BridgeError.unsupportedMediaType(type).status.code == 415)
    }
}
