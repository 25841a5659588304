using System.CommandLine;
using Parley.Client;
using Parley.Protocol;
using Parley.Protocol.Identity;

namespace Parley.Cli.Commands;

/// <summary>
/// `parley chat NAME`: interactive line mode with a contact; incoming messages appear while typing.
/// `parley chat --new-code` / `parley chat --code CODE`: a two-person chat over an invite code,
/// without contacts, relayed live and stored nowhere (docs/protocol.md §12.5).
/// </summary>
internal static class ChatCommand
{
    internal static Command Create()
    {
        var name = new Argument<string?>("name") { Arity = ArgumentArity.ZeroOrOne, Description = "The contact to chat with (not with --new-code or --code)." };
        var newCode = new Option<bool>("--new-code") { Description = "Make a code for a two-person chat without contacts, and wait for the other person." };
        var code = new Option<string?>("--code") { Description = "Join a two-person chat with the code the other person read out." };
        var timeout = new Option<string?>("--timeout") { Description = "With --new-code: how long to wait for the other person (90s, 5m, 1h). Default 10m." };
        var command = new Command("chat", "Chat line by line with a contact, or with whoever holds a code; /quit or end of input leaves.") { name, newCode, code, timeout };
        command.SetAction((result, cancellationToken) => Session.RunAsync(result.GetValue(GlobalOptions.Profile), async (messenger, ct) =>
        {
            var modes = (result.GetValue(name) is null ? 0 : 1) + (result.GetValue(newCode) ? 1 : 0) + (result.GetValue(code) is null ? 0 : 1);
            if (modes != 1)
            {
                throw new CliException("give exactly one of: a contact's name, --new-code, or --code CODE");
            }

            if (result.GetValue(name) is null)
            {
                return await CodeChatAsync(messenger, result.GetValue(code), InviteCommand.ParseTimeout(result.GetValue(timeout)), ct).ConfigureAwait(false);
            }

            var peer = result.GetValue(name)!.ToLowerInvariant();
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
            using var gate = new SemaphoreSlim(1, 1);
            Console.WriteLine($"chatting with {peer}; /quit to leave");

            var receiving = PollAsync(messenger, gate, stop.Token);
            var typing = TypeAsync(
                async (line, token) =>
                {
                    await gate.WaitAsync(token).ConfigureAwait(false);
                    try
                    {
                        await messenger.SendAsync(peer, line, token).ConfigureAwait(false);
                    }
                    finally
                    {
                        gate.Release();
                    }
                },
                stop.Token);
            try
            {
                // Whichever ends first ends the chat: a receiver that failed (the server is gone)
                // is reported at once, not when the user next presses Enter.
                await (await Task.WhenAny(receiving, typing).ConfigureAwait(false)).ConfigureAwait(false);
            }
            finally
            {
                await stop.CancelAsync().ConfigureAwait(false);
                // Not the typing side: it may sit in a console read that no token reaches.
                await receiving.ConfigureAwait(false);
            }

            return 0;
        }, cancellationToken));
        return command;
    }

    /// <summary>
    /// Shows what arrives from anyone, reading the mailbox about every 750 ms. The receiver and the
    /// sender share one profile; <paramref name="gate"/> keeps their writes in order. Returns when
    /// the chat ends; throws what makes it end early (the server cannot be reached).
    /// </summary>
    private static async Task PollAsync(Messenger messenger, SemaphoreSlim gate, CancellationToken cancellationToken)
    {
        await Task.Yield();
        try
        {
            while (true)
            {
                await gate.WaitAsync(cancellationToken).ConfigureAwait(false);
                try
                {
                    await messenger.ReceiveAsync(m => MessageOutput.Write(m, json: false), TimeSpan.FromMilliseconds(500), follow: false, cancellationToken).ConfigureAwait(false);
                }
                finally
                {
                    gate.Release();
                }

                messenger.Profile.TakeUnshown();
                await Task.Delay(250, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The chat ended.
        }
    }

    private static async Task<int> CodeChatAsync(Messenger messenger, string? joinCode, TimeSpan timeout, CancellationToken cancellationToken)
    {
        await using var chat = joinCode is null
            ? await messenger.StartCodeChatAsync(cancellationToken).ConfigureAwait(false)
            : await messenger.JoinCodeChatAsync(joinCode, cancellationToken).ConfigureAwait(false);
        VerifiedPeer peer;
        if (joinCode is null)
        {
            Console.WriteLine($"code: {chat.Code}");
            Console.WriteLine($"the other person runs: parley chat --code {chat.Code}");
            await Console.Out.FlushAsync(cancellationToken).ConfigureAwait(false);
            peer = await InviteCommand.WaitAsync($"waiting for the other person to join (up to {InviteCommand.Describe(timeout)})", timeout, chat.ConnectAsync, cancellationToken).ConfigureAwait(false);
        }
        else
        {
            peer = await chat.ConnectAsync(cancellationToken).ConfigureAwait(false);
        }

        Console.WriteLine($"connected to {peer.Name} (verified by the code; not added to your contacts)");
        Console.WriteLine($"safety number with {peer.Name}:");
        Console.WriteLine($"  {SafetyNumber.Format(peer.SafetyNumber)}");
        Console.WriteLine("type a line and press Enter to send; /quit or end of input leaves");
        await Console.Out.FlushAsync(cancellationToken).ConfigureAwait(false);

        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var receiving = ReceiveAsync(chat, peer.Name, stop.Token);
        var typing = TypeAsync(chat.SendAsync, stop.Token);
        try
        {
            if (await Task.WhenAny(receiving, typing).ConfigureAwait(false) == receiving)
            {
                await receiving.ConfigureAwait(false);
                Console.WriteLine($"{peer.Name} left the chat");
                return 0;
            }

            // This side is done (end of input or /quit): end normally, then let the receiver see
            // the server close the call, so the other side is told before this process exits.
            await typing.ConfigureAwait(false);
            await chat.CloseAsync().ConfigureAwait(false);
            stop.CancelAfter(TimeSpan.FromSeconds(5));
            await receiving.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // Ctrl+C ends the chat as end of input does.
        }
        finally
        {
            await stop.CancelAsync().ConfigureAwait(false);
        }

        return 0;
    }

    /// <summary>Prints what the peer sends until the call ends (the peer left, or this side closed).</summary>
    private static async Task ReceiveAsync(CodeChat chat, string peer, CancellationToken cancellationToken)
    {
        try
        {
            while (await ReceiveLineAsync(chat, peer, cancellationToken).ConfigureAwait(false) is { } line)
            {
                Console.WriteLine($"{peer}: {line}");
                await Console.Out.FlushAsync(cancellationToken).ConfigureAwait(false);
            }
        }
        catch (ClientException e) when (e.Kind == ClientErrorKind.PeerLeft)
        {
            // Ctrl+C or a lost connection on the other side: as good as a goodbye.
        }
    }

    private static async Task<string?> ReceiveLineAsync(CodeChat chat, string peer, CancellationToken cancellationToken)
    {
        while (true)
        {
            try
            {
                return await chat.ReceiveAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (ParleyProtocolException e)
            {
                Console.WriteLine($"!! a message from {peer} was discarded: {e.Message}");
            }
        }
    }

    /// <summary>Hands each typed line to <paramref name="send"/> until /quit or end of input.</summary>
    private static async Task TypeAsync(Func<string, CancellationToken, Task> send, CancellationToken cancellationToken)
    {
        // Console.In reads synchronously even through ReadLineAsync: leave the caller's thread
        // first, or the chat could not notice that the server or the peer is gone until the user
        // pressed Enter (a thread-pool thread waits on the terminal instead).
        await Task.Yield();
        try
        {
            while (await Console.In.ReadLineAsync(cancellationToken).ConfigureAwait(false) is { } line)
            {
                if (line.Trim() == "/quit")
                {
                    return;
                }

                if (line.Length > 0)
                {
                    await send(line, cancellationToken).ConfigureAwait(false);
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The chat ended on the receiving side (the peer left, the server is gone), or Ctrl+C.
        }
    }
}
