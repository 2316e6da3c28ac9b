import Testing
@testable import DevinBridge

@Suite("Generic ticket decoding")
struct GenericTicketDecoderTests {
    func decode(_ json: String) throws -> Ticket {
        try GenericTicketDecoder.decode(Array(json.utf8))
    }

    @Test("a complete ticket decodes field by field")
    func complete() throws {
        let ticket = try decode("""
            {"id": "PROJ-123", "title": "Crash on save", "description": "Steps:\\n1. save",
             "labels": ["bug", "devin-autofix"], "url": "https://jira.example.com/browse/PROJ-123",
             "extra": {"ignored": true}}
            """)
        #expect(ticket == Ticket(id: "PROJ-123", title: "Crash on save", description: "Steps:\n1. save",
                                 labels: ["bug", "devin-autofix"], url: "https://jira.example.com/browse/PROJ-123",
                                 source: "generic"))
    }

    @Test("the id may be a string, an integer or a whole number written as a float", arguments: [
        (#""PROJ-1""#, "PROJ-1"),
        (#""  PROJ-1 ""#, "PROJ-1"),
        ("42", "42"),
        ("42.0", "42"),
        ("0", "0"),
        ("1", "1"),
        ("-7", "-7"),
        ("9007199254740993", "9007199254740993"),
    ])
    func idForms(_ json: String, _ id: String) throws {
        #expect(try decode(#"{"id": \#(json), "title": "t"}"#).id == id)
    }

    @Test("an id of another type is invalidField(id)", arguments: [
        "42.5", "true", "false", "[1]", #"{"key": "PROJ-1"}"#, "1e20",
    ])
    func idWrongType(_ json: String) {
        #expect(throws: BridgeError.invalidField("id", "must be a string or a whole number")) {
            try decode(#"{"id": \#(json), "title": "t"}"#)
        }
    }

    @Test("an empty, multi-line, overlong or oddly spelled id is refused", arguments: [
        (#""""#, "is empty"),
        (#""   ""#, "is empty"),
        (#""PROJ-1\nInjected: yes""#, Ticket.idRule),
        (#""PROJ-1\u0007""#, Ticket.idRule),
        (#""PROJ-1 `rm -rf`""#, Ticket.idRule),
        (#""PROJ-1\u202e""#, Ticket.idRule),
        ("\"" + String(repeating: "x", count: 129) + "\"", Ticket.idRule),
    ])
    func idRefused(_ json: String, _ expectation: String) {
        #expect(throws: BridgeError.invalidField("id", expectation)) {
            try decode(#"{"id": \#(json), "title": "t"}"#)
        }
    }

    @Test("an id of exactly 128 characters is accepted")
    func longestID() throws {
        let id = String(repeating: "x", count: 128)
        #expect(try decode(#"{"id": "\#(id)", "title": "t"}"#).id == id)
    }

    @Test("a missing or null id or title is missingField naming it", arguments: [
        (#"{"title": "t"}"#, "id"),
        (#"{"id": null, "title": "t"}"#, "id"),
        (#"{"id": "PROJ-1"}"#, "title"),
        (#"{"id": "PROJ-1", "title": null}"#, "title"),
        (#"{}"#, "id"),
        (#"{"ID": "PROJ-1", "Title": "t"}"#, "id"),
    ])
    func missingField(_ json: String, _ field: String) {
        #expect(throws: BridgeError.missingField(field)) {
            try decode(json)
        }
    }

    @Test("fields of the wrong type are invalidField naming them", arguments: [
        (#"{"id": "1", "title": 5}"#, "title", "must be a string"),
        (#"{"id": "1", "title": ["t"]}"#, "title", "must be a string"),
        (#"{"id": "1", "title": "  \n "}"#, "title", "is empty"),
        (#"{"id": "1", "title": "t", "description": 5}"#, "description", "must be a string or null"),
        (#"{"id": "1", "title": "t", "description": {"text": "x"}}"#, "description", "must be a string or null"),
        (#"{"id": "1", "title": "t", "labels": "devin-autofix"}"#, "labels", "must be a list of strings"),
        (#"{"id": "1", "title": "t", "labels": ["ok", 5]}"#, "labels", "must be a list of strings"),
        (#"{"id": "1", "title": "t", "labels": [null]}"#, "labels", "must be a list of strings"),
        (#"{"id": "1", "title": "t", "labels": [{"color": "red"}]}"#, "labels", "must be a list of strings"),
        (#"{"id": "1", "title": "t", "labels": [{"name": 5}]}"#, "labels", "must be a list of strings"),
    ])
    func invalidField(_ json: String, _ field: String, _ expectation: String) {
        #expect(throws: BridgeError.invalidField(field, expectation)) {
            try decode(json)
        }
    }

    @Test("a null or absent description is nil; an empty one is kept")
    func description() throws {
        #expect(try decode(#"{"id": "1", "title": "t", "description": null}"#).description == nil)
        #expect(try decode(#"{"id": "1", "title": "t"}"#).description == nil)
        #expect(try decode(#"{"id": "1", "title": "t", "description": ""}"#).description == "")
    }

    @Test("labels may be strings, objects with a name or a title, null or absent", arguments: [
        (#"["a", "b"]"#, ["a", "b"]),
        (#"[{"name": "a"}, {"name": "b", "color": "red"}]"#, ["a", "b"]),
        (#"[{"title": "a"}, "b"]"#, ["a", "b"]),
        (#"[{"name": "a", "title": "ignored"}]"#, ["a"]),
        ("[]", []),
        ("null", []),
    ])
    func labels(_ json: String, _ labels: [String]) throws {
        #expect(try decode(#"{"id": "1", "title": "t", "labels": \#(json)}"#).labels == labels)
    }

    @Test("absent labels are an empty list")
    func noLabels() throws {
        #expect(try decode(#"{"id": "1", "title": "t"}"#).labels == [])
    }

    @Test("only an http(s) url is kept", arguments: [
        (#""https://t.example/1""#, "https://t.example/1"),
        (#""http://t.example/1""#, "http://t.example/1"),
        (#""javascript:alert(1)""#, nil),
        (#""ftp://t.example/1""#, nil),
        ("5", nil),
        ("null", nil),
    ] as [(String, String?)])
    func url(_ json: String, _ url: String?) throws {
        #expect(try decode(#"{"id": "1", "title": "t", "url": \#(json)}"#).url == url)
    }

    static let latin1Body: [UInt8] = Array(#"{"id": "1", "title": "caf"#.utf8) + [0xe9] + Array(#""}"#.utf8)

    static let notObjects: [([UInt8], String)] = [
        ([UInt8](), "the body is empty"),
        (Array("not json".utf8), "it does not parse"),
        (Array(#"{"id": "1", "title": "t""#.utf8), "it does not parse"),
        (Array(#"[{"id": "1", "title": "t"}]"#.utf8), "the top level must be an object"),
        (Array(#""just a string""#.utf8), "the top level must be an object"),
        (Array("null".utf8), "the top level must be an object"),
        (latin1Body, "it is not valid UTF-8"),
        ([0xff, 0xfe, 0x7b, 0x7d], "it is not valid UTF-8"),
    ]

    @Test("a body that is not a JSON object is invalidJSON saying why", arguments: notObjects)
    func notAnObject(_ body: [UInt8], _ reason: String) {
        #expect(throws: BridgeError.invalidJSON(reason)) {
            try GenericTicketDecoder.decode(body)
        }
    }

    @Test("decoding errors map to 400 with a message naming the field")
    func errorsAre400() {
        #expect(BridgeError.missingField("title").status == .badRequest)
        #expect(BridgeError.missingField("title").message == #"The ticket has no "title" field."#)
        #expect(BridgeError.invalidField("labels", "must be a list of strings").message
                == #"The ticket's "labels" field must be a list of strings."#)
        #expect(BridgeError.invalidJSON("the body is empty").message == "The body is not valid JSON: the body is empty.")
    }
}

@Suite("JSON values")
struct JSONValueTests {
    @Test("numbers, booleans and nulls keep their kinds")
    func kinds() throws {
        let object = try JSONValue.parseObject(Array(#"{"i": 3, "d": 2.5, "b": true, "n": null, "s": "x", "a": [1], "o": {"k": "v"}}"#.utf8))
        #expect(object["i"] == .integer(3))
        #expect(object["d"] == .number(2.5))
        #expect(object["b"] == .bool(true))
        #expect(object["n"]?.isNull == true)
        #expect(object["s"]?.stringValue == "x")
        #expect(object["a"] == .array([.integer(1)]))
        #expect(object["o"]?["k"] == .string("v"))
        #expect(object["s"]?["k"] == nil)
        #expect(object["i"]?.stringValue == nil)
    }
}
