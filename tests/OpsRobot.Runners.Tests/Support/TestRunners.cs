using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using OpsRobot.Core.Actions;
using OpsRobot.Core.Templates;
using OpsRobot.Runners.Processes;
using OpsRobot.Runners.Script;
using OpsRobot.Runners.Shell;

namespace OpsRobot.Runners.Tests.Support;

#pragma warning disable MA0016 // Concrete dictionaries let tests write target-typed new() { ["k"] = v }.

/// <summary>Runners and contexts for tests, with short grace periods so cancellation tests stay fast.</summary>
public static class TestRunners
{
    /// <summary>The real template renderer, with its default (safe) options, as the engine registers it.</summary>
    public static ITemplateRenderer Renderer { get; } = new TemplateRenderer();

    public static ProcessRunnerOptions FastOptions() => new()
    {
        KillGracePeriod = TimeSpan.FromMilliseconds(300),
        OutputDrainTimeout = TimeSpan.FromMilliseconds(500),
    };

    public static ShellRunner Shell(ProcessRunnerOptions? options = null) =>
        new(Renderer, Options.Create(options ?? FastOptions()), TimeProvider.System, NullLogger<ShellRunner>.Instance);

    public static ScriptRunner Script(ProcessRunnerOptions? options = null) =>
        new(Options.Create(options ?? FastOptions()), TimeProvider.System, NullLogger<ScriptRunner>.Instance);

    /// <summary>A shell action declaring cmd/cwd/env plus the given parameters.</summary>
    public static ActionDefinition ShellAction(params ParameterDefinition[] parameters) =>
        new("tests", "shell_action", "shell")
        {
            Parameters =
            [
                new ParameterDefinition("cmd", ParameterType.String) { Required = true },
                new ParameterDefinition("cwd", ParameterType.String),
                new ParameterDefinition("env", ParameterType.Object),
                .. parameters,
            ],
        };

    public static RunnerContext Context(ActionDefinition action, Dictionary<string, JsonNode?> parameters, IRunnerOutput? output = null, string executionId = "exec-1") =>
        new(executionId, action, parameters, output ?? new RecordingOutput());

    /// <summary>Runs a shell command with the given extra parameters (all declared as strings unless declared otherwise).</summary>
    public static Task<RunnerResult> RunShellAsync(string cmd, Dictionary<string, JsonNode?>? parameters = null, RecordingOutput? output = null, ProcessRunnerOptions? options = null, CancellationToken cancellationToken = default)
    {
        var values = new Dictionary<string, JsonNode?>(parameters ?? []) { ["cmd"] = cmd };
        var declared = values.Keys.Where(k => k is not "cmd" and not "cwd" and not "env")
            .Select(k => new ParameterDefinition(k, ParameterType.String)).ToArray();
        return Shell(options).RunAsync(Context(ShellAction(declared), values, output), cancellationToken);
    }

    /// <summary>A result field as text: strings as they are, parsed JSON compact.</summary>
    public static string? Text(this RunnerResult result, string field) => result.Result?[field] switch
    {
        null => null,
        JsonValue value when value.GetValueKind() == System.Text.Json.JsonValueKind.String => value.GetValue<string>(),
        var node => node.ToJsonString(),
    };
}
