import CCurl
import DevinBridge
@testable import DevinBridgeHTTP
import Testing
#if canImport(Glibc)
import Glibc
#endif

@Suite("The libcurl transport")
struct CurlTransportTests {
    func headers(_ lines: [String]) -> [String: String] {
        let answer = Answer()
        for line in lines {
            Array(line.utf8).withUnsafeBytes { answer.headerLine($0) }
        }
        return answer.headers
    }

    @Test("Header names are lower-cased, values trimmed, repeated headers joined")
    func headerLines() {
        let parsed = headers(["HTTP/1.1 201 Created\r\n", "Content-Type:  application/json \r\n",
                              "X-Multi: a\r\n", "x-multi: b\r\n", "Retry-After: 7\r\n", "\r\n"])
        #expect(parsed == ["content-type": "application/json", "x-multi": "a, b", "retry-after": "7"])
    }

    @Test("Only the final answer's headers remain (after a 100 Continue or a proxy's answer)")
    func finalAnswerOnly() {
        let parsed = headers(["HTTP/1.1 100 Continue\r\n", "X-Early: 1\r\n", "\r\n",
                              "HTTP/2 429\r\n", "retry-after: 30\r\n", "\r\n"])
        #expect(parsed == ["retry-after": "30"])
    }

    @Test("A folded header line continues the value; a line without a colon is ignored")
    func foldingAndJunk() {
        let parsed = headers(["HTTP/1.1 200 OK\r\n", "X-Long: one\r\n", "\ttwo\r\n", "no colon here\r\n"])
        #expect(parsed == ["x-long": "one two"])
    }

    @Test("libcurl's codes map to timeout, connection (not sent) or dropped (may have arrived)")
    func errorMapping() {
        func map(_ code: CURLcode, errno: Int32 = 0, proxy: Int = 0, sent: Int = 0) -> TransportError {
            CurlTransport.error(for: code, osErrno: Int(errno), proxyStatus: proxy, requestBytes: sent)
        }
        #expect(map(CURLE_OPERATION_TIMEDOUT) == .timeout)
        #expect(map(CURLE_COULDNT_CONNECT, errno: ECONNREFUSED) == .connection("connection refused"))
        #expect(map(CURLE_COULDNT_CONNECT, errno: ETIMEDOUT) == .timeout)
        #expect(map(CURLE_COULDNT_RESOLVE_HOST) == .connection("host not found"))
        #expect(map(CURLE_URL_MALFORMAT) == .connection("the URL is not valid"))
        #expect(map(CURLE_UNSUPPORTED_PROTOCOL) == .connection("the URL is not valid"))
        #expect(map(CURLE_PEER_FAILED_VERIFICATION) == .connection("TLS handshake failed (certificate or protocol)"))
        #expect(map(CURLE_SSL_CONNECT_ERROR) == .connection("TLS handshake failed (certificate or protocol)"))
        #expect(map(CURLE_GOT_NOTHING, sent: 120) == .dropped("no valid HTTP answer (connection closed)"))
        #expect(map(CURLE_RECV_ERROR, sent: 120) == .dropped("connection dropped before an answer"))
        #expect(map(CURLE_SEND_ERROR) == .dropped("connection dropped before an answer"))
        #expect(map(CURLE_RECV_ERROR, proxy: 403) == .connection("the proxy refused the connection (HTTP 403)"))
        #expect(map(CURLE_PARTIAL_FILE, sent: 120) == .dropped("connection dropped during the answer"))
        // Anything else: dropped once bytes went out, connection before.
        if case .dropped = map(CURLE_READ_ERROR, sent: 1) {} else { Issue.record("sent: expected dropped") }
        if case .connection = map(CURLE_READ_ERROR, sent: 0) {} else { Issue.record("not sent: expected connection") }
    }

    @Test("What libcurl would send as given is checked first: no line breaks, http(s) only, a plain method")
    func validation() {
        #expect(CurlTransport.isValidURL("https://api.devin.ai/v3/organizations/org-1/sessions?x=1"))
        #expect(CurlTransport.isValidURL("HTTP://127.0.0.1:8080/"))
        #expect(!CurlTransport.isValidURL("ftp://example.com/"))
        #expect(!CurlTransport.isValidURL("example.com/path"))
        #expect(!CurlTransport.isValidURL("https://example.com/a b"))
        #expect(!CurlTransport.isValidURL("https://example.com/\r\nX: y"))
        #expect(CurlTransport.isValidMethod("PATCH"))
        #expect(!CurlTransport.isValidMethod("GET / HTTP/1.1\r\n"))
        #expect(!CurlTransport.isValidMethod(""))
        #expect(CurlTransport.isValidHeader(name: "Authorization", value: "Bearer k"))
        #expect(!CurlTransport.isValidHeader(name: "Authorization", value: "Bearer k\r\nX-Injected: 1"))
        #expect(!CurlTransport.isValidHeader(name: "Bad Name", value: "v"))
        #expect(!CurlTransport.isValidHeader(name: "", value: "v"))
    }

    @Test("A refused request is answered without a transfer, the reason free of the URL and headers")
    func refusedBeforeSending() {
        let secret = "sk-secret-value"
        let result = CurlTransport().send(HTTPRequest(method: "POST", url: "https://example.com/?key=\(secret)",
                                                      headers: ["Authorization": "Bearer \(secret)\r\nX: 1"]), timeout: 1)
        #expect(result == .failure(.connection("a request header is not valid")))
    }

    @Test("The timeout is never 0 ms, which libcurl reads as no limit")
    func milliseconds() {
        #expect(CurlTransport.milliseconds(7.5) == 7500)
        #expect(CurlTransport.milliseconds(0) == 1)
        #expect(CurlTransport.milliseconds(-3) == 1)
        #expect(CurlTransport.milliseconds(.infinity) == Int(Int32.max))
    }

    @Test("A restricted caller's transport reads no CA variables (its caller chose them); the bridge's own does")
    func certificateVariablesByIdentity() {
        #expect(!CurlTransport.forProcess(ProcessIdentity(elevated: true, restricted: true, group: getegid())).readsCertificateVariables)
        #expect(CurlTransport.forProcess(ProcessIdentity(elevated: true, restricted: false, group: getegid())).readsCertificateVariables)
        #expect(CurlTransport.forProcess(.plain).readsCertificateVariables)
    }
}
