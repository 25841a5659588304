using Google.Protobuf;
using Grpc.Core;
using Parley.Api;
using Parley.Client.Connection;
using Parley.EndToEnd;
using Parley.Protocol.Identity;

namespace Parley.Faults;

/// <summary>
/// A client that does not follow the protocol, written against the generated gRPC API and run
/// against a real `parley serve`. What tests/Parley.Server.Tests/Behaviour already proves is not
/// repeated here: a stolen token on another connection and a wrong key cannot authenticate
/// (AuthenticationTests), Cyrillic look-alikes and other case are refused (RegistrationTests),
/// concurrent bundle fetches never share a one-time prekey (DirectoryTests), and a flooding sender
/// is limited while others are served (SendRateLimitTests, OperationsTests).
/// </summary>
public sealed class MaliciousClientTests : IAsyncLifetime, IDisposable
{
    private readonly Workspace work = new();
    private ServerProcess server = null!;
    private string caPem = null!;

    public async Task InitializeAsync()
    {
        server = await ServerProcess.StartAsync(work.Combine("server"));
        caPem = await File.ReadAllTextAsync(Path.Combine(server.DataDirectory, "ca.pem"));
    }

    public async Task DisposeAsync() => await server.DisposeAsync();

    public void Dispose() => work.Dispose();

    [Fact]
    public async Task AcknowledgingSomeoneElsesMessageDeletesNothing()
    {
        var bob = await work.RegisterAsync(server, "bob");
        await using var mallory = await RegisterAsync("mallory");
        var id = ByteString.CopyFrom(new byte[16] { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16 });
        await mallory.Mailbox.SendAsync(new SendRequest { MessageId = id, Recipient = "bob", Body = ByteString.CopyFromUtf8("not a ratchet message") });

        // Mallory knows the id of what is waiting in bob's mailbox and acknowledges it on her own stream.
        using (var stream = mallory.Mailbox.Receive())
        {
            await stream.RequestStream.WriteAsync(new ReceiveRequest { Ack = { id } });
            await stream.RequestStream.CompleteAsync();
            while (await stream.ResponseStream.MoveNext(CancellationToken.None))
            {
            }
        }

        // Still there for bob: his client shows it (as undecryptable, it is no ratchet message).
        var inbox = await ParleyExecutable.RunOkAsync(bob, "inbox", "--json");
        Assert.Contains("\"from\":\"mallory\"", inbox.Stdout, StringComparison.Ordinal);
        Assert.Contains("\"status\":\"undecryptable\"", inbox.Stdout, StringComparison.Ordinal);
    }

    /// <summary>
    /// Refused either way: as the taken name when it folds to it, or as invalid (the name syntax is
    /// a-z, 0-9, '.', '_', '-' after folding). parley runs with invariant globalization, where
    /// NFKC leaves non-ASCII letters as they are, so fullwidth Latin is refused as invalid.
    /// </summary>
    [Theory]
    [InlineData("ＡＬＩＣＥ")] // fullwidth Latin
    [InlineData("\u212Aate")] // KELVIN SIGN, whose lower case is "k"
    [InlineData("ALICE")]
    [InlineData(" Alice ")]
    [InlineData("аlice")] // Cyrillic а
    [InlineData("alice\u200B")] // a zero-width space after the taken name
    [InlineData("ali\u0301ce")] // a combining accent
    public async Task LookAlikeOfATakenNameIsRefused(string lookAlike)
    {
        await using (await RegisterAsync("alice"))
        {
        }

        await using (await RegisterAsync("kate"))
        {
        }

        using var ca = new PinnedCertificateAuthority(caPem);
        await using var connection = ServerConnection.Open(new Uri(server.Url), ca);
        using var identity = IdentityKeyPair.Generate();
        var refused = await Assert.ThrowsAsync<RpcException>(() => connection.RegisterAsync(lookAlike, identity, null, CancellationToken.None));
        Assert.True(refused.StatusCode is StatusCode.AlreadyExists or StatusCode.InvalidArgument, $"{refused.StatusCode}: {refused.Status.Detail}");
    }

    [Fact]
    public async Task DrainedOneTimePreKeysStillLetOthersStartASessionAndAreToppedUp()
    {
        var bob = await work.RegisterAsync(server, "bob");
        var alice = await work.RegisterAsync(server, "alice");
        await using var mallory = await RegisterAsync("mallory");

        // Mallory fetches bob's bundle until the directory has no one-time prekey left.
        var fetched = 0;
        while (true)
        {
            var bundle = (await mallory.Directory.FetchBundleAsync(new FetchBundleRequest { Name = "bob" })).Bundle;
            if (bundle.OneTimePreKey is null)
            {
                break;
            }

            Assert.True(++fetched <= Client.Messenger.OneTimePreKeyBatch, "the directory handed out more one-time prekeys than bob uploaded");
        }

        Assert.Equal(Client.Messenger.OneTimePreKeyBatch, fetched);

        // The last-resort keys still make a session; bob reads the message, and his client uploads a fresh batch.
        await ParleyExecutable.RunOkAsync(alice, "send", "bob", "after the drain");
        Assert.Contains("after the drain", (await ParleyExecutable.RunOkAsync(bob, "inbox")).Stdout, StringComparison.Ordinal);
        var topUp = (await mallory.Directory.FetchBundleAsync(new FetchBundleRequest { Name = "bob" })).Bundle;
        Assert.NotNull(topUp.OneTimePreKey);
    }

    private async Task<ServerConnection> RegisterAsync(string name)
    {
        var identity = IdentityKeyPair.Generate();
        var ca = new PinnedCertificateAuthority(caPem);
        var connection = ServerConnection.Open(new Uri(server.Url), ca);
        await connection.RegisterAsync(name, identity, null, CancellationToken.None);
        await connection.AuthenticateAsync(name, identity, CancellationToken.None);
        return connection;
    }
}
