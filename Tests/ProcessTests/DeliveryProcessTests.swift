import Foundation
import Testing

/// Delivery guarantees through the real CGI process and the real state directory, with faults
/// injected at the API stand-in. Every scenario ends by counting the sessions the stand-in
/// created: exactly one per (ticket, label), and every accepted ticket created or visibly failed.
@Suite("Never lose a ticket, never start a session twice")
struct DeliveryProcessTests {
    @Test("A redelivery after success answers duplicate with the same session, without calling the API")
    func redeliveryAfterSuccess() throws {
        let api = try StandIn()
        defer { api.stop() }
        let bridge = BridgeProcess(apiBase: api.baseURL)
        let body = ticketBody()
        let first = try bridge.signedPost(body, headers: ["X-GitHub-Delivery": "d-1"])
        #expect(first.status == 200)
        #expect(first.json["status"] as? String == "created")
        // A manual redelivery (same delivery id) and a later update event (new id).
        for delivery in ["d-1", "d-2"] {
            let again = try bridge.signedPost(body, headers: ["X-GitHub-Delivery": delivery])
            #expect(again.status == 200)
            #expect(again.json["status"] as? String == "duplicate")
            #expect(again.json["session_id"] as? String == first.json["session_id"] as? String)
            #expect(again.stderr.contains("decision=duplicate"))
            #expect(again.stderr.contains("delivery=\(delivery)"))
        }
        #expect(api.requests.count == 1)
        #expect(api.sessions.count == 1)
        // Another trigger label on the same ticket is another unit of work.
        let feature = try bridge.signedPost(ticketBody(labels: ["devin-feature"]))
        #expect(feature.json["status"] as? String == "created")
        #expect(api.sessions.count == 2)
    }

    @Test("50 simultaneous identical deliveries yield exactly one session")
    func fiftyConcurrentDeliveries() throws {
        let api = try StandIn()
        defer { api.stop() }
        let bridge = BridgeProcess(apiBase: api.baseURL)
        let body = ticketBody()
        let signature = try bridge.signature(body)
        let results = ResultsBox()
        DispatchQueue.concurrentPerform(iterations: 50) { index in
            let output = try? bridge.request(body: body, headers: ["X-Hub-Signature-256": signature, "X-Request-Id": "burst-\(index)"])
            results.append(output)
        }
        let outputs = results.values.compactMap { $0 }
        #expect(outputs.count == 50)
        #expect(api.sessions.count == 1)
        let statuses = outputs.map { $0.json["status"] as? String ?? "?" }
        #expect(statuses.filter { $0 == "created" }.count == 1)
        #expect(statuses.allSatisfy { ["created", "duplicate", "in_progress"].contains($0) }, "\(Set(statuses))")
        #expect(bridge.records.count == 1)
    }

    @Test("A 500 is queued and delivered by retry --now once the API is back; retry honours the backoff")
    func apiComesBack() throws {
        let api = try StandIn(fault: "500", failTimes: 1)
        defer { api.stop() }
        let bridge = BridgeProcess(apiBase: api.baseURL)
        let body = ticketBody()
        let queued = try bridge.signedPost(body)
        #expect(queued.status == 202)
        #expect(queued.json["status"] as? String == "queued")
        #expect(queued.json["next_attempt_at"] as? String != nil)

        // Redelivered while queued: still one queue entry, no call.
        let again = try bridge.signedPost(body)
        #expect(again.status == 202)
        #expect(again.json["status"] as? String == "queued")
        #expect(bridge.records.count == 1)
        #expect(api.requests.count == 1)

        // Not due yet (first backoff is a minute): a plain retry leaves it alone.
        let early = try bridge.command(["retry"])
        #expect(early.exitCode == 0)
        #expect(early.stdout.contains("1 not due"))
        #expect(api.requests.count == 1)

        let status = try bridge.command(["status"])
        #expect(status.stdout.contains("queued (1)"))
        #expect(status.stdout.contains("HTTP 500"))

        let now = try bridge.command(["retry", "--now"])
        #expect(now.exitCode == 0, "\(now.stderr)")
        #expect(now.stdout.contains("created  4711 [devin-autofix]") || now.stdout.contains("adopted  4711"))
        #expect(api.sessions.count == 1)
        let after = try bridge.signedPost(body)
        #expect(after.json["status"] as? String == "duplicate")
        #expect(api.sessions.count == 1)
    }

    @Test("A 429 waits for its Retry-After; without one, for the backoff")
    func rateLimited() throws {
        for (retryAfter, seconds) in [("120", 120.0), (nil, 60.0)] as [(String?, Double)] {
            let api = try StandIn(fault: "429", retryAfter: retryAfter)
            defer { api.stop() }
            let bridge = BridgeProcess(apiBase: api.baseURL)
            let before = Date()
            let answer = try bridge.signedPost(ticketBody())
            #expect(answer.status == 202)
            let next = try #require((answer.json["next_attempt_at"] as? String).flatMap { ISO8601DateFormatter().date(from: $0) })
            #expect(abs(next.timeIntervalSince(before) - seconds) < 5, "next attempt \(next) for Retry-After \(retryAfter ?? "none")")
            #expect(api.sessions.isEmpty)
        }
    }

    @Test("An answer lost to a timeout, a dropped connection or an oversized body never leads to a second session",
          arguments: ["created-then-timeout", "created-then-drop", "created-then-oversized"])
    func lostAnswer(fault: String) throws {
        let api = try StandIn(fault: fault, failTimes: 1, delay: 3)
        defer { api.stop() }
        let bridge = BridgeProcess(apiBase: api.baseURL, extra: ["DEVIN_TIMEOUT_SECONDS": fault == "created-then-oversized" ? "10" : "1"])
        let body = ticketBody()
        let lost = try bridge.signedPost(body)
        #expect(lost.status == 202, "\(lost.raw)")
        #expect(api.sessions.count == 1, "the stand-in created the session before losing the answer")
        if fault == "created-then-oversized" {
            // Read up to 16 MiB and no further: the 24 MiB answer is cut off, and the log says why.
            #expect(lost.stderr.contains("the answer is larger than 16 MiB"), "\(lost.stderr)")
        }

        // The admin's retry (and any redelivery) looks the session up by its tag and adopts it.
        let retry = try bridge.command(["retry", "--now"])
        #expect(retry.stdout.contains("adopted  4711 [devin-autofix]"), "\(retry.stdout) \(retry.stderr)")
        let again = try bridge.signedPost(body)
        #expect(again.json["status"] as? String == "duplicate")
        #expect(again.json["session_id"] as? String == api.sessions.first?["session_id"] as? String)
        #expect(api.sessions.count == 1)
    }

    @Test("A process killed between sending the request and recording the answer is recovered by retry without a duplicate")
    func killedMidCall() throws {
        let api = try StandIn(fault: "created-then-timeout", failTimes: 1, delay: 60)
        defer { api.stop() }
        // The process dies with the request in flight (the session created, the answer not yet
        // read): its lock goes with it, and a retry finds the session instead of creating another.
        let bridge = BridgeProcess(apiBase: api.baseURL, extra: ["DEVIN_TIMEOUT_SECONDS": "4"])
        let body = ticketBody()
        let process = try bridge.start(body: body, headers: ["X-Hub-Signature-256": try bridge.signature(body)])
        // Wait until the stand-in has created the session: the bridge is now waiting for the answer.
        let deadline = Date().addingTimeInterval(20)
        while api.sessions.isEmpty && Date() < deadline { usleep(20_000) }
        #expect(api.sessions.count == 1)
        #expect(bridge.records.first?["state"] as? String == "in_flight")
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()

        // Right away the record is left alone: its request's time (4 s and a margin) is not over.
        let early = try bridge.command(["retry"])
        #expect(early.stdout.contains("1 busy"), "\(early.stdout) \(early.stderr)")
        #expect(try bridge.signedPost(body).json["status"] as? String == "in_progress")
        var retry = early
        let until = Date().addingTimeInterval(15)
        while !retry.stdout.contains("adopted") && Date() < until {
            usleep(500_000)
            retry = try bridge.command(["retry"])
        }
        #expect(retry.stdout.contains("adopted  4711 [devin-autofix]"), "\(retry.stdout) \(retry.stderr)")
        #expect(bridge.records.first?["state"] as? String == "created")
        #expect(bridge.records.first?["session_id"] as? String == api.sessions.first?["session_id"] as? String)
        let again = try bridge.signedPost(body)
        #expect(again.json["status"] as? String == "duplicate")
        #expect(api.sessions.count == 1)
    }

    @Test("Over MAX_SESSIONS_PER_HOUR tickets are queued, not dropped, and retry --now does not lift the cap")
    func sessionCap() throws {
        let api = try StandIn()
        defer { api.stop() }
        let bridge = BridgeProcess(apiBase: api.baseURL, extra: ["MAX_SESSIONS_PER_HOUR": "2"])
        let answers = try (1...3).map { try bridge.signedPost(ticketBody(id: "CAP-\($0)")) }
        #expect(answers.map(\.status) == [200, 200, 202])
        #expect((answers[2].json["reason"] as? String)?.contains("MAX_SESSIONS_PER_HOUR") == true)
        #expect(answers[2].stderr.contains("decision=queued"))
        #expect(answers[2].stderr.contains("MAX_SESSIONS_PER_HOUR"))
        let retry = try bridge.command(["retry", "--now"])
        #expect(retry.stdout.contains("queued   CAP-3 [devin-autofix]"), "\(retry.stdout)")
        #expect(api.sessions.count == 2)
        let status = try bridge.command(["status"])
        #expect(status.stdout.contains("sessions in the last hour: 2 (cap 2"))
        #expect(status.stdout.contains("CAP-3"))
    }

    @Test("Without libcurl on the host, an accepted ticket is queued with a reason that says so, not lost",
          .enabled(if: getuid() == 0, "needs root for a mount namespace"))
    func missingLibcurl() throws {
        let api = try StandIn()
        defer { api.stop() }
        var environment = BridgeProcess(apiBase: api.baseURL).configuration
        let state = TemporaryDirectory()
        environment["STATE_DIR"] = state.path
        let body = ticketBody()
        let signature = try BridgeProcess(apiBase: api.baseURL).signature(body)
        environment.merge(["GATEWAY_INTERFACE": "CGI/1.1", "REQUEST_METHOD": "POST", "CONTENT_LENGTH": String(body.count),
                           "CONTENT_TYPE": "application/json", "HTTP_X_HUB_SIGNATURE_256": signature]) { $1 }
        // The real binary, in a mount namespace where libcurl.so.4 is an empty file: dlopen fails
        // there as it does on a host without libcurl4.
        let library = try FileManager.default.destinationOfSymbolicLink(atPath: "/lib/x86_64-linux-gnu/libcurl.so.4")
        let path = library.hasPrefix("/") ? library : "/lib/x86_64-linux-gnu/" + library
        let output = try CGIOutput(runProcess("/usr/bin/unshare", arguments: [
            "--mount", "--", "/bin/sh", "-c", #"mount --bind /dev/null "$1" && exec "$2""#, "sh", path, Paths.binary,
        ], environment: environment, stdin: body))
        #expect(output.status == 202, "\(output.raw)")
        #expect((output.json["reason"] as? String)?.contains("libcurl") == true, "\(output.json)")
        #expect(output.stderr.contains("apt-get install libcurl4"), "\(output.stderr)")
        #expect(api.requests.isEmpty)
        // Where libcurl is, the queued ticket is delivered by the next retry.
        var retryEnvironment = BridgeProcess(apiBase: api.baseURL).configuration
        retryEnvironment["STATE_DIR"] = state.path
        let retry = try runProcess(Paths.binary, arguments: ["retry", "--now"], environment: retryEnvironment, stdin: [])
        #expect(api.sessions.count == 1, "\(retry)")
    }

    @Test("A refusal is kept as failed with its reason, and a redelivery after the fix is tried again")
    func failedThenRedelivered() throws {
        let api = try StandIn(fault: "401", failTimes: 1)
        defer { api.stop() }
        let bridge = BridgeProcess(apiBase: api.baseURL)
        let body = ticketBody()
        let refused = try bridge.signedPost(body)
        #expect(refused.status == 502)
        let status = try bridge.command(["status"])
        #expect(status.stdout.contains("failed (1)"))
        #expect(status.stdout.contains("DEVIN_API_KEY"))
        // The retry timer leaves failed tickets alone; the admin's redelivery tries again.
        _ = try bridge.command(["retry", "--now"])
        #expect(api.sessions.isEmpty)
        let fixed = try bridge.signedPost(body)
        #expect(fixed.status == 200)
        #expect(fixed.json["status"] as? String == "created")
        #expect(api.sessions.count == 1)
    }
}

/// Collects results from concurrent work.
final class ResultsBox: @unchecked Sendable {
    private let lock = NSLock()
    private var items: [CGIOutput?] = []
    func append(_ item: CGIOutput?) { lock.lock(); items.append(item); lock.unlock() }
    var values: [CGIOutput?] { lock.lock(); defer { lock.unlock() }; return items }
}
