using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging.Abstractions;
using OpsRobot.Core.Events;
using OpsRobot.Core.Executions;
using OpsRobot.Core.Sensors;
using OpsRobot.Core.Tests.Support;
using OpsRobot.Testing;

namespace OpsRobot.Core.Tests.Sensors;

public sealed class ExecutionFinishedSensorTests
{
    private static ExecutionRecord Finished(ExecutionStatus status, JsonNode? result) => new()
    {
        Id = 42,
        ActionRef = "ops.restart",
        RunnerType = "shell",
        Parameters = new JsonObject { ["host"] = "db1", ["token"] = SecretMask.Mask },
        Status = status,
        Requester = new ExecutionRequester { Door = ExecutionDoor.Rule, UserName = "rule:ops.down" },
        Result = result,
        Error = status == ExecutionStatus.Failed ? "exit code 1" : null,
        CreatedAt = new TestTimeProvider().GetUtcNow(),
    };

    [Fact]
    public void Payload_FitsTheTriggerAndKeepsSecretsMasked()
    {
        var payload = ExecutionFinishedSensor.Payload(Finished(ExecutionStatus.Failed, new JsonObject { ["stdout"] = "x" }));

        payload.ToJsonString().ShouldBe("""{"execution_id":42,"action_ref":"ops.restart","status":"failed","user":"rule:ops.down","door":"rule","parameters":{"host":"db1","token":"********"},"result":{"stdout":"x"},"error":"exit code 1"}""");
        TriggerType.Check(BuiltInTriggers.Find(BuiltInTriggers.ExecutionFinished)!.Payload, payload, "field").ShouldBeEmpty();
    }

    [Fact]
    public void Payload_HugeResult_IsDroppedAndSaidSo()
    {
        var payload = ExecutionFinishedSensor.Payload(Finished(ExecutionStatus.Succeeded, JsonValue.Create(new string('x', EventPublisher.MaxPayloadChars))));

        payload["result"].ShouldBeNull();
        payload["result_truncated"]!.GetValue<bool>().ShouldBeTrue();
    }

    [Fact]
    public async Task Run_FinishedExecutions_BecomeEvents_OthersDoNot()
    {
        var executions = new ExecutionEvents();
        var store = new MemoryEventStore();
        var sensor = new ExecutionFinishedSensor(executions, new EventPublisher(store, new TestTimeProvider(), NullLogger<EventPublisher>.Instance), NullLogger<ExecutionFinishedSensor>.Instance);
        await sensor.StartAsync(CancellationToken.None);
        try
        {
            // The sensor subscribes as it starts; publish until it has seen one, then the rest.
            var clock = System.Diagnostics.Stopwatch.StartNew();
            while (store.Events.Count == 0)
            {
                clock.Elapsed.ShouldBeLessThan(TimeSpan.FromSeconds(30));
                executions.Publish(new ExecutionStatusEvent(Finished(ExecutionStatus.Succeeded, null)));
                await Task.Delay(20);
            }

            var before = store.Events.Count;
            executions.Publish(new ExecutionStatusEvent(Finished(ExecutionStatus.Running, null)));
            executions.Publish(new ExecutionStatusEvent(Finished(ExecutionStatus.Timeout, null)));
            while (store.Events.Count < before + 1)
            {
                clock.Elapsed.ShouldBeLessThan(TimeSpan.FromSeconds(30));
                await Task.Delay(10);
            }

            await Task.Delay(100);
            store.Events.Count.ShouldBe(before + 1, "running is not finished");
            store.Events[^1].Payload["status"]!.GetValue<string>().ShouldBe("timeout");
            store.Events[^1].TriggerType.ShouldBe(BuiltInTriggers.ExecutionFinished);
        }
        finally
        {
            await sensor.StopAsync(CancellationToken.None);
        }
    }
}
