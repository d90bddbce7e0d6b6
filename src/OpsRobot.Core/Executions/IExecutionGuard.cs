using OpsRobot.Core.Actions;

namespace OpsRobot.Core.Executions;

/// <summary>
/// What the execution service asks access control and the audit trail as an execution moves: whether one that
/// waited may still start (its requester's rights can change while it is queued), and that it started and ended.
/// </summary>
public interface IExecutionGuard
{
    /// <summary>
    /// Called before an execution that had to wait starts. Null to go ahead; otherwise why it may no longer run,
    /// and it ends canceled with that reason.
    /// </summary>
    ValueTask<string?> RecheckAsync(ExecutionRecord execution, ActionDefinition action, CancellationToken cancellationToken);

    /// <summary>Called once the execution is stored as running, before its runner starts.</summary>
    ValueTask StartedAsync(ExecutionRecord execution, CancellationToken cancellationToken);

    /// <summary>Called once the execution's final record is stored (including executions abandoned at recovery).</summary>
    ValueTask FinishedAsync(ExecutionRecord execution, CancellationToken cancellationToken);
}
