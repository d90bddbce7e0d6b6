using Microsoft.Extensions.Logging;
using OpsRobot.Core.Actions;

namespace OpsRobot.Core.Executions;

/// <summary>
/// Takes a runner's output as it comes: publishes each piece live at once, and writes them to the store in
/// batches (every <see cref="ExecutionOptions.OutputFlushInterval"/>), up to the stored-output cap.
/// </summary>
internal sealed partial class OutputSink : IRunnerOutput, IAsyncDisposable
{
    private readonly long _executionId;
    private readonly IExecutionStore _store;
    private readonly ExecutionEvents _events;
    private readonly TimeProvider _time;
    private readonly ExecutionOptions _options;
    private readonly ILogger _logger;
    private readonly Lock _gate = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _flusher;
    private List<OutputChunk> _pending = [];
    private long _sequence;
    private long _stored;

    public OutputSink(long executionId, IExecutionStore store, ExecutionEvents events, TimeProvider time, ExecutionOptions options, ILogger logger)
    {
        _executionId = executionId;
        _store = store;
        _events = events;
        _time = time;
        _options = options;
        _logger = logger;
        _flusher = Task.Run(FlushLoopAsync);
    }

    /// <summary>True when some output was not stored because of the cap.</summary>
    public bool Truncated { get; private set; }

    public void Write(OutputKind kind, string text)
    {
        if (string.IsNullOrEmpty(text))
        {
            return;
        }

        OutputChunk chunk;
        lock (_gate)
        {
            chunk = new OutputChunk(_executionId, ++_sequence, kind, text, _time.GetUtcNow());
            var room = _options.MaxStoredOutputChars - _stored;
            if (room >= text.Length)
            {
                _pending.Add(chunk);
                _stored += text.Length;
            }
            else if (!Truncated)
            {
                Truncated = true;
                if (room > 0)
                {
                    _pending.Add(chunk with { Text = text[..(int)room] });
                }

                _pending.Add(new OutputChunk(_executionId, ++_sequence, OutputKind.Stderr,
                    $"\n[OpsRobot: output beyond {_options.MaxStoredOutputChars:N0} characters is not stored]\n", _time.GetUtcNow()));
                _stored = _options.MaxStoredOutputChars;
            }
        }

        _events.Publish(new ExecutionOutputEvent(chunk));
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        await _flusher.ConfigureAwait(false);
        await FlushAsync().ConfigureAwait(false);
        _stop.Dispose();
    }

    private async Task FlushLoopAsync()
    {
        try
        {
            while (!_stop.IsCancellationRequested)
            {
                await Task.Delay(_options.OutputFlushInterval, _time, _stop.Token).ConfigureAwait(false);
                await FlushAsync().ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
        }
    }

    private async Task FlushAsync()
    {
        List<OutputChunk> batch;
        lock (_gate)
        {
            if (_pending.Count == 0)
            {
                return;
            }

            batch = _pending;
            _pending = [];
        }

        try
        {
            await _store.AppendOutputAsync(batch, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // Output is the least precious part of an execution: log and go on rather than fail the run.
            LogOutputLost(_logger, ex, _executionId, batch.Count);
        }
    }

    [LoggerMessage(EventId = 1120, Level = LogLevel.Warning, Message = "Could not store {Count} output chunk(s) of execution {ExecutionId}")]
    private static partial void LogOutputLost(ILogger logger, Exception exception, long executionId, int count);
}
