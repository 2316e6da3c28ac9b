import Foundation
import Testing

/// Runs deploy/install.sh into a staging root (DESTDIR) with its own build folder (`swift test`
/// holds the lock on .build while this runs; the first call builds, later ones reuse the build).
func runInstallScript(stage: URL, arguments: [String] = [], environment extra: [String: String] = [:]) throws -> ProcessOutput {
    let script = Paths.packageRoot.appendingPathComponent("deploy/install.sh").path
    var environment = ProcessInfo.processInfo.environment
    environment["DESTDIR"] = stage.path
    environment["BUILD_DIR"] = Paths.packageRoot.appendingPathComponent(".build-install").path
    environment.merge(extra) { $1 }
    return try runProcess("/bin/bash", arguments: [script] + arguments, environment: environment, stdin: [], timeout: 900)
}

/// Owner, group and mode (with the setuid/setgid/sticky bits) of a path, as `stat -c '%U:%G %a'`
/// shows them, e.g. "root:devin-bridge 2755"; nil when there is nothing at the path.
func ownership(_ path: String) -> String? {
    var info = stat()
    guard lstat(path, &info) == 0 else { return nil }
    let user = getpwuid(info.st_uid).map { String(cString: $0.pointee.pw_name) } ?? String(info.st_uid)
    let group = getgrgid(info.st_gid).map { String(cString: $0.pointee.gr_name) } ?? String(info.st_gid)
    return "\(user):\(group) \(String(info.st_mode & 0o7777, radix: 8))"
}

/// deploy/install.sh into a staging root: the static binaries in their own directory, setgid to
/// the bridge's group; the private config and state; running it again changes nothing an admin
/// wrote; an earlier install is migrated; --uninstall undoes it.
@Suite("The install script", .serialized)
struct InstallTests {
    /// A user and group of its own per test, so that removing them never disturbs another test
    /// (the web-server tests use devin-bridge). At most 32 characters.
    static func testUser() -> String { "dbt-" + UUID().uuidString.prefix(8).lowercased() }

    static func userExists(_ name: String) -> Bool { getpwnam(name) != nil }
    static func groupExists(_ name: String) -> Bool { getgrnam(name) != nil }

    static func text(_ output: ProcessOutput) -> String { String(decoding: output.stdout, as: UTF8.self) + output.stderr }

    @Test("install.sh builds a binary without the Swift runtime, installs the new layout, is safe to re-run, and --uninstall undoes it")
    func installIsIdempotent() throws {
        let stage = try Paths.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: stage) }
        let user = Self.testUser()
        let root = geteuid() == 0
        defer { if root { _ = try? runProcess("/usr/sbin/userdel", arguments: [user], environment: [:], stdin: []); _ = try? runProcess("/usr/sbin/groupdel", arguments: [user], environment: [:], stdin: []) } }
        var settings = ["BRIDGE_USER": user, "BRIDGE_GROUP": user]

        let first = try runInstallScript(stage: stage, environment: settings)
        #expect(first.exitCode == 0, "\(Self.text(first))")
        // This host has the CA certificates libcurl verifies with: no warning about them.
        #expect(!Self.text(first).contains("ca-certificates"), "\(Self.text(first))")

        let binary = stage.appendingPathComponent("usr/lib/devin-bridge/devin-bridge").path
        #expect(FileManager.default.isExecutableFile(atPath: binary))
        // Nothing in Debian's cgi-bin, which Apache's serve-cgi-bin.conf publishes at /cgi-bin/.
        #expect(!FileManager.default.fileExists(atPath: stage.appendingPathComponent("usr/lib/cgi-bin/devin-bridge").path))
        #expect(!FileManager.default.fileExists(atPath: stage.appendingPathComponent("usr/lib/cgi-bin/devin-bridge-http").path))
        // The program does not load libcurl at start: it opens it when it first sends a request.
        let mainLibraries = String(decoding: try runProcess("/usr/bin/ldd", arguments: [binary], environment: ["PATH": "/usr/bin:/bin"], stdin: []).stdout, as: UTF8.self)
        #expect(!mainLibraries.contains("libcurl"))
        // Nor the C++ runtime as shared libraries (deploy/build-release.sh links them statically),
        // nor Foundation proper with ICU's 34 MB of data: the bridge imports FoundationEssentials.
        #expect(!mainLibraries.contains("libstdc++") && !mainLibraries.contains("libgcc_s"), "\(mainLibraries)")
        let installedSize = (try? FileManager.default.attributesOfItem(atPath: binary)[.size] as? Int) ?? 0
        #expect(installedSize > 0 && installedSize < 25_000_000, "\(installedSize) bytes: is Foundation (ICU) linked in again?")
        #expect(!mainLibraries.contains("libswift"), "the target host would need a Swift toolchain: \(mainLibraries)")
        #expect(mainLibraries.contains("libcrypto"))
        // No $ORIGIN run path: the loader goes straight to the system's libraries.
        let dynamic = String(decoding: try runProcess("/usr/bin/readelf", arguments: ["-d", binary], environment: ["PATH": "/usr/bin:/bin"], stdin: []).stdout, as: UTF8.self)
        #expect(!dynamic.contains("RUNPATH") && !dynamic.contains("RPATH"), "\(dynamic)")
        let version = try runProcess(binary, arguments: ["--version"], environment: [:], stdin: [])
        #expect(String(decoding: version.stdout, as: UTF8.self).hasPrefix("devin-bridge "))
        let linkPath = stage.appendingPathComponent("usr/local/bin/devin-bridge").path
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: linkPath) == "/usr/lib/devin-bridge/devin-bridge")

        let confDir = stage.appendingPathComponent("etc/devin-bridge").path
        let config = confDir + "/bridge.conf"
        let state = stage.appendingPathComponent("var/lib/devin-bridge").path
        #expect(ownership(config)?.hasSuffix(" 640") == true)
        if root {
            #expect(Self.userExists(user) && Self.groupExists(user))
            #expect(ownership(binary) == "root:\(user) 2755")
            #expect(ownership(config) == "root:\(user) 640")
            #expect(ownership(confDir) == "root:\(user) 750")
            #expect(ownership(state) == "\(user):\(user) 2770")
            #expect(ownership(state + "/tickets") == "\(user):\(user) 2770")
            #expect(ownership(state + "/locks") == "\(user):\(user) 2770")
            let account = getpwnam(user).pointee
            #expect(String(cString: account.pw_shell) == "/usr/sbin/nologin")
            #expect(String(cString: account.pw_dir) == "/nonexistent")
            #expect(account.pw_uid < 1000, "not a system user: uid \(account.pw_uid)")
        }
        let service = try String(contentsOfFile: stage.appendingPathComponent("etc/systemd/system/devin-bridge-retry.service").path, encoding: .utf8)
        #expect(service.contains("\nUser=\(user)\n") && service.contains("\nGroup=\(user)\n"), "\(service)")
        #expect(!service.contains("=www-data"))

        // An admin fills in the config (and loosens its mode by mistake); a re-run keeps the
        // content and makes it private again.
        let edited = "DEVIN_API_KEY=placeholder-key-for-test\nDEVIN_ORG_ID=org-x\nWEBHOOK_SECRET=placeholder secret for test\n"
        try edited.write(toFile: config, atomically: false, encoding: .utf8)
        chmod(config, 0o644)
        // The network helper an earlier release installed beside the program is removed.
        let oldHelper = stage.appendingPathComponent("usr/lib/devin-bridge/devin-bridge-http").path
        try "#!/bin/sh\n".write(toFile: oldHelper, atomically: false, encoding: .utf8)
        settings["SKIP_BUILD"] = "1"
        // A host without them (a minimal Debian) is told, and the install goes on.
        let second = try runInstallScript(stage: stage, environment: settings.merging(["SYSTEM_CA_FILE": stage.path + "/no-such-bundle.crt"]) { $1 })
        #expect(second.exitCode == 0, "\(Self.text(second))")
        #expect(Self.text(second).contains("warning: \(stage.path)/no-such-bundle.crt is missing"), "\(Self.text(second))")
        #expect(Self.text(second).contains("apt-get install ca-certificates"))
        #expect(!FileManager.default.fileExists(atPath: oldHelper))
        #expect(Self.text(second).contains("removed \(oldHelper)"), "\(Self.text(second))")
        #expect(try String(contentsOfFile: config, encoding: .utf8) == edited)
        #expect(ownership(config)?.hasSuffix(" 640") == true)
        #expect(String(decoding: second.stdout, as: UTF8.self).contains("kept the existing"))
        if root {
            #expect(ownership(binary) == "root:\(user) 2755")
            #expect(ownership(state) == "\(user):\(user) 2770")
        }

        // The installed static binary reads that file and passes `check`.
        #expect(FileManager.default.fileExists(atPath: stage.appendingPathComponent("etc/systemd/system/devin-bridge-retry.timer").path))
        let check = try runProcess(binary, arguments: ["check"], environment: ["DEVIN_BRIDGE_CONFIG": config, "STATE_DIR": state, "PATH": "/usr/bin:/bin"], stdin: [])
        #expect(check.exitCode == 0, "\(check.stderr)")
        #expect(!String(decoding: check.stdout, as: UTF8.self).contains("placeholder secret for test"))

        // Uninstall: the programs, the link, the units, the user and group go; the config and
        // the records stay (root-only now); --purge removes those too.
        let removed = try runInstallScript(stage: stage, arguments: ["--uninstall"], environment: settings)
        #expect(removed.exitCode == 0, "\(Self.text(removed))")
        for path in ["usr/lib/devin-bridge/devin-bridge", "usr/lib/devin-bridge/devin-bridge-http", "usr/lib/devin-bridge",
                     "usr/local/bin/devin-bridge", "etc/systemd/system/devin-bridge-retry.service", "etc/systemd/system/devin-bridge-retry.timer"] {
            #expect(ownership(stage.appendingPathComponent(path).path) == nil, "\(path) is still there")
        }
        #expect(try String(contentsOfFile: config, encoding: .utf8) == edited)
        #expect(FileManager.default.fileExists(atPath: state + "/tickets"))
        if root {
            #expect(!Self.userExists(user) && !Self.groupExists(user))
            #expect(ownership(config) == "root:root 640")
            #expect(ownership(state) == "root:root 2770")
        }
        let purged = try runInstallScript(stage: stage, arguments: ["--uninstall", "--purge"], environment: settings)
        #expect(purged.exitCode == 0, "\(Self.text(purged))")
        #expect(ownership(confDir) == nil && ownership(state) == nil)
    }

    @Test("An install of the earlier layout (cgi-bin, www-data config and state) is migrated to the new one",
          .enabled(if: geteuid() == 0, "needs root: the earlier layout and the migration are about owners"))
    func migratesTheEarlierLayout() throws {
        let stage = try Paths.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: stage) }
        let user = Self.testUser()
        defer { _ = try? runProcess("/usr/sbin/userdel", arguments: [user], environment: [:], stdin: []); _ = try? runProcess("/usr/sbin/groupdel", arguments: [user], environment: [:], stdin: []) }
        let settings = ["BRIDGE_USER": user, "BRIDGE_GROUP": user]
        let www = getpwnam("www-data").pointee
        let fm = FileManager.default

        // What the earlier install.sh left.
        let cgiBin = stage.appendingPathComponent("usr/lib/cgi-bin").path
        try fm.createDirectory(atPath: cgiBin, withIntermediateDirectories: true)
        for name in ["devin-bridge", "devin-bridge-http"] {
            try "#!/bin/sh\necho old\n".write(toFile: cgiBin + "/" + name, atomically: false, encoding: .utf8)
            chmod(cgiBin + "/" + name, 0o755)
        }
        try "#!/bin/sh\n".write(toFile: cgiBin + "/someone-elses.cgi", atomically: false, encoding: .utf8)
        let bin = stage.appendingPathComponent("usr/local/bin").path
        try fm.createDirectory(atPath: bin, withIntermediateDirectories: true)
        try fm.createSymbolicLink(atPath: bin + "/devin-bridge", withDestinationPath: "/usr/lib/cgi-bin/devin-bridge")
        let confDir = stage.appendingPathComponent("etc/devin-bridge").path
        try fm.createDirectory(atPath: confDir, withIntermediateDirectories: true)
        chown(confDir, 0, www.pw_gid)
        chmod(confDir, 0o750)
        let config = confDir + "/bridge.conf"
        let secrets = "DEVIN_API_KEY=placeholder-key-for-test\nDEVIN_ORG_ID=org-x\nWEBHOOK_SECRET=placeholder secret for test\n"
        try secrets.write(toFile: config, atomically: false, encoding: .utf8)
        chown(config, 0, www.pw_gid)
        chmod(config, 0o640)
        let state = stage.appendingPathComponent("var/lib/devin-bridge").path
        try fm.createDirectory(atPath: state + "/tickets", withIntermediateDirectories: true)
        try fm.createDirectory(atPath: state + "/locks", withIntermediateDirectories: true)
        let record = state + "/tickets/0123abcd.json"
        try "{}".write(toFile: record, atomically: false, encoding: .utf8)
        for path in [state, state + "/tickets", state + "/locks", record] {
            chown(path, www.pw_uid, www.pw_gid)
            chmod(path, path == record ? 0o640 : 0o750)
        }

        let install = try runInstallScript(stage: stage, environment: settings)
        let output = Self.text(install)
        #expect(install.exitCode == 0, "\(output)")

        #expect(!fm.fileExists(atPath: cgiBin + "/devin-bridge"))
        #expect(!fm.fileExists(atPath: cgiBin + "/devin-bridge-http"))
        #expect(fm.fileExists(atPath: cgiBin + "/someone-elses.cgi"), "another program in cgi-bin was removed")
        #expect(output.contains("removed \(cgiBin)/devin-bridge "), "\(output)")
        #expect(try fm.destinationOfSymbolicLink(atPath: bin + "/devin-bridge") == "/usr/lib/devin-bridge/devin-bridge")
        #expect(ownership(stage.appendingPathComponent("usr/lib/devin-bridge/devin-bridge").path) == "root:\(user) 2755")

        #expect(try String(contentsOfFile: config, encoding: .utf8) == secrets)
        #expect(ownership(config) == "root:\(user) 640")
        #expect(ownership(confDir) == "root:\(user) 750")
        #expect(output.contains("changed \(config) from root:www-data 640 to root:\(user) 640"), "\(output)")
        #expect(ownership(state) == "\(user):\(user) 2770")
        #expect(ownership(state + "/tickets") == "\(user):\(user) 2770")
        #expect(ownership(state + "/locks") == "\(user):\(user) 2770")
        #expect(ownership(record) == "\(user):\(user) 640")
        #expect(output.contains("changed \(state) from www-data:www-data 750"), "\(output)")

        // Running it again finds nothing left to change.
        let again = try runInstallScript(stage: stage, environment: settings.merging(["SKIP_BUILD": "1"]) { $1 })
        #expect(again.exitCode == 0)
        #expect(!Self.text(again).contains("changed "), "\(Self.text(again))")

        let removed = try runInstallScript(stage: stage, arguments: ["--uninstall"], environment: settings)
        #expect(removed.exitCode == 0, "\(Self.text(removed))")
        #expect(!Self.userExists(user) && !Self.groupExists(user))
    }

    @Test("install.sh refuses to hand over a STATE_DIR that holds other things",
          .enabled(if: geteuid() == 0, "needs root: the owner change is what it refuses"))
    func refusesForeignStateDirectory() throws {
        let stage = try Paths.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: stage) }
        let user = Self.testUser()
        defer { _ = try? runProcess("/usr/sbin/userdel", arguments: [user], environment: [:], stdin: []); _ = try? runProcess("/usr/sbin/groupdel", arguments: [user], environment: [:], stdin: []) }
        let foreign = stage.appendingPathComponent("var/lib").path
        try FileManager.default.createDirectory(atPath: foreign + "/dpkg", withIntermediateDirectories: true)
        let install = try runInstallScript(stage: stage, environment: ["BRIDGE_USER": user, "BRIDGE_GROUP": user, "STATE_DIR": "/var/lib"])
        #expect(install.exitCode != 0)
        #expect(install.stderr.contains("a directory of its own"), "\(Self.text(install))")
        #expect(ownership(foreign)?.hasPrefix("root:root") == true)
    }
}
