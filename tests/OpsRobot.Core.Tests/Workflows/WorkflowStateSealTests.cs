using System.Security.Cryptography;
using System.Text.Json;
using OpsRobot.Core.Actions;
using OpsRobot.Core.Datastore;
using OpsRobot.Core.Workflows.Engine;
using OpsRobot.Core.Workflows.Runtime;

namespace OpsRobot.Core.Tests.Workflows;

public sealed class WorkflowStateSealTests : IDisposable
{
    private readonly AesGcmSecretProtector _protector = new(RandomNumberGenerator.GetBytes(32));

    public void Dispose() => _protector.Dispose();

    [Theory]
    [InlineData(true, false, true)] // the action has a secret parameter: a new run is sealed
    [InlineData(false, true, true)] // stored sealed, the action's secret since removed: it stays sealed
    [InlineData(false, false, false)] // no secret anywhere: stored in clear
    public void MustSeal_ActionAndStoredRun_SealsWhenEitherSays(bool secretParameter, bool storedSealed, bool expected)
    {
        var seal = new WorkflowStateSeal(_protector);
        var action = new ActionDefinition("ops", "deploy", "orquesta") { Parameters = [new ParameterDefinition("token", ParameterType.String) { Secret = secretParameter }] };
        var json = JsonSerializer.Serialize(new WorkflowState { Status = "running" });
        var stored = Run(7, storedSealed ? seal.Seal(json, 7) : json);

        WorkflowStateSeal.MustSeal(action, stored).ShouldBe(expected);
    }

    [Fact]
    public void MustSeal_ActionNoLongerLoaded_FollowsTheStoredRun()
    {
        var seal = new WorkflowStateSeal(_protector);

        WorkflowStateSeal.MustSeal(null, Run(3, seal.Seal("{}", 3))).ShouldBeTrue();
        WorkflowStateSeal.MustSeal(null, Run(3, "{}")).ShouldBeFalse();
        WorkflowStateSeal.MustSeal(null, null).ShouldBeFalse();
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void ReadState_SealedOrClear_ReadsTheEngineState(bool sealedRun)
    {
        var seal = new WorkflowStateSeal(_protector);
        var json = JsonSerializer.Serialize(new WorkflowState { Status = "paused", Input = new() { ["app"] = "web" } });

        var state = seal.ReadState(Run(11, sealedRun ? seal.Seal(json, 11) : json));

        state.Status.ShouldBe("paused");
        state.Input["app"]!.GetValue<string>().ShouldBe("web");
    }

    [Fact]
    public void ReadState_SealedForAnotherRun_IsRefused()
    {
        var seal = new WorkflowStateSeal(_protector);
        var sealedForOther = seal.Seal(JsonSerializer.Serialize(new WorkflowState()), 12);

        Should.Throw<DatastoreException>(() => seal.ReadState(Run(11, sealedForOther)));
    }

    [Fact]
    public void ReadState_EmptyState_SaysWhichWorkflow()
    {
        var seal = new WorkflowStateSeal(_protector);

        Should.Throw<DatastoreException>(() => seal.ReadState(Run(42, "null"))).Message.ShouldContain("#42");
    }

    [Fact]
    public void ReadDispatches_Sealed_ReadsTheActionsInFlight()
    {
        var seal = new WorkflowStateSeal(_protector);
        var log = JsonSerializer.Serialize(new WorkflowDispatchLog { LastKey = 5, InFlight = [new WorkflowDispatch { Key = 5, TaskId = "build" }] });
        var run = new WorkflowRunRecord { ExecutionId = 9, ActionRef = "ops.deploy", WorkflowFile = "/w.yaml", State = "{}", Dispatches = seal.Seal(log, 9) };

        var read = seal.ReadDispatches(run);

        read.LastKey.ShouldBe(5);
        read.InFlight.ShouldHaveSingleItem().TaskId.ShouldBe("build");
    }

    private static WorkflowRunRecord Run(long id, string state) =>
        new() { ExecutionId = id, ActionRef = "ops.deploy", WorkflowFile = "/w.yaml", State = state, Dispatches = "{}" };
}
