using System.Runtime.InteropServices;
using System.Security.Cryptography;

namespace Parley.Protocol.Primitives;

/// <summary>
/// Ed25519 (RFC 8032) signatures through libsodium called directly, as NSec calls it
/// (crypto_sign_ed25519_seed_keypair, _detached, _verify_detached) but without NSec's key handles:
/// creating one of those costs about ten signatures (docs/performance.md).
/// </summary>
internal static class Ed25519
{
    internal const int PublicKeySize = 32;
    internal const int SeedSize = 32;
    internal const int SignatureSize = 64;

    /// <summary>libsodium's private key: seed || public key.</summary>
    private const int SecretKeySize = SeedSize + PublicKeySize;

    static Ed25519() => Sodium.EnsureInitialized();

    internal static string Implementation => "libsodium crypto_sign_ed25519 (raw keys)";

    /// <summary>Creates a fresh signing key from a 32-byte seed drawn from <see cref="RandomSource"/>.</summary>
    internal static SigningKey Generate()
    {
        Span<byte> seed = stackalloc byte[SeedSize];
        try
        {
            RandomSource.Fill(seed);
            return Import(seed);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(seed);
        }
    }

    /// <summary>Imports a 32-byte private seed.</summary>
    internal static SigningKey Import(ReadOnlySpan<byte> seed)
    {
        if (seed.Length != SeedSize)
        {
            throw new ArgumentException("an Ed25519 seed is 32 bytes", nameof(seed));
        }

        return SigningKey.FromSeed(seed);
    }

    /// <summary>The 32-byte seed; the caller zeroes it when done.</summary>
    internal static byte[] ExportSeed(SigningKey key) => key.SecretKey[..SeedSize].ToArray();

    internal static byte[] PublicKeyOf(SigningKey key) => key.SecretKey[SeedSize..].ToArray();

    internal static unsafe void Sign(SigningKey key, ReadOnlySpan<byte> data, Span<byte> signature)
    {
        if (signature.Length != SignatureSize)
        {
            throw new ArgumentException("an Ed25519 signature is 64 bytes", nameof(signature));
        }

        fixed (byte* sig = signature)
        fixed (byte* m = &MemoryMarshal.GetReference(data))
        fixed (byte* sk = key.SecretKey)
        {
            _ = Sodium.crypto_sign_ed25519_detached(sig, null, m, (ulong)data.Length, sk);
        }
    }

    /// <summary>Verifies; any malformed key or signature is simply a failed verification.</summary>
    internal static unsafe bool Verify(ReadOnlySpan<byte> publicKey, ReadOnlySpan<byte> data, ReadOnlySpan<byte> signature)
    {
        if (publicKey.Length != PublicKeySize || signature.Length != SignatureSize)
        {
            return false;
        }

        fixed (byte* sig = signature)
        fixed (byte* m = &MemoryMarshal.GetReference(data))
        fixed (byte* pk = publicKey)
        {
            return Sodium.crypto_sign_ed25519_verify_detached(sig, m, (ulong)data.Length, pk) == 0;
        }
    }

    /// <summary>
    /// A private signing key in libsodium's 64-byte form (seed || public key), held in an array on
    /// the pinned object heap so that the GC never leaves a moved copy behind. Dispose zeroes it;
    /// a key that is never disposed is zeroed when it is finalized. It never prints its bytes.
    /// </summary>
    internal sealed class SigningKey : IDisposable
    {
        private readonly byte[] secretKey = GC.AllocateArray<byte>(SecretKeySize, pinned: true);
        private bool disposed;

        private SigningKey()
        {
        }

        ~SigningKey() => CryptographicOperations.ZeroMemory(secretKey);

        /// <summary>crypto_sign_ed25519_seed_keypair: the key is SHA-512(seed)'s clamped scalar; the seed is kept.</summary>
        internal static unsafe SigningKey FromSeed(ReadOnlySpan<byte> seed)
        {
            var key = new SigningKey();
            Span<byte> publicKey = stackalloc byte[PublicKeySize];
            fixed (byte* pk = publicKey)
            fixed (byte* sk = key.secretKey)
            fixed (byte* s = seed)
            {
                _ = Sodium.crypto_sign_ed25519_seed_keypair(pk, sk, s);
            }

            return key;
        }

        internal ReadOnlySpan<byte> SecretKey
        {
            get
            {
                ObjectDisposedException.ThrowIf(disposed, this);
                return secretKey;
            }
        }

        public void Dispose()
        {
            if (!disposed)
            {
                disposed = true;
                CryptographicOperations.ZeroMemory(secretKey);
                GC.SuppressFinalize(this);
            }
        }

        /// <summary>The type only.</summary>
        public override string ToString() => nameof(SigningKey);
    }
}
