using System.Text;
using OpsRobot.Core.Actions;
using OpsRobot.Core.Templates;

namespace OpsRobot.Integrations.Ssh;

/// <summary>
/// Builds the one string OpenSSH hands the remote login shell. Whatever the action's parameters hold, the remote
/// side runs <c>/bin/sh -c '…'</c> with the whole command inside POSIX single quotes, so the login shell (bash,
/// zsh, dash) only ever removes one layer of quoting; values inside were quoted again by the <c>cmd</c> template or
/// here.
/// </summary>
public static class SshScript
{
    /// <summary>The command line wrapped for the remote shell, after an optional <c>cd</c> and exported variables.</summary>
    public static string Wrap(string commandLine, string? workingDirectory, IReadOnlyList<KeyValuePair<string, string>> environment)
    {
        ArgumentNullException.ThrowIfNull(commandLine);
        ArgumentNullException.ThrowIfNull(environment);
        return "/bin/sh -c " + ShellQuote.Quote(Prelude(workingDirectory, environment) + commandLine);
    }

    /// <summary>
    /// The remote command that runs a pack script sent on standard input: it is stored in a private temporary file
    /// (<c>mktemp</c>, removed on exit), then run with <paramref name="arguments"/> as separate quoted words; a
    /// script without a <c>#!</c> line runs under <c>/bin/sh</c>.
    /// </summary>
    public static string RemoteCommand(string script, IReadOnlyList<string> arguments, string? workingDirectory, IReadOnlyList<KeyValuePair<string, string>> environment)
    {
        ArgumentNullException.ThrowIfNull(script);
        ArgumentNullException.ThrowIfNull(arguments);
        var run = new StringBuilder(script.StartsWith("#!", StringComparison.Ordinal) ? "\"$opsrobot_script\"" : "/bin/sh \"$opsrobot_script\"");
        foreach (var argument in arguments)
        {
            run.Append(' ').Append(ShellQuote.Quote(argument));
        }

        var body = "opsrobot_script=$(mktemp) || exit 125\n"
            + "trap 'rm -f \"$opsrobot_script\"' EXIT\n"
            + "cat > \"$opsrobot_script\" && chmod 700 \"$opsrobot_script\" || exit 125\n"
            + Prelude(workingDirectory, environment)
            + run + " </dev/null\n";
        return "/bin/sh -c " + ShellQuote.Quote(body);
    }

    /// <summary>The action's script: a regular file inside the pack's folder (links and <c>..</c> resolved), or why not.</summary>
    public static (string? Path, string? Error) Resolve(ActionDefinition action)
    {
        ArgumentNullException.ThrowIfNull(action);
        if (string.IsNullOrWhiteSpace(action.EntryPoint) || action.EntryPointPath is not { } path)
        {
            return (null, "The action has no entry_point script.");
        }

        if (action.PackDirectory.Length == 0 || action.EntryPoint.Contains('\0', StringComparison.Ordinal))
        {
            return (null, $"entry_point '{action.EntryPoint}' cannot be checked: the action has no pack folder.");
        }

        var pack = System.IO.Path.TrimEndingDirectorySeparator(System.IO.Path.GetFullPath(action.PackDirectory)) + System.IO.Path.DirectorySeparatorChar;
        if (!path.StartsWith(pack, StringComparison.Ordinal))
        {
            return (null, $"entry_point '{action.EntryPoint}' points outside the pack's folder; a script must live inside its pack.");
        }

        var file = new FileInfo(path);
        if (!file.Exists)
        {
            return (null, $"entry_point '{action.EntryPoint}' does not exist (looked for {path}).");
        }

        var real = file.ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? file.FullName;
        var realPack = new DirectoryInfo(pack).ResolveLinkTarget(returnFinalTarget: true)?.FullName is { } linkedPack
            ? System.IO.Path.TrimEndingDirectorySeparator(linkedPack) + System.IO.Path.DirectorySeparatorChar
            : pack;
        if (!real.StartsWith(realPack, StringComparison.Ordinal) && !real.StartsWith(pack, StringComparison.Ordinal))
        {
            return (null, $"entry_point '{action.EntryPoint}' is a symbolic link to a file outside the pack's folder; a script must live inside its pack.");
        }

        return file.Length > 1024 * 1024
            ? (null, $"entry_point '{action.EntryPoint}' is larger than 1 MiB; send such files with a deployment tool, not as a script.")
            : (real, null);
    }

    private static string Prelude(string? workingDirectory, IReadOnlyList<KeyValuePair<string, string>> environment)
    {
        var prelude = new StringBuilder();
        if (workingDirectory is not null)
        {
            prelude.Append("cd ").Append(ShellQuote.Quote(workingDirectory)).Append(" || exit 125\n");
        }

        foreach (var (name, value) in environment)
        {
            // Names were checked to be identifiers; values are quoted.
            prelude.Append("export ").Append(name).Append('=').Append(ShellQuote.Quote(value)).Append('\n');
        }

        return prelude.ToString();
    }
}
