import FoundationEssentials
import Dispatch

/// Time, injected so tests can fix it.
public struct BridgeClock: Sendable {
    /// Wall-clock time.
    public var now: @Sendable () -> Date
    /// A monotonic count of nanoseconds, for elapsed times.
    public var uptimeNanoseconds: @Sendable () -> UInt64

    public init(now: @escaping @Sendable () -> Date, uptimeNanoseconds: @escaping @Sendable () -> UInt64) {
        self.now = now
        self.uptimeNanoseconds = uptimeNanoseconds
    }

    public static let system = BridgeClock(
        now: { Date() },
        uptimeNanoseconds: { DispatchTime.now().uptimeNanoseconds })
}
