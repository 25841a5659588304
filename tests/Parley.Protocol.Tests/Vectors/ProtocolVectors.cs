// The published protocol vectors: docs/vectors/conversation-v1.json and safety-number-v1.json.
//
// ProtocolVectorConversation runs a scripted conversation through the public API on a fixed byte
// stream (ProtocolVectorRandom: SHA-256 in counter mode over a fixed seed string), recomputes every
// intermediate value from docs/protocol.md with the primitives, and fails if the library disagrees.
// ProtocolVectorsMatchPublishedFiles then compares the result byte for byte with the committed files.
//
// To regenerate the files after a deliberate protocol change (a new protocol version):
//
//     PARLEY_WRITE_VECTORS=1 dotnet test tests/Parley.Protocol.Tests --filter "FullyQualifiedName~ProtocolVector"
//
// and then run `python3 tests/interop/verify_vectors.py docs/vectors`, the independent check.
using System.Diagnostics;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using Parley.Protocol.Identity;
using Parley.Protocol.Primitives;

namespace Parley.Protocol.Tests.Vectors;

public class ProtocolVectors
{
    private const string WriteVariable = "PARLEY_WRITE_VECTORS";

    private static readonly JsonSerializerOptions JsonOptions = new()
    {
        WriteIndented = true,
        IndentSize = 2,
        NewLine = "\n",
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    private static readonly Lazy<(string Conversation, string SafetyNumber)> Generated = new(() =>
    {
        var (conversation, safetyNumber) = ProtocolVectorConversation.Generate();
        return (ToText(conversation), ToText(safetyNumber));
    });

    [Fact]
    public void ProtocolVectorsMatchPublishedFiles()
    {
        var directory = Path.Combine(RepositoryRoot(), "docs", "vectors");
        var files = new[]
        {
            (Path.Combine(directory, "conversation-v1.json"), Generated.Value.Conversation),
            (Path.Combine(directory, "safety-number-v1.json"), Generated.Value.SafetyNumber),
        };

        if (Environment.GetEnvironmentVariable(WriteVariable) == "1")
        {
            Directory.CreateDirectory(directory);
            foreach (var (path, text) in files)
            {
                File.WriteAllText(path, text);
            }

            return;
        }

        foreach (var (path, text) in files)
        {
            Assert.True(File.Exists(path), $"{path} is missing; run with {WriteVariable}=1 to write it");
            Assert.Equal(File.ReadAllText(path), text);
        }
    }

    [Fact]
    public void ProtocolVectorGenerationIsDeterministic()
    {
        var (conversation, safetyNumber) = ProtocolVectorConversation.Generate();
        Assert.Equal(Generated.Value.Conversation, ToText(conversation));
        Assert.Equal(Generated.Value.SafetyNumber, ToText(safetyNumber));
    }

    /// <summary>
    /// The Python verifier cannot run ML-KEM everywhere, so the vectors give the KEM shared secret;
    /// this checks that the recorded ciphertext decapsulates to it under the recorded secret key,
    /// and that the key pair is FIPS 203 KeyGen of the recorded seed.
    /// </summary>
    [Fact]
    public void ProtocolVectorKemCiphertextDecapsulatesToTheRecordedSecret()
    {
        var vectors = JsonNode.Parse(Generated.Value.Conversation)!;
        var kemPreKey = vectors["bob"]!["kem_pre_key"]!;
        var pqxdh = vectors["pqxdh"]!;
        var secretKey = Convert.FromHexString((string)kemPreKey["secret"]!);
        var ciphertext = Convert.FromHexString((string)pqxdh["kem_ciphertext"]!);
        var sharedSecret = new byte[MlKem768.SharedSecretSize];

        Assert.True(MlKem768.TryDecapsulate(secretKey, ciphertext, sharedSecret));
        Assert.Equal((string)pqxdh["kem_shared_secret"]!, Convert.ToHexStringLower(sharedSecret));

        var fromSeed = Org.BouncyCastle.Crypto.Parameters.MLKemPrivateKeyParameters.FromSeed(
            Org.BouncyCastle.Crypto.Parameters.MLKemParameters.ml_kem_768,
            Convert.FromHexString((string)kemPreKey["seed"]!),
            Org.BouncyCastle.Crypto.Parameters.MLKemPrivateKeyParameters.Format.EncodingOnly);
        Assert.Equal((string)kemPreKey["secret"]!, Convert.ToHexStringLower(fromSeed.GetEncoded()));
        Assert.Equal((string)kemPreKey["public"]!, Convert.ToHexStringLower(fromSeed.GetPublicKeyEncoded()));
    }

    /// <summary>
    /// The independent check, run as part of the test suite (so .ci/run counts it): the Python
    /// re-derivation with the `cryptography` package must accept the committed files. CI installs
    /// python3-cryptography; without it this fails rather than skips, so the check cannot vanish quietly.
    /// </summary>
    [Fact]
    public async Task ProtocolVectorsVerifyWithPythonCryptography()
    {
        var root = RepositoryRoot();
        var python = File.Exists("/usr/bin/python3") ? "/usr/bin/python3" : "python3";
        var start = new ProcessStartInfo(python)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = root,
        };
        start.ArgumentList.Add(Path.Combine(root, "tests", "interop", "verify_vectors.py"));
        start.ArgumentList.Add(Path.Combine(root, "docs", "vectors"));

        using var process = Process.Start(start)!;
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        var error = process.StandardError.ReadToEndAsync(timeout.Token);
        var output = await process.StandardOutput.ReadToEndAsync(timeout.Token);
        await process.WaitForExitAsync(timeout.Token);
        Assert.True(process.ExitCode == 0, $"{python} tests/interop/verify_vectors.py docs/vectors failed (needs python3-cryptography):\n{output}{await error}");
        Assert.Contains("checks passed", output, StringComparison.Ordinal);
    }

    /// <summary>
    /// Signal's published safety-number vector (libsignal rust/protocol/src/fingerprint.rs,
    /// fingerprint_test_v1; Signal's keys are 33 bytes, 0x05 || X25519 key, where Parley's are
    /// 32-byte Ed25519 keys): the per-user computation is the same.
    /// </summary>
    [Fact]
    public void ProtocolVectorSafetyNumberMatchesSignalPublishedVector()
    {
        var alice = SafetyNumber.Half("+14152222222", Convert.FromHexString("0506863bc66d02b40d27b8d49ca7c09e9239236f9d7d25d6fcca5ce13c7064d868"));
        var bob = SafetyNumber.Half("+14153333333", Convert.FromHexString("05f781b6fb32fed9ba1cf2de978d4d5da28dc34046ae814402b5c0dbd96fda907b"));

        Assert.Equal("300354477692869396892869876765458257569162576843440918079131", string.CompareOrdinal(alice, bob) <= 0 ? alice + bob : bob + alice);
    }

    private static string ToText(JsonObject json) => json.ToJsonString(JsonOptions) + "\n";

    /// <summary>The directory holding Parley.sln, found by walking up from the test binaries.</summary>
    private static string RepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "Parley.sln")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException("Parley.sln not found above " + AppContext.BaseDirectory);
    }
}
