import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif

/// Who runs the bridge, and how far the caller is trusted.
///
/// Installed by `deploy/install.sh`, the bridge is setgid to its own group (`devin-bridge`): the
/// web server's user runs it, and only the bridge's group reads the configuration and writes the
/// state directory. Any other script of the web server's user can also run the binary, so when
/// the process has more rights than its caller (the effective group or user differs from the
/// real one) and the caller is neither root nor a member of the bridge's group, the bridge is
/// *restricted*: it answers CGI requests (what that caller could do over HTTP anyway), ignores
/// settings from the environment, reads only a configuration file that root owns for the
/// bridge's group, and refuses the admin commands (`sign` would be a signing oracle, `retry` and
/// `status` would act on the state directory).
public struct ProcessIdentity: Sendable, Equatable {
    /// The caller gained rights through the binary's set-id bits.
    public var elevated: Bool
    /// The caller may not use those rights for anything but answering a CGI request.
    public var restricted: Bool
    /// The effective group: the group a trusted configuration file belongs to.
    public var group: gid_t

    public init(elevated: Bool, restricted: Bool, group: gid_t) {
        self.elevated = elevated
        self.restricted = restricted
        self.group = group
    }

    /// No set-id bits in play: everything is the caller's own.
    public static let plain = ProcessIdentity(elevated: false, restricted: false, group: getegid())

    public static var current: ProcessIdentity {
        let elevated = getegid() != getgid() || geteuid() != getuid()
        guard elevated else { return .plain }
        return ProcessIdentity(elevated: true, restricted: !(getuid() == 0 || callerIsInGroup(getegid())), group: getegid())
    }

    /// Whether the real caller is a member of `group` (its real or a supplementary group).
    static func callerIsInGroup(_ group: gid_t) -> Bool {
        if getgid() == group { return true }
        let count = getgroups(0, nil)
        guard count > 0 else { return false }
        var groups = [gid_t](repeating: 0, count: Int(count))
        let read = getgroups(count, &groups)
        return read > 0 && groups.prefix(Int(read)).contains(group)
    }

    /// The name of the effective group, for messages.
    public var groupName: String {
        getgrgid(group).map { String(cString: $0.pointee.gr_name) } ?? "gid \(group)"
    }

    /// Why a restricted bridge will not read `path` as its configuration, or nil when it may:
    /// it must belong to root and the bridge's group, and nobody else may write it.
    public func refusalToRead(_ path: String) -> String? {
        guard restricted else { return nil }
        var info = stat()
        guard stat(path, &info) == 0 else { return nil } // missing: reported as such
        if info.st_uid != 0 || info.st_gid != group || info.st_mode & 0o022 != 0 {
            return "\(path) must belong to root and group \(groupName), writable by root only (chown root:\(groupName); chmod 0640): the bridge runs setgid \(groupName) and reads no other file for a caller outside that group"
        }
        return nil
    }
}
