using System.Security.Cryptography;
using Google.Protobuf;
using Parley.Protocol.Identity;
using Parley.Protocol.Internal;
using Parley.Protocol.Primitives;
using Parley.Protocol.PreKeys;
using Parley.Protocol.Ratchet;
using Parley.Protocol.Storage;
using PendingPreKey = Parley.Protocol.Internal.Stored.PendingPreKey;
using Parley.Protocol.Wire;

namespace Parley.Protocol.Session;

/// <summary>
/// An end-to-end session with one peer: set up by PQXDH, then every message encrypted with the
/// Double Ratchet. The caller persists it with <see cref="Serialize"/> after every
/// <see cref="Encrypt"/> and <c>Decrypt</c> and restores it with <see cref="Deserialize"/>.
/// A message that fails to decrypt throws <see cref="ParleyProtocolException"/> and leaves the
/// session unchanged.
/// </summary>
public sealed class RatchetSession : IDisposable
{
    private readonly RatchetState state;
    private readonly byte[] associatedDataPrefix;
    private readonly byte[] baseKey;
    private PendingPreKey? pendingPreKey;

    private RatchetSession(IdentityKey local, IdentityKey remote, bool initiator, byte[] baseKey, RatchetState state, PendingPreKey? pendingPreKey)
    {
        LocalIdentity = local;
        RemoteIdentity = remote;
        IsInitiator = initiator;
        this.baseKey = baseKey;
        this.state = state;
        this.pendingPreKey = pendingPreKey;
        associatedDataPrefix = initiator ? DoubleRatchet.AssociatedDataPrefix(local, remote) : DoubleRatchet.AssociatedDataPrefix(remote, local);
    }

    /// <summary>This side's identity.</summary>
    public IdentityKey LocalIdentity { get; }

    /// <summary>The peer's identity, as the PQXDH bound it.</summary>
    public IdentityKey RemoteIdentity { get; }

    /// <summary>True on the side that processed the prekey bundle.</summary>
    public bool IsInitiator { get; }

    /// <summary>The initiator's ephemeral key EK_A: identifies the PQXDH run that made this session.</summary>
    public ReadOnlySpan<byte> BaseKey => baseKey;

    /// <summary>True until the initiator has decrypted a first reply; until then it sends PreKeyMessages.</summary>
    public bool AwaitingFirstReply => pendingPreKey is not null;

    /// <summary>
    /// Starts a session from a peer's prekey bundle (PQXDH §3.3): checks the bundle's signatures,
    /// agrees the shared secret, and initialises the ratchet as the sender. The caller checks
    /// that the bundle's identity is the one certified for the peer's name.
    /// </summary>
    public static RatchetSession Initiate(IdentityKeyPair local, PreKeyBundle bundle)
    {
        ArgumentNullException.ThrowIfNull(local);
        ArgumentNullException.ThrowIfNull(bundle);
        if (bundle.Version != ProtocolVersion.Current)
        {
            throw Error.UnsupportedVersion("prekey bundle", bundle.Version);
        }

        if (bundle.Identity is null || bundle.SignedPreKey is null || bundle.KemPreKey is null)
        {
            throw Error.Malformed("prekey bundle");
        }

        var remote = IdentityKey.FromWire(bundle.Identity);
        if (!SignedPreKeyRecord.Verify(remote, bundle.SignedPreKey))
        {
            throw Error.InvalidSignature("signed prekey");
        }

        if (!KemPreKeyRecord.Verify(remote, bundle.KemPreKey))
        {
            throw Error.InvalidSignature("KEM prekey");
        }

        var oneTime = bundle.OneTimePreKey;
        if (oneTime is not null && oneTime.PublicKey.Length != X25519.KeySize)
        {
            throw Error.Malformed("one-time prekey");
        }

        var ephemeralPrivate = new byte[X25519.KeySize];
        var ephemeralPublic = new byte[X25519.KeySize];
        var kemCiphertext = new byte[MlKem768.CiphertextSize];
        Span<byte> kemSecret = stackalloc byte[MlKem768.SharedSecretSize];
        byte[]? sharedSecret = null;
        try
        {
            X25519.GenerateKeyPair(ephemeralPrivate, ephemeralPublic);
            if (!MlKem768.TryEncapsulate(bundle.KemPreKey.PublicKey.Span, kemCiphertext, kemSecret))
            {
                throw Error.InvalidKey("KEM prekey");
            }

            sharedSecret = Pqxdh.DeriveInitiator(
                local.DhPrivate,
                ephemeralPrivate,
                remote.DhKey,
                bundle.SignedPreKey.PublicKey.Span,
                oneTime is null ? default : oneTime.PublicKey.Span,
                kemSecret);
            var ratchet = DoubleRatchet.InitializeInitiator(sharedSecret, bundle.SignedPreKey.PublicKey.Span);
            var pending = new PendingPreKey
            {
                EphemeralKey = ByteString.CopyFrom(ephemeralPublic),
                SignedPreKeyId = bundle.SignedPreKey.Id,
                KemPreKeyId = bundle.KemPreKey.Id,
                KemCiphertext = UnsafeByteOperations.UnsafeWrap(kemCiphertext),
                HasOneTimePreKey = oneTime is not null,
                OneTimePreKeyId = oneTime?.Id ?? 0,
            };
            return new RatchetSession(local.PublicKey, remote, initiator: true, ephemeralPublic, ratchet, pending);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(ephemeralPrivate);
            CryptographicOperations.ZeroMemory(kemSecret);
            CryptographicOperations.ZeroMemory(sharedSecret);
        }
    }

    /// <summary>
    /// Starts a session from a secret the two sides already share, SK, instead of PQXDH (Double
    /// Ratchet §3.3, RatchetInitAlice): this side sends first, to the responder's ratchet key,
    /// which must carry <paramref name="remote"/>'s signature (it is checked here). The caller has
    /// authenticated <paramref name="remote"/> and derived SK under its own label (e.g.
    /// <see cref="Pake.PakeChannel.DeriveRatchetSecret"/>); the session sends RatchetMessages only.
    /// </summary>
    /// <exception cref="ParleyProtocolException">InvalidSignature or InvalidKey: the ratchet key is not the remote's or not usable.</exception>
    public static RatchetSession InitiateWithSharedSecret(IdentityKeyPair local, IdentityKey remote, ReadOnlySpan<byte> sharedSecret, SignedPreKey responderRatchetKey)
    {
        ArgumentNullException.ThrowIfNull(local);
        ArgumentNullException.ThrowIfNull(remote);
        ArgumentNullException.ThrowIfNull(responderRatchetKey);
        CheckSharedSecret(sharedSecret);
        if (responderRatchetKey.PublicKey.Length != X25519.KeySize)
        {
            throw Error.Malformed("ratchet key");
        }

        if (!SignedPreKeyRecord.Verify(remote, responderRatchetKey))
        {
            throw Error.InvalidSignature("ratchet key");
        }

        var ratchet = DoubleRatchet.InitializeInitiator(sharedSecret, responderRatchetKey.PublicKey.Span);
        return new RatchetSession(local.PublicKey, remote, initiator: true, responderRatchetKey.PublicKey.ToByteArray(), ratchet, pendingPreKey: null);
    }

    /// <summary>
    /// The other half of <see cref="InitiateWithSharedSecret"/> (Double Ratchet §3.3,
    /// RatchetInitBob): <paramref name="ratchetKey"/> is the key pair whose signed public half this
    /// side gave the initiator. It can send once the initiator's first message has decrypted.
    /// </summary>
    public static RatchetSession AcceptWithSharedSecret(IdentityKeyPair local, IdentityKey remote, ReadOnlySpan<byte> sharedSecret, SignedPreKeyRecord ratchetKey)
    {
        ArgumentNullException.ThrowIfNull(local);
        ArgumentNullException.ThrowIfNull(remote);
        ArgumentNullException.ThrowIfNull(ratchetKey);
        CheckSharedSecret(sharedSecret);
        var ratchet = DoubleRatchet.InitializeResponder(sharedSecret, ratchetKey.PrivateKey, ratchetKey.PublicKey);
        return new RatchetSession(local.PublicKey, remote, initiator: false, ratchetKey.PublicKey.ToArray(), ratchet, pendingPreKey: null);
    }

    /// <summary>
    /// Answers a PreKeyMessage (PQXDH §3.4): finds the prekeys it names, agrees the shared secret,
    /// initialises the ratchet as the receiver and decrypts the message inside. Only when that
    /// decrypts are the one-time prekeys consumed; on any failure nothing changes.
    /// </summary>
    public static RatchetSession Accept(IdentityKeyPair local, PreKeyMessage message, IPreKeyStore preKeys, out byte[] plaintext) =>
        Accept(local, message, preKeys, checkedIdentity: null, out plaintext);

    /// <summary>
    /// As the other <c>Accept</c>, for a caller that has already read <paramref name="message"/>'s
    /// identity with <see cref="IdentityKey.FromWire"/> (<see cref="SessionCipher"/> does, to check
    /// trust first): when <paramref name="checkedIdentity"/> has exactly the message's bytes, its
    /// DH-key signature is not verified a second time.
    /// </summary>
    public static RatchetSession Accept(IdentityKeyPair local, PreKeyMessage message, IPreKeyStore preKeys, IdentityKey? checkedIdentity, out byte[] plaintext) =>
        Accept(local, message, preKeys, checkedIdentity, out plaintext, out _);

    /// <summary>
    /// As the other <c>Accept</c>, and says which of the initiator's messages the one inside showed
    /// to be missing: a first message with counter N means N earlier ones have not arrived.
    /// </summary>
    public static RatchetSession Accept(IdentityKeyPair local, PreKeyMessage message, IPreKeyStore preKeys, IdentityKey? checkedIdentity, out byte[] plaintext, out MessageGaps gaps)
    {
        ArgumentNullException.ThrowIfNull(local);
        ArgumentNullException.ThrowIfNull(message);
        ArgumentNullException.ThrowIfNull(preKeys);
        if (message.Version != ProtocolVersion.Current)
        {
            throw Error.UnsupportedVersion("prekey message", message.Version);
        }

        if (message.Identity is null || message.Message is null
            || message.EphemeralKey.Length != X25519.KeySize
            || message.KemCiphertext.Length != MlKem768.CiphertextSize)
        {
            throw Error.Malformed("prekey message");
        }

        var remote = checkedIdentity is not null && checkedIdentity.IsEncodedIn(message.Identity)
            ? checkedIdentity
            : IdentityKey.FromWire(message.Identity);
        var signedPreKey = preKeys.GetSignedPreKey(message.SignedPreKeyId) ?? throw Error.UnknownPreKey("signed prekey", message.SignedPreKeyId);
        var kemPreKey = preKeys.GetKemPreKey(message.KemPreKeyId) ?? throw Error.UnknownPreKey("KEM prekey", message.KemPreKeyId);
        var oneTimePreKey = message.HasOneTimePreKey
            ? preKeys.GetOneTimePreKey(message.OneTimePreKeyId) ?? throw Error.UnknownPreKey("one-time prekey", message.OneTimePreKeyId)
            : null;

        Span<byte> kemSecret = stackalloc byte[MlKem768.SharedSecretSize];
        byte[]? sharedSecret = null;
        RatchetSession? session = null;
        try
        {
            if (!MlKem768.TryDecapsulate(kemPreKey.SecretKey, message.KemCiphertext.Span, kemSecret))
            {
                throw Error.InvalidKey("KEM prekey");
            }

            sharedSecret = Pqxdh.DeriveResponder(
                local.DhPrivate,
                signedPreKey.PrivateKey,
                oneTimePreKey is null ? default : oneTimePreKey.PrivateKey,
                remote.DhKey,
                message.EphemeralKey.Span,
                kemSecret);
            var ratchet = DoubleRatchet.InitializeResponder(sharedSecret, signedPreKey.PrivateKey, signedPreKey.PublicKey);
            session = new RatchetSession(local.PublicKey, remote, initiator: false, message.EphemeralKey.ToByteArray(), ratchet, pendingPreKey: null);
            plaintext = session.DecryptRatchetMessage(message.Message, out gaps);
            preKeys.ConsumePreKeys(oneTimePreKey?.Id, kemPreKey.Id);
            var accepted = session;
            session = null;
            return accepted;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(kemSecret);
            CryptographicOperations.ZeroMemory(sharedSecret);
            session?.Dispose();
        }
    }

    /// <summary>
    /// Reads a CiphertextMessage from untrusted bytes. Throws Malformed or UnsupportedVersion.
    /// </summary>
    public static CiphertextMessage ParseMessage(ReadOnlySpan<byte> bytes)
    {
        var message = WireParsing.Parse(CiphertextMessage.Parser, bytes, "ciphertext message");
        var version = message.BodyCase switch
        {
            CiphertextMessage.BodyOneofCase.PreKey => message.PreKey.Version,
            CiphertextMessage.BodyOneofCase.Ratchet => message.Ratchet.Version,
            _ => throw Error.Malformed("ciphertext message"),
        };
        if (version != ProtocolVersion.Current)
        {
            throw Error.UnsupportedVersion("message", version);
        }

        return message;
    }

    /// <summary>True when <paramref name="message"/> belongs to this session (same PQXDH run), so it is decrypted here rather than accepted anew.</summary>
    public bool Matches(PreKeyMessage message)
    {
        ArgumentNullException.ThrowIfNull(message);
        return !IsInitiator
            && message.EphemeralKey.Span.SequenceEqual(baseKey)
            && message.Identity is not null
            && message.Identity.SigningKey.Span.SequenceEqual(RemoteIdentity.SigningKey);
    }

    /// <summary>Encrypts one message; returns the serialized CiphertextMessage to send.</summary>
    public byte[] Encrypt(ReadOnlySpan<byte> plaintext)
    {
        if (pendingPreKey is null)
        {
            return RatchetMessageFormat.Encrypt(state, associatedDataPrefix, plaintext);
        }

        var (header, ciphertext) = DoubleRatchet.Encrypt(state, associatedDataPrefix, plaintext);
        var ratchetMessage = new RatchetMessage
        {
            Version = ProtocolVersion.Current,
            Header = UnsafeByteOperations.UnsafeWrap(header),
            Ciphertext = UnsafeByteOperations.UnsafeWrap(ciphertext),
        };
        return new CiphertextMessage
        {
            PreKey = new PreKeyMessage
            {
                Version = ProtocolVersion.Current,
                Identity = LocalIdentity.ToWire(),
                EphemeralKey = pendingPreKey.EphemeralKey,
                SignedPreKeyId = pendingPreKey.SignedPreKeyId,
                KemPreKeyId = pendingPreKey.KemPreKeyId,
                KemCiphertext = pendingPreKey.KemCiphertext,
                HasOneTimePreKey = pendingPreKey.HasOneTimePreKey,
                OneTimePreKeyId = pendingPreKey.OneTimePreKeyId,
                Message = ratchetMessage,
            },
        }.ToByteArray();
    }

    /// <summary>Decrypts a message parsed by <see cref="ParseMessage"/>.</summary>
    public byte[] Decrypt(CiphertextMessage message) => Decrypt(message, out _);

    /// <summary>
    /// Decrypts a message parsed by <see cref="ParseMessage"/>; <paramref name="gaps"/> says which
    /// of the peer's messages it showed to be missing, or which missing one it is (docs/protocol.md §6.5).
    /// </summary>
    public byte[] Decrypt(CiphertextMessage message, out MessageGaps gaps)
    {
        ArgumentNullException.ThrowIfNull(message);
        switch (message.BodyCase)
        {
            case CiphertextMessage.BodyOneofCase.Ratchet:
                return DecryptRatchetMessage(message.Ratchet, out gaps);
            case CiphertextMessage.BodyOneofCase.PreKey:
                if (!Matches(message.PreKey))
                {
                    throw new ParleyProtocolException(ProtocolErrorKind.NoSession, "prekey message starts a different session");
                }

                return DecryptRatchetMessage(message.PreKey.Message, out gaps);
            default:
                throw Error.Malformed("ciphertext message");
        }
    }

    /// <summary>Decrypts serialized CiphertextMessage bytes.</summary>
    public byte[] Decrypt(ReadOnlySpan<byte> message) => Decrypt(message, out _);

    /// <summary>Decrypts serialized CiphertextMessage bytes, with what they say about missing messages (as <see cref="Decrypt(CiphertextMessage, out MessageGaps)"/>).</summary>
    public byte[] Decrypt(ReadOnlySpan<byte> message, out MessageGaps gaps)
    {
        if (!RatchetMessageFormat.TryRead(message, out var header, out var ciphertext))
        {
            return Decrypt(ParseMessage(message), out gaps);
        }

        var plaintext = DoubleRatchet.Decrypt(state, associatedDataPrefix, header, ciphertext, out gaps);
        pendingPreKey = null;
        return plaintext;
    }

    private byte[] DecryptRatchetMessage(RatchetMessage message, out MessageGaps gaps)
    {
        if (message is null)
        {
            throw Error.Malformed("ratchet message");
        }

        if (message.Version != ProtocolVersion.Current)
        {
            throw Error.UnsupportedVersion("ratchet message", message.Version);
        }

        var plaintext = DoubleRatchet.Decrypt(state, associatedDataPrefix, message.Header.Span, message.Ciphertext.Span, out gaps);
        pendingPreKey = null;
        return plaintext;
    }

    /// <summary>The whole session state as bytes (secrets included) for the caller to seal and store.</summary>
    public byte[] Serialize() => SessionStateFormat.Write(LocalIdentity, RemoteIdentity, baseKey, IsInitiator, pendingPreKey, state);

    /// <summary>Restores a session written by <see cref="Serialize"/>.</summary>
    public static RatchetSession Deserialize(ReadOnlySpan<byte> bytes)
    {
        var restored = SessionStateFormat.Read(bytes);
        return new RatchetSession(restored.Local, restored.Remote, restored.Initiator, restored.BaseKey, restored.State, restored.Pending);
    }

    private static void CheckSharedSecret(ReadOnlySpan<byte> sharedSecret)
    {
        if (sharedSecret.Length != RatchetKeys.RootKeySize)
        {
            throw new ArgumentException($"SK must be {RatchetKeys.RootKeySize} bytes.", nameof(sharedSecret));
        }
    }

    /// <inheritdoc/>
    public void Dispose() => state.Dispose();

    /// <summary>Names the peer only.</summary>
    public override string ToString() => $"RatchetSession(with {RemoteIdentity.Fingerprint})";
}
