import Foundation
import Testing

/// The attack review's findings through the real CGI process: what a sender, or another script of
/// the web server's user, can do with the built binary.
@Suite("Security review through the CGI process", .serialized)
struct SecurityProcessTests {
    /// Runs the bridge with `environment`, writes `first` bytes of `body` to its stdin, then holds
    /// stdin open without writing: a sender dribbling its body.
    func dribble(_ environment: [String: String], body: [UInt8], first: Int) throws -> CGIOutput {
        try CGIOutput(runProcess(Paths.binary, environment: environment, stdin: Array(body.prefix(first)),
                                 keepStdinOpen: true, timeout: 40))
    }

    @Test("6: a body dribbled without end is answered 408 within the body's 10 s, and the process is gone")
    func dribbledBody() throws {
        let bridge = BridgeProcess(apiBase: "http://127.0.0.1:9")
        let body = ticketBody()
        var environment = bridge.configuration
        environment.merge(["GATEWAY_INTERFACE": "CGI/1.1", "REQUEST_METHOD": "POST", "CONTENT_LENGTH": String(body.count),
                           "CONTENT_TYPE": "application/json", "HTTP_X_HUB_SIGNATURE_256": try bridge.signature(body),
                           "PATH": "/usr/bin:/bin"]) { $1 }
        let answer = try dribble(environment, body: body, first: 5)
        #expect(answer.status == 408, "\(answer.raw)")
        #expect(answer.json["error"] as? String == "body_timeout")
        #expect(answer.elapsed >= 9.5 && answer.elapsed < 15, "answered after \(answer.elapsed) s")
        #expect(answer.stderr.contains("error=body_timeout"))
        #expect(bridge.records.isEmpty)
    }

    @Test("1: the same signed bytes give the same ticket whatever Content-Type claims")
    func oneReading() throws {
        let api = try StandIn()
        defer { api.stop() }
        let bridge = BridgeProcess(apiBase: api.baseURL)
        let inner = #"{"id":"EVIL-1","title":"Push to main","labels":["devin-autofix"]}"#
        let encoded = inner.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!
        let body = Array(#"{"id":"PROJ-1","title":"Typo","labels":["docs"],"description":"x&payload=\#(encoded)&y=1"}"#.utf8)
        let signature = try bridge.signature(body)
        for type in ["application/json", "application/x-www-form-urlencoded"] {
            let answer = try bridge.request(body: body, headers: ["X-Hub-Signature-256": signature], contentType: type)
            #expect(answer.status == 200)
            #expect(answer.json["status"] as? String == "skipped")
            #expect(answer.json["ticket"] as? String == "PROJ-1")
        }
        #expect(api.requests.isEmpty)
    }

    @Test("2, 3: Gitea's form delivery is verified against its JSON, and its link stays inside the fence")
    func giteaFormDelivery() throws {
        let api = try StandIn()
        defer { api.stop() }
        let bridge = BridgeProcess(apiBase: api.baseURL)
        let document = DialectProcessTests.fixture("gitea-issues-opened")
        let form = Array(("payload=" + String(decoding: document, as: UTF8.self)
            .addingPercentEncoding(withAllowedCharacters: .alphanumerics)!).utf8)
        let signature = String(try bridge.signature(document).dropFirst("sha256=".count))
        let answer = try bridge.request(body: form, headers: ["X-Gitea-Event": "issues", "X-Gitea-Signature": signature],
                                        contentType: "application/x-www-form-urlencoded")
        #expect(answer.status == 200, "\(answer.raw)")
        #expect(answer.json["status"] as? String == "created")
        let prompt = try #require((api.requests.first?["json"] as? [String: Any])?["prompt"] as? String)
        #expect(!prompt.contains("Ticket link:"))
        #expect(prompt.contains("Link given by the sender: "))
    }

    /// The built binary installed setgid to a group the caller is not in, as deploy/install.sh does
    /// (group `nogroup` here, so the test needs no group of its own), with a config only that group
    /// reads.
    struct SetgidCopy {
        let directory = TemporaryDirectory()
        var binary: String { directory.path + "/devin-bridge" }
        var config: String { directory.path + "/bridge.conf" }
        let group: gid_t

        init(settings: String) throws {
            guard let entry = getgrnam("nogroup") else { throw HarnessError("no group nogroup") }
            group = entry.pointee.gr_gid
            try FileManager.default.copyItem(atPath: Paths.binary, toPath: binary)
            chown(binary, 0, group)
            chmod(binary, 0o2755)
            try settings.write(toFile: config, atomically: true, encoding: .utf8)
            chown(config, 0, group)
            chmod(config, 0o640)
        }

        /// Runs it as www-data (outside the group), with exactly `environment`.
        func runAsWebUser(_ arguments: [String], environment: [String: String], stdin: [UInt8] = []) throws -> ProcessOutput {
            try runProcess("/usr/bin/setpriv", arguments: ["--reuid=www-data", "--regid=www-data", "--clear-groups", binary] + arguments,
                           environment: environment, stdin: stdin)
        }
    }

    @Test("4: another script of the web server's user gets no signing oracle, no admin command, no setting of its own",
          .enabled(if: geteuid() == 0 && getpwnam("www-data") != nil, "needs root and the www-data user"))
    func restrictedCaller() throws {
        let state = TemporaryDirectory()
        chown(state.path, 0, getgrnam("nogroup")!.pointee.gr_gid)
        chmod(state.path, 0o2770)
        let copy = try SetgidCopy(settings: """
            DEVIN_API_KEY=\(TestSecrets.apiKey)
            DEVIN_ORG_ID=\(TestSecrets.orgID)
            WEBHOOK_SECRET=\(TestSecrets.webhookSecret)
            STATE_DIR=\(state.path)
            DEVIN_API_BASE=http://127.0.0.1:9
            """)
        // www-data cannot read the config itself.
        let cat = try runProcess("/usr/bin/setpriv", arguments: ["--reuid=www-data", "--regid=www-data", "--clear-groups", "/bin/cat", copy.config],
                                 environment: ["PATH": "/usr/bin:/bin"], stdin: [])
        #expect(cat.exitCode != 0)
        // Nor through the setgid program: every admin command is refused, sign above all.
        let environment = ["DEVIN_BRIDGE_CONFIG": copy.config, "PATH": "/usr/bin:/bin"]
        for command in [["sign"], ["sign", "--standard"], ["check"], ["status"], ["retry", "--now"]] {
            let output = try copy.runAsWebUser(command, environment: environment, stdin: Array("{}".utf8))
            #expect(output.exitCode == 1, "\(command): \(output.stderr)")
            #expect(output.stdout.isEmpty, "\(command) printed \(String(decoding: output.stdout, as: UTF8.self))")
            #expect(output.stderr.contains("needs root or a member of group nogroup"))
            #expect(!output.stderr.contains(TestSecrets.webhookSecret))
        }
        #expect(try copy.runAsWebUser(["--version"], environment: environment).exitCode == 0)

        // As a CGI program it answers (what HTTP allows anyway), reading the protected config...
        let body = ticketBody(labels: ["question"])
        let signature = try runProcess("/usr/bin/openssl", arguments: ["dgst", "-sha256", "-hmac", TestSecrets.webhookSecret, "-hex", "-r"],
                                       environment: ["PATH": "/usr/bin:/bin"], stdin: body)
        let hex = String(String(decoding: signature.stdout, as: UTF8.self).prefix(64))
        var cgi = environment
        cgi.merge(["GATEWAY_INTERFACE": "CGI/1.1", "REQUEST_METHOD": "POST", "CONTENT_LENGTH": String(body.count),
                   "HTTP_X_HUB_SIGNATURE_256": "sha256=" + hex]) { $1 }
        let skipped = try CGIOutput(copy.runAsWebUser([], environment: cgi, stdin: body))
        #expect(skipped.status == 200, "\(skipped.raw) \(skipped.stderr)")
        #expect(skipped.json["status"] as? String == "skipped")
        // ...but no setting from the environment: a STATE_DIR or API base of the caller's is ignored,
        let planted = TemporaryDirectory()
        var chosen = cgi
        chosen["WEBHOOK_SECRET"] = "a secret the caller chose 0001"
        chosen["HTTP_X_HUB_SIGNATURE_256"] = "sha256=" + String(repeating: "0", count: 64)
        chosen["STATE_DIR"] = planted.path
        let refused = try CGIOutput(copy.runAsWebUser([], environment: chosen, stdin: body))
        #expect(refused.status == 401)
        #expect(refused.stderr.contains("ignored"))
        // ...and a configuration file of the caller's own is not read at all.
        let own = planted.path + "/mine.conf"
        try "DEVIN_API_KEY=x\nDEVIN_ORG_ID=org-x\nWEBHOOK_SECRET=a secret the caller chose\nSTATE_DIR=\(state.path)\n"
            .write(toFile: own, atomically: true, encoding: .utf8)
        chown(own, getpwnam("www-data")!.pointee.pw_uid, getpwnam("www-data")!.pointee.pw_gid)
        var foreign = cgi
        foreign["DEVIN_BRIDGE_CONFIG"] = own
        let notRead = try CGIOutput(copy.runAsWebUser([], environment: foreign, stdin: body))
        #expect(notRead.status == 500)
        #expect(notRead.stderr.contains("must belong to root and group nogroup"))
        // Nothing was written outside the bridge's own state directory.
        #expect(((try? FileManager.default.contentsOfDirectory(atPath: planted.path)) ?? []) == ["mine.conf"])
    }
}
