using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using Npgsql;

namespace Parley.Server.Tests.Infrastructure;

/// <summary>
/// A PostgreSQL server for the tests: the one named by PARLEY_TEST_POSTGRES (a connection string
/// to a server where the tests may CREATE DATABASE), or else a private cluster made with initdb in
/// a fresh temporary directory and started with pg_ctl on a free loopback port. A private cluster
/// is stopped and its directory deleted on dispose; on an external server the databases the tests
/// created are dropped.
/// </summary>
public sealed class PostgresCluster : IAsyncDisposable
{
    public const string EnvironmentVariable = "PARLEY_TEST_POSTGRES";

    private readonly string? root;
    private readonly string? binDirectory;
    private readonly bool runAsPostgres;
    private readonly List<string> createdDatabases = [];
    private readonly Lock gate = new();
    private bool stopped;

    private PostgresCluster(string adminConnectionString, string? root, string? binDirectory, bool runAsPostgres)
    {
        AdminConnectionString = adminConnectionString;
        this.root = root;
        this.binDirectory = binDirectory;
        this.runAsPostgres = runAsPostgres;
    }

    /// <summary>A connection string with the right to CREATE DATABASE.</summary>
    public string AdminConnectionString { get; }

    /// <summary>PARLEY_TEST_POSTGRES if set, else a private cluster.</summary>
    public static async Task<PostgresCluster> FromEnvironmentAsync()
    {
        var external = Environment.GetEnvironmentVariable(EnvironmentVariable);
        return string.IsNullOrWhiteSpace(external)
            ? await StartPrivateAsync()
            : new PostgresCluster(external, root: null, binDirectory: null, runAsPostgres: false);
    }

    /// <summary>initdb into a fresh temporary directory, then pg_ctl start on a free 127.0.0.1 port.</summary>
    public static async Task<PostgresCluster> StartPrivateAsync()
    {
        var bin = FindBinDirectory() ?? throw new InvalidOperationException(MissingBinariesMessage());

        // PostgreSQL refuses to run as root; the Debian package creates the postgres user.
        var runAsPostgres = (await RunAsync("id", ["-u"], workingDirectory: null)).Trim() == "0";
        var root = Directory.CreateTempSubdirectory("parley-pg-").FullName;
        try
        {
            var password = Convert.ToHexString(RandomNumberGenerator.GetBytes(16));
            var passwordFile = Path.Combine(root, "password");
            await File.WriteAllTextAsync(passwordFile, password + "\n");
            if (runAsPostgres)
            {
                await RunAsync("chown", ["-R", "postgres:", root], workingDirectory: null);
            }

            var data = Path.Combine(root, "data");
            await RunAsync(
                Path.Combine(bin, "initdb"),
                ["-D", data, "--username=postgres", "--auth=scram-sha-256", $"--pwfile={passwordFile}", "--encoding=UTF8", "--locale=C", "--no-sync"],
                root,
                runAsPostgres);
            File.Delete(passwordFile);
            await File.AppendAllTextAsync(Path.Combine(data, "postgresql.conf"), $"""

                # parley tests: loopback only, socket inside the cluster's own directory
                listen_addresses = '127.0.0.1'
                unix_socket_directories = '{root}'
                max_connections = 200

                """);

            // A free port can be taken between probing and binding: try a few.
            for (var attempt = 1; ; attempt++)
            {
                var port = FreeLoopbackPort();
                try
                {
                    await RunAsync(
                        Path.Combine(bin, "pg_ctl"),
                        ["-D", data, "-l", Path.Combine(root, "postgres.log"), "-w", "-t", "60", "-o", $"-p {port}", "start"],
                        root,
                        runAsPostgres);
                }
                catch (InvalidOperationException) when (attempt < 3)
                {
                    continue;
                }

                var admin = new NpgsqlConnectionStringBuilder
                {
                    Host = "127.0.0.1",
                    Port = port,
                    Username = "postgres",
                    Password = password,
                    Database = "postgres",
                    Pooling = false,
                }.ConnectionString;
                return new PostgresCluster(admin, root, bin, runAsPostgres);
            }
        }
        catch (Exception e)
        {
            var log = Path.Combine(root, "postgres.log");
            var detail = File.Exists(log) ? $"\n--- postgres.log ---\n{await File.ReadAllTextAsync(log)}" : "";
            TryDelete(root);
            throw new InvalidOperationException($"Could not start a private PostgreSQL cluster: {e.Message}{detail}", e);
        }
    }

    /// <summary>The PostgreSQL server binaries: pg_config --bindir, /usr/lib/postgresql/*/bin (newest first), then PATH.</summary>
    public static string? FindBinDirectory()
    {
        static bool HasServer(string? directory) =>
            !string.IsNullOrEmpty(directory) && File.Exists(Path.Combine(directory, "initdb")) && File.Exists(Path.Combine(directory, "pg_ctl"));

        var path = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries);
        var pgConfig = path.Select(d => Path.Combine(d, "pg_config")).FirstOrDefault(File.Exists);
        if (pgConfig is not null)
        {
            try
            {
                var bin = RunAsync(pgConfig, ["--bindir"], workingDirectory: null).GetAwaiter().GetResult().Trim();
                if (HasServer(bin))
                {
                    return bin;
                }
            }
            catch (InvalidOperationException)
            {
                // A pg_config without a server (libpq-dev alone) is no answer; keep looking.
            }
        }

        const string Debian = "/usr/lib/postgresql";
        if (Directory.Exists(Debian))
        {
            var newest = Directory.GetDirectories(Debian)
                .Select(d => (Directory: Path.Combine(d, "bin"), Version: decimal.TryParse(Path.GetFileName(d), NumberStyles.Number, CultureInfo.InvariantCulture, out var v) ? v : 0))
                .Where(d => HasServer(d.Directory))
                .OrderByDescending(d => d.Version)
                .Select(d => d.Directory)
                .FirstOrDefault();
            if (newest is not null)
            {
                return newest;
            }
        }

        return path.FirstOrDefault(HasServer);
    }

    /// <summary>Creates an empty database; returns a connection string for it.</summary>
    public async Task<string> CreateDatabaseAsync()
    {
        var name = $"parley_test_{Guid.NewGuid():N}";
        await ExecuteAdminAsync($"CREATE DATABASE \"{name}\"");
        lock (gate)
        {
            createdDatabases.Add(name);
        }

        return new NpgsqlConnectionStringBuilder(AdminConnectionString)
        {
            Database = name,
            Pooling = true,
            MaxPoolSize = 20,
        }.ConnectionString;
    }

    /// <summary>Runs one statement as the administrator (for setting up test conditions).</summary>
    public async Task ExecuteAdminAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(AdminConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    /// <summary>Stops a private cluster (pg_ctl stop -m fast); the directory stays until dispose.</summary>
    public async Task StopAsync()
    {
        if (root is null || binDirectory is null)
        {
            throw new InvalidOperationException("Only a private cluster can be stopped by the tests.");
        }

        if (stopped)
        {
            return;
        }

        stopped = true;
        await RunAsync(Path.Combine(binDirectory, "pg_ctl"), ["-D", Path.Combine(root, "data"), "-m", "fast", "-w", "stop"], root, runAsPostgres);
    }

    /// <summary>Starts a stopped private cluster again on the same port (a database restart, for the fault tests).</summary>
    public async Task StartAgainAsync()
    {
        if (root is null || binDirectory is null)
        {
            throw new InvalidOperationException("Only a private cluster can be restarted by the tests.");
        }

        if (!stopped)
        {
            return;
        }

        var port = new NpgsqlConnectionStringBuilder(AdminConnectionString).Port;
        await RunAsync(
            Path.Combine(binDirectory, "pg_ctl"),
            ["-D", Path.Combine(root, "data"), "-l", Path.Combine(root, "postgres.log"), "-w", "-t", "60", "-o", $"-p {port}", "start"],
            root,
            runAsPostgres);
        stopped = false;
    }

    public async ValueTask DisposeAsync()
    {
        if (root is not null)
        {
            try
            {
                await StopAsync();
            }
            finally
            {
                TryDelete(root);
            }

            return;
        }

        // An external server outlives the tests: drop what they created.
        string[] names;
        lock (gate)
        {
            names = [.. createdDatabases];
        }

        foreach (var name in names)
        {
            try
            {
                await ExecuteAdminAsync($"DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)");
            }
            catch (NpgsqlException)
            {
                // Best effort: a leftover test database is harmless.
            }
        }
    }

    private static string MissingBinariesMessage()
    {
        var message =
            "PostgreSQL server binaries (initdb, pg_ctl) were not found (looked at `pg_config --bindir`, /usr/lib/postgresql/*/bin and PATH). "
            + "The storage contract tests run against PostgreSQL as well as SQLite: install it (`apt-get install postgresql`) "
            + $"or set {EnvironmentVariable} to the connection string of a server where the tests may CREATE DATABASE.";
        return string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase)
            ? "CI must install the postgresql Debian package before running the tests (.ci/run). " + message
            : message;
    }

    private static int FreeLoopbackPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static async Task<string> RunAsync(string program, IReadOnlyList<string> arguments, string? workingDirectory, bool asPostgres = false)
    {
        var start = new ProcessStartInfo
        {
            FileName = asPostgres ? FindRunuser() : program,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? Environment.CurrentDirectory,
        };
        if (asPostgres)
        {
            foreach (var argument in (string[])["-u", "postgres", "--", program])
            {
                start.ArgumentList.Add(argument);
            }
        }

        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"cannot start {program}");
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        await process.WaitForExitAsync(timeout.Token);
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException(
                $"{string.Join(' ', start.ArgumentList.Prepend(start.FileName))} exited with {process.ExitCode}: {await error}{await output}");
        }

        return await output;
    }

    private static string FindRunuser() =>
        new[] { "/usr/sbin/runuser", "/sbin/runuser", "/usr/bin/runuser" }.FirstOrDefault(File.Exists)
        ?? throw new InvalidOperationException("Running as root, and runuser (util-linux) is missing: PostgreSQL must run as the postgres user.");

    private static void TryDelete(string directory)
    {
        try
        {
            Directory.Delete(directory, recursive: true);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
