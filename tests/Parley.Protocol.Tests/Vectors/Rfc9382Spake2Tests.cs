// Known answers for SPAKE2 from RFC 9382, "SPAKE2, a Password-Authenticated Key Exchange"
// (W. Ladd, B. Kaduk, ed., September 2023), Appendix B "SPAKE2 P256 Test Vectors": ciphersuite
// SPAKE2-P256-SHA256-HKDF-HMAC, no MHF (w, x and y given directly), points SEC1 uncompressed, no
// AAD. https://www.rfc-editor.org/rfc/rfc9382#appendix-B
// Transcribed mechanically (a script that joins the wrapped hex lines) from the editors' source of
// the document, github.com/kaduk/spake2, draft-irtf-cfrg-spake2.xml at commit
// 25309564a2b7113395be574a4aa0a04563167466, section "Test Vectors"; every value was compared with
// two independent implementations that quote RFC 9382 Appendix B. The RFC labels the MACs "A conf"
// and "B conf"; here they are MacA (cA) and MacB (cB). M and N are from RFC 9382 §6 and are
// re-derived below with the RFC's own Appendix A procedure.
using System.Security.Cryptography;
using System.Text;
using Org.BouncyCastle.Math;
using Parley.Protocol.Pake;
using Xunit;
using static Parley.Protocol.Tests.Vectors.KnownAnswerHelpers;

namespace Parley.Protocol.Tests.Vectors;

public class Rfc9382Spake2Tests
{
    private static readonly Rfc9382Vector[] AppendixB =
    [
        new(
            Name: "A='server', B='client'",
            A: "server",
            B: "client",
            W: "2ee57912099d31560b3a44b1184b9b4866e904c49d12ac5042c97dca461b1a5f",
            X: "43dd0fd7215bdcb482879fca3220c6a968e66d70b1356cac18bb26c84a78d729",
            PA:
                "04a56fa807caaa53a4d28dbb9853b9815c61a411118a6fe516a8798434751470f9" +
                "010153ac33d0d5f2047ffdb1a3e42c9b4e6be662766e1eeb4116988ede5f912c",
            Y: "dcb60106f276b02606d8ef0a328c02e4b629f84f89786af5befb0bc75b6e66be",
            PB:
                "0406557e482bd03097ad0cbaa5df82115460d951e3451962f1eaf4367a420676d0" +
                "9857ccbc522686c83d1852abfa8ed6e4a1155cf8f1543ceca528afb591a1e0b7",
            K:
                "0412af7e89717850671913e6b469ace67bd90a4df8ce45c2af19010175e37eed69" +
                "f75897996d539356e2fa6a406d528501f907e04d97515fbe83db277b715d3325",
            TT:
                "06000000000000007365727665720600000000000000636c69656e74410000000000000004a56fa807caaa53a4d28dbb9853b9815c61a411118a6fe516a87984" +
                "34751470f9010153ac33d0d5f2047ffdb1a3e42c9b4e6be662766e1eeb4116988ede5f912c41000000000000000406557e482bd03097ad0cbaa5df82115460d9" +
                "51e3451962f1eaf4367a420676d09857ccbc522686c83d1852abfa8ed6e4a1155cf8f1543ceca528afb591a1e0b741000000000000000412af7e897178506719" +
                "13e6b469ace67bd90a4df8ce45c2af19010175e37eed69f75897996d539356e2fa6a406d528501f907e04d97515fbe83db277b715d332520000000000000002e" +
                "e57912099d31560b3a44b1184b9b4866e904c49d12ac5042c97dca461b1a5f",
            HashTT: "0e0672dc86f8e45565d338b0540abe6915bdf72e2b35b5c9e5663168e960a91b",
            Ke: "0e0672dc86f8e45565d338b0540abe69",
            Ka: "15bdf72e2b35b5c9e5663168e960a91b",
            KcA: "00c12546835755c86d8c0db7851ae86f",
            KcB: "a9fa3406c3b781b93d804485430ca27a",
            MacA: "58ad4aa88e0b60d5061eb6b5dd93e80d9c4f00d127c65b3b35b1b5281fee38f0",
            MacB: "d3e2e547f1ae04f2dbdbf0fc4b79f8ecff2dff314b5d32fe9fcef2fb26dc459b"),
        new(
            Name: "A='', B='client'",
            A: "",
            B: "client",
            W: "0548d8729f730589e579b0475a582c1608138ddf7054b73b5381c7e883e2efae",
            X: "403abbe3b1b4b9ba17e3032849759d723939a27a27b9d921c500edde18ed654b",
            PA:
                "04a897b769e681c62ac1c2357319a3d363f610839c4477720d24cbe32f5fd85f44" +
                "fb92ba966578c1b712be6962498834078262caa5b441ecfa9d4a9485720e918a",
            Y: "903023b6598908936ea7c929bd761af6039577a9c3f9581064187c3049d87065",
            PB:
                "04e0f816fd1c35e22065d5556215c097e799390d16661c386e0ecc84593974a61b" +
                "881a8c82327687d0501862970c64565560cb5671f696048050ca66ca5f8cc7fc",
            K:
                "048f83ec9f6e4f87cc6f9dc740bdc2769725f923364f01c84148c049a39a735ebd" +
                "a82eac03e00112fd6a5710682767cff5361f7e819e53d8d3c3a2922e0d837aa6",
            TT:
                "00000000000000000600000000000000636c69656e74410000000000000004a897b769e681c62ac1c2357319a3d363f610839c4477720d24cbe32f5fd85f44fb" +
                "92ba966578c1b712be6962498834078262caa5b441ecfa9d4a9485720e918a410000000000000004e0f816fd1c35e22065d5556215c097e799390d16661c386e" +
                "0ecc84593974a61b881a8c82327687d0501862970c64565560cb5671f696048050ca66ca5f8cc7fc4100000000000000048f83ec9f6e4f87cc6f9dc740bdc276" +
                "9725f923364f01c84148c049a39a735ebda82eac03e00112fd6a5710682767cff5361f7e819e53d8d3c3a2922e0d837aa620000000000000000548d8729f7305" +
                "89e579b0475a582c1608138ddf7054b73b5381c7e883e2efae",
            HashTT: "642f05c473c2cd79909f9a841e2f30a70bf89b18180af97353ba198789c2b963",
            Ke: "642f05c473c2cd79909f9a841e2f30a7",
            Ka: "0bf89b18180af97353ba198789c2b963",
            KcA: "c6be376fc7cd1301fd0a13adf3e7bffd",
            KcB: "b7243f4ae60440a49b3f8cab3c1fba07",
            MacA: "47d29e6666af1b7dd450d571233085d7a9866e4d49d2645e2df975489521232b",
            MacB: "3313c5cefc361d27fb16847a91c2a73b766ffa90a4839122a9b70a2f6bd1d6df"),
        new(
            Name: "A='server', B=''",
            A: "server",
            B: "",
            W: "626e0cdc7b14c9db3e52a0b1b3a768c98e37852d5db30febe0497b14eae8c254",
            X: "07adb3db6bc623d3399726bfdbfd3d15a58ea776ab8a308b00392621291f9633",
            PA:
                "04f88fb71c99bfffaea370966b7eb99cd4be0ff1a7d335caac4211c4afd855e2e1" +
                "5a873b298503ad8ba1d9cbb9a392d2ba309b48bfd7879aefd0f2cea6009763b0",
            Y: "b6a4fc8dbb629d4ba51d6f91ed1532cf87adec98f25dd153a75accafafedec16",
            PB:
                "040c269d6be017dccb15182ac6bfcd9e2a14de019dd587eaf4bdfd353f031101e7" +
                "cca177f8eb362a6e83e7d5e729c0732e1b528879c086f39ba0f31a9661bd34db",
            K:
                "0445ee233b8ecb51ebd6e7da3f307e88a1616bae2166121221fdc0dadb986afaf3" +
                "ec8a988dc9c626fa3b99f58a7ca7c9b844bb3e8dd9554aafc5b53813504c1cbe",
            TT:
                "06000000000000007365727665720000000000000000410000000000000004f88fb71c99bfffaea370966b7eb99cd4be0ff1a7d335caac4211c4afd855e2e15a" +
                "873b298503ad8ba1d9cbb9a392d2ba309b48bfd7879aefd0f2cea6009763b04100000000000000040c269d6be017dccb15182ac6bfcd9e2a14de019dd587eaf4" +
                "bdfd353f031101e7cca177f8eb362a6e83e7d5e729c0732e1b528879c086f39ba0f31a9661bd34db41000000000000000445ee233b8ecb51ebd6e7da3f307e88" +
                "a1616bae2166121221fdc0dadb986afaf3ec8a988dc9c626fa3b99f58a7ca7c9b844bb3e8dd9554aafc5b53813504c1cbe2000000000000000626e0cdc7b14c9" +
                "db3e52a0b1b3a768c98e37852d5db30febe0497b14eae8c254",
            HashTT: "005184ff460da2ce59062c87733c299c3521297d736598fc0a1127600efa1afb",
            Ke: "005184ff460da2ce59062c87733c299c",
            Ka: "3521297d736598fc0a1127600efa1afb",
            KcA: "f3da53604f0aeecea5a33be7bddf6edf",
            KcB: "9e3f86848736f159bd92b6e107ec6799",
            MacA: "bc9f9bbe99f26d0b2260e6456e05a86196a3307ec6663a18bf6ac825736533b2",
            MacB: "c2370e1bf813b086dff0d834e74425a06e6390f48f5411900276dcccc5a297ec"),
        new(
            Name: "A='', B=''",
            A: "",
            B: "",
            W: "7bf46c454b4c1b25799527d896508afd5fc62ef4ec59db1efb49113063d70cca",
            X: "8cef65df64bb2d0f83540c53632de911b5b24b3eab6cc74a97609fd659e95473",
            PA:
                "04a65b367a3f613cf9f0654b1b28a1e3a8a40387956c8ba6063e8658563890f46c" +
                "a1ef6a676598889fc28de2950ab8120b79a5ef1ea4c9f44bc98f585634b46d66",
            Y: "d7a66f64074a84652d8d623a92e20c9675c61cb5b4f6a0063e4648a2fdc02d53",
            PB:
                "04589f13218822710d98d8b2123a079041052d9941b9cf88c6617ddb2fcc049466" +
                "2eea8ba6b64692dc318250030c6af045cb738bc81ba35b043c3dcb46adf6f58d",
            K:
                "041a3c03d51b452537ca2a1fea6110353c6d5ed483c4f0f86f4492ca3f378d40a9" +
                "94b4477f93c64d928edbbcd3e85a7c709b7ea73ee97986ce3d1438e135543772",
            TT:
                "00000000000000000000000000000000410000000000000004a65b367a3f613cf9f0654b1b28a1e3a8a40387956c8ba6063e8658563890f46ca1ef6a67659888" +
                "9fc28de2950ab8120b79a5ef1ea4c9f44bc98f585634b46d66410000000000000004589f13218822710d98d8b2123a079041052d9941b9cf88c6617ddb2fcc04" +
                "94662eea8ba6b64692dc318250030c6af045cb738bc81ba35b043c3dcb46adf6f58d4100000000000000041a3c03d51b452537ca2a1fea6110353c6d5ed483c4" +
                "f0f86f4492ca3f378d40a994b4477f93c64d928edbbcd3e85a7c709b7ea73ee97986ce3d1438e13554377220000000000000007bf46c454b4c1b25799527d896" +
                "508afd5fc62ef4ec59db1efb49113063d70cca",
            HashTT: "fc6374762ba5cf11f4b2caa08b2cd1b9907ae0e26e8d6234318d91583cd74c86",
            Ke: "fc6374762ba5cf11f4b2caa08b2cd1b9",
            Ka: "907ae0e26e8d6234318d91583cd74c86",
            KcA: "5dbd2f477166b7fb6d61febbd77a5563",
            KcB: "7689b4654407a5faeffdc8f18359d8a3",
            MacA: "dfb4db8d48ae5a675963ea5e6c19d98d4ea028d8e898dad96ea19a80ade95dca",
            MacB: "d0f0609d1613138d354f7e95f19fb556bf52d751947241e8c7118df5ef0ae175"),
    ];

    public static TheoryData<string> VectorNames => new(AppendixB.Select(v => v.Name));

    [Theory]
    [MemberData(nameof(VectorNames))]
    public void Shares_are_the_published_pA_and_pB(string name)
    {
        var v = Vector(name);
        using var a = Start(v, Spake2Role.A);
        using var b = Start(v, Spake2Role.B);

        Assert.Equal(Hex(v.PA), a.Message);
        Assert.Equal(Hex(v.PB), b.Message);
    }

    [Theory]
    [MemberData(nameof(VectorNames))]
    public void Both_sides_compute_the_published_K(string name)
    {
        var v = Vector(name);
        Assert.True(Spake2Group.TryDecodeElement(Hex(v.PB), out var pB));
        Assert.True(Spake2Group.TryDecodeElement(Hex(v.PA), out var pA));

        Assert.Equal(Hex(v.K), Spake2Party.SharedElement(Spake2Role.A, Scalar(v.W), Scalar(v.X), pB));
        Assert.Equal(Hex(v.K), Spake2Party.SharedElement(Spake2Role.B, Scalar(v.W), Scalar(v.Y), pA));
    }

    [Theory]
    [MemberData(nameof(VectorNames))]
    public void Transcript_is_the_published_TT(string name)
    {
        var v = Vector(name);
        var transcript = Spake2Transcript.Build(Ascii(v.A), Ascii(v.B), Hex(v.PA), Hex(v.PB), Hex(v.K), Spake2Group.EncodeScalar(Scalar(v.W)));

        Assert.Equal(Hex(v.TT), transcript);
    }

    [Theory]
    [MemberData(nameof(VectorNames))]
    public void Key_schedule_gives_the_published_keys_and_MACs(string name)
    {
        var v = Vector(name);
        using var keys = Spake2KeySchedule.Derive(Hex(v.TT), additionalData: []);

        Assert.Equal(Hex(v.HashTT), keys.TranscriptHash);
        Assert.Equal(Hex(v.Ke), keys.Ke.ToArray());
        Assert.Equal(Hex(v.Ka), keys.Ka.ToArray());
        Assert.Equal(Hex(v.KcA), keys.KcA.ToArray());
        Assert.Equal(Hex(v.KcB), keys.KcB.ToArray());
        Assert.Equal(Hex(v.MacA), keys.ConfirmationA);
        Assert.Equal(Hex(v.MacB), keys.ConfirmationB);
        Assert.Equal(Hex(v.HashTT), SHA256.HashData(Hex(v.TT)));
    }

    [Theory]
    [MemberData(nameof(VectorNames))]
    public void Full_exchange_sends_the_published_MACs_and_agrees_on_Ke(string name)
    {
        var v = Vector(name);
        using var a = Start(v, Spake2Role.A);
        using var b = Start(v, Spake2Role.B);

        var confirmationA = a.Finish(b.Message);
        var confirmationB = b.Finish(a.Message);
        Assert.Equal(Hex(v.MacA), confirmationA);
        Assert.Equal(Hex(v.MacB), confirmationB);

        // RFC 9382 §3.1 order: B checks cA, then A checks cB.
        Assert.Equal(Hex(v.Ke), b.VerifyPeerConfirmation(confirmationA).ToArray());
        Assert.Equal(Hex(v.Ke), a.VerifyPeerConfirmation(confirmationB).ToArray());
    }

    [Theory]
    [MemberData(nameof(VectorNames))]
    public void Confirmation_keys_depend_on_the_AAD(string name)
    {
        // The vectors have no AAD; Parley binds "parley-pake-v1" (RFC 9382 §4: info = "ConfirmationKeys" || AAD).
        var v = Vector(name);
        using var nil = Spake2KeySchedule.Derive(Hex(v.TT), additionalData: []);
        using var parley = Spake2KeySchedule.Derive(Hex(v.TT), Spake2Party.AdditionalData);

        Assert.Equal(nil.Ke.ToArray(), parley.Ke.ToArray());
        Assert.NotEqual(nil.ConfirmationKeys, parley.ConfirmationKeys);
        Assert.NotEqual(nil.ConfirmationA, parley.ConfirmationA);
    }

    [Theory]
    [InlineData("M", "02886e2f97ace46e55ba9dd7242579f2993b64e16ef3dcab95afd497333d8fa12f")]
    [InlineData("N", "03d8bbd6c639c62937b04d997f38c3770719c629d7014d49a24b4f98baa1292b49")]
    public void M_and_N_are_the_RFC_points_and_come_from_the_Appendix_A_seeds(string which, string compressed)
    {
        var point = which == "M" ? Spake2Group.M : Spake2Group.N;
        Assert.Equal(Hex(compressed), point.GetEncoded(true));

        // RFC 9382 Appendix A: block i = SHA-256 iterated i times over the seed; the first 33 bytes of
        // blocks i, i+1 with the first byte set to 0x02 | (its low bit) that decode to a point of order p.
        var seed = Encoding.ASCII.GetBytes($"1.2.840.10045.3.1.7 point generation seed ({which})");
        Assert.Equal(Hex(compressed), GeneratePoint(seed));
    }

    private static byte[] GeneratePoint(byte[] seed)
    {
        for (var i = 1; i < 1000; i++)
        {
            var candidate = IteratedHash(seed, i).Concat(IteratedHash(seed, i + 1)).Take(33).ToArray();
            candidate[0] = (byte)((candidate[0] & 1) | 2);
            try
            {
                var point = Spake2Group.M.Curve.DecodePoint(candidate);
                if (!point.IsInfinity && point.Multiply(Spake2Group.Order).IsInfinity)
                {
                    return candidate;
                }
            }
            catch (ArgumentException)
            {
                // Not an x-coordinate on the curve: try the next block.
            }
        }

        throw new InvalidOperationException("no point found");
    }

    private static byte[] IteratedHash(byte[] seed, int times)
    {
        var h = seed;
        for (var i = 0; i < times; i++)
        {
            h = SHA256.HashData(h);
        }

        return h;
    }

    private static Spake2Party Start(Rfc9382Vector v, Spake2Role role) =>
        Spake2Party.StartCore(role, Scalar(v.W), Scalar(role == Spake2Role.A ? v.X : v.Y), Ascii(v.A), Ascii(v.B), additionalData: []);

    private static Rfc9382Vector Vector(string name) => AppendixB.Single(v => v.Name == name);

    private static BigInteger Scalar(string hex) => new(hex, 16);

    private static byte[] Ascii(string text) => Encoding.ASCII.GetBytes(text);

    private sealed record Rfc9382Vector(
        string Name,
        string A,
        string B,
        string W,
        string X,
        string PA,
        string Y,
        string PB,
        string K,
        string TT,
        string HashTT,
        string Ke,
        string Ka,
        string KcA,
        string KcB,
        string MacA,
        string MacB);
}
