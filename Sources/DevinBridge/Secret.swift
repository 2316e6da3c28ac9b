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
