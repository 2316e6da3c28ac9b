import DevinBridge
import DevinBridgeHTTP
import Foundation

// The bridge's network call, in its own process: reads one HTTP request (JSON) on stdin, sends
// it with URLSession and writes the answer (JSON) on stdout. devin-bridge starts it only when a
// ticket is accepted, so the requests that are skipped or rejected (most of them) never load
// libcurl and its dependencies. Not a CGI program: it refuses to run as one.

if ProcessInfo.processInfo.environment["GATEWAY_INTERFACE"] != nil {
    print("Status: 403 Forbidden\r\nContent-Type: application/json\r\n\r\n"
        + #"{"error":"forbidden","message":"devin-bridge-http is a helper of devin-bridge, not a CGI program."}"#)
    exit(0)
}

let input = FileHandle.standardInput.readDataToEndOfFile()
let output: Data
do {
    let message = try JSONDecoder().decode(TransportMessage.Request.self, from: input)
    let result = URLSessionTransport().send(message.request, timeout: message.timeout)
    output = try JSONEncoder().encode(TransportMessage.Response(result))
} catch {
    output = (try? JSONEncoder().encode(TransportMessage.Response(.failure(.connection("the helper got an unreadable request"))))) ?? Data()
}
FileHandle.standardOutput.write(output)
exit(0)
