using System.Security.Cryptography;
using System.Text;
using Parley.Client.Profile;
using Parley.Protocol;
using Parley.Protocol.PreKeys;
using Parley.Protocol.Session;
using Parley.Protocol.Storage;
using Parley.Protocol.Wire;

namespace Parley.Client.Tests.Profile;

/// <summary>Two profiles talk through <see cref="SessionCipher"/>: the stores are what the protocol needs.</summary>
public sealed class ConversationTests : IDisposable
{
    private readonly TestProfiles profiles = new();

    public void Dispose() => profiles.Dispose();

    [Fact]
    public void SessionCipherConversation_BetweenTwoProfiles_SurvivesReopening()
    {
        PreKeyBundle bundle;
        uint oneTimeId, oneTimeKemId, lastResortId;
        using (var bob = profiles.Create("bob"))
        {
            var signed = SignedPreKeyRecord.Generate(bob.Identity, bob.NextPreKeyId(), DateTimeOffset.UtcNow);
            var lastResort = KemPreKeyRecord.Generate(bob.Identity, bob.NextPreKeyId(), lastResort: true, DateTimeOffset.UtcNow);
            var oneTime = Enumerable.Range(0, 3).Select(_ => OneTimePreKeyRecord.Generate(bob.NextPreKeyId())).ToList();
            var oneTimeKem = Enumerable.Range(0, 2).Select(_ => KemPreKeyRecord.Generate(bob.Identity, bob.NextPreKeyId(), lastResort: false, DateTimeOffset.UtcNow)).ToList();
            bob.AddPreKeys(signed, lastResort, oneTime, oneTimeKem);
            (oneTimeId, oneTimeKemId, lastResortId) = (oneTime[0].Id, oneTimeKem[0].Id, lastResort.Id);

            // The bundle is built from what the store gives back, as the client publishes it.
            bundle = new PreKeyBundle
            {
                Version = ProtocolVersion.Current,
                Identity = bob.Identity.PublicKey.ToWire(),
                SignedPreKey = bob.GetSignedPreKey(bob.CurrentSignedPreKeyId!.Value)!.ToWire(),
                KemPreKey = bob.GetKemPreKey(oneTimeKemId)!.ToWire(),
                OneTimePreKey = bob.GetOneTimePreKey(oneTimeId)!.ToWire(),
            };
        }

        byte[] first, second;
        using (var alice = profiles.Create("alice"))
        {
            var toBob = new SessionCipher("bob", alice, alice, alice);
            toBob.ProcessBundle(bundle);
            first = toBob.Encrypt(Encoding.UTF8.GetBytes("hello bob"));
            second = toBob.Encrypt(Encoding.UTF8.GetBytes("are you there?"));
            Assert.Equal(IdentityTrust.Trusted, alice.GetTrust("bob", alice.GetPinnedIdentity("bob")!));
        }

        using (var bob = profiles.Open("bob"))
        {
            var fromAlice = new SessionCipher("alice", bob, bob, bob);
            Assert.Equal("hello bob", Encoding.UTF8.GetString(fromAlice.Decrypt(first)));
            Assert.Null(bob.GetOneTimePreKey(oneTimeId));
            Assert.Null(bob.GetKemPreKey(oneTimeKemId));
            Assert.NotNull(bob.GetKemPreKey(lastResortId));
            Assert.Single(bob.ListContacts(), contact => contact.Name == "alice");
        }

        byte[] reply;
        using (var bob = profiles.Open("bob"))
        {
            var fromAlice = new SessionCipher("alice", bob, bob, bob);
            Assert.Equal("are you there?", Encoding.UTF8.GetString(fromAlice.Decrypt(second)));
            var replay = Assert.Throws<ParleyProtocolException>(() => fromAlice.Decrypt(first));
            Assert.NotEqual(ProtocolErrorKind.UntrustedIdentity, replay.Kind);
            reply = fromAlice.Encrypt(Encoding.UTF8.GetBytes("yes, hi alice"));
        }

        using (var alice = profiles.Open("alice"))
        {
            var toBob = new SessionCipher("bob", alice, alice, alice);
            Assert.Equal("yes, hi alice", Encoding.UTF8.GetString(toBob.Decrypt(reply)));
            var next = toBob.Encrypt(RandomNumberGenerator.GetBytes(10));
            Assert.NotEmpty(next);
        }
    }
}
