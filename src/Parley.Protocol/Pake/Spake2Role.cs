namespace Parley.Protocol.Pake;

/// <summary>
/// The two sides of SPAKE2 (RFC 9382 §3.1): A goes first and blinds with M, B second with N. Both
/// sides must agree who is which before they start (docs/protocol.md §11).
/// </summary>
internal enum Spake2Role
{
    A,
    B,
}
