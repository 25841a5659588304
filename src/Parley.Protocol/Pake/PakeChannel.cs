using System.Buffers.Binary;
using System.Security.Cryptography;
using Parley.Protocol.Identity;
using Parley.Protocol.Internal;
using Parley.Protocol.Primitives;

namespace Parley.Protocol.Pake;

/// <summary>
/// What two sides protect with the SPAKE2 key Ke once both confirmations verified
/// (docs/protocol.md §12.3): an ordered, authenticated and encrypted channel in each direction, a
/// channel binding each side signs with its identity key, and the secret SK that starts a Double
/// Ratchet. Every key is derived from Ke with HKDF-SHA256 (RFC 5869) under its own label; records
/// are AES-256-GCM with the TLS 1.3 per-record nonce (RFC 8446 §5.3: a per-direction IV XORed with
/// the 64-bit record number), so a dropped, repeated, reordered or reflected record fails
/// authentication.
/// <para>Not thread-safe: one sender and one receiver per direction, in order.</para>
/// </summary>
public sealed class PakeChannel : IDisposable
{
    /// <summary>Largest plaintext one record may carry (the rendezvous bounds its frames; §12.1).</summary>
    public const int MaxPlaintextSize = 60 * 1024;

    /// <summary>Size of <see cref="Binding"/>.</summary>
    public const int BindingSize = 32;

    /// <summary>Size of the secret returned by <see cref="DeriveRatchetSecret"/>.</summary>
    public const int RatchetSecretSize = 32;

    private const int IvSize = Aead.NonceSize;

    private readonly byte[] sharedKey;
    private readonly byte[] sendKey = new byte[Aead.KeySize];
    private readonly byte[] sendIv = new byte[IvSize];
    private readonly byte[] receiveKey = new byte[Aead.KeySize];
    private readonly byte[] receiveIv = new byte[IvSize];
    private readonly byte[] binding = new byte[BindingSize];
    private readonly byte ownRole;
    private readonly byte peerRole;
    private ulong sent;
    private ulong received;
    private bool disposed;

    private PakeChannel(Spake2Role role, ReadOnlySpan<byte> ke)
    {
        sharedKey = ke.ToArray();
        ownRole = RoleByte(role);
        peerRole = RoleByte(role == Spake2Role.A ? Spake2Role.B : Spake2Role.A);
        Span<byte> ab = stackalloc byte[Aead.KeySize + IvSize];
        Span<byte> ba = stackalloc byte[Aead.KeySize + IvSize];
        try
        {
            Hkdf.Sha256(ke, default, DirectionLabelAToB, ab);
            Hkdf.Sha256(ke, default, DirectionLabelBToA, ba);
            Span<byte> own = role == Spake2Role.A ? ab : ba;
            Span<byte> peer = role == Spake2Role.A ? ba : ab;
            own[..Aead.KeySize].CopyTo(sendKey);
            own[Aead.KeySize..].CopyTo(sendIv);
            peer[..Aead.KeySize].CopyTo(receiveKey);
            peer[Aead.KeySize..].CopyTo(receiveIv);
            Hkdf.Sha256(ke, default, BindingLabel, binding);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(ab);
            CryptographicOperations.ZeroMemory(ba);
        }
    }

    /// <summary>HKDF info of the records A sends to B: key (32 bytes) || IV (12 bytes).</summary>
    internal static ReadOnlySpan<byte> DirectionLabelAToB => "parley-pake-channel-v1 A to B"u8;

    /// <summary>HKDF info of the records B sends to A.</summary>
    internal static ReadOnlySpan<byte> DirectionLabelBToA => "parley-pake-channel-v1 B to A"u8;

    /// <summary>HKDF info of the channel binding.</summary>
    internal static ReadOnlySpan<byte> BindingLabel => "parley-pake-binding-v1"u8;

    /// <summary>HKDF info of SK, the Double Ratchet's initial root key (§12.5).</summary>
    internal static ReadOnlySpan<byte> RatchetLabel => "parley-pake-ratchet-v1"u8;

    /// <summary>Associated data of every record.</summary>
    internal static ReadOnlySpan<byte> RecordLabel => "parley-pake-record-v1"u8;

    /// <summary>Prefix of what each side signs with its identity key: label || role (0x41 'A' or 0x42 'B') || binding.</summary>
    internal static ReadOnlySpan<byte> IdentityLabel => "parley-pake-identity-v1"u8;

    /// <summary>
    /// A value both sides share and nobody else knows (an exporter, as in RFC 8446 §7.5): a side
    /// that signs it proves that it holds its identity key and took part in this very exchange.
    /// </summary>
    public ReadOnlySpan<byte> Binding
    {
        get
        {
            ObjectDisposedException.ThrowIf(disposed, this);
            return binding;
        }
    }

    /// <summary>
    /// Opens the channel of a side whose SPAKE2 exchange has succeeded (both confirmations
    /// verified); the role is that side's. Ke does not leave the protocol library.
    /// </summary>
    /// <exception cref="InvalidOperationException">The exchange has not (or not yet) succeeded.</exception>
    public static PakeChannel Establish(Spake2Party party)
    {
        ArgumentNullException.ThrowIfNull(party);
        return new PakeChannel(party.Role, party.ConfirmedKey);
    }

    /// <summary>Tests only: a channel over a given Ke.</summary>
    internal static PakeChannel EstablishCore(Spake2Role role, ReadOnlySpan<byte> ke) => new(role, ke);

    /// <summary>Encrypts the next record to the peer: ciphertext || 16-byte tag.</summary>
    public byte[] Seal(ReadOnlySpan<byte> plaintext)
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        if (plaintext.Length > MaxPlaintextSize)
        {
            throw new ArgumentException($"A record carries at most {MaxPlaintextSize} bytes.", nameof(plaintext));
        }

        Span<byte> nonce = stackalloc byte[IvSize];
        RecordNonce(sendIv, sent, nonce);
        var output = new byte[plaintext.Length + Aead.TagSize];
        Aead.Encrypt(sendKey, nonce, plaintext, RecordLabel, output);
        sent++;
        return output;
    }

    /// <summary>Decrypts the next record from the peer.</summary>
    /// <exception cref="ParleyProtocolException">
    /// <see cref="ProtocolErrorKind.Tampered"/>: the record was altered, is not the next one, or is
    /// not from the peer. The channel is then unusable in that direction (the count does not move).
    /// </exception>
    public byte[] Open(ReadOnlySpan<byte> record)
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        if (record.Length < Aead.TagSize || record.Length > MaxPlaintextSize + Aead.TagSize)
        {
            throw Error.Malformed("PAKE channel record");
        }

        Span<byte> nonce = stackalloc byte[IvSize];
        RecordNonce(receiveIv, received, nonce);
        var plaintext = new byte[record.Length - Aead.TagSize];
        if (!Aead.TryDecrypt(receiveKey, nonce, record, RecordLabel, plaintext))
        {
            throw Error.Tampered();
        }

        received++;
        return plaintext;
    }

    /// <summary>This side's signature over the binding: Ed25519(IK, label || own role || binding).</summary>
    public byte[] SignBinding(IdentityKeyPair identity)
    {
        ArgumentNullException.ThrowIfNull(identity);
        ObjectDisposedException.ThrowIf(disposed, this);
        return identity.Sign(SignedBinding(ownRole));
    }

    /// <summary>Whether <paramref name="signature"/> is the peer's signature over this channel's binding with <paramref name="peerIdentity"/>.</summary>
    public bool VerifyPeerBinding(IdentityKey peerIdentity, ReadOnlySpan<byte> signature)
    {
        ArgumentNullException.ThrowIfNull(peerIdentity);
        ObjectDisposedException.ThrowIf(disposed, this);
        return peerIdentity.Verify(SignedBinding(peerRole), signature);
    }

    /// <summary>
    /// SK for a Double Ratchet between the two sides (Double Ratchet §3.3): 32 bytes from Ke under
    /// its own label. The caller wipes it after use.
    /// </summary>
    public byte[] DeriveRatchetSecret()
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        var secret = new byte[RatchetSecretSize];
        Hkdf.Sha256(sharedKey, default, RatchetLabel, secret);
        return secret;
    }

    /// <summary>Wipes every key.</summary>
    public void Dispose()
    {
        CryptographicOperations.ZeroMemory(sharedKey);
        CryptographicOperations.ZeroMemory(sendKey);
        CryptographicOperations.ZeroMemory(sendIv);
        CryptographicOperations.ZeroMemory(receiveKey);
        CryptographicOperations.ZeroMemory(receiveIv);
        CryptographicOperations.ZeroMemory(binding);
        disposed = true;
    }

    /// <summary>Never reveals key material.</summary>
    public override string ToString() => nameof(PakeChannel);

    /// <summary>RFC 8446 §5.3: the 64-bit record number, big-endian, left-padded to the IV length, XORed with the IV.</summary>
    internal static void RecordNonce(ReadOnlySpan<byte> iv, ulong number, Span<byte> nonce)
    {
        iv.CopyTo(nonce);
        var tail = nonce[(IvSize - sizeof(ulong))..];
        BinaryPrimitives.WriteUInt64BigEndian(tail, BinaryPrimitives.ReadUInt64BigEndian(tail) ^ number);
    }

    private static byte RoleByte(Spake2Role role) => role == Spake2Role.A ? (byte)'A' : (byte)'B';

    private byte[] SignedBinding(byte role)
    {
        var message = new byte[IdentityLabel.Length + 1 + BindingSize];
        IdentityLabel.CopyTo(message);
        message[IdentityLabel.Length] = role;
        binding.CopyTo(message, IdentityLabel.Length + 1);
        return message;
    }
}
