namespace OpsRobot.Chat.Irc;

/// <summary>
/// The lines waiting to be sent, kept across reconnects so nothing said while the robot was away is lost. The
/// sender peeks a line and commits it only once written, so a line is neither lost nor sent twice when the
/// connection drops between the two. Bounded: beyond <c>capacity</c> the oldest lines go.
/// </summary>
internal sealed class IrcOutbox(int capacity)
{
    private readonly Lock _gate = new();
    private readonly Queue<(long Sequence, string Line)> _lines = new();
    private TaskCompletionSource _signal = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long _next;

    public int Count
    {
        get
        {
            lock (_gate)
            {
                return _lines.Count;
            }
        }
    }

    /// <summary>Adds lines at the end; returns how many of the oldest were dropped to make room.</summary>
    public int Enqueue(IEnumerable<string> lines)
    {
        ArgumentNullException.ThrowIfNull(lines);
        var dropped = 0;
        TaskCompletionSource signal;
        lock (_gate)
        {
            foreach (var line in lines)
            {
                while (_lines.Count >= capacity)
                {
                    _lines.Dequeue();
                    dropped++;
                }

                _lines.Enqueue((_next++, line));
            }

            signal = _signal;
            _signal = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        signal.TrySetResult();
        return dropped;
    }

    /// <summary>Waits until a line is there and returns it without removing it.</summary>
    public async Task<(long Sequence, string Line)> PeekAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            Task wait;
            lock (_gate)
            {
                if (_lines.TryPeek(out var head))
                {
                    return head;
                }

                wait = _signal.Task;
            }

            await wait.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Removes the line <paramref name="sequence"/> once sent (unless it was already dropped for room).</summary>
    public void Commit(long sequence)
    {
        lock (_gate)
        {
            if (_lines.TryPeek(out var head) && head.Sequence == sequence)
            {
                _lines.Dequeue();
            }
        }
    }
}

/// <summary>
/// Flood control as a token bucket: <c>burst</c> lines may go back to back, then one per <c>delay</c>. Time is
/// measured with <see cref="TimeProvider.GetTimestamp"/>, so a test clock that freezes wall time does not stall it.
/// </summary>
internal sealed class IrcFloodGate(int burst, TimeSpan delay, TimeProvider time)
{
    private double _tokens = burst;
    private long _last = time.GetTimestamp();

    /// <summary>Waits until one more line may go, and takes its token.</summary>
    public async Task WaitAsync(CancellationToken cancellationToken)
    {
        if (delay <= TimeSpan.Zero)
        {
            return;
        }

        Refill();
        if (_tokens < 1)
        {
            var wait = delay * (1 - _tokens);
            await Task.Delay(wait, time, cancellationToken).ConfigureAwait(false);
            Refill();
        }

        _tokens = Math.Max(_tokens - 1, 0);
    }

    private void Refill()
    {
        var now = time.GetTimestamp();
        _tokens = Math.Min(burst, _tokens + (time.GetElapsedTime(_last, now) / delay));
        _last = now;
    }
}
