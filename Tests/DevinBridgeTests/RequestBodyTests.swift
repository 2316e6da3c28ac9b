import Testing
@testable import DevinBridge

@Suite("Request body by Content-Type")
struct RequestBodyTests {
    let json = Array(#"{"id":1,"title":"t"}"#.utf8)

    @Test("JSON types, and no type at all, pass the body through", arguments: [
        nil, "", "application/json", "application/json; charset=utf-8", "Application/JSON", "text/json",
        "application/vnd.github+json",
    ])
    func jsonTypes(_ type: String?) throws {
        #expect(try RequestBody.json(json, contentType: type) == json)
    }

    @Test("a form body yields its decoded payload field")
    func formPayload() throws {
        let form = Array("action=opened&payload=%7B%22id%22%3A1%2C%22title%22%3A%22a+b%22%7D&x=1".utf8)
        let payload = try RequestBody.json(form, contentType: "application/x-www-form-urlencoded")
        #expect(String(decoding: payload, as: UTF8.self) == #"{"id":1,"title":"a b"}"#)
    }

    @Test("a form body without a payload field names it")
    func formWithoutPayload() {
        #expect(throws: BridgeError.missingField("payload")) {
            try RequestBody.json(Array("a=1&b=2".utf8), contentType: "application/x-www-form-urlencoded")
        }
    }

    @Test("other types are unsupportedMediaType (415)", arguments: [
        "text/plain", "multipart/form-data; boundary=x", "application/xml", "text/html",
    ])
    func otherTypes(_ type: String) {
        #expect(throws: BridgeError.unsupportedMediaType(type)) { try RequestBody.json(json, contentType: type) }
        #expect(BridgeError.unsupportedMediaType(type).status.code == 415)
    }
}
