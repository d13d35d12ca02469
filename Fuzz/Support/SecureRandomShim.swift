// The fuzz build compiles parser sources without swift-crypto. `APIKeyFormat.generate` draws from
// `SecureRandom`, which in Coffer is BoringSSL's CSPRNG; here the system generator stands in, only so
// the format's source compiles unchanged. Nothing built here is ever used as a key.
enum SecureRandom {
    static func bytes(_ count: Int) -> [UInt8] {
        var generator = SystemRandomNumberGenerator()
        return (0..<count).map { _ in UInt8.random(in: 0...255, using: &generator) }
    }
}
