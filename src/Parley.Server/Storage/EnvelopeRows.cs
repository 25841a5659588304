using System.Data.Common;

namespace Parley.Server.Storage;

/// <summary>
/// Reads envelope rows selected as (sequence, message_id, sender, recipient, body, server_ts), the
/// column order both engines' PeekAsync queries use.
/// </summary>
internal static class EnvelopeRows
{
    internal static async Task<IReadOnlyList<StoredEnvelope>> ReadAllAsync(DbDataReader reader, CancellationToken cancellationToken)
    {
        var envelopes = new List<StoredEnvelope>();
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            envelopes.Add(new StoredEnvelope(
                MessageId: reader.GetFieldValue<byte[]>(1),
                Sender: reader.GetString(2),
                Recipient: reader.GetString(3),
                Body: reader.GetFieldValue<byte[]>(4),
                ServerTimestampMs: reader.GetInt64(5),
                Sequence: reader.GetInt64(0)));
        }

        return envelopes;
    }
}
