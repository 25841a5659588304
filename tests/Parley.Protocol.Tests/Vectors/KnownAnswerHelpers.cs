using Parley.Protocol.Primitives;
using Xunit;

namespace Parley.Protocol.Tests.Vectors;

/// <summary>Small helpers shared by the known-answer tests.</summary>
internal static class KnownAnswerHelpers
{
    internal static byte[] Hex(string hex) => Convert.FromHexString(hex);

    /// <summary>A copy of <paramref name="data"/> with bit <paramref name="bit"/> (0 = LSB of byte 0) inverted.</summary>
    internal static byte[] FlipBit(ReadOnlySpan<byte> data, int bit)
    {
        byte[] copy = data.ToArray();
        copy[bit / 8] ^= (byte)(1 << (bit % 8));
        return copy;
    }

    /// <summary>Full path of a file under Vectors/Data in the test output directory.</summary>
    internal static string DataPath(string fileName) => Path.Combine(AppContext.BaseDirectory, "Vectors", "Data", fileName);
}

/// <summary>
/// Runs an action with this thread's <see cref="RandomSource"/> serving a fixed script of bytes, so
/// that the wrappers' own key generation and encapsulation can be driven by published random inputs
/// (seed, d || z, m). The action must draw exactly the scripted bytes, in order: a wrapper or library
/// that asks for more, or fewer, fails the test instead of silently using other randomness.
/// </summary>
internal static class ScriptedRandom
{
    internal static T Run<T>(byte[] script, Func<T> action)
    {
        int position = 0;
        T result;
        using (RandomSource.UseDeterministicSourceForVectors(destination =>
        {
            if (destination.Length > script.Length - position)
            {
                throw new InvalidOperationException(
                    $"a request for {destination.Length} random bytes with {script.Length - position} of {script.Length} scripted bytes left");
            }

            script.AsSpan(position, destination.Length).CopyTo(destination);
            position += destination.Length;
        }))
        {
            result = action();
        }

        Assert.True(position == script.Length, $"only {position} of {script.Length} scripted random bytes were drawn");
        return result;
    }

    internal static void Run(byte[] script, Action action) => Run(script, () =>
    {
        action();
        return true;
    });
}
