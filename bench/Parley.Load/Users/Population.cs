using System.Collections.Concurrent;
using System.Globalization;
using Parley.Load.Server;
using Parley.Protocol.Identity;

namespace Parley.Load.Users;

/// <summary>
/// Makes N load users ready: those in the cache are reused, the rest are registered in parallel
/// (real registration, proof of possession signed over the server's challenge); each gets its own
/// authenticated connection when asked.
/// </summary>
internal static class Population
{
    internal static async Task<List<LoadUser>> PrepareAsync(ServerUnderTest server, int count, bool connect, int parallelism, Action<int>? progress, CancellationToken cancellationToken)
    {
        var cache = new UserCache(server.CacheDirectory);
        var cached = cache.Load();
        var tag = cache.Tag();
        var users = new LoadUser[count];
        for (var i = 0; i < Math.Min(count, cached.Count); i++)
        {
            users[i] = new LoadUser(cached[i].Name, cached[i].Identity) { Slot = i };
        }

        foreach (var extra in cached.Skip(count))
        {
            extra.Identity.Dispose();
        }

        var registered = new ConcurrentBag<(int Index, string Name, IdentityKeyPair Identity)>();
        var done = 0;
        try
        {
            await Parallel.ForEachAsync(
                Enumerable.Range(0, count),
                new ParallelOptions { MaxDegreeOfParallelism = parallelism, CancellationToken = cancellationToken },
                async (i, ct) =>
                {
                    if (users[i] is null)
                    {
                        var identity = IdentityKeyPair.Generate();
                        var name = string.Create(CultureInfo.InvariantCulture, $"ld{tag}-{i:D6}-{Random.Shared.Next(0x10000):x4}");
                        var connection = server.Connect(i);
                        await connection.RegisterAsync(name, identity, invite: null, ct);
                        registered.Add((i, name, identity));
                        users[i] = new LoadUser(name, identity) { Slot = i };
                        if (connect)
                        {
                            await connection.AuthenticateAsync(name, identity, ct);
                            users[i].Adopt(connection);
                        }
                        else
                        {
                            await connection.DisposeAsync();
                        }
                    }
                    else if (connect)
                    {
                        await users[i].ConnectAsync(server, ct);
                    }

                    progress?.Invoke(Interlocked.Increment(ref done));
                });
        }
        finally
        {
            cache.Append(registered.OrderBy(r => r.Index).Select(r => (r.Name, r.Identity)));
        }

        return [.. users];
    }
}
