import CofferCore
import Testing

/// `delete_version_after`: due at creation + the secret's setting (else the mount's); values from a
/// tampered row that would overflow never wrap into a time in the past.
@Suite struct KVRulesTests {
    static let version = SecretVersion(version: 1, createdAt: 1_000, blob: [1], keyVersion: 1)
    static func metadata(_ seconds: Int64) -> SecretMetadata {
        SecretMetadata(tenantID: "t", mount: "secret", path: "p", deleteVersionAfterSeconds: seconds, createdAt: 0, updatedAt: 0)
    }

    @Test func dueTimesAndPrecedence() {
        #expect(KVRules.deletionDue(Self.version, metadata: Self.metadata(0), mount: KVMountConfig()) == nil)
        #expect(KVRules.deletionDue(Self.version, metadata: Self.metadata(0), mount: KVMountConfig(deleteVersionAfterSeconds: 60)) == 61_000)
        #expect(KVRules.deletionDue(Self.version, metadata: Self.metadata(5), mount: KVMountConfig(deleteVersionAfterSeconds: 60)) == 6_000)
        let seen = KVRules.asSeen(Self.version, metadata: Self.metadata(5), mount: KVMountConfig(), now: 6_000)
        #expect(seen.deletedAt == 6_000)
        #expect(KVRules.asSeen(Self.version, metadata: Self.metadata(5), mount: KVMountConfig(), now: 5_999).deletedAt == nil)
    }

    /// `Int64.max / 1000` seconds overflows when added to the creation time, `Int64.max` when made milliseconds.
    @Test(arguments: [Int64.max, Int64.max / 1000])
    func overflowingValuesAreNeverDue(seconds: Int64) {
        #expect(KVRules.deletionDue(Self.version, metadata: Self.metadata(seconds), mount: KVMountConfig()) == nil)
        #expect(KVRules.asSeen(Self.version, metadata: Self.metadata(seconds), mount: KVMountConfig(), now: .max).deletedAt == nil)
    }

    @Test func theLargestValueThatFitsIsFarInTheFuture() {
        let due = KVRules.deletionDue(Self.version, metadata: Self.metadata(Int64.max / 1000 - 1), mount: KVMountConfig())
        #expect((due ?? 0) > Self.version.createdAt)
    }
}
