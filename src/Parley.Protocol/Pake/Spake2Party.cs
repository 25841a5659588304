using System.Security.Cryptography;
using Parley.Protocol.Internal;
using BigInteger = Org.BouncyCastle.Math.BigInteger;
using ECPoint = Org.BouncyCastle.Math.EC.ECPoint;

namespace Parley.Protocol.Pake;

/// <summary>
/// One side of one SPAKE2 exchange with key confirmation: RFC 9382, ciphersuite
/// SPAKE2-P256-SHA256-HKDF-HMAC, with w derived from the code by Argon2id (docs/protocol.md §11).
/// <para>
/// Use: <see cref="StartAsA(InviteCode, ReadOnlySpan{byte}, ReadOnlySpan{byte})"/> or
/// <see cref="StartAsB(InviteCode, ReadOnlySpan{byte}, ReadOnlySpan{byte})"/>; send
/// <see cref="Message"/>; give the peer's message to <see cref="Finish"/> and send the
/// confirmation it returns; give the peer's confirmation to <see cref="VerifyPeerConfirmation"/>,
/// which returns the shared key Ke, or throws <see cref="ProtocolErrorKind.CodeMismatch"/> when the
/// peer used another code.
/// </para>
/// <para>
/// One attempt only: every failure (a malformed or invalid peer message, a wrong confirmation)
/// ends the exchange, and a finished exchange, successful or not, refuses further use
/// (<see cref="InvalidOperationException"/>). An attacker therefore tests one code per exchange.
/// Not thread-safe. Secrets are wiped on <see cref="Dispose"/>; the BouncyCastle scalars (x or y,
/// and w) are immutable and are dropped, not wiped, as soon as <see cref="Finish"/> has used them.
/// </para>
/// </summary>
public sealed class Spake2Party : IDisposable
{
    /// <summary>Size of <see cref="Message"/>: a SEC1 uncompressed P-256 point (0x04 || x || y).</summary>
    public const int MessageSize = Spake2Group.ElementSize;

    /// <summary>Size of a key-confirmation MAC (HMAC-SHA256).</summary>
    public const int ConfirmationSize = Spake2KeySchedule.ConfirmationSize;

    /// <summary>Size of the shared key Ke: half of SHA-256, as RFC 9382 §4 specifies.</summary>
    public const int SharedKeySize = Spake2KeySchedule.KeySize;

    private readonly Spake2Role role;
    private readonly byte[] identityA;
    private readonly byte[] identityB;
    private readonly byte[] additionalData;
    private readonly byte[] message;
    private BigInteger? w;
    private BigInteger? scalar;
    private byte[]? expectedPeerConfirmation;
    private byte[]? sharedKey;
    private Stage stage;

    private Spake2Party(Spake2Role role, BigInteger w, BigInteger scalar, ReadOnlySpan<byte> identityA, ReadOnlySpan<byte> identityB, ReadOnlySpan<byte> additionalData)
    {
        this.role = role;
        this.w = w;
        this.scalar = scalar;
        this.identityA = identityA.ToArray();
        this.identityB = identityB.ToArray();
        this.additionalData = additionalData.ToArray();

        // RFC 9382 §3.3: pA = x*P + w*M (A), pB = y*P + w*N (B).
        var blind = role == Spake2Role.A ? Spake2Group.M : Spake2Group.N;
        var share = Spake2Group.MultiplyFixed(Spake2Group.Generator, scalar).Add(Spake2Group.MultiplyFixed(blind, w));
        message = Spake2Group.Encode(share);
        stage = Stage.AwaitingPeerMessage;
    }

    private enum Stage
    {
        AwaitingPeerMessage,
        AwaitingPeerConfirmation,
        Confirmed,
        Failed,
        Disposed,
    }

    /// <summary>
    /// The additional data bound into the confirmation keys (RFC 9382 §4 "AAD"): the protocol and
    /// its version, so that a confirmation made by another protocol or version never verifies.
    /// </summary>
    internal static ReadOnlySpan<byte> AdditionalData => "parley-pake-v1"u8;

    /// <summary>Which side this is.</summary>
    internal Spake2Role Role => role;

    /// <summary>Ke, once the peer's confirmation has verified (for <see cref="PakeChannel.Establish"/>).</summary>
    internal ReadOnlySpan<byte> ConfirmedKey
    {
        get
        {
            ObjectDisposedException.ThrowIf(stage == Stage.Disposed, this);
            return stage == Stage.Confirmed ? sharedKey : throw new InvalidOperationException("The SPAKE2 exchange has not succeeded: both confirmations must verify before the channel opens.");
        }
    }

    /// <summary>pA or pB: the 65 bytes to send to the peer. Not secret.</summary>
    public byte[] Message => (byte[])message.Clone();

    /// <summary>Starts side A (the side that goes first and blinds with M) for an invite code.</summary>
    /// <param name="code">The code both people hold; its canonical UTF-8 form is the password.</param>
    /// <param name="identityA">A's identity as both sides know it (may be empty: RFC 9382 §3.3).</param>
    /// <param name="identityB">B's identity as both sides know it (may be empty).</param>
    public static Spake2Party StartAsA(InviteCode code, ReadOnlySpan<byte> identityA, ReadOnlySpan<byte> identityB) =>
        Start(Spake2Role.A, code, identityA, identityB);

    /// <summary>Starts side B (the side that answers and blinds with N) for an invite code.</summary>
    /// <param name="code">The code both people hold; its canonical UTF-8 form is the password.</param>
    /// <param name="identityA">A's identity as both sides know it (may be empty: RFC 9382 §3.3).</param>
    /// <param name="identityB">B's identity as both sides know it (may be empty).</param>
    public static Spake2Party StartAsB(InviteCode code, ReadOnlySpan<byte> identityA, ReadOnlySpan<byte> identityB) =>
        Start(Spake2Role.B, code, identityA, identityB);

    /// <summary>Starts side A for an arbitrary shared passphrase (UTF-8 or any bytes both sides agree on).</summary>
    public static Spake2Party StartAsA(ReadOnlySpan<byte> password, ReadOnlySpan<byte> identityA, ReadOnlySpan<byte> identityB) =>
        Start(Spake2Role.A, password, identityA, identityB);

    /// <summary>Starts side B for an arbitrary shared passphrase.</summary>
    public static Spake2Party StartAsB(ReadOnlySpan<byte> password, ReadOnlySpan<byte> identityA, ReadOnlySpan<byte> identityB) =>
        Start(Spake2Role.B, password, identityA, identityB);

    /// <summary>
    /// Tests only: starts a side with w, the scalar x (or y) and the AAD given directly, as the
    /// RFC 9382 Appendix B vectors do ("Choice of MHF is omitted").
    /// </summary>
    internal static Spake2Party StartCore(Spake2Role role, BigInteger w, BigInteger scalar, ReadOnlySpan<byte> identityA, ReadOnlySpan<byte> identityB, ReadOnlySpan<byte> additionalData)
    {
        if (!Spake2Group.IsScalar(w, 0))
        {
            throw new ArgumentOutOfRangeException(nameof(w), "w must be in [0, p).");
        }

        if (!Spake2Group.IsScalar(scalar, 1))
        {
            throw new ArgumentOutOfRangeException(nameof(scalar), "The scalar must be in [1, p).");
        }

        return new Spake2Party(role, w, scalar, identityA, identityB, additionalData);
    }

    /// <summary>
    /// Takes the peer's message (pB for A, pA for B), derives the keys and returns this side's
    /// key confirmation (cA or cB, 32 bytes) to send. A sends cA first; B checks it before sending cB
    /// (RFC 9382 §3.1). The shared key is not released until the peer's confirmation verifies.
    /// </summary>
    /// <exception cref="ParleyProtocolException">
    /// <see cref="ProtocolErrorKind.Malformed"/> if the message is not 65 bytes starting 0x04;
    /// <see cref="ProtocolErrorKind.InvalidKey"/> if it is not a point of P-256 or cancels the
    /// password's blinding. Either ends the exchange.
    /// </exception>
    /// <exception cref="InvalidOperationException">The exchange is already past this step, or over.</exception>
    public byte[] Finish(ReadOnlySpan<byte> peerMessage)
    {
        Require(Stage.AwaitingPeerMessage, nameof(Finish));
        var (ownScalar, passwordScalar) = (scalar!, w!);

        // Whatever happens below, this exchange's scalar is never used again.
        stage = Stage.Failed;
        scalar = null;
        w = null;

        if (peerMessage.Length != MessageSize || peerMessage[0] != Spake2Group.UncompressedPrefix)
        {
            throw Error.Malformed("SPAKE2 message (expected a 65-byte uncompressed P-256 point)");
        }

        if (!Spake2Group.TryDecodeElement(peerMessage, out var peerShare))
        {
            throw Error.InvalidKey("SPAKE2 message (not a point of P-256)");
        }

        var sharedElement = SharedElement(role, passwordScalar, ownScalar, peerShare);
        var wBytes = Spake2Group.EncodeScalar(passwordScalar);
        var peer = peerMessage.ToArray();
        var transcript = role == Spake2Role.A
            ? Spake2Transcript.Build(identityA, identityB, message, peer, sharedElement, wBytes)
            : Spake2Transcript.Build(identityA, identityB, peer, message, sharedElement, wBytes);
        try
        {
            using var keys = Spake2KeySchedule.Derive(transcript, additionalData);
            var own = role == Spake2Role.A ? keys.ConfirmationA : keys.ConfirmationB;
            var expected = role == Spake2Role.A ? keys.ConfirmationB : keys.ConfirmationA;
            expectedPeerConfirmation = (byte[])expected.Clone();
            sharedKey = keys.Ke.ToArray();
            stage = Stage.AwaitingPeerConfirmation;
            return (byte[])own.Clone();
        }
        finally
        {
            CryptographicOperations.ZeroMemory(transcript);
            CryptographicOperations.ZeroMemory(sharedElement);
            CryptographicOperations.ZeroMemory(wBytes);
        }
    }

    /// <summary>
    /// Checks the peer's key confirmation (cB for A, cA for B) in constant time and, if it is
    /// right, returns the shared key Ke (16 bytes). The span stays valid until this object is
    /// disposed (which wipes it): copy it into the caller's own key type first.
    /// </summary>
    /// <exception cref="ParleyProtocolException">
    /// <see cref="ProtocolErrorKind.CodeMismatch"/> if the confirmation is wrong: the peer used a
    /// different code (or an attacker guessed and missed); <see cref="ProtocolErrorKind.Malformed"/>
    /// if it is not 32 bytes. Either ends the exchange.
    /// </exception>
    /// <exception cref="InvalidOperationException"><see cref="Finish"/> has not run, or the exchange is over.</exception>
    public ReadOnlySpan<byte> VerifyPeerConfirmation(ReadOnlySpan<byte> peerConfirmation)
    {
        Require(Stage.AwaitingPeerConfirmation, nameof(VerifyPeerConfirmation));
        stage = Stage.Failed;
        var expected = expectedPeerConfirmation!;
        expectedPeerConfirmation = null;
        try
        {
            if (peerConfirmation.Length != ConfirmationSize)
            {
                WipeSharedKey();
                throw Error.Malformed("SPAKE2 key confirmation (expected 32 bytes)");
            }

            if (!CryptographicOperations.FixedTimeEquals(peerConfirmation, expected))
            {
                WipeSharedKey();
                throw Error.CodeMismatch();
            }
        }
        finally
        {
            CryptographicOperations.ZeroMemory(expected);
        }

        stage = Stage.Confirmed;
        return sharedKey!;
    }

    /// <summary>
    /// K, encoded (RFC 9382 §3.3): h*x*(pB - w*N) for A, h*y*(pA - w*M) for B, with h = 1 on P-256.
    /// A peer share equal to w*N (or w*M) would make K the identity, which has no encoding: refused.
    /// </summary>
    internal static byte[] SharedElement(Spake2Role role, BigInteger w, BigInteger scalar, ECPoint peerShare)
    {
        var peerBlind = role == Spake2Role.A ? Spake2Group.N : Spake2Group.M;
        var unblinded = peerShare.Subtract(Spake2Group.MultiplyFixed(peerBlind, w));
        if (unblinded.IsInfinity)
        {
            throw Error.InvalidKey("SPAKE2 message (it cancels the password's blinding)");
        }

        return Spake2Group.Encode(unblinded.Multiply(scalar));
    }

    /// <summary>Wipes every secret this side still holds; the object is unusable afterwards.</summary>
    public void Dispose()
    {
        if (expectedPeerConfirmation is { } expected)
        {
            CryptographicOperations.ZeroMemory(expected);
            expectedPeerConfirmation = null;
        }

        WipeSharedKey();
        scalar = null;
        w = null;
        stage = Stage.Disposed;
    }

    /// <summary>Never reveals key material.</summary>
    public override string ToString() => nameof(Spake2Party);

    private static Spake2Party Start(Spake2Role role, InviteCode code, ReadOnlySpan<byte> identityA, ReadOnlySpan<byte> identityB)
    {
        ArgumentNullException.ThrowIfNull(code);
        var password = code.ToPasswordBytes();
        try
        {
            return Start(role, password, identityA, identityB);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(password);
        }
    }

    private static Spake2Party Start(Spake2Role role, ReadOnlySpan<byte> password, ReadOnlySpan<byte> identityA, ReadOnlySpan<byte> identityB)
    {
        if (password.IsEmpty)
        {
            throw new ArgumentException("The password must not be empty.", nameof(password));
        }

        return new Spake2Party(role, Spake2Password.Derive(password), Spake2Group.RandomScalar(), identityA, identityB, AdditionalData);
    }

    private void Require(Stage expected, string operation)
    {
        ObjectDisposedException.ThrowIf(stage == Stage.Disposed, this);
        if (stage != expected)
        {
            throw new InvalidOperationException(stage switch
            {
                Stage.Confirmed => $"{operation}: this SPAKE2 exchange has already succeeded; start a new one.",
                Stage.Failed => $"{operation}: this SPAKE2 exchange has failed; one attempt only, start a new one.",
                Stage.AwaitingPeerMessage => $"{operation}: call Finish with the peer's message first.",
                _ => $"{operation}: Finish has already run for this SPAKE2 exchange.",
            });
        }
    }

    private void WipeSharedKey()
    {
        if (sharedKey is { } key)
        {
            CryptographicOperations.ZeroMemory(key);
        }
    }
}
