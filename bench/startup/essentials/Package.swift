// swift-tools-version:5.9
// bench/startup/swift's program with FoundationEssentials linked in as the bridge links it
// (dates, JSON coders, files, URLs), built with deploy/build-release.sh's flags by bench/run.sh.
import PackageDescription

let package = Package(name: "essentials-start", targets: [.executableTarget(name: "essentials-start")])
