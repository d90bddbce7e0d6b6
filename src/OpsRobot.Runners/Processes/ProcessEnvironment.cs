using System.Text;
using OpsRobot.Core.Actions;

namespace OpsRobot.Runners.Processes;

/// <summary>
/// Builds a process's environment from nothing: a few harmless variables of OpsRobot's own, the action's
/// <c>env</c>, then the <c>OPSROBOT_*</c> variables. OpsRobot's other variables never reach an action.
/// </summary>
internal static class ProcessEnvironment
{
    public const string ParameterPrefix = "OPSROBOT_PARAM_";
    public const string ExecutionIdVariable = "OPSROBOT_EXECUTION_ID";
    public const string ActionRefVariable = "OPSROBOT_ACTION_REF";
    public const string PackVariable = "OPSROBOT_ACTION_PACK";

    /// <summary>
    /// The environment for one run, or an error sentence (naming the parameter, never its value) when a value
    /// cannot be passed to a process.
    /// </summary>
    public static (Dictionary<string, string>? Environment, string? Error) Build(
        RunnerContext context,
        IReadOnlySet<string> runnerParameters,
        ProcessRunnerOptions options)
    {
        var env = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var name in options.InheritedEnvironment)
        {
            if (Environment.GetEnvironmentVariable(name) is { } value)
            {
                env[name] = value;
            }
        }

        env.TryAdd("PATH", options.DefaultPath);
        env.TryAdd("LANG", "C.UTF-8");

        if (!RunnerParameters.TryGetObject(context.Parameters, "env", out var actionEnv, out var error))
        {
            return (null, error);
        }

        foreach (var (name, node) in actionEnv ?? [])
        {
            if (name.Length == 0 || name.Contains('=', StringComparison.Ordinal) || name.Contains('\0', StringComparison.Ordinal))
            {
                return (null, "Parameter 'env' has a variable name that is empty or contains '=' or NUL.");
            }

            if (node is null)
            {
                continue;
            }

            var text = RunnerParameters.ToText(node);
            if (text.Contains('\0', StringComparison.Ordinal))
            {
                return (null, $"Environment variable '{name}' (from parameter 'env') contains a NUL character, which cannot be passed to a process.");
            }

            env[name] = text;
        }

        // Set last, so an action's env cannot forge them (StackStorm does the same with ST2_ACTION_*).
        foreach (var (name, value) in context.Parameters)
        {
            if (runnerParameters.Contains(name) || value is null || RunnerParameters.Get(context.Parameters, name) is null)
            {
                continue;
            }

            var text = RunnerParameters.ToText(value);
            if (text.Contains('\0', StringComparison.Ordinal))
            {
                return (null, $"Parameter '{name}' contains a NUL character, which cannot be passed to a process.");
            }

            env[ParameterVariable(name)] = text;
        }

        env[ExecutionIdVariable] = context.ExecutionId;
        env[ActionRefVariable] = context.Action.Ref;
        env[PackVariable] = context.Action.Pack;
        return (env, null);
    }

    /// <summary><c>OPSROBOT_PARAM_</c> + the name upper-cased, with anything but letters, digits and <c>_</c> made <c>_</c>.</summary>
    public static string ParameterVariable(string parameterName)
    {
        var sb = new StringBuilder(ParameterPrefix, ParameterPrefix.Length + parameterName.Length);
        foreach (var c in parameterName)
        {
            sb.Append(char.IsAsciiLetterOrDigit(c) ? char.ToUpperInvariant(c) : '_');
        }

        return sb.ToString();
    }
}
