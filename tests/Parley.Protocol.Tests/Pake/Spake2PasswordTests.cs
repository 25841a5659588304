using System.Text;
using Org.BouncyCastle.Crypto.Generators;
using Parley.Protocol.Pake;
using static Parley.Protocol.Tests.Vectors.KnownAnswerHelpers;
using BcArgon2Parameters = Org.BouncyCastle.Crypto.Parameters.Argon2Parameters;
using BigInteger = Org.BouncyCastle.Math.BigInteger;

namespace Parley.Protocol.Tests.Pake;

/// <summary>
/// w = Argon2id(code) mod p (docs/protocol.md §11). libsodium's Argon2id only takes a 16-byte salt
/// and no secret or associated data, so RFC 9106's vector cannot be run through it directly:
/// BouncyCastle's Argon2id is checked against RFC 9106 §5.3, and libsodium is checked against
/// BouncyCastle at Parley's exact parameters.
/// </summary>
public class Spake2PasswordTests
{
    [Fact]
    public void ReferenceArgon2idReproducesRfc9106Section5_3()
    {
        // RFC 9106 §5.3 (Argon2id test vector): version 0x13, t = 3, m = 32 KiB, p = 4, password 32 × 0x01,
        // salt 16 × 0x02, secret 8 × 0x03, associated data 12 × 0x04, tag of 32 bytes.
        // https://www.rfc-editor.org/rfc/rfc9106#section-5.3
        var parameters = new BcArgon2Parameters.Builder(BcArgon2Parameters.Argon2id)
            .WithVersion(BcArgon2Parameters.Version13)
            .WithIterations(3)
            .WithMemoryAsKB(32)
            .WithParallelism(4)
            .WithSalt(Enumerable.Repeat((byte)0x02, 16).ToArray())
            .WithSecret(Enumerable.Repeat((byte)0x03, 8).ToArray())
            .WithAdditional(Enumerable.Repeat((byte)0x04, 12).ToArray())
            .Build();

        Assert.Equal(Hex("0d640df58d78766c08c037a34a8b53c9d01ef0452d75b65eb52520e96b01e659"), Reference(parameters, Enumerable.Repeat((byte)0x01, 32).ToArray(), 32));
    }

    [Theory]
    [InlineData("42-tiger-velvet")]
    [InlineData("passphrase with ünïcödé")]
    public void LibsodiumArgon2idAgreesWithTheReferenceAtParleysParameters(string password)
    {
        var parameters = new BcArgon2Parameters.Builder(BcArgon2Parameters.Argon2id)
            .WithVersion(BcArgon2Parameters.Version13)
            .WithIterations((int)Spake2Password.Passes)
            .WithMemoryAsKB((int)Spake2Password.MemoryKib)
            .WithParallelism(Spake2Password.Lanes)
            .WithSalt(Spake2Password.Salt.ToArray())
            .Build();
        var bytes = Encoding.UTF8.GetBytes(password);
        var wide = new byte[Spake2Password.OutputSize];

        Spake2Password.DeriveWide(bytes, wide);

        Assert.Equal(Reference(parameters, bytes, Spake2Password.OutputSize), wide);
    }

    [Fact]
    public void WIsTheArgon2idOutputReducedModP()
    {
        // Parley's own known answer (docs/protocol.md §11), for a second implementation to check its MHF.
        var password = "42-tiger-velvet"u8;
        var wide = new byte[Spake2Password.OutputSize];
        Spake2Password.DeriveWide(password, wide);

        Assert.Equal(Hex("5e10c066ca0982c21d1c86446d286b9da4f3a09046af784d8eb3030ae5d864702d3953a11b7d7c08"), wide);
        Assert.Equal(new BigInteger(1, wide).Mod(Spake2Group.Order), Spake2Password.Derive(password));
        Assert.Equal(Hex("e7260905450e2875bd9b3482a60c0c68540fc9a90f660baf6df2b99e47017460"), Spake2Group.EncodeScalar(Spake2Password.Derive(password)));
    }

    [Fact]
    public void ParametersAreTheDocumentedOnes()
    {
        Assert.Equal(19456, Spake2Password.MemoryKib);
        Assert.Equal(2, Spake2Password.Passes);
        Assert.Equal(1, Spake2Password.Lanes);
        Assert.Equal(40, Spake2Password.OutputSize);
        Assert.Equal("parley-pake-w-v1"u8.ToArray(), Spake2Password.Salt.ToArray());
        Assert.Equal("parley-pake-v1"u8.ToArray(), Spake2Party.AdditionalData.ToArray());
    }

    private static byte[] Reference(BcArgon2Parameters parameters, byte[] password, int length)
    {
        var generator = new Argon2BytesGenerator();
        generator.Init(parameters);
        var output = new byte[length];
        generator.GenerateBytes(password, output);
        return output;
    }
}
