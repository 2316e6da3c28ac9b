/// Every way a request can fail, each carrying the value that was wrong.
///
/// Errors turn into an HTTP status, a machine-readable code and a human sentence in one place
/// (``status``, ``code``, ``message``). No message ever contains a secret: cases carry names,
/// sizes and reasons, never a configured value.
public enum BridgeError: Error, Equatable, Sendable {
    // The request itself.
    case methodNotAllowed(String)
    case badContentLength(String)
    case bodyTruncated(expected: Int, received: Int)
    case bodyUnreadable
    case bodyTimeout(seconds: Double)
    case payloadTooLarge(limit: Int)
    case unsupportedMediaType(String)

    // Signature (RFC 9110 §15.5.2: 401 for missing or invalid authentication).
    case missingSignature
    case badSignature(header: String, reason: String)

    // Configuration problems are the operator's to fix: the sender gets a 500 and the log says why.
    case notConfigured([String])

    // The ticket.
    case invalidJSON(String)
    case missingField(String)
    case invalidField(String, String)

    // The Devin API.
    case upstreamTimeout(seconds: Double)
    case upstreamUnreachable(String)
    /// The connection broke after the request was sent: a session may exist.
    case upstreamDropped(String)
    case upstreamServerError(status: Int)
    case upstreamRateLimited(retryAfter: String?)
    case upstreamRejected(status: Int, detail: String)
    case upstreamBadResponse(String)

    // The state directory.
    case stateUnavailable(String)

    /// The HTTP status the sender receives.
    public var status: HTTPStatus {
        switch self {
        case .methodNotAllowed: return .methodNotAllowed
        case .badContentLength, .bodyTruncated, .bodyUnreadable: return .badRequest
        case .bodyTimeout: return .requestTimeout
        case .payloadTooLarge: return .payloadTooLarge
        case .unsupportedMediaType: return .unsupportedMediaType
        case .missingSignature, .badSignature: return .unauthorized
        case .notConfigured, .stateUnavailable: return .internalServerError
        case .invalidJSON, .missingField, .invalidField: return .badRequest
        case .upstreamTimeout: return .gatewayTimeout
        case .upstreamUnreachable, .upstreamDropped, .upstreamServerError, .upstreamRateLimited,
             .upstreamRejected, .upstreamBadResponse:
            return .badGateway
        }
    }

    /// A short, stable code for the JSON body's `error` field.
    public var code: String {
        switch self {
        case .methodNotAllowed: return "method_not_allowed"
        case .badContentLength: return "bad_content_length"
        case .bodyTruncated: return "body_truncated"
        case .bodyUnreadable: return "body_unreadable"
        case .bodyTimeout: return "body_timeout"
        case .payloadTooLarge: return "payload_too_large"
        case .unsupportedMediaType: return "unsupported_media_type"
        case .missingSignature: return "missing_signature"
        case .badSignature: return "bad_signature"
        case .notConfigured: return "not_configured"
        case .invalidJSON: return "invalid_json"
        case .missingField: return "missing_field"
        case .invalidField: return "invalid_field"
        case .upstreamTimeout: return "upstream_timeout"
        case .upstreamUnreachable, .upstreamDropped: return "upstream_unreachable"
        case .upstreamServerError: return "upstream_error"
        case .upstreamRateLimited: return "upstream_rate_limited"
        case .upstreamRejected: return "upstream_rejected"
        case .upstreamBadResponse: return "upstream_bad_response"
        case .stateUnavailable: return "state_unavailable"
        }
    }

    /// A sentence that tells the reader what went wrong and, where it can, what to fix.
    public var message: String {
        switch self {
        case .methodNotAllowed(let method):
            return "Method \(method) is not allowed: send the webhook as POST."
        case .badContentLength(let value):
            return "Bad CONTENT_LENGTH in environment: \(value.prefix(40).debugDescription)."
        case .bodyTruncated(let expected, let received):
            return "The body ended after \(received) of the \(expected) bytes announced by Content-Length."
        case .bodyUnreadable:
            return "The body could not be read to its end (the connection broke); send it again."
        case .bodyTimeout(let seconds):
            return "The body did not arrive within \(formatSeconds(seconds)) s; send it again in one piece."
        case .payloadTooLarge(let limit):
            return "The body is larger than \(limit) bytes (MAX_BODY_BYTES)."
        case .unsupportedMediaType(let type):
            return "Content-Type \(type.prefix(80).debugDescription) is not supported: send application/json "
                + "(or application/x-www-form-urlencoded with the JSON in a payload field)."
        case .missingSignature:
            return "The request carries no signature: set the webhook secret in the ticketing system so it "
                + "sends X-Hub-Signature-256 (or X-Hub-Signature, X-Signature) with an HMAC-SHA256 of the body."
        case .badSignature(let header, let reason):
            return "The signature in \(header) does not verify: \(reason)."
        case .notConfigured(let problems):
            return "The bridge is not configured correctly (\(problems.count) problem(s)); its administrator "
                + "finds them in the web server's error log or with `devin-bridge check`."
        case .invalidJSON(let reason):
            return "The body is not valid JSON: \(reason)."
        case .missingField(let field):
            return "The ticket has no \(field.debugDescription) field."
        case .invalidField(let field, let expectation):
            return "The ticket's \(field.debugDescription) field \(expectation)."
        case .upstreamTimeout(let seconds):
            return "The Devin API did not answer within \(formatSeconds(seconds)) s (DEVIN_TIMEOUT_SECONDS)."
        case .upstreamUnreachable(let reason):
            return "The Devin API could not be reached: \(reason)."
        case .upstreamDropped(let reason):
            return "The connection to the Devin API broke before its answer: \(reason)."
        case .stateUnavailable:
            return "The bridge cannot record the ticket in its state directory; its administrator finds why in "
                + "the web server's error log or with `devin-bridge check`."
        case .upstreamServerError(let status):
            return "The Devin API failed with HTTP \(status); try again later."
        case .upstreamRateLimited(let retryAfter):
            if let retryAfter { return "The Devin API is rate limiting (HTTP 429, Retry-After: \(retryAfter))." }
            return "The Devin API is rate limiting (HTTP 429); try again later."
        case .upstreamRejected(let status, let detail):
            return "\(detail) (HTTP \(status))."
        case .upstreamBadResponse(let reason):
            return "The Devin API answered with something unexpected: \(reason)."
        }
    }

    /// What the log line says: the message, plus details meant for the operator only.
    public var logDetail: String {
        switch self {
        case .notConfigured(let problems): return problems.joined(separator: "; ")
        case .stateUnavailable(let reason): return reason
        default: return message
        }
    }

    /// Whether trying the same call again later may succeed (used for the delivery guarantees).
    public var isRetryable: Bool {
        switch self {
        case .upstreamTimeout, .upstreamUnreachable, .upstreamDropped, .upstreamServerError, .upstreamRateLimited: return true
        default: return false
        }
    }

    /// Whether the failed call may still have created a session (the request reached Devin but
    /// its answer was lost or was an error of its own): look before creating again.
    public var mayHaveCreatedSession: Bool {
        switch self {
        case .upstreamTimeout, .upstreamDropped, .upstreamServerError, .upstreamBadResponse: return true
        default: return false
        }
    }
}

func formatSeconds(_ seconds: Double) -> String {
    seconds == seconds.rounded() ? String(Int(seconds)) : String(seconds)
}
