using Org.BouncyCastle.Crypto.Generators;
using Org.BouncyCastle.Crypto.Kems;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Security;

namespace Parley.Bench.Candidates;

/// <summary>
/// ML-KEM-768 through BouncyCastle's managed code, as Primitives.MlKem768 called it before it moved
/// to libsodium: keys decoded from their FIPS 203 encodings on every call. The randomness (d || z,
/// m) is passed in, so that the `primitives` command can check it against libsodium byte for byte.
/// </summary>
internal static class BouncyCastleMlKem768
{
    private static readonly MLKemParameters Parameters = MLKemParameters.ml_kem_768;

    internal static (byte[] PublicKey, byte[] SecretKey) GenerateKeyPair(byte[] seed)
    {
        var generator = new MLKemKeyPairGenerator();
        generator.Init(new MLKemKeyGenerationParameters(new FixedRandom(seed), Parameters));
        var pair = generator.GenerateKeyPair();
        return (((MLKemPublicKeyParameters)pair.Public).GetEncoded(), ((MLKemPrivateKeyParameters)pair.Private).GetEncoded());
    }

    internal static bool TryEncapsulate(ReadOnlySpan<byte> publicKey, byte[] m, Span<byte> ciphertext, Span<byte> sharedSecret)
    {
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
        encapsulator.Init(new ParametersWithRandom(key, new FixedRandom(m)));
        encapsulator.Encapsulate(ciphertext, sharedSecret);
        return true;
    }

    internal static bool TryDecapsulate(ReadOnlySpan<byte> secretKey, ReadOnlySpan<byte> ciphertext, Span<byte> sharedSecret)
    {
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

    /// <summary>Gives the same bytes on every request, from the start of <c>bytes</c>.</summary>
    private sealed class FixedRandom(byte[] bytes) : SecureRandom
    {
        public override void NextBytes(byte[] buf) => NextBytes(buf.AsSpan());

        public override void NextBytes(byte[] buf, int off, int len) => NextBytes(buf.AsSpan(off, len));

        public override void NextBytes(Span<byte> buffer) => bytes.AsSpan(0, buffer.Length).CopyTo(buffer);
    }
}
