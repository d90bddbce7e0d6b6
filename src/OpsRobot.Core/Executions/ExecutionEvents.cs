using System.Collections.Concurrent;
using System.Threading.Channels;

namespace OpsRobot.Core.Executions;

/// <summary>Something that happened to an execution: new output, or a new status.</summary>
public abstract record ExecutionEvent(long ExecutionId);

public sealed record ExecutionOutputEvent(OutputChunk Chunk) : ExecutionEvent(Chunk.ExecutionId);

public sealed record ExecutionStatusEvent(ExecutionRecord Execution) : ExecutionEvent(Execution.Id);

/// <summary>
/// Live events of executions for those watching right now (the API's server-sent events, <c>execution tail</c>,
/// chat progress). The store is the record; a watcher that falls behind is cut off and reads the store instead.
/// </summary>
public sealed class ExecutionEvents
{
    public const int SubscriberBuffer = 4096;

    private readonly ConcurrentDictionary<long, ConcurrentDictionary<Channel<ExecutionEvent>, byte>> _byExecution = new();
    private readonly ConcurrentDictionary<Channel<ExecutionEvent>, byte> _all = new();

    /// <summary>Watches one execution; dispose the subscription when done.</summary>
    public Subscription Subscribe(long executionId)
    {
        var channel = NewChannel();
        _byExecution.GetOrAdd(executionId, _ => new()).TryAdd(channel, 0);
        return new Subscription(channel, () =>
        {
            if (_byExecution.TryGetValue(executionId, out var set))
            {
                set.TryRemove(channel, out _);
                if (set.IsEmpty)
                {
                    _byExecution.TryRemove(new KeyValuePair<long, ConcurrentDictionary<Channel<ExecutionEvent>, byte>>(executionId, set));
                }
            }
        });
    }

    /// <summary>Watches status changes of every execution (not output).</summary>
    public Subscription SubscribeAll()
    {
        var channel = NewChannel();
        _all.TryAdd(channel, 0);
        return new Subscription(channel, () => _all.TryRemove(channel, out _));
    }

    public void Publish(ExecutionEvent e)
    {
        ArgumentNullException.ThrowIfNull(e);
        if (_byExecution.TryGetValue(e.ExecutionId, out var set))
        {
            foreach (var channel in set.Keys)
            {
                Offer(channel, e);
            }
        }

        if (e is ExecutionStatusEvent)
        {
            foreach (var channel in _all.Keys)
            {
                Offer(channel, e);
            }
        }
    }

    private static void Offer(Channel<ExecutionEvent> channel, ExecutionEvent e)
    {
        if (!channel.Writer.TryWrite(e))
        {
            channel.Writer.TryComplete(new ChannelClosedException("The watcher fell behind; read the rest from the store."));
        }
    }

    private static Channel<ExecutionEvent> NewChannel() => Channel.CreateBounded<ExecutionEvent>(
        new BoundedChannelOptions(SubscriberBuffer) { SingleReader = true, FullMode = BoundedChannelFullMode.Wait });

    /// <summary>A watcher's feed of events.</summary>
    public sealed class Subscription(Channel<ExecutionEvent> channel, Action remove) : IDisposable
    {
        public ChannelReader<ExecutionEvent> Events => channel.Reader;

        public void Dispose()
        {
            channel.Writer.TryComplete();
            remove();
        }
    }
}
