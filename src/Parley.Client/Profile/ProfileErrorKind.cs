namespace Parley.Client.Profile;

/// <summary>Why a profile could not be created, opened or read.</summary>
public enum ProfileErrorKind
{
    /// <summary>The passphrase does not open this profile; nothing was read or changed.</summary>
    WrongPassphrase = 1,

    /// <summary>There is no profile in the directory.</summary>
    NoProfile = 2,

    /// <summary>A profile already exists in the directory.</summary>
    AlreadyExists = 3,

    /// <summary>The profile file is damaged or was altered: not a database, missing parts, or a sealed value that fails authentication.</summary>
    Corrupt = 4,
}
