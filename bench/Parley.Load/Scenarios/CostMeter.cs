using System.Diagnostics;
using Parley.Load.Reporting;
using Parley.Load.Server;

namespace Parley.Load.Scenarios;

/// <summary>
/// What a timed phase cost both processes per delivered message: CPU time and context switches of
/// the server (summed over its nodes; null once one has exited) and of this load tool, and the
/// bytes the server allocated (from its /metrics, so an external server's too). CPU per
/// message holds still when other work shares the cores; the rate does not. Also how many cores
/// the whole machine kept busy: where that nears the core count, the CPU per message is what the
/// cores had to give divided by the rate (idle threads spin until the next message), not what a
/// message needs, and a VM may be paused by its host (docs/performance.md, Session 9).
/// </summary>
internal readonly record struct CostMeter(ServerUnderTest Server, TimeSpan? ServerCpu, TimeSpan ClientCpu, long? ServerSwitches, long? ClientSwitches, (double Uptime, double Idle)? Machine, long? ServerAllocated)
{
    internal static async Task<CostMeter> StartAsync(ServerUnderTest server, CancellationToken cancellationToken)
    {
        // Scraped first: the scrape's own allocations are then outside the phase.
        var allocated = await server.AllocatedBytesAsync(cancellationToken);
        return new(server, server.CpuTime(), Process.GetCurrentProcess().TotalProcessorTime, server.ContextSwitchCount(), ProcStatus.ContextSwitches(Environment.ProcessId), ProcStatus.MachineIdle(), allocated);
    }

    /// <summary>The costs since <see cref="StartAsync"/>, per message of <paramref name="delivered"/>.</summary>
    internal async Task<Costs> PerMessageAsync(long delivered, CancellationToken cancellationToken)
    {
        var perMessage = Math.Max(1, delivered);
        var costs = new Costs(
            Server.CpuTime() - ServerCpu is { } server ? server.TotalMicroseconds / perMessage : null,
            (Process.GetCurrentProcess().TotalProcessorTime - ClientCpu).TotalMicroseconds / perMessage,
            Server.ContextSwitchCount() - ServerSwitches is { } serverSwitches ? (double)serverSwitches / perMessage : null,
            ProcStatus.ContextSwitches(Environment.ProcessId) - ClientSwitches is { } clientSwitches ? (double)clientSwitches / perMessage : null,
            BusyCores(Machine, ProcStatus.MachineIdle(), Environment.ProcessorCount),
            null);
        return await Server.AllocatedBytesAsync(cancellationToken) - ServerAllocated is { } allocated
            ? costs with { ServerAllocatedBytes = (double)allocated / perMessage }
            : costs;
    }

    /// <summary>Cores busy on average between two readings of the machine's idle clock; null without both or without time between them.</summary>
    internal static double? BusyCores((double Uptime, double Idle)? start, (double Uptime, double Idle)? end, int cores) =>
        start is { } s && end is { } e && e.Uptime > s.Uptime ? Math.Clamp(cores - ((e.Idle - s.Idle) / (e.Uptime - s.Uptime)), 0, cores) : null;

    internal readonly record struct Costs(double? ServerCpuMicroseconds, double ClientCpuMicroseconds, double? ServerSwitches, double? ClientSwitches, double? MachineBusyCores, double? ServerAllocatedBytes)
    {
        /// <summary>Adds the figures that were measured to <paramref name="result"/>.</summary>
        internal ScenarioResult AddTo(ScenarioResult result)
        {
            result.Add("client_cpu_us_per_msg", ClientCpuMicroseconds, "load tool CPU µs per message (encrypt, send, decrypt, ack)");
            if (ServerCpuMicroseconds is { } serverUs)
            {
                result.Add("server_cpu_us_per_msg", serverUs, "server CPU µs per message");
            }

            if (ServerAllocatedBytes is { } allocated)
            {
                result.Add("server_alloc_bytes_per_msg", allocated, "server managed-heap bytes allocated per message");
            }

            if (ServerSwitches is { } serverSwitches)
            {
                result.Add("server_context_switches_per_msg", serverSwitches, "server context switches per message");
            }

            if (ClientSwitches is { } clientSwitches)
            {
                result.Add("client_context_switches_per_msg", clientSwitches, "load tool context switches per message");
            }

            if (MachineBusyCores is { } busyCores)
            {
                result.Add("machine_busy_cores", busyCores, $"cores busy on the machine (of {Environment.ProcessorCount})");
            }

            return result;
        }
    }
}
