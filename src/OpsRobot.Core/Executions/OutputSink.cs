using Microsoft.Extensions.Logging;
using OpsRobot.Core.Actions;

namespace OpsRobot.Core.Executions;

/// <summary>
/// Takes a runner's output as it comes: publishes each piece live at once, and writes them to the store in
/// batches (at most one write per <see cref="ExecutionOptions.OutputFlushInterval"/>), up to the stored-output cap.
/// A run that prints nothing costs no timer: the flusher sleeps until the first piece arrives after a flush.
/// Each piece is masked (<see cref="SecretMasker"/>) before it is published or stored; an ending that could be the
/// start of a secret split across two pieces is kept back until the next piece of its stream, or the end.
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
    private readonly SecretMasker.StreamMasker _stdout;
    private readonly SecretMasker.StreamMasker _stderr;
    private Task? _flusher;
    private TaskCompletionSource _wake = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private List<OutputChunk> _pending = [];
    private long _sequence;
    private long _stored;
    private bool _closed;

    public OutputSink(long executionId, IExecutionStore store, ExecutionEvents events, TimeProvider time, ExecutionOptions options, ILogger logger, SecretMasker? masker = null)
    {
        _stdout = (masker ?? SecretMasker.None).Stream();
        _stderr = (masker ?? SecretMasker.None).Stream();
        _executionId = executionId;
        _store = store;
        _events = events;
        _time = time;
        _options = options;
        _logger = logger;
    }

    /// <summary>True when some output was not stored because of the cap.</summary>
    public bool Truncated { get; private set; }

    public void Write(OutputKind kind, string text)
    {
        if (string.IsNullOrEmpty(text))
        {
            return;
        }

        OutputChunk? chunk;
        TaskCompletionSource? wake;
        lock (_gate)
        {
            // Masked under the lock, so the pieces of a stream keep their order.
            (chunk, wake) = Append(kind, (kind == OutputKind.Stderr ? _stderr : _stdout).Push(text));
        }

        wake?.TrySetResult();
        if (chunk is not null)
        {
            _events.Publish(new ExecutionOutputEvent(chunk));
        }
    }

    /// <summary>Numbers a masked piece, queues it for storing within the cap, and says whether the flusher must wake. Under the lock.</summary>
    private (OutputChunk? Chunk, TaskCompletionSource? Wake) Append(OutputKind kind, string text)
    {
        if (text.Length == 0)
        {
            return (null, null);
        }

        TaskCompletionSource? wake = null;
        var wasEmpty = _pending.Count == 0;
        var chunk = new OutputChunk(_executionId, ++_sequence, kind, text, _time.GetUtcNow());
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

        if (wasEmpty && _pending.Count > 0 && !_closed)
        {
            // The first piece to store since the last flush: the flusher (started by the first piece of all) wakes.
            wake = _wake;
            _flusher ??= Task.Run(FlushLoopAsync);
        }

        return (chunk, wake);
    }

    public async ValueTask DisposeAsync()
    {
        Task? flusher;
        OutputChunk?[] rest;
        lock (_gate)
        {
            // What each stream kept back, in case it was the start of a secret, goes out now (stored by the last flush).
            _closed = true;
            rest = [Append(OutputKind.Stdout, _stdout.Flush()).Chunk, Append(OutputKind.Stderr, _stderr.Flush()).Chunk];
            flusher = _flusher;
        }

        foreach (var chunk in rest.OfType<OutputChunk>())
        {
            _events.Publish(new ExecutionOutputEvent(chunk));
        }

        await _stop.CancelAsync().ConfigureAwait(false);

        if (flusher is not null)
        {
            await flusher.ConfigureAwait(false);
        }

        await FlushAsync().ConfigureAwait(false);
        _stop.Dispose();
    }

    private async Task FlushLoopAsync()
    {
        try
        {
            while (!_stop.IsCancellationRequested)
            {
                Task wake;
                lock (_gate)
                {
                    wake = _wake.Task;
                }

                // Until there is output to store, then one interval more so a chatty run's pieces share a write. One
                // loop per run, flushing in order: a reader paging by sequence never sees a later piece before an earlier.
                await wake.WaitAsync(_stop.Token).ConfigureAwait(false);
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
            _wake = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
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
