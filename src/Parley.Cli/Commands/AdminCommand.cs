using System.CommandLine;
using Grpc.Core;
using Parley.Api;
using Parley.Client.Connection;
using Parley.Server.Hosting;
using Spectre.Console;

namespace Parley.Cli.Commands;

/// <summary>
/// `parley admin users | revoke NAME | invite`: operator commands, authorised by the admin token in
/// the server's data directory (--data) and sent to the server over TLS pinned to the CA in it.
/// </summary>
internal static class AdminCommand
{
    internal static Command Create()
    {
        var data = new Option<string?>("--data") { Description = "The server's data directory (admin token and CA). Env PARLEY_DATA.", Recursive = true };
        var server = new Option<string>("--server") { Description = "The server's address.", DefaultValueFactory = _ => "https://127.0.0.1:7443", Recursive = true };
        var command = new Command("admin", "Server administration (needs the server's data directory).") { data, server };

        var users = new Command("users", "List registered users.");
        users.SetAction((result, cancellationToken) => RunAsync(result.GetValue(data), result.GetValue(server)!, async (admin, headers, ct) =>
        {
            var response = await admin.ListUsersAsync(new ListUsersRequest(), headers, cancellationToken: ct).ConfigureAwait(false);
            var table = new Table().AddColumns("name", "identity", "certificate", "state", "queued");
            foreach (var user in response.Users)
            {
                table.AddRow(
                    Markup.Escape(user.Name),
                    user.Fingerprint[..16] + "...",
                    user.CertificateSerial,
                    user.Revoked ? "[red]revoked[/]" : "active",
                    user.QueuedMessages.ToString(System.Globalization.CultureInfo.InvariantCulture));
            }

            AnsiConsole.Write(table);
        }, cancellationToken));

        var revokeName = new Argument<string>("name");
        var revoke = new Command("revoke", "Revoke a user's certificate; their sessions end at once.") { revokeName };
        revoke.SetAction((result, cancellationToken) => RunAsync(result.GetValue(data), result.GetValue(server)!, async (admin, headers, ct) =>
        {
            var response = await admin.RevokeUserAsync(new RevokeUserRequest { Name = result.GetValue(revokeName)! }, headers, cancellationToken: ct).ConfigureAwait(false);
            Console.WriteLine($"revoked {result.GetValue(revokeName)!.ToLowerInvariant()} (certificate {response.Serial})");
        }, cancellationToken));

        var invite = new Command("invite", "Create a one-time registration invite (valid 7 days).");
        invite.SetAction((result, cancellationToken) => RunAsync(result.GetValue(data), result.GetValue(server)!, async (admin, headers, ct) =>
        {
            var response = await admin.CreateInviteAsync(new CreateInviteRequest(), headers, cancellationToken: ct).ConfigureAwait(false);
            Console.WriteLine(response.Invite);
        }, cancellationToken));

        command.Subcommands.Add(users);
        command.Subcommands.Add(revoke);
        command.Subcommands.Add(invite);
        return command;
    }

    private static async Task<int> RunAsync(string? dataOption, string serverText, Func<Admin.AdminClient, Metadata, CancellationToken, Task> body, CancellationToken cancellationToken)
    {
        try
        {
            var data = dataOption ?? Environment.GetEnvironmentVariable("PARLEY_DATA") ?? ServerSettings.DefaultDataDirectory();
            var caPath = Path.Combine(data, "ca.pem");
            if (!File.Exists(caPath))
            {
                throw new CliException($"{data} is not a Parley server data directory (no ca.pem): pass --data DIR");
            }

            var token = ServerFiles.ReadAdminToken(data);
            using var ca = new PinnedCertificateAuthority(await File.ReadAllTextAsync(caPath, cancellationToken).ConfigureAwait(false));
            await using var connection = ServerConnection.Open(RegisterCommand.ParseServer(serverText), ca);
            await body(connection.Admin, new Metadata { { "x-parley-admin-token", token } }, cancellationToken).ConfigureAwait(false);
            return 0;
        }
        catch (RpcException e)
        {
            return Output.Fail(e.StatusCode is StatusCode.Unavailable ? $"cannot reach the server: {e.Status.Detail}" : e.Status.Detail);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return Output.Fail(e.Message);
        }
        catch (Exception e) when (Session.Describe(e) is { } line)
        {
            return Output.Fail(line);
        }
    }
}
