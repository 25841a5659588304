namespace Parley.Client;

/// <summary>A client operation failed for a reason a user can act on; the message is one line.</summary>
public sealed class ClientException : Exception
{
    /// <summary>Creates the exception.</summary>
    public ClientException(ClientErrorKind kind, string message)
        : base(message)
    {
        Kind = kind;
    }

    /// <summary>Creates the exception with its cause.</summary>
    public ClientException(ClientErrorKind kind, string message, Exception innerException)
        : base(message, innerException)
    {
        Kind = kind;
    }

    /// <summary>What failed.</summary>
    public ClientErrorKind Kind { get; }
}
