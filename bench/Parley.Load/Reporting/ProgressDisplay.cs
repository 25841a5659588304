using Spectre.Console;

namespace Parley.Load.Reporting;

/// <summary>
/// A Spectre.Console progress bar fed by polling a counter, so the hot path only increments it.
/// Quiet runs (tests, --quiet) show nothing.
/// </summary>
internal static class ProgressDisplay
{
    internal static async Task<T> RunAsync<T>(LoadSettings settings, string description, double total, Func<double> current, Func<Task<T>> work)
    {
        if (settings.Quiet || Console.IsOutputRedirected)
        {
            return await work();
        }

        T result = default!;
        await AnsiConsole.Progress()
            .AutoClear(true)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn())
            .StartAsync(async context =>
            {
                var task = context.AddTask(Markup.Escape(description), maxValue: Math.Max(1, total));
                var running = work();
                while (!running.IsCompleted)
                {
                    task.Value = Math.Min(total, current());
                    await Task.WhenAny(running, Task.Delay(100));
                }

                task.Value = total;
                result = await running;
            });
        return result;
    }
}
