using Org.BouncyCastle.Crypto.Generators;
using Org.BouncyCastle.Crypto.Kems;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Security;

namespace Parley.Protocol.Primitives;

/// <summary>ML-KEM-768 (FIPS 203) through BouncyCastle.</summary>
internal static class MlKem768
{
    internal const int PublicKeySize = 1184;
    internal const int SecretKeySize = 2400;
    internal const int CiphertextSize = 1088;
    internal const int SharedSecretSize = 32;

    private static readonly MLKemParameters Parameters = MLKemParameters.ml_kem_768;

    /// <summary>BouncyCastle's randomness, drawn from <see cref="RandomSource"/>.</summary>
    private static SecureRandom Random { get; } = new RandomSourceAdapter();

    /// <summary>Returns (encapsulation key, decapsulation key) in FIPS 203 encodings.</summary>
    internal static (byte[] PublicKey, byte[] SecretKey) GenerateKeyPair()
    {
        var generator = new MLKemKeyPairGenerator();
        generator.Init(new MLKemKeyGenerationParameters(Random, Parameters));
        var pair = generator.GenerateKeyPair();
        return (((MLKemPublicKeyParameters)pair.Public).GetEncoded(), ((MLKemPrivateKeyParameters)pair.Private).GetEncoded());
    }

    /// <summary>
    /// Encapsulates to <paramref name="publicKey"/>. Returns false when the key is malformed
    /// (wrong length, or coefficients out of range: the FIPS 203 §7.2 input check).
    /// </summary>
    internal static bool TryEncapsulate(ReadOnlySpan<byte> publicKey, Span<byte> ciphertext, Span<byte> sharedSecret)
    {
        if (publicKey.Length != PublicKeySize || ciphertext.Length != CiphertextSize || sharedSecret.Length != SharedSecretSize)
        {
            return false;
        }

        MLKemPublicKeyParameters key;
        try
        {
            key = MLKemPublicKeyParameters.FromEncoding(Parameters, publicKey.ToArray());
        }
        catch (ArgumentException)
        {
            return false;
        }

        var encapsulator = new MLKemEncapsulator(Parameters);
        encapsulator.Init(new ParametersWithRandom(key, Random));
        encapsulator.Encapsulate(ciphertext, sharedSecret);
        return true;
    }

    /// <summary>
    /// Decapsulates. ML-KEM decapsulation never fails on a well-sized ciphertext (implicit
    /// rejection yields an unrelated secret), so a forged ciphertext shows up later as an AEAD failure.
    /// </summary>
    internal static bool TryDecapsulate(ReadOnlySpan<byte> secretKey, ReadOnlySpan<byte> ciphertext, Span<byte> sharedSecret)
    {
        if (secretKey.Length != SecretKeySize || ciphertext.Length != CiphertextSize || sharedSecret.Length != SharedSecretSize)
        {
            return false;
        }

        MLKemPrivateKeyParameters key;
        try
        {
            key = MLKemPrivateKeyParameters.FromEncoding(Parameters, secretKey.ToArray());
        }
        catch (ArgumentException)
        {
            return false;
        }

        var decapsulator = new MLKemDecapsulator(Parameters);
        decapsulator.Init(key);
        decapsulator.Decapsulate(ciphertext, sharedSecret);
        return true;
    }

    /// <summary>Feeds BouncyCastle from <see cref="RandomSource"/> so that one switch controls all randomness.</summary>
    private sealed class RandomSourceAdapter : SecureRandom
    {
        public override void NextBytes(byte[] buf) => RandomSource.Fill(buf);

        public override void NextBytes(byte[] buf, int off, int len) => RandomSource.Fill(buf.AsSpan(off, len));

        public override void NextBytes(Span<byte> buffer) => RandomSource.Fill(buffer);
    }
}
