using System.CommandLine;

namespace Parley.Cli.Commands;

/// <summary>`parley whoami [--cert]`.</summary>
internal static class WhoamiCommand
{
    internal static Command Create()
    {
        var cert = new Option<bool>("--cert") { Description = "Print this user's certificate (PEM) as the server holds it." };
        var command = new Command("whoami", "Show this profile's name, server and identity fingerprint.") { cert };
        command.SetAction((result, cancellationToken) => Session.RunAsync(result.GetValue(GlobalOptions.Profile), async (messenger, ct) =>
        {
            if (result.GetValue(cert))
            {
                Console.Write(await messenger.OwnCertificateAsync(ct).ConfigureAwait(false));
                return 0;
            }

            Console.WriteLine($"name      {messenger.UserName}");
            Console.WriteLine($"server    {messenger.Server}");
            Console.WriteLine($"identity  {messenger.Profile.Identity.PublicKey.Fingerprint}");
            return 0;
        }, cancellationToken));
        return command;
    }
}
