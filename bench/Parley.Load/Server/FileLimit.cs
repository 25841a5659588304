using System.Runtime.InteropServices;

namespace Parley.Load.Server;

/// <summary>
/// Raises this process's RLIMIT_NOFILE soft limit (up to the hard limit) so that C connections
/// fit; the `parley serve` child inherits it. Beyond the hard limit, `ulimit -Hn` must be raised
/// by the operator (docs/performance.md).
/// </summary>
internal static partial class FileLimit
{
    private const int ResourceNoFile = 7;

    internal static void RaiseTo(long wanted)
    {
        if (!OperatingSystem.IsLinux() || GetRLimit(ResourceNoFile, out var limit) != 0 || limit.Current >= (ulong)wanted)
        {
            return;
        }

        limit.Current = Math.Min((ulong)wanted, limit.Maximum);
        if (SetRLimit(ResourceNoFile, in limit) != 0 || limit.Current < (ulong)wanted)
        {
            Console.Error.WriteLine($"parley-load: open files limited to {limit.Current}; {wanted} wanted (raise `ulimit -Hn`)");
        }
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct RLimit
    {
        public ulong Current;
        public ulong Maximum;
    }

    [LibraryImport("libc", EntryPoint = "getrlimit", SetLastError = true)]
    private static partial int GetRLimit(int resource, out RLimit limit);

    [LibraryImport("libc", EntryPoint = "setrlimit", SetLastError = true)]
    private static partial int SetRLimit(int resource, in RLimit limit);
}
