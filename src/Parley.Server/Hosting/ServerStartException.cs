namespace Parley.Server.Hosting;

/// <summary>The server cannot start for a reason its operator can fix; the message is one line.</summary>
public sealed class ServerStartException : Exception
{
    /// <summary>Creates the exception.</summary>
    public ServerStartException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with its cause.</summary>
    public ServerStartException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
