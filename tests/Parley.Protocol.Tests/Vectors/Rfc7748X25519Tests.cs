// Known answers for X25519 from RFC 7748, "Elliptic Curves for Security":
//   §5.2 (test vectors for the X25519 function, including the iterated test), and
//   §6.1 (the Alice/Bob Diffie-Hellman example). https://www.rfc-editor.org/rfc/rfc7748
// The low-order points are the curve25519 points of order 1, 2, 4 and 8 (and their non-canonical
// encodings) listed at https://cr.yp.to/ecdh.html#validate and in libsodium's small-order blocklist;
// RFC 7748 §6.1 says to check for the all-zero shared secret they produce.
using Parley.Protocol.Primitives;
using Xunit;
using static Parley.Protocol.Tests.Vectors.KnownAnswerHelpers;

namespace Parley.Protocol.Tests.Vectors;

public class Rfc7748X25519Tests
{
    private const string AlicePrivate = "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a";
    private const string AlicePublic = "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a";
    private const string BobPrivate = "5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb";
    private const string BobPublic = "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f";
    private const string SharedSecret = "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742";

    private const string BasePoint = "0900000000000000000000000000000000000000000000000000000000000000";

    public static TheoryData<string, string, string> Section52 => new()
    {
        // scalar, input u-coordinate, output u-coordinate
        { "a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4", "e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c", "c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552" },
        // The u-coordinate here has its top bit set, which X25519 must mask (RFC 7748 §5).
        { "4b66e9d4d1b4673c5ad22691957d6af5c11b6421e0ea01d42ca4169e7918ba0d", "e5210f12786811d3f4b7959d0538ae2c31dbe7106fc03c3efc4cd549c715a493", "95cbde9476e8907d7aade45cb4b873f88b595a68799fa152e6f8f7647aac7957" },
    };

    [Theory]
    [MemberData(nameof(Section52))]
    public void Section5_2_scalar_multiplication(string scalar, string u, string expected)
    {
        var output = new byte[X25519.KeySize];
        Assert.True(X25519.TryAgree(Hex(scalar), Hex(u), output));
        Assert.Equal(Hex(expected), output);
    }

    [Theory]
    [InlineData(1, "422c8e7a6227d7bca1350b3e2bb7279f7897b87bb6854b783c60e80311ae3079")]
    [InlineData(1_000, "684cf59ba83309552800ef566f2f4d3c1c3887c49360e3875f2eb94d99532c51")]
    public void Section5_2_iterated(int iterations, string expected)
    {
        // k = u = 9; each round: k, u = X25519(k, u), k.
        byte[] k = Hex(BasePoint);
        byte[] u = Hex(BasePoint);
        var result = new byte[X25519.KeySize];
        for (int i = 0; i < iterations; i++)
        {
            Assert.True(X25519.TryAgree(k, u, result));
            u = k;
            k = result.ToArray();
        }

        Assert.Equal(Hex(expected), k);
    }

    [Theory]
    [InlineData(AlicePrivate, AlicePublic)]
    [InlineData(BobPrivate, BobPublic)]
    public void Section6_1_public_keys(string privateKey, string expectedPublic)
    {
        var publicKey = new byte[X25519.KeySize];
        X25519.PublicKeyFromPrivate(Hex(privateKey), publicKey);
        Assert.Equal(Hex(expectedPublic), publicKey);

        // The same public key as X25519(a, 9) through the general function.
        var viaAgree = new byte[X25519.KeySize];
        Assert.True(X25519.TryAgree(Hex(privateKey), Hex(BasePoint), viaAgree));
        Assert.Equal(Hex(expectedPublic), viaAgree);
    }

    [Theory]
    [InlineData(AlicePrivate, BobPublic)]
    [InlineData(BobPrivate, AlicePublic)]
    public void Section6_1_shared_secret(string privateKey, string peerPublic)
    {
        var shared = new byte[X25519.KeySize];
        Assert.True(X25519.TryAgree(Hex(privateKey), Hex(peerPublic), shared));
        Assert.Equal(Hex(SharedSecret), shared);
    }

    [Theory]
    [InlineData(AlicePrivate, AlicePublic, BobPublic)]
    [InlineData(BobPrivate, BobPublic, AlicePublic)]
    public void Section6_1_shared_secret_given_own_public_key(string privateKey, string ownPublic, string peerPublic)
    {
        var shared = new byte[X25519.KeySize];
        Assert.True(X25519.TryAgree(Hex(privateKey), Hex(ownPublic), Hex(peerPublic), shared));
        Assert.Equal(Hex(SharedSecret), shared);
    }

    [Theory]
    [InlineData(AlicePrivate, AlicePublic)]
    [InlineData(BobPrivate, BobPublic)]
    public void Section6_1_generate_key_pair_with_the_published_private_key(string privateKey, string expectedPublic)
    {
        var generatedPrivate = new byte[X25519.KeySize];
        var generatedPublic = new byte[X25519.KeySize];
        ScriptedRandom.Run(Hex(privateKey), () => X25519.GenerateKeyPair(generatedPrivate, generatedPublic));

        Assert.Equal(Hex(privateKey), generatedPrivate);
        Assert.Equal(Hex(expectedPublic), generatedPublic);
    }

    public static TheoryData<string> LowOrderPoints => new()
    {
        "0000000000000000000000000000000000000000000000000000000000000000", // 0 (order 4)
        "0100000000000000000000000000000000000000000000000000000000000000", // 1 (order 1)
        "e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800", // order 8
        "5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157", // order 8
        "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f", // p - 1
        "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f", // p, non-canonical 0
        "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f", // p + 1, non-canonical 1
        "0000000000000000000000000000000000000000000000000000000000000080", // 0 with the top bit set
        "e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b880", // order 8 with the top bit set
    };

    [Theory]
    [MemberData(nameof(LowOrderPoints))]
    public void Low_order_peer_key_is_rejected(string point)
    {
        foreach (string privateKey in new[] { AlicePrivate, BobPrivate })
        {
            var shared = new byte[X25519.KeySize];
            Array.Fill(shared, (byte)0xA5);
            Assert.False(X25519.TryAgree(Hex(privateKey), Hex(point), shared));
            Assert.All(shared, b => Assert.Equal(0, b)); // the wrapper zeroes the output on failure
        }
    }
}
