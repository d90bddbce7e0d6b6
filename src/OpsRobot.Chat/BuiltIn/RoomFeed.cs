using System.Collections.Concurrent;
using System.Threading.Channels;
using OpsRobot.Core.Rooms;

namespace OpsRobot.Chat.BuiltIn;

/// <summary>
/// Live delivery of the built-in chat's messages to the people connected right now. The store is the record;
/// this is only the fast path. A subscriber that falls behind is cut off rather than slowing everyone down, and
/// catches up from the store when it reconnects.
/// </summary>
public sealed class RoomFeed
{
    /// <summary>How many messages may wait for one slow connection before it is dropped.</summary>
    public const int SubscriberBuffer = 1024;

    private readonly ConcurrentDictionary<long, ConcurrentDictionary<Subscription, byte>> _byUser = new();

    /// <summary>Opens a live feed of every message in the rooms the user is a member of.</summary>
    public Subscription Subscribe(long userId)
    {
        var subscription = new Subscription(this, userId);
        _byUser.GetOrAdd(userId, _ => new()).TryAdd(subscription, 0);
        return subscription;
    }

    /// <summary>The number of open subscriptions, for status.</summary>
    public int ConnectionCount => _byUser.Values.Sum(s => s.Count);

    /// <summary>Hands a stored message to every connected member of its room.</summary>
    public void Publish(StoredMessage message, IEnumerable<long> memberIds)
    {
        ArgumentNullException.ThrowIfNull(message);
        ArgumentNullException.ThrowIfNull(memberIds);
        foreach (var userId in memberIds)
        {
            if (!_byUser.TryGetValue(userId, out var subscriptions))
            {
                continue;
            }

            // Enumerating the dictionary itself takes no lock (its Keys would take them all and copy).
            foreach (var entry in subscriptions)
            {
                entry.Key.Offer(message);
            }
        }
    }

    private void Remove(Subscription subscription)
    {
        if (_byUser.TryGetValue(subscription.UserId, out var subscriptions))
        {
            subscriptions.TryRemove(subscription, out _);
        }
    }

    /// <summary>One connection's view of the feed.</summary>
    public sealed class Subscription : IDisposable
    {
        private readonly RoomFeed _feed;
        private readonly Channel<StoredMessage> _channel = Channel.CreateBounded<StoredMessage>(
            new BoundedChannelOptions(SubscriberBuffer) { SingleReader = true, FullMode = BoundedChannelFullMode.Wait });

        internal Subscription(RoomFeed feed, long userId)
        {
            _feed = feed;
            UserId = userId;
        }

        public long UserId { get; }

        /// <summary>True when the subscriber fell too far behind and was cut off; it must reconnect and catch up.</summary>
        public bool Overflowed { get; private set; }

        public ChannelReader<StoredMessage> Messages => _channel.Reader;

        internal void Offer(StoredMessage message)
        {
            if (!_channel.Writer.TryWrite(message))
            {
                Overflowed = true;
                _channel.Writer.TryComplete();
            }
        }

        public void Dispose()
        {
            _channel.Writer.TryComplete();
            _feed.Remove(this);
        }
    }
}
