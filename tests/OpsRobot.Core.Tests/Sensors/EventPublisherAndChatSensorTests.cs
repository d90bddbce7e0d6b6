using System.Diagnostics;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging.Abstractions;
using OpsRobot.Core.Chat;
using OpsRobot.Core.Events;
using OpsRobot.Core.Packs;
using OpsRobot.Core.Sensors;
using OpsRobot.Core.Templates;
using OpsRobot.Core.Tests.Support;
using OpsRobot.Testing;

namespace OpsRobot.Core.Tests.Sensors;

public sealed class EventPublisherAndChatSensorTests : IDisposable
{
    private readonly TempDirectory _dir = new("opsrobot-events");
    private readonly TestTimeProvider _time = new();
    private readonly MemoryEventStore _store = new();

    public void Dispose() => _dir.Dispose();

    private EventPublisher Publisher() => new(_store, _time, NullLogger<EventPublisher>.Instance);

    [Fact]
    public async Task Publish_StackStormName_IsStoredUnderTheCanonicalName()
    {
        var stored = await Publisher().PublishAsync("core.st2.webhook", new JsonObject { ["url"] = "x", ["headers"] = new JsonObject(), ["body"] = null }, "test", CancellationToken.None);

        stored.TriggerType.ShouldBe(BuiltInTriggers.Webhook);
        stored.ReceivedAt.ShouldBe(_time.GetUtcNow());
        _store.Events.ShouldHaveSingleItem();
    }

    [Theory]
    [InlineData(BuiltInTriggers.IntervalTimer, """{"schedule": {}}""", "'executed_at' is required")]
    [InlineData(BuiltInTriggers.IntervalTimer, """{"executed_at": 5, "schedule": {}}""", "must be text")]
    [InlineData(BuiltInTriggers.ExecutionFinished, """{"execution_id": 1.5}""", "must be a whole number")]
    [InlineData("nodots", """{}""", "not a trigger type")]
    public async Task Publish_PayloadNotFittingItsTrigger_IsRejectedAndNotStored(string trigger, string payload, string message)
    {
        var ex = await Should.ThrowAsync<EventRejectedException>(() =>
            Publisher().PublishAsync(trigger, (JsonObject)JsonNode.Parse(payload)!, "test", CancellationToken.None));

        ex.Message.ShouldContain(message);
        _store.Events.ShouldBeEmpty();
    }

    [Fact]
    public async Task Publish_OversizedPayload_IsRejected()
    {
        var payload = new JsonObject { ["x"] = new string('a', EventPublisher.MaxPayloadChars) };

        (await Should.ThrowAsync<EventRejectedException>(() => Publisher().PublishAsync("pack.big", payload, "test", CancellationToken.None))).Message.ShouldContain("limit");
    }

    [Fact]
    public async Task Wake_ManyPublishes_CountAsOneWake()
    {
        var publisher = Publisher();
        for (var i = 0; i < 5; i++)
        {
            await publisher.PublishAsync("pack.t", new JsonObject { ["i"] = i }, "test", CancellationToken.None);
        }

        (await publisher.WaitAsync(TimeSpan.FromSeconds(5), CancellationToken.None)).ShouldBeTrue();
        (await publisher.WaitAsync(TimeSpan.FromMilliseconds(50), CancellationToken.None)).ShouldBeFalse();
    }

    private (ChatMessageSensor Sensor, PackCatalog Packs) ChatSensor(bool withRule)
    {
        _dir.Write("packs/p/pack.yaml", "name: p\nversion: 1\ndescription: d\n");
        if (withRule)
        {
            _dir.Write("packs/p/rules/words.yaml", "name: words\ntrigger: {type: core.chat_message}\ncriteria:\n  trigger.text: {type: icontains, pattern: outage}\naction: {ref: p.a}\n");
        }

        var packs = new PackCatalog(new PackLoader(new OpsRobot.Core.Actions.RunnerCatalog([]), new TemplateRenderer()));
        packs.Load(_dir.Combine("packs")).Errors.ShouldBeEmpty();
        return (new ChatMessageSensor(packs, Publisher(), NullLogger<ChatMessageSensor>.Instance), packs);
    }

    private IncomingMessage Line(string text) =>
        new("web", new ChatRoom("7", "ops", false), new ChatUser("u1", "alice"), text, _time.GetUtcNow());

    [Fact]
    public async Task ChatSensor_RuleListens_StoresEachLineAsAnEvent()
    {
        var (sensor, _) = ChatSensor(withRule: true);
        await sensor.StartAsync(CancellationToken.None);
        try
        {
            sensor.Observe(Line("we have an OUTAGE"));
            sensor.Observe(Line("second"));
            var clock = Stopwatch.StartNew();
            while (_store.Events.Count < 2)
            {
                clock.Elapsed.ShouldBeLessThan(TimeSpan.FromSeconds(30));
                await Task.Delay(10);
            }
        }
        finally
        {
            await sensor.StopAsync(CancellationToken.None);
        }

        var e = _store.Events[0];
        e.TriggerType.ShouldBe(BuiltInTriggers.ChatMessage);
        e.Source.ShouldBe("chat:web/ops");
        e.Payload.ToJsonString().ShouldBe("""{"platform":"web","room":"ops","room_id":"7","user":"alice","user_id":"u1","text":"we have an OUTAGE","received_at":"2026-11-21T09:00:00.000Z"}""");
    }

    [Fact]
    public void ChatSensor_NoRuleListens_StoresNothing()
    {
        var (sensor, _) = ChatSensor(withRule: false);

        for (var i = 0; i < ChatMessageSensor.QueueLength + 10; i++)
        {
            sensor.Observe(Line("chatter"));
        }

        sensor.Dropped.ShouldBe(0, "nothing is even queued");
    }

    [Fact]
    public void ChatSensor_Flood_DropsTheSurplusWithoutBlocking()
    {
        var (sensor, _) = ChatSensor(withRule: true);

        for (var i = 0; i < ChatMessageSensor.QueueLength + 10; i++)
        {
            sensor.Observe(Line("flood"));
        }

        sensor.Dropped.ShouldBe(10);
    }
}
