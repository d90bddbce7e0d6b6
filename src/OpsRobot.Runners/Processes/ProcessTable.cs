using System.Globalization;
using System.IO.Enumeration;
using System.Text;

namespace OpsRobot.Runners.Processes;

/// <summary>One line of the kernel's process table, as <c>/proc/PID/stat</c> shows it.</summary>
internal readonly record struct ProcessStat(int ProcessId, char State, int ParentId, int ProcessGroupId, int SessionId)
{
    /// <summary>A zombie (or a process being torn down) runs no code any more; only its parent's wait is missing.</summary>
    public bool IsDead => State is 'Z' or 'X' or 'x';

    /// <summary>True when this process belongs to the run that leads <paramref name="sessionId"/> (its group or its session).</summary>
    public bool BelongsTo(int sessionId) => ProcessGroupId == sessionId || SessionId == sessionId;
}

/// <summary>
/// Reads <c>/proc</c> to find the processes a run started, wherever they went in the tree. A whole-table scan reads
/// one small file per process on the machine, so with a thousand runs alive a scan costs milliseconds, and a scan per
/// ending run made ending a burst of runs quadratic: <see cref="SnapshotAsync"/> lets runs that end together share
/// scans, and each file is read with three system calls into a stack buffer.
/// </summary>
internal static class ProcessTable
{
    /// <summary>
    /// Enough of a stat line for the fields read here: the command name is at most 64 bytes even for kernel threads,
    /// and the state, parent, group and session follow it.
    /// </summary>
    private const int StatPrefixBytes = 512;

    private static readonly Lock Gate = new();
    private static TaskCompletionSource<IReadOnlyList<ProcessStat>>? _nextScan;
    private static Task _lastScan = Task.CompletedTask;

    public static ProcessStat? Read(int processId)
    {
        Span<byte> path = stackalloc byte[32];
        Span<byte> bytes = stackalloc byte[StatPrefixBytes];
        Span<char> chars = stackalloc char[StatPrefixBytes];
        return ReadInto(processId, path, bytes, chars);
    }

    /// <summary>
    /// Parses a stat line: <c>pid (comm) state ppid pgrp session …</c>. The command name may hold spaces and
    /// parentheses, so the fields are counted from the last closing parenthesis.
    /// </summary>
    public static ProcessStat? Parse(string text) => Parse(text.AsSpan());

    /// <inheritdoc cref="Parse(string)"/>
    public static ProcessStat? Parse(ReadOnlySpan<char> text)
    {
        var close = text.LastIndexOf(')');
        var open = text.IndexOf(' ');
        if (close < 0 || open <= 0 || close + 2 >= text.Length
            || !int.TryParse(text[..open], NumberStyles.None, CultureInfo.InvariantCulture, out var pid))
        {
            return null;
        }

        var rest = text[(close + 2)..];
        Span<Range> fields = stackalloc Range[5];
        if (rest.Split(fields, ' ') < 4)
        {
            return null;
        }

        var state = rest[fields[0]];
        if (state.Length != 1
            || !int.TryParse(rest[fields[1]], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var ppid)
            || !int.TryParse(rest[fields[2]], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var pgrp)
            || !int.TryParse(rest[fields[3]], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var session))
        {
            return null;
        }

        return new ProcessStat(pid, state[0], ppid, pgrp, session);
    }

    /// <summary>
    /// The live processes of a run in a <see cref="SnapshotAsync"/> of the table: those in its process group, and
    /// those still in its session that moved to a group of their own (a shell's job control does that). Zombies are
    /// not in a snapshot: they run nothing.
    /// </summary>
    public static List<ProcessStat> Members(IReadOnlyList<ProcessStat> snapshot, int sessionId)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        var found = new List<ProcessStat>();
        foreach (var stat in snapshot)
        {
            if (stat.BelongsTo(sessionId))
            {
                found.Add(stat);
            }
        }

        return found;
    }

    /// <summary>
    /// Every live process, read by a scan that begins after this call (so it sees whatever had happened before it,
    /// such as a run's main process exiting). Scans run one at a time; everyone who asks while a scan is waiting for
    /// its turn shares that scan, so a thousand runs ending within a few milliseconds cost a few scans, not a thousand.
    /// </summary>
    public static Task<IReadOnlyList<ProcessStat>> SnapshotAsync()
    {
        lock (Gate)
        {
            if (_nextScan is { } waiting)
            {
                return waiting.Task;
            }

            var next = new TaskCompletionSource<IReadOnlyList<ProcessStat>>(TaskCreationOptions.RunContinuationsAsynchronously);
            _nextScan = next;
            var previous = _lastScan;
            _lastScan = Task.Run(async () =>
            {
                await previous.ConfigureAwait(false);
                lock (Gate)
                {
                    // From here on, whoever asks waits for the scan after this one: this one may already be past them.
                    _nextScan = null;
                }

                try
                {
                    next.TrySetResult(Scan());
                }
#pragma warning disable CA1031 // Whatever stopped the scan is its callers' answer; the next scan is independent of it.
                catch (Exception ex)
#pragma warning restore CA1031
                {
                    next.TrySetException(ex);
                }
            });
            return next.Task;
        }
    }

    /// <summary>Every live (not dead) process on the machine, read now.</summary>
    private static List<ProcessStat> Scan()
    {
        var found = new List<ProcessStat>();
        FileSystemEnumerable<int> processIds;
        try
        {
            processIds = new FileSystemEnumerable<int>("/proc", static (ref entry) => ParseProcessId(entry.FileName), new EnumerationOptions
            {
                IgnoreInaccessible = true,
                AttributesToSkip = FileAttributes.None,
                RecurseSubdirectories = false,
            })
            {
                ShouldIncludePredicate = static (ref entry) => entry.IsDirectory && ParseProcessId(entry.FileName) > 0,
            };
        }
        catch (IOException)
        {
            return found;
        }

        Span<byte> path = stackalloc byte[32];
        Span<byte> bytes = stackalloc byte[StatPrefixBytes];
        Span<char> chars = stackalloc char[StatPrefixBytes];
        try
        {
            foreach (var pid in processIds)
            {
                if (ReadInto(pid, path, bytes, chars) is { IsDead: false } stat)
                {
                    found.Add(stat);
                }
            }
        }
        catch (IOException)
        {
            // /proc itself could not be listed further: what was read is what there is.
        }

        return found;
    }

    private static int ParseProcessId(ReadOnlySpan<char> name) =>
        name.Length > 0 && char.IsAsciiDigit(name[0]) && int.TryParse(name, NumberStyles.None, CultureInfo.InvariantCulture, out var pid) ? pid : 0;

    /// <summary>Reads the start of <c>/proc/PID/stat</c> without allocating; null when the process is gone or unreadable.</summary>
    private static ProcessStat? ReadInto(int processId, Span<byte> path, Span<byte> bytes, Span<char> chars)
    {
        "/proc/"u8.CopyTo(path);
        if (processId <= 0 || !processId.TryFormat(path[6..], out var digits, default, CultureInfo.InvariantCulture))
        {
            return null;
        }

        "/stat\0"u8.CopyTo(path[(6 + digits)..]);

        var read = NativeMethods.ReadSmallFile(path, bytes);
        if (read <= 0)
        {
            return null;
        }

        // The kernel writes the command name as it was set, which may be any bytes; only ASCII around it is parsed.
        var count = Encoding.Latin1.GetChars(bytes[..read], chars);
        return Parse(chars[..count]);
    }
}
