using Parley.Protocol.Primitives;
using Parley.Protocol.Wire;

namespace Parley.Protocol.Ratchet;

/// <summary>KDF_RK of the Double Ratchet (§5.2): the DH ratchet's root-chain step.</summary>
internal static class RootKey
{
    internal const int Size = 32;

    /// <summary>
    /// (rk', ck) = HKDF-SHA256(salt = rk, ikm = dh_out, info = "Parley_Ratchet_RootChain_v1", L = 64).
    /// </summary>
    internal static void Step(ReadOnlySpan<byte> rootKey, ReadOnlySpan<byte> dhOutput, Span<byte> nextRootKey, Span<byte> chainKey)
    {
        Span<byte> output = stackalloc byte[Size + ChainKey.Size];
        Hkdf.Sha256(dhOutput, rootKey, Labels.RootChain, output);
        output[..Size].CopyTo(nextRootKey);
        output[Size..].CopyTo(chainKey);
        System.Security.Cryptography.CryptographicOperations.ZeroMemory(output);
    }
}
