using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Security;
using Parley.Protocol.Certificates;
using Xunit;

namespace Parley.Protocol.Tests.Certificates;

/// <summary>Shared inputs for the certificate tests: a fixed clock, fresh keys and authorities.</summary>
internal static class CertificateTestData
{
    /// <summary>A fixed "now" for tests that do not involve openssl (which reads the real clock).</summary>
    internal static readonly DateTimeOffset Now = new(2026, 3, 1, 12, 0, 0, TimeSpan.Zero);

    internal const string CaName = "Parley CA localhost";

    private static readonly SecureRandom Random = new();

    /// <summary>A fresh raw 32-byte Ed25519 public key.</summary>
    internal static byte[] NewIdentityKey() =>
        new Ed25519PrivateKeyParameters(Random).GeneratePublicKey().GetEncoded();

    internal static CertificateAuthority NewAuthority(string name = CaName) =>
        CertificateAuthority.Create(name, Now);

    internal static CertificateAuthority NewAuthority(DateTimeOffset now, string name = CaName) =>
        CertificateAuthority.Create(name, now);

    /// <summary>Asserts that <paramref name="action"/> throws a protocol error of the given kind, and returns it.</summary>
    internal static ParleyProtocolException AssertKind(ProtocolErrorKind kind, Action action)
    {
        ParleyProtocolException error = Assert.Throws<ParleyProtocolException>(action);
        Assert.Equal(kind, error.Kind);
        return error;
    }

    /// <summary>The offset of the first occurrence of <paramref name="needle"/> in <paramref name="haystack"/>.</summary>
    internal static int IndexOf(byte[] haystack, ReadOnlySpan<byte> needle)
    {
        int index = haystack.AsSpan().IndexOf(needle);
        Assert.True(index >= 0, "expected bytes not found in the certificate");
        return index;
    }

    internal static byte[] WithFlippedBit(ReadOnlyMemory<byte> der, int index, byte mask = 0x01)
    {
        byte[] copy = der.ToArray();
        copy[index] ^= mask;
        return copy;
    }
}
