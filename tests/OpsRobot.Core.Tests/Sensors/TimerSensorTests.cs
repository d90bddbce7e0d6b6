using Microsoft.Extensions.Logging.Abstractions;
using OpsRobot.Core.Events;
using OpsRobot.Core.Packs;
using OpsRobot.Core.Sensors;
using OpsRobot.Core.Templates;
using OpsRobot.Core.Tests.Support;
using OpsRobot.Testing;

namespace OpsRobot.Core.Tests.Sensors;

public sealed class TimerSensorTests : IDisposable
{
    private readonly TempDirectory _dir = new("opsrobot-timers");
    private readonly TestTimeProvider _time = new(new DateTimeOffset(2026, 11, 21, 9, 0, 0, TimeSpan.Zero));
    private readonly MemoryEventStore _store = new();

    public void Dispose() => _dir.Dispose();

    private (TimerSensor Sensor, PackCatalog Packs) Start()
    {
        var packs = new PackCatalog(new PackLoader(new OpsRobot.Core.Actions.RunnerCatalog([]), new TemplateRenderer()));
        packs.Load(_dir.Combine("packs")).Errors.ShouldBeEmpty();
        var sensor = new TimerSensor(packs, new EventPublisher(_store, _time, NullLogger<EventPublisher>.Instance), _time, NullLogger<TimerSensor>.Instance);
        return (sensor, packs);
    }

    private void Rule(string name, string trigger, bool enabled = true) =>
        _dir.Write($"packs/p/rules/{name}.yaml", $"name: {name}\nenabled: {(enabled ? "true" : "false")}\ntrigger: {trigger}\naction: {{ref: p.a}}\n");

    [Fact]
    public async Task FireDue_SharedSchedule_OneEventPerFiring_WithTheScheduleInThePayload()
    {
        _dir.Write("packs/p/pack.yaml", "name: p\nversion: 1\ndescription: d\n");
        Rule("a", "{type: core.interval_timer, parameters: {unit: seconds, delta: 30}}");
        Rule("b", "{type: core.st2.IntervalTimer, parameters: {unit: seconds, delta: 30}}");
        Rule("c", "{type: core.cron_timer, parameters: {expression: '0 * * * *'}}");
        Rule("off", "{type: core.interval_timer, parameters: {unit: seconds, delta: 1}}", enabled: false);
        var (sensor, _) = Start();

        var next = await sensor.FireDueAsync(CancellationToken.None);
        sensor.Timers.Count.ShouldBe(2);
        next.ShouldBe(_time.GetUtcNow().AddSeconds(30));
        _store.Events.ShouldBeEmpty();

        _time.Advance(TimeSpan.FromSeconds(30));
        await sensor.FireDueAsync(CancellationToken.None);
        _store.Events.Count.ShouldBe(1);
        var e = _store.Events[0];
        e.TriggerType.ShouldBe(BuiltInTriggers.IntervalTimer);
        e.Payload["executed_at"]!.GetValue<string>().ShouldBe("2026-11-21T09:00:30.000Z");
        e.Payload["schedule"]!.ToJsonString().ShouldBe("""{"unit":"seconds","delta":30}""");

        _time.Advance(TimeSpan.FromMinutes(60));
        await sensor.FireDueAsync(CancellationToken.None);
        _store.Events.Count.ShouldBe(3, "after a long pause a late interval fires once, and the hourly cron once");
        _store.Events.Select(x => x.TriggerType).ShouldBe([BuiltInTriggers.IntervalTimer, BuiltInTriggers.IntervalTimer, BuiltInTriggers.CronTimer], ignoreOrder: true);
    }

    [Fact]
    public async Task FireDue_PackReload_AddsAndRemovesTimers()
    {
        _dir.Write("packs/p/pack.yaml", "name: p\nversion: 1\ndescription: d\n");
        Rule("a", "{type: core.date_timer, parameters: {date: '2026-11-21T09:00:10Z'}}");
        var (sensor, packs) = Start();
        await sensor.FireDueAsync(CancellationToken.None);
        sensor.Timers.Count.ShouldBe(1);

        _time.Advance(TimeSpan.FromSeconds(10));
        (await sensor.FireDueAsync(CancellationToken.None)).ShouldBeNull("a date fires once");
        _store.Events.Count.ShouldBe(1);

        File.Delete(_dir.Combine("packs/p/rules/a.yaml"));
        Rule("b", "{type: core.interval_timer, parameters: {unit: minutes, delta: 1}}");
        packs.Load(_dir.Combine("packs"));
        await sensor.FireDueAsync(CancellationToken.None);
        sensor.Timers.ShouldHaveSingleItem().ShouldStartWith(BuiltInTriggers.IntervalTimer);
    }

    [Fact]
    public void LoadRule_InvalidSchedule_IsALoadError()
    {
        _dir.Write("packs/p/pack.yaml", "name: p\nversion: 1\ndescription: d\n");
        Rule("a", "{type: core.cron_timer, parameters: {expression: 'every day'}}");

        var result = new PackLoader(new OpsRobot.Core.Actions.RunnerCatalog([]), new TemplateRenderer()).LoadAll(_dir.Combine("packs"));

        result.Errors.ShouldContain(e => e.Message.Contains("the timer's schedule is not valid", StringComparison.Ordinal));
    }
}
