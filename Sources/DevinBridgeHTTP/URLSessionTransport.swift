import DevinBridge
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// The real transport: Foundation's URLSession (libcurl underneath on Linux), one request, waited
/// for synchronously, since a CGI process handles exactly one request.
public struct URLSessionTransport: HTTPTransport {
    public init() {}

    public func send(_ request: HTTPRequest, timeout: Double) -> Result<HTTPResponse, TransportError> {
        guard let url = URL(string: request.url) else { return .failure(.connection("the URL is not valid")) }
        var urlRequest = URLRequest(url: url, cachePolicy: .reloadIgnoringLocalAndRemoteCacheData, timeoutInterval: timeout)
        urlRequest.httpMethod = request.method
        for (name, value) in request.headers { urlRequest.setValue(value, forHTTPHeaderField: name) }
        if !request.body.isEmpty { urlRequest.httpBody = Data(request.body) }

        let configuration = URLSessionConfiguration.ephemeral
        configuration.timeoutIntervalForRequest = timeout
        configuration.timeoutIntervalForResource = timeout
        configuration.httpCookieStorage = nil
        configuration.urlCache = nil
        // No redirects: Foundation would resend the Authorization header (and the body, with the
        // session secret) to wherever a 3xx points. A 3xx is an unexpected answer instead.
        let session = URLSession(configuration: configuration, delegate: RefuseRedirects(), delegateQueue: nil)
        defer { session.finishTasksAndInvalidate() }

        let box = ResultBox()
        let done = DispatchSemaphore(value: 0)
        let task = session.dataTask(with: urlRequest) { data, response, error in
            box.result = Self.result(data: data, response: response, error: error)
            done.signal()
        }
        task.resume()
        // URLSession enforces the timeout itself; this bound only guards against it not firing.
        if done.wait(timeout: .now() + timeout + 2) == .timedOut {
            task.cancel()
            return .failure(.timeout)
        }
        return box.result ?? .failure(.connection("no answer"))
    }

    static func result(data: Data?, response: URLResponse?, error: Error?) -> Result<HTTPResponse, TransportError> {
        if let error {
            let code = (error as? URLError)?.code
            switch code {
            case .timedOut?: return .failure(.timeout)
            case .cannotConnectToHost?: return .failure(.connection("connection refused"))
            case .cannotFindHost?, .dnsLookupFailed?: return .failure(.connection("host not found"))
            case .networkConnectionLost?: return .failure(.dropped("connection dropped before an answer"))
            case .notConnectedToInternet?: return .failure(.connection("no network"))
            case .secureConnectionFailed?, .serverCertificateUntrusted?, .serverCertificateHasBadDate?,
                 .serverCertificateNotYetValid?, .serverCertificateHasUnknownRoot?:
                return .failure(.connection("TLS handshake failed (certificate or protocol)"))
            case .badServerResponse?: return .failure(.dropped("no valid HTTP answer (connection closed)"))
            case let other?: return .failure(.connection("URL error \(other.rawValue)"))
            case nil: return .failure(.connection("transport error"))
            }
        }
        guard let http = response as? HTTPURLResponse else { return .failure(.connection("the answer was not HTTP")) }
        var headers: [String: String] = [:]
        for (name, value) in http.allHeaderFields {
            if let name = name as? String, let value = value as? String { headers[name.lowercased()] = value }
        }
        return .success(HTTPResponse(status: http.statusCode, headers: headers, body: Array(data ?? Data())))
    }
}

/// Carries the callback's result back to the waiting thread (the semaphore orders the accesses).
private final class ResultBox: @unchecked Sendable {
    var result: Result<HTTPResponse, TransportError>?
}

/// Answers every redirect with "do not follow": the 3xx itself becomes the response.
final class RefuseRedirects: NSObject, URLSessionTaskDelegate, @unchecked Sendable {
    func urlSession(_ session: URLSession, task: URLSessionTask, willPerformHTTPRedirection response: HTTPURLResponse,
                    newRequest request: URLRequest, completionHandler: @escaping (URLRequest?) -> Void) {
        completionHandler(nil)
    }
}
