using OpsRobot.Core.Executions;

namespace OpsRobot.Core.Tests.Executions;

public sealed class ExecutionStatusesTests
{
    public static TheoryData<ExecutionStatus> AllStatuses() => [.. Enum.GetValues<ExecutionStatus>()];

    [Theory]
    [MemberData(nameof(AllStatuses))]
    public void EveryStatus_IsEitherFinishedOrUnfinished_NeverBoth(ExecutionStatus status) =>
        ExecutionStatuses.Unfinished.Contains(status).ShouldBe(!status.IsFinished(), status.ToWire());

    [Theory]
    [MemberData(nameof(AllStatuses))]
    public void EveryUnfinishedStatus_IsEitherWaitingOrActive_NeverBoth(ExecutionStatus status)
    {
        var waiting = ExecutionStatuses.Waiting.Contains(status);
        var active = ExecutionStatuses.Active.Contains(status);

        (waiting && active).ShouldBeFalse(status.ToWire());
        (waiting || active).ShouldBe(!status.IsFinished(), status.ToWire());
        status.IsWaiting().ShouldBe(waiting, status.ToWire());
    }

    [Theory]
    [InlineData(ExecutionStatus.Running, true)]
    [InlineData(ExecutionStatus.Paused, true)] // a paused workflow can be canceled
    [InlineData(ExecutionStatus.Pending, true)] // so can an ask waiting for its answer
    [InlineData(ExecutionStatus.Canceling, false)] // already being canceled
    [InlineData(ExecutionStatus.Requested, false)] // not started: a cancel ends it at once, no runner to stop
    [InlineData(ExecutionStatus.Succeeded, false)]
    public void Cancellable_IsWhatARunnerOwnsAndHasNotBeenAskedToStop(ExecutionStatus status, bool expected)
    {
        ExecutionStatuses.Cancellable.Contains(status).ShouldBe(expected);
        if (expected)
        {
            ExecutionStatuses.Active.ShouldContain(status);
        }
    }

    [Theory]
    [InlineData(ExecutionStatus.Canceling, true)]
    [InlineData(ExecutionStatus.Canceled, true)]
    [InlineData(ExecutionStatus.Running, false)]
    [InlineData(ExecutionStatus.Failed, false)]
    public void IsCancelRequested_CancelingOrCanceled(ExecutionStatus status, bool expected) =>
        status.IsCancelRequested().ShouldBe(expected);
}
