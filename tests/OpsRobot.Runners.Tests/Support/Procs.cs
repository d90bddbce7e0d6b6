using System.Globalization;

namespace OpsRobot.Runners.Tests.Support;

/// <summary>Looks at processes through /proc, independently of the code under test.</summary>
public static class Procs
{
    /// <summary>State, process group and session of a process, or null when it no longer exists.</summary>
    public static (char State, int Group, int Session)? Stat(int pid)
    {
        string text;
        try
        {
            text = File.ReadAllText($"/proc/{pid}/stat");
        }
        catch (IOException)
        {
            return null;
        }

        var fields = text[(text.LastIndexOf(')') + 2)..].Split(' ');
        return (fields[0][0], int.Parse(fields[2], CultureInfo.InvariantCulture), int.Parse(fields[3], CultureInfo.InvariantCulture));
    }

    /// <summary>Running (not zombie) processes in a session. Zombies run nothing; this machine's init does not reap them.</summary>
    public static IReadOnlyList<int> LiveInSession(int session)
    {
        var found = new List<int>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (int.TryParse(Path.GetFileName(dir), out var pid) && Stat(pid) is { } s && s.Session == session && s.State != 'Z')
            {
                found.Add(pid);
            }
        }

        return found;
    }

    public static bool IsRunning(int pid) => Stat(pid) is { } s && s.State is not 'Z' and not 'X';

    /// <summary>Numbers printed as <c>label=N</c> lines.</summary>
    public static IReadOnlyList<int> Pids(string output, string label) =>
        output.Split('\n')
            .Where(l => l.StartsWith(label + "=", StringComparison.Ordinal))
            .Select(l => int.Parse(l[(label.Length + 1)..].Trim(), CultureInfo.InvariantCulture))
            .ToList();
}
