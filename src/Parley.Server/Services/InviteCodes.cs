using System.Security.Cryptography;
using System.Text;

namespace Parley.Server.Services;

/// <summary>Registration invites: random codes of which only the SHA-256 hash is stored.</summary>
internal static class InviteCodes
{
    internal static string Create() => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));

    internal static byte[]? Hash(string? code) =>
        string.IsNullOrWhiteSpace(code) ? null : SHA256.HashData(Encoding.UTF8.GetBytes(code.Trim().ToLowerInvariant()));
}
