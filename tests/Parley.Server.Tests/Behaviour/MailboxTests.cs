using Google.Protobuf;
using Grpc.Core;
using Microsoft.Data.Sqlite;
using Parley.Api;
using Parley.Server.Storage;

namespace Parley.Server.Tests.Behaviour;

/// <summary>Store-and-forward through the real server on SQLite.</summary>
public sealed class MailboxTests : MailboxBehaviour
{
    private protected override Task<TestServer> StartServerAsync() => TestServer.StartAsync();

    /// <summary>
    /// SQLite commits every write in queue order, so a connected recipient is handed a message
    /// while its commit is under way; its sender is still answered only after the commit.
    /// </summary>
    [Fact]
    public async Task ConnectedRecipientIsHandedAMessageWhileItsCommitIsHeldUp()
    {
        await using var alice = await Server.RegisterAsync("alice");
        await using var bob = await Server.RegisterAsync("bob");
        using var stream = bob.Connection.Mailbox.Receive();
        await ExpectCaughtUpAsync(stream);

        // Tried up to three times: a message offered in the instant before the stream went live is
        // read from the store after its commit instead, and the next one is handed over.
        var handedOver = false;
        for (var attempt = 0; attempt < 3 && !handedOver; attempt++)
        {
            var id = Guid.NewGuid().ToByteArray();
            Task<SendResponse> send;
            Task<bool> next;
            await using (var holder = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = Path.Combine(Server.Options.DataDirectory, ServerStores.SqliteFileName), Pooling = false }.ToString()))
            {
                // Another writer holds the database's write lock: nothing the server writes can commit.
                await holder.OpenAsync();
                await using (var begin = holder.CreateCommand())
                {
                    begin.CommandText = "BEGIN IMMEDIATE";
                    await begin.ExecuteNonQueryAsync();
                }

                send = alice.SendAsync("bob", [7], id);
                next = stream.ResponseStream.MoveNext(CancellationToken.None);
                handedOver = await Task.WhenAny(next, Task.Delay(TimeSpan.FromSeconds(3))) == next;
                Assert.False(send.IsCompleted, "the sender was answered before its message was committed");
            }

            Assert.False((await send).Duplicate);
            Assert.True(await next);
            Assert.Equal(id, stream.ResponseStream.Current.Envelope.MessageId.ToByteArray());
            await stream.RequestStream.WriteAsync(new ReceiveRequest { Ack = { ByteString.CopyFrom(id) } });
        }

        Assert.True(handedOver, "the connected recipient got the message only after its commit");
        // Each ack was committed after the message it deletes, whichever came first on the wire.
        await WaitForQueueAsync(alice, "bob", 0);
    }
}

/// <summary>The same behaviour with PostgreSQL storage.</summary>
[Collection(Infrastructure.SharedStorage.Name)]
public sealed class PostgresMailboxTests(Infrastructure.StorageFixture storage) : MailboxBehaviour
{
    private protected override async Task<TestServer> StartServerAsync()
    {
        var cluster = await storage.PostgresAsync();
        return await TestServer.StartAsync(postgres: await cluster.CreateDatabaseAsync());
    }
}

/// <summary>
/// Store-and-forward as a client sees it: durable before the ack, delivered until acknowledged,
/// stored once per id, and refused with a clear status when the input is bad.
/// </summary>
public abstract class MailboxBehaviour : IAsyncLifetime
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);

    private TestServer server = null!;

    private protected TestServer Server => server;

    public async Task InitializeAsync() => server = await StartServerAsync();

    public async Task DisposeAsync() => await server.DisposeAsync();

    private protected abstract Task<TestServer> StartServerAsync();

    [Fact]
    public async Task MessageToAnOfflineUserIsDeliveredWhenTheyConnect()
    {
        await using var alice = await server.RegisterAsync("alice");
        await using var bob = await server.RegisterAsync("bob");
        var id = Guid.NewGuid().ToByteArray();
        await alice.SendAsync("bob", [1, 2, 3], id);

        using var stream = bob.Connection.Mailbox.Receive();
        var envelope = await NextAsync(stream);

        Assert.Equal(id, envelope.MessageId.ToByteArray());
        Assert.Equal("alice", envelope.Sender);
        Assert.Equal(new byte[] { 1, 2, 3 }, envelope.Body.ToByteArray());
    }

    [Fact]
    public async Task RetriedSendIsStoredOnce()
    {
        await using var alice = await server.RegisterAsync("alice");
        await using var bob = await server.RegisterAsync("bob");
        var id = Guid.NewGuid().ToByteArray();

        var first = await alice.SendAsync("bob", [7], id);
        var retry = await alice.SendAsync("bob", [7], id);

        Assert.False(first.Duplicate);
        Assert.True(retry.Duplicate);
        var users = await alice.Connection.Admin.ListUsersAsync(new ListUsersRequest(), new Metadata { { "x-parley-admin-token", server.AdminToken } });
        Assert.Equal(1u, users.Users.Single(u => u.Name == "bob").QueuedMessages);
    }

    [Fact]
    public async Task UnacknowledgedMessagesAreRedeliveredAndAcknowledgedOnesAreNot()
    {
        await using var alice = await server.RegisterAsync("alice");
        await using var bob = await server.RegisterAsync("bob");
        var first = Guid.NewGuid().ToByteArray();
        var second = Guid.NewGuid().ToByteArray();
        await alice.SendAsync("bob", [1], first);
        await alice.SendAsync("bob", [2], second);

        using (var stream = bob.Connection.Mailbox.Receive())
        {
            Assert.Equal(first, (await NextAsync(stream)).MessageId.ToByteArray());
            Assert.Equal(second, (await NextAsync(stream)).MessageId.ToByteArray());
            await stream.RequestStream.WriteAsync(new ReceiveRequest { Ack = { ByteString.CopyFrom(first) } });
            await WaitForQueueAsync(bob, "bob", expected: 1);
        }

        using var again = bob.Connection.Mailbox.Receive();
        Assert.Equal(second, (await NextAsync(again)).MessageId.ToByteArray());
    }

    [Fact]
    public async Task RecipientWhoseConnectionDiesMidStreamGetsOnlyTheUnacknowledgedAgain()
    {
        await using var alice = await server.RegisterAsync("alice");
        using var bobKeys = await RegisterAndLeaveAsync("bob");
        var first = Guid.NewGuid().ToByteArray();
        var second = Guid.NewGuid().ToByteArray();
        await alice.SendAsync("bob", [1], first);
        await alice.SendAsync("bob", [2], second);

        // A connection of its own, torn down without ending the call: the client vanishes.
        var doomed = server.Connect();
        await doomed.AuthenticateAsync("bob", bobKeys, CancellationToken.None);
        var stream = doomed.Mailbox.Receive();
        Assert.Equal(first, (await NextAsync(stream)).MessageId.ToByteArray());
        Assert.Equal(second, (await NextAsync(stream)).MessageId.ToByteArray());
        await stream.RequestStream.WriteAsync(new ReceiveRequest { Ack = { ByteString.CopyFrom(first) } });
        await WaitForQueueAsync(alice, "bob", expected: 1);
        await doomed.DisposeAsync();

        await using var again = server.Connect();
        await again.AuthenticateAsync("bob", bobKeys, CancellationToken.None);
        using var redelivery = again.Mailbox.Receive();
        Assert.Equal(second, (await NextAsync(redelivery)).MessageId.ToByteArray());
        await redelivery.RequestStream.WriteAsync(new ReceiveRequest { Ack = { ByteString.CopyFrom(second) } });
        await WaitForQueueAsync(alice, "bob", expected: 0);
    }

    [Fact]
    public async Task ConnectedRecipientGetsNewMessagesPushed()
    {
        await using var alice = await server.RegisterAsync("alice");
        await using var bob = await server.RegisterAsync("bob");
        using var stream = bob.Connection.Mailbox.Receive();
        await Task.Delay(200);

        await alice.SendAsync("bob", [42]);

        Assert.Equal(new byte[] { 42 }, (await NextAsync(stream)).Body.ToByteArray());
    }

    [Fact]
    public async Task StoredMessagesSurviveAServerRestart()
    {
        var id = Guid.NewGuid().ToByteArray();
        using var bobKeys = await RegisterAndLeaveAsync("bob");
        await using (var alice = await server.RegisterAsync("alice"))
        {
            await alice.SendAsync("bob", [9, 9], id);
        }

        await server.RestartAsync();

        await using var connection = server.Connect();
        await connection.AuthenticateAsync("bob", bobKeys, CancellationToken.None);
        using var stream = connection.Mailbox.Receive();
        var envelope = await NextAsync(stream);
        Assert.Equal(id, envelope.MessageId.ToByteArray());
        Assert.Equal(new byte[] { 9, 9 }, envelope.Body.ToByteArray());
    }

    [Fact]
    public async Task StreamSaysWhenTheStoredBacklogHasBeenPushed()
    {
        await using var alice = await server.RegisterAsync("alice");
        await using var bob = await server.RegisterAsync("bob");
        await alice.SendAsync("bob", [1]);
        await alice.SendAsync("bob", [2]);

        using var stream = bob.Connection.Mailbox.Receive();
        using var timeout = new CancellationTokenSource(Patience);
        var bodies = new List<byte>();
        while (await stream.ResponseStream.MoveNext(timeout.Token) && !stream.ResponseStream.Current.CaughtUp)
        {
            bodies.Add(stream.ResponseStream.Current.Envelope.Body[0]);
        }

        Assert.Equal(new byte[] { 1, 2 }, bodies);
        Assert.Null(stream.ResponseStream.Current.Envelope);
    }

    [Fact]
    public async Task SendToUnknownUserIsNotFound()
    {
        await using var alice = await server.RegisterAsync("alice");
        var error = await Assert.ThrowsAsync<RpcException>(() => alice.SendAsync("nobody", [1]));
        Assert.Equal(StatusCode.NotFound, error.StatusCode);
    }

    [Fact]
    public async Task OversizedMessageIsRefusedAndTheServerKeepsServing()
    {
        await using var alice = await server.RegisterAsync("alice");
        await using var bob = await server.RegisterAsync("bob");

        var error = await Assert.ThrowsAsync<RpcException>(() => alice.SendAsync("bob", new byte[server.Options.MaxMessageBytes + 1]));
        Assert.Equal(StatusCode.ResourceExhausted, error.StatusCode);

        // Far over the limit gRPC refuses the frame itself; the client may see that refusal, or the
        // reset of the stream it was still writing to. Either way nothing is stored.
        var huge = await Assert.ThrowsAsync<RpcException>(() => alice.SendAsync("bob", new byte[server.Options.MaxMessageBytes + 100_000]));
        Assert.Contains(huge.StatusCode, new[] { StatusCode.ResourceExhausted, StatusCode.Unknown, StatusCode.Internal, StatusCode.Cancelled });

        Assert.False((await alice.SendAsync("bob", [1])).Duplicate);
        var users = await alice.Connection.Admin.ListUsersAsync(new ListUsersRequest(), new Metadata { { "x-parley-admin-token", server.AdminToken } });
        Assert.Equal(1u, users.Users.Single(u => u.Name == "bob").QueuedMessages);
    }

    [Fact]
    public async Task MessageIdMustBeSixteenBytes()
    {
        await using var alice = await server.RegisterAsync("alice");
        await using var bob = await server.RegisterAsync("bob");
        var error = await Assert.ThrowsAsync<RpcException>(() => alice.SendAsync("bob", [1], new byte[5]));
        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
    }

    [Fact]
    public async Task SendStreamAnswersEveryMessageOnceByIdAndTheyArriveInOrder()
    {
        await using var alice = await server.RegisterAsync("alice");
        await using var bob = await server.RegisterAsync("bob");
        var ids = Enumerable.Range(0, 300).Select(_ => Guid.NewGuid().ToByteArray()).ToList();

        using var sends = alice.Connection.Mailbox.SendStream();
        // More than the server's window, so that it must stop reading and resume.
        foreach (var (id, i) in ids.Select((id, i) => (id, i)))
        {
            await sends.RequestStream.WriteAsync(new SendRequest { MessageId = ByteString.CopyFrom(id), Recipient = "bob", Body = ByteString.CopyFrom(BitConverter.GetBytes(i)) });
        }

        await sends.RequestStream.CompleteAsync();
        var results = await sends.ResponseStream.ReadAllAsync().ToListAsync();

        Assert.Equal(ids.Count, results.Count);
        Assert.All(results, r => Assert.Equal(0, r.StatusCode));
        Assert.All(results, r => Assert.False(r.Duplicate));
        Assert.Equal(ids.Select(Convert.ToHexString).Order(), results.Select(r => Convert.ToHexString(r.MessageId.ToByteArray())).Order());

        using var stream = bob.Connection.Mailbox.Receive();
        for (var i = 0; i < ids.Count; i++)
        {
            var envelope = await NextAsync(stream);
            Assert.Equal(ids[i], envelope.MessageId.ToByteArray());
            Assert.Equal(i, BitConverter.ToInt32(envelope.Body.Span));
            await stream.RequestStream.WriteAsync(new ReceiveRequest { Ack = { envelope.MessageId } });
        }
    }

    [Fact]
    public async Task MessagesSentToAConnectedRecipientWhoAcksInBurstsArriveOnceAndInOrder()
    {
        await using var alice = await server.RegisterAsync("alice");
        await using var bob = await server.RegisterAsync("bob");
        using var stream = bob.Connection.Mailbox.Receive();
        await ExpectCaughtUpAsync(stream);

        // Alice sends more than the server may have in flight to Bob, and Bob acks late, so the
        // server runs out of room for him: what it could not push at once it must read, in order,
        // before anything Alice sends once Bob has acked the first part.
        // (Within the default burst of the send rate limit: nothing is refused.)
        const int Count = 390, FirstPart = 300, AckEvery = 130;
        var firstAck = new TaskCompletionSource();
        using var sends = alice.Connection.Mailbox.SendStream();
        var sending = Task.Run(async () =>
        {
            for (var i = 0; i < Count; i++)
            {
                if (i == FirstPart)
                {
                    await firstAck.Task;
                }

                await sends.RequestStream.WriteAsync(new SendRequest { MessageId = ByteString.CopyFrom(Guid.NewGuid().ToByteArray()), Recipient = "bob", Body = ByteString.CopyFrom(BitConverter.GetBytes(i)) });
            }

            await sends.RequestStream.CompleteAsync();
            return await sends.ResponseStream.ReadAllAsync().CountAsync(r => r.StatusCode == 0);
        });

        var unacknowledged = new List<ByteString>();
        for (var i = 0; i < Count; i++)
        {
            var envelope = await NextAsync(stream);
            Assert.Equal(i, BitConverter.ToInt32(envelope.Body.Span));
            unacknowledged.Add(envelope.MessageId);
            if (unacknowledged.Count == AckEvery || i == Count - 1)
            {
                await Task.Delay(200);
                await stream.RequestStream.WriteAsync(new ReceiveRequest { Ack = { unacknowledged } });
                unacknowledged.Clear();
                firstAck.TrySetResult();
            }
        }

        Assert.Equal(Count, await sending);
        await WaitForQueueAsync(alice, "bob", 0);
    }

    [Fact]
    public async Task SendStreamAnswersARefusalInItsResultAndGoesOn()
    {
        await using var alice = await server.RegisterAsync("alice");
        await using var bob = await server.RegisterAsync("bob");
        var good = Guid.NewGuid().ToByteArray();
        var tooBig = Guid.NewGuid().ToByteArray();
        var unknown = Guid.NewGuid().ToByteArray();
        var last = Guid.NewGuid().ToByteArray();
        await alice.SendAsync("bob", [1], good);

        using var sends = alice.Connection.Mailbox.SendStream();
        var requests = new[]
        {
            new SendRequest { MessageId = ByteString.CopyFrom(good), Recipient = "bob", Body = ByteString.CopyFrom([1]) },
            new SendRequest { MessageId = ByteString.CopyFrom(tooBig), Recipient = "bob", Body = ByteString.CopyFrom(new byte[server.Options.MaxMessageBytes + 1]) },
            new SendRequest { MessageId = ByteString.CopyFrom(unknown), Recipient = "nobody", Body = ByteString.CopyFrom([2]) },
            new SendRequest { MessageId = ByteString.CopyFrom(new byte[5]), Recipient = "bob", Body = ByteString.CopyFrom([3]) },
            new SendRequest { MessageId = ByteString.CopyFrom(last), Recipient = "bob", Body = ByteString.CopyFrom([4]) },
        };
        foreach (var request in requests)
        {
            await sends.RequestStream.WriteAsync(request);
        }

        await sends.RequestStream.CompleteAsync();
        var results = (await sends.ResponseStream.ReadAllAsync().ToListAsync()).ToDictionary(r => Convert.ToHexString(r.MessageId.ToByteArray()));

        Assert.Equal(5, results.Count);
        Assert.True(results[Convert.ToHexString(good)].Duplicate);
        Assert.Equal((int)StatusCode.ResourceExhausted, results[Convert.ToHexString(tooBig)].StatusCode);
        Assert.Equal((int)StatusCode.NotFound, results[Convert.ToHexString(unknown)].StatusCode);
        Assert.Contains("nobody", results[Convert.ToHexString(unknown)].Error, StringComparison.Ordinal);
        Assert.Equal((int)StatusCode.InvalidArgument, results[Convert.ToHexString(new byte[5])].StatusCode);
        Assert.Equal(0, results[Convert.ToHexString(last)].StatusCode);
        await WaitForQueueAsync(alice, "bob", 2);
    }

    [Fact]
    public async Task SendStreamNeedsALogin()
    {
        await using var connection = server.Connect();
        using var sends = connection.Mailbox.SendStream();

        // The server may refuse the call before the request is written: then the write throws.
        var error = await Assert.ThrowsAsync<RpcException>(async () =>
        {
            await sends.RequestStream.WriteAsync(new SendRequest { MessageId = ByteString.CopyFrom(Guid.NewGuid().ToByteArray()), Recipient = "bob", Body = ByteString.CopyFrom([1]) });
            await sends.ResponseStream.ReadAllAsync().ToListAsync();
        });
        Assert.Equal(StatusCode.Unauthenticated, error.StatusCode);
    }

    /// <summary>Registers a user, disconnects it, and returns its keys for a later login.</summary>
    private async Task<Protocol.Identity.IdentityKeyPair> RegisterAndLeaveAsync(string name)
    {
        var user = await server.RegisterAsync(name);
        var keys = Protocol.Identity.IdentityKeyPair.Import(user.Identity.Export());
        await user.DisposeAsync();
        return keys;
    }

    /// <summary>The first response of a stream opened on an empty mailbox: the caught-up marker.</summary>
    private protected static async Task ExpectCaughtUpAsync(AsyncDuplexStreamingCall<ReceiveRequest, ReceiveResponse> stream)
    {
        Assert.True(await stream.ResponseStream.MoveNext());
        Assert.True(stream.ResponseStream.Current.CaughtUp);
    }

    private protected static async Task<Envelope> NextAsync(AsyncDuplexStreamingCall<ReceiveRequest, ReceiveResponse> stream)
    {
        using var timeout = new CancellationTokenSource(Patience);
        while (true)
        {
            Assert.True(await stream.ResponseStream.MoveNext(timeout.Token), "the stream ended without an envelope");
            if (stream.ResponseStream.Current.Envelope is { } envelope)
            {
                return envelope;
            }

            Assert.True(stream.ResponseStream.Current.CaughtUp);
        }
    }

    private protected async Task WaitForQueueAsync(TestUser anyone, string user, uint expected)
    {
        var admin = new Metadata { { "x-parley-admin-token", server.AdminToken } };
        var deadline = DateTime.UtcNow + Patience;
        while (true)
        {
            var users = await anyone.Connection.Admin.ListUsersAsync(new ListUsersRequest(), admin);
            if (users.Users.Single(u => u.Name == user).QueuedMessages == expected || DateTime.UtcNow > deadline)
            {
                Assert.Equal(expected, users.Users.Single(u => u.Name == user).QueuedMessages);
                return;
            }

            await Task.Delay(50);
        }
    }
}
