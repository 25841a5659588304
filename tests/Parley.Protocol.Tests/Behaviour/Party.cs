using Parley.Protocol.Identity;
using Parley.Protocol.PreKeys;
using Parley.Protocol.Session;
using Parley.Protocol.Storage;
using Parley.Protocol.Wire;

namespace Parley.Protocol.Tests.Behaviour;

/// <summary>A user with an identity, a prekey store and a published bundle, for session tests.</summary>
internal sealed class Party : IDisposable
{
    private uint nextOneTimeId = 100;

    internal Party(string name, int oneTimePreKeys = 3)
    {
        Name = name;
        Identity = IdentityKeyPair.Generate();
        SignedPreKey = SignedPreKeyRecord.Generate(Identity, 1, DateTimeOffset.UnixEpoch);
        KemPreKey = KemPreKeyRecord.Generate(Identity, 7, lastResort: true, DateTimeOffset.UnixEpoch);
        PreKeys.Add(SignedPreKey);
        PreKeys.Add(KemPreKey);
        for (var i = 0; i < oneTimePreKeys; i++)
        {
            AddOneTimePreKey();
        }
    }

    internal string Name { get; }

    internal IdentityKeyPair Identity { get; }

    internal SignedPreKeyRecord SignedPreKey { get; }

    internal KemPreKeyRecord KemPreKey { get; }

    internal InMemoryPreKeyStore PreKeys { get; } = new();

    internal List<OneTimePreKeyRecord> OneTimePreKeys { get; } = [];

    internal OneTimePreKeyRecord AddOneTimePreKey()
    {
        var record = OneTimePreKeyRecord.Generate(nextOneTimeId++);
        PreKeys.Add(record);
        OneTimePreKeys.Add(record);
        return record;
    }

    /// <summary>A bundle as the directory would hand it out, with the next one-time prekey if asked.</summary>
    internal PreKeyBundle Bundle(bool withOneTimePreKey = true) => new()
    {
        Version = ProtocolVersion.Current,
        Identity = Identity.PublicKey.ToWire(),
        SignedPreKey = SignedPreKey.ToWire(),
        KemPreKey = KemPreKey.ToWire(),
        OneTimePreKey = withOneTimePreKey && OneTimePreKeys.Count > 0 ? TakeOneTimePreKey().ToWire() : null,
    };

    private OneTimePreKeyRecord TakeOneTimePreKey()
    {
        var record = OneTimePreKeys[0];
        OneTimePreKeys.RemoveAt(0);
        return record;
    }

    public void Dispose() => Identity.Dispose();
}

/// <summary>Two parties with an established session in both directions.</summary>
internal sealed class Conversation : IDisposable
{
    private Conversation(Party alice, Party bob, RatchetSession aliceSession, RatchetSession bobSession)
    {
        Alice = alice;
        Bob = bob;
        AliceSession = aliceSession;
        BobSession = bobSession;
    }

    internal Party Alice { get; }

    internal Party Bob { get; }

    internal RatchetSession AliceSession { get; private set; }

    internal RatchetSession BobSession { get; private set; }

    /// <summary>Alice initiates and Bob accepts her first message, so both hold a session.</summary>
    internal static Conversation Start()
    {
        var alice = new Party("alice");
        var bob = new Party("bob");
        var aliceSession = RatchetSession.Initiate(alice.Identity, bob.Bundle());
        var first = RatchetSession.ParseMessage(aliceSession.Encrypt("hello bob"u8));
        var bobSession = RatchetSession.Accept(bob.Identity, first.PreKey, bob.PreKeys, out var plaintext);
        Assert.Equal("hello bob"u8.ToArray(), plaintext);
        return new Conversation(alice, bob, aliceSession, bobSession);
    }

    internal byte[] AliceSends(string text) => AliceSession.Encrypt(System.Text.Encoding.UTF8.GetBytes(text));

    internal byte[] BobSends(string text) => BobSession.Encrypt(System.Text.Encoding.UTF8.GetBytes(text));

    internal string BobReads(byte[] message) => System.Text.Encoding.UTF8.GetString(BobSession.Decrypt(message));

    internal string AliceReads(byte[] message) => System.Text.Encoding.UTF8.GetString(AliceSession.Decrypt(message));

    /// <summary>Replaces both sessions by their serialized-and-restored copies.</summary>
    internal void Persist()
    {
        var a = RatchetSession.Deserialize(AliceSession.Serialize());
        var b = RatchetSession.Deserialize(BobSession.Serialize());
        AliceSession.Dispose();
        BobSession.Dispose();
        AliceSession = a;
        BobSession = b;
    }

    public void Dispose()
    {
        AliceSession.Dispose();
        BobSession.Dispose();
        Alice.Dispose();
        Bob.Dispose();
    }
}
