using System.Security.Cryptography;
using Parley.Client.Profile;
using Parley.Protocol.Identity;
using Parley.Protocol.PreKeys;

namespace Parley.Client.Tests.Profile;

public sealed class ProfileLifecycleTests : IDisposable
{
    private readonly TestProfiles profiles = new();

    public void Dispose() => profiles.Dispose();

    [Fact]
    public void CreateThenOpen_RoundTripsEveryKindOfData()
    {
        using var identity = IdentityKeyPair.Generate();
        using var bob = IdentityKeyPair.Generate();
        var expectedIdentity = identity.Export();
        var outgoingId = RandomNumberGenerator.GetBytes(16);
        var incomingId = RandomNumberGenerator.GetBytes(16);
        byte[] signed, lastResort, oneTime, oneTimeKem;
        uint signedId, lastResortId, oneTimeId, oneTimeKemId;
        var session = RandomNumberGenerator.GetBytes(300);

        using (var store = ProfileStore.Create(profiles.PathOf("alice"), TestProfiles.Passphrase, TestProfiles.Info("alice"), identity, TestProfiles.Cheap))
        {
            signedId = store.NextPreKeyId();
            lastResortId = store.NextPreKeyId();
            oneTimeId = store.NextPreKeyId();
            oneTimeKemId = store.NextPreKeyId();
            var signedRecord = SignedPreKeyRecord.Generate(store.Identity, signedId, DateTimeOffset.UnixEpoch);
            var lastResortRecord = KemPreKeyRecord.Generate(store.Identity, lastResortId, lastResort: true, DateTimeOffset.UnixEpoch);
            var oneTimeRecord = OneTimePreKeyRecord.Generate(oneTimeId);
            var oneTimeKemRecord = KemPreKeyRecord.Generate(store.Identity, oneTimeKemId, lastResort: false, DateTimeOffset.UnixEpoch);
            (signed, lastResort, oneTime, oneTimeKem) = (signedRecord.Serialize(), lastResortRecord.Serialize(), oneTimeRecord.Serialize(), oneTimeKemRecord.Serialize());
            store.AddPreKeys(signedRecord, lastResortRecord, [oneTimeRecord], [oneTimeKemRecord]);
            store.StoreSession("bob", session);
            store.Pin("bob", bob.PublicKey);
            store.EnqueueOutgoing(new OutgoingMessage(outgoingId, "bob", [1, 2, 3], "hello bob", DateTimeOffset.FromUnixTimeMilliseconds(1000)));
            Assert.True(store.StoreIncoming(new IncomingMessage(incomingId, "bob", "hello alice", MessageStatus.Delivered, DateTimeOffset.FromUnixTimeMilliseconds(2000), DateTimeOffset.FromUnixTimeMilliseconds(2001)), null, null));
        }

        using var reopened = profiles.Open("alice");
        Assert.Equal(TestProfiles.Info("alice"), reopened.Info);
        Assert.Equal(identity.PublicKey, reopened.Identity.PublicKey);
        Assert.Equal(expectedIdentity, reopened.Identity.Export());
        Assert.Same(reopened.Identity, reopened.LocalIdentity);
        Assert.Equal(signedId, reopened.CurrentSignedPreKeyId);
        Assert.Equal(lastResortId, reopened.CurrentLastResortKemPreKeyId);
        Assert.Equal(signed, reopened.GetSignedPreKey(signedId)!.Serialize());
        Assert.Equal(lastResort, reopened.GetKemPreKey(lastResortId)!.Serialize());
        Assert.Equal(oneTime, reopened.GetOneTimePreKey(oneTimeId)!.Serialize());
        Assert.Equal(oneTimeKem, reopened.GetKemPreKey(oneTimeKemId)!.Serialize());
        Assert.Equal(oneTimeKemId + 1, reopened.NextPreKeyId());
        Assert.Equal(session, reopened.LoadSession("bob"));
        Assert.Null(reopened.LoadSession("carol"));
        Assert.Equal(bob.PublicKey, reopened.GetPinnedIdentity("bob"));
        var contact = Assert.Single(reopened.ListContacts());
        Assert.Equal(new Contact("bob", bob.PublicKey.Fingerprint, false, false, contact.PinnedAt), contact);
        Assert.NotNull(contact.PinnedAt);
        var pending = Assert.Single(reopened.PendingOutgoing());
        Assert.Equal(outgoingId, pending.MessageId);
        Assert.Equal(("bob", "hello bob", DateTimeOffset.FromUnixTimeMilliseconds(1000)), (pending.Recipient, pending.Text, pending.CreatedAt));
        Assert.Equal([1, 2, 3], pending.Ciphertext);
        Assert.True(reopened.HasIncoming("bob", incomingId));
        var history = reopened.History("bob");
        Assert.Equal(["hello bob", "hello alice"], history.Select(entry => entry.Text));
        Assert.Equal([true, false], history.Select(entry => entry.Outgoing));
    }

    [Fact]
    public void CreateWhereAProfileExists_ThrowsAlreadyExists()
    {
        profiles.Create("alice").Dispose();
        var error = Assert.Throws<ProfileException>(() => profiles.Create("alice"));
        Assert.Equal(ProfileErrorKind.AlreadyExists, error.Kind);
    }

    [Fact]
    public void OpenWithoutProfile_ThrowsNoProfile()
    {
        var error = Assert.Throws<ProfileException>(() => profiles.Open("nobody"));
        Assert.Equal(ProfileErrorKind.NoProfile, error.Kind);
        Assert.False(Directory.Exists(profiles.PathOf("nobody")));
    }

    [Fact]
    public void OpenWithWrongPassphrase_ThrowsWrongPassphraseAndChangesNothing()
    {
        profiles.Create("alice").Dispose();
        var directory = profiles.PathOf("alice");
        var before = Snapshot(directory);

        var error = Assert.Throws<ProfileException>(() => ProfileStore.Open(directory, "wrong " + TestProfiles.Passphrase));

        Assert.Equal(ProfileErrorKind.WrongPassphrase, error.Kind);
        Assert.Equal("wrong passphrase", error.Message);
        Assert.Equal(before, Snapshot(directory));
        using var store = profiles.Open("alice");
        Assert.Equal("alice", store.Info.UserName);
    }

    [Fact]
    public void OpenGarbageFile_ThrowsCorrupt()
    {
        var directory = profiles.PathOf("alice");
        Directory.CreateDirectory(directory);
        File.WriteAllBytes(Path.Combine(directory, ProfileStore.FileName), RandomNumberGenerator.GetBytes(8192));
        var error = Assert.Throws<ProfileException>(() => ProfileStore.Open(directory, TestProfiles.Passphrase));
        Assert.Equal(ProfileErrorKind.Corrupt, error.Kind);
    }

    [Fact]
    public void OpenDatabaseWithoutProfileTables_ThrowsCorrupt()
    {
        var directory = profiles.PathOf("alice");
        Directory.CreateDirectory(directory);
        File.WriteAllBytes(Path.Combine(directory, ProfileStore.FileName), []);
        using (var raw = profiles.Raw("alice"))
        {
            TestProfiles.Execute(raw, "CREATE TABLE unrelated (x)");
        }

        var error = Assert.Throws<ProfileException>(() => ProfileStore.Open(directory, TestProfiles.Passphrase));
        Assert.Equal(ProfileErrorKind.Corrupt, error.Kind);
    }

    [Fact]
    public void OpenWithMissingIdentity_ThrowsCorrupt()
    {
        profiles.Create("alice").Dispose();
        using (var raw = profiles.Raw("alice"))
        {
            TestProfiles.Execute(raw, "DELETE FROM meta WHERE key = 'identity'");
        }

        var error = Assert.Throws<ProfileException>(() => profiles.Open("alice"));
        Assert.Equal(ProfileErrorKind.Corrupt, error.Kind);
    }

    [Fact]
    public void SchemaVersionAndKdfParametersAreStored()
    {
        profiles.Create("alice").Dispose();
        using var raw = profiles.Raw("alice");
        Assert.Equal(2L, TestProfiles.Scalar(raw, "SELECT value FROM meta WHERE key = 'schema_version'"));
        Assert.Equal("wal", TestProfiles.Scalar(raw, "PRAGMA journal_mode"));
        Assert.Equal(TestProfiles.Cheap.MemoryKib, TestProfiles.Scalar(raw, "SELECT value FROM meta WHERE key = 'kdf_memory_kib'"));
        Assert.Equal(16, ((byte[])TestProfiles.Scalar(raw, "SELECT value FROM meta WHERE key = 'kdf_salt'")!).Length);
    }

    [Fact]
    public void DefaultArgon2Parameters_CreateAndOpen()
    {
        var directory = profiles.PathOf("alice");
        using (var identity = IdentityKeyPair.Generate())
        using (ProfileStore.Create(directory, TestProfiles.Passphrase, TestProfiles.Info("alice"), identity))
        {
        }

        using (var raw = profiles.Raw("alice"))
        {
            Assert.Equal(19L * 1024, TestProfiles.Scalar(raw, "SELECT value FROM meta WHERE key = 'kdf_memory_kib'"));
            Assert.Equal(2L, TestProfiles.Scalar(raw, "SELECT value FROM meta WHERE key = 'kdf_iterations'"));
            Assert.Equal(1L, TestProfiles.Scalar(raw, "SELECT value FROM meta WHERE key = 'kdf_parallelism'"));
        }

        using var store = ProfileStore.Open(directory, TestProfiles.Passphrase);
        Assert.Equal("alice", store.Info.UserName);
        Assert.Equal(ProfileErrorKind.WrongPassphrase, Assert.Throws<ProfileException>(() => ProfileStore.Open(directory, "nope")).Kind);
    }

    [Fact]
    public void FilesArePrivate()
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        var directory = Path.Combine(profiles.PathOf("nested"), "alice");
        using (var identity = IdentityKeyPair.Generate())
        using (var store = ProfileStore.Create(directory, TestProfiles.Passphrase, TestProfiles.Info("alice"), identity, TestProfiles.Cheap))
        {
            store.StoreSession("bob", [1, 2, 3]);
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(directory));
            foreach (var suffix in new[] { string.Empty, "-wal", "-shm" })
            {
                var file = Path.Combine(directory, ProfileStore.FileName + suffix);
                Assert.True(File.Exists(file), file);
                Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(file));
            }
        }

        Assert.Equal([ProfileStore.FileName], Directory.GetFiles(directory).Select(Path.GetFileName));
    }

    [Fact]
    public void DisposedStore_ThrowsObjectDisposed()
    {
        var store = profiles.Create("alice");
        store.Dispose();
        store.Dispose();
        Assert.Throws<ObjectDisposedException>(() => store.LoadSession("bob"));
    }

    private static Dictionary<string, string> Snapshot(string directory) =>
        Directory.GetFiles(directory).ToDictionary(file => Path.GetFileName(file), file => Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(file))));
}
