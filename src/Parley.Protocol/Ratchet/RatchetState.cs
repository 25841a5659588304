using System.Security.Cryptography;
using Google.Protobuf;
using Parley.Protocol.Internal;
using Parley.Protocol.Primitives;
using Parley.Protocol.Internal.Stored;
using Parley.Protocol.Wire;

namespace Parley.Protocol.Ratchet;

/// <summary>
/// The Double Ratchet state of one session (§3.2: DHs, DHr, RK, CKs, CKr, Ns, Nr, PN,
/// MKSKIPPED), plus the chains already left behind so that their messages read as replays.
/// Arrays are owned and zeroed on <see cref="Dispose"/>.
/// </summary>
internal sealed class RatchetState : IDisposable
{
    internal byte[] RootKey { get; set; } = [];

    internal byte[] SendingPrivate { get; set; } = [];

    internal byte[] SendingPublic { get; set; } = [];

    /// <summary>DHr; null until a ratchet key of the peer is known.</summary>
    internal byte[]? ReceivingRatchetKey { get; set; }

    internal byte[]? SendingChainKey { get; set; }

    internal byte[]? ReceivingChainKey { get; set; }

    internal uint SendingCounter { get; set; }

    internal uint ReceivingCounter { get; set; }

    internal uint PreviousSendingCounter { get; set; }

    internal SkippedKeyStore Skipped { get; } = new();

    /// <summary>Receiving chains moved past, oldest first, with the first counter never derived on each.</summary>
    internal List<(byte[] RatchetKey, uint NextCounter)> Retired { get; } = [];

    internal void Retire(byte[] ratchetKey, uint nextCounter)
    {
        Retired.Add((ratchetKey, nextCounter));
        if (Retired.Count > RatchetLimits.MaxRetiredChains)
        {
            Retired.RemoveAt(0);
        }
    }

    internal bool TryFindRetired(ReadOnlySpan<byte> ratchetKey, out uint nextCounter)
    {
        foreach (var (key, next) in Retired)
        {
            if (ratchetKey.SequenceEqual(key))
            {
                nextCounter = next;
                return true;
            }
        }

        nextCounter = 0;
        return false;
    }

    internal void WriteTo(SessionState target)
    {
        // UnsafeWrap: the proto is serialized at once and dropped; the arrays outlive it unchanged.
        target.RootKey = UnsafeByteOperations.UnsafeWrap(RootKey);
        target.SendingRatchetPrivate = UnsafeByteOperations.UnsafeWrap(SendingPrivate);
        target.SendingRatchetPublic = UnsafeByteOperations.UnsafeWrap(SendingPublic);
        target.ReceivingRatchetKey = Wrap(ReceivingRatchetKey);
        target.SendingChainKey = Wrap(SendingChainKey);
        target.ReceivingChainKey = Wrap(ReceivingChainKey);
        target.SendingCounter = SendingCounter;
        target.ReceivingCounter = ReceivingCounter;
        target.PreviousSendingCounter = PreviousSendingCounter;
        foreach (var key in Skipped.Keys)
        {
            target.Skipped.Add(new SkippedMessageKey
            {
                RatchetKey = UnsafeByteOperations.UnsafeWrap(key.RatchetKey),
                Counter = key.Counter,
                MessageKey = UnsafeByteOperations.UnsafeWrap(key.MessageKey),
            });
        }

        foreach (var (key, next) in Retired)
        {
            target.Retired.Add(new RetiredChain { RatchetKey = UnsafeByteOperations.UnsafeWrap(key), NextCounter = next });
        }
    }

    internal static RatchetState ReadFrom(SessionState source)
    {
        var state = new RatchetState
        {
            RootKey = Exact(source.RootKey, RatchetKeys.RootKeySize, "root key"),
            SendingPrivate = Exact(source.SendingRatchetPrivate, X25519.KeySize, "sending ratchet key"),
            SendingPublic = Exact(source.SendingRatchetPublic, X25519.KeySize, "sending ratchet key"),
            ReceivingRatchetKey = Optional(source.ReceivingRatchetKey, X25519.KeySize, "receiving ratchet key"),
            SendingChainKey = Optional(source.SendingChainKey, ChainKey.Size, "sending chain key"),
            ReceivingChainKey = Optional(source.ReceivingChainKey, ChainKey.Size, "receiving chain key"),
            SendingCounter = source.SendingCounter,
            ReceivingCounter = source.ReceivingCounter,
            PreviousSendingCounter = source.PreviousSendingCounter,
        };
        foreach (var key in source.Skipped)
        {
            state.Skipped.Add(new SkippedKey(
                Exact(key.RatchetKey, X25519.KeySize, "skipped key"),
                key.Counter,
                Exact(key.MessageKey, ChainKey.Size, "skipped key")));
        }

        foreach (var chain in source.Retired)
        {
            state.Retire(Exact(chain.RatchetKey, X25519.KeySize, "retired chain"), chain.NextCounter);
        }

        return state;
    }

    public void Dispose()
    {
        CryptographicOperations.ZeroMemory(RootKey);
        CryptographicOperations.ZeroMemory(SendingPrivate);
        CryptographicOperations.ZeroMemory(SendingChainKey);
        CryptographicOperations.ZeroMemory(ReceivingChainKey);
        Skipped.Clear();
    }

    private static ByteString Wrap(byte[]? bytes) => bytes is null ? ByteString.Empty : UnsafeByteOperations.UnsafeWrap(bytes);

    private static byte[] Exact(ByteString value, int size, string what) =>
        value.Length == size ? value.ToByteArray() : throw Error.Malformed($"session state ({what})");

    private static byte[]? Optional(ByteString value, int size, string what) =>
        value.IsEmpty ? null : Exact(value, size, what);
}
