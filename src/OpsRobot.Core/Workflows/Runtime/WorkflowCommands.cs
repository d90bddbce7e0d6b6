using System.Globalization;
using OpsRobot.Core.BuiltIn;
using OpsRobot.Core.Chat;
using OpsRobot.Core.Commands;
using OpsRobot.Core.Executions;
using OpsRobot.Core.Text;

namespace OpsRobot.Core.Workflows.Runtime;

/// <summary><c>pause ID</c>: pause a running workflow; its running tasks finish and nothing new starts.</summary>
public sealed class PauseCommand(ExecutionService executions, WorkflowControl control) : IRobotCommand
{
    public CommandInfo Info { get; } = new("core", "pause", "pause ID", "Pause a running workflow: running tasks finish, nothing new starts until it is resumed.");

    public ValueTask<OutgoingMessage> ExecuteAsync(CommandContext context, CancellationToken cancellationToken) =>
        WorkflowControlCommand.ExecuteAsync(context, Info, executions, control, pause: true, cancellationToken);
}

/// <summary><c>resume ID</c>: let a paused workflow carry on.</summary>
public sealed class ResumeCommand(ExecutionService executions, WorkflowControl control) : IRobotCommand
{
    public CommandInfo Info { get; } = new("core", "resume", "resume ID", "Resume a paused workflow.");

    public ValueTask<OutgoingMessage> ExecuteAsync(CommandContext context, CancellationToken cancellationToken) =>
        WorkflowControlCommand.ExecuteAsync(context, Info, executions, control, pause: false, cancellationToken);
}

/// <summary>
/// What pause and resume share: the same checks as the API's (the requester, or <c>workflow.manage</c> on the
/// workflow's action), and an answer that says where the workflow stands now. The robot audits the command line and
/// the decision, as for every command.
/// </summary>
internal static class WorkflowControlCommand
{
    public static async ValueTask<OutgoingMessage> ExecuteAsync(
        CommandContext context, CommandInfo info, ExecutionService executions, WorkflowControl control, bool pause, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (!ExecutionIds.TryParse(context.Arguments, out var id))
        {
            return new OutgoingMessage($"Usage: {Markdown.Code(context.Options.CommandPrefix + info.Usage)} (the workflow's execution number, e.g. 42 or #42)");
        }

        var number = id.ToString(CultureInfo.InvariantCulture);
        var execution = await executions.GetAsync(id, cancellationToken).ConfigureAwait(false);
        if (execution is null)
        {
            return new OutgoingMessage($"There is no execution #{number}.");
        }

        if (ExecutionAccess.Refusal(context.Principal, execution, Access.Permissions.WorkflowManage) is { } refused)
        {
            return new OutgoingMessage(refused);
        }

        var verb = pause ? "pause" : "resume";
        if (execution.Status.IsFinished())
        {
            return new OutgoingMessage($"{Markdown.Code(execution.ActionRef)} #{number} already ended: {execution.Status.ToWire()}; there is nothing to {verb}.");
        }

        var result = pause ? await control.PauseAsync(id).ConfigureAwait(false) : await control.ResumeAsync(id).ConfigureAwait(false);
        if (!result.Found)
        {
            return new OutgoingMessage(execution.RunnerType is "workflow" or "orquesta"
                ? $"Workflow #{number} does not run on this OpsRobot node (or has not started yet); ask again in a moment, or on the node that runs it."
                : $"{Markdown.Code(execution.ActionRef)} #{number} is not a workflow; only workflows pause and resume. Use {Markdown.Code(context.Options.CommandPrefix + "cancel " + number)} to stop it.");
        }

        return new OutgoingMessage(result.Error is { } error
            ? $"Cannot {verb} workflow #{number}: {error}"
            : $"{Markdown.Code(execution.ActionRef)} #{number}: {result.Status}.");
    }
}
