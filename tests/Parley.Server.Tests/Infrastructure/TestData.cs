using System.Security.Cryptography;
using System.Text;
using Parley.Server.Storage;

namespace Parley.Server.Tests.Infrastructure;

/// <summary>Random but well-formed values for the stores.</summary>
internal static class TestData
{
    /// <summary>Now, to the millisecond (what the engines keep).</summary>
    public static DateTimeOffset Now() => DateTimeOffset.FromUnixTimeMilliseconds(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());

    public static byte[] Bytes(int length = 16) => RandomNumberGenerator.GetBytes(length);

    public static UserRecord User(string name, DateTimeOffset? registeredAt = null) => new(
        Name: name,
        SigningKey: Bytes(32),
        DhKey: Bytes(32),
        DhKeySignature: Bytes(64),
        CertificatePem: $"-----BEGIN CERTIFICATE-----\n{Convert.ToBase64String(Bytes(48))}\n-----END CERTIFICATE-----\n",
        CertificateSerial: Convert.ToHexString(Bytes(16)),
        RegisteredAt: registeredAt ?? Now(),
        RevokedAt: null);

    /// <summary>Registers the users (the prekey and mailbox tables refer to them).</summary>
    public static async Task AddUsersAsync(IServerStore store, params string[] names)
    {
        foreach (var name in names)
        {
            Assert.True(await store.Users.TryCreateUserAsync(User(name), CancellationToken.None));
        }
    }

    /// <summary>A wire blob that says what it is, so a mix-up shows in the assertion message.</summary>
    public static byte[] Wire(string label) => Encoding.UTF8.GetBytes(label);

    public static string Label(byte[]? wire) => wire is null ? "(none)" : Encoding.UTF8.GetString(wire);

    public static StoredEnvelope Envelope(string sender, string recipient, byte[]? messageId = null, string body = "body") =>
        new(messageId ?? Bytes(), sender, recipient, Encoding.UTF8.GetBytes(body), DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
}
