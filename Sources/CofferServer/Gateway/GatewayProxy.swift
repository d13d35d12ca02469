import CofferCore
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import NIOSSL

/// The gateway's proxy path, in three steps: who is calling (a Coffer token or API key, a publishable
/// key from a browser, a signed request, a JWT or a client certificate), whether they may make this
/// call (origin, suspension, limits, route, schemas: the rules are `GatewayService`'s), and the call
/// itself (streamed). Refusals the client caused count towards its suspension.
struct GatewayProxy: Sendable {
    /// A decoded proxy request.
    struct Call: Sendable {
        /// The tenant named in the path.
        let tenant: String
        /// The project named in the path.
        let project: String
        /// The path after `/call`, still percent-encoded.
        let routePath: String
        /// The request body.
        let body: [UInt8]
    }

    /// Who is calling, once known.
    struct Identity: Sendable {
        /// The tenant.
        let tenant: Tenant
        /// A Coffer credential (token, API key, publishable key), if that is how the caller came.
        let caller: Caller?
        /// How the caller signed, presented a JWT or a certificate, when not with a Coffer credential.
        let presented: Presented?
    }

    /// A credential that is checked against the project's client profiles.
    enum Presented: Sendable {
        /// An RFC 9421 or `x-signature` signed request.
        case signature(RequestSignatures.Message)
        /// `Authorization: Bearer <JWT>`.
        case jwt(String)
        /// A TLS client certificate.
        case certificate(NIOSSLCertificate)
    }

    let runtime: CofferRuntime
    var auth: Authenticator { runtime.authenticator }
    var gateway: GatewayService { runtime.gateway }

    /// Serves one proxied call, counted by its status class (the upstream's, or Coffer's refusal's).
    func call(_ call: Call, _ request: Request, _ context: CofferRequestContext) async throws -> Response {
        do {
            let response = try await serve(call, request, context)
            runtime.metrics.gatewayCall(status: response.status.code)
            return response
        } catch {
            runtime.metrics.gatewayCall(status: ErrorStatus.status(for: ErrorStatus.normalize(error)).code)
            throw error
        }
    }

    func serve(_ call: Call, _ request: Request, _ context: CofferRequestContext) async throws -> Response {
        let identity = try await identify(call, request, context)
        context.work.describe("gateway.call", "gateway_project", call.project)
        let project: GatewayProject
        do {
            project = try await gateway.project(tenant: identity.tenant, name: call.project)
        } catch let error as CofferError where error.code == .notFound {
            throw CofferError(.routeNotFound, "no gateway project of this name")
        }
        let upstreamCall = try await admit(call, identity, project, request, context)
        return try await forward(upstreamCall, context)
    }

    /// The caller: a signature, a JWT or a client certificate name the tenant only by the path (they are
    /// checked once the project is known); anything else is a Coffer credential of that tenant.
    func identify(_ call: Call, _ request: Request, _ context: CofferRequestContext) async throws -> Identity {
        var headerMap: [String: [String]] = [:]
        for field in request.headers { headerMap[field.name.canonicalName.lowercased(), default: []].append(field.value) }
        let message = RequestSignatures.Message(
            method: request.method.rawValue, scheme: runtime.configuration.tlsEnabled ? "https" : "http", authority: request.head.authority ?? "",
            rawPath: request.uri.path, rawQuery: request.uri.query, headers: headerMap, body: call.body)
        let bearer = request.headers[.authorization].flatMap { $0.hasPrefix("Bearer ") ? String($0.dropFirst(7)) : nil }
        var presented: Presented?
        if RequestSignatures.isSigned(message) {
            presented = .signature(message)
        } else if let bearer, GatewayJWTVerifier.looksLikeJWT(bearer) {
            presented = .jwt(bearer)
        } else if request.headers[.authorization] == nil, request.headers[.vaultToken] == nil,
            let certificate = await context.clientCertificate()
        {
            // A client certificate authenticates only a request that carries no other credential.
            presented = .certificate(certificate)
        }
        if let presented {
            guard let tenant = try await runtime.storage.tenants.tenant(named: call.tenant) else {
                throw CofferError(.routeNotFound, "no gateway project of this name")
            }
            try auth.identify(tenant, .anonymous, operation: nil, in: context.work)
            return Identity(tenant: tenant, caller: nil, presented: presented)
        }
        let authenticated = try await auth.authenticate(request, context, allowPublishable: true)
        if case .apiKey(let key) = authenticated.credential, key.kind.isPublishable, request.headers[.origin] == nil {
            throw CofferError(.originNotAllowed, "publishable keys are for browsers: the request must come from an allowed Origin")
        }
        guard authenticated.tenant.name == call.tenant else {
            throw CofferError(.tenantMismatch, "permission denied: this credential belongs to another tenant")
        }
        return Identity(tenant: authenticated.tenant, caller: authenticated, presented: nil)
    }

    /// Whether the caller may make this call, and the upstream request if so.
    func admit(
        _ call: Call, _ identity: Identity, _ project: GatewayProject, _ request: Request, _ context: CofferRequestContext
    ) async throws -> GatewayService.UpstreamCall {
        let tenant = identity.tenant
        var watched: GatewayService.Watched?
        if let caller = identity.caller {
            var keyID: String?
            if case .apiKey(let key) = caller.credential { keyID = key.id }
            watched = GatewayService.Watched(client: caller.credentialID, apiKeyID: keyID)
        }
        do {
            if let watched { try await gateway.checkSuspension(tenant: tenant, project: project, client: watched.client) }
            let origin = request.headers[.origin]
            if let origin {
                guard project.allows(origin: origin) else { throw CofferError(.originNotAllowed, "this origin may not call this project") }
                context.notes.corsHeaders = GatewayController.corsHeaders(origin: origin, project: project, exposed: [])
            }
            // A signature (or a JWT, or a certificate) is checked before the route is looked up, so an
            // altered method or path is a signature failure, not a missing route.
            var profileRoutes: [String]?
            if let presented = identity.presented {
                let profile = try await self.profile(presented, tenant: tenant, project: project)
                let actor = AuditActor(
                    kind: profile.actorKind, id: "\(project.name)/\(profile.displayName)", role: "", displayName: profile.displayName)
                try auth.identify(tenant, actor, operation: nil, in: context.work)
                profileRoutes = profile.routes ?? Array(project.routes.keys)
                watched = GatewayService.Watched(client: profile.id, apiKeyID: nil)
                try await gateway.checkSuspension(tenant: tenant, project: project, client: profile.id)
                if let status = try await gateway.admit(tenant: tenant, project: project, profile, clientIP: context.clientIP) {
                    context.notes.rateLimit = status
                }
            }
            let (routeName, route, _) = try gateway.route(in: project, method: request.method.rawValue, rawPath: call.routePath)
            context.work.describe("gateway.call", "gateway_route", "\(project.name)/\(routeName)")
            if let caller = identity.caller {
                guard caller.may(.proxyCall, target: project.name) || caller.may(.proxyCall, target: "\(project.name)/\(routeName)") else {
                    throw CofferError(
                        .permissionDenied, "permission denied: this credential may not call this route (proxy:call:\(project.name)/\(routeName))")
                }
            } else if let profileRoutes, !profileRoutes.contains(routeName) {
                throw CofferError(.permissionDenied, "permission denied: this client may not call this route")
            }
            if let origin {
                context.notes.corsHeaders = GatewayController.corsHeaders(origin: origin, project: project, exposed: route.responseHeaders)
            }
            let incoming = GatewayService.Incoming(
                method: request.method.rawValue, rawPath: call.routePath, rawQuery: request.uri.query,
                headers: request.headers.map { ($0.name.canonicalName, $0.value) }, body: call.body)
            let upstreamCall = try await gateway.prepare(tenant: tenant, project: project, incoming)
            // An admissible call still counts: bursts above the client's baseline, networks never seen for it.
            if let watched,
                try await gateway.record(
                    .call(network: AnomalyWindow.network(of: context.clientIP)), tenant: tenant, project: project, watched,
                    requestID: context.requestID, audited: runtime.configuration.auditEnabled)
            {
                try await gateway.checkSuspension(tenant: tenant, project: project, client: watched.client)
            }
            return upstreamCall
        } catch let error as CofferError {
            if let watched, let event = GatewayController.anomalyEvent(error.code) {
                try await gateway.record(
                    event, tenant: tenant, project: project, watched, requestID: context.requestID, audited: runtime.configuration.auditEnabled)
            }
            throw error
        }
    }

    /// The client profile a signature, JWT or certificate authenticates as.
    func profile(_ presented: Presented, tenant: Tenant, project: GatewayProject) async throws -> GatewayService.ClientProfile {
        switch presented {
        case .certificate(let certificate):
            let verified = try await GatewayCertificateVerifier.verify(certificate, project: project, nowMillis: runtime.clock.nowMillis)
            return GatewayService.ClientProfile(
                id: "mtls:\(verified.profile):\(verified.identity)", actorKind: "gateway_mtls",
                displayName: "\(verified.profile)/\(verified.identity)",
                routes: verified.client.routes, limits: verified.client.limits)
        case .jwt(let token):
            let verified = try await runtime.jwtVerifier.verify(token, tenant: tenant, project: project, now: runtime.clock.nowMillis)
            return GatewayService.ClientProfile(
                id: "jwt:\(verified.profile):\(verified.subject)", actorKind: "gateway_jwt", displayName: "\(verified.profile)/\(verified.subject)",
                routes: verified.client.routes, limits: verified.client.limits)
        case .signature(let message):
            let (name, client) = try await gateway.authenticateSigned(tenant: tenant, project: project, message)
            return GatewayService.ClientProfile(
                id: "client:\(name)", actorKind: "gateway_client", displayName: name, routes: client.routes, limits: client.limits)
        }
    }

    /// Calls the upstream and streams its answer back with the route's allowed headers.
    func forward(_ upstreamCall: GatewayService.UpstreamCall, _ context: CofferRequestContext) async throws -> Response {
        context.work.addDetails(["target": upstreamCall.auditTarget, "method": upstreamCall.method])
        let started = ContinuousClock.now
        let answer: UpstreamTransport.Streamed
        do {
            answer = try await runtime.upstream.stream(upstreamCall)
        } catch {
            context.work.addDetails(["duration_ms": GatewayController.milliseconds(since: started)])
            throw error
        }
        // The body streams to the client after this entry is written: its size is the one the upstream declared.
        context.work.addDetails([
            "upstream_status": String(answer.status), "duration_ms": GatewayController.milliseconds(since: started),
            "response_bytes": answer.declaredLength.map(String.init) ?? "streamed",
        ])
        var response = Response(status: HTTPResponse.Status(code: answer.status), body: ResponseBody(asyncSequence: answer.body))
        for (name, value) in answer.headers {
            if let field = HTTPField.Name(name) { response.headers[field] = value }
        }
        if let length = answer.declaredLength { response.headers[.contentLength] = String(length) }
        return response
    }
}
