using NSec.Cryptography;

namespace Parley.Protocol.Primitives;

/// <summary>Ed25519 (RFC 8032) signatures through NSec.</summary>
internal static class Ed25519
{
    internal const int PublicKeySize = 32;
    internal const int SeedSize = 32;
    internal const int SignatureSize = 64;

    private static readonly SignatureAlgorithm Algorithm = SignatureAlgorithm.Ed25519;

    /// <summary>Creates a fresh signing key that may be exported (the client seals it in its profile).</summary>
    internal static Key Generate()
    {
        Span<byte> seed = stackalloc byte[SeedSize];
        try
        {
            RandomSource.Fill(seed);
            return Import(seed);
        }
        finally
        {
            System.Security.Cryptography.CryptographicOperations.ZeroMemory(seed);
        }
    }

    /// <summary>Imports a 32-byte private seed.</summary>
    internal static Key Import(ReadOnlySpan<byte> seed)
    {
        if (seed.Length != SeedSize)
        {
            throw new ArgumentException("an Ed25519 seed is 32 bytes", nameof(seed));
        }

        return Key.Import(Algorithm, seed, KeyBlobFormat.RawPrivateKey, new KeyCreationParameters { ExportPolicy = KeyExportPolicies.AllowPlaintextExport });
    }

    internal static byte[] ExportSeed(Key key) => key.Export(KeyBlobFormat.RawPrivateKey);

    internal static byte[] PublicKeyOf(Key key) => key.PublicKey.Export(KeyBlobFormat.RawPublicKey);

    internal static void Sign(Key key, ReadOnlySpan<byte> data, Span<byte> signature) => Algorithm.Sign(key, data, signature);

    /// <summary>Verifies; any malformed key or signature is simply a failed verification.</summary>
    internal static bool Verify(ReadOnlySpan<byte> publicKey, ReadOnlySpan<byte> data, ReadOnlySpan<byte> signature)
    {
        if (publicKey.Length != PublicKeySize || signature.Length != SignatureSize)
        {
            return false;
        }

        if (!PublicKey.TryImport(Algorithm, publicKey, KeyBlobFormat.RawPublicKey, out var key) || key is null)
        {
            return false;
        }

        return Algorithm.Verify(key, data, signature);
    }
}
