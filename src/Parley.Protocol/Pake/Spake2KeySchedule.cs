using System.Security.Cryptography;

namespace Parley.Protocol.Pake;

/// <summary>
/// The key schedule and key confirmation of SPAKE2-P256-SHA256-HKDF-HMAC (RFC 9382 §4):
/// <code>
/// Ke || Ka  = SHA-256(TT)                                         16 bytes each
/// KcA || KcB = HKDF-SHA256(salt = nil, IKM = Ka, info = "ConfirmationKeys" || AAD, L = 32)
/// cA = HMAC-SHA256(KcA, TT)      cB = HMAC-SHA256(KcB, TT)
/// </code>
/// Ke is the shared secret the protocol outputs; Ka and the confirmation keys are used for nothing
/// but the two confirmation MACs. Every buffer is wiped on <see cref="Dispose"/>.
/// </summary>
internal sealed class Spake2KeySchedule : IDisposable
{
    /// <summary>Half of the SHA-256 output (RFC 9382 §4: |Ke| = |Ka| = 128 bits for SHA-256).</summary>
    internal const int KeySize = SHA256.HashSizeInBytes / 2;

    /// <summary>Size of a confirmation MAC: HMAC-SHA256, untruncated.</summary>
    internal const int ConfirmationSize = HMACSHA256.HashSizeInBytes;

    private Spake2KeySchedule(byte[] hash, byte[] confirmationKeys, byte[] confirmationA, byte[] confirmationB)
    {
        TranscriptHash = hash;
        ConfirmationKeys = confirmationKeys;
        ConfirmationA = confirmationA;
        ConfirmationB = confirmationB;
    }

    /// <summary>The RFC's info prefix for the confirmation keys (§4), ASCII.</summary>
    internal static ReadOnlySpan<byte> ConfirmationKeysLabel => "ConfirmationKeys"u8;

    /// <summary>Hash(TT) = Ke || Ka.</summary>
    internal byte[] TranscriptHash { get; }

    internal ReadOnlySpan<byte> Ke => TranscriptHash.AsSpan(0, KeySize);

    internal ReadOnlySpan<byte> Ka => TranscriptHash.AsSpan(KeySize, KeySize);

    /// <summary>KcA || KcB.</summary>
    internal byte[] ConfirmationKeys { get; }

    internal ReadOnlySpan<byte> KcA => ConfirmationKeys.AsSpan(0, KeySize);

    internal ReadOnlySpan<byte> KcB => ConfirmationKeys.AsSpan(KeySize, KeySize);

    /// <summary>cA = MAC(KcA, TT): what A sends to prove it holds the same keys.</summary>
    internal byte[] ConfirmationA { get; }

    /// <summary>cB = MAC(KcB, TT): what B sends.</summary>
    internal byte[] ConfirmationB { get; }

    internal static Spake2KeySchedule Derive(ReadOnlySpan<byte> transcript, ReadOnlySpan<byte> additionalData)
    {
        var hash = SHA256.HashData(transcript);
        var confirmationKeys = new byte[2 * KeySize];
        var info = new byte[ConfirmationKeysLabel.Length + additionalData.Length];
        ConfirmationKeysLabel.CopyTo(info);
        additionalData.CopyTo(info.AsSpan(ConfirmationKeysLabel.Length));

        // KDF(Ka, nil, "ConfirmationKeys" || AAD, L): HKDF with an absent salt (RFC 5869 §2.2).
        HKDF.DeriveKey(HashAlgorithmName.SHA256, hash.AsSpan(KeySize, KeySize), confirmationKeys, salt: default, info);
        var confirmationA = HMACSHA256.HashData(confirmationKeys.AsSpan(0, KeySize), transcript);
        var confirmationB = HMACSHA256.HashData(confirmationKeys.AsSpan(KeySize, KeySize), transcript);
        return new Spake2KeySchedule(hash, confirmationKeys, confirmationA, confirmationB);
    }

    public void Dispose()
    {
        CryptographicOperations.ZeroMemory(TranscriptHash);
        CryptographicOperations.ZeroMemory(ConfirmationKeys);
        CryptographicOperations.ZeroMemory(ConfirmationA);
        CryptographicOperations.ZeroMemory(ConfirmationB);
    }

    public override string ToString() => nameof(Spake2KeySchedule);
}
