namespace Parley.Client.Profile;

/// <summary>
/// The one exception the profile store throws for a profile it cannot use. <see cref="Kind"/>
/// identifies the case; the message is one line meant for a person and never contains a secret.
/// </summary>
public sealed class ProfileException : Exception
{
    /// <summary>Creates an exception of the given kind.</summary>
    public ProfileException(ProfileErrorKind kind, string message)
        : base(message)
    {
        Kind = kind;
    }

    /// <summary>Creates an exception of the given kind that wraps the error behind it.</summary>
    public ProfileException(ProfileErrorKind kind, string message, Exception innerException)
        : base(message, innerException)
    {
        Kind = kind;
    }

    /// <summary>What went wrong.</summary>
    public ProfileErrorKind Kind { get; }
}
