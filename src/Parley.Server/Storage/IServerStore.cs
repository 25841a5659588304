namespace Parley.Server.Storage;

/// <summary>One storage engine: all the server's durable state, behind the three store interfaces.</summary>
internal interface IServerStore : IAsyncDisposable
{
    IUserStore Users { get; }

    IPreKeyDirectoryStore PreKeys { get; }

    IMailboxStore Mailbox { get; }

    /// <summary>Applies pending schema migrations (versioned, with DbUp); safe to call at every start.</summary>
    Task MigrateAsync(CancellationToken cancellationToken);

    /// <summary>True when the database answers a trivial query.</summary>
    Task<bool> IsHealthyAsync(CancellationToken cancellationToken);
}
