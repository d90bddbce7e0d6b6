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
/// <c>rerun ID [from TASK[,TASK…]]</c>: run a failed workflow again from its failed tasks (or the ones named), keeping
/// what succeeded. The re-run is a new execution, requested by whoever asks, reported to this room.
/// </summary>
public sealed partial class RerunCommand(ExecutionService executions, WorkflowRerun rerun) : IRobotCommand
{
    public CommandInfo Info { get; } = new("core", "rerun", "rerun ID [from TASK[,TASK…]]",
        "Run a failed workflow again from its failed tasks (or the ones named), keeping what succeeded.");

    public async ValueTask<OutgoingMessage> ExecuteAsync(CommandContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (!TryParse(context.Arguments, out var id, out var tasks))
        {
            return new OutgoingMessage($"Usage: {Markdown.Code(context.Options.CommandPrefix + Info.Usage)}, e.g. {Markdown.Code(context.Options.CommandPrefix + "rerun 42 from deploy")} (task names are letters, digits, _ and -).");
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

        var message = context.Message;
        var requester = new ExecutionRequester
        {
            Door = ExecutionDoor.Chat,
            UserName = context.Principal?.Name ?? message.Sender.Name, // the user, or `platform:id`; never the display name
            Platform = message.Platform,
            RoomId = message.Room.Id,
            RoomName = message.Room.Name,
            ThreadId = message.ThreadId,
        };
        try
        {
            var started = await rerun.RerunAsync(id, tasks, requester, cancellationToken).ConfigureAwait(false);
            var from = string.Join(", ", started.Tasks.Select(Markdown.Code));
            return new OutgoingMessage(
                $"Re-running {Markdown.Code(execution.ActionRef)} #{number} from {from} as execution #{started.Execution.Id.ToString(CultureInfo.InvariantCulture)}; what succeeded is kept.");
        }
        catch (WorkflowRerunException ex)
        {
            return new OutgoingMessage(ex.Message);
        }
    }

    internal static bool TryParse(string arguments, out long id, out IReadOnlyList<string> tasks)
    {
        tasks = [];
        var words = arguments.Split([' ', '\t'], 3, StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (words.Length == 0 || !ExecutionIds.TryParse(words[0], out id))
        {
            id = 0;
            return false;
        }

        if (words.Length == 1)
        {
            return true;
        }

        if (words.Length != 3 || !string.Equals(words[1], "from", StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        var names = words[2].Split([',', ' '], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (names.Length is 0 or > 100 || !names.All(IsTaskName))
        {
            return false;
        }

        tasks = names;
        return true;
    }

    /// <summary>Whether a name can be a task's, as re-run requests from chat and the API may give it.</summary>
    public static bool IsTaskName(string? name) => name is not null && TaskName().IsMatch(name);

    [System.Text.RegularExpressions.GeneratedRegex("^[A-Za-z0-9_-]{1,100}$", System.Text.RegularExpressions.RegexOptions.CultureInvariant, matchTimeoutMilliseconds: 100)]
    private static partial System.Text.RegularExpressions.Regex TaskName();
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
