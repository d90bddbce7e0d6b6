using System.CommandLine;
using System.CommandLine.Invocation;
using OpsRobot.Core.Commands;

namespace OpsRobot.Cli;

/// <summary>
/// A command line the parser refused, told as sentences on standard error ("Unknown option --secert. Did you mean
/// --secret?") with exit code 1, instead of System.CommandLine's default, which prints its suggestions and the whole
/// help on standard output, where a script would take them for the verb's answer.
/// </summary>
internal static class ParseErrors
{
    /// <summary>Exit code of a refused command line, as System.CommandLine's own.</summary>
    public const int ExitCode = 1;

    /// <summary>Whether <paramref name="result"/> is refused: it has errors and no option (--help) that runs regardless.</summary>
    public static bool AreIn(ParseResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        return result.Errors.Count > 0 && result.Action is ParseErrorAction;
    }

    /// <summary>Writes one line per problem, then where the verb's options are listed.</summary>
    public static async Task<int> ReportAsync(ParseResult result, TextWriter error)
    {
        ArgumentNullException.ThrowIfNull(result);
        ArgumentNullException.ThrowIfNull(error);
        var command = result.CommandResult.Command;
        var unmatched = result.UnmatchedTokens.ToHashSet(StringComparer.Ordinal);
        foreach (var token in result.UnmatchedTokens)
        {
            await error.WriteLineAsync($"opsrobot: {Describe(command, token)}");
        }

        // The parser words an unmatched token as "Unrecognized command or argument 'x'."; those are told above.
        foreach (var problem in result.Errors.Where(e => !unmatched.Any(t => e.Message.Contains($"'{t}'", StringComparison.Ordinal))))
        {
            await error.WriteLineAsync($"opsrobot: {problem.Message}");
        }

        await error.WriteLineAsync($"'{Verb(command)} --help' lists the options.");
        return ExitCode;
    }

    /// <summary>One sentence for a token <paramref name="command"/> does not take, with the closest it does when one is near.</summary>
    public static string Describe(Command command, string token)
    {
        ArgumentNullException.ThrowIfNull(command);
        ArgumentNullException.ThrowIfNull(token);
        if (token.StartsWith('-'))
        {
            var name = token.Split('=', 2)[0];
            var option = Closest(name, command.Options.Where(o => !o.Hidden).SelectMany(o => o.Aliases.Prepend(o.Name)).Where(n => n.StartsWith("--", StringComparison.Ordinal)));
            return $"Unknown option {name}.{(option is null ? string.Empty : $" Did you mean {option}?")}";
        }

        var verb = Closest(token, command.Subcommands.Where(c => !c.Hidden).Select(c => c.Name));
        var shown = token.Length > 40 ? token[..40] + "…" : token;
        return verb is null
            ? $"Unexpected argument '{shown}' for '{Verb(command)}'."
            : $"Unknown verb '{shown}'. Did you mean '{Verb(command)} {verb}'?";
    }

    /// <summary>The verb as typed: <c>opsrobot kv set</c>.</summary>
    public static string Verb(Command command)
    {
        ArgumentNullException.ThrowIfNull(command);
        var names = new List<string>();
        for (Command? c = command; c is not null and not RootCommand; c = c.Parents.OfType<Command>().FirstOrDefault())
        {
            names.Insert(0, c.Name);
        }

        return string.Join(' ', names.Prepend("opsrobot"));
    }

    private static string? Closest(string typed, IEnumerable<string> names) => names
        .Select(n => (Name: n, Distance: Similarity.Distance(n, typed, ignoreCase: true)))
        .Where(x => x.Distance <= Math.Max(1, typed.Length / 3))
        .OrderBy(x => x.Distance)
        .Select(x => x.Name)
        .FirstOrDefault();
}
