namespace Parley.Protocol.Wire;

/// <summary>The protocol versions this build speaks (docs/protocol.md §1).</summary>
public static class ProtocolVersion
{
    /// <summary>Version 1: PQXDH (X25519, ML-KEM-768) and the Double Ratchet with AES-256-GCM.</summary>
    public const uint Current = 1;
}
