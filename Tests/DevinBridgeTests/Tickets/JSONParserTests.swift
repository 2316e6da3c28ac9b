import Foundation
import Testing
@testable import DevinBridge

/// The hand-written parser must read every document exactly as Foundation's `JSONDecoder` read it
/// into `JSONValue` before it (same value, or both refuse): checked on edge cases and on many
/// generated documents, valid and broken.
@Suite("JSON parser")
struct JSONParserTests {
    static func decoder(_ text: [UInt8]) -> JSONValue? {
        try? JSONDecoder().decode(JSONValue.self, from: Data(text))
    }

    static func parser(_ text: [UInt8]) -> JSONValue? {
        try? JSONParser.parse(text)
    }

    static let edgeCases: [String] = [
        #"{}"#, #"[]"#, #"  {"a" : 1 }  "#, "\n\t{\"a\":[1,2,{\"b\":null}]}\r\n",
        #"{"a":"1","a":"2"}"#, #"{"a":{"x":1},"a":2}"#,
        "1", "-0", "0", "1.0", "1e2", "1E+2", "-1.5e-3", "12345678901234567890", "-9223372036854775808",
        "9223372036854775807", "9223372036854775808", "1e400", "-1e400", "0.1", "3.0e0", "2.5",
        "01", "1.", ".5", "-", "+1", "1e", "1e+", "0x10", "NaN", "Infinity",
        #""plain""#, #""esc \" \\ \/ \b \f \n \r \t""#, #""\u00e9\u20ac\ud83d\ude00""#, #""\ud800""#,
        #""\udc00""#, #""\ud800\u0041""#, #""\u0000""#, "\"raw\u{01}control\"", #""\x""#, #""\u12""#,
        #""unterminated"#, "\"caf\u{e9}\"", "\"\u{1F600}\"", "\"\u{2028}\"",
        "true", "false", "null", "tru", "nul", "True", "[1,]", "{\"a\":1,}", "[1 2]", "{\"a\" 1}", "{a:1}",
        "{\"a\":1}}", "[[]]]", "", " ", "{\"a\":1} x", "[1]\u{0}", "\u{FEFF}{}",
        #"{"labels":[{"name":"devin-autofix"}],"id":42,"title":"t"}"#,
    ]

    @Test("Edge cases read as JSONDecoder reads them")
    func edgeCasesMatchDecoder() {
        for text in Self.edgeCases {
            let bytes = Array(text.utf8)
            #expect(Self.parser(bytes) == Self.decoder(bytes), "\(text.debugDescription)")
        }
    }

    @Test("Numbers: whole numbers are integers however written, others are doubles")
    func numbers() throws {
        #expect(try JSONParser.parse(Array("1.0".utf8)) == .integer(1))
        #expect(try JSONParser.parse(Array("1e2".utf8)) == .integer(100))
        #expect(try JSONParser.parse(Array("-7".utf8)) == .integer(-7))
        #expect(try JSONParser.parse(Array("2.5".utf8)) == .number(2.5))
        #expect(try JSONParser.parse(Array("12345678901234567890".utf8)) == .number(12345678901234567168))  // the nearest Double, as JSONSerialization gives
        #expect((try? JSONParser.parse(Array("1e400".utf8))) == nil)
    }

    @Test("A repeated key keeps its first value; a malformed value under it is still refused")
    func repeatedKeys() throws {
        #expect(try JSONParser.parse(Array(#"{"id":"A-1","id":"B-2"}"#.utf8)) == .object(["id": .string("A-1")]))
        // JSONDecoder skips the dropped value unread and accepts this; every byte is checked here.
        #expect((try? JSONParser.parse(Array(#"{"id":"A-1","id":"\q"}"#.utf8))) == nil)
    }

    @Test("Nesting deeper than the parser's limit is refused without exhausting the stack")
    func deepNesting() {
        let deep = Array((String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)).utf8)
        #expect((try? JSONParser.parse(deep)) == nil)
        let fine = Array((String(repeating: "[", count: 100) + String(repeating: "]", count: 100)).utf8)
        #expect((try? JSONParser.parse(fine)) != nil)
    }

    /// A random JSON document: nested objects and arrays of the values tickets carry.
    static func document(_ generator: inout PropertyTests.Generator, depth: Int = 0) -> String {
        let pick = Int.random(in: 0...(depth > 4 ? 5 : 7), using: &generator)
        switch pick {
        case 0: return "null"
        case 1: return Bool.random(using: &generator) ? "true" : "false"
        case 2: return String(Int64.random(in: -1_000_000...1_000_000, using: &generator))
        case 3: return String(Double.random(in: -1e6...1e6, using: &generator))
        case 4, 5:
            let alphabet = "abc XYZ 0129 \\\"\\n\\t\\/\\u00e9\\u2028\\ud83d\\ude00 é€😀-_:/{}[],"
            var text = PropertyTests.text(&generator, from: alphabet, maxCount: 20)
            if text.hasSuffix("\\") { text += "\\" }
            return "\"" + text.replacingOccurrences(of: "\\u", with: "\\u") + "\""
        case 6:
            let items = (0..<Int.random(in: 0...4, using: &generator)).map { _ in document(&generator, depth: depth + 1) }
            return "[" + items.joined(separator: ",") + "]"
        default:
            // Keys do not repeat here: where one does, JSONDecoder never reads the value it drops,
            // so it lets a malformed one pass that this parser refuses ("A repeated key" above).
            let keys = ["id", "title", "labels", "a", "b", "é"].shuffled(using: &generator)
            let items = keys.prefix(Int.random(in: 0...4, using: &generator)).map { key in
                "\"\(key)\":" + document(&generator, depth: depth + 1)
            }
            return "{" + items.joined(separator: ",") + "}"
        }
    }

    @Test("Generated documents, whole and damaged, read as JSONDecoder reads them")
    func generatedDocumentsMatchDecoder() {
        var generator = PropertyTests.Generator(state: 0x5EED_1_0000)
        var compared = 0, valid = 0
        for _ in 0..<3000 {
            var bytes = Array(Self.document(&generator).utf8)
            if Bool.random(using: &generator), !bytes.isEmpty {
                // Damage it: flip, drop or insert one byte.
                let at = Int.random(in: 0..<bytes.count, using: &generator)
                switch Int.random(in: 0...2, using: &generator) {
                case 0: bytes[at] = UInt8.random(in: 0...127, using: &generator)
                case 1: bytes.remove(at: at)
                default: bytes.insert(Array("{}[],:\"\\ 0e.-".utf8).randomElement(using: &generator)!, at: at)
                }
            }
            let expected = Self.decoder(bytes)
            #expect(Self.parser(bytes) == expected, "\(String(decoding: bytes, as: UTF8.self).debugDescription)")
            compared += 1
            if expected != nil { valid += 1 }
        }
        #expect(compared == 3000)
        #expect(valid > 1000, "the generator must produce enough valid documents to compare values")
    }

    @Test("Strings read eight bytes at a time: every special byte at every offset of a word")
    func specialBytesAtEveryOffset() {
        // A quote, a backslash escape, each kind of control character, UTF-8 of two, three and
        // four bytes, and the bytes next to the tested ranges (0x1f/0x20, 0x21/0x23, 0x5b/0x5d).
        let specials: [[UInt8]] = [
            Array(#"\""#.utf8), Array(#"\\"#.utf8), Array(#"\n"#.utf8), Array(#"\u00e9"#.utf8), [0x00], [0x01], [0x0a], [0x1f],
            [0x20], [0x21], [0x23], [0x5b], [0x5d], [0x7f], Array("\u{e9}".utf8), Array("\u{20ac}".utf8), Array("\u{1F600}".utf8),
            [0x80], [0xff], [0xa2], [0xdc],
        ]
        var compared = 0
        for length in 0..<20 {
            for at in 0...length {
                for special in specials {
                    for tail in [Array("".utf8), Array(#"\t and after"#.utf8)] {
                        var text = Array(repeating: UInt8(ascii: "a"), count: length)
                        text.insert(contentsOf: special, at: at)
                        text += tail
                        for document in [[0x22] + text + [0x22], Array(#"{"k":""#.utf8) + text + Array(#""}"#.utf8), [0x22] + text] {
                            #expect(Self.parser(document) == Self.decoder(document),
                                    "\(String(decoding: document, as: UTF8.self).debugDescription)")
                            compared += 1
                        }
                    }
                }
            }
        }
        #expect(compared == 210 * 21 * 2 * 3)
    }

    @Test("Every webhook captured from a real system reads as JSONDecoder reads it")
    func capturedWebhooksMatchDecoder() throws {
        let names = try FileManager.default.contentsOfDirectory(atPath: WebhookFixture.directory.path)
            .filter { $0.hasSuffix(".json") }
        #expect(names.count >= 40, "the captured fixtures are where the tests expect them")
        for name in names {
            let bytes = try WebhookFixture.bytes(String(name.dropLast(5)))
            let expected = try #require(Self.decoder(bytes), "\(name)")
            #expect(Self.parser(bytes) == expected, "\(name)")
            #expect(try JSONValue.parseObject(bytes) == expected.objectValue, "\(name)")
        }
    }

    /// What parseObject did before it read the body in one pass: UTF-8 of the whole body, then
    /// the nesting, then the parse.
    static func threePasses(_ body: [UInt8]) -> String {
        if body.isEmpty { return "the body is empty" }
        if String(validating: body, as: UTF8.self) == nil { return "it is not valid UTF-8" }
        if JSONValue.nestingDepth(body) > JSONValue.maxDepth { return "it nests deeper than \(JSONValue.maxDepth) levels" }
        guard let value = try? JSONParser.parse(body) else { return "it does not parse" }
        guard case .object = value else { return "the top level must be an object" }
        return "ok"
    }

    static func onePass(_ body: [UInt8]) -> String {
        do {
            _ = try JSONValue.parseObject(body)
            return "ok"
        } catch BridgeError.invalidJSON(let reason) {
            return reason
        } catch {
            return "\(error)"
        }
    }

    @Test("A webhook body is read in one pass, with the same verdict and reason as three passes")
    func onePassVerdicts() {
        let nested = { (depth: Int) -> [UInt8] in Array(("{\"a\":" + String(repeating: "[", count: depth - 1) + String(repeating: "]", count: depth - 1) + "}").utf8) }
        var bodies: [[UInt8]] = [
            [], Array("{}".utf8), Array("[]".utf8), Array("{\"a\":1".utf8),
            nested(64), nested(65), nested(600),
            // Invalid UTF-8 inside a string, outside one, and with deep nesting as well.
            Array("{\"a\":\"".utf8) + [0xC3, 0x28] + Array("\"}".utf8),
            Array("{\"a\":1}".utf8) + [0xFF],
            [0xFF] + nested(70),
            // Deep nesting after a syntax error, and brackets inside strings that do not count.
            Array("{\"a\":tru, \"b\":".utf8) + Array(repeating: UInt8(ascii: "["), count: 80),
            Array(("{\"a\":\"" + String(repeating: "[", count: 100) + "\"}").utf8),
        ]
        for text in Self.edgeCases { bodies.append(Array(text.utf8)) }
        for body in bodies {
            #expect(Self.onePass(body) == Self.threePasses(body), "\(String(decoding: body.prefix(60), as: UTF8.self))")
        }
        #expect(Self.onePass(nested(64)) == "ok")
        #expect(Self.onePass(nested(65)) == "it nests deeper than 64 levels")
    }
}
