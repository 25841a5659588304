using System.CommandLine;
using Parley.Server.Hosting;

namespace Parley.Cli.Commands;

/// <summary>`parley serve`: runs the server until Ctrl+C or SIGTERM.</summary>
internal static class ServeCommand
{
    internal static Command Create()
    {
        var data = new Option<string?>("--data") { Description = "Data directory (CA, TLS key, SQLite database). Env PARLEY_DATA. Default $XDG_DATA_HOME/parley/server." };
        var listen = new Option<string?>("--listen") { Description = "HTTPS address to listen on. Env PARLEY_LISTEN. Default https://127.0.0.1:7443." };
        var storage = new Option<string?>("--storage") { Description = "sqlite (default) or postgres. Env PARLEY_STORAGE." };
        storage.AcceptOnlyFromAmong("sqlite", "postgres");
        var postgres = new Option<string?>("--postgres") { Description = "Npgsql connection string for --storage postgres. Env PARLEY_POSTGRES." };
        var hosts = new Option<string[]>("--host") { Description = "Host name or IP for the TLS certificate; repeat for several. Env PARLEY_HOSTS (comma-separated). Default localhost, 127.0.0.1.", AllowMultipleArgumentsPerToken = true };
        var registration = new Option<string?>("--registration") { Description = "open (default) or invite. Env PARLEY_REGISTRATION." };
        registration.AcceptOnlyFromAmong("open", "invite");
        var redis = new Option<string?>("--redis") { Description = "Redis HOST:PORT shared by several nodes (wake-ups, takeovers, revocations, rate limits). Env PARLEY_REDIS. Default none (one node)." };
        var nodeId = new Option<string?>("--node-id") { Description = "This node's name in logs, /healthz and /metrics. Env PARLEY_NODE_ID. Default HOSTNAME-PID." };
        var config = new Option<string?>("--config") { Description = "Optional JSON settings file (lowest precedence). Env PARLEY_CONFIG." };

        var command = new Command("serve", "Run a Parley server (CA, prekey directory and mailbox) on embedded SQLite or PostgreSQL.")
        {
            data, listen, storage, postgres, hosts, registration, redis, nodeId, config,
        };
        command.SetAction(async (result, cancellationToken) =>
        {
            ServerOptions options;
            try
            {
                options = ServerSettings.Resolve(new ServerSettings.Flags(
                    result.GetValue(data),
                    result.GetValue(listen),
                    result.GetValue(storage),
                    result.GetValue(postgres),
                    result.GetValue(hosts),
                    result.GetValue(registration),
                    result.GetValue(config),
                    result.GetValue(redis),
                    result.GetValue(nodeId)));
            }
            catch (ServerStartException e)
            {
                return Output.Fail(e.Message);
            }

            return await RunAsync(options, cancellationToken).ConfigureAwait(false);
        });
        return command;
    }

    private static async Task<int> RunAsync(ServerOptions options, CancellationToken cancellationToken)
    {
        ParleyServer server;
        try
        {
            server = await ParleyServer.CreateAsync(options, cancellationToken).ConfigureAwait(false);
        }
        catch (ServerStartException e)
        {
            return Output.Fail(e.Message);
        }

        await using (server.ConfigureAwait(false))
        {
            try
            {
                await server.StartAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (IOException e)
            {
                return Output.Fail($"cannot listen on {options.Listen}: {e.Message}");
            }

            Console.WriteLine($"parley server listening on {options.Listen}");
            Console.WriteLine($"  data      {Path.GetFullPath(options.DataDirectory)}");
            Console.WriteLine($"  storage   {options.Storage.ToString().ToLowerInvariant()}");
            if (options.Redis is not null)
            {
                Console.WriteLine($"  node      {options.NodeId}  (redis {Parley.Server.Cluster.ClusterLink.Endpoints(options.Redis)})");
            }

            Console.WriteLine($"  CA        {server.CaFingerprint}{(server.CreatedAuthority ? "  (created now)" : string.Empty)}");
            Console.WriteLine($"  register  parley register NAME --server {options.Listen.ToString().TrimEnd('/')} --ca-fingerprint {server.CaFingerprint}");
            await Console.Out.FlushAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                await server.WaitForShutdownAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                // Ctrl+C: fall through to the graceful stop below.
            }

            await server.StopAsync(CancellationToken.None).ConfigureAwait(false);
        }

        return 0;
    }
}
