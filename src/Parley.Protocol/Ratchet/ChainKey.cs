using Parley.Protocol.Primitives;

namespace Parley.Protocol.Ratchet;

/// <summary>KDF_CK of the Double Ratchet (§5.2): the symmetric-key ratchet step.</summary>
internal static class ChainKey
{
    internal const int Size = 32;

    private static ReadOnlySpan<byte> MessageKeySeed => [0x01];

    private static ReadOnlySpan<byte> ChainKeySeed => [0x02];

    /// <summary>
    /// mk = HMAC-SHA256(ck, 0x01); ck' = HMAC-SHA256(ck, 0x02). <paramref name="nextChainKey"/>
    /// may be the same memory as <paramref name="chainKey"/>.
    /// </summary>
    internal static void Step(ReadOnlySpan<byte> chainKey, Span<byte> messageKey, Span<byte> nextChainKey) =>
        Hmac.Sha256Twice(chainKey, MessageKeySeed, messageKey, ChainKeySeed, nextChainKey);
}
