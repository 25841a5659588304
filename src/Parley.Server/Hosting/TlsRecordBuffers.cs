using System.Net.Security;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Server.Kestrel.Core.Features;

namespace Parley.Server.Hosting;

/// <summary>
/// Lets OpenSSL free a TLS connection's record buffers while they are empty. On Linux SslStream
/// runs on OpenSSL, which by default keeps a read and a write buffer of about 17 KB each for the
/// whole life of a connection; an idle messenger client holds its connection (and its Receive
/// stream) open for hours. SSL_MODE_RELEASE_BUFFERS (nginx sets it on every connection) frees
/// each buffer once it is drained and allocates it again for the next record: about 12 KB less
/// server RSS per idle connection (docs/performance.md). It changes no protocol, cipher or check,
/// only when the memory is held. .NET neither sets it nor exposes the SSL object, so the handle is
/// read from SslStream's private field (reflection on a named field, which Native AOT keeps);
/// where that or OpenSSL is not what this expects, connections keep OpenSSL's default.
/// </summary>
internal static partial class TlsRecordBuffers
{
    private const string LibSsl = "libssl.so.3";

    // ssl.h: SSL_set_mode(ssl, op) is SSL_ctrl(ssl, SSL_CTRL_MODE, op, NULL); SSL_get_mode passes op = 0.
    private const int SslCtrlMode = 33;
    private const nint SslModeReleaseBuffers = 0x10;

    // Private members of SslStream on Unix (.NET 10): the context field holds the SafeSslHandle
    // whose handle is the SSL*. Named by constant strings, so Native AOT keeps them.
    private static readonly FieldInfo? ContextField = typeof(SslStream).GetField("_securityContext", BindingFlags.Instance | BindingFlags.NonPublic);
    private static readonly Type? SslHandleType = Type.GetType("Microsoft.Win32.SafeHandles.SafeSslHandle, System.Net.Security", throwOnError: false);

    /// <summary>True when connections of this process can release their buffers (Linux, OpenSSL 3, the SslStream this was written for).</summary>
    internal static bool Supported { get; } = CheckSupported();

    /// <summary>Kestrel connection middleware, to be added after UseHttps: sets the mode once the handshake is done.</summary>
    internal static ConnectionDelegate Middleware(ConnectionDelegate next) => context =>
    {
        if (context.Features.Get<ISslStreamFeature>()?.SslStream is { } stream)
        {
            TryRelease(stream);
        }

        return next(context);
    };

    /// <summary>
    /// Sets SSL_MODE_RELEASE_BUFFERS on the connection of an authenticated <paramref name="stream"/>.
    /// Call it while no read or write is in progress on the stream (OpenSSL's mode field is not
    /// synchronised). Returns whether the mode is now set.
    /// </summary>
    internal static bool TryRelease(SslStream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        if (!Supported || !stream.IsAuthenticated || ContextField?.GetValue(stream) is not SafeHandle handle || handle.GetType() != SslHandleType)
        {
            return false;
        }

        var added = false;
        try
        {
            handle.DangerousAddRef(ref added);
            var ssl = handle.DangerousGetHandle();
            return ssl != 0 && (SSL_ctrl(ssl, SslCtrlMode, SslModeReleaseBuffers, 0) & SslModeReleaseBuffers) != 0;
        }
        catch (ObjectDisposedException)
        {
            // The connection closed before its first request: nothing left to save.
            return false;
        }
        finally
        {
            if (added)
            {
                handle.DangerousRelease();
            }
        }
    }

    private static bool CheckSupported()
    {
        if (!OperatingSystem.IsLinux() || ContextField is null || SslHandleType is null)
        {
            return false;
        }

        try
        {
            // The libssl this process loads by name must be the one SslStream uses (a machine with
            // several OpenSSL versions, or DOTNET_OPENSSL_VERSION_OVERRIDE, could differ): same version.
            return (long)OpenSSL_version_num() == SafeEvpPKeyHandle.OpenSslVersion;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException or PlatformNotSupportedException)
        {
            return false;
        }
    }

    [LibraryImport(LibSsl)]
    private static partial nint SSL_ctrl(nint ssl, int cmd, nint larg, nint parg);

    // Exported by libcrypto; looked up through libssl, whose dependency it is.
    [LibraryImport(LibSsl)]
    private static partial nuint OpenSSL_version_num();
}
