import CofferCore
import HTTPTypes
import Hummingbird

extension IdentityController {
    func listUsers(_ request: Request, _ context: CofferRequestContext) async throws -> Response {
        let (caller, method) = try await admin(request, context, kinds: [.userpass])
        context.work.describe("auth.userpass.user.list", "auth_user", method.path)
        let names = try await identity.users(tenant: caller.tenant, method: method)
        guard !names.isEmpty else { throw CofferError(.notFound, "no users") }
        return VaultResponse.data(["keys": .array(names.map { .string($0) })], context: context)
    }

    func readUser(_ request: Request, _ context: CofferRequestContext) async throws -> Response {
        let (caller, method) = try await admin(request, context, kinds: [.userpass])
        let name = try context.parameters.require("name")
        context.work.describe("auth.userpass.user.read", "auth_user", "\(method.path)/\(name.prefix(128))")
        let user = try await identity.user(tenant: caller.tenant, method: method, name: name)
        var fields = user.settings.vaultFields
        fields["password_changed_at"] = .string(Timestamp.rfc3339(user.passwordChangedAt))
        return VaultResponse.data(.object(fields), context: context)
    }

    /// `users/<name>` (everything), `users/<name>/password` and `users/<name>/policies` (`only` those fields).
    func writeUser(_ request: Request, _ context: CofferRequestContext, only: Set<String>?) async throws -> Response {
        let (caller, method) = try await admin(request, context, kinds: [.userpass])
        let name = try context.parameters.require("name")
        context.work.describe("auth.userpass.user.write", "auth_user", "\(method.path)/\(name.prefix(128))")
        // The body holds the password: never recorded, not even redacted.
        let object = try await body.object(request, context, recording: false)
        try object.admit(only ?? LoginSettingsRequest.fields.union(["password"]), outcome: "nothing was changed")
        let password = try object.string("password")
        if only == ["password"], password == nil { throw CofferError(.invalidRequest, "password is required") }
        var settings: LoginTokenSettings?
        if object.keys.contains(where: { $0 != "password" }) {
            var current = (try? await identity.user(tenant: caller.tenant, method: method, name: name))?.settings ?? LoginTokenSettings(role: nil)
            try LoginSettingsRequest.apply(object, to: &current)
            settings = current
        } else if (try? await identity.user(tenant: caller.tenant, method: method, name: name)) == nil {
            // A new user given only a password gets no role: refused below, naming token_policies.
            settings = LoginTokenSettings(role: nil)
        }
        try await identity.writeUser(tenant: caller.tenant, method: method, name: name, password: password, settings: settings, in: context.work)
        return VaultResponse.noContent()
    }

    func deleteUser(_ request: Request, _ context: CofferRequestContext) async throws -> Response {
        let (caller, method) = try await admin(request, context, kinds: [.userpass])
        try await identity.deleteUser(tenant: caller.tenant, method: method, name: try context.parameters.require("name"), in: context.work)
        return VaultResponse.noContent()
    }

    /// `POST auth/<userpass>/login/<username> {password}`.
    func loginUser(_ request: Request, _ context: CofferRequestContext) async throws -> Response {
        let (tenant, method) = try await loginTarget(request, context, kinds: [.userpass])
        let name = try context.parameters.require("name")
        let object = try await body.object(request, context, recording: false)
        return try await answerLogin(context, tenant: tenant) {
            try object.admit(["password"])
            guard let password = try object.string("password") else { throw CofferError(.invalidRequest, "password is required") }
            return try await identity.loginUserpass(
                tenant: tenant, method: method, username: name, password: password, clientIP: context.clientIP, in: context.work)
        }
    }

    /// Coffer's userpass settings: `password_min_length`, `lockout_threshold`, `lockout_duration`,
    /// `lockout_counter_reset`, `address_lockout_threshold` (0 turns a lockout off).
    static func userpassConfig(_ object: [String: JSONValue], current: UserpassConfig) throws -> UserpassConfig {
        try object.admit(
            ["password_min_length", "lockout_threshold", "lockout_duration", "lockout_counter_reset", "address_lockout_threshold"],
            outcome: "nothing was changed")
        var config = current
        if let minimum = try object.int("password_min_length") {
            guard (8...1024).contains(minimum) else { throw CofferError(.invalidRequest, "password_min_length must be 8-1024") }
            config.passwordMinLength = minimum
        }
        if let threshold = try object.int("lockout_threshold") {
            guard (0...1000).contains(threshold) else { throw CofferError(.invalidRequest, "lockout_threshold must be 0-1000") }
            config.userLockout.threshold = threshold
        }
        if let threshold = try object.int("address_lockout_threshold") {
            guard (0...100_000).contains(threshold) else { throw CofferError(.invalidRequest, "address_lockout_threshold must be 0-100000") }
            config.addressLockout.threshold = threshold
        }
        for (key, path) in [("lockout_duration", \LockoutPolicy.durationMillis), ("lockout_counter_reset", \.counterResetMillis)] {
            guard let seconds = try object.duration(key) else { continue }
            guard (1...31 * 86400).contains(seconds) else { throw CofferError(.invalidRequest, "\(key) must be 1 second to 31 days") }
            config.userLockout[keyPath: path] = seconds * 1000
            config.addressLockout[keyPath: path] = seconds * 1000
        }
        return config
    }
}
