namespace Parley.Protocol.Primitives;

/// <summary>HMAC-SHA256 (RFC 2104) with a raw 32-byte key, as the ratchet's chain step needs it.</summary>
internal static class Hmac
{
    internal const int KeySize = 32;
    internal const int OutputSize = 32;

    static Hmac() => Sodium.EnsureInitialized();

    internal static unsafe void Sha256(ReadOnlySpan<byte> key, ReadOnlySpan<byte> data, Span<byte> output)
    {
        if (key.Length != KeySize || output.Length != OutputSize)
        {
            throw new ArgumentException("HMAC-SHA256 here takes a 32-byte key and writes 32 bytes");
        }

        fixed (byte* o = output)
        fixed (byte* d = data)
        fixed (byte* k = key)
        {
            _ = Sodium.crypto_auth_hmacsha256(o, d, (ulong)data.Length, k);
        }
    }
}
