import Foundation
import Testing

/// The bridge under its own group (setgid devin-bridge), served by the real web servers next to
/// another www-data script: that script reads no secret and touches no record, while the bridge
/// still reads its configuration, records the ticket and creates the session.
@Suite("The bridge's own identity", .serialized)
struct IdentityTests {
    @Test("Another www-data script cannot read bridge.conf or enter STATE_DIR; the bridge still creates the session",
          .enabled(if: geteuid() == 0, "needs root: the group devin-bridge, a setgid program and www-data workers"),
          arguments: WebServer.Kind.allCases)
    func intruderIsLockedOut(kind: WebServer.Kind) throws {
        let api = try StandIn()
        defer { api.stop() }
        var options = WebServer.Options()
        options.identity = true
        options.intruder = true
        let server = try WebServer(kind, settings: WebServerTests.settings(apiBase: api.baseURL), options: options)
        defer { server.stop() }

        let body = ticketBody()
        let signature = try BridgeProcess(apiBase: api.baseURL).signature(body)
        let answer = try curl(server.url + "/hooks/tickets", headers: [("X-Hub-Signature-256", signature)], body: body)
        #expect(answer.status == 200, "\(kind): \(answer.text) \(server.errorLogText.suffix(600))")
        #expect(answer.json["status"] as? String == "created")
        #expect(api.sessions.count == 1)
        let sent = api.requests.first
        #expect((sent?["headers"] as? [String: String])?["authorization"] == "Bearer \(TestSecrets.apiKey)")

        // The intruder runs as www-data, like the bridge's workers, after the bridge wrote its record.
        let report = try curl(server.url + "/intruder", method: "GET")
        #expect(report.status == 200, "\(report.text)")
        let seen = report.json
        #expect(seen["uid"] as? String == String(getpwnam("www-data").pointee.pw_uid), "\(report.text)")
        for attempt in ["read_config", "list_state", "create_in_state", "plant_record", "read_records"] {
            #expect(seen[attempt] as? String == "denied", "\(kind): the intruder's \(attempt): \(seen[attempt] ?? "nothing")")
        }
        #expect(!report.text.contains(TestSecrets.webhookSecret))

        // What the bridge wrote: owned by www-data (its real user), group devin-bridge, 0640, in a
        // directory only devin-bridge may enter.
        let group = getgrnam("devin-bridge").pointee.gr_gid
        var info = stat()
        #expect(stat(server.stateDirectory, &info) == 0)
        #expect(info.st_mode & 0o7777 == 0o2770)
        #expect(info.st_gid == group)
        let tickets = server.stateDirectory + "/tickets"
        let names = try FileManager.default.contentsOfDirectory(atPath: tickets).filter { $0.hasSuffix(".json") }
        #expect(names.count == 1)
        for name in names {
            #expect(stat(tickets + "/" + name, &info) == 0)
            #expect(info.st_gid == group, "\(name) has gid \(info.st_gid)")
            #expect(info.st_mode & 0o077 == 0o040, "\(name) has mode \(String(info.st_mode & 0o777, radix: 8))")
        }
        #expect(!FileManager.default.fileExists(atPath: server.stateDirectory + "/planted"))

        // The same intruder against the earlier layout reads everything: what this test guards against.
        var old = WebServer.Options()
        old.identity = false
        old.intruder = true
        let before = try WebServer(kind, settings: WebServerTests.settings(apiBase: api.baseURL), options: old)
        defer { before.stop() }
        let exposed = try curl(before.url + "/intruder", method: "GET").json
        #expect(exposed["read_config"] as? String == "ok", "the earlier layout check is not meaningful: \(exposed)")
    }

    @Test("The installed program is setgid devin-bridge; the kernel marks it undumpable",
          .enabled(if: geteuid() == 0, "needs root"))
    func setgidProgram() throws {
        let api = try StandIn()
        defer { api.stop() }
        let server = try WebServer(.nginx, settings: WebServerTests.settings(apiBase: api.baseURL))
        defer { server.stop() }
        let directory = server.prefix.appendingPathComponent("server/lib/devin-bridge").path
        var info = stat()
        #expect(stat(directory + "/devin-bridge", &info) == 0)
        #expect(info.st_mode & 0o7777 == 0o2755)
        #expect(info.st_uid == 0 && info.st_gid == getgrnam("devin-bridge").pointee.gr_gid)

        // Run as www-data: the process gets egid devin-bridge and AT_SECURE. `env`'s own view is
        // not the bridge's, so ask the kernel about a setgid copy of a tiny program instead.
        let probe = server.prefix.appendingPathComponent("server/lib/devin-bridge/probe").path
        try FileManager.default.copyItem(atPath: "/usr/bin/cat", toPath: probe)
        chown(probe, 0, getgrnam("devin-bridge").pointee.gr_gid)
        chmod(probe, 0o2755)
        let status = try runProcess("/usr/bin/setpriv", arguments: ["--reuid=www-data", "--regid=www-data", "--init-groups", probe, "/proc/self/status"],
                                    environment: ["PATH": "/usr/bin:/bin"], stdin: [])
        let text = String(decoding: status.stdout, as: UTF8.self)
        let gidLine = text.split(separator: "\n").first { $0.hasPrefix("Gid:") }.map(String.init) ?? ""
        let ids = gidLine.split(whereSeparator: { $0 == "\t" || $0 == " " }).dropFirst().compactMap { UInt32($0) }
        let www = getgrnam("www-data").pointee.gr_gid, bridge = getgrnam("devin-bridge").pointee.gr_gid
        #expect(ids.count == 4 && ids[0] == www && ids[1] == bridge, "\(gidLine)")
        // Another www-data process cannot read its environment (undumpable): try on a sleeping
        // setgid copy of sleep, and on a plain one to show the attempt itself works.
        let sleeper = server.prefix.appendingPathComponent("server/lib/devin-bridge/sleeper").path
        try FileManager.default.copyItem(atPath: "/usr/bin/sleep", toPath: sleeper)
        chown(sleeper, 0, bridge)
        chmod(sleeper, 0o2755)
        let script = "for p in \(sleeper) /usr/bin/sleep; do $p 5 & pid=$!; sleep 0.3; "
            + "if cat /proc/$pid/environ >/dev/null 2>&1; then echo readable; else echo denied; fi; kill $pid; done"
        let environ = try runProcess("/usr/bin/setpriv", arguments: ["--reuid=www-data", "--regid=www-data", "--init-groups", "/bin/sh", "-c", script],
                                     environment: ["PATH": "/usr/bin:/bin"], stdin: [], timeout: 20)
        let results = String(decoding: environ.stdout, as: UTF8.self).split(separator: "\n").map(String.init)
        #expect(results == ["denied", "readable"], "\(results) \(environ.stderr)")
    }
}
