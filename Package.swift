// swift-tools-version:5.10
import PackageDescription

let package = Package(
    name: "devin-bridge",
    products: [
        .executable(name: "devin-bridge", targets: ["devin-bridge"]),
        .executable(name: "devin-bridge-http", targets: ["devin-bridge-http"]),
    ],
    targets: [
        // OpenSSL's libcrypto from the system (Debian: libssl-dev); HMAC-SHA256 comes from here.
        .systemLibrary(
            name: "COpenSSL",
            pkgConfig: "libcrypto",
            providers: [.apt(["libssl-dev"])]
        ),
        // The core: configuration, signatures, tickets, rules, prompt, API client, handler.
        // Pure logic; the environment, the body, the clock and the HTTP transport are passed in.
        .target(name: "DevinBridge", dependencies: ["COpenSSL"]),
        // The one HTTP transport that talks to the network (URLSession, libcurl underneath).
        .target(name: "DevinBridgeHTTP", dependencies: ["DevinBridge"]),
        // The thin executable: CGI program or admin command line. It does not link the networking
        // stack: skipped and rejected requests (most of them) never pay for loading libcurl.
        .executableTarget(name: "devin-bridge", dependencies: ["DevinBridge"]),
        // The network helper devin-bridge runs for an accepted ticket: URLSession, one request.
        .executableTarget(name: "devin-bridge-http", dependencies: ["DevinBridge", "DevinBridgeHTTP"]),
        .testTarget(name: "DevinBridgeTests", dependencies: ["DevinBridge"]),
        // Runs the built executable exactly as a web server does; depends on it so it is built first.
        .testTarget(name: "ProcessTests", dependencies: ["devin-bridge", "devin-bridge-http"]),
    ]
)
