import Foundation
import Testing
@testable import DevinBridge

@Suite("Admin commands on the state directory: retry, status, prune")
struct AdminStateCommandsTests {
    static let day: TimeInterval = 86_400

    func retry(_ bench: DeliveryBench, now: Bool = false) -> CommandResult {
        AdminCommands.retry(bench.configuration, transport: bench.transport, clock: bench.clock.clock, ignoringBackoff: now)
    }

    func status(_ bench: DeliveryBench, json: Bool = false) -> CommandResult {
        AdminCommands.status(bench.configuration, clock: bench.clock.clock, json: json)
    }

    /// Runs the command line with `environment` over an empty configuration file.
    func run(_ arguments: [String], environment: [String: String], transport: ScriptedTransport = ScriptedTransport()) throws -> CommandResult {
        try withConfigFile("") { path in
            AdminCommands.run(arguments, environment: environment.merging(["DEVIN_BRIDGE_CONFIG": path]) { $1 },
                              transport: transport, clock: SettableClock().clock) { [] }
        }
    }

    // MARK: - retry

    @Test("retry on an empty state directory has nothing to do")
    func retryEmpty() throws {
        let bench = try DeliveryBench()
        let result = retry(bench)
        #expect(result == CommandResult(stdout: "retry: nothing to do\n", stderr: "", exitCode: 0))
        #expect(bench.transport.requests.isEmpty)
    }

    @Test("retry delivers the queued tickets that are due and reports each")
    func retryDelivers() throws {
        let bench = try DeliveryBench()
        try bench.store.write(sampleRecord(ticketKey(1), state: .queued, attempts: 1, reason: "down",
                                           nextAttemptAt: testEpoch.addingTimeInterval(-10)))
        try bench.store.write(sampleRecord(ticketKey(2), state: .queued, attempts: 1, reason: "down",
                                           nextAttemptAt: testEpoch, firstSeenAt: testEpoch.addingTimeInterval(-5)))
        try bench.store.write(sampleRecord(ticketKey(3), state: .queued, attempts: 1, reason: "down",
                                           nextAttemptAt: testEpoch.addingTimeInterval(600)))
        let result = retry(bench)
        #expect(result.exitCode == 0)
        #expect(result.stderr == "")
        let lines = result.stdout.split(separator: "\n").map(String.init)
        // Oldest first.
        #expect(lines == [
            "created  PROJ-2 [devin-autofix]: sess-0001 \(ScriptedTransport.url("sess-0001"))",
            "created  PROJ-1 [devin-autofix]: sess-0002 \(ScriptedTransport.url("sess-0002"))",
            "retry: 2 created, 1 not due",
        ])
        #expect(bench.transport.posts.count == 2)
        #expect(try bench.record(ticketKey(1)).state == .created)
        #expect(try bench.record(ticketKey(3)).state == .queued)
    }

    @Test("retry --now delivers everything queued, due or not")
    func retryNow() throws {
        let bench = try DeliveryBench()
        try bench.store.write(sampleRecord(ticketKey(1), state: .queued, attempts: 1,
                                           nextAttemptAt: testEpoch.addingTimeInterval(3000)))
        let result = retry(bench, now: true)
        #expect(result.stdout.hasSuffix("retry: 1 created\n"))
        #expect(try bench.record(ticketKey(1)).state == .created)
    }

    @Test("retry reports what stays queued, what fails and what it adopts")
    func retryReports() throws {
        let transport = ScriptedTransport(creates: [DelivererTests.refused, ScriptedTransport.status(401)],
                                          lists: [ScriptedTransport.list([("sess-crashed", [ticketKey(3).legacyTag])])])
        let bench = try DeliveryBench(transport: transport)
        try bench.store.write(sampleRecord(ticketKey(1), state: .queued, attempts: 1, firstSeenAt: testEpoch.addingTimeInterval(-30)))
        try bench.store.write(sampleRecord(ticketKey(2), state: .queued, attempts: 1, firstSeenAt: testEpoch.addingTimeInterval(-20)))
        try bench.store.write(sampleRecord(ticketKey(3), state: .inFlight, at: diedInFlight, attempts: 1, firstSeenAt: testEpoch.addingTimeInterval(-10)))
        let result = retry(bench)
        let lines = result.stdout.split(separator: "\n").map(String.init)
        #expect(lines.count == 4)
        #expect(lines.first?.hasPrefix("queued   PROJ-1 [devin-autofix]: The Devin API could not be reached") == true)
        #expect(lines.first?.hasSuffix("(next attempt 2026-01-01T00:02:00Z)") == true, "the second attempt waits 2 min")
        #expect(lines.dropFirst().first?.hasPrefix("failed   PROJ-2 [devin-autofix]: Devin rejected the API key") == true)
        #expect(lines.dropFirst(2).first == "adopted  PROJ-3 [devin-autofix]: sess-crashed (an earlier attempt had created it)")
        #expect(lines.last == "retry: 1 adopted, 1 failed, 1 still queued")
        #expect(result.exitCode == 0)
        #expect(!result.stdout.contains(FakeSecret.marker))
    }

    @Test("retry skips a ticket another process is delivering right now")
    func retryBusy() throws {
        let bench = try DeliveryBench()
        try bench.store.write(sampleRecord(ticketKey(1), state: .inFlight, at: diedInFlight, attempts: 1))
        let held = try #require(try bench.store.lock(ticketKey(1).digest, timeout: 0))
        defer { held.release() }
        let result = retry(bench)
        #expect(result.stdout == "retry: 1 busy\n")
        #expect(bench.transport.requests.isEmpty)
        #expect(try bench.record(ticketKey(1)).state == .inFlight)
    }

    @Test("retry skips a record it cannot read and still delivers the rest")
    func retryCorrupt() throws {
        let bench = try DeliveryBench()
        try bench.store.write(sampleRecord(ticketKey(1), state: .queued, attempts: 1))
        try Data("{".utf8).write(to: URL(fileURLWithPath: bench.store.recordPath(ticketKey(2).digest)))
        let result = retry(bench)
        #expect(result.stdout == "created  PROJ-1 [devin-autofix]: sess-0001 \(ScriptedTransport.url("sess-0001"))\nretry: 1 created\n")
        #expect(bench.transport.posts.count == 1)
    }

    @Test("retry with a missing STATE_DIR exits 1 naming it")
    func retryMissingState() {
        let missing = makeStateDirectory() + "/absent"
        let result = AdminCommands.retry(makeConfiguration(stateDirectory: missing), transport: ScriptedTransport(),
                                         clock: SettableClock().clock, ignoringBackoff: false)
        #expect(result.exitCode == 1)
        #expect(result.stdout == "")
        #expect(result.stderr.hasPrefix("devin-bridge retry: STATE_DIR \(missing) does not exist"))
    }

    // MARK: - status

    @Test("status lists recent sessions, queued tickets with reason and next attempt, and failed ones")
    func statusText() throws {
        let bench = try DeliveryBench(maxSessionsPerHour: 20)
        _ = try bench.store.reserveSession(at: testEpoch.addingTimeInterval(-60), cap: 0)
        try bench.store.write(sampleRecord(ticketKey(1), state: .created, at: testEpoch.addingTimeInterval(-60),
                                           sessionID: "sess-1", attempts: 1))
        try bench.store.write(sampleRecord(ticketKey(2), state: .queued, attempts: 2, reason: "The Devin API failed with HTTP 503",
                                           nextAttemptAt: testEpoch.addingTimeInterval(120)))
        try bench.store.write(sampleRecord(ticketKey(3), state: .inFlight, at: diedInFlight, attempts: 1))
        try bench.store.write(sampleRecord(ticketKey(4), state: .failed, attempts: 1, reason: "Devin rejected the API key",
                                           errorCode: "upstream_rejected"))
        let result = status(bench)
        #expect(result.exitCode == 0)
        let out = result.stdout
        #expect(out.contains("state directory: \(bench.configuration.stateDirectory)\n"))
        #expect(out.contains("sessions in the last hour: 1 (cap 20, MAX_SESSIONS_PER_HOUR)\n"))
        #expect(out.contains("recent sessions (1 of 1):\n  2025-12-31T23:59:00Z  PROJ-1 [devin-autofix]  sess-1  \(ScriptedTransport.url("sess-1"))\n"))
        #expect(out.contains("queued (2):\n"))
        #expect(out.contains("  PROJ-2 [devin-autofix]  attempts 2, next attempt 2026-01-01T00:02:00Z: The Devin API failed with HTTP 503\n"))
        #expect(out.contains("  PROJ-3 [devin-autofix]  attempts 1, in flight: waiting\n"))
        #expect(out.contains("failed (1):\n  2026-01-01T00:00:00Z  PROJ-4 [devin-autofix]  attempts 1: Devin rejected the API key\n"))
        #expect(out.contains("redeliver"))
    }

    @Test("status on an empty state directory says there is nothing, and that there is no cap")
    func statusEmpty() throws {
        let bench = try DeliveryBench(maxSessionsPerHour: 0)
        let out = status(bench).stdout
        #expect(out.contains("sessions in the last hour: 0 (no cap, MAX_SESSIONS_PER_HOUR)"))
        #expect(out.contains("recent sessions (0 of 0):"))
        #expect(out.contains("queued (0):"))
        #expect(out.contains("failed (0):"))
        #expect(!out.contains("redeliver"))
    }

    @Test("status --json is one JSON document with sessions, queued, failed and sessions_last_hour")
    func statusJSON() throws {
        let bench = try DeliveryBench(maxSessionsPerHour: 7)
        _ = try bench.deliver(ticketKey(1))
        try bench.store.write(sampleRecord(ticketKey(2), state: .queued, attempts: 1, reason: "down",
                                           nextAttemptAt: testEpoch.addingTimeInterval(60)))
        try bench.store.write(sampleRecord(ticketKey(3), state: .failed, reason: "refused"))
        let result = status(bench, json: true)
        #expect(result.exitCode == 0)
        let object = try jsonObject(Array(result.stdout.utf8))
        #expect(object["sessions_last_hour"] as? Int == 1)
        #expect(object["max_sessions_per_hour"] as? Int == 7)
        #expect(object["state_dir"] as? String == bench.configuration.stateDirectory)
        let sessions = try #require(object["sessions"] as? [[String: Any]])
        let queued = try #require(object["queued"] as? [[String: Any]])
        let failed = try #require(object["failed"] as? [[String: Any]])
        #expect(sessions.map { $0["session_id"] as? String } == ["sess-0001"])
        #expect(queued.map { $0["ticket"] as? String } == ["PROJ-2"])
        #expect(queued.first?["next_attempt_at"] as? String == "2026-01-01T00:01:00.000Z")
        #expect(failed.map { $0["reason"] as? String } == ["refused"])
        #expect(!result.stdout.contains(FakeSecret.marker))
    }

    @Test("status lists at most 20 recent sessions, newest first")
    func statusLimit() throws {
        let bench = try DeliveryBench()
        for number in 1...25 {
            try bench.store.write(sampleRecord(ticketKey(number), state: .created,
                                               at: testEpoch.addingTimeInterval(Double(number)), sessionID: "sess-\(number)"))
        }
        let out = status(bench).stdout
        #expect(out.contains("recent sessions (20 of 25):\n  2026-01-01T00:00:25Z  PROJ-25 "))
        #expect(!out.contains("PROJ-5 "))
        #expect(out.contains("PROJ-6 "))
    }

    // MARK: - prune

    @Test("prune removes old created and failed records, expires old queued ones, keeps recent ones")
    func prune() throws {
        let bench = try DeliveryBench()
        var configuration = bench.configuration
        configuration.retentionDays = 30
        let old = testEpoch.addingTimeInterval(-31 * Self.day)
        let recent = testEpoch.addingTimeInterval(-29 * Self.day)
        try bench.store.write(sampleRecord(ticketKey(1), state: .created, at: old, sessionID: "sess-1"))
        try bench.store.write(sampleRecord(ticketKey(2), state: .failed, at: old, reason: "refused"))
        try bench.store.write(sampleRecord(ticketKey(3), state: .created, at: recent, sessionID: "sess-3"))
        // Created long ago, redelivered recently: kept.
        try bench.store.write(sampleRecord(ticketKey(4), state: .created, at: recent, sessionID: "sess-4", firstSeenAt: old))
        try bench.store.write(sampleRecord(ticketKey(5), state: .queued, at: recent, attempts: 9, firstSeenAt: old))
        try bench.store.write(sampleRecord(ticketKey(6), state: .inFlight, at: old, attempts: 1))
        try bench.store.write(sampleRecord(ticketKey(7), state: .queued, at: recent, attempts: 2))
        _ = try bench.store.lock(ticketKey(1).digest, timeout: 0)?.release()

        let removed = AdminCommands.prune(bench.store, configuration: configuration, now: testEpoch)
        #expect(removed == 2)
        #expect(try bench.store.read(ticketKey(1).digest) == nil)
        #expect(try bench.store.read(ticketKey(2).digest) == nil)
        #expect(!FileManager.default.fileExists(atPath: bench.store.locksDirectory + "/" + ticketKey(1).digest + ".lock"))
        #expect(try bench.record(ticketKey(3)).state == .created)
        #expect(try bench.record(ticketKey(4)).state == .created)
        for number in [5, 6] {
            let expired = try bench.record(ticketKey(number))
            #expect(expired.state == .failed)
            #expect(expired.errorCode == "expired")
            #expect(expired.reason?.contains("RETENTION_DAYS") == true)
            #expect(expired.updatedAt == testEpoch)
        }
        #expect(try bench.record(ticketKey(7)).state == .queued)
        // An expired record is removed a retention period later.
        #expect(AdminCommands.prune(bench.store, configuration: configuration, now: testEpoch.addingTimeInterval(31 * Self.day)) == 4)
    }

    @Test("prune leaves a record alone while another process holds its lock")
    func pruneBusy() throws {
        let bench = try DeliveryBench()
        try bench.store.write(sampleRecord(ticketKey(1), state: .created, at: testEpoch.addingTimeInterval(-40 * Self.day), sessionID: "sess-1"))
        let held = try #require(try bench.store.lock(ticketKey(1).digest, timeout: 0))
        #expect(AdminCommands.prune(bench.store, configuration: bench.configuration, now: testEpoch) == 0)
        held.release()
        #expect(try bench.store.read(ticketKey(1).digest) != nil)
    }

    @Test("retry prunes too, and says how many")
    func retryPrunes() throws {
        let bench = try DeliveryBench()
        try bench.store.write(sampleRecord(ticketKey(1), state: .created, at: testEpoch.addingTimeInterval(-40 * Self.day), sessionID: "sess-1"))
        #expect(retry(bench).stdout == "retry: 1 pruned\n")
        #expect(bench.store.allRecords().isEmpty)
    }

    // MARK: - The command line

    @Test("retry and status refuse an unknown option with exit 2", arguments: [
        ["retry", "--bogus"], ["status", "--now"], ["retry", "--json"], ["status", "--json", "-x"],
    ])
    func unknownOption(_ arguments: [String]) throws {
        let transport = ScriptedTransport()
        let result = try run(arguments, environment: requiredEnvironment, transport: transport)
        #expect(result.exitCode == 2)
        #expect(result.stdout == "")
        #expect(result.stderr.hasPrefix("devin-bridge \(arguments[0]): unknown option "))
        #expect(transport.requests.isEmpty)
    }

    @Test("status and retry with a missing STATE_DIR exit 1 naming it", arguments: ["status", "retry"])
    func missingStateDirectory(_ command: String) throws {
        let missing = makeStateDirectory() + "/absent"
        let result = try run([command], environment: requiredEnvironment.merging(["STATE_DIR": missing]) { $1 })
        #expect(result.exitCode == 1)
        #expect(result.stderr.contains(missing))
        #expect(result.stderr.hasPrefix("devin-bridge \(command): "))
        #expect(!FileManager.default.fileExists(atPath: missing))
    }

    @Test("check with a missing STATE_DIR exits 1 and names STATE_DIR")
    func checkMissingStateDirectory() throws {
        let missing = makeStateDirectory() + "/absent"
        let result = try run(["check"], environment: requiredEnvironment.merging(["STATE_DIR": missing]) { $1 })
        #expect(result.exitCode == 1)
        #expect(result.stdout.contains("state directory: \(missing) (missing)"))
        #expect(result.stderr.contains("problem: STATE_DIR \(missing) does not exist"))
        #expect(!result.stdout.contains("configuration OK"))
    }

    @Test("retry and status run from the command line over the configured STATE_DIR")
    func commandLine() throws {
        let directory = makeStateDirectory()
        let store = try FileStateStore(directory: directory)
        try store.write(sampleRecord(ticketKey(1), state: .queued, attempts: 1, nextAttemptAt: testEpoch))
        let environment = requiredEnvironment.merging(["STATE_DIR": directory]) { $1 }
        let transport = ScriptedTransport()
        let retried = try run(["retry"], environment: environment, transport: transport)
        #expect(retried.exitCode == 0)
        #expect(retried.stdout.hasSuffix("retry: 1 created\n"))
        #expect(transport.posts.count == 1)
        let status = try run(["status", "--json"], environment: environment)
        #expect(status.exitCode == 0)
        let object = try jsonObject(Array(status.stdout.utf8))
        #expect((object["sessions"] as? [Any])?.count == 1)
    }
}
