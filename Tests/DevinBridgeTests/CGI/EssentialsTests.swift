import Foundation
import Testing
@testable import DevinBridge

/// The bridge imports only FoundationEssentials; the few operations it wrote itself in place of
/// Foundation's must give Foundation's answers. The tests import Foundation to compare.
@Suite("FoundationEssentials stand-ins match Foundation")
struct EssentialsTests {
    static let samples = [
        "", "plain", "with space", "a/b?c#d", "a&b=c+d", "100%", "é€😀", "PROJ-123", "owner/repo#42",
        "!$&'()*+,-./:;=?@_~", "[::1]", "tab\there", "line\nbreak", "\u{0}nul", "ü/ü", "%41%zz",
    ]

    @Test("Path segments and query values are percent-encoded as Foundation encodes them", arguments: ["path", "query"])
    func percentEncoding(_ part: String) {
        var allowed = part == "path" ? CharacterSet.urlPathAllowed : CharacterSet.urlQueryAllowed
        allowed.remove(charactersIn: part == "path" ? "/?#" : "&+=#?/")
        for sample in Self.samples {
            let encoded = part == "path" ? sample.addingPercentEncodingForPath() : sample.addingPercentEncodingForQuery()
            #expect(encoded == sample.addingPercentEncoding(withAllowedCharacters: allowed), "\(part): \(sample)")
        }
    }

    @Test("Percent-decoding gives Foundation's answer, nil included")
    func percentDecoding() {
        let encoded = ["", "abc", "%41%42", "a%2Fb", "%e2%82%ac", "%E2%82%AC", "%", "%4", "%zz", "%ff", "%C3", "a+b", "100%25"]
        for text in encoded + Self.samples {
            #expect(text.percentDecoded == text.removingPercentEncoding, "\(text)")
        }
    }

    @Test("Trimming white space gives Foundation's answer")
    func trimming() {
        let texts = ["", "  ", " a ", "\n\ta b\r\n", "\u{00A0}x\u{3000}", "\u{2028}y\u{2029}", "\u{85}z", "\u{200B}w", "é "]
        for text in texts {
            #expect(text.trimmedWhitespace == text.trimmingCharacters(in: .whitespacesAndNewlines), "\(text.debugDescription)")
        }
        #expect("[::1]".trimmingScalars { $0 == "[" || $0 == "]" } == "::1")
    }

    @Test("The directory of a path is NSString's")
    func parentDirectory() {
        for path in ["/usr/lib/devin-bridge/devin-bridge", "/a/b/", "/a", "a/b", "/", "a"] where path.contains("/") {
            #expect(path.parentDirectory == (path as NSString).deletingLastPathComponent, "\(path)")
        }
    }

    @Test("ISO 8601 dates are written and read as ISO8601DateFormatter writes and reads them")
    func isoDates() {
        let formatter = ISO8601DateFormatter()
        let fractional = ISO8601DateFormatter()
        fractional.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        for seconds in [0.0, 1_733_337_477, 1_733_337_477.5, 1_733_337_477.123, 4_102_444_800] {
            let date = Date(timeIntervalSince1970: seconds)
            #expect(DateText.iso8601(date) == formatter.string(from: date))
            let written = DateText.iso8601Milliseconds(date)
            #expect(abs((DateText.parseISO8601(written) ?? .distantPast).timeIntervalSince(date)) < 0.002)
            let foundationRead = fractional.date(from: fractional.string(from: date)) ?? .distantFuture
            #expect(abs((DateText.parseISO8601(fractional.string(from: date)) ?? .distantPast).timeIntervalSince(foundationRead)) < 0.0005)
            #expect(DateText.parseISO8601(formatter.string(from: date)) == formatter.date(from: formatter.string(from: date)))
        }
        #expect(DateText.parseISO8601("not a date") == nil)
    }

    @Test("Written and read by hand, over many dates from 1970 to 2200, as ISO8601DateFormatter does")
    func isoDatesGenerated() {
        let formatter = ISO8601DateFormatter()
        var generator = PropertyTests.Generator(state: 0xDA7E)
        for _ in 0..<2000 {
            let seconds = Double.random(in: 0...7_258_118_400, using: &generator).rounded(.down)
            let date = Date(timeIntervalSince1970: seconds)
            let written = DateText.iso8601(date)
            #expect(written == formatter.string(from: date))
            #expect(DateText.parseISO8601(written) == date, "\(written)")
            #expect(DateText.parseISO8601(DateText.iso8601Milliseconds(date)) == date)
        }
        let withOffset = ISO8601DateFormatter()
        for text in ["2026-12-04T19:47:57+01:00", "2026-12-04T13:17:57-05:30", "2024-02-29T00:00:00Z", "2026-12-04T18:47:57.5Z"] {
            #expect(DateText.parseISO8601(text) == withOffset.date(from: text) || text.contains("."), "\(text)")
        }
        for text in ["2026-02-30T00:00:00Z", "2026-13-01T00:00:00Z", "2026-12-04T24:00:00Z", "2026-12-04 18:47:57Z",
                     "2026-12-04T18:47:57", "2026-12-04T18:47:57.Z", "2026-12-04T18:47:57Zjunk", ""] {
            #expect(DateText.parseISO8601(text) == nil, "\(text)")
        }
    }

    @Test("HTTP dates in Retry-After are read as DateFormatter reads them")
    func httpDates() {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        for text in ["Sun, 06 Nov 1994 08:49:37 GMT", "Fri, 04 Dec 2026 18:00:00 GMT", "Thu, 01 Jan 1970 00:00:00 GMT",
                     "Tue, 29 Feb 2028 23:59:59 GMT"] {
            #expect(DateText.parseHTTPDate(text) != nil, "\(text)")
            #expect(DateText.parseHTTPDate(text) == formatter.date(from: text), "\(text)")
        }
        for text in ["", "soon", "06 Nov 1994 08:49:37 GMT", "Sun, 06 Foo 1994 08:49:37 GMT", "Sun, 06 Nov 1994 25:49:37 GMT",
                     "Sun, 06 Nov 1994 08:49 GMT", "Sun, 32 Nov 1994 08:49:37 GMT"] {
            #expect(DateText.parseHTTPDate(text) == nil, "\(text)")
        }
    }

    @Test("Answers written by hand are the JSON Foundation's encoder writes")
    func handWrittenAnswers() throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let texts = ["plain", "quote \" backslash \\ slash /", "line\nreturn\rtab\t", "\u{1}\u{1f}\u{7f}", "é€😀\u{2028}"]
        for text in texts {
            let response = CGIResponse.error(.invalidJSON(text))
            let expected = try encoder.encode(["error": BridgeError.invalidJSON(text).code, "message": BridgeError.invalidJSON(text).message])
            #expect(response.body == Array(expected) + [UInt8(ascii: "\n")], "\(text.debugDescription)")
            let skipped = CGIResponse.skipped(ticket: nil, reason: text)
            #expect(skipped.body == Array(try encoder.encode(["status": "skipped", "reason": text])) + [UInt8(ascii: "\n")])
        }
    }

    @Test("The environment read from environ is ProcessInfo's")
    func environment() {
        #expect(ProcessEnvironment.current() == ProcessInfo.processInfo.environment)
    }
}
