/// Request headers by lower-cased name, each with the values it arrived with.
public struct HTTPHeaders: Equatable, Sendable {
    private var storage: [String: [String]] = [:]

    public init() {}

    public init(_ pairs: [(String, String)]) {
        for (name, value) in pairs { add(name, value) }
    }

    public mutating func add(_ name: String, _ value: String) {
        storage[name.lowercased(), default: []].append(value)
    }

    /// All values of a header, or nil when it is absent.
    public func values(_ name: String) -> [String]? { storage[name.lowercased()] }

    /// The first value of a header.
    public subscript(_ name: String) -> String? { storage[name.lowercased()]?.first }

    public var names: [String] { storage.keys.sorted() }

    /// `x-hub-signature-256` -> `X-Hub-Signature-256`, for messages.
    public static func displayName(_ name: String) -> String {
        // Header names are ASCII tokens: an ASCII pass, no Unicode case tables.
        var startOfWord = true
        let bytes = name.utf8.map { byte -> UInt8 in
            defer { startOfWord = byte == UInt8(ascii: "-") }
            return startOfWord && byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z") ? byte - 32 : byte
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
