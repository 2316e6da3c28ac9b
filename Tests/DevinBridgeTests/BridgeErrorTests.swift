import Testing
@testable import DevinBridge

@Suite("Bridge errors")
struct BridgeErrorTests {
    @Test("each error maps to its HTTP status and stable code", arguments: [
        (BridgeError.methodNotAllowed("PUT"), 405, "method_not_allowed"),
        (.badContentLength("x"), 400, "bad_content_length"),
        (.bodyTruncated(expected: 10, received: 3), 400, "body_truncated"),
        (.payloadTooLarge(limit: 10), 413, "payload_too_large"),
        (.unsupportedMediaType("text/plain"), 415, "unsupported_media_type"),
        (.missingSignature, 401, "missing_signature"),
        (.badSignature(header: "X-Signature", reason: "r"), 401, "bad_signature"),
        (.notConfigured(["DEVIN_API_KEY is not set"]), 500, "not_configured"),
        (.invalidJSON("r"), 400, "invalid_json"),
        (.missingField("id"), 400, "missing_field"),
        (.invalidField("id", "r"), 400, "invalid_field"),
        (.upstreamTimeout(seconds: 8), 504, "upstream_timeout"),
        (.upstreamUnreachable("r"), 502, "upstream_unreachable"),
        (.upstreamServerError(status: 503), 502, "upstream_error"),
        (.upstreamRateLimited(retryAfter: nil), 502, "upstream_rate_limited"),
        (.upstreamRejected(status: 401, detail: "d"), 502, "upstream_rejected"),
        (.upstreamBadResponse("r"), 502, "upstream_bad_response"),
    ])
    func statusAndCode(_ error: BridgeError, _ status: Int, _ code: String) {
        #expect(error.status.code == status)
        #expect(error.code == code)
        #expect(!error.message.isEmpty)
    }

    @Test("only upstream failures that may pass are retryable", arguments: [
        (BridgeError.upstreamTimeout(seconds: 8), true),
        (.upstreamUnreachable("r"), true),
        (.upstreamServerError(status: 500), true),
        (.upstreamRateLimited(retryAfter: "5"), true),
        (.upstreamRejected(status: 401, detail: "d"), false),
        (.upstreamBadResponse("r"), false),
        (.missingSignature, false),
        (.invalidJSON("r"), false),
        (.notConfigured([]), false),
    ])
    func retryable(_ error: BridgeError, _ retryable: Bool) {
        #expect(error.isRetryable == retryable)
    }

    @Test("messages name the bad value, shortened")
    func messages() {
        #expect(BridgeError.methodNotAllowed("PUT").message == "Method PUT is not allowed: send the webhook as POST.")
        #expect(BridgeError.badContentLength("-1").message == #"Bad CONTENT_LENGTH in environment: "-1"."#)
        #expect(BridgeError.badContentLength(String(repeating: "9", count: 100)).message
                == "Bad CONTENT_LENGTH in environment: \"\(String(repeating: "9", count: 40))\".")
        #expect(BridgeError.bodyTruncated(expected: 10, received: 3).message
                == "The body ended after 3 of the 10 bytes announced by Content-Length.")
        #expect(BridgeError.payloadTooLarge(limit: 1024).message == "The body is larger than 1024 bytes (MAX_BODY_BYTES).")
        #expect(BridgeError.upstreamTimeout(seconds: 8).message == "The Devin API did not answer within 8 s (DEVIN_TIMEOUT_SECONDS).")
        #expect(BridgeError.upstreamRateLimited(retryAfter: "120").message == "The Devin API is rate limiting (HTTP 429, Retry-After: 120).")
        #expect(BridgeError.upstreamRateLimited(retryAfter: nil).message == "The Devin API is rate limiting (HTTP 429); try again later.")
        #expect(BridgeError.upstreamServerError(status: 503).message == "The Devin API failed with HTTP 503; try again later.")
        #expect(BridgeError.badSignature(header: "X-Signature", reason: "it is not 64 hex digits").message
                == "The signature in X-Signature does not verify: it is not 64 hex digits.")
    }

    @Test("not_configured tells the sender how many problems, and only the log line what they are")
    func notConfigured() {
        let error = BridgeError.notConfigured(["DEVIN_API_KEY is not set", "WEBHOOK_SECRET is not set"])
        #expect(error.message.contains("(2 problem(s))"))
        #expect(!error.message.contains("DEVIN_API_KEY"))
        #expect(error.logDetail == "DEVIN_API_KEY is not set; WEBHOOK_SECRET is not set")
        #expect(BridgeError.missingSignature.logDetail == BridgeError.missingSignature.message)
    }

    @Test("HTTP statuses print as the CGI Status line wants them", arguments: [
        (HTTPStatus.ok, "200 OK"), (.badRequest, "400 Bad Request"), (.unauthorized, "401 Unauthorized"),
        (.methodNotAllowed, "405 Method Not Allowed"), (.payloadTooLarge, "413 Content Too Large"),
        (.internalServerError, "500 Internal Server Error"), (.badGateway, "502 Bad Gateway"),
        (.gatewayTimeout, "504 Gateway Timeout"),
    ])
    func statusDescription(_ status: HTTPStatus, _ text: String) {
        #expect(status.description == text)
    }
}
