using System.Text.Json;
using System.Text.Json.Nodes;
using OpsRobot.Core.Actions;

namespace OpsRobot.Runners.Script;

/// <summary>
/// Builds a script's argument vector the way StackStorm's <c>ShellScriptAction</c> does, but as separate argv
/// entries rather than one quoted string: first the named arguments (<c>--name=value</c>, with the
/// <c>kwarg_op</c> prefix), then the positional ones in <c>position</c> order.
/// </summary>
internal static class ScriptArguments
{
    /// <summary>
    /// Named arguments: parameters without a <c>position</c>, in declaration order (undeclared ones after, by
    /// name). Null and empty-string values are skipped; <c>true</c> gives a bare flag (<c>--force</c>) and
    /// <c>false</c> nothing; strings and numbers go as they are; arrays and objects as compact JSON.
    /// Positional arguments: strings and numbers as they are, booleans as <c>1</c>/<c>0</c>, arrays joined with
    /// commas, objects as JSON, and null or missing as an empty string, which keeps later positions in place.
    /// </summary>
    public static List<string> Build(ActionDefinition action, IReadOnlyDictionary<string, JsonNode?> parameters, string kwargOp, IReadOnlySet<string> runnerParameters)
    {
        var declared = action.Parameters.Select(p => p.Name).ToHashSet(StringComparer.Ordinal);
        var positional = action.Parameters.Where(p => p.Position is not null).Select(p => p.Name).ToHashSet(StringComparer.Ordinal);
        var namedOrder = action.Parameters.Select(p => p.Name)
            .Concat(parameters.Keys.Where(k => !declared.Contains(k)).Order(StringComparer.Ordinal));

        var argv = new List<string>();
        foreach (var name in namedOrder)
        {
            if (positional.Contains(name) || runnerParameters.Contains(name) || RunnerParameters.Get(parameters, name) is not { } value)
            {
                continue;
            }

            switch (value.GetValueKind())
            {
                case JsonValueKind.True:
                    argv.Add(kwargOp + name);
                    break;
                case JsonValueKind.False:
                    break;
                case JsonValueKind.String when RunnerParameters.StringOf(value).Length == 0:
                    break;
                default:
                    argv.Add(kwargOp + name + "=" + RunnerParameters.ToText(value));
                    break;
            }
        }

        foreach (var parameter in action.Parameters.Where(p => p.Position is not null).OrderBy(p => p.Position))
        {
            argv.Add(Positional(RunnerParameters.Get(parameters, parameter.Name)));
        }

        return argv;
    }

    private static string Positional(JsonNode? value) => value?.GetValueKind() switch
    {
        null => string.Empty,
        JsonValueKind.True => "1",
        JsonValueKind.False => "0",
        JsonValueKind.Array => string.Join(',', value.AsArray().Select(item => item is null ? string.Empty : RunnerParameters.ToText(item))),
        JsonValueKind.Object when value.AsObject().Count == 0 => string.Empty,
        _ => RunnerParameters.ToText(value),
    };
}
