namespace OpsRobot.Chat.Connected;

/// <summary>
/// Posts waiting to be sent, kept across reconnects so nothing said while the robot was away is lost. The sender
/// peeks a post and commits it only once the platform accepted it, so a post is neither lost nor sent twice when
/// the connection drops between the two. Bounded: beyond <c>capacity</c> the oldest go.
/// </summary>
internal sealed class ChatOutbox<T>(int capacity)
{
    private readonly Lock _gate = new();
    private readonly Queue<(long Sequence, T Post)> _posts = new();
    private TaskCompletionSource _signal = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long _next;

    public int Count
    {
        get
        {
            lock (_gate)
            {
                return _posts.Count;
            }
        }
    }

    /// <summary>
    /// Adds posts at the end, together; returns how many of the oldest were dropped to make room, each handed to
    /// <paramref name="onDropped"/> (outside the lock) when given.
    /// </summary>
    public int Enqueue(IEnumerable<T> posts, Action<T>? onDropped = null)
    {
        ArgumentNullException.ThrowIfNull(posts);
        var dropped = 0;
        List<T>? droppedPosts = null;
        TaskCompletionSource signal;
        lock (_gate)
        {
            foreach (var post in posts)
            {
                while (_posts.Count >= capacity)
                {
                    var (_, old) = _posts.Dequeue();
                    dropped++;
                    if (onDropped is not null)
                    {
                        (droppedPosts ??= []).Add(old);
                    }
                }

                _posts.Enqueue((_next++, post));
            }

            signal = _signal;
            _signal = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        signal.TrySetResult();
        foreach (var old in droppedPosts ?? [])
        {
            onDropped!(old);
        }

        return dropped;
    }

    /// <summary>Waits until a post is there and returns it without removing it.</summary>
    public async Task<(long Sequence, T Post)> PeekAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            Task wait;
            lock (_gate)
            {
                if (_posts.TryPeek(out var head))
                {
                    return head;
                }

                wait = _signal.Task;
            }

            await wait.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Removes the post <paramref name="sequence"/> once sent (unless it was already dropped for room).</summary>
    public void Commit(long sequence)
    {
        lock (_gate)
        {
            if (_posts.TryPeek(out var head) && head.Sequence == sequence)
            {
                _posts.Dequeue();
            }
        }
    }
}

/// <summary>
/// The ids of the last messages handled, so a platform's redelivery (Slack retries an unacknowledged envelope; a
/// mention may arrive as both <c>message</c> and <c>app_mention</c>; a resumed stream replays) is answered once.
/// </summary>
internal sealed class RecentIds(int capacity)
{
    private readonly Lock _gate = new();
    private readonly HashSet<string> _seen = new(StringComparer.Ordinal);
    private readonly Queue<string> _order = new();

    /// <summary>True the first time <paramref name="id"/> is seen; false for a repeat.</summary>
    public bool Add(string id)
    {
        lock (_gate)
        {
            if (!_seen.Add(id))
            {
                return false;
            }

            _order.Enqueue(id);
            if (_order.Count > capacity)
            {
                _seen.Remove(_order.Dequeue());
            }

            return true;
        }
    }
}
