import CofferCore
import JWTKit
import Synchronization

/// Key sets fetched from JWKS URLs, shared by the gateway's JWT profiles and the JWT auth methods. A
/// set is fetched again after ``refreshMillis``, or when a token names a `kid` the cached set lacks —
/// at most once per ``unknownKidRefreshMillis``, so unknown kids cannot make Coffer hammer the issuer.
final class JWKSCache: Sendable {
    /// Keys fetched from one URL.
    struct Fetched: Sendable {
        let keys: JWTKeyCollection
        /// The JWKS document the keys came from.
        let document: JSONValue
        let kids: Set<String>
        let fetchedAt: Int64
        /// What else the fetch learned (the issuer named by OIDC discovery).
        let issuer: String?
    }

    private let entries = Mutex<[String: Fetched]>([:])
    /// A set's keys are fetched again after this long.
    static let refreshMillis: Int64 = 600_000
    /// And on an unknown `kid` (or a failed verification) at most this often.
    let unknownKidRefreshMillis: Int64

    /// A cache refreshing on unknown kids at most once per `unknownKidRefreshMillis`.
    init(unknownKidRefreshMillis: Int64 = 60_000) { self.unknownKidRefreshMillis = unknownKidRefreshMillis }

    /// Drops every cached set.
    func forgetAll() { entries.withLock { $0 = [:] } }

    /// The cached set for `key` when fresh enough for a token naming `kid`; otherwise `fetch`es the JWKS
    /// document (and issuer) again and caches it.
    func keys(
        _ key: String, kid: JWKIdentifier?, now: Int64, fetch: () async throws -> (jwks: JSONValue, issuer: String?)
    ) async throws -> Fetched {
        if let cached = entries.withLock({ $0[key] }), now - cached.fetchedAt < Self.refreshMillis {
            // jwt-kit falls back to a default key for an unknown kid, so the set's kids are tracked here.
            let known = kid.map { cached.kids.contains($0.string) } ?? true
            if known || now - cached.fetchedAt < unknownKidRefreshMillis { return cached }
        }
        return try await load(key, now: now, fetch: fetch)
    }

    /// Fetches the set again if the cached one is at least ``unknownKidRefreshMillis`` old (a token that
    /// no cached key verifies: the issuer may have rotated its keys); nil when it is too fresh to refetch.
    func refreshed(
        _ key: String, now: Int64, fetch: () async throws -> (jwks: JSONValue, issuer: String?)
    ) async throws -> Fetched? {
        if let cached = entries.withLock({ $0[key] }), now - cached.fetchedAt < unknownKidRefreshMillis { return nil }
        return try await load(key, now: now, fetch: fetch)
    }

    private func load(_ key: String, now: Int64, fetch: () async throws -> (jwks: JSONValue, issuer: String?)) async throws -> Fetched {
        let (document, issuer) = try await fetch()
        let keys = try await Self.collection(jwks: document)
        var kids: Set<String> = []
        if case .array(let list) = document["keys"] ?? .null { kids = Set(list.compactMap { $0["kid"]?.stringValue }) }
        let entry = Fetched(keys: keys, document: document, kids: kids, fetchedAt: now, issuer: issuer)
        entries.withLock { entries in
            if entries.count >= 1_000 { entries.removeAll() }
            entries[key] = entry
        }
        return entry
    }

    /// A key collection from a JWKS document; private members are dropped by jwt-kit's JWK model only
    /// for keys it can use, so documents with them are refused when a gateway profile is saved.
    static func collection(jwks document: JSONValue) async throws -> JWTKeyCollection {
        do {
            return try await JWTKeyCollection().add(jwksJSON: String(decoding: document.canonicalBytes(), as: UTF8.self))
        } catch {
            throw CofferError(.jwtInvalid, "the JWT's keys cannot be used")
        }
    }
}
