// Known answers for AES-256-GCM from D. McGrew and J. Viega, "The Galois/Counter Mode of Operation
// (GCM)", revised 2005, Appendix B "AES Test Vectors": test cases 13-16, the AES-256 cases with a
// 96-bit IV (cases 17 and 18 use 64- and 480-bit IVs, which Parley never uses and its wrapper refuses).
// https://csrc.nist.gov/CSRC/media/Projects/Block-Cipher-Techniques/documents/BCM/proposed-modes/gcm/gcm-revised-spec.pdf
// (the same vectors are in NIST's GCM validation suite and in Go's crypto/cipher gcm_test.go).
//
// Parley's Aead uses libsodium where the CPU has AES-NI and System.Security.Cryptography.AesGcm
// elsewhere. The same vectors are run through AesGcm directly, and the wrapper is compared with
// AesGcm on random inputs, so both paths are pinned to the same function.
using System.Security.Cryptography;
using FsCheck.Xunit;
using Parley.Protocol.Primitives;
using Xunit;
using static Parley.Protocol.Tests.Vectors.KnownAnswerHelpers;

namespace Parley.Protocol.Tests.Vectors;

public class AesGcmTests
{
    private const string Key1516 = "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308";
    private const string Iv1516 = "cafebabefacedbaddecaf888";

    // test case, K, IV, P, A, C, T
    public static TheoryData<int, string, string, string, string, string, string> Cases => new()
    {
        {
            13,
            "0000000000000000000000000000000000000000000000000000000000000000",
            "000000000000000000000000",
            "",
            "",
            "",
            "530f8afbc74536b9a963b4f1c4cb738b"
        },
        {
            14,
            "0000000000000000000000000000000000000000000000000000000000000000",
            "000000000000000000000000",
            "00000000000000000000000000000000",
            "",
            "cea7403d4d606b6e074ec5d3baf39d18",
            "d0d1c8a799996bf0265b98b5d48ab919"
        },
        {
            15,
            Key1516,
            Iv1516,
            "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b391aafd255",
            "",
            "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662898015ad",
            "b094dac5d93471bdec1a502270e3cc6c"
        },
        {
            16,
            Key1516,
            Iv1516,
            "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39",
            "feedfacedeadbeeffeedfacedeadbeefabaddad2",
            "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662",
            "76fc6ece0f4e1768cddf8853bb2d551b"
        },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Encrypt_gives_the_published_ciphertext_and_tag(int testCase, string k, string iv, string p, string a, string c, string t)
    {
        _ = testCase;
        byte[] plaintext = Hex(p);
        var output = new byte[plaintext.Length + Aead.TagSize];
        Aead.Encrypt(Hex(k), Hex(iv), plaintext, Hex(a), output);
        Assert.Equal(Hex(c + t), output);
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void TryDecrypt_recovers_the_published_plaintext(int testCase, string k, string iv, string p, string a, string c, string t)
    {
        _ = testCase;
        byte[] expected = Hex(p);
        byte[] output = Filled(expected.Length);
        Assert.True(Aead.TryDecrypt(Hex(k), Hex(iv), Hex(c + t), Hex(a), output));
        Assert.Equal(expected, output);
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void TryDecrypt_rejects_a_flipped_tag_bit(int testCase, string k, string iv, string p, string a, string c, string t)
    {
        _ = (testCase, p);
        byte[] sealedText = Hex(c + t);
        int tagStart = sealedText.Length - Aead.TagSize;
        foreach (int bit in new[] { 0, 7, 64, (Aead.TagSize * 8) - 1 })
        {
            AssertRejected(Hex(k), Hex(iv), FlipBit(sealedText, (tagStart * 8) + bit), Hex(a));
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void TryDecrypt_rejects_a_flipped_ciphertext_bit(int testCase, string k, string iv, string p, string a, string c, string t)
    {
        _ = (testCase, p);
        byte[] ciphertext = Hex(c);
        if (ciphertext.Length == 0)
        {
            return; // test case 13 has no ciphertext, only a tag
        }

        foreach (int bit in new[] { 0, ciphertext.Length * 4, (ciphertext.Length * 8) - 1 })
        {
            AssertRejected(Hex(k), Hex(iv), FlipBit(Hex(c + t), bit), Hex(a));
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void TryDecrypt_rejects_changed_associated_data(int testCase, string k, string iv, string p, string a, string c, string t)
    {
        _ = (testCase, p);
        byte[] ad = Hex(a);
        AssertRejected(Hex(k), Hex(iv), Hex(c + t), [.. ad, 0x00]);
        if (ad.Length > 0)
        {
            AssertRejected(Hex(k), Hex(iv), Hex(c + t), FlipBit(ad, 0));
            AssertRejected(Hex(k), Hex(iv), Hex(c + t), FlipBit(ad, (ad.Length * 8) - 1));
            AssertRejected(Hex(k), Hex(iv), Hex(c + t), []);
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void TryDecrypt_rejects_a_changed_key_or_nonce(int testCase, string k, string iv, string p, string a, string c, string t)
    {
        _ = (testCase, p);
        AssertRejected(FlipBit(Hex(k), 0), Hex(iv), Hex(c + t), Hex(a));
        AssertRejected(Hex(k), FlipBit(Hex(iv), 95), Hex(c + t), Hex(a));
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Reference_AesGcm_gives_the_published_values(int testCase, string k, string iv, string p, string a, string c, string t)
    {
        // The wrapper's fallback path is System.Security.Cryptography.AesGcm with these same arguments.
        _ = testCase;
        using var gcm = new AesGcm(Hex(k), Aead.TagSize);
        byte[] plaintext = Hex(p);
        var ciphertext = new byte[plaintext.Length];
        var tag = new byte[Aead.TagSize];
        gcm.Encrypt(Hex(iv), plaintext, ciphertext, tag, Hex(a));
        Assert.Equal(Hex(c), ciphertext);
        Assert.Equal(Hex(t), tag);

        var decrypted = new byte[plaintext.Length];
        gcm.Decrypt(Hex(iv), ciphertext, tag, decrypted, Hex(a));
        Assert.Equal(plaintext, decrypted);
        Assert.Throws<AuthenticationTagMismatchException>(() => gcm.Decrypt(Hex(iv), ciphertext, FlipBit(tag, 0), decrypted, Hex(a)));
    }

    [Fact]
    public void Wrapper_refuses_the_non_96_bit_ivs_of_test_cases_17_and_18()
    {
        byte[] plaintext = Hex("d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39");
        byte[] ad = Hex("feedfacedeadbeeffeedfacedeadbeefabaddad2");
        var output = new byte[plaintext.Length + Aead.TagSize];
        Assert.Throws<ArgumentException>(() => Aead.Encrypt(Hex(Key1516), Hex("cafebabefacedbad"), plaintext, ad, output));
        Assert.Throws<ArgumentException>(() => Aead.Encrypt(
            Hex(Key1516),
            Hex("9313225df88406e555909c5aff5269aa6a7a9538534f7da1e4c303d2a318a728c3c0c95156809539fcf0e2429a6b525416aedbf5a0de6a57a637b39b"),
            plaintext,
            ad,
            output));
    }

    [Property(MaxTest = 300)]
    public bool Wrapper_equals_the_reference_AesGcm_on_random_inputs(int seed, byte[]? plaintext, byte[]? associatedData)
    {
        plaintext ??= [];
        associatedData ??= [];
        var random = new Random(seed);
        var key = new byte[Aead.KeySize];
        var nonce = new byte[Aead.NonceSize];
        random.NextBytes(key);
        random.NextBytes(nonce);

        var wrapper = new byte[plaintext.Length + Aead.TagSize];
        Aead.Encrypt(key, nonce, plaintext, associatedData, wrapper);

        using var gcm = new AesGcm(key, Aead.TagSize);
        var reference = new byte[plaintext.Length + Aead.TagSize];
        gcm.Encrypt(nonce, plaintext, reference.AsSpan(0, plaintext.Length), reference.AsSpan(plaintext.Length), associatedData);

        var opened = new byte[plaintext.Length];
        return wrapper.AsSpan().SequenceEqual(reference)
            && Aead.TryDecrypt(key, nonce, reference, associatedData, opened)
            && opened.AsSpan().SequenceEqual(plaintext);
    }

    private static void AssertRejected(byte[] key, byte[] nonce, byte[] sealedText, byte[] associatedData)
    {
        byte[] output = Filled(sealedText.Length - Aead.TagSize);
        Assert.False(Aead.TryDecrypt(key, nonce, sealedText, associatedData, output));
        Assert.All(output, b => Assert.Equal(0, b));
    }

    /// <summary>An output buffer pre-filled with a non-zero pattern, so that zeroing on failure is observable.</summary>
    private static byte[] Filled(int length)
    {
        var buffer = new byte[length];
        Array.Fill(buffer, (byte)0xA5);
        return buffer;
    }
}
