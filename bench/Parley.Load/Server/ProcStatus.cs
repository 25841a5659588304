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
    /// The whole machine's CPU time so far, in clock ticks, from the first line of /proc/stat: busy
    /// (user, nice, system, irq, softirq) and all (busy, idle, iowait and steal); null when it cannot
    /// be read. Both processes, the kernel's own threads and anything else on the machine count.
    /// </summary>
    internal static (long Busy, long All)? MachineTicks() => MachineTicks("/proc/stat");

    internal static (long Busy, long All)? MachineTicks(string path)
    {
        try
        {
            using var reader = new StreamReader(path);
            var fields = reader.ReadLine()?.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (fields is null || fields.Length < 9 || fields[0] != "cpu")
            {
                return null;
            }

            var ticks = fields[1..9].Select(f => long.Parse(f, CultureInfo.InvariantCulture)).ToArray();
            var busy = ticks[0] + ticks[1] + ticks[2] + ticks[5] + ticks[6];
            return (busy, ticks.Sum());
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException)
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
