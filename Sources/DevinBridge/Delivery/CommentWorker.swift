import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif

/// Posts a ticket's comments right after the webhook's answer, without making the answer wait:
/// the CGI program starts `devin-bridge post-comments <key>` in a session of its own, with
/// /dev/null for its standard streams (so the web server sees the answer end at once), and exits.
/// Whatever the worker cannot post, `devin-bridge retry` posts later.
public enum CommentWorker {
    /// The command line the worker runs.
    public static let command = "post-comments"

    /// Environment variables the worker keeps: the settings (when the environment may hold them),
    /// the configuration's path, and what libcurl may need. The CGI request's variables stay behind.
    static func environment(from environment: [String: String], identity: ProcessIdentity) -> [String] {
        var names = ["PATH", "DEVIN_BRIDGE_CONFIG"] + TransportEnvironment.proxyVariables
        if !identity.restricted { names += Configuration.knownKeys + TransportEnvironment.certificateVariables }
        return names.compactMap { name in environment[name].map { "\(name)=\($0)" } }
    }

    /// The process's open descriptors (from /proc/self/fd), read before the spawn.
    static func openDescriptors() -> [Int32] {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd") else { return [] }
        // The directory's own descriptor is closed again by the time the spawn runs: a close of an
        // already closed descriptor fails the spawn, so check each one is still open.
        return names.compactMap { Int32($0) }.filter { fcntl($0, F_GETFD) != -1 }.sorted()
    }

    /// Starts the worker for `key`; returns whether it started.
    @discardableResult
    public static func start(key: String, environment: [String: String], identity: ProcessIdentity) -> Bool {
        guard FileStateStore.isKey(key) else { return false }
        let executable = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        for fd: Int32 in [0, 1, 2] {
            posix_spawn_file_actions_addopen(&actions, fd, "/dev/null", fd == 0 ? O_RDONLY : O_WRONLY, 0)
        }
        // Nothing else the CGI program holds goes with it: a descriptor the web server (or a test
        // harness) watches for the end of the request must close when the CGI program exits.
        for fd in openDescriptors() where fd > 2 { posix_spawn_file_actions_addclose(&actions, fd) }
        // POSIX_SPAWN_SETSID (glibc 2.26): the worker leaves the CGI program's session and group.
        var attributes = posix_spawnattr_t()
        initializeCleanSignals(&attributes, defaults: [SIGPIPE, SIGHUP], extraFlags: 0x80)
        defer { posix_spawnattr_destroy(&attributes) }
        let argv: [UnsafeMutablePointer<CChar>?] = [strdup(executable), strdup(command), strdup(key), nil]
        let envp: [UnsafeMutablePointer<CChar>?] = Self.environment(from: environment, identity: identity).map { strdup($0) } + [nil]
        defer { (argv + envp).forEach { free($0) } }
        var pid: pid_t = 0
        return posix_spawn(&pid, executable, &actions, &attributes, argv, envp) == 0
    }

    /// Spawn attributes for a child that starts clean: a CGI parent may run with signals blocked
    /// or ignored. `defaults` go back to their default action. Destroy them after the spawn.
    static func initializeCleanSignals(_ attributes: inout posix_spawnattr_t, defaults signals: [Int32], extraFlags: Int32) {
        posix_spawnattr_init(&attributes)
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigmask(&attributes, &empty)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in signals { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | extraFlags))
    }
}
