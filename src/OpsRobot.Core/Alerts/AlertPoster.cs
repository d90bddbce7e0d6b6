using System.Globalization;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OpsRobot.Core.Chat;
using OpsRobot.Core.Commands;
using OpsRobot.Core.Storage;

namespace OpsRobot.Core.Alerts;

/// <summary>
/// Posts alert notices to their rooms without flooding them: notices for one room are gathered for
/// <see cref="AlertOptions.GroupWindow"/> and sent as one message; a message lists at most
/// <see cref="AlertOptions.MaxAlertsPerMessage"/> alerts and counts the rest; a room gets at most
/// <see cref="AlertOptions.RoomRateLimit"/> messages per <see cref="AlertOptions.RoomRatePeriod"/>, and what arrives
/// meanwhile waits and is summarised. A room lists at most that many notices and counts the rest, keeping beyond them
/// only the ids of the stored notices it holds. For a stored notice (<see cref="AlertNotice.NoticeId"/>) each flush
/// records, in one write, the rooms handed it (sent, or refused by the room's adapter), and removes it once every room
/// it goes to has been; a restart posts it only to the rooms not recorded (see <see cref="AlertService"/>), so each of
/// its rooms' adapters gets it at least once, even across a crash, and a room recorded never gets it again.
/// Not thread-safe: <see cref="AlertService"/> drives it from one loop.
/// </summary>
public sealed partial class AlertPoster(
    AlertRouter router, IChatReplySender sender, IAlertStore store, TimeProvider time, IOptions<AlertOptions> options, IOptions<RobotOptions> robot, ILogger<AlertPoster> logger)
{
    private readonly AlertOptions _options = options.Value;
    private readonly Dictionary<AlertRoom, RoomQueue> _rooms = [];

    // Stored notices waiting: how many of their rooms have still to be handed them.
    private readonly Dictionary<long, int> _roomsLeft = [];

    // Rooms handed a stored notice that other rooms still wait for, to record in the store.
    private readonly List<AlertNoticeRoom> _handed = [];

    // Stored notices every room has been handed, to remove from the store.
    private readonly HashSet<long> _finished = [];
    private long _posted;

    /// <summary>Messages posted since start (for status and benchmarks).</summary>
    public long Posted => Interlocked.Read(ref _posted);

    /// <summary>Queues notices for their rooms; a stored notice read back after a restart skips the rooms already handed it.</summary>
    public void Add(IEnumerable<AlertNotice> notices)
    {
        ArgumentNullException.ThrowIfNull(notices);
        var now = time.GetUtcNow();
        foreach (var notice in notices)
        {
            var rooms = router.RoomsFor(notice.Alert).Distinct().Except(notice.HandedTo).ToList();
            if (notice.NoticeId != 0 && !_roomsLeft.ContainsKey(notice.NoticeId))
            {
                if (rooms.Count == 0)
                {
                    _finished.Add(notice.NoticeId);
                }
                else
                {
                    _roomsLeft[notice.NoticeId] = rooms.Count;
                }
            }

            foreach (var room in rooms)
            {
                if (!_rooms.TryGetValue(room, out var queue))
                {
                    queue = new RoomQueue();
                    _rooms[room] = queue;
                }

                queue.Add(notice, now, Math.Max(1, _options.MaxAlertsPerMessage));
            }
        }
    }

    /// <summary>True when some room has notices waiting.</summary>
    public bool HasPending => _rooms.Values.Any(q => q.Count > 0);

    /// <summary>Sends every room whose gathering window is over and whose rate allows it; returns how many messages were sent.</summary>
    public async Task<int> FlushAsync(bool force, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var sent = 0;
        foreach (var (room, queue) in _rooms)
        {
            if (queue.Count == 0 || (!force && now - queue.FirstAt < _options.GroupWindow))
            {
                continue;
            }

            while (queue.Sent.Count > 0 && now - queue.Sent.Peek() >= _options.RoomRatePeriod)
            {
                queue.Sent.Dequeue();
            }

            if (queue.Sent.Count >= Math.Max(1, _options.RoomRateLimit))
            {
                continue;
            }

            var text = queue.Render(now, robot.Value.CommandPrefix);
            var told = queue.NoticeIds.ToList();
            queue.Clear();
            queue.Sent.Enqueue(now);
            bool posted;
            try
            {
                posted = await SendAsync(room, text, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                // Stopping: the rooms this flush already handed their notices are recorded, so the next start does not
                // post to them again. This room's message may or may not have gone out: it is posted again.
                await RecordAsync().ConfigureAwait(false);
                throw;
            }

            if (posted)
            {
                sent++;
                Interlocked.Increment(ref _posted);
            }

            // Sent, or refused by the room's adapter (logged; the board keeps the alert): this room is done with them.
            foreach (var id in told)
            {
                if (!_roomsLeft.TryGetValue(id, out var left))
                {
                    continue;
                }

                if (left <= 1)
                {
                    _roomsLeft.Remove(id);
                    _finished.Add(id);
                }
                else
                {
                    _roomsLeft[id] = left - 1;
                    _handed.Add(new AlertNoticeRoom(id, room));
                }
            }
        }

        await RecordAsync().ConfigureAwait(false);
        return sent;
    }

    /// <summary>Writes what this flush (and any earlier one the store could not take) handed out, in one write.</summary>
    private async Task RecordAsync()
    {
        if (_handed.Count == 0 && _finished.Count == 0)
        {
            return;
        }

        // A finished notice is removed with its rooms: recording them first would only add rows to delete.
        _handed.RemoveAll(h => _finished.Contains(h.NoticeId));
        try
        {
            // Not abandoned for a stop: it is one short transaction (bounded by the store's busy timeout), and a room
            // left unrecorded would hear its notices again at the next start.
            await store.RecordDeliveriesAsync(_handed, _finished, CancellationToken.None).ConfigureAwait(false);
            _handed.Clear();
            _finished.Clear();
        }
        catch (StoreUnavailableException ex)
        {
            // Tried again at the next flush; a crash before then posts them again to these rooms.
            LogDeliveriesKept(logger, _handed.Count + _finished.Count, ex.Message);
        }
    }

    private async Task<bool> SendAsync(AlertRoom room, string text, CancellationToken cancellationToken)
    {
        try
        {
            // Given by name, as on every platform: the adapter finds the room (the built-in chat looks the name up).
            if (!await sender.SendAsync(room.Platform, new ChatRoom(room.Room, room.Room, false), new OutgoingMessage(text), cancellationToken).ConfigureAwait(false))
            {
                LogNoAdapter(logger, room.ToString());
                return false;
            }

            return true;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
#pragma warning disable CA1031 // One room's adapter failing must not stop the alerts of the others; the board keeps them all.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            LogSendFailed(logger, ex, room.ToString());
            return false;
        }
    }

    /// <summary>What waits for one room: the notices to list (one per alert, the latest), counts of the rest, and the recent sends.</summary>
    private sealed class RoomQueue
    {
        private readonly List<AlertNotice> _listed = [];
        private readonly HashSet<long> _noticeIds = [];
        private int _moreFiring;
        private int _moreResolved;
        private int _moreOther;

        public DateTimeOffset FirstAt { get; private set; }

        public Queue<DateTimeOffset> Sent { get; } = new();

        public int Count => _listed.Count + _moreFiring + _moreResolved + _moreOther;

        /// <summary>The stored notices this room's next message tells (listed, replaced by a later word, or counted).</summary>
        public IReadOnlyCollection<long> NoticeIds => _noticeIds;

        public void Add(AlertNotice notice, DateTimeOffset now, int max)
        {
            if (Count == 0)
            {
                FirstAt = now;
            }

            if (notice.NoticeId != 0)
            {
                _noticeIds.Add(notice.NoticeId);
            }

            // Fired then resolved while waiting: the room hears the latest word about it once.
            var same = _listed.FindIndex(n => n.Alert.Id == notice.Alert.Id);
            if (same >= 0)
            {
                _listed[same] = notice;
                return;
            }

            if (_listed.Count < max)
            {
                _listed.Add(notice);
                return;
            }

            switch (notice.Kind)
            {
                case AlertNoticeKind.Firing:
                    _moreFiring++;
                    break;
                case AlertNoticeKind.Resolved:
                    _moreResolved++;
                    break;
                default:
                    _moreOther++;
                    break;
            }
        }

        public string Render(DateTimeOffset now, string prefix)
        {
            var lines = _listed.Select(n => AlertText.Line(n, now)).ToList();
            var more = new List<string>();
            if (_moreFiring > 0)
            {
                more.Add($"{_moreFiring.ToString(CultureInfo.InvariantCulture)} more alert{(_moreFiring == 1 ? string.Empty : "s")} firing");
            }

            if (_moreResolved > 0)
            {
                more.Add($"{_moreResolved.ToString(CultureInfo.InvariantCulture)} more resolved");
            }

            if (_moreOther > 0)
            {
                more.Add($"{_moreOther.ToString(CultureInfo.InvariantCulture)} more flapping or settled");
            }

            if (more.Count > 0)
            {
                lines.Add($"{string.Join(", ", more)}, see `{prefix}alerts`");
            }

            return lines.Count == 1 ? lines[0] : $"{Count.ToString(CultureInfo.InvariantCulture)} alert updates:\n" + string.Join("\n", lines.Select(l => "- " + l));
        }

        public void Clear()
        {
            _listed.Clear();
            _noticeIds.Clear();
            _moreFiring = 0;
            _moreResolved = 0;
            _moreOther = 0;
        }
    }

    [LoggerMessage(EventId = 5104, Level = LogLevel.Warning, Message = "Alerts: the store could not record {Count} notice deliveries to rooms ({Reason}); trying again at the next turn (a restart before then posts those notices to those rooms again)")]
    private static partial void LogDeliveriesKept(ILogger logger, int count, string reason);

    [LoggerMessage(EventId = 5102, Level = LogLevel.Warning, Message = "Alerts: there is no room {Room}, or no connected chat adapter posts to it; its alerts stay on the board")]
    private static partial void LogNoAdapter(ILogger logger, string room);

    [LoggerMessage(EventId = 5103, Level = LogLevel.Error, Message = "Alerts: posting to {Room} failed; its alerts stay on the board")]
    private static partial void LogSendFailed(ILogger logger, Exception exception, string room);
}
