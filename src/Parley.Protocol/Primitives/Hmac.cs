namespace Parley.Protocol.Primitives;

/// <summary>
/// HMAC-SHA256 (RFC 2104) with a raw 32-byte key, as the ratchet's chain step needs it. Computed
/// over OpenSSL's SHA-256 (<see cref="HmacSha256State"/>) when libcrypto.so.3 is present, else by
/// libsodium's crypto_auth_hmacsha256; the two give the same bytes (RFC 4231 / RFC 4868 tests).
/// </summary>
internal static class Hmac
{
    internal const int KeySize = 32;
    internal const int OutputSize = 32;

    private static readonly bool UseOpenSsl = HmacSha256State.IsAvailable;

    static Hmac() => Sodium.EnsureInitialized();

    internal static string Implementation => UseOpenSsl ? "RFC 2104 over OpenSSL SHA-256 (libcrypto.so.3)" : "libsodium crypto_auth_hmacsha256";

    internal static void Sha256(ReadOnlySpan<byte> key, ReadOnlySpan<byte> data, Span<byte> output)
    {
        Check(key, output);
        if (UseOpenSsl)
        {
            var state = default(HmacSha256State);
            state.SetKey(key);
            state.Compute(data, output);
            state.Clear();
            return;
        }

        SodiumSha256(key, data, output);
    }

    /// <summary>
    /// Two MACs under one key (the chain step's HMAC(ck, 0x01) and HMAC(ck, 0x02)): the key is
    /// absorbed once. <paramref name="secondOutput"/> may overlap <paramref name="key"/>;
    /// <paramref name="firstOutput"/> must not.
    /// </summary>
    internal static void Sha256Twice(ReadOnlySpan<byte> key, ReadOnlySpan<byte> firstData, Span<byte> firstOutput, ReadOnlySpan<byte> secondData, Span<byte> secondOutput)
    {
        Check(key, firstOutput);
        Check(key, secondOutput);
        if (UseOpenSsl)
        {
            var state = default(HmacSha256State);
            state.SetKey(key);
            state.Compute(firstData, firstOutput);
            state.Compute(secondData, secondOutput);
            state.Clear();
            return;
        }

        Span<byte> second = stackalloc byte[OutputSize];
        SodiumSha256(key, firstData, firstOutput);
        SodiumSha256(key, secondData, second);
        second.CopyTo(secondOutput);
        System.Security.Cryptography.CryptographicOperations.ZeroMemory(second);
    }

    private static void Check(ReadOnlySpan<byte> key, Span<byte> output)
    {
        if (key.Length != KeySize || output.Length != OutputSize)
        {
            throw new ArgumentException("HMAC-SHA256 here takes a 32-byte key and writes 32 bytes");
        }
    }

    /// <summary>The libsodium backend, also used by the tests to compare the two.</summary>
    internal static unsafe void SodiumSha256(ReadOnlySpan<byte> key, ReadOnlySpan<byte> data, Span<byte> output)
    {
        fixed (byte* o = output)
        fixed (byte* d = data)
        fixed (byte* k = key)
        {
            _ = Sodium.crypto_auth_hmacsha256(o, d, (ulong)data.Length, k);
        }
    }
}
