using System.Text.Json.Nodes;

namespace OpsRobot.Runners.Processes;

/// <summary>
/// The runner parameters of StackStorm's local runners (<c>local_runner/runner.yaml</c>). Packs written for
/// StackStorm declare them (a longer <c>timeout</c>, <c>sudo: false</c>); they configure the runner and are
/// never passed to the command as arguments or <c>OPSROBOT_PARAM_*</c> variables.
/// </summary>
internal static class LocalRunnerParameters
{
    /// <summary>
    /// Shared by <c>local-shell-cmd</c> and <c>local-shell-script</c>. <c>timeout</c> (seconds) stops the process
    /// tree and fails the run, on top of the execution's own timeout; <c>sudo</c> is refused when true.
    /// </summary>
    public static IReadOnlySet<string> Shell { get; } = new HashSet<string>(StringComparer.Ordinal)
    {
        "cmd", "cwd", "env", "kwarg_op", "timeout", "sudo", "sudo_password",
    };

    public static IReadOnlySet<string> Script { get; } = new HashSet<string>(StringComparer.Ordinal)
    {
        "cwd", "env", "kwarg_op", "timeout", "sudo", "sudo_password", "debug", "content_version",
    };

    /// <summary>
    /// The <c>timeout</c> parameter (seconds) as a time span, or null when absent. Returns false with a sentence
    /// when it is not a positive number.
    /// </summary>
    public static bool TryGetTimeout(IReadOnlyDictionary<string, JsonNode?> parameters, out TimeSpan? timeout, out string? error)
    {
        timeout = null;
        if (!RunnerParameters.TryGetNumber(parameters, "timeout", out var seconds, out error))
        {
            return false;
        }

        if (seconds is null)
        {
            return true;
        }

        if (!(seconds > 0 && seconds <= 31_536_000))
        {
            error = "Parameter 'timeout' must be a positive number of seconds (at most a year).";
            return false;
        }

        timeout = TimeSpan.FromSeconds(seconds.Value);
        return true;
    }

    /// <summary>A sentence when the action asks for something these runners do not do, else null.</summary>
    public static string? Unsupported(IReadOnlyDictionary<string, JsonNode?> parameters) =>
        RunnerParameters.IsTrue(parameters, "sudo")
            ? "Runner parameter 'sudo' is not supported: OpsRobot runs commands as its own user. Remove 'sudo: true' from the action."
            : null;

    /// <summary>
    /// The types the local runners expect for their own parameters. An action that declares one of these names
    /// with another type (a string <c>env</c>, say) is refused at load, not at the first run.
    /// </summary>
    private static readonly (string Name, Core.Actions.ParameterType[] Types, string Meaning)[] Expected =
    [
        ("cwd", [Core.Actions.ParameterType.String], "the working directory"),
        ("env", [Core.Actions.ParameterType.Object], "extra environment variables"),
        ("timeout", [Core.Actions.ParameterType.Integer, Core.Actions.ParameterType.Number], "seconds before the process tree is stopped"),
        ("kwarg_op", [Core.Actions.ParameterType.String], "the prefix of named script arguments"),
        ("sudo", [Core.Actions.ParameterType.Boolean], "run with sudo (refused)"),
    ];

    /// <summary>Problems with the runner parameters an action declares, worded for the pack author.</summary>
    public static IEnumerable<string> ValidateDeclared(Core.Actions.ActionDefinition action)
    {
        ArgumentNullException.ThrowIfNull(action);
        foreach (var (name, types, meaning) in Expected)
        {
            var declared = action.Parameters.FirstOrDefault(p => p.Name == name);
            if (declared is not null && !types.Contains(declared.Type))
            {
                yield return $"Parameter '{name}' belongs to the {action.RunnerType} runner ({meaning}) and must be {string.Join(" or ", types.Select(t => t.ToString().ToLowerInvariant()))}, not {declared.Type.ToString().ToLowerInvariant()}; give your parameter another name.";
            }
        }
    }
}
