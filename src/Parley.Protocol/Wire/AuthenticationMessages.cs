using System.Text;

namespace Parley.Protocol.Wire;

/// <summary>The byte strings clients sign to register and to authenticate (docs/protocol.md §9).</summary>
public static class AuthenticationMessages
{
    /// <summary>"parley-auth-v1" || server name || 0x00 || challenge.</summary>
    public static byte[] Authenticate(string serverName, ReadOnlySpan<byte> challenge)
    {
        ArgumentNullException.ThrowIfNull(serverName);
        return [.. "parley-auth-v1"u8, .. Encoding.UTF8.GetBytes(serverName), 0, .. challenge];
    }

    /// <summary>"parley-register-v1" || server name || 0x00 || name || 0x00 || challenge.</summary>
    public static byte[] Register(string serverName, string name, ReadOnlySpan<byte> challenge)
    {
        ArgumentNullException.ThrowIfNull(serverName);
        ArgumentNullException.ThrowIfNull(name);
        return [.. "parley-register-v1"u8, .. Encoding.UTF8.GetBytes(serverName), 0, .. Encoding.UTF8.GetBytes(name), 0, .. challenge];
    }
}
