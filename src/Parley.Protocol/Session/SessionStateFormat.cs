using Google.Protobuf;
using Parley.Protocol.Identity;
using Parley.Protocol.Internal;
using Parley.Protocol.Primitives;
using Parley.Protocol.Ratchet;
using Parley.Protocol.Wire;
using PendingPreKey = Parley.Protocol.Internal.Stored.PendingPreKey;

namespace Parley.Protocol.Session;

/// <summary>
/// The saved session: the SessionState message of protos/parley/v1/local_state.proto, written and
/// read directly because a client saves and restores it around every message. The bytes are
/// exactly those of the generated SessionState code (fields in number order, defaults omitted),
/// so either can read what the other wrote; the tests check both directions. Reading checks the
/// same things, in the same order, as restoring through the generated parser did.
/// </summary>
internal static class SessionStateFormat
{
    // SessionState fields.
    private const int VersionField = 1;
    private const int LocalIdentityField = 2;
    private const int RemoteIdentityField = 3;
    private const int RootKeyField = 4;
    private const int SendingRatchetPrivateField = 5;
    private const int SendingRatchetPublicField = 6;
    private const int ReceivingRatchetKeyField = 7;
    private const int SendingChainKeyField = 8;
    private const int ReceivingChainKeyField = 9;
    private const int SendingCounterField = 10;
    private const int ReceivingCounterField = 11;
    private const int PreviousSendingCounterField = 12;
    private const int SkippedField = 13;
    private const int RetiredField = 14;
    private const int PendingPreKeyField = 15;
    private const int BaseKeyField = 16;
    private const int InitiatorField = 17;

    // PublicIdentity (protocol.proto), SkippedMessageKey and RetiredChain fields.
    private const int SigningKeyField = 1;
    private const int DhKeyField = 2;
    private const int DhKeySignatureField = 3;
    private const int EntryRatchetKeyField = 1;
    private const int EntryCounterField = 2;
    private const int EntryMessageKeyField = 3;

    private const string What = "session state";

    internal static byte[] Write(IdentityKey local, IdentityKey remote, ReadOnlySpan<byte> baseKey, bool initiator, PendingPreKey? pending, RatchetState state)
    {
        var pendingSize = pending?.CalculateSize() ?? 0;
        var size = ProtobufWriter.UInt32FieldSize(VersionField, ProtocolVersion.Current)
            + ProtobufWriter.MessageFieldSize(LocalIdentityField, IdentitySize(local))
            + ProtobufWriter.MessageFieldSize(RemoteIdentityField, IdentitySize(remote))
            + ProtobufWriter.BytesFieldSize(RootKeyField, state.RootKey.Length)
            + ProtobufWriter.BytesFieldSize(SendingRatchetPrivateField, state.SendingPrivate.Length)
            + ProtobufWriter.BytesFieldSize(SendingRatchetPublicField, state.SendingPublic.Length)
            + ProtobufWriter.BytesFieldSize(ReceivingRatchetKeyField, state.ReceivingRatchetKey?.Length ?? 0)
            + ProtobufWriter.BytesFieldSize(SendingChainKeyField, state.SendingChainKey?.Length ?? 0)
            + ProtobufWriter.BytesFieldSize(ReceivingChainKeyField, state.ReceivingChainKey?.Length ?? 0)
            + ProtobufWriter.UInt32FieldSize(SendingCounterField, state.SendingCounter)
            + ProtobufWriter.UInt32FieldSize(ReceivingCounterField, state.ReceivingCounter)
            + ProtobufWriter.UInt32FieldSize(PreviousSendingCounterField, state.PreviousSendingCounter)
            + (pending is null ? 0 : ProtobufWriter.MessageFieldSize(PendingPreKeyField, pendingSize))
            + ProtobufWriter.BytesFieldSize(BaseKeyField, baseKey.Length)
            + ProtobufWriter.BoolFieldSize(InitiatorField, initiator);
        foreach (var key in state.Skipped.Keys)
        {
            size += ProtobufWriter.MessageFieldSize(SkippedField, SkippedSize(key));
        }

        foreach (var (ratchetKey, next) in state.Retired)
        {
            size += ProtobufWriter.MessageFieldSize(RetiredField, RetiredSize(ratchetKey, next));
        }

        var bytes = new byte[size];
        var writer = new ProtobufWriter(bytes);
        writer.WriteUInt32Field(VersionField, ProtocolVersion.Current);
        WriteIdentity(ref writer, LocalIdentityField, local);
        WriteIdentity(ref writer, RemoteIdentityField, remote);
        writer.WriteBytesField(RootKeyField, state.RootKey);
        writer.WriteBytesField(SendingRatchetPrivateField, state.SendingPrivate);
        writer.WriteBytesField(SendingRatchetPublicField, state.SendingPublic);
        writer.WriteBytesField(ReceivingRatchetKeyField, state.ReceivingRatchetKey);
        writer.WriteBytesField(SendingChainKeyField, state.SendingChainKey);
        writer.WriteBytesField(ReceivingChainKeyField, state.ReceivingChainKey);
        writer.WriteUInt32Field(SendingCounterField, state.SendingCounter);
        writer.WriteUInt32Field(ReceivingCounterField, state.ReceivingCounter);
        writer.WriteUInt32Field(PreviousSendingCounterField, state.PreviousSendingCounter);
        foreach (var key in state.Skipped.Keys)
        {
            writer.WriteMessageHeader(SkippedField, SkippedSize(key));
            writer.WriteBytesField(EntryRatchetKeyField, key.RatchetKey);
            writer.WriteUInt32Field(EntryCounterField, key.Counter);
            writer.WriteBytesField(EntryMessageKeyField, key.MessageKey);
        }

        foreach (var (ratchetKey, next) in state.Retired)
        {
            writer.WriteMessageHeader(RetiredField, RetiredSize(ratchetKey, next));
            writer.WriteBytesField(EntryRatchetKeyField, ratchetKey);
            writer.WriteUInt32Field(EntryCounterField, next);
        }

        if (pending is not null)
        {
            writer.WriteMessageHeader(PendingPreKeyField, pendingSize);
            pending.WriteTo(writer.Take(pendingSize));
        }

        writer.WriteBytesField(BaseKeyField, baseKey);
        writer.WriteBoolField(InitiatorField, initiator);
        if (writer.Written != size)
        {
            throw new InvalidOperationException("session state size mismatch");
        }

        return bytes;
    }

    /// <summary>Restores what <see cref="Write"/> (or the generated SessionState code) wrote.</summary>
    internal static RestoredSession Read(ReadOnlySpan<byte> bytes)
    {
        // First pass: the singular fields (the last occurrence wins, embedded messages merge).
        var fields = default(Fields);
        var reader = new ProtobufReader(bytes, What);
        PendingPreKey? pending = null;
        var repeated = 0;
        while (reader.TryReadTag(out var tag))
        {
            switch (tag)
            {
                case VersionField << 3: fields.Version = reader.ReadUInt32(); break;
                case (LocalIdentityField << 3) | 2: ReadIdentity(reader.ReadLengthDelimited(), ref fields.Local); break;
                case (RemoteIdentityField << 3) | 2: ReadIdentity(reader.ReadLengthDelimited(), ref fields.Remote); break;
                case (RootKeyField << 3) | 2: fields.RootKey = reader.ReadLengthDelimited(); break;
                case (SendingRatchetPrivateField << 3) | 2: fields.SendingPrivate = reader.ReadLengthDelimited(); break;
                case (SendingRatchetPublicField << 3) | 2: fields.SendingPublic = reader.ReadLengthDelimited(); break;
                case (ReceivingRatchetKeyField << 3) | 2: fields.ReceivingRatchetKey = reader.ReadLengthDelimited(); break;
                case (SendingChainKeyField << 3) | 2: fields.SendingChainKey = reader.ReadLengthDelimited(); break;
                case (ReceivingChainKeyField << 3) | 2: fields.ReceivingChainKey = reader.ReadLengthDelimited(); break;
                case SendingCounterField << 3: fields.SendingCounter = reader.ReadUInt32(); break;
                case ReceivingCounterField << 3: fields.ReceivingCounter = reader.ReadUInt32(); break;
                case PreviousSendingCounterField << 3: fields.PreviousSendingCounter = reader.ReadUInt32(); break;
                case (SkippedField << 3) | 2:
                case (RetiredField << 3) | 2:
                    // Only checked for well-formedness here, as the generated parser would; read below.
                    _ = ReadEntry(reader.ReadLengthDelimited());
                    repeated++;
                    break;
                case (PendingPreKeyField << 3) | 2:
                    pending ??= new PendingPreKey();
                    MergePending(pending, reader.ReadLengthDelimited());
                    break;
                case (BaseKeyField << 3) | 2: fields.BaseKey = reader.ReadLengthDelimited(); break;
                case InitiatorField << 3: fields.Initiator = reader.ReadBool(); break;
                default: reader.Skip(tag); break;
            }
        }

        if (fields.Version != ProtocolVersion.Current)
        {
            throw Error.UnsupportedVersion(What, fields.Version);
        }

        if (fields.BaseKey.Length != X25519.KeySize)
        {
            throw Error.Malformed("session state (base key)");
        }

        var local = fields.Local.ToIdentityKey();
        var remote = fields.Remote.ToIdentityKey();
        var state = new RatchetState
        {
            RootKey = Exact(fields.RootKey, RatchetKeys.RootKeySize, "root key"),
            SendingPrivate = Exact(fields.SendingPrivate, X25519.KeySize, "sending ratchet key"),
            SendingPublic = Exact(fields.SendingPublic, X25519.KeySize, "sending ratchet key"),
            ReceivingRatchetKey = Optional(fields.ReceivingRatchetKey, X25519.KeySize, "receiving ratchet key"),
            SendingChainKey = Optional(fields.SendingChainKey, ChainKey.Size, "sending chain key"),
            ReceivingChainKey = Optional(fields.ReceivingChainKey, ChainKey.Size, "receiving chain key"),
            SendingCounter = fields.SendingCounter,
            ReceivingCounter = fields.ReceivingCounter,
            PreviousSendingCounter = fields.PreviousSendingCounter,
        };
        if (repeated > 0)
        {
            ReadRepeated(bytes, state);
        }

        return new RestoredSession(local, remote, fields.Initiator, fields.BaseKey.ToArray(), state, pending);
    }

    /// <summary>Second pass: the skipped message keys, then the retired chains, each oldest first.</summary>
    private static void ReadRepeated(ReadOnlySpan<byte> bytes, RatchetState state)
    {
        var reader = new ProtobufReader(bytes, What);
        List<(byte[] RatchetKey, uint NextCounter)>? retired = null;
        while (reader.TryReadTag(out var tag))
        {
            if (tag == ((SkippedField << 3) | 2))
            {
                var entry = ReadEntry(reader.ReadLengthDelimited());
                state.Skipped.Add(new SkippedKey(
                    Exact(entry.RatchetKey, X25519.KeySize, "skipped key"),
                    entry.Counter,
                    Exact(entry.MessageKey, ChainKey.Size, "skipped key")));
            }
            else if (tag == ((RetiredField << 3) | 2))
            {
                var entry = ReadEntry(reader.ReadLengthDelimited());
                (retired ??= []).Add((entry.RatchetKey.ToArray(), entry.Counter));
            }
            else
            {
                reader.Skip(tag);
            }
        }

        // The generated code read every skipped key before any retired chain; so do the checks.
        foreach (var (ratchetKey, next) in retired ?? [])
        {
            if (ratchetKey.Length != X25519.KeySize)
            {
                throw Error.Malformed("session state (retired chain)");
            }

            state.Retire(ratchetKey, next);
        }
    }

    /// <summary>A SkippedMessageKey or RetiredChain: ratchet key (1), counter (2), message key (3, skipped keys only).</summary>
    private static Entry ReadEntry(ReadOnlySpan<byte> bytes)
    {
        var reader = new ProtobufReader(bytes, What);
        var entry = default(Entry);
        while (reader.TryReadTag(out var tag))
        {
            switch (tag)
            {
                case (EntryRatchetKeyField << 3) | 2: entry.RatchetKey = reader.ReadLengthDelimited(); break;
                case EntryCounterField << 3: entry.Counter = reader.ReadUInt32(); break;
                case (EntryMessageKeyField << 3) | 2: entry.MessageKey = reader.ReadLengthDelimited(); break;
                default: reader.Skip(tag); break;
            }
        }

        return entry;
    }

    private static void MergePending(PendingPreKey pending, ReadOnlySpan<byte> bytes)
    {
        try
        {
            pending.MergeFrom(bytes);
        }
        catch (InvalidProtocolBufferException e)
        {
            throw Error.Malformed(What, e);
        }
    }

    private static int IdentitySize(IdentityKey identity) =>
        ProtobufWriter.BytesFieldSize(SigningKeyField, identity.SigningKey.Length)
        + ProtobufWriter.BytesFieldSize(DhKeyField, identity.DhKey.Length)
        + ProtobufWriter.BytesFieldSize(DhKeySignatureField, identity.DhKeySignature.Length);

    private static void WriteIdentity(ref ProtobufWriter writer, int field, IdentityKey identity)
    {
        writer.WriteMessageHeader(field, IdentitySize(identity));
        writer.WriteBytesField(SigningKeyField, identity.SigningKey);
        writer.WriteBytesField(DhKeyField, identity.DhKey);
        writer.WriteBytesField(DhKeySignatureField, identity.DhKeySignature);
    }

    private static void ReadIdentity(ReadOnlySpan<byte> bytes, ref IdentityFields identity)
    {
        identity.Present = true;
        var reader = new ProtobufReader(bytes, What);
        while (reader.TryReadTag(out var tag))
        {
            switch (tag)
            {
                case (SigningKeyField << 3) | 2: identity.SigningKey = reader.ReadLengthDelimited(); break;
                case (DhKeyField << 3) | 2: identity.DhKey = reader.ReadLengthDelimited(); break;
                case (DhKeySignatureField << 3) | 2: identity.DhKeySignature = reader.ReadLengthDelimited(); break;
                default: reader.Skip(tag); break;
            }
        }
    }

    private static int SkippedSize(SkippedKey key) =>
        ProtobufWriter.BytesFieldSize(EntryRatchetKeyField, key.RatchetKey.Length)
        + ProtobufWriter.UInt32FieldSize(EntryCounterField, key.Counter)
        + ProtobufWriter.BytesFieldSize(EntryMessageKeyField, key.MessageKey.Length);

    private static int RetiredSize(byte[] ratchetKey, uint next) =>
        ProtobufWriter.BytesFieldSize(EntryRatchetKeyField, ratchetKey.Length)
        + ProtobufWriter.UInt32FieldSize(EntryCounterField, next);

    private static byte[] Exact(ReadOnlySpan<byte> value, int size, string what) =>
        value.Length == size ? value.ToArray() : throw Error.Malformed($"session state ({what})");

    private static byte[]? Optional(ReadOnlySpan<byte> value, int size, string what) =>
        value.IsEmpty ? null : Exact(value, size, what);

    /// <summary>The singular fields of one SessionState, as spans of the input.</summary>
    private ref struct Fields
    {
        internal uint Version;
        internal IdentityFields Local;
        internal IdentityFields Remote;
        internal ReadOnlySpan<byte> RootKey;
        internal ReadOnlySpan<byte> SendingPrivate;
        internal ReadOnlySpan<byte> SendingPublic;
        internal ReadOnlySpan<byte> ReceivingRatchetKey;
        internal ReadOnlySpan<byte> SendingChainKey;
        internal ReadOnlySpan<byte> ReceivingChainKey;
        internal uint SendingCounter;
        internal uint ReceivingCounter;
        internal uint PreviousSendingCounter;
        internal ReadOnlySpan<byte> BaseKey;
        internal bool Initiator;
    }

    /// <summary>A SkippedMessageKey or RetiredChain entry, as spans of the input.</summary>
    private ref struct Entry
    {
        internal ReadOnlySpan<byte> RatchetKey;
        internal uint Counter;
        internal ReadOnlySpan<byte> MessageKey;
    }

    /// <summary>A PublicIdentity as stored: verified when first seen, so only the lengths are checked.</summary>
    private ref struct IdentityFields
    {
        internal bool Present;
        internal ReadOnlySpan<byte> SigningKey;
        internal ReadOnlySpan<byte> DhKey;
        internal ReadOnlySpan<byte> DhKeySignature;

        internal readonly IdentityKey ToIdentityKey()
        {
            if (!Present
                || SigningKey.Length != Ed25519.PublicKeySize
                || DhKey.Length != X25519.KeySize
                || DhKeySignature.Length != Ed25519.SignatureSize)
            {
                throw Error.Malformed("stored identity key");
            }

            return new IdentityKey(SigningKey.ToArray(), DhKey.ToArray(), DhKeySignature.ToArray());
        }
    }
}

/// <summary>What <see cref="SessionStateFormat.Read"/> restores.</summary>
internal sealed record RestoredSession(IdentityKey Local, IdentityKey Remote, bool Initiator, byte[] BaseKey, RatchetState State, PendingPreKey? Pending);
