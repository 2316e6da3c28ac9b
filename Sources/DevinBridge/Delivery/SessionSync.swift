import FoundationEssentials

/// The sync pass (`devin-bridge retry`, every minute from the timer): polls the sessions that
/// have not ended, in batches of 200 ids per call, records each one's state, and owes the ticket
/// one comment per meaningful change (a pull request, waiting for the user, the end, a stop).
/// Polling stops once a session ended, and for any session older than `RETENTION_DAYS`.
public struct SessionSync: Sendable {
    public let store: FileStateStore
    public let client: DevinClient
    public let configuration: Configuration
    public let clock: BridgeClock

    public init(store: FileStateStore, client: DevinClient, configuration: Configuration, clock: BridgeClock) {
        self.store = store
        self.client = client
        self.configuration = configuration
        self.clock = clock
    }

    public struct Summary: Equatable, Sendable {
        public var polled = 0
        public var changed = 0
        public var comments = 0
        public var calls = 0
        public var errors: [String] = []
    }

    public func run() -> Summary {
        var summary = Summary()
        let now = clock.now()
        let cutoff = now.addingTimeInterval(-Double(configuration.retentionDays) * 86_400)
        let outbox = Outbox(store: store, configuration: configuration, clock: clock)
        let followed = store.allRecords().filter { record in
            record.state == .created && record.sessionID != nil && record.session?.ended != true
                && (record.createdAt ?? record.updatedAt) > cutoff
        }
        // A ticket whose acknowledgement was never written (a crash right after creating) gets it now.
        for record in store.allRecords() where record.state == .created && (record.createdAt ?? record.updatedAt) > cutoff {
            if let update = Self.acknowledgement(for: record) { _ = try? outbox.enqueue(update, for: record) }
        }
        for batch in stride(from: 0, to: followed.count, by: DevinClient.listBatch).map({ Array(followed[$0..<min($0 + DevinClient.listBatch, followed.count)]) }) {
            let states: [SessionState]
            do {
                summary.calls += 1
                states = try client.listSessions(ids: batch.compactMap(\.sessionID))
            } catch let error as BridgeError {
                summary.errors.append("could not read the state of \(batch.count) session(s): \(error.logDetail)")
                continue
            } catch {
                continue
            }
            var byID: [String: SessionState] = [:]
            for state in states {
                byID[state.sessionID] = state
                byID["devin-" + state.sessionID] = state
                if state.sessionID.hasPrefix("devin-") { byID[String(state.sessionID.dropFirst(6))] = state }
            }
            for record in batch {
                guard let id = record.sessionID, let state = byID[id] else { continue }
                summary.polled += 1
                do {
                    let (changed, comments) = try apply(state, to: record.key, outbox: outbox)
                    if changed { summary.changed += 1 }
                    summary.comments += comments
                } catch let error as BridgeError {
                    summary.errors.append("\(record.ticket): \(error.logDetail)")
                } catch {}
            }
        }
        return summary
    }

    /// Records `state` on the ticket under its lock and enqueues the comments it calls for.
    func apply(_ state: SessionState, to key: String, outbox: Outbox) throws -> (changed: Bool, comments: Int) {
        guard let lock = try store.lock(key, timeout: 2) else { return (false, 0) }
        defer { lock.release() }
        guard var record = try store.read(key), record.state == .created else { return (false, 0) }
        let url = record.url ?? state.url ?? ""
        let (snapshot, updates) = SessionSnapshot.next(after: record.session, state: state, sessionURL: url, now: clock.now())
        let changed = snapshot.status != record.session?.status || snapshot.statusDetail != record.session?.statusDetail
            || snapshot.pullRequests != record.session?.pullRequests
        record.session = snapshot
        try store.write(record)
        var comments = 0
        for update in updates where (try? outbox.enqueue(update, for: record)) != nil { comments += 1 }
        return (changed, comments)
    }

    /// The "Devin is on it" comment for a created record.
    public static func acknowledgement(for record: DeliveryRecord) -> TicketUpdate? {
        guard record.state == .created, let url = record.url else { return nil }
        return .started(sessionURL: url, label: record.label, playbook: record.request.playbook_id, acuLimit: record.request.max_acu_limit)
    }
}
