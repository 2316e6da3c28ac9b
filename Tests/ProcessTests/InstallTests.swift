import Foundation
import Testing

/// deploy/install.sh into a staging root (DESTDIR): the static binary, the private config, and
/// that running it again changes nothing an admin wrote.
@Suite("The install script")
struct InstallTests {
    @Test("install.sh builds a binary without the Swift runtime, installs it, and is safe to re-run")
    func installIsIdempotent() throws {
        let stage = try Paths.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: stage) }
        let script = Paths.packageRoot.appendingPathComponent("deploy/install.sh").path
        var environment = ProcessInfo.processInfo.environment
        environment["DESTDIR"] = stage.path
        // Its own build folder: `swift test` holds the lock on .build while this runs.
        environment["BUILD_DIR"] = Paths.packageRoot.appendingPathComponent(".build-install").path

        let first = try runProcess("/bin/bash", arguments: [script], environment: environment, stdin: [], timeout: 900)
        #expect(first.exitCode == 0, "\(String(decoding: first.stdout, as: UTF8.self)) \(first.stderr)")

        let binary = stage.appendingPathComponent("usr/lib/cgi-bin/devin-bridge").path
        #expect(FileManager.default.isExecutableFile(atPath: binary))
        let helper = stage.appendingPathComponent("usr/lib/cgi-bin/devin-bridge-http").path
        #expect(FileManager.default.isExecutableFile(atPath: helper))
        // The CGI program itself does not load libcurl: only the helper does.
        let mainLibraries = String(decoding: try runProcess("/usr/bin/ldd", arguments: [binary], environment: ["PATH": "/usr/bin:/bin"], stdin: []).stdout, as: UTF8.self)
        #expect(!mainLibraries.contains("libcurl"))
        // The helper refuses to be a CGI program (it sits in cgi-bin).
        let asCGI = try runProcess(helper, environment: ["GATEWAY_INTERFACE": "CGI/1.1", "REQUEST_METHOD": "POST"],
                                   stdin: Array(#"{"request":{"method":"GET","url":"http://127.0.0.1:9/","headers":{},"body":[]},"timeout":1}"#.utf8))
        #expect(String(decoding: asCGI.stdout, as: UTF8.self).hasPrefix("Status: 403"))
        let ldd = try runProcess("/usr/bin/ldd", arguments: [helper], environment: ["PATH": "/usr/bin:/bin"], stdin: [])
        let libraries = String(decoding: ldd.stdout, as: UTF8.self)
        #expect(!libraries.contains("libswift"), "the target host would need a Swift toolchain: \(libraries)")
        #expect(libraries.contains("libcrypto"))
        let version = try runProcess(binary, arguments: ["--version"], environment: [:], stdin: [])
        #expect(String(decoding: version.stdout, as: UTF8.self).hasPrefix("devin-bridge "))
        let link = try FileManager.default.destinationOfSymbolicLink(atPath: stage.appendingPathComponent("usr/local/bin/devin-bridge").path)
        #expect(link == "/usr/lib/cgi-bin/devin-bridge")

        let config = stage.appendingPathComponent("etc/devin-bridge/bridge.conf").path
        var attributes = try FileManager.default.attributesOfItem(atPath: config)
        #expect((attributes[.posixPermissions] as? Int) == 0o640)
        if geteuid() == 0 {
            #expect(attributes[.ownerAccountName] as? String == "root")
            #expect(attributes[.groupOwnerAccountName] as? String == "www-data")
        }

        // An admin fills in the config (and loosens its mode by mistake); a re-run keeps the
        // content and makes it private again.
        let edited = "DEVIN_API_KEY=placeholder-key-for-test\nDEVIN_ORG_ID=org-x\nWEBHOOK_SECRET=placeholder secret for test\n"
        try edited.write(toFile: config, atomically: false, encoding: .utf8)
        chmod(config, 0o644)
        environment["SKIP_BUILD"] = "1"
        let second = try runProcess("/bin/bash", arguments: [script], environment: environment, stdin: [])
        #expect(second.exitCode == 0, "\(second.stderr)")
        #expect(try String(contentsOfFile: config, encoding: .utf8) == edited)
        attributes = try FileManager.default.attributesOfItem(atPath: config)
        #expect((attributes[.posixPermissions] as? Int) == 0o640)
        #expect(String(decoding: second.stdout, as: UTF8.self).contains("kept the existing"))

        // The installed static binary reads that file and passes `check`.
        let state = stage.appendingPathComponent("var/lib/devin-bridge").path
        var stateAttributes = try FileManager.default.attributesOfItem(atPath: state)
        #expect((stateAttributes[.posixPermissions] as? Int) == 0o750)
        if geteuid() == 0 { #expect(stateAttributes[.ownerAccountName] as? String == "www-data") }
        #expect(FileManager.default.fileExists(atPath: stage.appendingPathComponent("etc/systemd/system/devin-bridge-retry.timer").path))
        var checkEnvironment = ["DEVIN_BRIDGE_CONFIG": config, "STATE_DIR": state]
        checkEnvironment["PATH"] = "/usr/bin:/bin"
        let check = try runProcess(binary, arguments: ["check"], environment: checkEnvironment, stdin: [])
        #expect(check.exitCode == 0, "\(check.stderr)")
        #expect(!String(decoding: check.stdout, as: UTF8.self).contains("placeholder secret for test"))
    }
}
