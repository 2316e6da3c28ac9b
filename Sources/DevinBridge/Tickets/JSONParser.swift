/// An RFC 8259 parser that reads bytes straight into a ``JSONValue``, in one pass.
///
/// It reads a document exactly as Foundation's `JSONDecoder` read it into `JSONValue` before it
/// (the same values for the same text): a number that is a whole number within `Int64` is an
/// `.integer` (`1`, `1.0`, `1e2`), any other number a `.number`; when a key repeats, its first
/// value counts; a string may not hold a raw control character or a lone surrogate; a UTF-8 byte
/// order mark before the document and a comma before a closing bracket are let pass. What it saves
/// is the cost on every request: no `Decodable` machinery, no generic metadata instantiated at
/// run time, no dynamic casts, and no text decoded more than once.
struct JSONParser {
    enum Failure: Error, Equatable {
        case syntax(offset: Int)
        case tooDeep
    }

    /// Far below what would exhaust a stack; webhook bodies are read with a tighter limit
    /// (``JSONValue/maxDepth``).
    static let depthLimit = 512

    /// `maxDepth`: the deepest nesting of arrays and objects let pass (the top level is 1).
    static func parse(_ bytes: [UInt8], maxDepth: Int = depthLimit) throws(Failure) -> JSONValue {
        try bytes.withUnsafeBufferPointer { buffer throws(Failure) -> JSONValue in
            var parser = JSONParser(bytes: buffer, maxDepth: min(maxDepth, depthLimit))
            if buffer.count >= 3, buffer[0] == 0xEF, buffer[1] == 0xBB, buffer[2] == 0xBF { parser.index = 3 }
            parser.skipWhitespace()
            let value = try parser.value(depth: 0)
            parser.skipWhitespace()
            guard parser.index == buffer.count else { throw .syntax(offset: parser.index) }
            return value
        }
    }

    private let bytes: UnsafeBufferPointer<UInt8>
    private let maxDepth: Int
    private var index = 0

    private init(bytes: UnsafeBufferPointer<UInt8>, maxDepth: Int) {
        self.bytes = bytes
        self.maxDepth = maxDepth
    }

    private var current: UInt8? { index < bytes.count ? bytes[index] : nil }

    private mutating func skipWhitespace() {
        while index < bytes.count {
            switch bytes[index] {
            case 0x20, 0x09, 0x0a, 0x0d: index += 1
            default: return
            }
        }
    }

    private mutating func expect(_ literal: StaticString) throws(Failure) {
        let count = literal.utf8CodeUnitCount
        guard index + count <= bytes.count else { throw .syntax(offset: index) }
        let start = literal.utf8Start
        for offset in 0..<count where bytes[index + offset] != start[offset] { throw .syntax(offset: index + offset) }
        index += count
    }

    private mutating func value(depth: Int) throws(Failure) -> JSONValue {
        guard let byte = current else { throw .syntax(offset: index) }
        switch byte {
        case UInt8(ascii: "{"): return .object(try object(depth: depth + 1))
        case UInt8(ascii: "["): return .array(try array(depth: depth + 1))
        case UInt8(ascii: "\""): return .string(try string())
        case UInt8(ascii: "t"): try expect("true"); return .bool(true)
        case UInt8(ascii: "f"): try expect("false"); return .bool(false)
        case UInt8(ascii: "n"): try expect("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try number()
        default: throw .syntax(offset: index)
        }
    }

    private mutating func object(depth: Int) throws(Failure) -> [String: JSONValue] {
        guard depth <= maxDepth else { throw .tooDeep }
        index += 1 // {
        var object: [String: JSONValue] = [:]
        skipWhitespace()
        if current == UInt8(ascii: "}") { index += 1; return object }
        while true {
            guard current == UInt8(ascii: "\"") else { throw .syntax(offset: index) }
            let key = try string()
            skipWhitespace()
            guard current == UInt8(ascii: ":") else { throw .syntax(offset: index) }
            index += 1
            skipWhitespace()
            let item = try value(depth: depth)
            if object[key] == nil { object[key] = item }
            skipWhitespace()
            switch current {
            case UInt8(ascii: ",")?:
                index += 1
                skipWhitespace()
                if current == UInt8(ascii: "}") { index += 1; return object }
            case UInt8(ascii: "}")?: index += 1; return object
            default: throw .syntax(offset: index)
            }
        }
    }

    private mutating func array(depth: Int) throws(Failure) -> [JSONValue] {
        guard depth <= maxDepth else { throw .tooDeep }
        index += 1 // [
        var items: [JSONValue] = []
        skipWhitespace()
        if current == UInt8(ascii: "]") { index += 1; return items }
        while true {
            items.append(try value(depth: depth))
            skipWhitespace()
            switch current {
            case UInt8(ascii: ",")?:
                index += 1
                skipWhitespace()
                if current == UInt8(ascii: "]") { index += 1; return items }
            case UInt8(ascii: "]")?: index += 1; return items
            default: throw .syntax(offset: index)
            }
        }
    }

    private mutating func string() throws(Failure) -> String {
        index += 1 // opening quote
        let start = index
        // The common case: no escapes, so the bytes between the quotes are the string.
        while true {
            skipPlainText()
            guard index < bytes.count else { throw .syntax(offset: index) }
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") {
                let text = try utf8(start..<index)
                index += 1
                return text
            }
            if byte == UInt8(ascii: "\\") { break }
            if byte < 0x20 { throw .syntax(offset: index) }
            index += 1
        }
        // Escapes: the text is rebuilt in a buffer that holds at least the rest of the body (the
        // string cannot be longer), plain runs copied whole.
        let out = UnsafeMutablePointer<UInt8>.allocate(capacity: bytes.count - start)
        defer { out.deallocate() }
        var length = index - start
        out.update(from: bytes.baseAddress! + start, count: length)
        func append(_ byte: UInt8) {
            out[length] = byte
            length += 1
        }
        while index < bytes.count {
            let byte = bytes[index]
            switch byte {
            case UInt8(ascii: "\""):
                index += 1
                guard let text = String(validating: UnsafeBufferPointer(start: out, count: length), as: UTF8.self) else {
                    throw .syntax(offset: start)
                }
                return text
            case UInt8(ascii: "\\"):
                index += 1
                guard let escape = current else { throw .syntax(offset: index) }
                index += 1
                switch escape {
                case UInt8(ascii: "\""): append(0x22)
                case UInt8(ascii: "\\"): append(0x5c)
                case UInt8(ascii: "/"): append(0x2f)
                case UInt8(ascii: "b"): append(0x08)
                case UInt8(ascii: "f"): append(0x0c)
                case UInt8(ascii: "n"): append(0x0a)
                case UInt8(ascii: "r"): append(0x0d)
                case UInt8(ascii: "t"): append(0x09)
                // At most 4 bytes of UTF-8 from 6 (or 12) bytes of escape: it always fits.
                case UInt8(ascii: "u"): for byte in try unicodeEscape() { append(byte) }
                default: throw .syntax(offset: index - 1)
                }
            default:
                if byte < 0x20 { throw .syntax(offset: index) }
                // The plain text up to the next quote, backslash or control character, at once.
                let run = index
                index += 1
                skipPlainText()
                while index < bytes.count, bytes[index] >= 0x20, bytes[index] != 0x22, bytes[index] != 0x5c { index += 1 }
                (out + length).update(from: bytes.baseAddress! + run, count: index - run)
                length += index - run
            }
        }
        throw .syntax(offset: index)
    }

    /// Moves `index` past plain string text, eight bytes at a time, stopping at or before the
    /// first quote, backslash or control character (or the end): a long description is mostly
    /// plain text, and this is the loop a 1 MiB body spends its time in. The word tests are exact
    /// ("some byte is zero" and "some byte is below 0x20" have no false positives as a whole);
    /// the caller looks at the bytes of the word that stopped it one by one.
    private mutating func skipPlainText() {
        guard let base = bytes.baseAddress else { return }
        let ones: UInt64 = 0x0101_0101_0101_0101
        let highs: UInt64 = 0x8080_8080_8080_8080
        var at = index
        while at + 8 <= bytes.count {
            let word = UnsafeRawPointer(base + at).loadUnaligned(as: UInt64.self)
            let quote = word ^ (ones &* 0x22)
            let backslash = word ^ (ones &* 0x5c)
            let found = ((quote &- ones) & ~quote) | ((backslash &- ones) & ~backslash) | ((word &- ones &* 0x20) & ~word)
            if found & highs != 0 { break }
            at += 8
        }
        index = at
    }

    /// The scalar of `\uXXXX` (and of its low surrogate's `\uXXXX` when it is a high one), as UTF-8.
    private mutating func unicodeEscape() throws(Failure) -> [UInt8] {
        let first = try hex4()
        var scalarValue = UInt32(first)
        if (0xD800...0xDBFF).contains(first) {
            guard index + 1 < bytes.count, bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u") else {
                throw .syntax(offset: index)
            }
            index += 2
            let second = try hex4()
            guard (0xDC00...0xDFFF).contains(second) else { throw .syntax(offset: index - 4) }
            scalarValue = 0x10000 + (UInt32(first - 0xD800) << 10) + UInt32(second - 0xDC00)
        } else if (0xDC00...0xDFFF).contains(first) {
            throw .syntax(offset: index - 4)
        }
        guard let scalar = Unicode.Scalar(scalarValue) else { throw .syntax(offset: index - 4) }
        return Array(String(Character(scalar)).utf8)
    }

    private mutating func hex4() throws(Failure) -> UInt16 {
        guard index + 4 <= bytes.count else { throw .syntax(offset: index) }
        var value: UInt16 = 0
        for offset in 0..<4 {
            guard let digit = Hex.value(bytes[index + offset]) else { throw .syntax(offset: index + offset) }
            value = value << 4 | UInt16(digit)
        }
        index += 4
        return value
    }

    private func utf8(_ range: Range<Int>) throws(Failure) -> String {
        guard let text = String(validating: UnsafeBufferPointer(rebasing: bytes[range]), as: UTF8.self) else {
            throw .syntax(offset: range.lowerBound)
        }
        return text
    }

    /// `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`
    private mutating func number() throws(Failure) -> JSONValue {
        let start = index
        if current == UInt8(ascii: "-") { index += 1 }
        guard let first = current, isDigit(first) else { throw .syntax(offset: index) }
        index += 1
        if first != UInt8(ascii: "0") { while let byte = current, isDigit(byte) { index += 1 } }
        var whole = true
        if current == UInt8(ascii: ".") {
            whole = false
            index += 1
            guard let byte = current, isDigit(byte) else { throw .syntax(offset: index) }
            while let byte = current, isDigit(byte) { index += 1 }
        }
        if current == UInt8(ascii: "e") || current == UInt8(ascii: "E") {
            whole = false
            index += 1
            if current == UInt8(ascii: "+") || current == UInt8(ascii: "-") { index += 1 }
            guard let byte = current, isDigit(byte) else { throw .syntax(offset: index) }
            while let byte = current, isDigit(byte) { index += 1 }
        }
        let text = try utf8(start..<index)
        if whole, let integer = Int64(text) { return .integer(integer) }
        guard let number = Double(text), number.isFinite else { throw .syntax(offset: start) }
        // A whole number written with a fraction or an exponent (`1.0`, `1e2`) reads as an integer.
        if number == number.rounded(), number >= -9.223372036854775808e18, number < 9.223372036854775808e18 {
            return .integer(Int64(number))
        }
        return .number(number)
    }

    private func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }
}
