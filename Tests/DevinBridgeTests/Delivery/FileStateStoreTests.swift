import Foundation
import Testing
@testable import DevinBridge

@Suite("State directory")
struct FileStateStoreTests {
    func makeStore() throws -> FileStateStore {
        try FileStateStore(directory: makeStateDirectory())
    }

    // MARK: - Opening

    @Test("opening a directory that does not exist throws stateUnavailable naming it")
    func missingDirectory() throws {
        let path = makeStateDirectory() + "/absent"
        let error = #expect(throws: BridgeError.self) { try FileStateStore(directory: path) }
        guard case .stateUnavailable(let reason)? = error else {
            Issue.record("expected stateUnavailable, got \(String(describing: error))")
            return
        }
        #expect(reason.contains(path))
        #expect(error?.status == .internalServerError)
        #expect(!FileManager.default.fileExists(atPath: path), "opening must not create STATE_DIR itself")
    }

    @Test("opening a regular file as the state directory throws stateUnavailable")
    func fileInsteadOfDirectory() throws {
        let path = makeStateDirectory() + "/not-a-directory"
        try Data("x".utf8).write(to: URL(fileURLWithPath: path))
        let error = #expect(throws: BridgeError.self) { try FileStateStore(directory: path) }
        #expect(error?.code == "state_unavailable")
        #expect(error?.logDetail.contains(path) == true)
    }

    @Test("opening creates tickets/ and locks/, and opening again is fine")
    func createsSubdirectories() throws {
        let directory = makeStateDirectory()
        _ = try FileStateStore(directory: directory)
        for sub in ["tickets", "locks"] {
            var isDirectory: ObjCBool = false
            #expect(FileManager.default.fileExists(atPath: directory + "/" + sub, isDirectory: &isDirectory))
            #expect(isDirectory.boolValue, "\(sub) is not a directory")
        }
        _ = try FileStateStore(directory: directory)
    }

    // MARK: - Records

    @Test("a record reads back as written, dates and all")
    func roundTrip() throws {
        let store = try makeStore()
        let key = ticketKey(1)
        var record = sampleRecord(key, state: .created, at: testEpoch.addingTimeInterval(120), sessionID: "sess-1",
                                  attempts: 3, reason: "adopted", errorCode: "upstream_timeout",
                                  nextAttemptAt: testEpoch.addingTimeInterval(3600), firstSeenAt: testEpoch, uncertain: true)
        record.deliveries = ["d-1", "d-2"]
        record.request.playbook_id = "playbook-1"
        try store.write(record)
        #expect(try store.read(key.digest) == record)
    }

    @Test("a record with every optional field nil reads back with them nil")
    func roundTripNils() throws {
        let store = try makeStore()
        let key = ticketKey(2)
        let record = sampleRecord(key, state: .queued)
        #expect(record.sessionID == nil && record.nextAttemptAt == nil && record.createdAt == nil)
        try store.write(record)
        let read = try #require(try store.read(key.digest))
        #expect(read == record)
        #expect(read.request.session_secrets == nil)
    }

    @Test("reading a key that was never written gives nil")
    func readMissing() throws {
        #expect(try makeStore().read(ticketKey(3).digest) == nil)
    }

    @Test("the record file is readable JSON with snake_case keys and ISO 8601 dates")
    func readableFormat() throws {
        let store = try makeStore()
        let key = ticketKey(4)
        try store.write(sampleRecord(key, state: .queued, nextAttemptAt: testEpoch.addingTimeInterval(60)))
        let data = try #require(FileManager.default.contents(atPath: store.recordPath(key.digest)))
        let object = try jsonObject(Array(data))
        #expect(object["state"] as? String == "queued")
        #expect(object["ticket"] as? String == "PROJ-4")
        #expect(object["first_seen_at"] as? String == "2026-01-01T00:00:00.000Z")
        #expect(object["next_attempt_at"] as? String == "2026-01-01T00:01:00.000Z")
    }

    @Test("a write leaves no temporary file behind and gives the record mode 0640")
    func writeIsClean() throws {
        let store = try makeStore()
        for number in 1...3 {
            try store.write(sampleRecord(ticketKey(number), state: .queued))
            try store.write(sampleRecord(ticketKey(number), state: .failed))
        }
        _ = try store.reserveSession(at: testEpoch, cap: 0)
        let tickets = try FileManager.default.contentsOfDirectory(atPath: store.ticketsDirectory).sorted()
        #expect(tickets == [1, 2, 3].map { ticketKey($0).digest + ".json" }.sorted())
        let top = try FileManager.default.contentsOfDirectory(atPath: store.directory)
        #expect(!top.contains { $0.hasPrefix(".tmp") }, "temporary files left in STATE_DIR: \(top)")
        var info = stat()
        #expect(stat(store.recordPath(ticketKey(1).digest), &info) == 0)
        #expect(info.st_mode & 0o777 == 0o640)
    }

    @Test("a write replaces the record by rename (a new file), never rewriting it in place")
    func writeRenames() throws {
        let store = try makeStore()
        let key = ticketKey(5)
        try store.write(sampleRecord(key, state: .queued))
        let before = try #require(inode(store.recordPath(key.digest)))
        // Keep the old file alive, as a reader that opened it would.
        let reader = try FileHandle(forReadingFrom: URL(fileURLWithPath: store.recordPath(key.digest)))
        defer { try? reader.close() }
        try store.write(sampleRecord(key, state: .created, sessionID: "sess-5"))
        #expect(inode(store.recordPath(key.digest)) != before)
        // The reader still sees the complete old record, never a half-written new one.
        let old = try JSONDecoder.iso8601.decode(DeliveryRecord.self, from: reader.readToEnd() ?? Data())
        #expect(old.state == .queued)
        #expect(try store.read(key.digest)?.state == .created)
    }

    @Test("allRecords returns the good records and skips garbage, unreadable, hidden and temporary files")
    func allRecordsSkipsJunk() throws {
        let store = try makeStore()
        let good = [ticketKey(1), ticketKey(2)]
        for key in good { try store.write(sampleRecord(key, state: .queued)) }
        let valid = try #require(FileManager.default.contents(atPath: store.recordPath(good[0].digest)))
        let tickets = store.ticketsDirectory
        try Data("not json".utf8).write(to: URL(fileURLWithPath: tickets + "/garbage.json"))
        try Data(#"{"key":"half"}"#.utf8).write(to: URL(fileURLWithPath: tickets + "/incomplete.json"))
        try FileManager.default.createDirectory(atPath: tickets + "/directory.json", withIntermediateDirectories: false)
        #expect(symlink(tickets + "/nowhere", tickets + "/dangling.json") == 0)
        // Valid content under names the store must not take for records.
        try valid.write(to: URL(fileURLWithPath: tickets + "/.tmp-123-456"))
        try valid.write(to: URL(fileURLWithPath: tickets + "/.hidden.json"))
        try valid.write(to: URL(fileURLWithPath: tickets + "/notes.txt"))
        let keys = store.allRecords().map(\.key).sorted()
        #expect(keys == good.map(\.digest).sorted())
    }

    @Test("a corrupt record makes read throw stateUnavailable naming its path, not a fresh start")
    func corruptRecord() throws {
        let store = try makeStore()
        let key = ticketKey(6)
        let path = store.recordPath(key.digest)
        try Data("{ truncated".utf8).write(to: URL(fileURLWithPath: path))
        let error = #expect(throws: BridgeError.self) { try store.read(key.digest) }
        guard case .stateUnavailable(let reason)? = error else {
            Issue.record("expected stateUnavailable, got \(String(describing: error))")
            return
        }
        #expect(reason.contains(path))
        #expect(error?.message.contains(path) == false, "the sender's message must not name server paths")
    }

    @Test("a record path that cannot be read (a directory) throws stateUnavailable naming it")
    func unreadableRecord() throws {
        let store = try makeStore()
        let key = ticketKey(7)
        try FileManager.default.createDirectory(atPath: store.recordPath(key.digest), withIntermediateDirectories: false)
        let error = #expect(throws: BridgeError.self) { try store.read(key.digest) }
        #expect(error?.logDetail.contains(store.recordPath(key.digest)) == true)
    }

    @Test("remove deletes the record and its lock file")
    func remove() throws {
        let store = try makeStore()
        let key = ticketKey(8)
        try store.write(sampleRecord(key, state: .created, sessionID: "sess-8"))
        let lock = try #require(try store.lock(key.digest, timeout: 0))
        store.remove(key.digest)
        lock.release()
        #expect(try store.read(key.digest) == nil)
        #expect(!FileManager.default.fileExists(atPath: store.locksDirectory + "/" + key.digest + ".lock"))
        #expect(store.allRecords().isEmpty)
    }

    // MARK: - Locks

    @Test("a held lock makes a second lock on the same key wait its timeout and give up; release frees it")
    func lockExcludes() throws {
        let store = try makeStore()
        let first = try #require(try store.lock("key-a", timeout: 0))
        let started = Date()
        #expect(try store.lock("key-a", timeout: 0.2) == nil)
        #expect(Date().timeIntervalSince(started) >= 0.19, "gave up before its timeout")
        #expect(try store.lock("key-a", timeout: 0) == nil)
        first.release()
        let second = try store.lock("key-a", timeout: 0)
        #expect(second != nil)
        second?.release()
    }

    @Test("a lock is released when its owner goes away")
    func lockReleasedOnDeinit() throws {
        let store = try makeStore()
        do {
            let held = try #require(try store.lock("key-d", timeout: 0))
            #expect(try store.lock("key-d", timeout: 0) == nil)
            _ = held
        }
        #expect(try store.lock("key-d", timeout: 0) != nil)
    }

    @Test("locks on different keys are independent")
    func locksIndependent() throws {
        let store = try makeStore()
        let a = try #require(try store.lock("key-a", timeout: 0))
        let b = try store.lock("key-b", timeout: 0)
        #expect(b != nil)
        a.release()
        b?.release()
    }

    @Test("a waiter whose lock file is removed under it ends up holding the lock of the file now at the path")
    func lockSurvivesRemove() throws {
        let store = try makeStore()
        let key = ticketKey(9).digest
        let lockPath = store.locksDirectory + "/" + key + ".lock"
        try store.write(sampleRecord(ticketKey(9), state: .created, sessionID: "sess-9"))
        let holderA = try #require(try store.lock(key, timeout: 0))

        final class Box: @unchecked Sendable { var lock: FileStateStore.Lock?; var error: Error? }
        let waiterB = Box()
        let done = DispatchSemaphore(value: 0)
        Thread {
            do { waiterB.lock = try store.lock(key, timeout: 2) } catch { waiterB.error = error }
            done.signal()
        }.start()
        // Wait until B has opened the current lock file (A's descriptor and B's) and waits on it.
        let deadline = Date().addingTimeInterval(3)
        while openDescriptors(of: lockPath) < 2 && Date() < deadline { usleep(5_000) }
        #expect(openDescriptors(of: lockPath) == 2, "B never opened the lock file")
        usleep(30_000)
        #expect(done.wait(timeout: .now()) == .timedOut, "B got the lock while A held it")

        // A prunes the record: removes it and its lock file, then lets go.
        store.remove(key)
        holderA.release()
        #expect(done.wait(timeout: .now() + 3) == .success, "B never got the lock")
        #expect(waiterB.error == nil)
        let held = try #require(waiterB.lock)

        // B must hold the lock of the file at the path now, not of the unlinked one: C is excluded.
        #expect(inode(lockPath) != nil, "B's lock file is not at the path")
        #expect(try store.lock(key, timeout: 0) == nil, "B holds a lock on a removed file: C got in beside it")
        held.release()
        #expect(try store.lock(key, timeout: 0) != nil)
    }

    // MARK: - Sessions per hour

    @Test("reserveSession allows cap sessions in an hour, then answers when the oldest frees its slot")
    func reserveCap() throws {
        let store = try makeStore()
        #expect(try store.reserveSession(at: testEpoch, cap: 2) == nil)
        #expect(try store.reserveSession(at: testEpoch.addingTimeInterval(600), cap: 2) == nil)
        #expect(try store.reserveSession(at: testEpoch.addingTimeInterval(1200), cap: 2) == testEpoch.addingTimeInterval(3600))
        #expect(store.sessionsInLastHour(now: testEpoch.addingTimeInterval(1200)) == 2, "a refusal must not count")
        // One second before the first expires it is still refused; at the hour the slot is free.
        #expect(try store.reserveSession(at: testEpoch.addingTimeInterval(3599), cap: 2) == testEpoch.addingTimeInterval(3600))
        #expect(try store.reserveSession(at: testEpoch.addingTimeInterval(3600), cap: 2) == nil)
        #expect(try store.reserveSession(at: testEpoch.addingTimeInterval(3601), cap: 2) == testEpoch.addingTimeInterval(4200))
    }

    @Test("a ledger an earlier release wrote (ISO 8601 dates) still counts; the next write keeps its entries")
    func earlierLedgerFormat() throws {
        let store = try makeStore()
        let first = DateText.iso8601Milliseconds(testEpoch)
        let second = DateText.iso8601(testEpoch.addingTimeInterval(600))
        try Data("{\n  \"created\" : [\n    \"\(first)\",\n    \"\(second)\"\n  ]\n}".utf8)
            .write(to: URL(fileURLWithPath: store.rateFile))
        #expect(store.sessionsInLastHour(now: testEpoch.addingTimeInterval(1200)) == 2)
        #expect(try store.reserveSession(at: testEpoch.addingTimeInterval(1200), cap: 2) == testEpoch.addingTimeInterval(3600))
        #expect(try store.reserveSession(at: testEpoch.addingTimeInterval(1200), cap: 3) == nil)
        #expect(store.sessionsInLastHour(now: testEpoch.addingTimeInterval(1200)) == 3)
        try store.releaseSession(reservedAt: testEpoch, now: testEpoch.addingTimeInterval(1300))
        #expect(store.sessionsInLastHour(now: testEpoch.addingTimeInterval(1300)) == 2)
    }

    @Test("cap 0 never refuses, but still counts")
    func reserveNoCap() throws {
        let store = try makeStore()
        for second in 0..<30 {
            #expect(try store.reserveSession(at: testEpoch.addingTimeInterval(Double(second)), cap: 0) == nil)
        }
        #expect(store.sessionsInLastHour(now: testEpoch.addingTimeInterval(30)) == 30)
    }

    @Test("reservations an hour old or older no longer count")
    func reservationsExpire() throws {
        let store = try makeStore()
        _ = try store.reserveSession(at: testEpoch, cap: 0)
        _ = try store.reserveSession(at: testEpoch.addingTimeInterval(1800), cap: 0)
        #expect(store.sessionsInLastHour(now: testEpoch.addingTimeInterval(3599)) == 2)
        #expect(store.sessionsInLastHour(now: testEpoch.addingTimeInterval(3600)) == 1)
        #expect(store.sessionsInLastHour(now: testEpoch.addingTimeInterval(5400)) == 0)
        #expect(try store.reserveSession(at: testEpoch.addingTimeInterval(5400), cap: 1) == nil)
    }

    @Test("sessionsInLastHour is 0 on a fresh state directory")
    func sessionsFresh() throws {
        #expect(try makeStore().sessionsInLastHour(now: testEpoch) == 0)
    }

    @Test("releaseSession gives back exactly the reservation made at that time")
    func release() throws {
        let store = try makeStore()
        _ = try store.reserveSession(at: testEpoch, cap: 1)
        #expect(try store.reserveSession(at: testEpoch.addingTimeInterval(5), cap: 1) != nil)
        // A time with no reservation changes nothing.
        try store.releaseSession(reservedAt: testEpoch.addingTimeInterval(7), now: testEpoch.addingTimeInterval(10))
        #expect(store.sessionsInLastHour(now: testEpoch.addingTimeInterval(10)) == 1)
        try store.releaseSession(reservedAt: testEpoch, now: testEpoch.addingTimeInterval(10))
        #expect(store.sessionsInLastHour(now: testEpoch.addingTimeInterval(10)) == 0)
        #expect(try store.reserveSession(at: testEpoch.addingTimeInterval(10), cap: 1) == nil)
    }

    @Test("releaseSession finds a reservation made at a time with fractions of a second (as the system clock gives)")
    func releaseFractional() throws {
        let store = try makeStore()
        let reservedAt = testEpoch.addingTimeInterval(0.25)
        _ = try store.reserveSession(at: reservedAt, cap: 0)
        try store.releaseSession(reservedAt: reservedAt, now: reservedAt.addingTimeInterval(1))
        #expect(store.sessionsInLastHour(now: reservedAt.addingTimeInterval(1)) == 0)
    }
}

/// How many of this process's descriptors are open on `path` (Linux: /proc/self/fd).
func openDescriptors(of path: String) -> Int {
    let fds = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []
    return fds.filter { (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/" + $0)) == path }.count
}

extension JSONDecoder {
    static var iso8601: JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return decoder
    }
}
