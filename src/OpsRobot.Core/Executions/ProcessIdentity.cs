using System.Diagnostics;
using System.Globalization;

namespace OpsRobot.Core.Executions;

/// <summary>
/// Names a process exactly enough that another process on the same data folder can tell whether it still runs,
/// as recorded in <see cref="ExecutionRecord.Owner"/>. Recovery touches only the work of owners that are gone, so a
/// false "gone" abandons live work: the test must never depend on when or by whom it is made.
/// </summary>
/// <remarks>
/// On Linux the owner is <c>host:pid:linux:BOOT-ID:START</c>: the start time in clock ticks after boot, field 22 of
/// <c>/proc/PID/stat</c>, which the kernel fixes when the process starts, and the boot's id, so a pid reused after a
/// reboot does not pass for its predecessor. Both are compared exactly. (<see cref="Process.StartTime"/> is not
/// usable there: .NET adds the ticks to a boot time it derives from the clock and the uptime on each read, so two
/// processes, or one at two moments, get different values for the same process.) Elsewhere the owner is
/// <c>host:pid:TICKS</c>, the start time as the operating system records it, which is exact there.
/// </remarks>
public static class ProcessIdentity
{
    private const string LinuxScheme = "linux";
    private const string BootIdFile = "/proc/sys/kernel/random/boot_id";

    /// <summary>This boot's id (random, set by the kernel at boot), or <c>-</c> where it cannot be read.</summary>
    /// <remarks>Declared before <see cref="Current"/>, which uses it: static initializers run in the order written.</remarks>
    private static readonly string BootId = ReadBootId();

    /// <summary>This process.</summary>
    public static string Current { get; } = Of(Environment.ProcessId)
        // /proc unreadable: the old form, which other processes treat as alive while this pid runs.
        ?? string.Create(CultureInfo.InvariantCulture, $"{Environment.MachineName}:{Environment.ProcessId}:{StartTicks(Environment.ProcessId) ?? 0}");

    /// <summary>The owner string of the running process <paramref name="pid"/>, or null when there is no such process.</summary>
    public static string? Of(int pid)
    {
        var host = Environment.MachineName;
        if (OperatingSystem.IsLinux())
        {
            return LinuxStartTicks(pid) is { } start
                ? string.Create(CultureInfo.InvariantCulture, $"{host}:{pid}:{LinuxScheme}:{BootId}:{start}")
                : null;
        }

        return StartTicks(pid) is { } ticks ? string.Create(CultureInfo.InvariantCulture, $"{host}:{pid}:{ticks}") : null;
    }

    /// <summary>
    /// True unless <paramref name="owner"/> is provably gone: a process of this machine that no longer runs, or whose
    /// pid now belongs to another process. An owner of another machine cannot be checked and counts as gone (one
    /// database is served from one machine). An owner written before owners were exact (<c>host:pid:TICKS</c> on
    /// Linux) counts as alive while its pid runs, unless that process started in this boot and the execution was
    /// created before it (<paramref name="createdAt"/>): its owner then made it before a reboot.
    /// </summary>
    /// <param name="owner">The stored owner.</param>
    /// <param name="createdAt">When the owner's record was created; only used for owners in the old form.</param>
    /// <param name="now">The time now, to find when this machine booted.</param>
    public static bool IsAlive(string owner, DateTimeOffset createdAt, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(owner);
        var parts = owner.Split(':');
        if (parts.Length < 3 || parts[0] != Environment.MachineName
            || !int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var pid) || pid <= 0)
        {
            return false;
        }

        if (pid == Environment.ProcessId)
        {
            return owner == Current;
        }

        if (parts.Length == 5 && parts[2] == LinuxScheme)
        {
            return OperatingSystem.IsLinux() && parts[3] == BootId && LinuxStartTicks(pid) is { } start
                && string.Equals(parts[4], start.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal);
        }

        if (parts.Length != 3 || !long.TryParse(parts[2], NumberStyles.None, CultureInfo.InvariantCulture, out var ticks))
        {
            return false;
        }

        if (!OperatingSystem.IsLinux())
        {
            return StartTicks(pid) == ticks;
        }

        // The old Linux form: its ticks came from Process.StartTime, which drifts, so they prove nothing either way.
        return LinuxStartTicks(pid) is not null && !CreatedBeforeThisBoot(createdAt, now);
    }

    /// <summary>True when <paramref name="createdAt"/> is clearly (by more than a minute of clock drift) before this machine booted.</summary>
    private static bool CreatedBeforeThisBoot(DateTimeOffset createdAt, DateTimeOffset now)
    {
        try
        {
            var uptime = File.ReadAllText("/proc/uptime").Split(' ')[0];
            if (!double.TryParse(uptime, NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds))
            {
                return false;
            }

            return createdAt < now - TimeSpan.FromSeconds(seconds) - TimeSpan.FromMinutes(1);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    private static string ReadBootId()
    {
        try
        {
            var id = File.ReadAllText(BootIdFile).Trim();
            return id.Length > 0 && !id.Contains(':', StringComparison.Ordinal) ? id : "-";
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return "-";
        }
    }

    /// <summary>Field 22 of <c>/proc/PID/stat</c>, the start time in clock ticks after boot; null when the process is gone.</summary>
    internal static ulong? LinuxStartTicks(int pid)
    {
        string stat;
        try
        {
            stat = File.ReadAllText(string.Create(CultureInfo.InvariantCulture, $"/proc/{pid}/stat"));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }

        return ParseStartTicks(stat);
    }

    /// <summary>
    /// The start time from a <c>/proc/PID/stat</c> line: <c>pid (comm) state ppid …</c>. The command name may hold
    /// spaces and parentheses, so the fields are counted after the last <c>)</c>: the state is field 3, the start time 22.
    /// </summary>
    internal static ulong? ParseStartTicks(string stat)
    {
        ArgumentNullException.ThrowIfNull(stat);
        var close = stat.LastIndexOf(')');
        if (close < 0)
        {
            return null;
        }

        var fields = stat[(close + 1)..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        const int StartField = 22 - 3;
        return fields.Length > StartField && ulong.TryParse(fields[StartField], NumberStyles.None, CultureInfo.InvariantCulture, out var start)
            ? start
            : null;
    }

    private static long? StartTicks(int pid)
    {
        try
        {
            using var process = Process.GetProcessById(pid);
            return process.StartTime.ToUniversalTime().Ticks;
        }
        catch (Exception ex) when (ex is ArgumentException or InvalidOperationException or System.ComponentModel.Win32Exception or NotSupportedException)
        {
            return null;
        }
    }
}
