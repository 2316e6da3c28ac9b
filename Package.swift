// swift-tools-version:5.10
import PackageDescription

let package = Package(
    name: "devin-bridge",
    products: [
        .executable(name: "devin-bridge", targets: ["devin-bridge"]),
    ],
    targets: [
        // OpenSSL's libcrypto from the system (Debian: libssl-dev); HMAC-SHA256 comes from here.
        .systemLibrary(
            name: "COpenSSL",
            pkgConfig: "libcrypto",
            providers: [.apt(["libssl-dev"])]
        ),
        // libcurl from the system, loaded with dlopen when the first request is sent (not linked:
        // skipped and rejected requests never load it). Its header comes from libcurl4-openssl-dev.
        .target(name: "CCurl"),
        // The core: configuration, signatures, tickets, rules, prompt, API client, handler.
        // Pure logic; the environment, the body, the clock and the HTTP transport are passed in.
        .target(name: "DevinBridge", dependencies: ["COpenSSL"]),
        // The one HTTP transport that talks to the network: libcurl's easy interface, called directly.
        .target(name: "DevinBridgeHTTP", dependencies: ["DevinBridge", "CCurl"]),
        // The thin executable: CGI program or admin command line.
        .executableTarget(name: "devin-bridge", dependencies: ["DevinBridge", "DevinBridgeHTTP"]),
        .testTarget(name: "DevinBridgeTests", dependencies: ["DevinBridge"]),
        // The libcurl transport's pure parts: header lines, error mapping, what it refuses to send.
        .testTarget(name: "DevinBridgeHTTPTests", dependencies: ["DevinBridgeHTTP", "CCurl"]),
        // Runs the built executable exactly as a web server does; depends on it so it is built first.
        .testTarget(name: "ProcessTests", dependencies: ["devin-bridge"]),
    ]
)
