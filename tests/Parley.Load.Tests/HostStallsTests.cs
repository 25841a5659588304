using Parley.Load.Host;
using Parley.Load.Scenarios;
using Parley.Load.Server;

namespace Parley.Load.Tests;

/// <summary>
/// How the load tool tells a host that pauses the machine from the code it measures. The probe is
/// run here with one spinning thread, not one per core, so that it leaves a core to the scenario
/// tests' real servers running beside it.
/// </summary>
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
        var phase = HostStalls.Measure(TimeSpan.FromMilliseconds(200), disk: true, Path.Combine(Path.GetTempPath(), $"parley-stalls-{Guid.NewGuid():N}"), threads: 1);

        Assert.Equal(1, phase.Threads);
        Assert.True(phase.Fsyncs > 0, "the disk phase wrote and synced nothing");
        Assert.All(phase.Stalls, s => Assert.True(s.Milliseconds > 1 && s.EndMilliseconds <= 200 + s.Milliseconds + 50));
    }

    [Fact]
    public void TheMachinesBusyCoresComeFromItsIdleClock()
    {
        var path = Path.GetTempFileName();
        try
        {
            File.WriteAllText(path, "1000.50 1800.25\n");
            var start = ProcStatus.MachineIdle(path);
            Assert.Equal((1000.50, 1800.25), start);

            // 10 s later the two cores had been idle 4 s between them: 1.6 busy.
            File.WriteAllText(path, "1010.50 1804.25\n");
            var end = ProcStatus.MachineIdle(path);
            Assert.Equal(1.6, CostMeter.BusyCores(start, end, 2)!.Value, 3);
            Assert.Null(CostMeter.BusyCores(start, null, 2));
            Assert.Null(CostMeter.BusyCores(start, start, 2));

            File.WriteAllText(path, "not a number\n");
            Assert.Null(ProcStatus.MachineIdle(path));
        }
        finally
        {
            File.Delete(path);
        }
    }
}
