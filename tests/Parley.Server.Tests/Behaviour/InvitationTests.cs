using FsCheck;
using FsCheck.Xunit;
using Parley.Client;
using Parley.Protocol.Pake;

namespace Parley.Server.Tests.Behaviour;

/// <summary>
/// The client's invite-code flows (Messenger.InviteAsync / JoinAsync and CodeChat) against the
/// real server: real profiles, real certificates, real SPAKE2 and identity exchange.
/// </summary>
public sealed class InvitationTests : IAsyncLifetime
{
    private const string Mismatch = "code mismatch — nothing was exchanged";
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);
    private readonly string profiles = Path.Combine(Path.GetTempPath(), "parley-invite-" + Guid.NewGuid().ToString("N"));
    private TestServer server = null!;
    private int users;

    public async Task InitializeAsync() => server = await TestServer.StartAsync(o => new Hosting.ServerOptions
    {
        DataDirectory = o.DataDirectory,
        Listen = o.Listen,
        RendezvousPerMinutePerUser = 1000,
    });

    public async Task DisposeAsync()
    {
        await server.DisposeAsync();
        if (System.IO.Directory.Exists(profiles))
        {
            System.IO.Directory.Delete(profiles, recursive: true);
        }
    }

    /// <summary>However the joiner types the same code, both sides end verified with each other's real identity and the same safety number.</summary>
    [Property(MaxTest = 3)]
    public async Task SameCodeMakesBothSidesVerifiedContacts(bool shout, bool spaces, byte leadingZeros)
    {
        using var timeout = new CancellationTokenSource(Patience);
        await using var alice = await NewUserAsync("alice");
        await using var bob = await NewUserAsync("bob");
        await using var invitation = await alice.InviteAsync(timeout.Token);
        var code = invitation.Code;
        var separator = spaces ? "  " : "-";
        var typed = $" {new string('0', Math.Min(leadingZeros % 3, 6 - code.Nameplate.ToString(System.Globalization.CultureInfo.InvariantCulture).Length))}{code.Nameplate}{separator}{code.FirstWord}{separator}{code.SecondWord} ";
        typed = shout ? typed.ToUpperInvariant() : typed;

        var inviting = invitation.CompleteAsync(timeout.Token);
        var joined = await bob.JoinAsync(typed, timeout.Token);
        var invited = await inviting;

        Assert.Equal(alice.UserName, joined.Name);
        Assert.Equal(bob.UserName, invited.Name);
        Assert.Equal(joined.SafetyNumber, invited.SafetyNumber);
        Assert.Equal(bob.Profile.Identity.PublicKey, alice.Profile.GetPinnedIdentity(bob.UserName));
        Assert.Equal(alice.Profile.Identity.PublicKey, bob.Profile.GetPinnedIdentity(alice.UserName));
        Assert.True(alice.Profile.ListContacts().Single().Verified);
        Assert.True(bob.Profile.ListContacts().Single().Verified);
        Assert.Equal(alice.SafetyNumberWith(bob.UserName), invited.SafetyNumber);
    }

    /// <summary>Any other words on the joiner's side: both sides fail with the one mismatch line and neither stores a contact.</summary>
    [Property(MaxTest = 3)]
    public async Task DifferentCodeIsAMismatchOnBothSidesAndStoresNothing(bool keepFirstWord)
    {
        using var timeout = new CancellationTokenSource(Patience);
        await using var alice = await NewUserAsync("alice");
        await using var bob = await NewUserAsync("bob");
        await using var invitation = await alice.InviteAsync(timeout.Token);
        var wrong = OtherCode(invitation.Code, keepFirstWord);

        var inviting = invitation.CompleteAsync(timeout.Token);
        var joinError = await Assert.ThrowsAsync<ClientException>(() => bob.JoinAsync(wrong.ToString(), timeout.Token));
        var inviteError = await Assert.ThrowsAsync<ClientException>(() => inviting);

        Assert.Equal((ClientErrorKind.CodeMismatch, Mismatch), (joinError.Kind, joinError.Message));
        Assert.Equal((ClientErrorKind.CodeMismatch, Mismatch), (inviteError.Kind, inviteError.Message));
        Assert.Empty(alice.Profile.ListContacts());
        Assert.Empty(bob.Profile.ListContacts());

        // Burnt: the right code does not work any more.
        var retry = await Assert.ThrowsAsync<ClientException>(() => bob.JoinAsync(invitation.Code.ToString(), timeout.Token));
        Assert.Equal(ClientErrorKind.CodeTaken, retry.Kind);
    }

    [Fact]
    public async Task UnknownNameplateHasItsOwnError()
    {
        await using var bob = await NewUserAsync("bob");
        var error = await Assert.ThrowsAsync<ClientException>(() => bob.JoinAsync("424242-tiger-velvet", CancellationToken.None));
        Assert.Equal(ClientErrorKind.CodeUnknown, error.Kind);
    }

    [Fact]
    public async Task MalformedCodeIsRefusedBeforeTheServerIsAsked()
    {
        await using var bob = await NewUserAsync("bob");
        var error = await Assert.ThrowsAsync<Protocol.ParleyProtocolException>(() => bob.JoinAsync("tiger-velvet", CancellationToken.None));
        Assert.Equal(Protocol.ProtocolErrorKind.Malformed, error.Kind);
    }

    [Fact]
    public async Task CodeChatCarriesLinesBothWaysAndStoresNoContact()
    {
        using var timeout = new CancellationTokenSource(Patience);
        await using var alice = await NewUserAsync("alice");
        await using var bob = await NewUserAsync("bob");
        await using var aliceChat = await alice.StartCodeChatAsync(timeout.Token);
        await using var bobChat = await bob.JoinCodeChatAsync(aliceChat.Code.ToString(), timeout.Token);

        var connecting = aliceChat.ConnectAsync(timeout.Token);
        var bobSees = await bobChat.ConnectAsync(timeout.Token);
        var aliceSees = await connecting;
        Assert.Equal(alice.UserName, bobSees.Name);
        Assert.Equal(bob.UserName, aliceSees.Name);
        Assert.Equal(aliceSees.SafetyNumber, bobSees.SafetyNumber);

        await bobChat.SendAsync("hello alice", timeout.Token);
        Assert.Equal("hello alice", await aliceChat.ReceiveAsync(timeout.Token));
        await aliceChat.SendAsync("hello bob", timeout.Token);
        await aliceChat.SendAsync("and again", timeout.Token);
        Assert.Equal("hello bob", await bobChat.ReceiveAsync(timeout.Token));
        Assert.Equal("and again", await bobChat.ReceiveAsync(timeout.Token));

        await aliceChat.CloseAsync();
        Assert.Null(await bobChat.ReceiveAsync(timeout.Token));
        Assert.Null(await aliceChat.ReceiveAsync(timeout.Token));
        Assert.Empty(alice.Profile.ListContacts());
        Assert.Empty(bob.Profile.ListContacts());
    }

    [Fact]
    public async Task CodeChatWithAWrongCodeIsAMismatchOnBothSides()
    {
        using var timeout = new CancellationTokenSource(Patience);
        await using var alice = await NewUserAsync("alice");
        await using var bob = await NewUserAsync("bob");
        await using var aliceChat = await alice.StartCodeChatAsync(timeout.Token);
        await using var bobChat = await bob.JoinCodeChatAsync(OtherCode(aliceChat.Code, keepFirstWord: false).ToString(), timeout.Token);

        var connecting = aliceChat.ConnectAsync(timeout.Token);
        var bobError = await Assert.ThrowsAsync<ClientException>(() => bobChat.ConnectAsync(timeout.Token));
        var aliceError = await Assert.ThrowsAsync<ClientException>(() => connecting);
        Assert.Equal(ClientErrorKind.CodeMismatch, bobError.Kind);
        Assert.Equal(ClientErrorKind.CodeMismatch, aliceError.Kind);
    }

    private static InviteCode OtherCode(InviteCode code, bool keepFirstWord)
    {
        while (true)
        {
            var other = InviteCode.Generate(code.Nameplate);
            var candidate = InviteCode.Parse(keepFirstWord ? $"{code.Nameplate}-{code.FirstWord}-{other.SecondWord}" : $"{code.Nameplate}-{other.FirstWord}-{code.SecondWord}");
            if (!candidate.Equals(code))
            {
                return candidate;
            }
        }
    }

    private Task<Messenger> NewUserAsync(string prefix)
    {
        var name = $"{prefix}{Interlocked.Increment(ref users)}";
        return Messenger.RegisterAsync(Path.Combine(profiles, name), "pw", name, server.Address, server.CaPem, invite: null, CancellationToken.None);
    }
}
