import Foundation
import Testing
@testable import DevinBridge

@Suite("Delivery: at most one session per ticket and label, nothing dropped")
struct DelivererTests {
    static let refused = ScriptedTransport.Answer.failure(.connection("connection refused"))

    // MARK: - Created and duplicate

    @Test("a new ticket creates one session and records it as created")
    func created() throws {
        let bench = try DeliveryBench()
        let key = ticketKey(1)
        let outcome = try bench.deliver(key, delivery: "d-1")
        #expect(outcome.kind == "created")
        #expect(outcome.record?.sessionID == "sess-0001")
        #expect(bench.transport.posts.count == 1)
        #expect(bench.transport.gets.isEmpty, "a fresh ticket needs no lookup")
        #expect(bench.transport.posts.first?.url == "https://api.devin.example/v3/organizations/org-test123/sessions")

        let record = try bench.record(key)
        #expect(record == outcome.record)
        #expect(record.state == .created)
        #expect(record.sessionID == "sess-0001")
        #expect(record.url == ScriptedTransport.url("sess-0001"))
        #expect(record.ticket == "PROJ-1" && record.label == "devin-autofix" && record.source == "generic")
        #expect(record.attempts == 1)
        #expect(record.uncertain == false)
        #expect(record.createdAt == testEpoch)
        #expect(record.deliveries == ["d-1"])
        #expect(bench.store.sessionsInLastHour(now: testEpoch) == 1)
    }

    @Test("the same ticket and label again is a duplicate: same session, no request")
    func duplicate() throws {
        let bench = try DeliveryBench()
        let key = ticketKey(1)
        _ = try bench.deliver(key, delivery: "d-1")
        bench.clock.advance(300)
        let again = try bench.deliver(key, delivery: "d-2")
        #expect(again.kind == "duplicate")
        #expect(again.record?.sessionID == "sess-0001")
        #expect(bench.transport.requests.count == 1)
        let record = try bench.record(key)
        #expect(record.state == .created)
        #expect(record.createdAt == testEpoch)
        #expect(record.updatedAt == testEpoch.addingTimeInterval(300), "a redelivery keeps the record fresh")
        #expect(record.deliveries == ["d-1", "d-2"])
        #expect(bench.ticketFiles.count == 1)
    }

    @Test("the label's case does not matter; another label is another session")
    func keyParts() throws {
        let bench = try DeliveryBench()
        _ = try bench.deliver(ticketKey(1, label: "devin-autofix"))
        #expect(try bench.deliver(ticketKey(1, label: "Devin-AutoFix")).kind == "duplicate")
        #expect(try bench.deliver(ticketKey(1, label: "devin-feature")).kind == "created")
        #expect(try bench.deliver(ticketKey(2, label: "devin-autofix")).kind == "created")
        #expect(bench.transport.posts.count == 3)
    }

    @Test("redeliveries record their delivery ids: at most 10, newest last, no consecutive repeats")
    func deliveryIDs() throws {
        let bench = try DeliveryBench()
        let key = ticketKey(1)
        for number in 1...12 {
            _ = try bench.deliver(key, delivery: "d-\(number)")
            #expect(try bench.record(key).deliveries.count == min(number, 10))
        }
        for repeated in ["d-12", nil, ""] as [String?] { _ = try bench.deliver(key, delivery: repeated) }
        #expect(try bench.record(key).deliveries == (3...12).map { "d-\($0)" })
        #expect(bench.transport.requests.count == 1)
    }

    @Test("noteDelivery keeps a non-consecutive repeat (a redelivery of an older event)")
    func noteDeliveryRepeat() {
        var record = sampleRecord(ticketKey(1), state: .created)
        for id in ["a", "b", "b", "a"] { record.noteDelivery(id) }
        #expect(record.deliveries == ["a", "b", "a"])
    }

    // MARK: - Queued

    @Test("a failure worth retrying queues the ticket for 60 s, keeping the reason", arguments: [
        (ScriptedTransport.status(500), "upstream_error"),
        (ScriptedTransport.status(503), "upstream_error"),
        (ScriptedTransport.status(429), "upstream_rate_limited"),
        (.failure(.timeout), "upstream_timeout"),
        (.failure(.connection("connection refused")), "upstream_unreachable"),
        (.failure(.dropped("connection reset by peer")), "upstream_unreachable"),
    ] as [(ScriptedTransport.Answer, String)])
    func retryable(_ answer: ScriptedTransport.Answer, _ code: String) throws {
        let bench = try DeliveryBench(transport: ScriptedTransport(creates: [answer]))
        let key = ticketKey(1)
        let outcome = try bench.deliver(key)
        #expect(outcome.kind == "queued")
        let record = try bench.record(key)
        #expect(record == outcome.record)
        #expect(record.state == .queued)
        #expect(record.errorCode == code)
        #expect(record.reason?.isEmpty == false)
        #expect(record.attempts == 1)
        #expect(record.nextAttemptAt == testEpoch.addingTimeInterval(60))
        #expect(bench.transport.requests.count == 1)
    }

    @Test("the backoff doubles per attempt, from a minute up to an hour")
    func backoff() throws {
        let failures = Array(repeating: Self.refused, count: 9)
        let bench = try DeliveryBench(transport: ScriptedTransport(creates: failures))
        let key = ticketKey(1)
        var outcome = try bench.deliver(key)
        var delays: [TimeInterval] = []
        for attempt in 1...9 {
            let record = try #require(outcome.record)
            #expect(outcome.kind == "queued")
            #expect(record.attempts == attempt)
            let next = try #require(record.nextAttemptAt)
            delays.append(next.timeIntervalSince(bench.clock.now))
            bench.clock.now = next
            if attempt < 9 { outcome = try bench.retry(key) }
        }
        #expect(delays == [60, 120, 240, 480, 960, 1920, 3600, 3600, 3600])
        #expect(bench.transport.posts.count == 9)
    }

    @Test("a 429's Retry-After sets the next attempt, in seconds or as an HTTP date, 1 s to a day", arguments: [
        ("90", 90.0),
        ("Thu, 01 Jan 2026 00:05:00 GMT", 300),
        ("Wed, 31 Dec 2025 23:00:00 GMT", 1),
        ("0", 1),
        ("200000", 86_400),
    ])
    func retryAfter(_ value: String, _ seconds: TimeInterval) throws {
        let answer = ScriptedTransport.status(429, headers: ["Retry-After": value])
        let bench = try DeliveryBench(transport: ScriptedTransport(creates: [answer]))
        let outcome = try bench.deliver(ticketKey(1))
        #expect(outcome.kind == "queued")
        #expect(outcome.record?.nextAttemptAt == testEpoch.addingTimeInterval(seconds))
        #expect(outcome.record?.reason?.contains("Retry-After: \(value)") == true)
    }

    @Test("a queued ticket delivered again answers queued: no request, one queue entry")
    func queuedRedelivered() throws {
        let bench = try DeliveryBench(transport: ScriptedTransport(creates: [Self.refused]))
        let key = ticketKey(1)
        _ = try bench.deliver(key, delivery: "d-1")
        bench.clock.advance(30)
        let again = try bench.deliver(key, delivery: "d-2")
        #expect(again.kind == "queued")
        #expect(bench.transport.requests.count == 1)
        #expect(bench.ticketFiles == [key.digest + ".json"])
        let record = try bench.record(key)
        #expect(record.attempts == 1)
        #expect(record.nextAttemptAt == testEpoch.addingTimeInterval(60), "a redelivery must not push the retry back")
        #expect(record.deliveries == ["d-1", "d-2"])
    }

    @Test("retry before the next attempt is due does nothing; once due it attempts")
    func retryNotDue() throws {
        let bench = try DeliveryBench(transport: ScriptedTransport(creates: [Self.refused]))
        let key = ticketKey(1)
        _ = try bench.deliver(key)
        bench.clock.advance(59)
        let early = try bench.retry(key)
        #expect(early.kind == "notDue")
        #expect(early.record?.state == .queued)
        #expect(bench.transport.requests.count == 1)
        bench.clock.advance(1)
        let due = try bench.retry(key)
        #expect(due.kind == "created")
        #expect(bench.transport.posts.count == 2)
        #expect(try bench.record(key).attempts == 2)
    }

    @Test("retry ignoring the backoff attempts at once")
    func retryNow() throws {
        let bench = try DeliveryBench(transport: ScriptedTransport(creates: [Self.refused]))
        let key = ticketKey(1)
        _ = try bench.deliver(key)
        let outcome = try bench.retry(key, ignoringBackoff: true)
        #expect(outcome.kind == "created")
        #expect(bench.transport.posts.count == 2)
    }

    @Test("retry leaves created and failed tickets alone", arguments: [false, true])
    func retrySettled(_ ignoringBackoff: Bool) throws {
        let bench = try DeliveryBench(transport: ScriptedTransport(creates: [ScriptedTransport.status(401)]))
        _ = try bench.deliver(ticketKey(1))
        _ = try bench.deliver(ticketKey(2))
        #expect(try bench.retry(ticketKey(1), ignoringBackoff: ignoringBackoff).kind == "notDue")
        #expect(try bench.retry(ticketKey(2), ignoringBackoff: ignoringBackoff).kind == "notDue")
        #expect(bench.transport.requests.count == 2)
    }

    // MARK: - Failed

    @Test("a refusal for good is kept as failed with its reason, and gives its slot back", arguments: [401, 403, 404, 422, 400])
    func nonRetryable(_ status: Int) throws {
        let bench = try DeliveryBench(maxSessionsPerHour: 5,
                                      transport: ScriptedTransport(creates: [ScriptedTransport.status(status)]))
        let key = ticketKey(1)
        let outcome = try bench.deliver(key)
        guard case .failed(let record, let error) = outcome else {
            Issue.record("expected failed, got \(outcome.kind)")
            return
        }
        #expect(error.code == "upstream_rejected")
        #expect(error.isRetryable == false)
        #expect(try bench.record(key) == record)
        #expect(record.state == .failed)
        #expect(record.errorCode == "upstream_rejected")
        #expect(record.reason?.contains("(HTTP \(status))") == true)
        #expect(record.nextAttemptAt == nil)
        #expect(record.uncertain == false)
        #expect(bench.store.sessionsInLastHour(now: testEpoch) == 0)
    }

    @Test("a failed ticket delivered again is attempted afresh")
    func failedRedelivered() throws {
        let bench = try DeliveryBench(transport: ScriptedTransport(creates: [ScriptedTransport.status(401)]))
        let key = ticketKey(1)
        #expect(try bench.deliver(key).kind == "failed")
        bench.clock.advance(600)
        let again = try bench.deliver(key)
        #expect(again.kind == "created")
        #expect(bench.transport.posts.count == 2)
        let record = try bench.record(key)
        #expect(record.state == .created)
        #expect(record.attempts == 1)
        #expect(record.reason == nil && record.errorCode == nil)
    }

    @Test("an answer without a session id fails, but the next delivery looks for the session first")
    func badAnswerIsUncertain() throws {
        let garbage = ScriptedTransport.Answer.success(HTTPResponse(status: 201, body: Array("{}".utf8)))
        let key = ticketKey(1)
        let transport = ScriptedTransport(creates: [garbage], lists: [ScriptedTransport.list([("sess-made", [key.legacyTag])])])
        let bench = try DeliveryBench(transport: transport)
        #expect(try bench.deliver(key).kind == "failed")
        #expect(try bench.record(key).errorCode == "upstream_bad_response")
        #expect(try bench.record(key).uncertain)
        let again = try bench.deliver(key)
        #expect(again.kind == "duplicate")
        #expect(again.record?.sessionID == "sess-made")
        #expect(bench.transport.posts.count == 1)
    }

    // MARK: - Uncertain attempts

    @Test("after an attempt that may have created a session, the next one looks it up by tag and adopts it", arguments: [
        ScriptedTransport.Answer.failure(.timeout),
        .failure(.dropped("connection reset by peer")),
        ScriptedTransport.status(500),
        ScriptedTransport.status(502),
    ])
    func adoptAfterUncertain(_ firstAnswer: ScriptedTransport.Answer) throws {
        let key = ticketKey(1)
        let earlier = ScriptedTransport.list([("sess-earlier", ["ticket:PROJ-1", "devin-bridge", key.legacyTag])])
        let bench = try DeliveryBench(transport: ScriptedTransport(creates: [firstAnswer], lists: [earlier]))
        #expect(try bench.deliver(key).kind == "queued")
        #expect(try bench.record(key).uncertain)

        bench.clock.advance(120)
        let outcome = try bench.retry(key)
        #expect(outcome.kind == "duplicate")
        #expect(bench.transport.posts.count == 1, "a second session was requested")
        let lookup = try #require(bench.transport.gets.first)
        #expect(bench.transport.gets.count == 1)
        #expect(lookup.url.hasPrefix("https://api.devin.example/v3/organizations/org-test123/sessions?"))
        let tags = URLComponents(string: lookup.url)?.queryItems?.first { $0.name == "tags" }?.value
        #expect(tags == key.legacyTag)
        #expect(lookup.headers["Authorization"] == "Bearer \(FakeSecret.apiKey)")

        let record = try bench.record(key)
        #expect(record.state == .created)
        #expect(record.sessionID == "sess-earlier")
        #expect(record.url == ScriptedTransport.url("sess-earlier"))
        #expect(record.uncertain == false)
        #expect(record.nextAttemptAt == nil && record.errorCode == nil)
        // A later delivery is a plain duplicate: no lookup, no request.
        #expect(try bench.deliver(key).kind == "duplicate")
        #expect(bench.transport.requests.count == 2)
    }

    @Test("the lookup URL asks for exactly the key's tag, safely encoded")
    func lookupURLEncoding() throws {
        let key = ticketKey(1)
        let bench = try DeliveryBench(transport: ScriptedTransport(creates: [.failure(.timeout)]))
        _ = try bench.deliver(key)
        _ = try bench.retry(key, ignoringBackoff: true)
        let lookup = try #require(bench.transport.gets.first)
        let components = try #require(URLComponents(string: lookup.url))
        #expect(components.path == "/v3/organizations/org-test123/sessions")
        #expect(components.queryItems?.first { $0.name == "tags" }?.value == key.legacyTag)
        #expect(components.queryItems?.count == 2, "one tags= and one first= parameter: \(lookup.url)")
        // ':' may stay literal in a query (RFC 3986 §3.4) or be sent as %3A; nothing else may be raw.
        let raw = try #require(components.percentEncodedQuery)
        #expect(raw.hasPrefix("tags=devin-bridge:\(key.digest.prefix(20))&") || raw.hasPrefix("tags=devin-bridge%3A\(key.digest.prefix(20))&"))
    }

    @Test("repeated lookup failures back off like repeated create failures")
    func lookupBackoff() throws {
        let key = ticketKey(1)
        let down = Array(repeating: ScriptedTransport.status(503), count: 3)
        let bench = try DeliveryBench(transport: ScriptedTransport(lists: down))
        try bench.store.write(sampleRecord(key, state: .inFlight, at: diedInFlight, attempts: 1))
        var delays: [TimeInterval] = []
        for _ in 0..<3 {
            let outcome = try bench.retry(key)
            let next = try #require(outcome.record?.nextAttemptAt)
            delays.append(next.timeIntervalSince(bench.clock.now))
            bench.clock.now = next
        }
        #expect(bench.transport.posts.isEmpty)
        #expect(delays[1] > delays[0] && delays[2] > delays[1], "delays \(delays)")
        #expect(delays.allSatisfy { $0 >= 60 })
    }

    @Test("a session created but not recorded (state write fails) keeps its slot and is adopted later")
    func createdButNotRecorded() throws {
        final class Sabotage: @unchecked Sendable { var tickets = "" }
        let sabotage = Sabotage()
        let key = ticketKey(1)
        // During the POST the tickets directory is swapped for a file, so recording the answer fails.
        let transport = ScriptedTransport(lists: [ScriptedTransport.list([("sess-0001", [key.legacyTag])])], duringCreate: {
            _ = rename(sabotage.tickets, sabotage.tickets + ".away")
            _ = FileManager.default.createFile(atPath: sabotage.tickets, contents: Data())
        })
        let bench = try DeliveryBench(maxSessionsPerHour: 3, transport: transport)
        sabotage.tickets = bench.store.ticketsDirectory
        // The truth: the session exists, only its record is missing.
        let outcome = try bench.deliver(key)
        guard case .createdUnrecorded(let record, let error) = outcome else {
            Issue.record("expected createdUnrecorded, got \(outcome.kind)")
            return
        }
        #expect(record.sessionID == "sess-0001")
        #expect(error.code == "state_unavailable")
        #expect(bench.transport.posts.count == 1)
        #expect(bench.store.sessionsInLastHour(now: testEpoch) == 1)
        // The disk comes back: the in-flight marker makes the next delivery look, and adopt.
        #expect(unlink(sabotage.tickets) == 0)
        #expect(rename(sabotage.tickets + ".away", sabotage.tickets) == 0)
        #expect(try bench.record(key).state == .inFlight)
        // Within the call's time the record is left alone; after it, the look-up adopts.
        #expect(try bench.deliver(key).kind == "inProgress")
        bench.clock.advance(bench.configuration.timeoutSeconds + Deliverer.inFlightMargin)
        let again = try bench.deliver(key)
        #expect(again.kind == "duplicate")
        #expect(again.record?.sessionID == "sess-0001")
        #expect(bench.transport.posts.count == 1)
    }

    @Test("an in-flight record younger than the call's timeout is left alone: its request may still arrive", arguments: [false, true])
    func inFlightRecentlyIsLeftAlone(_ byRetry: Bool) throws {
        let key = ticketKey(1)
        let found = ScriptedTransport.list([("sess-late", [key.legacyTag])])
        let bench = try DeliveryBench(transport: ScriptedTransport(lists: [found]))
        try bench.store.write(sampleRecord(key, state: .inFlight, attempts: 1))
        // The process died just now, mid-call: no look-up, no second request.
        bench.clock.advance(bench.configuration.timeoutSeconds + Deliverer.inFlightMargin - 1)
        let early = byRetry ? try bench.retry(key) : try bench.deliver(key)
        #expect(early.kind == "inProgress")
        #expect(bench.transport.requests.isEmpty)
        #expect(try bench.record(key).state == .inFlight)
        // Once that request's time is over, the look-up finds the session it created.
        bench.clock.advance(1)
        let later = byRetry ? try bench.retry(key) : try bench.deliver(key)
        #expect(later.kind == "duplicate")
        #expect(later.record?.sessionID == "sess-late")
        #expect(bench.transport.posts.isEmpty)
    }

    @Test("an in-flight record left by a dead process is resolved by lookup, live or by retry", arguments: [false, true])
    func adoptAfterCrash(_ byRetry: Bool) throws {
        let key = ticketKey(1)
        let found = ScriptedTransport.list([("sess-crashed", [key.legacyTag])])
        let bench = try DeliveryBench(transport: ScriptedTransport(lists: [found]))
        try bench.store.write(sampleRecord(key, state: .inFlight, at: diedInFlight, attempts: 1))
        bench.clock.advance(5)
        let outcome = byRetry ? try bench.retry(key) : try bench.deliver(key)
        #expect(outcome.kind == "duplicate")
        #expect(outcome.record?.sessionID == "sess-crashed")
        #expect(bench.transport.gets.count == 1)
        #expect(bench.transport.posts.isEmpty)
        #expect(try bench.record(key).state == .created)
    }

    @Test("when the lookup finds nothing, the ticket gets its one session", arguments: [
        [] as [(String, [String])],
        [("sess-other", ["devin-bridge:0000000000000000000a"])],
    ])
    func lookupFindsNothing(_ sessions: [(String, [String])]) throws {
        let key = ticketKey(1)
        let bench = try DeliveryBench(transport: ScriptedTransport(lists: [ScriptedTransport.list(sessions)]))
        try bench.store.write(sampleRecord(key, state: .inFlight, at: diedInFlight, attempts: 1))
        let outcome = try bench.deliver(key)
        #expect(outcome.kind == "created")
        #expect(outcome.record?.sessionID == "sess-0001")
        #expect(bench.transport.requests.map(\.method) == ["GET", "POST"])
        let record = try bench.record(key)
        #expect(record.uncertain == false)
        #expect(record.attempts == 2)
    }

    @Test("a lookup that fails for a retryable reason keeps the ticket queued, without creating", arguments: [
        ScriptedTransport.status(500),
        ScriptedTransport.status(429),
        .failure(.timeout),
        .failure(.connection("connection refused")),
    ])
    func lookupRetryable(_ answer: ScriptedTransport.Answer) throws {
        let key = ticketKey(1)
        let bench = try DeliveryBench(transport: ScriptedTransport(lists: [answer]))
        try bench.store.write(sampleRecord(key, state: .inFlight, at: diedInFlight, attempts: 1))
        let outcome = try bench.retry(key)
        #expect(outcome.kind == "queued")
        #expect(bench.transport.posts.isEmpty)
        let record = try bench.record(key)
        #expect(record.state == .queued)
        #expect(record.uncertain, "the next attempt must look again")
        #expect(record.reason?.contains("could not check") == true)
        // The failed look-up is the record's second attempt: 2 minutes.
        #expect(record.nextAttemptAt == testEpoch.addingTimeInterval(120))
    }

    @Test("a lookup refused with 403 fails the ticket, naming the ViewOrgSessions permission")
    func lookupForbidden() throws {
        let key = ticketKey(1)
        let bench = try DeliveryBench(transport: ScriptedTransport(lists: [ScriptedTransport.status(403)]))
        try bench.store.write(sampleRecord(key, state: .inFlight, at: diedInFlight, attempts: 1))
        let outcome = try bench.deliver(key)
        #expect(outcome.kind == "failed")
        #expect(bench.transport.posts.isEmpty)
        let record = try bench.record(key)
        #expect(record.state == .failed)
        #expect(record.reason?.contains("ViewOrgSessions") == true)
        #expect(record.uncertain, "after the permission is fixed, a redelivery must still look first")
    }

    @Test("a refused connection sent nothing: the next attempt creates without a lookup")
    func refusedIsCertain() throws {
        let bench = try DeliveryBench(transport: ScriptedTransport(creates: [Self.refused]))
        let key = ticketKey(1)
        _ = try bench.deliver(key)
        #expect(try bench.record(key).uncertain == false)
        #expect(try bench.retry(key, ignoringBackoff: true).kind == "created")
        #expect(bench.transport.gets.isEmpty)
    }

    @Test("while a request is in flight, the record on disk says so and retry keeps off the ticket")
    func inFlightMarker() throws {
        final class Probe: @unchecked Sendable {
            var bench: DeliveryBench?
            var stateDuringCall: DeliveryRecord.State?
            var retryDuringCall: String?
        }
        let probe = Probe()
        let key = ticketKey(1)
        let transport = ScriptedTransport(duringCreate: {
            probe.stateDuringCall = try? probe.bench?.store.read(key.digest)?.state
            probe.retryDuringCall = (try? probe.bench?.retry(key, ignoringBackoff: true))?.kind
        })
        let bench = try DeliveryBench(transport: transport)
        probe.bench = bench
        #expect(try bench.deliver(key).kind == "created")
        #expect(probe.stateDuringCall == .inFlight)
        #expect(probe.retryDuringCall == "inProgress")
        #expect(bench.transport.posts.count == 1)
    }

    // MARK: - The cap

    @Test("over MAX_SESSIONS_PER_HOUR a ticket is queued until the oldest session is an hour old; --now does not bypass it")
    func cap() throws {
        let bench = try DeliveryBench(maxSessionsPerHour: 2)
        #expect(try bench.deliver(ticketKey(1)).kind == "created")
        bench.clock.advance(60)
        #expect(try bench.deliver(ticketKey(2)).kind == "created")
        bench.clock.advance(60)
        let third = try bench.deliver(ticketKey(3))
        #expect(third.kind == "queued")
        let record = try bench.record(ticketKey(3))
        #expect(record.errorCode == "session_cap")
        #expect(record.reason?.contains("MAX_SESSIONS_PER_HOUR (2)") == true)
        #expect(record.nextAttemptAt == testEpoch.addingTimeInterval(3600))
        #expect(bench.transport.posts.count == 2)

        // A duplicate needs no slot.
        #expect(try bench.deliver(ticketKey(1)).kind == "duplicate")
        #expect(try bench.retry(ticketKey(3), ignoringBackoff: true).kind == "queued")
        #expect(try bench.record(ticketKey(3)).errorCode == "session_cap")
        #expect(bench.transport.posts.count == 2)

        bench.clock.now = testEpoch.addingTimeInterval(3600)
        #expect(try bench.retry(ticketKey(3)).kind == "created")
        #expect(bench.transport.posts.count == 3)
        #expect(try bench.deliver(ticketKey(4)).kind == "queued", "the second session still holds its slot")
    }

    @Test("an attempt that may have created a session keeps its slot; one that surely did not gives it back", arguments: [
        (ScriptedTransport.Answer.failure(.timeout), 1),
        (.failure(.dropped("connection reset by peer")), 1),
        (ScriptedTransport.status(500), 1),
        (.failure(.connection("connection refused")), 0),
        (ScriptedTransport.status(429), 0),
        (ScriptedTransport.status(401), 0),
    ])
    func reservation(_ answer: ScriptedTransport.Answer, _ kept: Int) throws {
        let bench = try DeliveryBench(maxSessionsPerHour: 3, transport: ScriptedTransport(creates: [answer]))
        _ = try bench.deliver(ticketKey(1))
        #expect(bench.store.sessionsInLastHour(now: testEpoch) == kept)
    }

    @Test("with the system clock, a refused connection gives its slot back")
    func reservationWithSystemClock() throws {
        let configuration = makeConfiguration(maxSessionsPerHour: 3)
        let store = try FileStateStore(directory: configuration.stateDirectory)
        let transport = ScriptedTransport(creates: [Self.refused])
        let deliverer = Deliverer(store: store, client: DevinClient(configuration: configuration, transport: transport),
                                  configuration: configuration,
                                  clock: BridgeClock(now: { Date(timeIntervalSince1970: 1_767_225_600.5) },
                                                     uptimeNanoseconds: { 0 }))
        let key = ticketKey(1)
        _ = try deliverer.deliver(key, request: storedRequest(for: key), delivery: nil)
        #expect(store.sessionsInLastHour(now: Date(timeIntervalSince1970: 1_767_225_601)) == 0)
    }

    // MARK: - Secrets

    @Test("the session request carries the ticket token; the stored record never does")
    func secrets() throws {
        let bench = try DeliveryBench(transport: ScriptedTransport(creates: [ScriptedTransport.status(500)]))
        let key = ticketKey(1)
        _ = try bench.deliver(key)
        let spooled = try #require(FileManager.default.contents(atPath: bench.store.recordPath(key.digest)))
        #expect(!spooled.text.contains(FakeSecret.marker), "the spool holds a secret")
        _ = try bench.retry(key, ignoringBackoff: true)
        #expect(bench.transport.posts.count == 2)
        for post in bench.transport.posts {
            let body = try jsonObject(post.body)
            let secrets = try #require(body["session_secrets"] as? [[String: Any]])
            #expect(secrets.first?["key"] as? String == "TICKET_API_TOKEN")
            #expect(secrets.first?["value"] as? String == FakeSecret.ticketToken)
        }
        let record = try bench.record(key)
        #expect(record.state == .created)
        #expect(record.request.session_secrets == nil)
        let stored = try #require(FileManager.default.contents(atPath: bench.store.recordPath(key.digest)))
        #expect(!stored.text.contains(FakeSecret.marker))
        #expect(!stored.text.contains(FakeSecret.apiKey))
    }

    // MARK: - Concurrency

    @Test("20 simultaneous deliveries of one ticket create exactly one session")
    func concurrent() throws {
        let bench = try DeliveryBench(transport: ScriptedTransport(createDelay: 0.05))
        let key = ticketKey(1)
        final class Results: @unchecked Sendable {
            let lock = NSLock()
            var kinds: [String] = []
            func add(_ kind: String) { lock.lock(); kinds.append(kind); lock.unlock() }
        }
        let results = Results()
        let gate = DispatchSemaphore(value: 0)
        let group = DispatchGroup()
        for number in 0..<20 {
            group.enter()
            Thread {
                gate.wait()
                do { results.add(try bench.deliver(key, delivery: "d-\(number)").kind) } catch { results.add("error: \(error)") }
                group.leave()
            }.start()
        }
        for _ in 0..<20 { gate.signal() }
        #expect(group.wait(timeout: .now() + 30) == .success)
        #expect(bench.transport.posts.count == 1)
        #expect(results.kinds.count == 20)
        #expect(results.kinds.filter { $0 == "created" }.count == 1)
        #expect(results.kinds.allSatisfy { ["created", "duplicate", "inProgress"].contains($0) }, "\(results.kinds)")
        #expect(try bench.record(key).state == .created)
        #expect(bench.ticketFiles.count == 1)
    }
}

@Suite("Request handling with a state directory")
struct HandlerStateTests {
    func handler(_ configuration: Configuration, transport: ScriptedTransport) -> Handler {
        Handler(report: makeReport(configuration), transport: transport, clock: SettableClock().clock, version: "9.9.9-test")
    }

    @Test("a redelivery answers 200 duplicate with the same session, without a second request")
    func redelivery() throws {
        let configuration = makeConfiguration()
        let transport = ScriptedTransport()
        let handler = handler(configuration, transport: transport)
        let first = deliverWebhook(handler, delivery: "delivery-a")
        #expect(first.response.status == .ok)
        let created = try jsonObject(first.response.body)
        #expect(created["status"] as? String == "created")
        #expect(created["session_id"] as? String == "sess-0001")

        let second = deliverWebhook(handler, delivery: "delivery-b")
        #expect(second.response.status == .ok)
        let duplicate = try jsonObject(second.response.body)
        #expect(duplicate["status"] as? String == "duplicate")
        #expect(duplicate["session_id"] as? String == "sess-0001")
        #expect(duplicate["url"] as? String == ScriptedTransport.url("sess-0001"))
        #expect(duplicate["ticket"] as? String == "PROJ-123")
        #expect(second.log["decision"] == "duplicate")
        #expect(second.log["session"] == "sess-0001")
        #expect(second.log["delivery"] == "delivery-b")
        #expect(transport.requests.count == 1)
        let records = try FileStateStore(directory: configuration.stateDirectory).allRecords()
        #expect(records.map(\.deliveries) == [["delivery-a", "delivery-b"]])
    }

    @Test("a queued ticket answers 202 with next_attempt_at, and again 202 on redelivery, with one record")
    func queued() throws {
        let configuration = makeConfiguration()
        let transport = ScriptedTransport(creates: [DelivererTests.refused])
        let handler = handler(configuration, transport: transport)
        for _ in 0..<2 {
            let outcome = deliverWebhook(handler)
            #expect(outcome.response.status == .accepted)
            let body = try jsonObject(outcome.response.body)
            #expect(body["status"] as? String == "queued")
            #expect(body["next_attempt_at"] as? String == "2026-01-01T00:01:00Z")
            #expect((body["reason"] as? String)?.contains("could not be reached") == true)
            #expect(outcome.log["decision"] == "queued")
            #expect(outcome.log["next_attempt"] == "2026-01-01T00:01:00Z")
        }
        #expect(transport.requests.count == 1)
        #expect(try FileStateStore(directory: configuration.stateDirectory).allRecords().count == 1)
    }

    @Test("a refusal answers 502 and is kept as failed; the next delivery tries again")
    func failedThenRedelivered() throws {
        let configuration = makeConfiguration()
        let transport = ScriptedTransport(creates: [ScriptedTransport.status(403)])
        let handler = handler(configuration, transport: transport)
        let first = deliverWebhook(handler)
        #expect(first.response.status == .badGateway)
        #expect(first.log["decision"] == "failed")
        let second = deliverWebhook(handler)
        #expect(second.response.status == .ok)
        #expect(try jsonObject(second.response.body)["status"] as? String == "created")
        #expect(transport.posts.count == 2)
    }

    @Test("a STATE_DIR that does not exist is 500 state_unavailable; only the log names the directory")
    func stateMissing() throws {
        let missing = makeStateDirectory() + "/not-created"
        let transport = ScriptedTransport()
        let outcome = deliverWebhook(handler(makeConfiguration(stateDirectory: missing), transport: transport))
        #expect(outcome.response.status == .internalServerError)
        let body = try jsonObject(outcome.response.body)
        #expect(body["error"] as? String == "state_unavailable")
        #expect(!outcome.response.body.text.contains(missing))
        #expect(outcome.log["error"] == "state_unavailable")
        #expect(outcome.log["reason"]?.contains(missing) == true)
        #expect(transport.requests.isEmpty, "a ticket that cannot be recorded must not start a session")
    }

    @Test("DRY_RUN writes nothing to the state directory")
    func dryRun() throws {
        let configuration = makeConfiguration(dryRun: true)
        let transport = ScriptedTransport()
        let outcome = deliverWebhook(handler(configuration, transport: transport))
        #expect(outcome.response.status == .ok)
        #expect(try jsonObject(outcome.response.body)["status"] as? String == "dry_run")
        #expect(transport.requests.isEmpty)
        #expect(try FileManager.default.contentsOfDirectory(atPath: configuration.stateDirectory).isEmpty)
    }

    @Test("a ticket whose earlier attempt died in flight is answered duplicate with the adopted session")
    func adoptsViaHandler() throws {
        let configuration = makeConfiguration()
        let key = TicketKey(source: "generic", ticket: "PROJ-123", label: "devin-autofix")
        let store = try FileStateStore(directory: configuration.stateDirectory)
        try store.write(sampleRecord(key, state: .inFlight, at: diedInFlight, attempts: 1))
        let transport = ScriptedTransport(lists: [ScriptedTransport.list([("sess-crashed", [key.legacyTag])])])
        let outcome = deliverWebhook(handler(configuration, transport: transport))
        #expect(outcome.response.status == .ok)
        let body = try jsonObject(outcome.response.body)
        #expect(body["status"] as? String == "duplicate")
        #expect(body["session_id"] as? String == "sess-crashed")
        #expect(transport.posts.isEmpty)
    }
}
