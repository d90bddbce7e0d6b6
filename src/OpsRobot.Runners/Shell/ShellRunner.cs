using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OpsRobot.Core.Actions;
using OpsRobot.Core.Templates;
using OpsRobot.Runners.Processes;

namespace OpsRobot.Runners.Shell;

/// <summary>
/// Runs a command line on the OpsRobot host: StackStorm's <c>local-shell-cmd</c>. Runner parameters: <c>cmd</c>
/// (required: a template for a bash command line), <c>cwd</c> and <c>env</c>. <c>cmd</c> is rendered with every
/// parameter in scope and every inserted value shell-quoted, so <c>rm -rf {{ path }}</c> removes exactly one path
/// whatever the caller typed; the result runs as <c>/bin/bash -c RENDERED</c> in a new session. Every other
/// parameter is also exported as <c>OPSROBOT_PARAM_NAME</c>. StackStorm's other local runner parameters are
/// accepted and not exported: <c>timeout</c> (seconds: the tree is stopped and the run fails), <c>kwarg_op</c>,
/// <c>sudo</c> (refused when true), <c>sudo_password</c>.
/// </summary>
public sealed class ShellRunner : IRunner
{
    private readonly ITemplateRenderer _renderer;
    private readonly ProcessRunnerOptions _options;
    private readonly ProcessTreeExecutor _executor;

    public ShellRunner(ITemplateRenderer renderer, IOptions<ProcessRunnerOptions> options, TimeProvider time, ILogger<ShellRunner> logger)
    {
        ArgumentNullException.ThrowIfNull(renderer);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(time);
        ArgumentNullException.ThrowIfNull(logger);
        _renderer = renderer;
        _options = options.Value;
        _executor = new ProcessTreeExecutor(_options, time, logger);
    }

    public IReadOnlyList<string> Names { get; } = ["shell", "local-shell-cmd"];

    public IEnumerable<string> Validate(ActionDefinition action)
    {
        ArgumentNullException.ThrowIfNull(action);
        foreach (var problem in LocalRunnerParameters.ValidateDeclared(action))
        {
            yield return problem;
        }

        var cmd = RunnerParameters.Declared(action, "cmd");
        if (cmd is null)
        {
            yield return "A shell action needs a 'cmd' parameter: the command line to run (usually a default marked immutable).";
            yield break;
        }

        if (cmd.Type != ParameterType.String)
        {
            yield return "Parameter 'cmd' must have type string.";
        }
        else if (cmd.Default is JsonValue value && value.TryGetValue<string>(out var template) && _renderer.Check(template) is { } error)
        {
            yield return $"The 'cmd' template does not parse: {error.Message}";
        }
    }

    public Task<RunnerResult> RunAsync(RunnerContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (!RunnerParameters.TryGetString(context.Parameters, "cmd", out var cmd, out var error)
            || !RunnerParameters.TryGetString(context.Parameters, "cwd", out var cwd, out error)
            || !LocalRunnerParameters.TryGetTimeout(context.Parameters, out var timeout, out error))
        {
            return Task.FromResult(RunnerResults.Failed(error!));
        }

        if (LocalRunnerParameters.Unsupported(context.Parameters) is { } unsupported)
        {
            return Task.FromResult(RunnerResults.Failed(unsupported));
        }

        if (string.IsNullOrWhiteSpace(cmd))
        {
            return Task.FromResult(RunnerResults.Failed("Parameter 'cmd' is required: the command line to run."));
        }

        // First, because it also refuses values no process can receive (NUL) before the template quotes them.
        var (environment, envError) = ProcessEnvironment.Build(context, LocalRunnerParameters.Shell, _options);
        if (environment is null)
        {
            return Task.FromResult(RunnerResults.Failed(envError!));
        }

        var scope = new JsonObject();
        foreach (var (name, value) in context.Parameters)
        {
            scope[name] = value?.DeepClone();
        }

        string commandLine;
        try
        {
            commandLine = _renderer.Render(cmd, scope, TemplateEscape.Shell);
        }
        catch (TemplateException ex)
        {
            return Task.FromResult(RunnerResults.Failed($"The 'cmd' template failed: {ex.Message}"));
        }

        var launch = new ProcessLaunch([_options.ShellPath, "-c", commandLine], cwd ?? DefaultWorkingDirectory(context.Action), environment, timeout);
        return _executor.RunAsync(launch, context, cancellationToken);
    }

    /// <summary>The pack's folder when it has one, so a command can use the pack's files by relative path.</summary>
    private static string DefaultWorkingDirectory(ActionDefinition action) =>
        action.PackDirectory.Length > 0 && Directory.Exists(action.PackDirectory) ? action.PackDirectory : Path.GetTempPath();
}
