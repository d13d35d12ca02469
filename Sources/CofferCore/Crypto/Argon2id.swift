import CArgon2

/// Argon2id (RFC 9106) key derivation through Debian's libargon2.
public struct Argon2id: Sendable, Hashable, Codable {
    /// Memory cost in KiB.
    public var memoryKiB: UInt32
    /// Number of passes.
    public var iterations: UInt32
    /// Degree of parallelism (lanes).
    public var parallelism: UInt32

    /// Creates a parameter set.
    public init(memoryKiB: UInt32, iterations: UInt32, parallelism: UInt32) {
        self.memoryKiB = memoryKiB
        self.iterations = iterations
        self.parallelism = parallelism
    }

    /// Coffer's default: 64 MiB, 3 passes, 1 lane (the RFC 9106 second recommended option).
    public static let `default` = Argon2id(memoryKiB: 64 * 1024, iterations: 3, parallelism: 1)

    /// Derives `length` bytes from `password` and `salt`, with optional secret and associated data.
    public func derive(
        password: [UInt8], salt: [UInt8], secret: [UInt8] = [], associatedData: [UInt8] = [], length: Int = 32
    ) throws(CofferError) -> [UInt8] {
        var output = [UInt8](repeating: 0, count: length)
        var password = password
        var salt = salt
        var secret = secret
        var associatedData = associatedData
        let result: Int32 = output.withUnsafeMutableBufferPointer { out in
            password.withUnsafeMutableBufferPointer { pwd in
                salt.withUnsafeMutableBufferPointer { slt in
                    secret.withUnsafeMutableBufferPointer { sec in
                        associatedData.withUnsafeMutableBufferPointer { ad in
                            var context = argon2_context()
                            context.out = out.baseAddress
                            context.outlen = UInt32(out.count)
                            context.pwd = pwd.baseAddress
                            context.pwdlen = UInt32(pwd.count)
                            context.salt = slt.baseAddress
                            context.saltlen = UInt32(slt.count)
                            context.secret = sec.count > 0 ? sec.baseAddress : nil
                            context.secretlen = UInt32(sec.count)
                            context.ad = ad.count > 0 ? ad.baseAddress : nil
                            context.adlen = UInt32(ad.count)
                            context.t_cost = iterations
                            context.m_cost = memoryKiB
                            context.lanes = parallelism
                            context.threads = parallelism
                            context.version = UInt32(ARGON2_VERSION_13.rawValue)
                            context.flags = 0  // ARGON2_DEFAULT_FLAGS
                            return argon2_ctx(&context, Argon2_id)
                        }
                    }
                }
            }
        }
        guard result == ARGON2_OK.rawValue else {
            let reason = String(cString: argon2_error_message(result))
            throw CofferError(.configInvalid, "Argon2id failed: \(reason)")
        }
        return output
    }
}
