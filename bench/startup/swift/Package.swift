// swift-tools-version:5.9
// A Swift program that does what bench/startup/start.c does, with the standard library only,
// built as the bridge is (deploy/build-release.sh's flags, from bench/run.sh).
import PackageDescription

let package = Package(name: "swift-start", targets: [.executableTarget(name: "swift-start")])
