namespace Parley.Protocol;

/// <summary>
/// The one exception the protocol library throws for input it cannot accept. <see cref="Kind"/>
/// identifies the case; the message is one line meant for a person and never contains key material.
/// </summary>
public sealed class ParleyProtocolException : Exception
{
    /// <summary>Creates an exception of the given kind.</summary>
    public ParleyProtocolException(ProtocolErrorKind kind, string message)
        : base(message)
    {
        Kind = kind;
    }

    /// <summary>Creates an exception of the given kind that wraps the library error behind it.</summary>
    public ParleyProtocolException(ProtocolErrorKind kind, string message, Exception innerException)
        : base(message, innerException)
    {
        Kind = kind;
    }

    /// <summary>What went wrong.</summary>
    public ProtocolErrorKind Kind { get; }
}
