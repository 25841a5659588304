using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using static Parley.Protocol.Primitives.LibCrypto;

namespace Parley.Protocol.Primitives;

/// <summary>
/// HMAC-SHA256 (RFC 2104, with RFC 4231's test vectors) over OpenSSL's SHA-256, for a key that
/// is used for one or more MACs: keying absorbs K ⊕ ipad and K ⊕ opad once (two compressions),
/// and each MAC then costs two more. OpenSSL's SHA-256 runs on the SHA extensions of the CPU and
/// is called without EVP's per-call setup, which costs more than the hashing at these sizes
/// (docs/performance.md). The state holds key-derived secrets: <see cref="Clear"/> it.
/// </summary>
internal unsafe struct HmacSha256State
{
    internal const int BlockSize = 64;
    internal const int OutputSize = 32;

    /// <summary>Inputs up to this length are hashed without the GC transition (well under a microsecond).</summary>
    private const int ShortInput = 1024;

    private Contexts contexts;

    /// <summary>True when libcrypto.so.3 loaded and this HMAC gives RFC 4231's answers.</summary>
    internal static bool IsAvailable { get; } = LibCrypto.IsLoaded && SelfTest();

    /// <summary>Absorbs the padded key; keys longer than a block are hashed first (RFC 2104 §2).</summary>
    internal void SetKey(ReadOnlySpan<byte> key)
    {
        if (!LibCrypto.IsLoaded)
        {
            throw new PlatformNotSupportedException("OpenSSL 3 (libcrypto.so.3) is not available");
        }

        Span<byte> pad = stackalloc byte[BlockSize];
        try
        {
            if (key.Length > BlockSize)
            {
                Hash(key, pad[..OutputSize]);
                pad[OutputSize..].Clear();
            }
            else
            {
                key.CopyTo(pad);
                pad[key.Length..].Clear();
            }

            fixed (byte* p = pad)
            fixed (byte* inner = contexts.Inner)
            fixed (byte* outer = contexts.Outer)
            {
                Xor(pad, 0x36);
                _ = SHA256_Init(inner);
                _ = SHA256_Update(inner, p, BlockSize);
                Xor(pad, 0x36 ^ 0x5c);
                _ = SHA256_Init(outer);
                _ = SHA256_Update(outer, p, BlockSize);
            }
        }
        finally
        {
            CryptographicOperations.ZeroMemory(pad);
        }
    }

    /// <summary>HMAC(K, <paramref name="data"/>) into 32 bytes of <paramref name="output"/>; the keyed state is kept.</summary>
    internal readonly void Compute(ReadOnlySpan<byte> data, Span<byte> output) => Compute(data, default, default, output);

    /// <summary>HMAC(K, a || b || c) without concatenating: HKDF-Expand's T(i-1) || info || i.</summary>
    internal readonly void Compute(ReadOnlySpan<byte> a, ReadOnlySpan<byte> b, ReadOnlySpan<byte> c, Span<byte> output)
    {
        var working = contexts;
        try
        {
            fixed (byte* inner = working.Inner)
            fixed (byte* outer = working.Outer)
            fixed (byte* o = output)
            {
                Update(inner, a);
                Update(inner, b);
                Update(inner, c);
                _ = SHA256_Final(o, inner);
                _ = SHA256_Update(outer, o, OutputSize);
                _ = SHA256_Final(o, outer);
            }
        }
        finally
        {
            working.Clear();
        }
    }

    /// <summary>Zeroes the keyed state.</summary>
    internal void Clear() => contexts.Clear();

    private static void Update(byte* context, ReadOnlySpan<byte> data)
    {
        if (data.IsEmpty)
        {
            return;
        }

        fixed (byte* d = data)
        {
            _ = data.Length <= ShortInput
                ? SHA256_Update(context, d, (nuint)data.Length)
                : SHA256_UpdateLong(context, d, (nuint)data.Length);
        }
    }

    private static void Hash(ReadOnlySpan<byte> data, Span<byte> output)
    {
        var context = stackalloc byte[Sha256ContextSize];
        fixed (byte* o = output)
        {
            _ = SHA256_Init(context);
            Update(context, data);
            _ = SHA256_Final(o, context);
        }

        new Span<byte>(context, Sha256ContextSize).Clear();
    }

    private static void Xor(Span<byte> pad, byte value)
    {
        for (var i = 0; i < pad.Length; i++)
        {
            pad[i] ^= value;
        }
    }

    /// <summary>RFC 4231 §4.3 (test case 2: short key) and §4.7 (test case 6: key longer than a block).</summary>
    private static bool SelfTest()
    {
        try
        {
            Span<byte> mac = stackalloc byte[OutputSize];
            var state = default(HmacSha256State);
            state.SetKey("Jefe"u8);
            state.Compute("what do ya want for nothing?"u8, mac);
            if (!mac.SequenceEqual(Convert.FromHexString("5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")))
            {
                return false;
            }

            Span<byte> longKey = stackalloc byte[131];
            longKey.Fill(0xaa);
            state.SetKey(longKey);
            state.Compute("Test Using Larger Than Block-Size Key - Hash Key First"u8, mac);
            state.Clear();
            return mac.SequenceEqual(Convert.FromHexString("60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"));
        }
        catch (EntryPointNotFoundException)
        {
            return false;
        }
    }

    /// <summary>The inner and outer SHA256_CTX, inline so that copying the state is a struct copy.</summary>
    private struct Contexts
    {
        private InlineContext inner;
        private InlineContext outer;

        [UnscopedRef]
        internal Span<byte> Inner => inner;

        [UnscopedRef]
        internal Span<byte> Outer => outer;

        internal void Clear()
        {
            CryptographicOperations.ZeroMemory(inner);
            CryptographicOperations.ZeroMemory(outer);
        }
    }

    [InlineArray(Sha256ContextSize)]
    private struct InlineContext
    {
        private byte element;
    }
}
