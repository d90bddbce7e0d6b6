using System.Text;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OpsRobot.Core.Actions;
using OpsRobot.Runners.Processes;

namespace OpsRobot.Runners.Script;

/// <summary>
/// Runs the action's <c>entry_point</c> script on the OpsRobot host: StackStorm's <c>local-shell-script</c>.
/// Runner parameters: <c>cwd</c> (default: the script's folder), <c>env</c>, <c>kwarg_op</c> (default <c>--</c>),
/// <c>timeout</c> (seconds: the tree is stopped and the run fails), and StackStorm's <c>sudo</c> (refused when
/// true), <c>sudo_password</c>, <c>debug</c>, <c>content_version</c>; none of them is passed to the script.
/// The other parameters become arguments (see <see cref="ScriptArguments"/>) and <c>OPSROBOT_PARAM_*</c>
/// variables. An executable script is run directly; otherwise its <c>#!</c> line names the interpreter, and a
/// script with neither runs under bash. StackStorm gets the same effect by <c>chmod +x</c>-ing the file before
/// each run; OpsRobot never modifies pack files.
/// </summary>
public sealed class ScriptRunner : IRunner
{
    /// <summary>The kernel reads at most this much of a file for its <c>#!</c> line (BINPRM_BUF_SIZE).</summary>
    private const int ShebangLimit = 256;

    private readonly ProcessRunnerOptions _options;
    private readonly ProcessTreeExecutor _executor;

    public ScriptRunner(IOptions<ProcessRunnerOptions> options, TimeProvider time, ILogger<ScriptRunner> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(time);
        ArgumentNullException.ThrowIfNull(logger);
        _options = options.Value;
        _executor = new ProcessTreeExecutor(_options, time, logger);
    }

    public IReadOnlyList<string> Names { get; } = ["script", "local-shell-script"];

    public IEnumerable<string> Validate(ActionDefinition action)
    {
        ArgumentNullException.ThrowIfNull(action);
        return [.. LocalRunnerParameters.ValidateDeclared(action), .. EntryPoint.Resolve(action).Problems];
    }

    public Task<RunnerResult> RunAsync(RunnerContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);

        // Checked again at run time: the file may have changed since the pack loaded.
        var (script, problems) = EntryPoint.Resolve(context.Action);
        if (script is null)
        {
            return Task.FromResult(RunnerResults.Failed(string.Join(" ", problems)));
        }

        if (LocalRunnerParameters.Unsupported(context.Parameters) is { } unsupported)
        {
            return Task.FromResult(RunnerResults.Failed(unsupported));
        }

        if (!RunnerParameters.TryGetString(context.Parameters, "cwd", out var cwd, out var error)
            || !RunnerParameters.TryGetString(context.Parameters, "kwarg_op", out var kwargOp, out error)
            || !LocalRunnerParameters.TryGetTimeout(context.Parameters, out var timeout, out error))
        {
            return Task.FromResult(RunnerResults.Failed(error!));
        }

        var (environment, envError) = ProcessEnvironment.Build(context, LocalRunnerParameters.Script, _options);
        if (environment is null)
        {
            return Task.FromResult(RunnerResults.Failed(envError!));
        }

        List<string> argv;
        try
        {
            argv = Command(script, _options.ShellPath);
        }
        catch (IOException ex)
        {
            return Task.FromResult(RunnerResults.Failed($"Cannot read entry_point '{context.Action.EntryPoint}': {ex.Message}"));
        }
        catch (UnauthorizedAccessException ex)
        {
            return Task.FromResult(RunnerResults.Failed($"Cannot read entry_point '{context.Action.EntryPoint}': {ex.Message}"));
        }

        argv.AddRange(ScriptArguments.Build(context.Action, context.Parameters, kwargOp ?? "--", LocalRunnerParameters.Script));
        var launch = new ProcessLaunch(argv, cwd ?? Path.GetDirectoryName(script)!, environment, timeout);
        return _executor.RunAsync(launch, context, cancellationToken);
    }

    /// <summary>How to start the script: itself, its <c>#!</c> interpreter, or bash.</summary>
    internal static List<string> Command(string script, string shell)
    {
        if (NativeMethods.CanExecute(script))
        {
            return [script];
        }

        if (ReadShebang(script) is { } shebang)
        {
            return shebang.Argument is null ? [shebang.Interpreter, script] : [shebang.Interpreter, shebang.Argument, script];
        }

        return [shell, script];
    }

    /// <summary>
    /// Reads a <c>#!</c> line as Linux does: the interpreter, then everything after it on the line as one
    /// optional argument (<c>#!/usr/bin/env python3</c> → <c>/usr/bin/env</c>, <c>python3</c>). A trailing
    /// <c>\r</c> from a file saved on Windows is dropped.
    /// </summary>
    internal static (string Interpreter, string? Argument)? ReadShebang(string script)
    {
        var buffer = new byte[ShebangLimit];
        int length;
        using (var stream = new FileStream(script, FileMode.Open, FileAccess.Read, FileShare.ReadWrite))
        {
            length = stream.ReadAtLeast(buffer, buffer.Length, throwOnEndOfStream: false);
        }

        if (length < 3 || buffer[0] != (byte)'#' || buffer[1] != (byte)'!')
        {
            return null;
        }

        var end = Array.IndexOf(buffer, (byte)'\n', 2, length - 2);
        var line = Encoding.UTF8.GetString(buffer, 2, (end < 0 ? length : end) - 2).Trim(' ', '\t', '\r');
        if (line.Length == 0)
        {
            return null;
        }

        var split = line.IndexOfAny([' ', '\t']);
        if (split < 0)
        {
            return (line, null);
        }

        var argument = line[(split + 1)..].Trim(' ', '\t');
        return (line[..split], argument.Length == 0 ? null : argument);
    }
}
