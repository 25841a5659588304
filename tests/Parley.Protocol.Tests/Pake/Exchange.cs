using Parley.Protocol.Pake;
using BigInteger = Org.BouncyCastle.Math.BigInteger;

namespace Parley.Protocol.Tests.Pake;

/// <summary>
/// What one side of a SPAKE2 exchange ended with: the shared key, or the error kind that ended it,
/// or neither when the peer stopped before sending its confirmation.
/// </summary>
internal sealed record SideOutcome(byte[]? Key, ProtocolErrorKind? Error)
{
    internal bool Succeeded => Key is not null;
}

/// <summary>
/// Runs SPAKE2 exchanges in the RFC 9382 §3.1 order (pA, pB; cA checked by B, then cB checked by A),
/// with an optional tamperer on the wire, and reports what each side ended with.
/// </summary>
internal static class Exchange
{
    /// <summary>A random w in [0, p): cheap, for properties of the group arithmetic (no Argon2id).</summary>
    internal static BigInteger RandomW(Random random)
    {
        var bytes = new byte[40];
        random.NextBytes(bytes);
        return new BigInteger(1, bytes).Mod(Spake2Group.Order);
    }

    /// <summary>A side started from w directly with a fresh random scalar and Parley's AAD.</summary>
    internal static Spake2Party Side(Spake2Role role, BigInteger w, byte[]? identityA = null, byte[]? identityB = null) =>
        Spake2Party.StartCore(role, w, Spake2Group.RandomScalar(), identityA ?? [], identityB ?? [], Spake2Party.AdditionalData);

    /// <summary>
    /// Runs the exchange. <paramref name="toB"/> and <paramref name="toA"/> may alter each message in
    /// flight. A side whose Finish fails sends nothing further, so the other side never sees a
    /// confirmation and ends with neither a key nor an error of its own.
    /// </summary>
    internal static (SideOutcome A, SideOutcome B) Run(
        Spake2Party a,
        Spake2Party b,
        Func<byte[], byte[]>? toB = null,
        Func<byte[], byte[]>? toA = null)
    {
        toB ??= m => m;
        toA ??= m => m;
        var pA = toB(a.Message);
        var pB = toA(b.Message);

        var (confirmationA, finishErrorA) = Try(() => a.Finish(pB));
        var (confirmationB, finishErrorB) = Try(() => b.Finish(pA));
        if (finishErrorA is not null || finishErrorB is not null)
        {
            return (new SideOutcome(null, finishErrorA), new SideOutcome(null, finishErrorB));
        }

        var (keyB, errorB) = Try(() => b.VerifyPeerConfirmation(toB(confirmationA!)).ToArray());
        var (keyA, errorA) = Try(() => a.VerifyPeerConfirmation(toA(confirmationB!)).ToArray());
        return (new SideOutcome(keyA, errorA), new SideOutcome(keyB, errorB));
    }

    private static (T? Value, ProtocolErrorKind? Error) Try<T>(Func<T> action)
        where T : class
    {
        try
        {
            return (action(), null);
        }
        catch (ParleyProtocolException e)
        {
            return (null, e.Kind);
        }
    }
}
