// Known answers for HMAC-SHA256.
//   RFC 4231, "Identifiers and Test Vectors for HMAC-SHA-224, -256, -384, and -512", §4.2-§4.8
//   (test cases 1-7). https://www.rfc-editor.org/rfc/rfc4231#section-4
//   None of them uses a 32-byte key, which is the only key size Parley's wrapper accepts, so they are
//   checked against the BCL reference (HMACSHA256.HashData) to document it, and the wrapper is then
//   shown equal to that reference on random 32-byte keys.
//   RFC 4868, "Using HMAC-SHA-256, HMAC-SHA-384, and HMAC-SHA-512 with IPsec", §2.7.2.1
//   (test cases AUTH256-1 to AUTH256-4) use 32-byte keys and go through the wrapper (libsodium).
//   https://www.rfc-editor.org/rfc/rfc4868#section-2.7.2.1
using System.Security.Cryptography;
using FsCheck.Xunit;
using Parley.Protocol.Primitives;
using Xunit;
using static Parley.Protocol.Tests.Vectors.KnownAnswerHelpers;

namespace Parley.Protocol.Tests.Vectors;

public class Rfc4231HmacSha256Tests
{
    // test case, key, data, HMAC-SHA-256 (test case 5 publishes only the 128-bit truncation)
    public static TheoryData<int, string, string, string> Rfc4231 => new()
    {
        { 1, "0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b", "4869205468657265", "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7" },
        { 2, "4a656665", "7768617420646f2079612077616e7420666f72206e6f7468696e673f", "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843" },
        { 3, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd", "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe" },
        { 4, "0102030405060708090a0b0c0d0e0f10111213141516171819", "cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd", "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b" },
        { 5, "0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c", "546573742057697468205472756e636174696f6e", "a3b6167473100ee06e0c796c2955552b" },
        {
            6,
            new string('a', 2 * 131) /* 131 bytes of 0xaa */,
            "54657374205573696e67204c6172676572205468616e20426c6f636b2d53697a65204b6579202d2048617368204b6579204669727374",
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"
        },
        {
            7,
            new string('a', 2 * 131) /* 131 bytes of 0xaa */,
            "5468697320697320612074657374207573696e672061206c6172676572207468616e20626c6f636b2d73697a65206b657920616e642061206c6172676572207468616e20626c6f636b2d73697a6520646174612e20546865206b6579206e6565647320746f20626520686173686564206265666f7265206265696e6720757365642062792074686520484d414320616c676f726974686d2e",
            "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2"
        },
    };

    // RFC 4868 §2.7.2.1: key (32 bytes), data, PRF-HMAC-SHA-256
    public static TheoryData<string, string, string, string> Rfc4868 => new()
    {
        { "AUTH256-1", "0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b", "4869205468657265", "198a607eb44bfbc69903a0f1cf2bbdc5ba0aa3f3d9ae3c1c7a3b1696a0b68cf7" },
        { "AUTH256-2", "4a6566654a6566654a6566654a6566654a6566654a6566654a6566654a656665", "7768617420646f2079612077616e7420666f72206e6f7468696e673f", "167f928588c5cc2eef8e3093caa0e87c9ff566a14794aa61648d81621a2a40c6" },
        { "AUTH256-3", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd", "cdcb1220d1ecccea91e53aba3092f962e549fe6ce9ed7fdc43191fbde45c30b0" },
        { "AUTH256-4", "0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20", "cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd", "372efcf9b40b35c2115b1346903d2ef42fced46f0846e7257bb156d3d7b30d3f" },
    };

    [Theory]
    [MemberData(nameof(Rfc4868))]
    public void Wrapper_gives_the_published_mac_for_32_byte_keys(string testCase, string key, string data, string mac)
    {
        _ = testCase;
        var actual = new byte[Hmac.OutputSize];
        Hmac.Sha256(Hex(key), Hex(data), actual);
        Assert.Equal(Hex(mac), actual);
    }

    [Theory]
    [MemberData(nameof(Rfc4868))]
    public void Reference_gives_the_published_mac_for_32_byte_keys(string testCase, string key, string data, string mac)
    {
        _ = testCase;
        Assert.Equal(Hex(mac), HMACSHA256.HashData(Hex(key), Hex(data)));
    }

    [Theory]
    [MemberData(nameof(Rfc4231))]
    public void Reference_gives_the_published_mac(int testCase, string key, string data, string mac)
    {
        _ = testCase;
        byte[] expected = Hex(mac);
        Assert.Equal(expected, HMACSHA256.HashData(Hex(key), Hex(data))[..expected.Length]);
    }

    [Theory]
    [MemberData(nameof(Rfc4231))]
    public void Wrapper_refuses_keys_that_are_not_32_bytes(int testCase, string key, string data, string mac)
    {
        _ = (testCase, mac);
        var output = new byte[Hmac.OutputSize];
        Assert.Throws<ArgumentException>(() => Hmac.Sha256(Hex(key), Hex(data), output));
    }

    [Property(MaxTest = 500)]
    public bool Wrapper_equals_the_reference_on_random_32_byte_keys(int keySeed, byte[]? data)
    {
        data ??= [];
        var key = new byte[Hmac.KeySize];
        new Random(keySeed).NextBytes(key);

        var actual = new byte[Hmac.OutputSize];
        Hmac.Sha256(key, data, actual);
        return actual.AsSpan().SequenceEqual(HMACSHA256.HashData(key, data));
    }

    [Fact]
    public void Wrapper_equals_the_reference_across_block_boundaries()
    {
        // Message lengths around the 64-byte SHA-256 block and its 55/56-byte padding edge.
        var random = new Random(4231);
        var key = new byte[Hmac.KeySize];
        var actual = new byte[Hmac.OutputSize];
        for (int length = 0; length <= 200; length++)
        {
            random.NextBytes(key);
            var data = new byte[length];
            random.NextBytes(data);
            Hmac.Sha256(key, data, actual);
            Assert.Equal(HMACSHA256.HashData(key, data), actual);
        }
    }
}
