using System.Buffers;
using System.ComponentModel;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using Microsoft.Extensions.Logging;
using OpsRobot.Core.Actions;

namespace OpsRobot.Runners.Processes;

/// <summary>
/// What to start: the argument vector (program first), its folder, its complete environment, and the action's own
/// <c>timeout</c> parameter if it has one (the execution's timeout arrives separately, through the token).
/// </summary>
internal sealed record ProcessLaunch(IReadOnlyList<string> Arguments, string WorkingDirectory, IReadOnlyDictionary<string, string> Environment, TimeSpan? Timeout = null);

/// <summary>
/// Runs one process tree for one execution. The process is started through <c>setsid</c>, so it leads a new
/// session and process group whose id is its pid; every descendant that does not itself call <c>setsid</c> stays
/// in that session, and cancellation stops all of them: SIGTERM (and SIGCONT, so stopped ones hear it), a grace
/// period, then SIGKILL. Output is streamed in chunks as it arrives and kept, bounded, for the result.
/// </summary>
internal sealed partial class ProcessTreeExecutor(ProcessRunnerOptions options, TimeProvider time, ILogger logger)
{
    private const int ReadBufferSize = 16 * 1024;
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(20);

    /// <summary>How long to wait for the kernel after SIGKILL before giving up on a process (one stuck in I/O).</summary>
    private static readonly TimeSpan KillWait = TimeSpan.FromSeconds(2);

    /// <summary>The first word to a run: SIGTERM, and SIGCONT so that stopped processes hear it.</summary>
    private static readonly int[] TermSignals = [NativeMethods.SigTerm, NativeMethods.SigCont];

    private static readonly int[] KillSignals = [NativeMethods.SigKill];

    public async Task<RunnerResult> RunAsync(ProcessLaunch launch, RunnerContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(launch);
        ArgumentNullException.ThrowIfNull(context);
        if (!OperatingSystem.IsLinux())
        {
            return RunnerResults.Failed("The shell and script runners need Linux (process groups, /proc and util-linux setsid).");
        }

        if (cancellationToken.IsCancellationRequested)
        {
            return RunnerResults.CanceledBeforeStart();
        }

        if (!File.Exists(options.SetsidPath))
        {
            return RunnerResults.Failed($"Cannot start processes: '{options.SetsidPath}' (util-linux setsid) is missing on this machine.");
        }

        if (!Directory.Exists(launch.WorkingDirectory))
        {
            return RunnerResults.Failed($"The working directory '{launch.WorkingDirectory}' does not exist.");
        }

        if (launch.Arguments.Any(a => a.Contains('\0', StringComparison.Ordinal)))
        {
            return RunnerResults.Failed("An argument contains a NUL character, which cannot be passed to a process.");
        }

        var startInfo = new ProcessStartInfo(options.SetsidPath)
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = launch.WorkingDirectory,
        };

        // setsid only forks when its caller already leads a process group, which a child of .NET never does; so
        // it calls setsid() and execs, and the pid we get is the new session's and group's id. --wait keeps the
        // exit code right should it ever fork.
        startInfo.ArgumentList.Add("--wait");
        foreach (var argument in launch.Arguments)
        {
            startInfo.ArgumentList.Add(argument);
        }

        startInfo.Environment.Clear();
        foreach (var (name, value) in launch.Environment)
        {
            startInfo.Environment[name] = value;
        }

        using var process = new Process { StartInfo = startInfo };
        try
        {
            process.Start();
        }
        catch (Win32Exception ex)
        {
            return RunnerResults.Failed($"Could not start the process: {ex.Message}");
        }

        var sessionId = process.Id;
        LogStarted(logger, context.ExecutionId, context.Action.Ref, sessionId);

        // Stdin is an empty pipe: a command that reads it gets end-of-file at once instead of waiting forever or
        // reading OpsRobot's own stdin.
        process.StandardInput.Close();

        var output = new RunOutput(context.Output, logger, context.ExecutionId);
        var stdout = new BoundedText(options.ResultOutputLimit);
        var stderr = new BoundedText(options.ResultOutputLimit);
        var pumps = Task.WhenAll(
            PumpAsync(process.StandardOutput.BaseStream, OutputKind.Stdout, stdout, output),
            PumpAsync(process.StandardError.BaseStream, OutputKind.Stderr, stderr, output));

        using var timeoutSource = launch.Timeout is { } timeout ? new CancellationTokenSource(timeout, time) : new CancellationTokenSource();
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeoutSource.Token);
        var canceled = false;
        var timedOut = false;
        try
        {
            await process.WaitForExitAsync(stop.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            canceled = cancellationToken.IsCancellationRequested;
            timedOut = !canceled;
        }

        if (canceled || timedOut)
        {
            LogCanceled(logger, context.ExecutionId, sessionId, timedOut ? "timed out" : "canceled");
            await TerminateAsync(process, sessionId, context.ExecutionId).ConfigureAwait(false);
            try
            {
                await process.WaitForExitAsync(CancellationToken.None).WaitAsync(KillWait, time, CancellationToken.None).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                // Reported by TerminateAsync already; the result says the exit code is unknown.
            }
        }
        else if (options.StopLeftoverProcesses && ProcessTable.Members(await ProcessTable.SnapshotAsync().ConfigureAwait(false), sessionId).Count is var leftovers and > 0)
        {
            LogLeftovers(logger, context.ExecutionId, leftovers, sessionId);
            await TerminateAsync(process, sessionId, context.ExecutionId).ConfigureAwait(false);
        }

        try
        {
            await pumps.WaitAsync(options.OutputDrainTimeout, time, CancellationToken.None).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            // Someone outside the session still holds the pipes. Stop listening; what arrives later is dropped.
            LogDrainTimeout(logger, context.ExecutionId, options.OutputDrainTimeout);
        }

        var (stdoutText, stdoutTruncated, stderrText, stderrTruncated) = output.Close(stdout, stderr);
        int? exitCode = process.HasExited ? process.ExitCode : null;

        if (canceled)
        {
            const string Error = "Canceled: the process and everything it started were stopped.";
            var result = ProcessResult.Build(stdoutText, stdoutTruncated, stderrText, stderrTruncated, exitCode, Error);
            return new RunnerResult(RunnerOutcome.Canceled, result, exitCode, Error);
        }

        if (timedOut)
        {
            // The action's own 'timeout' (StackStorm's local runner parameter), not the execution's: a failure with
            // a reason, as StackStorm reports it ("Action failed to complete in N seconds").
            var timeoutError = string.Create(CultureInfo.InvariantCulture, $"Timed out after {launch.Timeout!.Value.TotalSeconds:0.###} s (parameter 'timeout'): the process and everything it started were stopped.");
            var result = ProcessResult.Build(stdoutText, stdoutTruncated, stderrText, stderrTruncated, exitCode, timeoutError);
            return new RunnerResult(RunnerOutcome.Failed, result, exitCode, timeoutError);
        }

        var error = exitCode == 0 ? null : string.Create(CultureInfo.InvariantCulture, $"The process exited with code {exitCode}.");
        var final = ProcessResult.Build(stdoutText, stdoutTruncated, stderrText, stderrTruncated, exitCode, null);
        return new RunnerResult(exitCode == 0 ? RunnerOutcome.Succeeded : RunnerOutcome.Failed, final, exitCode, error);
    }

    /// <summary>SIGTERM to the whole session, a grace period, then SIGKILL to whatever is left.</summary>
    private async Task TerminateAsync(Process process, int sessionId, string executionId)
    {
        await SignalAsync(process, sessionId, TermSignals).ConfigureAwait(false);
        if (await WaitUntilGoneAsync(process, sessionId, options.KillGracePeriod).ConfigureAwait(false))
        {
            return;
        }

        LogEscalating(logger, executionId, sessionId, options.KillGracePeriod);
        await SignalAsync(process, sessionId, KillSignals).ConfigureAwait(false);
        if (!await WaitUntilGoneAsync(process, sessionId, KillWait).ConfigureAwait(false))
        {
            LogSurvivors(logger, executionId, sessionId);
        }
    }

    /// <summary>
    /// Sends <paramref name="signals"/>, in order, to every process of the run: its process group, its leader, and the
    /// members of its session found in a shared <see cref="ProcessTable.SnapshotAsync"/> of the process table. One
    /// snapshot serves all the signals due together, and the runs stopping at the same moment (a burst of cancels)
    /// share their scans instead of each reading /proc once per signal.
    /// </summary>
    private static async Task SignalAsync(Process process, int sessionId, int[] signals)
    {
        foreach (var signal in signals)
        {
            NativeMethods.SignalGroup(sessionId, signal);

            // Until setsid() has run (a cancel in the first microseconds) the leader is still in OpsRobot's group.
            if (!process.HasExited)
            {
                NativeMethods.SignalProcess(sessionId, signal);
            }
        }

        // Processes that moved to another group of the same session (a shell's job control does that). The scan starts
        // after this call, so it sees every process that was there when the group was signalled.
        foreach (var member in ProcessTable.Members(await ProcessTable.SnapshotAsync().ConfigureAwait(false), sessionId))
        {
            if (member.ProcessGroupId != sessionId)
            {
                foreach (var signal in signals)
                {
                    NativeMethods.SignalProcess(member.ProcessId, signal);
                }
            }
        }
    }

    private async Task<bool> WaitUntilGoneAsync(Process process, int sessionId, TimeSpan within)
    {
        var started = time.GetTimestamp();
        while (true)
        {
            if (process.HasExited && ProcessTable.Members(await ProcessTable.SnapshotAsync().ConfigureAwait(false), sessionId).Count == 0)
            {
                return true;
            }

            if (time.GetElapsedTime(started) >= within)
            {
                return false;
            }

            await Task.Delay(PollInterval, time, CancellationToken.None).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Copies one pipe to the output as chunks arrive (not lines: a progress bar without a newline shows too),
    /// decoding UTF-8 with a <see cref="Decoder"/> so a character split across two reads stays whole.
    /// </summary>
    private static async Task PumpAsync(Stream stream, OutputKind kind, BoundedText capture, RunOutput output)
    {
        var decoder = Encoding.UTF8.GetDecoder();
        var bytes = ArrayPool<byte>.Shared.Rent(ReadBufferSize);
        var chars = ArrayPool<char>.Shared.Rent(Encoding.UTF8.GetMaxCharCount(ReadBufferSize + 8));
        try
        {
            while (true)
            {
                int read;
                try
                {
                    read = await stream.ReadAsync(bytes.AsMemory(0, ReadBufferSize)).ConfigureAwait(false);
                }
#pragma warning disable CA1031 // Any failure of the pipe (closed under us when a run stops waiting for it) ends this pump and nothing else.
                catch (Exception)
#pragma warning restore CA1031
                {
                    break;
                }

                if (read == 0)
                {
                    break;
                }

                var count = decoder.GetChars(bytes, 0, read, chars, 0, flush: false);
                output.Write(kind, chars.AsSpan(0, count), capture);
            }

            var tail = decoder.GetChars(bytes, 0, 0, chars, 0, flush: true);
            output.Write(kind, chars.AsSpan(0, tail), capture);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(bytes);
            ArrayPool<char>.Shared.Return(chars);
        }
    }

    [LoggerMessage(EventId = 8001, Level = LogLevel.Debug, Message = "Execution {ExecutionId} of {ActionRef}: started process {ProcessId} (session leader)")]
    private static partial void LogStarted(ILogger logger, string executionId, string actionRef, int processId);

    [LoggerMessage(EventId = 8002, Level = LogLevel.Information, Message = "Execution {ExecutionId}: {Reason}, stopping process session {SessionId}")]
    private static partial void LogCanceled(ILogger logger, string executionId, int sessionId, string reason);

    [LoggerMessage(EventId = 8003, Level = LogLevel.Warning, Message = "Execution {ExecutionId}: processes of session {SessionId} outlived SIGTERM by {GracePeriod}; sending SIGKILL")]
    private static partial void LogEscalating(ILogger logger, string executionId, int sessionId, TimeSpan gracePeriod);

    [LoggerMessage(EventId = 8004, Level = LogLevel.Error, Message = "Execution {ExecutionId}: processes of session {SessionId} survived SIGKILL (stuck in the kernel?)")]
    private static partial void LogSurvivors(ILogger logger, string executionId, int sessionId);

    [LoggerMessage(EventId = 8005, Level = LogLevel.Information, Message = "Execution {ExecutionId}: stopping {Count} processes left running in session {SessionId} after the main process exited")]
    private static partial void LogLeftovers(ILogger logger, string executionId, int count, int sessionId);

    [LoggerMessage(EventId = 8006, Level = LogLevel.Warning, Message = "Execution {ExecutionId}: output pipes still open {Timeout} after the run ended (a process escaped its session); the rest of its output is dropped")]
    private static partial void LogDrainTimeout(ILogger logger, string executionId, TimeSpan timeout);

    [LoggerMessage(EventId = 8007, Level = LogLevel.Error, Message = "Execution {ExecutionId}: the output sink failed; further output is kept in the result only")]
    private static partial void LogSinkFailed(ILogger logger, Exception exception, string executionId);

    /// <summary>
    /// The two pumps' meeting point: one lock keeps writes to the sink in order and never concurrent, and once the
    /// run has ended late chunks (from a pipe we stopped waiting for) are dropped.
    /// </summary>
    private sealed class RunOutput(IRunnerOutput sink, ILogger logger, string executionId)
    {
        private readonly Lock _gate = new();
        private bool _closed;
        private bool _sinkBroken;

        public void Write(OutputKind kind, ReadOnlySpan<char> text, BoundedText capture)
        {
            if (text.IsEmpty)
            {
                return;
            }

            var chunk = new string(text);
            lock (_gate)
            {
                if (_closed)
                {
                    return;
                }

                capture.Append(chunk);
                if (_sinkBroken)
                {
                    return;
                }

                try
                {
                    sink.Write(kind, chunk);
                }
#pragma warning disable CA1031 // A failing sink must not stop the pump: an unread pipe would block the process forever.
                catch (Exception ex)
#pragma warning restore CA1031
                {
                    _sinkBroken = true;
                    LogSinkFailed(logger, ex, executionId);
                }
            }
        }

        public (string Stdout, bool StdoutTruncated, string Stderr, bool StderrTruncated) Close(BoundedText stdout, BoundedText stderr)
        {
            lock (_gate)
            {
                _closed = true;
                return (stdout.ToString(), stdout.Truncated, stderr.ToString(), stderr.Truncated);
            }
        }
    }
}
