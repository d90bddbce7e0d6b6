using System.Globalization;

namespace OpsRobot.Runners.Processes;

/// <summary>One line of the kernel's process table, as <c>/proc/PID/stat</c> shows it.</summary>
internal readonly record struct ProcessStat(int ProcessId, char State, int ParentId, int ProcessGroupId, int SessionId)
{
    /// <summary>A zombie (or a process being torn down) runs no code any more; only its parent's wait is missing.</summary>
    public bool IsDead => State is 'Z' or 'X' or 'x';
}

/// <summary>Reads <c>/proc</c> to find the processes a run started, wherever they went in the tree.</summary>
internal static class ProcessTable
{
    public static ProcessStat? Read(int processId)
    {
        string text;
        try
        {
            text = File.ReadAllText($"/proc/{processId.ToString(CultureInfo.InvariantCulture)}/stat");
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }

        return Parse(text);
    }

    /// <summary>
    /// Parses a stat line: <c>pid (comm) state ppid pgrp session …</c>. The command name may hold spaces and
    /// parentheses, so the fields are counted from the last closing parenthesis.
    /// </summary>
    public static ProcessStat? Parse(string text)
    {
        var close = text.LastIndexOf(')');
        var open = text.IndexOf(' ', StringComparison.Ordinal);
        if (close < 0 || open <= 0 || close + 2 >= text.Length)
        {
            return null;
        }

        var fields = text[(close + 2)..].Split(' ', 5);
        if (fields.Length < 4 || fields[0].Length != 1
            || !int.TryParse(text.AsSpan(0, open), NumberStyles.None, CultureInfo.InvariantCulture, out var pid)
            || !int.TryParse(fields[1], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var ppid)
            || !int.TryParse(fields[2], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var pgrp)
            || !int.TryParse(fields[3], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var session))
        {
            return null;
        }

        return new ProcessStat(pid, fields[0][0], ppid, pgrp, session);
    }

    /// <summary>
    /// The live processes that belong to a run: those in its process group, and those still in its session that
    /// moved to a group of their own (a shell's job control does that). Zombies are left out: they run nothing.
    /// </summary>
    public static List<ProcessStat> LiveMembers(int sessionId)
    {
        var found = new List<ProcessStat>();
        IEnumerable<string> entries;
        try
        {
            entries = Directory.EnumerateDirectories("/proc");
        }
        catch (IOException)
        {
            return found;
        }

        foreach (var entry in entries)
        {
            var name = Path.GetFileName(entry.AsSpan());
            if (name.IsEmpty || !char.IsAsciiDigit(name[0]) || !int.TryParse(name, NumberStyles.None, CultureInfo.InvariantCulture, out var pid))
            {
                continue;
            }

            if (Read(pid) is { } stat && !stat.IsDead && (stat.ProcessGroupId == sessionId || stat.SessionId == sessionId))
            {
                found.Add(stat);
            }
        }

        return found;
    }
}
