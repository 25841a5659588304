// Both X25519 backends (OpenSSL 3's libcrypto.so.3 and libsodium) against RFC 7748, "Elliptic
// Curves for Security": §5.2 (the X25519 function, including the iterated test) and §6.1 (the
// Diffie-Hellman example), then against each other on random keys. The facade X25519 uses one of
// them (OpenSSL when it loads); Rfc7748X25519Tests checks the facade.
// https://www.rfc-editor.org/rfc/rfc7748
using System.Security.Cryptography;
using Parley.Protocol.Primitives;
using Xunit;
using static Parley.Protocol.Tests.Vectors.KnownAnswerHelpers;

namespace Parley.Protocol.Tests.Vectors;

public class X25519BackendTests
{
    private const string AlicePrivate = "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a";
    private const string AlicePublic = "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a";
    private const string BobPrivate = "5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb";
    private const string BobPublic = "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f";
    private const string SharedSecret = "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742";
    private const string BasePoint = "0900000000000000000000000000000000000000000000000000000000000000";

    public static TheoryData<string> Backends => new() { "openssl", "libsodium" };

    public static TheoryData<string, string, string, string> Section52 => new()
    {
        // backend, scalar, input u-coordinate, output u-coordinate
        { "openssl", "a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4", "e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c", "c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552" },
        { "libsodium", "a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4", "e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c", "c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552" },
        // The u-coordinate has its top bit set, which X25519 must mask (RFC 7748 §5).
        { "openssl", "4b66e9d4d1b4673c5ad22691957d6af5c11b6421e0ea01d42ca4169e7918ba0d", "e5210f12786811d3f4b7959d0538ae2c31dbe7106fc03c3efc4cd549c715a493", "95cbde9476e8907d7aade45cb4b873f88b595a68799fa152e6f8f7647aac7957" },
        { "libsodium", "4b66e9d4d1b4673c5ad22691957d6af5c11b6421e0ea01d42ca4169e7918ba0d", "e5210f12786811d3f4b7959d0538ae2c31dbe7106fc03c3efc4cd549c715a493", "95cbde9476e8907d7aade45cb4b873f88b595a68799fa152e6f8f7647aac7957" },
    };

    [Fact]
    public void OpenSsl_backend_is_available_on_this_platform()
    {
        // Parley's servers and clients run on Linux with OpenSSL 3; elsewhere the facade falls
        // back to libsodium (and the OpenSSL cases here throw PlatformNotSupportedException).
        if (!OperatingSystem.IsLinux())
        {
            return;
        }

        Assert.True(OpenSslX25519.IsAvailable, "libcrypto.so.3 did not load or failed its RFC 7748 self-test; X25519 falls back to libsodium");
        Assert.Equal(X25519Backend.OpenSsl, X25519.Backend);
    }

    [Theory]
    [MemberData(nameof(Section52))]
    public void Section5_2_scalar_multiplication(string backend, string scalar, string u, string expected)
    {
        var output = new byte[X25519.KeySize];
        Assert.True(Agree(backend, Hex(scalar), default, Hex(u), output));
        Assert.Equal(Hex(expected), output);
    }

    [Theory]
    [InlineData("openssl", 1, "422c8e7a6227d7bca1350b3e2bb7279f7897b87bb6854b783c60e80311ae3079")]
    [InlineData("libsodium", 1, "422c8e7a6227d7bca1350b3e2bb7279f7897b87bb6854b783c60e80311ae3079")]
    [InlineData("openssl", 1_000, "684cf59ba83309552800ef566f2f4d3c1c3887c49360e3875f2eb94d99532c51")]
    [InlineData("libsodium", 1_000, "684cf59ba83309552800ef566f2f4d3c1c3887c49360e3875f2eb94d99532c51")]
    public void Section5_2_iterated(string backend, int iterations, string expected)
    {
        // k = u = 9; each round: k, u = X25519(k, u), k.
        byte[] k = Hex(BasePoint);
        byte[] u = Hex(BasePoint);
        var result = new byte[X25519.KeySize];
        for (var i = 0; i < iterations; i++)
        {
            Assert.True(Agree(backend, k, default, u, result));
            u = k;
            k = result.ToArray();
        }

        Assert.Equal(Hex(expected), k);
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public void Section6_1_public_keys(string backend)
    {
        Assert.Equal(Hex(AlicePublic), PublicKeyOf(backend, Hex(AlicePrivate)));
        Assert.Equal(Hex(BobPublic), PublicKeyOf(backend, Hex(BobPrivate)));
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public void Section6_1_shared_secret_both_ways(string backend)
    {
        var shared = new byte[X25519.KeySize];
        Assert.True(Agree(backend, Hex(AlicePrivate), default, Hex(BobPublic), shared));
        Assert.Equal(Hex(SharedSecret), shared);
        Assert.True(Agree(backend, Hex(BobPrivate), default, Hex(AlicePublic), shared));
        Assert.Equal(Hex(SharedSecret), shared);
    }

    [Fact]
    public void Section6_1_shared_secret_with_the_own_public_key_given()
    {
        // The OpenSSL backend can take the caller's public key instead of recomputing it.
        var shared = new byte[X25519.KeySize];
        Assert.True(OpenSslX25519.TryAgree(Hex(AlicePrivate), Hex(AlicePublic), Hex(BobPublic), shared));
        Assert.Equal(Hex(SharedSecret), shared);
        Assert.True(X25519.TryAgree(Hex(BobPrivate), Hex(BobPublic), Hex(AlicePublic), shared));
        Assert.Equal(Hex(SharedSecret), shared);
    }

    public static TheoryData<string, string> LowOrderPoints()
    {
        var data = new TheoryData<string, string>();
        string[] points =
        [
            "0000000000000000000000000000000000000000000000000000000000000000", // 0 (order 4)
            "0100000000000000000000000000000000000000000000000000000000000000", // 1 (order 1)
            "e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800", // order 8
            "5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157", // order 8
            "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f", // p - 1
            "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f", // p, non-canonical 0
            "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f", // p + 1, non-canonical 1
            "0000000000000000000000000000000000000000000000000000000000000080", // 0 with the top bit set
        ];
        foreach (var backend in new[] { "openssl", "libsodium" })
        {
            foreach (var point in points)
            {
                data.Add(backend, point);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(LowOrderPoints))]
    public void Low_order_peer_key_gives_false_and_a_zeroed_output(string backend, string point)
    {
        var shared = new byte[X25519.KeySize];
        shared.AsSpan().Fill(0xA5);
        Assert.False(Agree(backend, Hex(AlicePrivate), default, Hex(point), shared));
        Assert.All(shared, b => Assert.Equal(0, b));
        Assert.False(Agree(backend, Hex(BobPrivate), Hex(BobPublic), Hex(point), shared));
    }

    [Fact]
    public void Backends_agree_on_random_keys()
    {
        // Random private keys (unclamped: both clamp), random peer points (any 32 bytes, top bit
        // included), and public keys from either backend agreeing both ways.
        var random = new Random(7748);
        var ownPrivate = new byte[32];
        var peerPrivate = new byte[32];
        var peerPoint = new byte[32];
        var viaOpenSsl = new byte[32];
        var viaSodium = new byte[32];
        for (var i = 0; i < 200; i++)
        {
            random.NextBytes(ownPrivate);
            random.NextBytes(peerPrivate);
            random.NextBytes(peerPoint);

            var ownPublic = PublicKeyOf("openssl", ownPrivate);
            Assert.Equal(ownPublic, PublicKeyOf("libsodium", ownPrivate));
            var peerPublic = PublicKeyOf("libsodium", peerPrivate);

            Assert.True(OpenSslX25519.TryAgree(ownPrivate, ownPublic, peerPublic, viaOpenSsl));
            Assert.True(SodiumX25519.TryAgree(ownPrivate, peerPublic, viaSodium));
            Assert.Equal(viaSodium, viaOpenSsl);
            Assert.True(OpenSslX25519.TryAgree(peerPrivate, default, ownPublic, viaOpenSsl));
            Assert.Equal(viaSodium, viaOpenSsl);

            var openSslAccepts = OpenSslX25519.TryAgree(ownPrivate, default, peerPoint, viaOpenSsl);
            var sodiumAccepts = SodiumX25519.TryAgree(ownPrivate, peerPoint, viaSodium);
            Assert.Equal(sodiumAccepts, openSslAccepts);
            Assert.Equal(viaSodium, viaOpenSsl);
        }
    }

    [Fact]
    public void Facade_generates_the_same_key_pair_with_either_backend()
    {
        var privateKey = RandomNumberGenerator.GetBytes(32);
        var generated = new byte[32];
        var generatedPublic = new byte[32];
        ScriptedRandom.Run(privateKey, () => X25519.GenerateKeyPair(generated, generatedPublic));
        Assert.Equal(privateKey, generated);
        Assert.Equal(PublicKeyOf("libsodium", privateKey), generatedPublic);
        Assert.Equal(PublicKeyOf("openssl", privateKey), generatedPublic);
    }

    private static bool Agree(string backend, byte[] privateKey, byte[]? publicKey, byte[] peer, byte[] shared) => backend switch
    {
        "openssl" => OpenSslX25519.TryAgree(privateKey, publicKey, peer, shared),
        "libsodium" => SodiumX25519.TryAgree(privateKey, peer, shared),
        _ => throw new ArgumentOutOfRangeException(nameof(backend)),
    };

    private static byte[] PublicKeyOf(string backend, byte[] privateKey)
    {
        var publicKey = new byte[32];
        switch (backend)
        {
            case "openssl":
                OpenSslX25519.PublicKeyFromPrivate(privateKey, publicKey);
                break;
            case "libsodium":
                SodiumX25519.PublicKeyFromPrivate(privateKey, publicKey);
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(backend));
        }

        return publicKey;
    }
}
