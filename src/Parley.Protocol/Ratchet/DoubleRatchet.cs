using System.Security.Cryptography;
using Parley.Protocol.Internal;
using Parley.Protocol.Primitives;
using Parley.Protocol.Wire;

namespace Parley.Protocol.Ratchet;

/// <summary>
/// The Double Ratchet algorithm (Signal, revision 4) over a <see cref="RatchetState"/>:
/// RatchetInitAlice/Bob, RatchetEncrypt and RatchetDecrypt with skipped message keys.
/// Decryption computes every change into temporaries and commits them only after the AEAD
/// accepted the message, so a rejected message leaves the state exactly as it was.
/// </summary>
internal static class DoubleRatchet
{
    /// <summary>Associated data prefix length: Encode(IK_A) || Encode(IK_B) || version.</summary>
    internal const int AssociatedDataPrefixSize = 2 * Identity.IdentityKey.EncodedSize + 1;

    /// <summary>RatchetInitAlice (§3.3): the initiator knows the responder's signed prekey as its first DHr.</summary>
    internal static RatchetState InitializeInitiator(ReadOnlySpan<byte> sharedSecret, ReadOnlySpan<byte> responderRatchetKey)
    {
        var state = new RatchetState
        {
            SendingPrivate = new byte[X25519.KeySize],
            SendingPublic = new byte[X25519.KeySize],
            ReceivingRatchetKey = responderRatchetKey.ToArray(),
            RootKey = new byte[RatchetKeys.RootKeySize],
            SendingChainKey = new byte[ChainKey.Size],
        };
        X25519.GenerateKeyPair(state.SendingPrivate, state.SendingPublic);
        Span<byte> dh = stackalloc byte[X25519.KeySize];
        try
        {
            if (!X25519.TryAgree(state.SendingPrivate, responderRatchetKey, dh))
            {
                state.Dispose();
                throw Error.InvalidKey("signed prekey");
            }

            RootKey.Step(sharedSecret, dh, state.RootKey, state.SendingChainKey);
            return state;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(dh);
        }
    }

    /// <summary>RatchetInitBob (§3.3): the responder's signed prekey pair is its first sending ratchet pair.</summary>
    internal static RatchetState InitializeResponder(ReadOnlySpan<byte> sharedSecret, ReadOnlySpan<byte> signedPreKeyPrivate, ReadOnlySpan<byte> signedPreKeyPublic) => new()
    {
        SendingPrivate = signedPreKeyPrivate.ToArray(),
        SendingPublic = signedPreKeyPublic.ToArray(),
        RootKey = sharedSecret.ToArray(),
    };

    /// <summary>RatchetEncrypt (§3.4). Returns the 40-byte header and ciphertext || tag.</summary>
    internal static (byte[] Header, byte[] Ciphertext) Encrypt(RatchetState state, ReadOnlySpan<byte> associatedDataPrefix, ReadOnlySpan<byte> plaintext)
    {
        CheckCanEncrypt(state);
        var header = new byte[MessageHeader.Size];
        var ciphertext = new byte[plaintext.Length + Aead.TagSize];
        Encrypt(state, associatedDataPrefix, plaintext, header, ciphertext);
        return (header, ciphertext);
    }

    /// <summary>
    /// RatchetEncrypt (§3.4) into the caller's buffers: <paramref name="header"/> is 40 bytes and
    /// <paramref name="ciphertext"/> is the plaintext length + 16 (ciphertext || tag).
    /// </summary>
    internal static void Encrypt(RatchetState state, ReadOnlySpan<byte> associatedDataPrefix, ReadOnlySpan<byte> plaintext, Span<byte> header, Span<byte> ciphertext)
    {
        CheckCanEncrypt(state);
        var chainKey = state.SendingChainKey!;
        new MessageHeader(state.SendingPublic, state.PreviousSendingCounter, state.SendingCounter).Write(header);

        Span<byte> messageKey = stackalloc byte[RatchetKeys.MessageKeySize];
        Span<byte> associatedData = stackalloc byte[AssociatedDataPrefixSize + MessageHeader.Size];
        try
        {
            ChainKey.Step(chainKey, messageKey, chainKey);
            state.SendingCounter++;
            WriteAssociatedData(associatedDataPrefix, header, associatedData);
            Aead.Encrypt(messageKey, RatchetKeys.Nonce, plaintext, associatedData, ciphertext);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(messageKey);
        }
    }

    private static void CheckCanEncrypt(RatchetState state)
    {
        if (state.SendingChainKey is null)
        {
            throw Error.NoSession();
        }

        if (state.SendingCounter == uint.MaxValue)
        {
            throw new InvalidOperationException("the sending chain is exhausted; the peer must reply before more can be sent");
        }
    }

    /// <summary>
    /// RatchetDecrypt (§3.5). Throws <see cref="ParleyProtocolException"/> and leaves the state
    /// unchanged on any failure. <paramref name="gaps"/> says which messages this one showed to be
    /// missing (the keys it skipped) or which missing one it is (a stored skipped key opened it).
    /// </summary>
    internal static byte[] Decrypt(RatchetState state, ReadOnlySpan<byte> associatedDataPrefix, ReadOnlySpan<byte> headerBytes, ReadOnlySpan<byte> ciphertext, out MessageGaps gaps)
    {
        if (!MessageHeader.TryRead(headerBytes, out var header))
        {
            throw Error.Malformed("ratchet header");
        }

        if (ciphertext.Length < Aead.TagSize)
        {
            throw Error.Malformed("ratchet ciphertext");
        }

        Span<byte> associatedData = stackalloc byte[AssociatedDataPrefixSize + MessageHeader.Size];
        WriteAssociatedData(associatedDataPrefix, headerBytes, associatedData);
        var plaintext = new byte[ciphertext.Length - Aead.TagSize];

        var skippedIndex = state.Skipped.IndexOf(header.RatchetKey, header.Counter);
        if (skippedIndex >= 0)
        {
            if (!Aead.TryDecrypt(state.Skipped[skippedIndex].MessageKey, RatchetKeys.Nonce, ciphertext, associatedData, plaintext))
            {
                throw Error.Tampered();
            }

            gaps = MessageGaps.Closing(state.Skipped[skippedIndex].RatchetKey, header.Counter);
            state.Skipped.RemoveAt(skippedIndex);
            return plaintext;
        }

        if (state.ReceivingChainKey is not null && header.RatchetKey.SequenceEqual(state.ReceivingRatchetKey))
        {
            gaps = DecryptOnReceivingChain(state, header, associatedData, ciphertext, plaintext);
            return plaintext;
        }

        if (state.TryFindRetired(header.RatchetKey, out var retiredNext))
        {
            // A chain we moved past: every key below its end was used or is stored as skipped.
            throw header.Counter < retiredNext ? Error.Replayed(header.Counter) : Error.Tampered();
        }

        gaps = DecryptWithRatchetStep(state, header, associatedData, ciphertext, plaintext);
        return plaintext;
    }

    private static MessageGaps DecryptOnReceivingChain(RatchetState state, MessageHeader header, ReadOnlySpan<byte> associatedData, ReadOnlySpan<byte> ciphertext, Span<byte> plaintext)
    {
        if (header.Counter < state.ReceivingCounter)
        {
            throw Error.Replayed(header.Counter);
        }

        if (header.Counter - state.ReceivingCounter > RatchetLimits.MaxSkip)
        {
            throw Error.TooFarAhead(header.Counter, state.ReceivingCounter);
        }

        Span<byte> chainKey = stackalloc byte[ChainKey.Size];
        Span<byte> messageKey = stackalloc byte[RatchetKeys.MessageKeySize];
        List<SkippedKey>? skipped = null;
        try
        {
            state.ReceivingChainKey.CopyTo(chainKey);
            skipped = SkipTo(chainKey, state.ReceivingRatchetKey!, state.ReceivingCounter, header.Counter);
            ChainKey.Step(chainKey, messageKey, chainKey);
            if (!Aead.TryDecrypt(messageKey, RatchetKeys.Nonce, ciphertext, associatedData, plaintext))
            {
                throw Error.Tampered();
            }

            var gaps = MessageGaps.Opening(state.ReceivingRatchetKey!, state.ReceivingCounter, header.Counter);
            chainKey.CopyTo(state.ReceivingChainKey);
            state.ReceivingCounter = header.Counter + 1;
            AddSkipped(state, ref skipped);
            return gaps;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(chainKey);
            CryptographicOperations.ZeroMemory(messageKey);
            Discard(skipped);
        }
    }

    private static MessageGaps DecryptWithRatchetStep(RatchetState state, MessageHeader header, ReadOnlySpan<byte> associatedData, ReadOnlySpan<byte> ciphertext, Span<byte> plaintext)
    {
        var hasOldChain = state.ReceivingChainKey is not null;
        var oldChainEnd = hasOldChain ? Math.Max(header.PreviousCounter, state.ReceivingCounter) : 0;
        if (hasOldChain && oldChainEnd - state.ReceivingCounter > RatchetLimits.MaxSkip)
        {
            throw Error.TooFarAhead(header.PreviousCounter, state.ReceivingCounter);
        }

        if (header.Counter > RatchetLimits.MaxSkip)
        {
            throw Error.TooFarAhead(header.Counter, 0);
        }

        Span<byte> oldChainKey = stackalloc byte[ChainKey.Size];
        Span<byte> dh = stackalloc byte[X25519.KeySize];
        Span<byte> rootKey = stackalloc byte[RatchetKeys.RootKeySize];
        Span<byte> receivingChainKey = stackalloc byte[ChainKey.Size];
        Span<byte> messageKey = stackalloc byte[RatchetKeys.MessageKeySize];
        var newPrivate = new byte[X25519.KeySize];
        var newPublic = new byte[X25519.KeySize];
        var sendingChainKey = new byte[ChainKey.Size];
        List<SkippedKey>? oldSkipped = null;
        List<SkippedKey>? newSkipped = null;
        var committed = false;
        try
        {
            if (hasOldChain)
            {
                state.ReceivingChainKey.CopyTo(oldChainKey);
                oldSkipped = SkipTo(oldChainKey, state.ReceivingRatchetKey!, state.ReceivingCounter, oldChainEnd);
            }

            // DHRatchet (§3.5): the receiving chain from DH(DHs, header.dh), then a fresh DHs and the sending chain.
            if (!X25519.TryAgree(state.SendingPrivate, header.RatchetKey, dh))
            {
                throw Error.Tampered();
            }

            RootKey.Step(state.RootKey, dh, rootKey, receivingChainKey);
            X25519.GenerateKeyPair(newPrivate, newPublic);
            if (!X25519.TryAgree(newPrivate, header.RatchetKey, dh))
            {
                throw Error.Tampered();
            }

            RootKey.Step(rootKey, dh, rootKey, sendingChainKey);
            var ratchetKey = header.RatchetKey.ToArray();
            newSkipped = SkipTo(receivingChainKey, ratchetKey, 0, header.Counter);
            ChainKey.Step(receivingChainKey, messageKey, receivingChainKey);
            if (!Aead.TryDecrypt(messageKey, RatchetKeys.Nonce, ciphertext, associatedData, plaintext))
            {
                throw Error.Tampered();
            }

            // Authenticated: commit.
            var gaps = MessageGaps.Opening(hasOldChain ? state.ReceivingRatchetKey : null, state.ReceivingCounter, oldChainEnd, ratchetKey, header.Counter);
            if (hasOldChain)
            {
                AddSkipped(state, ref oldSkipped);
                state.Retire(state.ReceivingRatchetKey!, oldChainEnd);
                CryptographicOperations.ZeroMemory(state.ReceivingChainKey);
            }

            AddSkipped(state, ref newSkipped);
            CryptographicOperations.ZeroMemory(state.SendingPrivate);
            CryptographicOperations.ZeroMemory(state.SendingChainKey);
            state.PreviousSendingCounter = state.SendingCounter;
            state.SendingCounter = 0;
            state.ReceivingCounter = header.Counter + 1;
            state.SendingPrivate = newPrivate;
            state.SendingPublic = newPublic;
            state.ReceivingRatchetKey = ratchetKey;
            rootKey.CopyTo(state.RootKey);
            state.SendingChainKey = sendingChainKey;
            state.ReceivingChainKey = receivingChainKey.ToArray();
            committed = true;
            return gaps;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(oldChainKey);
            CryptographicOperations.ZeroMemory(dh);
            CryptographicOperations.ZeroMemory(rootKey);
            CryptographicOperations.ZeroMemory(receivingChainKey);
            CryptographicOperations.ZeroMemory(messageKey);
            Discard(oldSkipped);
            Discard(newSkipped);
            if (!committed)
            {
                CryptographicOperations.ZeroMemory(newPrivate);
                CryptographicOperations.ZeroMemory(sendingChainKey);
            }
        }
    }

    /// <summary>SkipMessageKeys (§3.5): derives the keys for counters [from, until) into a list, advancing <paramref name="chainKey"/>.</summary>
    private static List<SkippedKey>? SkipTo(Span<byte> chainKey, byte[] ratchetKey, uint from, uint until)
    {
        if (until <= from)
        {
            return null;
        }

        var skipped = new List<SkippedKey>((int)(until - from));
        for (var counter = from; counter < until; counter++)
        {
            var messageKey = new byte[RatchetKeys.MessageKeySize];
            ChainKey.Step(chainKey, messageKey, chainKey);
            skipped.Add(new SkippedKey(ratchetKey, counter, messageKey));
        }

        return skipped;
    }

    private static void AddSkipped(RatchetState state, ref List<SkippedKey>? skipped)
    {
        if (skipped is null)
        {
            return;
        }

        foreach (var key in skipped)
        {
            state.Skipped.Add(key);
        }

        skipped = null;
    }

    private static void Discard(List<SkippedKey>? skipped)
    {
        if (skipped is null)
        {
            return;
        }

        foreach (var key in skipped)
        {
            CryptographicOperations.ZeroMemory(key.MessageKey);
        }
    }

    /// <summary>AD = Encode(IK_A) || Encode(IK_B) || version || header (docs/protocol.md §6.2).</summary>
    private static void WriteAssociatedData(ReadOnlySpan<byte> prefix, ReadOnlySpan<byte> header, Span<byte> destination)
    {
        prefix.CopyTo(destination);
        header.CopyTo(destination[prefix.Length..]);
    }

    /// <summary>Builds the AD prefix for a session between <paramref name="initiator"/> and <paramref name="responder"/>.</summary>
    internal static byte[] AssociatedDataPrefix(Identity.IdentityKey initiator, Identity.IdentityKey responder)
    {
        // Encode(IK) = signing key || DH key (docs/protocol.md §3), written in place.
        var prefix = new byte[AssociatedDataPrefixSize];
        initiator.SigningKey.CopyTo(prefix);
        initiator.DhKey.CopyTo(prefix.AsSpan(32));
        responder.SigningKey.CopyTo(prefix.AsSpan(Identity.IdentityKey.EncodedSize));
        responder.DhKey.CopyTo(prefix.AsSpan(Identity.IdentityKey.EncodedSize + 32));
        prefix[^1] = (byte)ProtocolVersion.Current;
        return prefix;
    }
}
