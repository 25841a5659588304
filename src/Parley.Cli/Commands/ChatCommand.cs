using System.CommandLine;

namespace Parley.Cli.Commands;

/// <summary>`parley chat NAME`: interactive line mode; incoming messages appear while typing.</summary>
internal static class ChatCommand
{
    internal static Command Create()
    {
        var name = new Argument<string>("name");
        var command = new Command("chat", "Chat with a contact line by line; /quit leaves.") { name };
        command.SetAction((result, cancellationToken) => Session.RunAsync(result.GetValue(GlobalOptions.Profile), async (messenger, ct) =>
        {
            var peer = result.GetValue(name)!.ToLowerInvariant();
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
            var gate = new SemaphoreSlim(1, 1);
            Console.WriteLine($"chatting with {peer}; /quit to leave");

            // The receiver and the sender share one profile; the gate keeps their writes in order.
            var receiving = Task.Run(async () =>
            {
                while (!stop.IsCancellationRequested)
                {
                    try
                    {
                        await gate.WaitAsync(stop.Token).ConfigureAwait(false);
                        try
                        {
                            await messenger.ReceiveAsync(
                                m => MessageOutput.Write(m, json: false),
                                TimeSpan.FromMilliseconds(500),
                                follow: false,
                                stop.Token).ConfigureAwait(false);
                        }
                        finally
                        {
                            gate.Release();
                        }

                        messenger.Profile.TakeUnshown();
                        await Task.Delay(250, stop.Token).ConfigureAwait(false);
                    }
                    catch (OperationCanceledException)
                    {
                        return;
                    }
                }
            }, CancellationToken.None);

            try
            {
                while (await Console.In.ReadLineAsync(ct).ConfigureAwait(false) is { } line)
                {
                    if (line.Trim() == "/quit")
                    {
                        break;
                    }

                    if (line.Length == 0)
                    {
                        continue;
                    }

                    await gate.WaitAsync(ct).ConfigureAwait(false);
                    try
                    {
                        await messenger.SendAsync(peer, line, ct).ConfigureAwait(false);
                    }
                    finally
                    {
                        gate.Release();
                    }
                }
            }
            finally
            {
                await stop.CancelAsync().ConfigureAwait(false);
                await receiving.ConfigureAwait(false);
                gate.Dispose();
            }

            return 0;
        }, cancellationToken));
        return command;
    }
}
