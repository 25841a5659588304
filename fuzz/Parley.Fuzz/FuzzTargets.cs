using System.Collections.Frozen;
using System.Text;
using Google.Protobuf;
using Parley.Protocol;

namespace Parley.Fuzz;

/// <summary>
/// Every parser of untrusted bytes, one target each. A target may reject its input only with the
/// error the parser documents (<see cref="ParleyProtocolException"/>, or for the generated API
/// messages <see cref="InvalidProtocolBufferException"/>); any other exception, a hang or a
/// crash is a finding.
/// </summary>
internal static class FuzzTargets
{
    internal static readonly FrozenDictionary<string, FuzzTarget> All = new FuzzTarget[]
    {
        new("ratchet-message", "a ciphertext message (prekey or ratchet) decrypted by an established session", Fixtures.DecryptMessage),
        new("session-state", "a stored session state (SessionStateFormat)", Fixtures.RestoreSession),
        new("prekey-bundle", "a prekey bundle from the directory, used to start a session", Fixtures.StartFromBundle),
        new("certificate", "a user certificate (PEM or DER) and a revocation list checked against the pinned CA", Fixtures.CheckCertificate),
        new("pake", "a SPAKE2 share (65 bytes) and key confirmation from the peer", Fixtures.FinishPake),
        new("invite-code", "an invite code typed by a user", Fixtures.ParseInviteCode),
        new("api", "every request and response message of the gRPC API", Fixtures.ParseApiMessages),
    }.ToFrozenDictionary(t => t.Name, StringComparer.Ordinal);

    /// <summary>Runs <paramref name="target"/> on <paramref name="input"/>; returns normally when the input was handled (accepted or refused as documented).</summary>
    internal static void Run(string target, ReadOnlySpan<byte> input)
    {
        if (!All.TryGetValue(target, out var fuzzTarget))
        {
            throw new ArgumentException($"unknown fuzz target \"{target}\" (one of {string.Join(", ", All.Keys)})", nameof(target));
        }

        try
        {
            fuzzTarget.Run(input);
        }
        catch (ParleyProtocolException)
        {
            // The documented refusal of bad bytes.
        }
    }

    internal static string Describe() => string.Join('\n', All.Values.Select(t => $"  {t.Name,-16} {t.Description}"));

    internal static string Utf8(ReadOnlySpan<byte> input) => Encoding.UTF8.GetString(input);
}

/// <summary>One fuzz target: a name, what it feeds, and the code it runs.</summary>
internal sealed record FuzzTarget(string Name, string Description, FuzzTarget.Body Run)
{
    internal delegate void Body(ReadOnlySpan<byte> input);
}
