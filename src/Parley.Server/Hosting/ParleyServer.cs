using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Parley.Server.Cluster;
using Parley.Server.Delivery;
using Parley.Server.Rendezvous;
using Parley.Server.Security;
using Parley.Server.Services;
using Parley.Server.Storage;
using Prometheus;

namespace Parley.Server.Hosting;

/// <summary>
/// The Parley server: Kestrel with TLS from the server's own CA, the gRPC services, and the plain
/// HTTP endpoints /healthz, /metrics, /ca.pem and /crl.pem.
/// </summary>
public sealed class ParleyServer : IAsyncDisposable
{
    private readonly WebApplication app;
    private readonly ServerFiles files;
    private readonly IServerStore store;

    private ParleyServer(WebApplication app, ServerFiles files, IServerStore store, ServerOptions options)
    {
        this.app = app;
        this.files = files;
        this.store = store;
        Options = options;
    }

    /// <summary>The options the server runs with.</summary>
    public ServerOptions Options { get; }

    /// <summary>"SHA256:AB:CD:..." of the CA root: what clients pin.</summary>
    public string CaFingerprint => files.Authority.RootFingerprint.Formatted;

    /// <summary>The CA root certificate, PEM.</summary>
    public string CaCertificatePem => files.Authority.RootCertificatePem;

    /// <summary>True when this start created the CA.</summary>
    public bool CreatedAuthority => files.CreatedAuthority;

    /// <summary>
    /// Prepares a server: data directory, CA and TLS certificate, storage (migrated). Throws
    /// <see cref="ServerStartException"/> with one clear line when it cannot.
    /// </summary>
    public static async Task<ParleyServer> CreateAsync(ServerOptions options, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (!string.Equals(options.Listen.Scheme, "https", StringComparison.OrdinalIgnoreCase))
        {
            throw new ServerStartException($"--listen must be an https:// address (got {options.Listen})");
        }

        if (options.Redis is not null)
        {
            ClusterLink.ParseConfiguration(options.Redis);
        }

        ServerFiles files;
        try
        {
            files = ServerFiles.LoadOrCreate(options.DataDirectory, options.HostNames, DateTimeOffset.UtcNow);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or Protocol.ParleyProtocolException)
        {
            throw new ServerStartException($"cannot prepare data directory {options.DataDirectory}: {e.Message}", e);
        }

        var store = await ServerStores.OpenAsync(options, cancellationToken).ConfigureAwait(false);
        // Parley reads no appsettings file; left on, its reload watcher follows every file under the
        // working directory, and a data directory there wakes it at each SQLite write.
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions
        {
            Args = ["--hostBuilder:reloadConfigOnChange=false"],
            ContentRootPath = AppContext.BaseDirectory,
        });
        builder.Logging.ClearProviders();
        if (string.Equals(Environment.GetEnvironmentVariable("PARLEY_LOG_FORMAT"), "json", StringComparison.OrdinalIgnoreCase))
        {
            builder.Logging.AddJsonConsole();
        }
        else
        {
            builder.Logging.AddSimpleConsole(o =>
            {
                o.SingleLine = true;
                o.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ ";
                o.UseUtcTimestamp = true;
            });
        }

        builder.Logging.SetMinimumLevel(LogLevel.Information);
        builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        builder.Logging.AddFilter("Grpc", LogLevel.Warning);
        builder.Logging.AddFilter("Microsoft.Hosting.Lifetime", LogLevel.Warning);
        // Off entirely: while this category logs at any level, hosting gives every request an
        // Activity and a log scope, and a Receive stream is a request that lasts as long as its
        // connection. It logs only request start and end; failures are logged by Kestrel and gRPC.
        builder.Logging.AddFilter("Microsoft.AspNetCore.Hosting.Diagnostics", LogLevel.None);
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(15));
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            // Generous at the transport, so that gRPC's own size check answers with RESOURCE_EXHAUSTED.
            kestrel.Limits.MaxRequestBodySize = (4L * options.MaxMessageBytes) + (64 * 1024);
            kestrel.Limits.Http2.MaxStreamsPerConnection = 100;
            var endpoint = ListenEndpoint(options.Listen);
            kestrel.Listen(endpoint, listen =>
            {
                listen.Protocols = HttpProtocols.Http1AndHttp2;
                listen.UseHttps(files.TlsCertificate, https => https.SslProtocols = System.Security.Authentication.SslProtocols.Tls13);
                // After the handshake: an idle connection then holds no TLS record buffers.
                listen.Use(TlsRecordBuffers.Middleware);
            });
        });

        builder.Services.AddGrpc(grpc =>
        {
            // Room for the envelope framing around the largest body; bigger frames are refused by gRPC.
            grpc.MaxReceiveMessageSize = options.MaxMessageBytes + 4096;
            grpc.MaxSendMessageSize = options.MaxMessageBytes + 4096;
            grpc.EnableDetailedErrors = false;
            grpc.Interceptors.Add<StorageFaults>();
        });
        builder.Services.AddSingleton(options);
        builder.Services.AddSingleton(store);
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddSingleton(files.Authority);
        builder.Services.AddSingleton(new AdminToken(files.AdminToken));
        builder.Services.AddSingleton(store.Users);
        builder.Services.AddSingleton<ChallengeStore>();
        builder.Services.AddSingleton<SessionTokens>();
        builder.Services.AddSingleton<Caller>();
        builder.Services.AddSingleton<RateLimits>();
        builder.Services.AddSingleton<StorageFaults>();
        builder.Services.AddSingleton<MailboxSignals>();
        builder.Services.AddSingleton<RecipientCache>();
        builder.Services.AddSingleton<ClusterLink>();
        builder.Services.AddHostedService(services => services.GetRequiredService<ClusterLink>());
        builder.Services.AddHostedService<RevocationSweep>();
        builder.Services.AddHostedService<StreamWatchdog>();
        builder.Services.AddSingleton<CertificateRegistry>();
        builder.Services.AddSingleton<InMemoryRendezvousRegistry>();
        builder.Services.AddSingleton<RedisRendezvousRegistry>();
        builder.Services.AddSingleton<IRendezvousRegistry>(services => options.Redis is null
            ? services.GetRequiredService<InMemoryRendezvousRegistry>()
            : services.GetRequiredService<RedisRendezvousRegistry>());

        var app = builder.Build();
        app.MapGrpcService<AccountsService>();
        app.MapGrpcService<DirectoryService>();
        app.MapGrpcService<MailboxService>();
        app.MapGrpcService<AdminService>();
        app.MapGrpcService<RendezvousService>();
        app.MapGet("/ca.pem", () => Results.Text(files.Authority.RootCertificatePem, "application/x-pem-file"));
        app.MapGet("/crl.pem", async (CertificateRegistry registry, CancellationToken ct) =>
            Results.Text((await registry.GetRevocationListAsync(ct).ConfigureAwait(false)).Pem, "application/x-pem-file"));
        // 503 only when this node cannot serve (no database). Without Redis it still serves, by
        // polling: 200 so that a load balancer keeps it, with "degraded" in the body for people.
        app.MapGet("/healthz", async (IServerStore s, ClusterLink cluster, CancellationToken ct) =>
        {
            if (!await SafeHealthAsync(s, ct).ConfigureAwait(false))
            {
                return Results.Text("unhealthy: database unreachable\n", "text/plain", statusCode: StatusCodes.Status503ServiceUnavailable);
            }

            return cluster.Degraded
                ? Results.Text($"degraded: redis unreachable; delivery polls the database every {options.DegradedPollInterval.TotalSeconds:0.###} s; invitations work only between clients of this node\n", "text/plain")
                : Results.Text("ok\n", "text/plain");
        });
        // Read at the first scrape, when prometheus-net starts its meter adapter.
        Metrics.ConfigureMeterAdapter(adapter => adapter.InstrumentFilterPredicate = ServerMetrics.Publishes);
        app.MapMetrics("/metrics");
        Metrics.DefaultRegistry.AddBeforeCollectCallback(async ct =>
        {
            try
            {
                ServerMetrics.QueueDepth.Set(await store.Mailbox.CountAllQueuedAsync(ct).ConfigureAwait(false));
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // An unreachable database shows in /healthz; the scrape still returns the other metrics.
            }
        });
        return new ParleyServer(app, files, store, options);
    }

    /// <summary>Starts listening; returns once the server accepts connections.</summary>
    public Task StartAsync(CancellationToken cancellationToken) => app.StartAsync(cancellationToken);

    /// <summary>Stops accepting, lets in-flight calls finish (commits included), then stops.</summary>
    public Task StopAsync(CancellationToken cancellationToken) => app.StopAsync(cancellationToken);

    /// <summary>Completes when the host has stopped (Ctrl+C, SIGTERM or <see cref="StopAsync"/>).</summary>
    public Task WaitForShutdownAsync(CancellationToken cancellationToken) => app.WaitForShutdownAsync(cancellationToken);

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        await app.DisposeAsync().ConfigureAwait(false);
        await store.DisposeAsync().ConfigureAwait(false);
        files.Dispose();
    }

    private static async Task<bool> SafeHealthAsync(IServerStore store, CancellationToken cancellationToken)
    {
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(TimeSpan.FromSeconds(3));
            return await store.IsHealthyAsync(timeout.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            return false;
        }
    }

    private static IPEndPoint ListenEndpoint(Uri listen)
    {
        var host = listen.Host;
        var address = host switch
        {
            "localhost" => IPAddress.Loopback,
            "*" or "0.0.0.0" or "+" => IPAddress.Any,
            _ => IPAddress.TryParse(host.Trim('[', ']'), out var parsed) ? parsed : throw new ServerStartException($"--listen needs an IP address or localhost (got {host})"),
        };
        return new IPEndPoint(address, listen.Port);
    }
}
