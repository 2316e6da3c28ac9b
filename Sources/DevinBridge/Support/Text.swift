#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

// The few text operations the bridge needs that live in Foundation proper rather than in
// FoundationEssentials. The bridge imports only FoundationEssentials, so its binary links neither
// CoreFoundation nor ICU (34 MB of data), and a CGI start does not pay for loading them.

extension String {
    /// Without leading and trailing white space and line breaks: Unicode White_Space and the zero
    /// width space, the set Foundation's `whitespacesAndNewlines` trims.
    var trimmedWhitespace: String { trimmingScalars { $0.properties.isWhitespace || $0.value == 0x200B } }

    /// Without the leading and trailing scalars `drop` accepts.
    func trimmingScalars(_ drop: (Unicode.Scalar) -> Bool) -> String {
        let scalars = unicodeScalars
        guard let first = scalars.firstIndex(where: { !drop($0) }) else { return "" }
        let last = scalars.lastIndex(where: { !drop($0) })!
        return String(Substring(scalars[first...last]))
    }
}

/// Percent-encoding of URL parts, byte by byte over UTF-8 (what Foundation's
/// `addingPercentEncoding` and `removingPercentEncoding` do, for the sets the bridge uses).
enum PercentEncoding {
    /// Unreserved and sub-delimiters that may stand in one path segment: no `/`, `?` or `#`.
    static let pathSegment = allowing("!$&'()*+,-.:=@_~")
    /// What may stand in one query value: no `&`, `+`, `=`, `#`, `?` or `/`.
    static let queryValue = allowing("!$'()*,-.:;@_~")

    /// ASCII letters and digits plus `extra`, as a table indexed by byte.
    private static func allowing(_ extra: String) -> [Bool] {
        var table = [Bool](repeating: false, count: 256)
        for byte in UInt8(ascii: "a")...UInt8(ascii: "z") { table[Int(byte)] = true }
        for byte in UInt8(ascii: "A")...UInt8(ascii: "Z") { table[Int(byte)] = true }
        for byte in UInt8(ascii: "0")...UInt8(ascii: "9") { table[Int(byte)] = true }
        for byte in extra.utf8 { table[Int(byte)] = true }
        return table
    }

    static func encode(_ text: String, allowed: [Bool]) -> String {
        let hex = Array("0123456789ABCDEF".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(text.utf8.count)
        for byte in text.utf8 {
            if allowed[Int(byte)] {
                out.append(byte)
            } else {
                out += [UInt8(ascii: "%"), hex[Int(byte >> 4)], hex[Int(byte & 0x0f)]]
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// The text with every `%XX` decoded; nil when a `%` is not followed by two hex digits or the
    /// bytes are not UTF-8.
    static func decode<S: StringProtocol>(_ text: S) -> String? {
        let bytes = Array(text.utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "%") {
                guard index + 2 < bytes.count, let high = Hex.value(bytes[index + 1]), let low = Hex.value(bytes[index + 2]) else {
                    return nil
                }
                out.append(high << 4 | low)
                index += 3
            } else {
                out.append(byte)
                index += 1
            }
        }
        return String(validating: out, as: UTF8.self)
    }
}

extension String {
    /// One path segment, percent-encoded (`/`, `?` and `#` included).
    func addingPercentEncodingForPath() -> String { PercentEncoding.encode(self, allowed: PercentEncoding.pathSegment) }

    /// One query value, percent-encoded (`&`, `+`, `=`, `#`, `?` and `/` included).
    func addingPercentEncodingForQuery() -> String { PercentEncoding.encode(self, allowed: PercentEncoding.queryValue) }

    /// `%XX` decoded; nil when the encoding is broken or the bytes are not UTF-8.
    var percentDecoded: String? { PercentEncoding.decode(self) }

    /// The directory of the last path component, as NSString's `deletingLastPathComponent` gives
    /// it (`/a/b/c` -> `/a/b`, `/c` -> `/`, `c` -> empty).
    var parentDirectory: String {
        var path = Substring(self)
        while path.count > 1 && path.hasSuffix("/") { path = path.dropLast() }
        guard let slash = path.lastIndex(of: "/") else { return "" }
        if slash == path.startIndex { return "/" }
        return String(path[..<slash])
    }
}
