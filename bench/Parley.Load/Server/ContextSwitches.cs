using System.Globalization;

namespace Parley.Load.Server;

/// <summary>
/// How often a process's threads were switched out, voluntarily (waiting) or not: the sum over its
/// live threads of /proc/PID/task/TID/status. Waking a thread is costly on this VM (session 6), so
/// the count per message says whether a change removed hops, beside the CPU per message. A thread
/// that ends during a measurement takes its count with it, so a difference is a floor.
/// </summary>
internal static class ContextSwitches
{
    /// <summary>The process's context switches so far, or null when /proc cannot be read (not Linux, or the process is gone).</summary>
    internal static long? Of(int processId)
    {
        try
        {
            long total = 0;
            foreach (var task in Directory.EnumerateDirectories($"/proc/{processId}/task"))
            {
                total += OfThread(Path.Combine(task, "status"));
            }

            return total;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    private static long OfThread(string status)
    {
        try
        {
            long switches = 0;
            foreach (var line in File.ReadLines(status))
            {
                if (line.StartsWith("voluntary_ctxt_switches:", StringComparison.Ordinal) || line.StartsWith("nonvoluntary_ctxt_switches:", StringComparison.Ordinal))
                {
                    switches += long.Parse(line[(line.IndexOf(':', StringComparison.Ordinal) + 1)..].Trim(), CultureInfo.InvariantCulture);
                }
            }

            return switches;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // The thread ended between listing and reading.
            return 0;
        }
    }
}
