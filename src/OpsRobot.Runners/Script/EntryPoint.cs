using OpsRobot.Core.Actions;
using OpsRobot.Runners.Processes;

namespace OpsRobot.Runners.Script;

/// <summary>
/// Finds and checks a script action's <c>entry_point</c>: set, inside the pack's folder once <c>..</c> and
/// symbolic links are resolved (a pack may not run another pack's files or <c>/usr/bin/rm</c>), an existing
/// regular file, readable.
/// </summary>
internal static class EntryPoint
{
    /// <summary>The resolved path of the script, or the problems, each a sentence for the pack author.</summary>
    public static (string? Path, List<string> Problems) Resolve(ActionDefinition action)
    {
        var problems = new List<string>();
        if (string.IsNullOrWhiteSpace(action.EntryPoint))
        {
            problems.Add("A script action needs an entry_point: the script's path, relative to the pack's actions/ folder.");
            return (null, problems);
        }

        if (action.PackDirectory.Length == 0 || !System.IO.Path.IsPathFullyQualified(action.PackDirectory))
        {
            problems.Add($"entry_point '{action.EntryPoint}' cannot be checked: the action has no pack folder.");
            return (null, problems);
        }

        if (action.EntryPoint.Contains('\0', StringComparison.Ordinal))
        {
            problems.Add("entry_point contains a NUL character.");
            return (null, problems);
        }

        var packDirectory = System.IO.Path.TrimEndingDirectorySeparator(System.IO.Path.GetFullPath(action.PackDirectory));
        var path = action.EntryPointPath!;
        if (!IsInside(path, packDirectory))
        {
            problems.Add($"entry_point '{action.EntryPoint}' points outside the pack's folder; a script must live inside its pack.");
            return (null, problems);
        }

        if (Directory.Exists(path))
        {
            problems.Add($"entry_point '{action.EntryPoint}' is a folder, not a script.");
            return (null, problems);
        }

        if (!File.Exists(path))
        {
            problems.Add($"entry_point '{action.EntryPoint}' does not exist (looked for {path}).");
            return (null, problems);
        }

        // Resolve symbolic links on both sides: a link inside the pack to /etc/shadow or to another pack is
        // still outside, and a pack folder reached through a link is still the pack.
        var realPack = NativeMethods.RealPath(packDirectory);
        var realPath = NativeMethods.RealPath(path);
        if (realPack is null || realPath is null || !IsInside(realPath, realPack))
        {
            problems.Add($"entry_point '{action.EntryPoint}' is a symbolic link to a file outside the pack's folder; a script must live inside its pack.");
            return (null, problems);
        }

        if (!NativeMethods.CanRead(realPath))
        {
            problems.Add($"entry_point '{action.EntryPoint}' is not readable by the user OpsRobot runs as.");
            return (null, problems);
        }

        return (realPath, problems);
    }

    private static bool IsInside(string path, string folder) =>
        path.StartsWith(folder + System.IO.Path.DirectorySeparatorChar, StringComparison.Ordinal);
}
