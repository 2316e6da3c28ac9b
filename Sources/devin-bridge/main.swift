import DevinBridge
import DevinBridgeHTTP
import Glibc
import FoundationEssentials

// A thin shell: read the request from the environment and stdin, let the core decide, write the
// response to stdout and one log line to stderr. Everything else lives in DevinBridge.

let environment = ProcessEnvironment.current()

func writeAll(_ fd: Int32, _ bytes: [UInt8]) {
    var offset = 0
    while offset < bytes.count {
        let written = bytes[offset...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        if written < 0 && errno == EINTR { continue }
        if written <= 0 { return }
        offset += written
    }
}

func readStdin(_ buffer: UnsafeMutableRawBufferPointer) -> Int {
    while true {
        let count = read(0, buffer.baseAddress, buffer.count)
        if count < 0 && errno == EINTR { continue }
        return count
    }
}

let identity = ProcessIdentity.current

if environment["GATEWAY_INTERFACE"] != nil {
    let started = BridgeClock.system.uptimeNanoseconds()
    let head = CGIRequestHead(environment: environment)
    let handler = Handler(report: Configuration.load(environment: environment, identity: identity),
                          transport: CurlTransport.forProcess(identity), startedAt: started)
    let bodyDeadline = started + UInt64(RequestDeadline.bodySeconds * 1e9)
    let outcome = handler.handle(head, readBody: BodyReader.standardInput(until: bodyDeadline))
    writeAll(1, outcome.response.serialized(includeBody: head.method != "HEAD"))
    writeAll(2, Array((outcome.log.description + "\n").utf8))
    if let key = outcome.postCommentsFor {
        // The answer is out; the comments go from a worker of their own.
        close(1)
        close(2)
        CommentWorker.start(key: key, environment: environment, identity: identity)
    }
    // Everything is written (straight to the descriptors, nothing buffered): skip the exit
    // handlers, whose only work is OpenSSL's cleanup of what its first HMAC set up.
    _exit(0)
}

let result = AdminCommands.run(Array(CommandLine.arguments.dropFirst()), environment: environment,
                               transport: CurlTransport.forProcess(identity), identity: identity) {
    var body = [UInt8]()
    var chunk = [UInt8](repeating: 0, count: 65536)
    while true {
        let count = chunk.withUnsafeMutableBytes { readStdin($0) }
        if count <= 0 { break }
        body += chunk[0..<count]
    }
    return body
}
writeAll(1, Array(result.stdout.utf8))
writeAll(2, Array(result.stderr.utf8))
exit(result.exitCode)
