using OpsRobot.Core.Alerts;
using OpsRobot.Core.Chat;
using OpsRobot.Core.Storage;
using OpsRobot.Storage.Tests.Sqlite;

namespace OpsRobot.Storage.Tests.Alerts;

/// <summary>
/// A notice that goes to several rooms, across a crash: the rooms already handed it are recorded (migration 0013), so
/// the restart posts it only to the rooms still waiting, never again to one that had it.
/// </summary>
public sealed class AlertNoticeRoomsTests
{
    private static readonly AlertRoom RoomA = new("irc", "#a");
    private static readonly AlertRoom RoomB = new("irc", "#b");

    /// <summary>Alerts of team db go to #a and #b; paged alerts to #b only; one message per room per 10 minutes.</summary>
    private static void TwoRooms(AlertOptions o)
    {
        o.RoomRateLimit = 1;
        o.RoomRatePeriod = TimeSpan.FromMinutes(10);
        var db = new AlertRoute();
        db.Labels["team"] = "db";
        db.Rooms.Add(RoomA.ToString());
        db.Rooms.Add(RoomB.ToString());
        var pager = new AlertRoute();
        pager.Labels["pager"] = "*";
        pager.Rooms.Add(RoomB.ToString());
        o.Routes.Add(db);
        o.Routes.Add(pager);
    }

    /// <summary>Spends #b's one message of the period, then stores DiskFull (for #a and #b) and flushes: #a is handed it, #b waits.</summary>
    private static async Task HandDiskFullToAOnlyAsync(AlertWorld world, AlertService service)
    {
        await world.AlertAsync("Paged", labels: ("pager", "night"));
        await service.RunOnceAsync(CancellationToken.None);
        world.Time.Advance(world.Options.GroupWindow);
        await service.RunOnceAsync(CancellationToken.None);
        await world.AlertAsync("DiskFull", labels: ("team", "db"));
        await service.RunOnceAsync(CancellationToken.None);
        world.Time.Advance(world.Options.GroupWindow);
        await service.RunOnceAsync(CancellationToken.None);

        world.Chat.To("irc:#a").ShouldHaveSingleItem().ShouldContain("DiskFull");
        world.Chat.To("irc:#b").ShouldHaveSingleItem().ShouldContain("Paged");
    }

    /// <summary>What a restart after a crash does: read back the stored notices, let the gathering window pass, post.</summary>
    private static async Task RestartAndPostAsync(AlertWorld world)
    {
        var restarted = world.Restart();
        await restarted.RunOnceAsync(CancellationToken.None);
        world.Time.Advance(world.Options.GroupWindow);
        await restarted.RunOnceAsync(CancellationToken.None);
    }

    private static async Task ShouldHaveNothingStoredAsync(AlertWorld world)
    {
        (await world.Store.ListNoticesAsync(CancellationToken.None)).ShouldBeEmpty();
        (await SqliteTestDatabase.ScalarAsync(world.Database, "SELECT COUNT(*) FROM alert_notice_rooms")).ShouldBe(0L);
    }

    [Fact]
    public async Task ANoticeForTwoRooms_OneHandedItBeforeACrash_TheRestartPostsItOnlyToTheOther_ThenNothingIsLeft()
    {
        await using var world = await AlertWorld.StartAsync(TwoRooms);
        await HandDiskFullToAOnlyAsync(world, world.Service);
        var stored = (await world.Store.ListNoticesAsync(CancellationToken.None)).ShouldHaveSingleItem();
        stored.Alert.Name.ShouldBe("DiskFull");
        stored.HandedTo.ShouldHaveSingleItem().ShouldBe(RoomA);

        // OpsRobot crashes here (kill -9: nothing else runs); the restart starts with a fresh rate for #b.
        await RestartAndPostAsync(world);

        world.Chat.To("irc:#a").Count.ShouldBe(1);
        var b = world.Chat.To("irc:#b");
        b.Count.ShouldBe(2);
        b[1].ShouldContain("A2 FIRING");
        b[1].ShouldContain("DiskFull");
        await ShouldHaveNothingStoredAsync(world);

        // Every room told: a further restart says nothing.
        await RestartAndPostAsync(world);
        world.Chat.Sent.Count.ShouldBe(3);
    }

    [Fact]
    public async Task ANoticeEveryRoomOfWhichIsRecorded_IsRemovedAtTheRestart_AndPostedNowhere()
    {
        await using var world = await AlertWorld.StartAsync(TwoRooms);
        await world.AlertAsync("DiskFull", labels: ("team", "db"));
        await world.Service.RunOnceAsync(CancellationToken.None); // stored, gathering for its window
        var notice = (await world.Store.ListNoticesAsync(CancellationToken.None)).ShouldHaveSingleItem();
        await world.Store.RecordDeliveriesAsync([new(notice.NoticeId, RoomA), new(notice.NoticeId, RoomB)], [], CancellationToken.None);

        await RestartAndPostAsync(world);

        world.Chat.Sent.ShouldBeEmpty();
        await ShouldHaveNothingStoredAsync(world);
    }

    [Fact]
    public async Task TheRoomsOfAFlush_WhenTheStoreCannotRecordThem_AreRecordedAtTheNextFlush()
    {
        await using var world = await AlertWorld.StartAsync(TwoRooms);
        var flaky = new FailingDeliveriesStore(world.Store);
        var first = world.Restart(posterStore: flaky);
        await world.AlertAsync("Paged", labels: ("pager", "night"));
        await first.RunOnceAsync(CancellationToken.None);
        world.Time.Advance(world.Options.GroupWindow);
        await first.RunOnceAsync(CancellationToken.None);

        flaky.FailuresLeft = 1;
        await world.AlertAsync("DiskFull", labels: ("team", "db"));
        await first.RunOnceAsync(CancellationToken.None);
        world.Time.Advance(world.Options.GroupWindow);
        await first.RunOnceAsync(CancellationToken.None); // #a is handed DiskFull; the store is unavailable
        flaky.Failed.ShouldBe(1);
        world.Chat.To("irc:#a").ShouldHaveSingleItem().ShouldContain("DiskFull");
        (await world.Store.ListNoticesAsync(CancellationToken.None)).ShouldHaveSingleItem().HandedTo.ShouldBeEmpty();

        await first.RunOnceAsync(CancellationToken.None); // the next flush sends nothing but records #a
        (await world.Store.ListNoticesAsync(CancellationToken.None)).ShouldHaveSingleItem().HandedTo.ShouldHaveSingleItem().ShouldBe(RoomA);

        await RestartAndPostAsync(world);
        world.Chat.To("irc:#a").Count.ShouldBe(1);
        world.Chat.To("irc:#b").Count.ShouldBe(2);
        await ShouldHaveNothingStoredAsync(world);
    }

    [Fact]
    public async Task StoppingWhileARoomIsBeingPosted_RecordsTheRoomsAlreadyHandedTheNotice()
    {
        await using var world = await AlertWorld.StartAsync(TwoRooms);
        var stalling = new StallingChat(world.Chat, "irc:#b");
        var first = world.Restart(chat: stalling);
        await world.AlertAsync("DiskFull", labels: ("team", "db"));
        await first.RunOnceAsync(CancellationToken.None);
        world.Time.Advance(world.Options.GroupWindow);

        using var stop = new CancellationTokenSource();
        var turn = first.RunOnceAsync(stop.Token);
        await stalling.Stalled.WaitAsync(TimeSpan.FromSeconds(60));
        world.Chat.To("irc:#a").ShouldHaveSingleItem().ShouldContain("DiskFull");
        await stop.CancelAsync(); // OpsRobot stops while #b's adapter has the message
        await Should.ThrowAsync<OperationCanceledException>(turn);
        (await world.Store.ListNoticesAsync(CancellationToken.None)).ShouldHaveSingleItem().HandedTo.ShouldHaveSingleItem().ShouldBe(RoomA);

        // #b's message may not have gone out: the next start posts it there, and only there.
        await RestartAndPostAsync(world);
        world.Chat.To("irc:#a").Count.ShouldBe(1);
        world.Chat.To("irc:#b").ShouldHaveSingleItem().ShouldContain("DiskFull");
        await ShouldHaveNothingStoredAsync(world);
    }

    [Fact]
    public async Task RecordDeliveries_ForANoticeNoLongerStored_RecordsNoRoom()
    {
        // Notice ids may be reused once removed: a room recorded for a removed notice would mark a later one as told.
        await using var world = await AlertWorld.StartAsync(TwoRooms);

        await world.Store.RecordDeliveriesAsync([new(4242, RoomA)], [], CancellationToken.None);

        (await SqliteTestDatabase.ScalarAsync(world.Database, "SELECT COUNT(*) FROM alert_notice_rooms")).ShouldBe(0L);
    }

    /// <summary>The real store, except that <see cref="RecordDeliveriesAsync"/> fails as an unavailable store does, on cue.</summary>
    private sealed class FailingDeliveriesStore(IAlertStore inner) : IAlertStore
    {
        public int FailuresLeft { get; set; }

        public int Failed { get; private set; }

        public Task RecordDeliveriesAsync(IReadOnlyCollection<AlertNoticeRoom> handed, IReadOnlyCollection<long> finished, CancellationToken cancellationToken)
        {
            if (FailuresLeft > 0)
            {
                FailuresLeft--;
                Failed++;
                throw new StoreUnavailableException("The database is locked by another process; try again in a moment.");
            }

            return inner.RecordDeliveriesAsync(handed, finished, cancellationToken);
        }

        public Task<long> GetCursorAsync(CancellationToken cancellationToken) => inner.GetCursorAsync(cancellationToken);

        public Task<IReadOnlyList<StoredAlertEvent>> ReadEventsAsync(long afterId, int limit, CancellationToken cancellationToken) => inner.ReadEventsAsync(afterId, limit, cancellationToken);

        public Task<AlertBatchStored> SaveAsync(AlertBatch batch, CancellationToken cancellationToken) => inner.SaveAsync(batch, cancellationToken);

        public Task SetAckAsync(long id, string by, DateTimeOffset at, string? comment, CancellationToken cancellationToken) => inner.SetAckAsync(id, by, at, comment, cancellationToken);

        public Task SetSilenceAsync(long id, string by, DateTimeOffset until, string? silenceId, CancellationToken cancellationToken) => inner.SetSilenceAsync(id, by, until, silenceId, cancellationToken);

        public Task<long?> SettleAsync(long id, DateTimeOffset lastChange, DateTimeOffset now, CancellationToken cancellationToken) => inner.SettleAsync(id, lastChange, now, cancellationToken);

        public Task<IReadOnlyList<AlertNotice>> ListNoticesAsync(CancellationToken cancellationToken) => inner.ListNoticesAsync(cancellationToken);

        public Task<AlertState?> GetAsync(long id, CancellationToken cancellationToken) => inner.GetAsync(id, cancellationToken);

        public Task<IReadOnlyList<AlertState>> FindAsync(IReadOnlyCollection<(string Source, string Fingerprint)> keys, CancellationToken cancellationToken) => inner.FindAsync(keys, cancellationToken);

        public Task<IReadOnlyList<AlertState>> ListFiringAsync(int limit, CancellationToken cancellationToken) => inner.ListFiringAsync(limit, cancellationToken);

        public Task<IReadOnlyList<AlertState>> ListFlappingAsync(int limit, CancellationToken cancellationToken) => inner.ListFlappingAsync(limit, cancellationToken);

        public Task<(long Total, long Firing)> CountAsync(CancellationToken cancellationToken) => inner.CountAsync(cancellationToken);
    }

    /// <summary>Posts through <paramref name="inner"/>, except to <paramref name="stallRoom"/>, whose adapter holds the message until OpsRobot stops.</summary>
    private sealed class StallingChat(IChatReplySender inner, string stallRoom) : IChatReplySender
    {
        private readonly TaskCompletionSource _stalled = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task Stalled => _stalled.Task;

        public async Task<bool> SendAsync(string platform, ChatRoom room, OutgoingMessage message, CancellationToken cancellationToken)
        {
            if ($"{platform}:{room.Name}" != stallRoom)
            {
                return await inner.SendAsync(platform, room, message, cancellationToken);
            }

            _stalled.TrySetResult();
            await Task.Delay(Timeout.Infinite, cancellationToken);
            return true;
        }
    }
}
