using System.Security.Cryptography;

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

    public void Dispose()
    {
        CryptographicOperations.ZeroMemory(RootKey);
        CryptographicOperations.ZeroMemory(SendingPrivate);
        CryptographicOperations.ZeroMemory(SendingChainKey);
        CryptographicOperations.ZeroMemory(ReceivingChainKey);
        Skipped.Clear();
    }
}
