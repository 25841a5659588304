namespace Parley.Server.Rendezvous;

/// <summary>The two sides of a rendezvous: A opened it (the inviter), B claimed it.</summary>
internal enum RendezvousSide
{
    A,
    B,
}
