using System.Globalization;

namespace FaceDistill.Core;

/// <summary>
/// How much of the machine's CPU other processes used over an interval (Linux: <c>/proc/stat</c> against
/// <c>/proc/self/stat</c>, both in clock ticks): a timing taken while another job ran measures the contention, not the
/// code, so what is cached from a timing (<see cref="Training.ConvolutionPath"/>) is kept only when the machine was
/// quiet. Elsewhere, or where the files cannot be read, the share is 0 (nothing is known to have disturbed it).
/// </summary>
public static class CpuLoad
{
    /// <summary>Starts a measurement; the returned function ends it and gives the share of all cores' time (0–1) that
    /// processes other than this one were busy.</summary>
    public static Func<double> Start()
    {
        var before = Sample();
        return () =>
        {
            var after = Sample();
            if (before is null || after is null)
                return 0;
            double total = after.Value.Total - before.Value.Total;
            double busy = after.Value.Busy - before.Value.Busy;
            double self = after.Value.Self - before.Value.Self;
            return total <= 0 ? 0 : Math.Clamp((busy - self) / total, 0, 1);
        };
    }

    private static (long Total, long Busy, long Self)? Sample()
    {
        try
        {
            var cpu = File.ReadLines("/proc/stat").First().Split(' ', StringSplitOptions.RemoveEmptyEntries);
            var ticks = cpu.Skip(1).Take(8).Select(v => long.Parse(v, CultureInfo.InvariantCulture)).ToArray();
            long total = ticks.Sum(),
                idle = ticks[3] + ticks[4]; // idle + iowait
            var stat = File.ReadAllText("/proc/self/stat");
            // the fields after the command name (which may hold spaces) in parentheses: utime and stime are the 14th
            // and 15th fields of the line, the 12th and 13th after ')'
            var rest = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            long self =
                long.Parse(rest[11], CultureInfo.InvariantCulture) + long.Parse(rest[12], CultureInfo.InvariantCulture);
            // /proc/stat counts ticks per core, /proc/self/stat per process: both in USER_HZ
            return (total, total - idle, self);
        }
        catch (Exception e)
            when (e is IOException or UnauthorizedAccessException or FormatException
                || e is IndexOutOfRangeException or InvalidOperationException or ArgumentOutOfRangeException
            )
        {
            return null;
        }
    }
}
