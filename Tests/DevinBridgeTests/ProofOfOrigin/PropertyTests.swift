import Foundation
import Testing
@testable import DevinBridge

/// Properties of the parsers over many generated inputs (a fixed seed, so a failure repeats).
@Suite("Parser properties")
struct PropertyTests {
    /// SplitMix64: small, deterministic, good enough to spread inputs.
    struct Generator: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    static func bytes(_ generator: inout Generator, maxCount: Int = 300) -> [UInt8] {
        (0..<Int.random(in: 0...maxCount, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) }
    }

    static func text(_ generator: inout Generator, from alphabet: String, maxCount: Int = 40) -> String {
        let characters = Array(alphabet)
        return String((0..<Int.random(in: 0...maxCount, using: &generator)).map { _ in characters.randomElement(using: &generator)! })
    }

    @Test("A body signed with the secret verifies; one flipped bit anywhere does not")
    func signatureRoundTrip() throws {
        var generator = Generator(state: 1)
        let secret = Secret("property-secret-0001")
        let verifier = SignatureVerifier(secrets: [secret])
        for _ in 0..<300 {
            var body = Self.bytes(&generator)
            let header = String(SignatureVerifier.headerLine(body: body, secret: secret).split(separator: " ")[1])
            try verifier.verify(body: body, headers: HTTPHeaders([("X-Hub-Signature-256", header)]))
            guard !body.isEmpty else { continue }
            let index = Int.random(in: 0..<body.count, using: &generator)
            body[index] ^= 1 << UInt8.random(in: 0...7, using: &generator)
            #expect(throws: BridgeError.self) {
                try verifier.verify(body: body, headers: HTTPHeaders([("X-Hub-Signature-256", header)]))
            }
        }
    }

    @Test("Signature header parsing never crashes and only accepts 64 hex digits")
    func signatureParsing() {
        var generator = Generator(state: 2)
        for _ in 0..<2000 {
            let value = Self.text(&generator, from: "sha256=SHA1=0123456789abcdefABCDEFxyz ,\t", maxCount: 80)
            if let parsed = try? SignatureVerifier.parse(value, header: "X") {
                #expect(parsed.allSatisfy { $0.count == 32 })
            }
        }
    }

    @Test("Hex decodes what it encodes, in either case")
    func hexRoundTrip() {
        var generator = Generator(state: 3)
        for _ in 0..<500 {
            let bytes = Self.bytes(&generator, maxCount: 64)
            let hex = Hex.encode(bytes)
            #expect(Hex.decode(hex) == bytes)
            #expect(Hex.decode(hex.uppercased()) == bytes)
        }
    }

    @Test("The body reader returns the body whatever the read sizes, and never more than the limit")
    func bodyReader() {
        var generator = Generator(state: 4)
        for _ in 0..<500 {
            let body = Self.bytes(&generator, maxCount: 2000)
            let limit = Int.random(in: 1...2500, using: &generator)
            let announce = Bool.random(using: &generator)
            var offset = 0
            let result = BodyReader.read(contentLength: announce ? String(body.count) : nil, limit: limit) { buffer in
                let count = min(buffer.count, body.count - offset, Int.random(in: 1...300, using: &generator))
                guard count > 0 else { return 0 }
                body[offset..<(offset + count)].withUnsafeBytes { buffer.copyMemory(from: $0) }
                offset += count
                return count
            }
            if body.count <= limit {
                #expect(result == .success(body))
            } else {
                #expect(result == .failure(.payloadTooLarge(limit: limit)))
            }
            #expect(offset == body.count, "the input is always drained")
        }
    }

    @Test("Config values written plainly parse back exactly (inner spaces and quotes kept)")
    func configRoundTrip() {
        var generator = Generator(state: 5)
        for _ in 0..<500 {
            let key = "K" + Self.text(&generator, from: "ABCXYZ_019", maxCount: 10)
            var value = Self.text(&generator, from: "abc XYZ'\"=#;\\ 09-_", maxCount: 30)
            value = value.trimmingCharacters(in: .whitespaces)
            // A value wholly enclosed in matching quotes loses them: that is the documented rule.
            if value.count >= 2, let first = value.first, "\"'".contains(first), value.last == first { continue }
            let parsed = ConfigFile.parse("# comment\n\(key)=\(value)\n")
            #expect(parsed.errors.isEmpty)
            #expect(parsed.values.first?.0 == key)
            #expect(parsed.values.first?.1 == value, "\(key)=\(value)")
        }
    }

    @Test("A log line is one line whatever its values hold")
    func logLineIsOneLine() {
        var generator = Generator(state: 6)
        for _ in 0..<500 {
            var line = LogLine()
            let raw = Self.bytes(&generator, maxCount: 60)
            line.set("ticket", String(decoding: raw, as: UTF8.self))
            line.set("reason", Self.text(&generator, from: "a \n\r\t\"\\=\u{85}\u{2028}", maxCount: 30))
            #expect(!line.description.contains("\n"))
            #expect(!line.description.contains("\r"))
        }
    }

    @Test("Random bytes never crash a decoder, and errors are 400s")
    func decodersTotal() {
        var generator = Generator(state: 7)
        let fragments = [#"{"id":"#, #""title":"#, #""labels":["#, "]", "}", "{", ",", "1", #""x""#, "null", #""issue":"#,
                         #""webhookEvent":"jira:issue_created""#, #""payload":"#, #""bug":"#, #""object_attributes":"#, ":"]
        for _ in 0..<2000 {
            let text = (0..<Int.random(in: 1...20, using: &generator)).map { _ in fragments.randomElement(using: &generator)! }.joined()
            guard let object = try? JSONValue.parseObject(Array(text.utf8)) else { continue }
            for source in TicketSource.allCases {
                do {
                    _ = try source.decode(object, headers: HTTPHeaders())
                } catch let error as BridgeError {
                    #expect(error.status.code == 400, "\(source): \(error)")
                } catch {
                    Issue.record("unexpected error \(error)")
                }
            }
        }
    }
}
