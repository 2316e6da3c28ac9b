import FoundationEssentials

/// The body of `POST /v3/organizations/{org_id}/sessions` (the fields the bridge sets).
public struct SessionCreateRequest: Codable, Equatable, Sendable {
    public struct SessionSecret: Codable, Equatable, Sendable {
        public var key: String
        public var value: String
        public var sensitive: Bool
    }

    public var prompt: String
    public var title: String
    public var tags: [String]
    public var playbook_id: String?
    public var session_secrets: [SessionSecret]?
    /// The repository the session works in (`owner/repo`).
    public var repos: [String]? = nil
    /// The most ACUs the session may spend.
    public var max_acu_limit: Int? = nil

    /// A copy whose secret values are masked, for dry runs and logs.
    public var masked: SessionCreateRequest {
        var copy = self
        copy.session_secrets = session_secrets?.map { SessionSecret(key: $0.key, value: "********", sensitive: $0.sensitive) }
        return copy
    }
}

/// The part of the answer the bridge uses.
public struct CreatedSession: Equatable, Sendable {
    public var sessionID: String
    public var url: String
}

/// The Devin API v3 calls the bridge makes, over an injected transport.
public struct DevinClient: Sendable {
    public let apiBase: String
    public let orgID: String
    public let apiKey: Secret
    public let timeout: Double
    public let transport: any HTTPTransport

    public init(apiBase: String, orgID: String, apiKey: Secret, timeout: Double, transport: any HTTPTransport) {
        self.apiBase = apiBase
        self.orgID = orgID
        self.apiKey = apiKey
        self.timeout = timeout
        self.transport = transport
    }

    public init(configuration: Configuration, transport: any HTTPTransport) {
        self.init(apiBase: configuration.apiBase, orgID: configuration.orgID, apiKey: configuration.apiKey,
                  timeout: configuration.timeoutSeconds, transport: transport)
    }

    /// The same client with another timeout (a webhook's remaining budget).
    public func withTimeout(_ seconds: Double) -> DevinClient {
        DevinClient(apiBase: apiBase, orgID: orgID, apiKey: apiKey, timeout: seconds, transport: transport)
    }

    public var sessionsURL: String {
        "\(apiBase)/v3/organizations/\(orgID.addingPercentEncodingForPath())/sessions"
    }

    /// The HTTP request that creates a session.
    public func createSessionRequest(_ body: SessionCreateRequest) -> HTTPRequest {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // Encoding strings, arrays and booleans cannot fail.
        let data = (try? encoder.encode(body)) ?? Data()
        return HTTPRequest(
            method: "POST", url: sessionsURL,
            headers: [
                "Authorization": "Bearer \(apiKey.value)",
                "Content-Type": "application/json",
                "Accept": "application/json",
            ],
            body: Array(data))
    }

    /// Creates a session, or throws the ``BridgeError`` that describes why not.
    public func createSession(_ body: SessionCreateRequest) throws -> CreatedSession {
        let response = try send(createSessionRequest(body))
        switch response.status {
        case 200, 201:
            struct Answer: Decodable { let session_id: String; let url: String }
            guard let answer = try? JSONDecoder().decode(Answer.self, from: Data(response.body)),
                  !answer.session_id.isEmpty
            else { throw BridgeError.upstreamBadResponse("HTTP \(response.status) without a session_id and url") }
            return CreatedSession(sessionID: answer.session_id, url: answer.url)
        default:
            throw Self.error(for: response, orgID: orgID)
        }
    }

    /// The session tagged `tag`, if Devin has one (`GET .../sessions?tags=`): how a ticket whose
    /// earlier attempt may have created a session finds it instead of creating a second.
    public func findSession(tag: String) throws -> CreatedSession? {
        let query = "tags=\(tag.addingPercentEncodingForQuery())&first=10"
        let request = HTTPRequest(method: "GET", url: sessionsURL + "?" + query, headers: [
            "Authorization": "Bearer \(apiKey.value)",
            "Accept": "application/json",
        ])
        let response = try send(request)
        guard response.status == 200 else {
            if response.status == 403 {
                throw BridgeError.upstreamRejected(status: 403, detail: "Devin refused to list sessions: the service user needs the ViewOrgSessions permission to check for an earlier session")
            }
            throw Self.error(for: response, orgID: orgID)
        }
        struct Page: Decodable {
            struct Item: Decodable { let session_id: String; let url: String; let tags: [String]? }
            let items: [Item]
        }
        guard let page = try? JSONDecoder().decode(Page.self, from: Data(response.body)) else {
            throw BridgeError.upstreamBadResponse("the session list is not the documented JSON")
        }
        return page.items.first { $0.tags?.contains(tag) ?? false }.map { CreatedSession(sessionID: $0.session_id, url: $0.url) }
    }

    /// The most sessions one list call returns (`first`), and so the batch size of a sync pass.
    public static let listBatch = 200

    /// The sessions with these ids (`GET .../sessions?session_ids=...`), at most ``listBatch``
    /// per call: how a sync pass learns every session's state in as few calls as the API allows.
    public func listSessions(ids: [String]) throws -> [SessionState] {
        let query = ids.prefix(Self.listBatch).map { "session_ids=" + $0.addingPercentEncodingForQuery() }
            .joined(separator: "&") + "&first=\(Self.listBatch)"
        let request = HTTPRequest(method: "GET", url: sessionsURL + "?" + query, headers: [
            "Authorization": "Bearer \(apiKey.value)",
            "Accept": "application/json",
        ])
        let response = try send(request)
        guard response.status == 200 else {
            if response.status == 403 {
                throw BridgeError.upstreamRejected(status: 403, detail: "Devin refused to list sessions: the service user needs the ViewOrgSessions permission to follow a session's state")
            }
            throw Self.error(for: response, orgID: orgID)
        }
        struct Page: Decodable {
            struct Item: Decodable {
                struct PR: Decodable { let pr_url: String?; let pr_state: String? }
                let session_id: String
                let url: String?
                let status: String?
                let status_detail: String?
                let pull_requests: [PR]?
            }
            let items: [Item]
        }
        guard let page = try? JSONDecoder().decode(Page.self, from: Data(response.body)) else {
            throw BridgeError.upstreamBadResponse("the session list is not the documented JSON")
        }
        return page.items.map { item in
            SessionState(sessionID: item.session_id, url: item.url, status: item.status ?? "unknown", statusDetail: item.status_detail,
                         pullRequests: (item.pull_requests ?? []).compactMap { pr in pr.pr_url.map { .init(url: $0, state: pr.pr_state) } })
        }
    }

    /// `devin-` + the session id, the form the per-session endpoints take (either form is accepted
    /// from the create call).
    static func devinID(_ sessionID: String) -> String {
        sessionID.hasPrefix("devin-") ? sessionID : "devin-" + sessionID
    }

    func sessionURL(_ sessionID: String) -> String {
        sessionsURL + "/" + Self.devinID(sessionID).addingPercentEncodingForPath()
    }

    /// Sends a follow-up message to a session (`POST .../sessions/{devin_id}/messages`); a
    /// suspended session wakes up.
    public func sendMessage(_ message: String, to sessionID: String) throws {
        let data = (try? JSONEncoder().encode(["message": message])) ?? Data()
        let response = try send(HTTPRequest(method: "POST", url: sessionURL(sessionID) + "/messages", headers: [
            "Authorization": "Bearer \(apiKey.value)", "Content-Type": "application/json", "Accept": "application/json",
        ], body: Array(data)))
        guard (200...299).contains(response.status) else {
            if response.status == 404 {
                throw BridgeError.upstreamRejected(status: 404, detail: "Devin does not know the session any more")
            }
            throw Self.error(for: response, orgID: orgID)
        }
    }

    /// The texts of a session's recent messages (`GET .../sessions/{devin_id}/messages`), to
    /// find a message whose answer was lost before sending it again.
    public func messageTexts(of sessionID: String) throws -> [String] {
        let response = try send(HTTPRequest(method: "GET", url: sessionURL(sessionID) + "/messages?first=200", headers: [
            "Authorization": "Bearer \(apiKey.value)", "Accept": "application/json",
        ]))
        guard response.status == 200 else { throw Self.error(for: response, orgID: orgID) }
        struct Page: Decodable {
            struct Item: Decodable { let message: String? }
            let items: [Item]
        }
        guard let page = try? JSONDecoder().decode(Page.self, from: Data(response.body)) else {
            throw BridgeError.upstreamBadResponse("the message list is not the documented JSON")
        }
        return page.items.compactMap(\.message)
    }

    /// Sends a request; a failure to get any answer becomes the ``BridgeError`` that says why.
    func send(_ request: HTTPRequest) throws -> HTTPResponse {
        switch transport.send(request, timeout: timeout) {
        case .success(let answer): return answer
        case .failure(.timeout): throw BridgeError.upstreamTimeout(seconds: timeout)
        case .failure(.connection(let reason)): throw BridgeError.upstreamUnreachable(reason)
        case .failure(.dropped(let reason)): throw BridgeError.upstreamDropped(reason)
        }
    }

    /// Maps a non-success answer to the error that names its cause.
    static func error(for response: HTTPResponse, orgID: String) -> BridgeError {
        switch response.status {
        case 401:
            return .upstreamRejected(status: 401, detail: "Devin rejected the API key: check DEVIN_API_KEY (a service-user token)")
        case 403:
            return .upstreamRejected(status: 403, detail: "Devin refused the API key: its service user needs the ManageOrgSessions permission in organization \(orgID)")
        case 404:
            return .upstreamRejected(status: 404, detail: "Devin does not know organization \(orgID): check DEVIN_ORG_ID and DEVIN_API_BASE")
        case 422:
            return .upstreamRejected(status: 422, detail: "Devin refused the session request as invalid" + validationSummary(response.body))
        case 429:
            return .upstreamRateLimited(retryAfter: response.headers["retry-after"].flatMap(sanitizedRetryAfter))
        case 500...599:
            return .upstreamServerError(status: response.status)
        case 400...499:
            return .upstreamRejected(status: response.status, detail: "Devin refused the session request")
        default:
            return .upstreamBadResponse("unexpected HTTP \(response.status)")
        }
    }

    /// `: prompt: field required` from a 422 body. Only `loc` and `msg` are used: the `input`
    /// that some validators echo may hold a secret.
    static func validationSummary(_ body: [UInt8]) -> String {
        struct Detail: Decodable {
            struct Item: Decodable { let loc: [JSONValue]?; let msg: String? }
            let detail: [Item]
        }
        guard let detail = try? JSONDecoder().decode(Detail.self, from: Data(body)), !detail.detail.isEmpty else { return "" }
        let items = detail.detail.prefix(3).map { item -> String in
            let location = (item.loc ?? []).compactMap { value -> String? in
                switch value {
                case .string(let text): return text
                case .integer(let number): return String(number)
                default: return nil
                }
            }.filter { $0 != "body" }.joined(separator: ".")
            let message = PromptBuilder.clean(item.msg ?? "invalid", limit: 120, keepNewlines: false).text
            return location.isEmpty ? message : "\(PromptBuilder.clean(location, limit: 80, keepNewlines: false).text): \(message)"
        }
        return ": " + items.joined(separator: "; ")
    }

    /// A `Retry-After` value worth repeating: delay seconds or an HTTP date, nothing else.
    static func sanitizedRetryAfter(_ value: String) -> String? {
        let text = value.trimmingASCIIWhitespace()
        guard !text.isEmpty, text.count <= 40,
              text.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || " ,:-".contains($0)) })
        else { return nil }
        return text
    }
}
