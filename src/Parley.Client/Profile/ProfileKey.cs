using System.Security.Cryptography;
using NSec.Cryptography;

namespace Parley.Client.Profile;

/// <summary>
/// The profile's sealing key: 32 bytes derived by Argon2id from the passphrase and the profile's
/// salt, held in an NSec <see cref="Key"/> (libsodium secure memory, not exportable). Seals with
/// XChaCha20-Poly1305, whose 24-byte random nonces are safe to draw for every write.
/// Sealed layout: version (1 byte, 1) || nonce (24) || ciphertext || tag (16); the associated data
/// is <see cref="SealedField.AssociatedData"/>.
/// </summary>
internal sealed class ProfileKey : IDisposable
{
    /// <summary>Size of the salt stored in <c>meta</c> (Argon2id as exposed by libsodium takes exactly 16).</summary>
    public const int SaltSize = 16;

    private const byte FormatVersion = 1;

    private static readonly AeadAlgorithm Aead = AeadAlgorithm.XChaCha20Poly1305;

    private readonly Key key;

    private ProfileKey(Key key) => this.key = key;

    /// <summary>Bytes a sealed value adds to its plaintext.</summary>
    public static int Overhead => 1 + Aead.NonceSize + Aead.TagSize;

    /// <summary>Runs Argon2id over the passphrase; deliberately slow.</summary>
    public static ProfileKey Derive(string passphrase, ReadOnlySpan<byte> salt, ProfileKdfParameters parameters)
    {
        ArgumentNullException.ThrowIfNull(passphrase);
        ArgumentNullException.ThrowIfNull(parameters);
        if (salt.Length != SaltSize)
        {
            throw new ArgumentException($"The salt must be {SaltSize} bytes.", nameof(salt));
        }

        var argon2 = PasswordBasedKeyDerivationAlgorithm.Argon2id(new Argon2Parameters
        {
            MemorySize = parameters.MemoryKib,
            NumberOfPasses = parameters.Iterations,
            DegreeOfParallelism = parameters.Parallelism,
        });
        var creation = new KeyCreationParameters { ExportPolicy = KeyExportPolicies.None };
        return new ProfileKey(argon2.DeriveKey(passphrase, salt, Aead, in creation));
    }

    /// <summary>Seals <paramref name="plaintext"/> for <paramref name="field"/> under a fresh random nonce.</summary>
    public byte[] Seal(SealedField field, ReadOnlySpan<byte> plaintext)
    {
        var sealedValue = new byte[Overhead + plaintext.Length];
        sealedValue[0] = FormatVersion;
        var nonce = sealedValue.AsSpan(1, Aead.NonceSize);
        RandomNumberGenerator.Fill(nonce);
        Aead.Encrypt(key, nonce, field.AssociatedData(), plaintext, sealedValue.AsSpan(1 + Aead.NonceSize));
        return sealedValue;
    }

    /// <summary>Opens a value sealed for <paramref name="field"/>; false if it was altered, moved, or sealed under another key.</summary>
    public bool TryOpen(SealedField field, ReadOnlySpan<byte> sealedValue, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out byte[]? plaintext)
    {
        plaintext = null;
        if (sealedValue.Length < Overhead || sealedValue[0] != FormatVersion)
        {
            return false;
        }

        var output = new byte[sealedValue.Length - Overhead];
        if (!Aead.Decrypt(key, sealedValue.Slice(1, Aead.NonceSize), field.AssociatedData(), sealedValue[(1 + Aead.NonceSize)..], output))
        {
            return false;
        }

        plaintext = output;
        return true;
    }

    /// <summary>Opens a value that must open: a failure means the file was altered (<see cref="ProfileErrorKind.Corrupt"/>).</summary>
    public byte[] Open(SealedField field, ReadOnlySpan<byte> sealedValue) =>
        TryOpen(field, sealedValue, out var plaintext) ? plaintext : throw ProfileError.Corrupt_SealedValue(field);

    /// <inheritdoc/>
    public void Dispose() => key.Dispose();

    /// <summary>Never shows key material.</summary>
    public override string ToString() => nameof(ProfileKey);
}
