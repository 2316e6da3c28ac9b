/// A configured secret. Its description never shows the value, so interpolating one into a log
/// line or a message by mistake prints a mask instead.
public struct Secret: Equatable, Sendable, CustomStringConvertible, CustomDebugStringConvertible {
    public let value: String

    public init(_ value: String) { self.value = value }

    public var description: String { "********" }
    public var debugDescription: String { "Secret(********)" }

    /// What `check` and dry runs show: that it is set, and its length.
    public var masked: String { "******** (\(value.count) characters)" }
}

/// Masks what a URL may carry besides its address: `user:password@` and the values of its query
/// (`?token=...`), for every output a person or a log reads.
public enum URLMask {
    public static func masked(_ text: String) -> String {
        var out = text
        // user:password@ between the scheme and the host.
        if let scheme = out.firstRange(of: "://") {
            let rest = out[scheme.upperBound...]
            let hostEnd = rest.firstIndex(where: { $0 == "/" || $0 == "?" || $0 == "#" }) ?? rest.endIndex
            if let at = rest[..<hostEnd].lastIndex(of: "@") {
                out.replaceSubrange(scheme.upperBound...at, with: "********@")
            }
        }
        // Query values.
        guard let question = out.firstIndex(of: "?") else { return out }
        let fragmentStart = out[question...].firstIndex(of: "#") ?? out.endIndex
        let query = out[out.index(after: question)..<fragmentStart]
        let maskedQuery = query.split(separator: "&", omittingEmptySubsequences: false).map { pair -> String in
            guard let equals = pair.firstIndex(of: "=") else { return String(pair) }
            let value = pair[pair.index(after: equals)...]
            return value.isEmpty || value == "{id}" ? String(pair) : pair[...equals] + "********"
        }.joined(separator: "&")
        out.replaceSubrange(out.index(after: question)..<fragmentStart, with: maskedQuery)
        return out
    }
}
