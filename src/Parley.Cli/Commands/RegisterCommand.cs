using System.CommandLine;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Parley.Client;
using Parley.Client.Connection;

namespace Parley.Cli.Commands;

/// <summary>`parley register NAME --server URL`: identity, certificate, prekeys, profile; pins the CA.</summary>
internal static class RegisterCommand
{
    internal static Command Create()
    {
        var name = new Argument<string>("name") { Description = "The user name to register (a-z, 0-9, '.', '_', '-')." };
        var server = new Option<string>("--server") { Description = "The server, e.g. https://127.0.0.1:7443.", Required = true };
        var fingerprint = new Option<string?>("--ca-fingerprint") { Description = "The CA fingerprint (SHA256:...) printed by `parley serve`." };
        var tofu = new Option<bool>("--tofu") { Description = "Trust the server's CA on first use without a fingerprint (prints it with a warning)." };
        var invite = new Option<string?>("--invite") { Description = "Invite code, for servers that register by invitation." };
        var command = new Command("register", "Create an identity, register it on a server and pin the server's CA.") { name, server, fingerprint, tofu, invite };
        command.SetAction(async (result, cancellationToken) =>
        {
            try
            {
                var serverUri = ParseServer(result.GetValue(server)!);
                var caPem = await FetchCaAsync(serverUri, cancellationToken).ConfigureAwait(false);
                using (var ca = new PinnedCertificateAuthority(caPem))
                {
                    Trust(ca, result.GetValue(fingerprint), result.GetValue(tofu));
                }

                var userName = result.GetValue(name)!;
                var directory = Profiles.ForNewUser(result.GetValue(GlobalOptions.Profile), userName.ToLowerInvariant());
                var passphrase = Passphrase.Get(confirm: true);
                await using var messenger = await Messenger.RegisterAsync(directory, passphrase, userName, serverUri, caPem, result.GetValue(invite), cancellationToken).ConfigureAwait(false);
                Console.WriteLine($"registered {messenger.UserName} on {serverUri}");
                Console.WriteLine($"  identity  {messenger.Profile.Identity.PublicKey.Fingerprint}");
                Console.WriteLine($"  profile   {Path.GetFullPath(directory)}");
                return 0;
            }
            catch (Exception e) when (Session.Describe(e) is { } line)
            {
                return Output.Fail(line);
            }
        });
        return command;
    }

    internal static Uri ParseServer(string text) =>
        Uri.TryCreate(text, UriKind.Absolute, out var uri) && uri.Scheme == Uri.UriSchemeHttps
            ? uri
            : throw new CliException($"--server must be an https:// address (got \"{text}\")");

    /// <summary>Reads /ca.pem. The TLS certificate cannot be checked yet (the CA is what we fetch); the fingerprint check below is what makes it trustworthy.</summary>
    private static async Task<string> FetchCaAsync(Uri server, CancellationToken cancellationToken)
    {
        using var handler = new SocketsHttpHandler { ConnectTimeout = TimeSpan.FromSeconds(10) };
#pragma warning disable CA5359 // Nothing is trusted yet: the CA fetched here is accepted only after the fingerprint check in Trust.
        handler.SslOptions.RemoteCertificateValidationCallback = (_, _, _, _) => true;
#pragma warning restore CA5359
        using var http = new HttpClient(handler) { Timeout = TimeSpan.FromSeconds(15) };
        string pem;
        try
        {
            pem = await http.GetStringAsync(new Uri(server, "/ca.pem"), cancellationToken).ConfigureAwait(false);
        }
        catch (HttpRequestException e)
        {
            throw new CliException($"cannot reach {server}: {e.Message}");
        }

        try
        {
            using var parsed = X509Certificate2.CreateFromPem(pem);
            return pem;
        }
        catch (CryptographicException)
        {
            throw new CliException($"{server} did not serve a CA certificate at /ca.pem");
        }
    }

    private static void Trust(PinnedCertificateAuthority ca, string? fingerprint, bool tofu)
    {
        if (fingerprint is not null)
        {
            if (!ca.Matches(fingerprint))
            {
                throw new ClientException(ClientErrorKind.CaMismatch, $"the server's CA is {ca.Fingerprint}, not the fingerprint you gave: refusing to register");
            }

            return;
        }

        if (tofu)
        {
            Console.Error.WriteLine($"warning: trusting the server's CA on first use: {ca.Fingerprint}");
            Console.Error.WriteLine("warning: compare it with the fingerprint `parley serve` printed; anyone between you and the server could have substituted it");
            return;
        }

        if (Console.IsInputRedirected)
        {
            throw new CliException($"the server's CA is {ca.Fingerprint}; pass --ca-fingerprint to pin it, or --tofu to trust it on first use");
        }

        Console.Error.Write($"trust CA {ca.Fingerprint}? [y/N] ");
        var answer = Console.ReadLine();
        if (!string.Equals(answer?.Trim(), "y", StringComparison.OrdinalIgnoreCase) && !string.Equals(answer?.Trim(), "yes", StringComparison.OrdinalIgnoreCase))
        {
            throw new CliException("CA not trusted: nothing was registered");
        }
    }
}
