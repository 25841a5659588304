namespace Parley.EndToEnd;

/// <summary>A temporary directory tree for one test: server data and user profiles. Deleted afterwards.</summary>
internal sealed class Workspace : IDisposable
{
    internal Workspace()
    {
        Root = Path.Combine(Path.GetTempPath(), "parley-e2e-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Root);
    }

    internal string Root { get; }

    internal string Combine(string name) => System.IO.Path.Combine(Root, name);

    /// <summary>The environment a user's commands run with: their profile and passphrase.</summary>
    internal Dictionary<string, string> User(string name, string passphrase = "correct horse battery staple") => new()
    {
        ["PARLEY_PROFILE"] = Combine(name),
        ["PARLEY_PASSPHRASE"] = passphrase,
        ["XDG_DATA_HOME"] = Combine("xdg"),
    };

    /// <summary>Registers <paramref name="name"/> on <paramref name="server"/> (pinning its CA) and returns that user's environment.</summary>
    internal async Task<Dictionary<string, string>> RegisterAsync(ServerProcess server, string name, string? profile = null)
    {
        var user = User(profile ?? name);
        await ParleyExecutable.RunOkAsync(user, "register", name, "--server", server.Url, "--ca-fingerprint", server.CaFingerprint);
        return user;
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
            // A process that was just killed may still hold a file for a moment; the OS cleans /tmp.
        }
    }
}
