using System.Security.Cryptography;

namespace Parley.Protocol.Primitives;

/// <summary>
/// AES-256-GCM (NIST SP 800-38D) with a 12-byte nonce and 16-byte tag. libsodium's AES-NI code is
/// used where the CPU has it; elsewhere the BCL's AesGcm (OpenSSL) computes the same function.
/// </summary>
internal static class Aead
{
    internal const int KeySize = 32;
    internal const int NonceSize = 12;
    internal const int TagSize = 16;

    private static readonly bool UseSodium;

    static Aead()
    {
        Sodium.EnsureInitialized();
        UseSodium = Sodium.crypto_aead_aes256gcm_is_available() == 1;
    }

    internal static string Implementation => UseSodium ? "libsodium AES-256-GCM (AES-NI)" : "System.Security.Cryptography.AesGcm";

    /// <summary>Writes ciphertext || tag into <paramref name="output"/>, which is exactly plaintext + 16 bytes.</summary>
    internal static unsafe void Encrypt(ReadOnlySpan<byte> key, ReadOnlySpan<byte> nonce, ReadOnlySpan<byte> plaintext, ReadOnlySpan<byte> associatedData, Span<byte> output)
    {
        Check(key, nonce);
        if (output.Length != plaintext.Length + TagSize)
        {
            throw new ArgumentException("output must be plaintext length + 16", nameof(output));
        }

        if (!UseSodium)
        {
            using var gcm = new AesGcm(key, TagSize);
            gcm.Encrypt(nonce, plaintext, output[..plaintext.Length], output[plaintext.Length..], associatedData);
            return;
        }

        fixed (byte* c = output)
        fixed (byte* m = plaintext)
        fixed (byte* ad = associatedData)
        fixed (byte* n = nonce)
        fixed (byte* k = key)
        {
            _ = Sodium.crypto_aead_aes256gcm_encrypt(c, out _, m, (ulong)plaintext.Length, ad, (ulong)associatedData.Length, null, n, k);
        }
    }

    /// <summary>Returns false, leaving <paramref name="output"/> zeroed, when authentication fails.</summary>
    internal static unsafe bool TryDecrypt(ReadOnlySpan<byte> key, ReadOnlySpan<byte> nonce, ReadOnlySpan<byte> ciphertext, ReadOnlySpan<byte> associatedData, Span<byte> output)
    {
        Check(key, nonce);
        if (ciphertext.Length < TagSize || output.Length != ciphertext.Length - TagSize)
        {
            return false;
        }

        if (!UseSodium)
        {
            using var gcm = new AesGcm(key, TagSize);
            try
            {
                gcm.Decrypt(nonce, ciphertext[..output.Length], ciphertext[output.Length..], output, associatedData);
                return true;
            }
            catch (AuthenticationTagMismatchException)
            {
                CryptographicOperations.ZeroMemory(output);
                return false;
            }
        }

        fixed (byte* m = output)
        fixed (byte* c = ciphertext)
        fixed (byte* ad = associatedData)
        fixed (byte* n = nonce)
        fixed (byte* k = key)
        {
            if (Sodium.crypto_aead_aes256gcm_decrypt(m, out _, null, c, (ulong)ciphertext.Length, ad, (ulong)associatedData.Length, n, k) != 0)
            {
                CryptographicOperations.ZeroMemory(output);
                return false;
            }

            return true;
        }
    }

    private static void Check(ReadOnlySpan<byte> key, ReadOnlySpan<byte> nonce)
    {
        if (key.Length != KeySize || nonce.Length != NonceSize)
        {
            throw new ArgumentException("AES-256-GCM takes a 32-byte key and a 12-byte nonce");
        }
    }
}
