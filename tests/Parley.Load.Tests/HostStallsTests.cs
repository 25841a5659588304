using Parley.Load.Host;
using Parley.Load.Scenarios;
using Parley.Load.Server;

namespace Parley.Load.Tests;

/// <summary>How the load tool tells a host that pauses the machine from the code it measures.</summary>
public sealed class HostStallsTests
{
    [Fact]
    public void StallsThatRecurOnAGridGiveTheirPeriod()
    {
        // Both cores stop together once every 100 ms, a little later or earlier each time.
        var stalls = Enumerable.Range(0, 30)
            .SelectMany(i => new[] { new HostStalls.Stall((i * 100) + 18 + (i % 3), 9), new HostStalls.Stall((i * 100) + 19 + (i % 2), 8) })
            .ToList();

        Assert.Equal(100, HostStalls.Period(stalls));
    }

    [Fact]
    public void ScatteredStallsHaveNoPeriod()
    {
        var random = new Random(7);
        var at = 0.0;
        var stalls = new List<HostStalls.Stall>();
        for (var i = 0; i < 40; i++)
        {
            at += 25 + (random.NextDouble() * 400);
            stalls.Add(new HostStalls.Stall(at, 2));
        }

        Assert.Null(HostStalls.Period(stalls));
        Assert.Null(HostStalls.Period(stalls.Take(3).ToList()));
    }

    [Fact]
    public void APhaseCountsEveryGapItSaw()
    {
        var phase = HostStalls.Measure(TimeSpan.FromMilliseconds(300), disk: true, Path.Combine(Path.GetTempPath(), $"parley-stalls-{Guid.NewGuid():N}"));

        Assert.Equal(Environment.ProcessorCount, phase.Cores);
        Assert.True(phase.Fsyncs > 0, "the disk phase wrote and synced nothing");
        Assert.All(phase.Stalls, s => Assert.True(s.Milliseconds > 1 && s.EndMilliseconds <= 300 + s.Milliseconds + 50));
    }

    [Fact]
    public void TheMachinesBusyCoresComeFromProcStat()
    {
        var path = Path.GetTempFileName();
        try
        {
            // user nice system idle iowait irq softirq steal guest guest_nice
            File.WriteAllText(path, "cpu  100 5 40 800 10 3 2 0 0 0\ncpu0 50 2 20 400 5 1 1 0 0 0\n");
            var start = ProcStatus.MachineTicks(path);
            Assert.Equal((150L, 960L), start);

            File.WriteAllText(path, "cpu  250 5 90 850 10 3 2 0 0 0\n");
            var end = ProcStatus.MachineTicks(path);

            // 200 of the 250 ticks between the readings were busy: 1.6 of 2 cores.
            Assert.Equal(1.6, CostMeter.BusyCores(start, end, 2)!.Value, 3);
            Assert.Null(CostMeter.BusyCores(start, null, 2));
            Assert.Null(CostMeter.BusyCores(start, start, 2));

            File.WriteAllText(path, "intr 1 2 3\n");
            Assert.Null(ProcStatus.MachineTicks(path));
        }
        finally
        {
            File.Delete(path);
        }
    }
}
