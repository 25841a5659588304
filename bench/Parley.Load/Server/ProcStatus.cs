using System.Globalization;

namespace Parley.Load.Server;

/// <summary>
/// Counters of a process read from Linux's /proc status files: its resident memory, and how often
/// its threads were switched out. Waking a thread is costly on this VM (session 6), so context
/// switches per message say whether a change removed hops, beside the CPU per message.
/// </summary>
internal static class ProcStatus
{
    /// <summary>VmRSS of the process in bytes, or null when /proc cannot be read (not Linux, or the process is gone).</summary>
    internal static long? ResidentBytes(int processId) => Sum($"/proc/{processId}/status", ["VmRSS"]) * 1024;

    /// <summary>
    /// Voluntary (waiting) and involuntary context switches so far, summed over the process's live
    /// threads, or null when /proc cannot be read. A thread that ends during a measurement takes its
    /// count with it, so a difference is a floor.
    /// </summary>
    internal static long? ContextSwitches(int processId)
    {
        try
        {
            long total = 0;
            foreach (var task in Directory.EnumerateDirectories($"/proc/{processId}/task"))
            {
                // A thread that ended between listing and reading counts nothing.
                total += Sum(Path.Combine(task, "status"), ["voluntary_ctxt_switches", "nonvoluntary_ctxt_switches"]) ?? 0;
            }

            return total;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>
    /// Seconds since boot and seconds all cores together spent idle, from /proc/uptime; null when it
    /// cannot be read. The idle figure comes from the kernel's own idle clock, not from ticks (on
    /// this VM /proc/stat's ticks per half second ranged from 48 to 123 of an expected 100).
    /// </summary>
    internal static (double Uptime, double Idle)? MachineIdle() => MachineIdle("/proc/uptime");

    internal static (double Uptime, double Idle)? MachineIdle(string path)
    {
        try
        {
            var fields = File.ReadAllText(path).Split(' ', StringSplitOptions.RemoveEmptyEntries);
            return fields.Length >= 2
                && double.TryParse(fields[0], NumberStyles.Float, CultureInfo.InvariantCulture, out var uptime)
                && double.TryParse(fields[1], NumberStyles.Float, CultureInfo.InvariantCulture, out var idle)
                ? (uptime, idle)
                : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>The sum of the named "name: value [unit]" lines of a status file, or null when it cannot be read.</summary>
    private static long? Sum(string path, string[] fields)
    {
        try
        {
            long sum = 0;
            foreach (var line in File.ReadLines(path))
            {
                var colon = line.IndexOf(':', StringComparison.Ordinal);
                if (colon > 0 && Array.IndexOf(fields, line[..colon]) >= 0)
                {
                    sum += long.Parse(line[(colon + 1)..].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
                }
            }

            return sum;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}
