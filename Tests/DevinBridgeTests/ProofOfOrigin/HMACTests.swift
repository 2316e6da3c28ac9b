import Testing
@testable import DevinBridge

@Suite("HMAC-SHA256")
struct HMACTests {
    struct Vector: Sendable, CustomTestStringConvertible {
        let name: String
        let key: [UInt8]
        let message: [UInt8]
        let mac: String
        var testDescription: String { name }
    }

    static let vectors: [Vector] = [
        Vector(name: "GitHub's documented webhook vector",
               key: Array("It's a Secret to Everybody".utf8), message: Array("Hello, World!".utf8),
               mac: "757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"),
        Vector(name: "RFC 4231 test case 1 (20-byte key of 0x0b)",
               key: [UInt8](repeating: 0x0b, count: 20), message: Array("Hi There".utf8),
               mac: "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"),
        Vector(name: "RFC 4231 test case 2 (key \"Jefe\")",
               key: Array("Jefe".utf8), message: Array("what do ya want for nothing?".utf8),
               mac: "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"),
        Vector(name: "RFC 4231 test case 6 (key longer than the block size)",
               key: [UInt8](repeating: 0xaa, count: 131),
               message: Array("Test Using Larger Than Block-Size Key - Hash Key First".utf8),
               mac: "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"),
        Vector(name: "empty message under GitHub's secret",
               key: Array("It's a Secret to Everybody".utf8), message: [],
               mac: "66a0c074deaa0f489ead6537e0d32f9a344b90bbeda705b6ed45ecd3b413fb40"),
        Vector(name: "empty message under an empty key",
               key: [], message: [],
               mac: "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad"),
    ]

    @Test("a published vector gives its published MAC", arguments: vectors)
    func publishedVector(_ vector: Vector) {
        let mac = HMACSHA256.authenticate(vector.message, key: vector.key)
        #expect(mac.count == HMACSHA256.byteCount)
        #expect(Hex.encode(mac) == vector.mac)
    }

    @Test("a message without contiguous storage gives the same MAC as an array")
    func nonContiguousMessage() {
        let message = "Hello, World!"
        let fromArray = HMACSHA256.authenticate(Array(message.utf8), key: Array("It's a Secret to Everybody".utf8))
        let lazy = message.utf8.lazy.map { $0 }
        let fromLazy = HMACSHA256.authenticate(lazy, key: "It's a Secret to Everybody".utf8)
        let fromSlice = HMACSHA256.authenticate(Array("xxHello, World!yy".utf8)[2..<15],
                                                key: Array("It's a Secret to Everybody".utf8))
        #expect(Hex.encode(fromLazy) == "757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17")
        #expect(fromLazy == fromArray)
        #expect(fromSlice == fromArray)
    }

    @Test("a one-byte change in the key or the message changes the MAC")
    func sensitivity() {
        let base = HMACSHA256.authenticate(Array("Hello, World!".utf8), key: Array("It's a Secret to Everybody".utf8))
        let otherMessage = HMACSHA256.authenticate(Array("Hello, World?".utf8), key: Array("It's a Secret to Everybody".utf8))
        let otherKey = HMACSHA256.authenticate(Array("Hello, World!".utf8), key: Array("It's a Secret to Everybody!".utf8))
        #expect(base != otherMessage)
        #expect(base != otherKey)
    }

    @Test("constantTimeEquals accepts identical MACs")
    func equalMACs() {
        let mac = HMACSHA256.authenticate(Array("body".utf8), key: Array("key".utf8))
        #expect(HMACSHA256.constantTimeEquals(mac, mac))
        #expect(HMACSHA256.constantTimeEquals(Array(mac), Array(mac.map { $0 })))
        #expect(HMACSHA256.constantTimeEquals([], []))
    }

    @Test("constantTimeEquals rejects MACs that differ in one byte",
          arguments: [0, 15, 31])
    func differentMACs(position: Int) {
        let mac = HMACSHA256.authenticate(Array("body".utf8), key: Array("key".utf8))
        var other = mac
        other[position] ^= 0x01
        #expect(!HMACSHA256.constantTimeEquals(mac, other))
        #expect(!HMACSHA256.constantTimeEquals(other, mac))
    }

    @Test("constantTimeEquals rejects MACs of different lengths, even when one is a prefix of the other")
    func differentLengths() {
        let mac = HMACSHA256.authenticate(Array("body".utf8), key: Array("key".utf8))
        #expect(!HMACSHA256.constantTimeEquals(mac, Array(mac.prefix(31))))
        #expect(!HMACSHA256.constantTimeEquals(Array(mac.prefix(16)), mac))
        #expect(!HMACSHA256.constantTimeEquals(mac, mac + [0]))
        #expect(!HMACSHA256.constantTimeEquals([], mac))
    }
}

@Suite("Hex")
struct HexTests {
    @Test("encode writes two lower-case digits per byte")
    func encode() {
        #expect(Hex.encode([0x00, 0x01, 0x7f, 0x80, 0xab, 0xff]) == "00017f80abff")
        #expect(Hex.encode([]) == "")
    }

    @Test("decode reads either case", arguments: [
        ("00017f80abff", [0x00, 0x01, 0x7f, 0x80, 0xab, 0xff] as [UInt8]),
        ("00017F80ABFF", [0x00, 0x01, 0x7f, 0x80, 0xab, 0xff]),
        ("aBcD", [0xab, 0xcd]),
        ("", []),
    ])
    func decode(_ text: String, _ bytes: [UInt8]) {
        #expect(Hex.decode(text) == bytes)
    }

    @Test("decode refuses anything but an even number of hex digits", arguments: [
        "a", "abc", "0g", "zz", "12 4", " 1234", "0x12", "12-4", "éé", "１２",
    ])
    func decodeRejects(_ text: String) {
        #expect(Hex.decode(text) == nil)
    }

    @Test("decode undoes encode for every byte value")
    func roundTrip() {
        let every = (0...255).map(UInt8.init)
        #expect(Hex.decode(Hex.encode(every)) == every)
        #expect(Hex.decode(Hex.encode(every).uppercased()) == every)
    }

    @Test("decode works on a substring")
    func substring() {
        let text = "sha256=ab01"
        #expect(Hex.decode(text.dropFirst(7)) == [0xab, 0x01])
    }
}
