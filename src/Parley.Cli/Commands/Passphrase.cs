using System.Text;

namespace Parley.Cli.Commands;

/// <summary>The profile passphrase: PARLEY_PASSPHRASE for scripts, else asked on the terminal without echo.</summary>
internal static class Passphrase
{
    internal const string Variable = "PARLEY_PASSPHRASE";

    internal static string Get(bool confirm)
    {
        if (Environment.GetEnvironmentVariable(Variable) is { Length: > 0 } fromEnvironment)
        {
            return fromEnvironment;
        }

        if (Console.IsInputRedirected)
        {
            throw new CliException($"no terminal to ask for the passphrase: set {Variable}");
        }

        var first = Read("passphrase: ");
        if (first.Length == 0)
        {
            throw new CliException("the passphrase must not be empty");
        }

        if (confirm && Read("passphrase again: ") != first)
        {
            throw new CliException("the passphrases do not match");
        }

        return first;
    }

    private static string Read(string prompt)
    {
        Console.Error.Write(prompt);
        var text = new StringBuilder();
        while (true)
        {
            var key = Console.ReadKey(intercept: true);
            if (key.Key == ConsoleKey.Enter)
            {
                Console.Error.WriteLine();
                return text.ToString();
            }

            if (key.Key == ConsoleKey.Backspace)
            {
                if (text.Length > 0)
                {
                    text.Length--;
                }
            }
            else if (!char.IsControl(key.KeyChar))
            {
                text.Append(key.KeyChar);
            }
        }
    }
}
