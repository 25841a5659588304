using System.Text;

namespace Parley.Protocol.Wire;

/// <summary>
/// Every domain-separation string in the protocol, in one place (docs/protocol.md §2). Changing
/// one is a new protocol version.
/// </summary>
internal static class Labels
{
    internal static ReadOnlySpan<byte> IdentityDhKey => "parley-identity-dh-v1"u8;

    internal static ReadOnlySpan<byte> SignedPreKey => "parley-spk-v1"u8;

    internal static ReadOnlySpan<byte> KemPreKey => "parley-kem-v1"u8;

    /// <summary>PQXDH info string (PQXDH §2.1: curve, hash and KEM named).</summary>
    internal static ReadOnlySpan<byte> Pqxdh => "Parley_PQXDH_X25519_SHA-256_ML-KEM-768"u8;

    /// <summary>KDF_RK info string (Double Ratchet §5.2).</summary>
    internal static ReadOnlySpan<byte> RootChain => "Parley_Ratchet_RootChain_v1"u8;

    internal static string Describe(ReadOnlySpan<byte> label) => Encoding.ASCII.GetString(label);
}
