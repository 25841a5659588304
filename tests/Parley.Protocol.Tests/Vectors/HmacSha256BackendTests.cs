// HMAC-SHA256 and HKDF-SHA256 as Parley computes them over OpenSSL's SHA-256
// (Primitives/HmacSha256State.cs), against RFC 4231 §4.2-§4.8 (test cases 1-7, every key length),
// RFC 4868 §2.7.2.1 (32-byte keys) and RFC 5869 Appendix A, and against the other
// implementations (libsodium's crypto_auth_hmacsha256, the BCL's HMACSHA256 and HKDF) on random
// inputs. Rfc4231HmacSha256Tests and Rfc5869HkdfTests check the facades.
// https://www.rfc-editor.org/rfc/rfc4231 https://www.rfc-editor.org/rfc/rfc5869
using System.Security.Cryptography;
using Parley.Protocol.Primitives;
using Xunit;
using static Parley.Protocol.Tests.Vectors.KnownAnswerHelpers;

namespace Parley.Protocol.Tests.Vectors;

public class HmacSha256BackendTests
{
    [Fact]
    public void OpenSsl_backend_is_in_use_on_this_platform()
    {
        if (!OperatingSystem.IsLinux())
        {
            return;
        }

        Assert.True(HmacSha256State.IsAvailable, "libcrypto.so.3 did not load or failed the RFC 4231 self-test");
        Assert.Contains("OpenSSL", Hmac.Implementation, StringComparison.Ordinal);
        Assert.Contains("OpenSSL", Hkdf.Implementation, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(Rfc4231HmacSha256Tests.Rfc4231), MemberType = typeof(Rfc4231HmacSha256Tests))]
    public void Rfc4231_test_cases(int testCase, string key, string data, string mac)
    {
        _ = testCase;
        byte[] expected = Hex(mac);
        Assert.Equal(expected, Mac(Hex(key), Hex(data))[..expected.Length]);
    }

    [Theory]
    [MemberData(nameof(Rfc4231HmacSha256Tests.Rfc4868), MemberType = typeof(Rfc4231HmacSha256Tests))]
    public void Rfc4868_test_cases_through_both_backends(string testCase, string key, string data, string mac)
    {
        _ = testCase;
        Assert.Equal(Hex(mac), Mac(Hex(key), Hex(data)));
        var sodium = new byte[32];
        Hmac.SodiumSha256(Hex(key), Hex(data), sodium);
        Assert.Equal(Hex(mac), sodium);
    }

    [Fact]
    public void Equals_the_bcl_and_libsodium_on_random_keys_and_lengths()
    {
        var random = new Random(2104);
        var sodium = new byte[32];
        foreach (var dataLength in new[] { 0, 1, 31, 32, 55, 56, 63, 64, 65, 119, 120, 128, 1023, 1024, 1025, 5000 })
        {
            for (var keyLength = 0; keyLength <= 140; keyLength += 7)
            {
                var key = new byte[keyLength];
                var data = new byte[dataLength];
                random.NextBytes(key);
                random.NextBytes(data);
                Assert.Equal(HMACSHA256.HashData(key, data), Mac(key, data));
            }

            var key32 = new byte[32];
            var data32 = new byte[dataLength];
            random.NextBytes(key32);
            random.NextBytes(data32);
            Hmac.SodiumSha256(key32, data32, sodium);
            Assert.Equal(sodium, Mac(key32, data32));
        }
    }

    [Fact]
    public void A_keyed_state_gives_many_macs_and_pieces_hash_as_their_concatenation()
    {
        var key = RandomNumberGenerator.GetBytes(32);
        var state = default(HmacSha256State);
        state.SetKey(key);
        var output = new byte[32];
        for (var i = 0; i < 5; i++)
        {
            var a = RandomNumberGenerator.GetBytes(i * 20);
            var b = RandomNumberGenerator.GetBytes(27);
            byte[] c = [(byte)i];
            state.Compute(a, b, c, output);
            byte[] joined = [.. a, .. b, .. c];
            Assert.Equal(HMACSHA256.HashData(key, joined), output);
        }

        state.Clear();
    }

    [Fact]
    public void Sha256Twice_is_two_macs_and_may_overwrite_its_key()
    {
        var key = RandomNumberGenerator.GetBytes(32);
        var expectedFirst = HMACSHA256.HashData(key, new byte[] { 1 });
        var expectedSecond = HMACSHA256.HashData(key, new byte[] { 2 });
        var first = new byte[32];
        Hmac.Sha256Twice(key, [1], first, [2], key);
        Assert.Equal(expectedFirst, first);
        Assert.Equal(expectedSecond, key);
    }

    [Theory]
    [MemberData(nameof(Rfc5869HkdfTests.AppendixA), MemberType = typeof(Rfc5869HkdfTests))]
    public void Hkdf_rfc5869_appendix_a(int testCase, string ikm, string salt, string info, string prk, string okm)
    {
        _ = (testCase, prk);
        var actual = new byte[Hex(okm).Length];
        Hkdf.Sha256(Hex(ikm), Hex(salt), Hex(info), actual);
        Assert.Equal(Hex(okm), actual);
    }

    [Fact]
    public void Hkdf_equals_the_bcl_on_random_inputs()
    {
        var random = new Random(5869);
        foreach (var length in new[] { 1, 31, 32, 33, 64, 65, 100, 255 * 32 })
        {
            foreach (var saltLength in new[] { 0, 32, 100 })
            {
                var ikm = new byte[random.Next(0, 200)];
                var salt = new byte[saltLength];
                var info = new byte[random.Next(0, 80)];
                random.NextBytes(ikm);
                random.NextBytes(salt);
                random.NextBytes(info);
                var expected = new byte[length];
                var actual = new byte[length];
                HKDF.DeriveKey(HashAlgorithmName.SHA256, ikm, expected, salt, info);
                Hkdf.Sha256(ikm, salt, info, actual);
                Assert.Equal(expected, actual);
            }
        }
    }

    [Fact]
    public void Hkdf_refuses_more_than_255_blocks()
    {
        var output = new byte[(255 * 32) + 1];
        Assert.Throws<ArgumentException>(() => Hkdf.Sha256(new byte[32], default, default, output));
    }

    private static byte[] Mac(byte[] key, byte[] data)
    {
        var state = default(HmacSha256State);
        state.SetKey(key);
        var output = new byte[32];
        state.Compute(data, output);
        state.Clear();
        return output;
    }
}
