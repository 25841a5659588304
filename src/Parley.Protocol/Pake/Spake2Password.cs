using System.Security.Cryptography;
using NSec.Cryptography;
using BigInteger = Org.BouncyCastle.Math.BigInteger;

namespace Parley.Protocol.Pake;

/// <summary>
/// Parley's choice of w (RFC 9382 §3.2 leaves it to the protocol: "typically w = MHF(pw) mod p",
/// the hash SHOULD be memory-hard, and NIST SP 800-56A suggests 64 extra bits before the reduction):
/// <code>
/// w = OS2IP(Argon2id(pw, salt = "parley-pake-w-v1", t = 2, m = 19456 KiB, p = 1, 40 bytes)) mod p
/// </code>
/// Argon2id (RFC 9106, version 0x13) is libsodium's, through NSec; the parameters are the ones the
/// profile store uses (OWASP's recommendation). The salt is a fixed label: the password is an invite
/// code that already contains its nameplate, and SPAKE2 gives no offline test to amortise anyway
/// (docs/threat-model.md).
/// </summary>
internal static class Spake2Password
{
    /// <summary>Argon2id memory in KiB (19 MiB).</summary>
    internal const long MemoryKib = 19456;

    /// <summary>Argon2id passes over memory (t).</summary>
    internal const long Passes = 2;

    /// <summary>Argon2id lanes (p); libsodium supports one.</summary>
    internal const int Lanes = 1;

    /// <summary>Bytes taken from Argon2id: the 32 of p plus 64 bits, so that the reduction mod p is unbiased to 2^-64.</summary>
    internal const int OutputSize = 40;

    private static readonly PasswordBasedKeyDerivationAlgorithm Argon2 = PasswordBasedKeyDerivationAlgorithm.Argon2id(new Argon2Parameters
    {
        MemorySize = MemoryKib,
        NumberOfPasses = Passes,
        DegreeOfParallelism = Lanes,
    });

    /// <summary>The Argon2id salt: a fixed 16-byte label (libsodium takes exactly 16).</summary>
    internal static ReadOnlySpan<byte> Salt => "parley-pake-w-v1"u8;

    /// <summary>w for <paramref name="password"/>; deliberately slow (tens of milliseconds).</summary>
    internal static BigInteger Derive(ReadOnlySpan<byte> password)
    {
        Span<byte> wide = stackalloc byte[OutputSize];
        try
        {
            DeriveWide(password, wide);
            return new BigInteger(1, wide).Mod(Spake2Group.Order);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(wide);
        }
    }

    /// <summary>The Argon2id output before the reduction (exposed for the known-answer tests).</summary>
    internal static void DeriveWide(ReadOnlySpan<byte> password, Span<byte> output) =>
        Argon2.DeriveBytes(password, Salt, output);
}
