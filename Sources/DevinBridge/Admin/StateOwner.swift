import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif

/// The admin commands that touch the state directory run as its owner (the bridge's own user),
/// so that `sudo devin-bridge retry` leaves no root-owned files the CGI could not rewrite.
public enum StateOwner {
    /// When running as root and `directory` belongs to another user, switches to that user and
    /// group for the rest of the process. Returns a note for the admin, or nil when nothing changed.
    public static func adopt(_ directory: String) throws -> String? {
        guard geteuid() == 0 else { return nil }
        var info = stat()
        guard stat(directory, &info) == 0, info.st_uid != 0 else { return nil }
        guard setgroups(0, nil) == 0, setgid(info.st_gid) == 0, setuid(info.st_uid) == 0 else {
            throw BridgeError.stateUnavailable("cannot switch to the owner (uid \(info.st_uid)) of \(directory)")
        }
        let name = getpwuid(info.st_uid).map { String(cString: $0.pointee.pw_name) } ?? "uid \(info.st_uid)"
        return "running as \(name), the owner of \(directory)"
    }

    /// A line for `check` about the state directory, and whether it is usable.
    public static func describe(_ directory: String) -> (line: String, problem: String?) {
        var info = stat()
        guard stat(directory, &info) == 0 else {
            return ("state directory: \(directory) (missing)",
                    "STATE_DIR \(directory) does not exist: run deploy/install.sh, or create it devin-bridge:devin-bridge, mode 2770")
        }
        guard (info.st_mode & S_IFMT) == S_IFDIR else {
            return ("state directory: \(directory)", "STATE_DIR \(directory) is not a directory")
        }
        let owner = getpwuid(info.st_uid).map { String(cString: $0.pointee.pw_name) } ?? "uid \(info.st_uid)"
        var problem: String?
        if info.st_uid == 0 && geteuid() == 0 {
            problem = nil // root-owned: fine when the web server runs the CGI as root (unusual), so only noted
        } else if geteuid() != 0 && faccessat(AT_FDCWD, directory, W_OK, AT_EACCESS) != 0 {
            problem = "STATE_DIR \(directory) is not writable by this user"
        }
        return ("state directory: \(directory) (owner \(owner), mode \(String(info.st_mode & 0o7777, radix: 8)))", problem)
    }
}
