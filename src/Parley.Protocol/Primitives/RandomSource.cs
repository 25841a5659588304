using System.Security.Cryptography;

namespace Parley.Protocol.Primitives;

/// <summary>
/// Where every random byte of the protocol comes from: the OS CSPRNG. The published test vectors
/// (docs/vectors) need a scripted conversation to be reproducible, so the vector generator in the
/// test project may install a deterministic source for its own thread; nothing else can.
/// </summary>
internal static class RandomSource
{
    [ThreadStatic]
    private static Action<Span<byte>>? deterministic;

    internal static void Fill(Span<byte> destination)
    {
        if (deterministic is { } source)
        {
            source(destination);
            return;
        }

        RandomNumberGenerator.Fill(destination);
    }

    /// <summary>Test vectors only: routes this thread's randomness to <paramref name="source"/> until disposed.</summary>
    internal static IDisposable UseDeterministicSourceForVectors(Action<Span<byte>> source)
    {
        deterministic = source;
        return new Restore();
    }

    private sealed class Restore : IDisposable
    {
        public void Dispose() => deterministic = null;
    }
}
