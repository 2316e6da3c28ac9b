import FoundationEssentials
import Dispatch
#if canImport(Glibc)
import Glibc
#endif

/// The state directory: one JSON record per (ticket, label) in `tickets/`, a lock file per key in
/// `locks/` (POSIX `flock`), and the sessions created in the last hour in `sessions-last-hour.json`.
/// Every write goes to a temporary file that is fsynced, renamed over the record, and followed by
/// an fsync of the directory, so a crash leaves either the old record or the new one.
public final class FileStateStore: @unchecked Sendable {
    public let directory: String
    var ticketsDirectory: String { directory + "/tickets" }
    var locksDirectory: String { directory + "/locks" }
    var outboxDirectory: String { directory + "/outbox" }
    var messagesDirectory: String { directory + "/messages" }
    var rateFile: String { directory + "/sessions-last-hour.json" }

    /// Opens the state directory, creating its subfolders; throws ``BridgeError/stateUnavailable(_:)``
    /// when it does not exist or cannot be written.
    public init(directory: String) throws {
        self.directory = directory
        var info = stat()
        guard stat(directory, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR else {
            throw BridgeError.stateUnavailable("STATE_DIR \(directory) does not exist (deploy/install.sh creates it)")
        }
        for sub in [ticketsDirectory, locksDirectory, outboxDirectory, messagesDirectory] {
            if mkdir(sub, 0o770) == 0 {
                // Group-writable whatever the umask: the CGI (the web server's user, the bridge's
                // group) and `devin-bridge retry` (the bridge's user) both write here.
                chmod(sub, 0o770)
            } else if errno != EEXIST {
                throw BridgeError.stateUnavailable("cannot create \(sub): \(Self.errorText())")
            }
        }
        // faccessat with AT_EACCESS: the effective ids decide (the bridge runs setgid to its group).
        guard faccessat(AT_FDCWD, ticketsDirectory, W_OK, AT_EACCESS) == 0,
              faccessat(AT_FDCWD, locksDirectory, W_OK, AT_EACCESS) == 0 else {
            throw BridgeError.stateUnavailable("STATE_DIR \(directory) is not writable by uid \(geteuid()) group \(getegid()): deploy/install.sh makes it devin-bridge:devin-bridge 2770, and the bridge setgid devin-bridge")
        }
    }

    // MARK: Locks

    /// An exclusive lock on one key, held until ``release()`` (or the process ends).
    public final class Lock {
        private var fd: Int32
        init(fd: Int32) { self.fd = fd }
        public func release() {
            guard fd >= 0 else { return }
            flock(fd, LOCK_UN)
            close(fd)
            fd = -1
        }
        deinit { release() }
    }

    /// Takes the lock of `name`, waiting at most `timeout` seconds; nil when it stayed busy.
    public func lock(_ name: String, timeout: Double) throws -> Lock? {
        let path = locksDirectory + "/" + name + ".lock"
        let deadline = DispatchTime.now().uptimeNanoseconds + UInt64(max(0, timeout) * 1e9)
        while true {
            // Read-only is enough for flock, and works on a lock file another user created.
            // Close-on-exec: a process this one starts (the comment worker) holds no ticket's lock.
            // A process that dies mid-call leaves its record in flight; the Deliverer leaves such
            // a record alone until that call's time is over.
            let fd = open(path, O_RDONLY | O_CREAT | O_CLOEXEC, 0o640)
            guard fd >= 0 else { throw BridgeError.stateUnavailable("cannot open \(path): \(Self.errorText())") }
            var locked = false
            while true {
                if flock(fd, LOCK_EX | LOCK_NB) == 0 { locked = true; break }
                guard errno == EWOULDBLOCK || errno == EINTR else { break }
                if DispatchTime.now().uptimeNanoseconds >= deadline { break }
                usleep(10_000)
            }
            guard locked else {
                close(fd)
                return nil
            }
            // The file may have been removed (pruned) while we waited: then lock the new one.
            var held = stat(), current = stat()
            if fstat(fd, &held) == 0, stat(path, &current) == 0, held.st_ino == current.st_ino, held.st_dev == current.st_dev {
                return Lock(fd: fd)
            }
            close(fd)
        }
    }

    // MARK: Records

    public func read(_ key: String) throws -> DeliveryRecord? {
        guard Self.isKey(key) else { throw BridgeError.stateUnavailable("\(key.prefix(80).debugDescription) is not a record key") }
        let path = recordPath(key)
        guard let data = FileManager.default.contents(atPath: path) else {
            if access(path, F_OK) == 0 { throw BridgeError.stateUnavailable("cannot read \(path)") }
            return nil
        }
        let record: DeliveryRecord
        do {
            record = try Self.decoder.decode(DeliveryRecord.self, from: data)
        } catch {
            throw BridgeError.stateUnavailable("\(path) is not a valid record (move it away to start the ticket afresh)")
        }
        try record.validate(fileKey: key, installationKey: installationKey())
        return record
    }

    /// A record key: 64 lower-case hex digits (a SHA-256), and so a safe file name.
    static func isKey(_ key: String) -> Bool {
        key.utf8.count == 64 && key.utf8.allSatisfy { (48...57).contains($0) || (97...102).contains($0) }
    }

    /// The key of a record file name (`<key>.json`), or nil for anything else.
    static func key(ofFile name: String) -> String? {
        guard name.hasSuffix(".json") else { return nil }
        let key = String(name.dropLast(5))
        return isKey(key) ? key : nil
    }

    // MARK: Outbox

    public func readOutbox(_ id: String) throws -> OutboxEntry? {
        guard Self.isKey(id) else { throw BridgeError.stateUnavailable("\(id.prefix(80).debugDescription) is not an outbox id") }
        let path = outboxDirectory + "/" + id + ".json"
        guard let data = FileManager.default.contents(atPath: path) else {
            if access(path, F_OK) == 0 { throw BridgeError.stateUnavailable("cannot read \(path)") }
            return nil
        }
        guard let entry = try? Self.decoder.decode(OutboxEntry.self, from: data) else {
            throw BridgeError.stateUnavailable("\(path) is not a valid outbox entry (move it away)")
        }
        try entry.validate(fileID: id)
        return entry
    }

    public func writeOutbox(_ entry: OutboxEntry) throws {
        guard Self.isKey(entry.id) else { throw BridgeError.stateUnavailable("\(entry.id.prefix(80).debugDescription) is not an outbox id") }
        try atomicWrite((try? Self.encoder.encode(entry)) ?? Data(), to: outboxDirectory + "/" + entry.id + ".json")
    }

    public func removeOutbox(_ id: String) {
        guard Self.isKey(id) else { return }
        unlink(outboxDirectory + "/" + id + ".json")
        unlink(locksDirectory + "/outbox-" + id + ".lock")
    }

    /// Every valid outbox entry, in no particular order.
    public func allOutbox() -> [OutboxEntry] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: outboxDirectory)) ?? []
        return names.compactMap(Self.key(ofFile:)).compactMap { id in (try? readOutbox(id)) ?? nil }
    }

    // MARK: Messages to sessions

    public func readMessage(_ id: String) throws -> ForwardedMessage? {
        guard Self.isKey(id) else { throw BridgeError.stateUnavailable("\(id.prefix(80).debugDescription) is not a message id") }
        let path = messagesDirectory + "/" + id + ".json"
        guard let data = FileManager.default.contents(atPath: path) else {
            if access(path, F_OK) == 0 { throw BridgeError.stateUnavailable("cannot read \(path)") }
            return nil
        }
        guard let message = try? Self.decoder.decode(ForwardedMessage.self, from: data) else {
            throw BridgeError.stateUnavailable("\(path) is not a valid message (move it away)")
        }
        try message.validate(fileID: id)
        return message
    }

    public func writeMessage(_ message: ForwardedMessage) throws {
        guard Self.isKey(message.id) else { throw BridgeError.stateUnavailable("\(message.id.prefix(80).debugDescription) is not a message id") }
        try atomicWrite((try? Self.encoder.encode(message)) ?? Data(), to: messagesDirectory + "/" + message.id + ".json")
    }

    public func removeMessage(_ id: String) {
        guard Self.isKey(id) else { return }
        unlink(messagesDirectory + "/" + id + ".json")
    }

    public func allMessages() -> [ForwardedMessage] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: messagesDirectory)) ?? []
        return names.compactMap(Self.key(ofFile:)).compactMap { id in (try? readMessage(id)) ?? nil }
    }

    // MARK: Installation key

    var installationKeyPath: String { directory + "/installation.key" }
    private var cachedInstallationKey: [UInt8]?

    /// The installation key of `directory` when it exists already (a dry run creates nothing).
    public static func existingInstallationKey(in directory: String) -> [UInt8]? {
        FileManager.default.contents(atPath: directory + "/installation.key")
            .map { String(decoding: $0, as: UTF8.self) }
            .flatMap { Hex.decode($0.trimmedWhitespace) }
            .flatMap { $0.count == 32 ? $0 : nil }
    }

    /// This installation's own random key (32 bytes, `STATE_DIR/installation.key`, created on
    /// first use): it keys the adoption tags, so nobody outside can predict them.
    public func installationKey() throws -> [UInt8] {
        if let cachedInstallationKey { return cachedInstallationKey }
        for _ in 0..<50 {
            if let text = FileManager.default.contents(atPath: installationKeyPath).map({ String(decoding: $0, as: UTF8.self) }),
               let key = Hex.decode(text.trimmedWhitespace), key.count == 32 {
                cachedInstallationKey = key
                return key
            }
            if access(installationKeyPath, F_OK) == 0 {
                // Being written by another process (link() makes it whole at once): read again.
                usleep(10_000)
                continue
            }
            var generator = SystemRandomNumberGenerator()
            let key = (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }
            // Written whole to a temporary file, then linked into place: the first process wins,
            // the others read its key.
            let temporary = "\(directory)/.tmp-key-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
            try atomicWrite(Data((Hex.encode(key) + "\n").utf8), to: temporary)
            let linked = link(temporary, installationKeyPath) == 0
            unlink(temporary)
            if linked {
                cachedInstallationKey = key
                return key
            }
        }
        throw BridgeError.stateUnavailable("\(installationKeyPath) is not a 32-byte hex key (move it away; sessions created since it was made are then no longer adopted)")
    }

    public func write(_ record: DeliveryRecord) throws {
        guard Self.isKey(record.key) else { throw BridgeError.stateUnavailable("\(record.key.prefix(80).debugDescription) is not a record key") }
        let data = (try? Self.encoder.encode(record)) ?? Data()
        try atomicWrite(data, to: recordPath(record.key))
    }

    /// Removes a record and its lock file; call with the key's lock held.
    public func remove(_ key: String) {
        guard Self.isKey(key) else { return }
        unlink(recordPath(key))
        unlink(locksDirectory + "/" + key + ".lock")
    }

    /// Every valid record, in no particular order; anything else is skipped.
    public func allRecords() -> [DeliveryRecord] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: ticketsDirectory)) ?? []
        return names.compactMap(Self.key(ofFile:)).compactMap { key in (try? read(key)) ?? nil }
    }

    /// Files in `tickets/` that are not valid records (shown by `status`, so none is forgotten).
    public func unreadableRecords() -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: ticketsDirectory)) ?? []
        return names.filter { !$0.hasPrefix(".") }.filter { name in
            guard let key = Self.key(ofFile: name) else { return true }
            return ((try? read(key)) ?? nil) == nil
        }.map { ticketsDirectory + "/" + $0 }
    }

    func recordPath(_ key: String) -> String { ticketsDirectory + "/" + key + ".json" }

    // MARK: Sessions per hour

    /// The ledger is read and written on every session created, so it is kept in the cheapest form:
    /// `{"created":[<seconds since 1970>, ...]}`, written and read without a coder. (An earlier
    /// release wrote ISO 8601 strings: they are still read.)
    struct Ledger {
        var created: [Date]

        init(created: [Date]) { self.created = created }

        init?(_ bytes: [UInt8]) {
            guard let items = (try? JSONParser.parse(bytes))?["created"]?.arrayValue else { return nil }
            created = items.compactMap { item in
                switch item {
                case .integer(let seconds): return Date(timeIntervalSince1970: TimeInterval(seconds))
                case .number(let seconds): return Date(timeIntervalSince1970: seconds)
                case .string(let text): return DateText.parseISO8601(text)
                default: return nil
                }
            }
        }

        var bytes: [UInt8] {
            // Milliseconds: exact enough that a reservation given back is found again.
            let times = created.map { date -> String in
                let milliseconds = Int64((date.timeIntervalSince1970 * 1000).rounded())
                let fraction = String(milliseconds % 1000)
                return "\(milliseconds / 1000)." + String(repeating: "0", count: 3 - fraction.count) + fraction
            }
            return Array(("{\"created\":[" + times.joined(separator: ",") + "]}\n").utf8)
        }
    }

    /// Reserves one session in the hour before `now` unless `cap` are already there. Returns nil
    /// when reserved, else the time a slot frees up. `cap` 0 means no cap (still counted).
    /// How long a process waits for the sessions-per-hour ledger (less when its budget is shorter).
    public static let ledgerWait: Double = 10

    /// The ledger stayed locked for the whole wait: the ticket is queued, not refused.
    public struct LedgerBusy: Error {}

    public func reserveSession(at now: Date, cap: Int, wait: Double = ledgerWait) throws -> Date? {
        guard let lock = try lock("sessions-last-hour", timeout: wait) else { throw LedgerBusy() }
        defer { lock.release() }
        var ledger = readLedger(now: now)
        if cap > 0 && ledger.created.count >= cap {
            return (ledger.created.min() ?? now).addingTimeInterval(3600)
        }
        ledger.created.append(now)
        try atomicWrite(Data(ledger.bytes), to: rateFile)
        return nil
    }

    /// Gives back a reservation for an attempt that certainly created no session.
    public func releaseSession(reservedAt time: Date, now: Date) throws {
        guard let lock = try lock("sessions-last-hour", timeout: 10) else { return }
        defer { lock.release() }
        var ledger = readLedger(now: now)
        if let index = ledger.created.firstIndex(where: { abs($0.timeIntervalSince(time)) < 0.002 }) {
            ledger.created.remove(at: index)
            try atomicWrite(Data(ledger.bytes), to: rateFile)
        }
    }

    /// Sessions created (or attempted) in the hour before `now`.
    public func sessionsInLastHour(now: Date) -> Int { readLedger(now: now).created.count }

    private func readLedger(now: Date) -> Ledger {
        var ledger = FileManager.default.contents(atPath: rateFile)
            .flatMap { Ledger(Array($0)) } ?? Ledger(created: [])
        ledger.created.removeAll { now.timeIntervalSince($0) >= 3600 }
        return ledger
    }

    // MARK: Files

    /// Write to a temporary file, fsync it, rename it over `path`, fsync the directory.
    func atomicWrite(_ data: Data, to path: String) throws {
        let directory = path.parentDirectory
        let temporary = "\(directory)/.tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o640)
        guard fd >= 0 else { throw BridgeError.stateUnavailable("cannot create a file in \(directory): \(Self.errorText())") }
        var ok = data.withUnsafeBytes { buffer -> Bool in
            var offset = 0
            while offset < buffer.count {
                let written = Glibc.write(fd, buffer.baseAddress! + offset, buffer.count - offset)
                if written < 0 && errno == EINTR { continue }
                if written <= 0 { return false }
                offset += written
            }
            return true
        }
        ok = ok && fsync(fd) == 0
        let failure = Self.errorText()
        close(fd)
        guard ok, rename(temporary, path) == 0 else {
            unlink(temporary)
            throw BridgeError.stateUnavailable("cannot write \(path): \(failure)")
        }
        let directoryFD = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if directoryFD >= 0 {
            fsync(directoryFD)
            close(directoryFD)
        }
    }

    static func errorText() -> String { String(cString: strerror(errno)) }

    /// Dates as ISO 8601 with milliseconds: readable, and exact enough that a reservation is
    /// found again when it is given back.
    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(DateText.iso8601Milliseconds(date))
        }
        return encoder
    }()

    static let decoder: JSONDecoder = {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .custom { decoder in
            let container = try decoder.singleValueContainer()
            let text = try container.decode(String.self)
            guard let date = DateText.parseISO8601(text) else {
                throw DecodingError.dataCorruptedError(in: container, debugDescription: "not an ISO 8601 date: \(text)")
            }
            return date
        }
        return decoder
    }()
}
