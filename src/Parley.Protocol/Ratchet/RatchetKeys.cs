namespace Parley.Protocol.Ratchet;

/// <summary>Sizes and fixed inputs of the ratchet's key schedule (docs/protocol.md §6).</summary>
internal static class RatchetKeys
{
    internal const int RootKeySize = 32;

    internal const int MessageKeySize = 32;

    /// <summary>
    /// Each message key encrypts exactly one message, so the AES-GCM nonce is the constant zero
    /// (Double Ratchet §5.2 lists "fixed to a constant" among the sound choices).
    /// </summary>
    internal static ReadOnlySpan<byte> Nonce => [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
}
