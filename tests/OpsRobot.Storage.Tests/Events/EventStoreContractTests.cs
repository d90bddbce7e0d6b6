using System.Text.Json.Nodes;
using OpsRobot.Core.Events;
using OpsRobot.Testing;

namespace OpsRobot.Storage.Tests.Events;

/// <summary>What every store behind <see cref="IEventStore"/> must do; a subclass per database supplies it.</summary>
public abstract class EventStoreContractTests : IAsyncLifetime
{
    private static readonly CancellationToken None = CancellationToken.None;

    protected TestTimeProvider Time { get; } = new();

    protected IEventStore Store { get; private set; } = null!;

    /// <summary>Opens a new instance of the store on the test's database (the first call creates and migrates it).</summary>
    protected abstract Task<IEventStore> OpenAsync();

    /// <summary>Closes every connection, as a process exit would, and opens the store again.</summary>
    protected abstract Task<IEventStore> RestartAsync();

    public async Task InitializeAsync() => Store = await OpenAsync();

    public virtual Task DisposeAsync() => Task.CompletedTask;

    private EventRecord NewEvent(string type = "core.webhook", string source = "webhook:alerts") => new()
    {
        Id = 0,
        TriggerType = type,
        Payload = new JsonObject { ["url"] = "alerts", ["body"] = new JsonObject { ["n"] = 1, ["text"] = "é \"quoted\"" } },
        Source = source,
        ReceivedAt = Time.GetUtcNow(),
    };

    private EnforcementRecord NewEnforcement(long eventId, string rule = "ops.r") => new()
    {
        Id = 0,
        RuleRef = rule,
        EventId = eventId,
        TriggerType = "core.webhook",
        ActionRef = "ops.act",
        Status = EnforcementStatus.Starting,
        Parameters = new JsonObject { ["host"] = "db1", ["token"] = "********" },
        CreatedAt = Time.GetUtcNow(),
    };

    [Fact]
    public async Task Append_RoundTripsEveryFieldAsPending()
    {
        var stored = await Store.AppendAsync(NewEvent(), None);

        var read = await Store.GetAsync(stored.Id, None);

        stored.Id.ShouldBeGreaterThan(0);
        read.ShouldNotBeNull();
        read.TriggerType.ShouldBe("core.webhook");
        read.Payload.ToJsonString().ShouldBe(NewEvent().Payload.ToJsonString());
        read.Source.ShouldBe("webhook:alerts");
        read.ReceivedAt.ShouldBe(Time.GetUtcNow());
        read.Status.ShouldBe(EventStatus.Pending);
        read.ProcessedAt.ShouldBeNull();
    }

    [Fact]
    public async Task MarkProcessed_ManyAtOnce_CountsOnlyThoseStillPending()
    {
        var a = await Store.AppendAsync(NewEvent(), None);
        var b = await Store.AppendAsync(NewEvent(), None);
        var c = await Store.AppendAsync(NewEvent(), None);
        await Store.MarkProcessedAsync(b.Id, Time.GetUtcNow(), None);

        (await Store.MarkProcessedAsync([a.Id, b.Id, c.Id, 999_999], Time.GetUtcNow(), None)).ShouldBe(2);
        (await Store.MarkProcessedAsync([], Time.GetUtcNow(), None)).ShouldBe(0);

        (await Store.ListPendingAsync(0, 10, None)).ShouldBeEmpty();
        (await Store.GetAsync(c.Id, None))!.ProcessedAt.ShouldNotBeNull();
    }

    [Fact]
    public async Task Pending_SurvivesARestart_InOrder_AndLeavesOnceProcessed()
    {
        var a = await Store.AppendAsync(NewEvent(), None);
        var b = await Store.AppendAsync(NewEvent(), None);
        var c = await Store.AppendAsync(NewEvent(), None);

        (await Store.MarkProcessedAsync(b.Id, Time.GetUtcNow(), None)).ShouldBeTrue();
        (await Store.MarkProcessedAsync(b.Id, Time.GetUtcNow(), None)).ShouldBeFalse("already processed");
        var reopened = await RestartAsync();

        (await reopened.ListPendingAsync(0, 10, None)).Select(e => e.Id).ShouldBe([a.Id, c.Id]);
        (await reopened.ListPendingAsync(a.Id, 10, None)).Select(e => e.Id).ShouldBe([c.Id]);
        (await reopened.ListPendingAsync(0, 1, None)).Select(e => e.Id).ShouldBe([a.Id]);
        (await reopened.GetAsync(b.Id, None))!.Status.ShouldBe(EventStatus.Processed);
    }

    [Fact]
    public async Task List_FiltersAndPagesNewestFirst()
    {
        var a = await Store.AppendAsync(NewEvent("core.webhook"), None);
        var b = await Store.AppendAsync(NewEvent("core.interval_timer"), None);
        var c = await Store.AppendAsync(NewEvent("core.webhook"), None);
        await Store.MarkProcessedAsync(a.Id, Time.GetUtcNow(), None);

        (await Store.ListAsync(new EventQuery(), None)).Select(e => e.Id).ShouldBe([c.Id, b.Id, a.Id]);
        (await Store.ListAsync(new EventQuery { TriggerType = "core.webhook" }, None)).Select(e => e.Id).ShouldBe([c.Id, a.Id]);
        (await Store.ListAsync(new EventQuery { Status = EventStatus.Pending }, None)).Select(e => e.Id).ShouldBe([c.Id, b.Id]);
        (await Store.ListAsync(new EventQuery { BeforeId = c.Id, Limit = 1 }, None)).Select(e => e.Id).ShouldBe([b.Id]);
    }

    [Fact]
    public async Task TryBeginEnforcement_SecondForTheSameRuleAndEvent_RecordsNothing()
    {
        var e = await Store.AppendAsync(NewEvent(), None);

        var first = await Store.TryBeginEnforcementAsync(NewEnforcement(e.Id), None);
        var again = await Store.TryBeginEnforcementAsync(NewEnforcement(e.Id), None);
        var otherRule = await Store.TryBeginEnforcementAsync(NewEnforcement(e.Id, "ops.other"), None);

        first.ShouldNotBeNull().Status.ShouldBe(EnforcementStatus.Starting);
        again.ShouldBeNull();
        otherRule.ShouldNotBeNull();
        (await Store.ListEnforcementsAsync(new EnforcementQuery { EventId = e.Id }, None)).Count.ShouldBe(2);
    }

    [Fact]
    public async Task CompleteEnforcement_RecordsExecutionOrError()
    {
        var e = await Store.AppendAsync(NewEvent(), None);
        var started = (await Store.TryBeginEnforcementAsync(NewEnforcement(e.Id, "ops.a"), None))!;
        var failed = (await Store.TryBeginEnforcementAsync(NewEnforcement(e.Id, "ops.b"), None))!;
        Time.Advance(TimeSpan.FromSeconds(1));

        await Store.CompleteEnforcementAsync(started.Id, EnforcementStatus.Started, 42, null, Time.GetUtcNow(), None);
        await Store.CompleteEnforcementAsync(failed.Id, EnforcementStatus.Failed, null, "Action ops.act is disabled.", Time.GetUtcNow(), None);
        var list = await Store.ListEnforcementsAsync(new EnforcementQuery(), None);

        list.Select(x => x.RuleRef).ShouldBe(["ops.b", "ops.a"]);
        list[1].Status.ShouldBe(EnforcementStatus.Started);
        list[1].ExecutionId.ShouldBe(42);
        list[1].Parameters!.ToJsonString().ShouldBe("""{"host":"db1","token":"********"}""");
        list[1].UpdatedAt.ShouldBe(Time.GetUtcNow());
        list[0].Status.ShouldBe(EnforcementStatus.Failed);
        list[0].Error.ShouldBe("Action ops.act is disabled.");
        (await Store.ListEnforcementsAsync(new EnforcementQuery { RuleRef = "ops.a" }, None)).Single().Id.ShouldBe(started.Id);
    }

    [Fact]
    public async Task FailStartingEnforcements_MarksOnlyThoseCaughtMidStart()
    {
        var e = await Store.AppendAsync(NewEvent(), None);
        var caught = (await Store.TryBeginEnforcementAsync(NewEnforcement(e.Id, "ops.a"), None))!;
        var done = (await Store.TryBeginEnforcementAsync(NewEnforcement(e.Id, "ops.b"), None))!;
        await Store.CompleteEnforcementAsync(done.Id, EnforcementStatus.Started, 7, null, Time.GetUtcNow(), None);

        var count = await (await RestartAsync()).FailStartingEnforcementsAsync("stopped", Time.GetUtcNow(), None);

        count.ShouldBe(1);
        var list = await Store.ListEnforcementsAsync(new EnforcementQuery(), None);
        list.Single(x => x.Id == caught.Id).Status.ShouldBe(EnforcementStatus.Failed);
        list.Single(x => x.Id == caught.Id).Error.ShouldBe("stopped");
        list.Single(x => x.Id == done.Id).Status.ShouldBe(EnforcementStatus.Started);
    }

    [Fact]
    public async Task PurgeProcessed_RemovesOnlyOldProcessedEventsAndTheirEnforcements()
    {
        var old = await Store.AppendAsync(NewEvent(), None);
        var oldPending = await Store.AppendAsync(NewEvent(), None);
        await Store.TryBeginEnforcementAsync(NewEnforcement(old.Id), None);
        await Store.MarkProcessedAsync(old.Id, Time.GetUtcNow(), None);
        Time.Advance(TimeSpan.FromDays(2));
        var recent = await Store.AppendAsync(NewEvent(), None);
        await Store.MarkProcessedAsync(recent.Id, Time.GetUtcNow(), None);

        var purged = await Store.PurgeProcessedAsync(Time.GetUtcNow().AddDays(-1), 100, None);

        purged.ShouldBe(1);
        (await Store.GetAsync(old.Id, None)).ShouldBeNull();
        (await Store.GetAsync(oldPending.Id, None)).ShouldNotBeNull("pending events are never purged");
        (await Store.GetAsync(recent.Id, None)).ShouldNotBeNull();
        (await Store.ListEnforcementsAsync(new EnforcementQuery { EventId = old.Id }, None)).ShouldBeEmpty();
    }
}
