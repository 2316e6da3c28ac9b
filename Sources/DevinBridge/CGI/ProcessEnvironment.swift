#if canImport(Glibc)
import Glibc
#endif

/// The process's environment as a dictionary, read straight from `environ`: the CGI request's
/// variables and the settings. (Foundation's `ProcessInfo` builds the same dictionary at several
/// times the cost, on every request.) The first of repeated names counts, as `getenv` reads it.
public enum ProcessEnvironment {
    public static func current() -> [String: String] {
        var result: [String: String] = [:]
        var entry = environ
        while let pointer = entry.pointee {
            let line = String(cString: pointer)
            if let equals = line.utf8.firstIndex(of: UInt8(ascii: "=")) {
                let name = String(line[..<equals])
                if result[name] == nil { result[name] = String(line[line.utf8.index(after: equals)...]) }
            }
            entry += 1
        }
        return result
    }
}
