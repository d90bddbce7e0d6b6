using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using OpsRobot.Core.Actions;
using OpsRobot.Core.Events;
using OpsRobot.Core.Executions;
using OpsRobot.Core.Packs;
using OpsRobot.Core.Rules;
using OpsRobot.Core.Templates;
using OpsRobot.Storage.Sqlite;
using OpsRobot.Storage.Tests.Sqlite;
using OpsRobot.Testing;

namespace OpsRobot.Storage.Tests.Rules;

/// <summary>The rule engine on a real SQLite store and the real execution service, with a runner that records what it ran.</summary>
public sealed class RuleEngineTests : IAsyncLifetime
{
    private static readonly CancellationToken None = CancellationToken.None;

    private readonly TempDirectory _dir = new("opsrobot-engine");
    private readonly TestTimeProvider _time = new();
    private readonly RecordingRunner _runner = new();
    private SqliteDatabase _database = null!;
    private SqliteEventStore _events = null!;
    private PackCatalog _packs = null!;
    private ExecutionService _executions = null!;
    private EventPublisher _publisher = null!;

    public async Task InitializeAsync()
    {
        _dir.Write("packs/ops/pack.yaml", "name: ops\nversion: 1\ndescription: d\n");
        _dir.Write("packs/ops/actions/restart.yaml", """
            name: restart
            runner_type: recording
            parameters:
              host: {type: string, required: true}
              token: {type: string, secret: true}
              count: {type: integer, default: 1}
              note: {type: string}
            """);
        _dir.Write("packs/ops/actions/off.yaml", "name: off\nrunner_type: recording\nenabled: false\n");
        _dir.Write("packs/ops/rules/down.yaml", """
            name: down
            trigger: {type: core.webhook, parameters: {url: monitor}}
            criteria:
              trigger.body.state: {type: equals, pattern: DOWN}
            action:
              ref: ops.restart
              parameters:
                host: "{{ trigger.body.host }}"
                token: "{{ kv.system.api_token }}"
                count: "{{ trigger.body.count }}"
                note: "using {{ kv.system.api_token }}"
            """);
        _dir.Write("packs/ops/rules/other_hook.yaml", """
            name: other_hook
            trigger: {type: core.webhook, parameters: {url: elsewhere}}
            action: {ref: ops.restart, parameters: {host: x}}
            """);
        _dir.Write("packs/ops/rules/disabled.yaml", """
            name: disabled
            enabled: false
            trigger: {type: core.webhook, parameters: {url: monitor}}
            action: {ref: ops.restart, parameters: {host: x}}
            """);
        _dir.Write("packs/ops/rules/broken_action.yaml", """
            name: broken_action
            trigger: {type: core.webhook, parameters: {url: monitor}}
            criteria:
              trigger.body.state: {type: equals, pattern: DOWN}
            action: {ref: ops.off}
            """);

        _database = SqliteTestDatabase.Create(_dir.Combine("opsrobot.db"));
        await _database.MigrateAsync(_time, None);
        _events = new SqliteEventStore(_database);
        var runners = new RunnerCatalog([_runner]);
        var templates = new TemplateRenderer();
        _packs = new PackCatalog(new PackLoader(runners, templates));
        _packs.Load(_dir.Combine("packs")).Errors.ShouldBeEmpty();
        _executions = new ExecutionService(new SqliteExecutionStore(_database), _packs, runners, new ExecutionEvents(), _time,
            Options.Create(new ExecutionOptions()), NullLogger<ExecutionService>.Instance);
        _publisher = new EventPublisher(_events, _time, NullLogger<EventPublisher>.Instance);
    }

    public async Task DisposeAsync()
    {
        await _executions.DisposeAsync();
        await SqliteTestDatabase.ClosePoolAsync(_database);
        _dir.Dispose();
    }

    private RuleEngine NewEngine(IRuleActionStarter? starter = null) => new(
        _events, _publisher, _packs, new RuleEvaluator(new TemplateRenderer(), _time), starter ?? new ExecutionServiceRuleActionStarter(_executions),
        new FixedKv(), _time, Options.Create(new RuleEngineOptions { BatchSize = 3 }), NullLogger<RuleEngine>.Instance);

    private Task<EventRecord> WebhookAsync(string url, string body) =>
        _publisher.PublishAsync("core.st2.webhook", new JsonObject { ["url"] = url, ["headers"] = new JsonObject(), ["body"] = JsonNode.Parse(body) }, "webhook:" + url, None);

    [Fact]
    public async Task Drain_MatchingEvent_StartsTheActionUnderTheRulesIdentityAndRecordsTheEnforcement()
    {
        var e = await WebhookAsync("monitor", """{"state": "DOWN", "host": "db1", "count": 3}""");

        var processed = await NewEngine().DrainAsync(None);

        processed.ShouldBe(1);
        var enforcements = await _events.ListEnforcementsAsync(new EnforcementQuery { EventId = e.Id }, None);
        var fired = enforcements.Single(x => x.RuleRef == "ops.down");
        fired.Status.ShouldBe(EnforcementStatus.Started, fired.Error);
        fired.ExecutionId.ShouldNotBeNull();
        fired.Parameters!.ToJsonString().ShouldBe("""{"host":"db1","token":"********","count":3,"note":"using ********"}""");

        var execution = await _executions.GetAsync(fired.ExecutionId!.Value, None);
        execution!.Requester.Door.ShouldBe(ExecutionDoor.Rule);
        execution.Requester.UserName.ShouldBe("rule:ops.down");
        var outcome = await WaitForRunAsync();
        outcome["host"]!.GetValue<string>().ShouldBe("db1");
        outcome["token"]!.GetValue<string>().ShouldBe("s3cr3t-token", "the runner gets the secret in clear");
        outcome["count"]!.GetValue<long>().ShouldBe(3);
        (await _events.GetAsync(e.Id, None))!.Status.ShouldBe(EventStatus.Processed);
    }

    [Fact]
    public async Task Drain_TemplateRendersADatastoreSecret_TheExecutionStoresItMasked_TheActionGetsItInClear()
    {
        var e = await WebhookAsync("monitor", """{"state": "DOWN", "host": "db1", "count": 3}""");

        await NewEngine().DrainAsync(None);

        var fired = (await _events.ListEnforcementsAsync(new EnforcementQuery { EventId = e.Id, RuleRef = "ops.down" }, None)).Single();
        var outcome = await WaitForRunAsync();
        outcome["note"]!.GetValue<string>().ShouldBe("using s3cr3t-token", "the action gets the secret in clear");
        var execution = (await _executions.GetAsync(fired.ExecutionId!.Value, None)).ShouldNotBeNull();
        execution.Parameters.ToJsonString().ShouldBe("""{"host":"db1","token":"********","count":3,"note":"using ********"}""");
        execution.SecretsMasked.ShouldBeTrue();
    }

    [Fact]
    public async Task Drain_ActionCannotStart_RecordsTheErrorAndGoesOn()
    {
        var e = await WebhookAsync("monitor", """{"state": "DOWN", "host": "db1"}""");

        await NewEngine().DrainAsync(None);

        var failed = (await _events.ListEnforcementsAsync(new EnforcementQuery { RuleRef = "ops.broken_action" }, None)).Single();
        failed.EventId.ShouldBe(e.Id);
        failed.Status.ShouldBe(EnforcementStatus.Failed);
        failed.ExecutionId.ShouldBeNull();
        failed.Error.ShouldNotBeNull().ShouldContain("disabled");
    }

    [Fact]
    public async Task Drain_OtherWebhookDisabledRuleOrFailedCriteria_LeaveNoEnforcement()
    {
        var up = await WebhookAsync("monitor", """{"state": "UP", "host": "db1"}""");
        var unknown = await WebhookAsync("nobody", """{"state": "DOWN"}""");

        (await NewEngine().DrainAsync(None)).ShouldBe(2);

        (await _events.ListEnforcementsAsync(new EnforcementQuery(), None)).ShouldBeEmpty();
        (await _events.GetAsync(up.Id, None))!.Status.ShouldBe(EventStatus.Processed);
        (await _events.GetAsync(unknown.Id, None))!.Status.ShouldBe(EventStatus.Processed);
    }

    [Theory]
    [InlineData("'{\"url\": \"monitor\", \"body\": '")]
    [InlineData("'[1, 2]'")]
    public async Task Drain_AnEventWhosePayloadCannotBeRead_IsPassedOver_AndTheEventsAfterItStillFire(string payload)
    {
        var broken = await WebhookAsync("monitor", """{"state": "DOWN", "host": "db0"}""");
        var after = await WebhookAsync("monitor", """{"state": "DOWN", "host": "db1"}""");
        await using (var connection = await _database.OpenAsync(None))
        {
            await using var command = connection.CreateCommand();
            command.CommandText = $"UPDATE events SET payload = {payload} WHERE id = {broken.Id}";
            (await command.ExecuteNonQueryAsync(None)).ShouldBe(1);
        }

        var read = (await _events.GetAsync(broken.Id, None)).ShouldNotBeNull();
        var processed = await NewEngine().DrainAsync(None);

        read.Damage.ShouldNotBeNull().ShouldStartWith("the stored payload: ");
        read.Payload.ShouldBeEmpty();
        processed.ShouldBe(2);
        (await _events.ListEnforcementsAsync(new EnforcementQuery { EventId = broken.Id }, None)).ShouldBeEmpty();
        (await _events.ListEnforcementsAsync(new EnforcementQuery { EventId = after.Id, RuleRef = "ops.down" }, None))
            .ShouldHaveSingleItem().Status.ShouldBe(EnforcementStatus.Started);
        (await _events.GetAsync(broken.Id, None))!.Status.ShouldBe(EventStatus.Processed);
        (await WaitForRunAsync())["host"]!.GetValue<string>().ShouldBe("db1");
    }

    [Fact]
    public async Task Drain_ManyEvents_InBatches_AllEvaluatedInOrder()
    {
        for (var i = 0; i < 10; i++)
        {
            await WebhookAsync("elsewhere", $$"""{"n": {{i}}}""");
        }

        (await NewEngine().DrainAsync(None)).ShouldBe(10);

        var enforcements = await _events.ListEnforcementsAsync(new EnforcementQuery { RuleRef = "ops.other_hook" }, None);
        enforcements.Count.ShouldBe(10);
        enforcements.Select(x => x.EventId).ShouldBe(enforcements.Select(x => x.EventId).OrderDescending());
        (await _events.ListPendingAsync(0, 100, None)).ShouldBeEmpty();
    }

    [Fact]
    public async Task Recovery_EventStillPending_IsEvaluatedAgainWithoutFiringARuleTwice()
    {
        // A crash after the rule fired but before the event was marked processed: the enforcement exists, the event is pending.
        var e = await WebhookAsync("monitor", """{"state": "DOWN", "host": "db1"}""");
        var crashing = new CrashAfterStart(new ExecutionServiceRuleActionStarter(_executions));
        await Should.ThrowAsync<OperationCanceledException>(() => NewEngine(crashing).DrainAsync(None));
        (await _events.GetAsync(e.Id, None))!.Status.ShouldBe(EventStatus.Pending);

        var engine = NewEngine();
        var recovered = await engine.RecoverAsync(None);
        await engine.DrainAsync(None);

        recovered.ShouldBe(1, "the enforcement caught mid-start is marked failed, not retried");
        var forDown = (await _events.ListEnforcementsAsync(new EnforcementQuery { RuleRef = "ops.down" }, None)).Single();
        forDown.Status.ShouldBe(EnforcementStatus.Failed);
        forDown.Error.ShouldNotBeNull().ShouldContain("may or may not have run");
        crashing.Started.ShouldBe(1);
        (await _events.ListEnforcementsAsync(new EnforcementQuery { RuleRef = "ops.broken_action" }, None)).Count.ShouldBe(1, "evaluated after the restart");
        (await _events.GetAsync(e.Id, None))!.Status.ShouldBe(EventStatus.Processed);
    }

    [Fact]
    public async Task Drain_ExecutionServiceStopping_LeavesTheEventPendingAndFiresAfterRestart()
    {
        var e = await WebhookAsync("monitor", """{"state": "DOWN", "host": "db1"}""");
        await _executions.DisposeAsync();

        await Should.ThrowAsync<OperationCanceledException>(() => NewEngine().DrainAsync(None));

        (await _events.GetAsync(e.Id, None))!.Status.ShouldBe(EventStatus.Pending);
        (await _events.ListEnforcementsAsync(new EnforcementQuery { RuleRef = "ops.down" }, None)).ShouldBeEmpty("undone: nothing was started");

        // The next start, with a working execution service.
        _executions = new ExecutionService(new SqliteExecutionStore(_database), _packs, new RunnerCatalog([_runner]), new ExecutionEvents(), _time,
            Options.Create(new ExecutionOptions()), NullLogger<ExecutionService>.Instance);
        var engine = NewEngine();
        (await engine.RecoverAsync(None)).ShouldBe(0);
        await engine.DrainAsync(None);

        (await _events.ListEnforcementsAsync(new EnforcementQuery { RuleRef = "ops.down" }, None)).Single().Status.ShouldBe(EnforcementStatus.Started);
    }

    [Fact]
    public async Task Status_ReportsRulesEvaluatedAndBacklog()
    {
        var engine = NewEngine();
        var status = new RulesStatusSource(_packs, _events, engine);
        await WebhookAsync("elsewhere", """{"n": 1}""");

        var before = await status.GetStatusAsync(None);
        await engine.DrainAsync(None);
        var after = await status.GetStatusAsync(None);

        before.Component.ShouldBe("rules");
        before.Detail.ShouldBe("3 of 4 rule(s) enabled, 0 event(s) evaluated since start, 1 pending");
        after.Detail.ShouldBe("3 of 4 rule(s) enabled, 1 event(s) evaluated since start, 0 pending");
        after.State.ShouldBe(OpsRobot.Core.Status.HealthState.Healthy);
    }

    [Fact]
    public async Task Run_AsBackgroundService_EvaluatesEventsAsTheyArrive()
    {
        var engine = NewEngine();
        await engine.StartAsync(None);
        try
        {
            var e = await WebhookAsync("elsewhere", """{"n": 1}""");
            var clock = System.Diagnostics.Stopwatch.StartNew();
            while ((await _events.GetAsync(e.Id, None))!.Status != EventStatus.Processed)
            {
                clock.Elapsed.ShouldBeLessThan(TimeSpan.FromSeconds(30), "the engine did not process the event within 30 s");
                await Task.Delay(20);
            }
        }
        finally
        {
            await engine.StopAsync(None);
        }
    }

    private async Task<IReadOnlyDictionary<string, JsonNode?>> WaitForRunAsync()
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (_runner.Runs.IsEmpty)
        {
            clock.Elapsed.ShouldBeLessThan(TimeSpan.FromSeconds(30), "the action did not run within 30 s");
            await Task.Delay(20);
        }

        return _runner.Runs.First();
    }

    private sealed class FixedKv : IKeyValueViewSource
    {
        public Task<KeyValueView> GetViewAsync(string userName, CancellationToken cancellationToken) =>
            Task.FromResult(new KeyValueView(new JsonObject { ["system"] = new JsonObject { ["api_token"] = "s3cr3t-token" }, ["user"] = new JsonObject() }, ["s3cr3t-token"]));
    }

    /// <summary>Starts the action, then stops the engine dead (as a crash or a kill would) before it records the outcome.</summary>
    private sealed class CrashAfterStart(IRuleActionStarter inner) : IRuleActionStarter
    {
        public int Started { get; private set; }

        public async Task<long> StartAsync(RuleDefinition rule, JsonObject parameters, EventRecord trigger, IReadOnlyCollection<string> secretValues, CancellationToken cancellationToken)
        {
            await inner.StartAsync(rule, parameters, trigger, secretValues, cancellationToken);
            Started++;
            throw new OperationCanceledException("simulated crash");
        }
    }

    private sealed class RecordingRunner : IRunner
    {
        public ConcurrentQueue<IReadOnlyDictionary<string, JsonNode?>> Runs { get; } = new();

        public IReadOnlyList<string> Names { get; } = ["recording"];

        public IEnumerable<string> Validate(ActionDefinition action) => [];

        public Task<RunnerResult> RunAsync(RunnerContext context, CancellationToken cancellationToken)
        {
            Runs.Enqueue(context.Parameters);
            return Task.FromResult(new RunnerResult(RunnerOutcome.Succeeded, null, 0, null));
        }
    }
}
