using System.Globalization;
using OpsRobot.Core.BuiltIn;
using OpsRobot.Core.Chat;
using OpsRobot.Core.Commands;
using OpsRobot.Core.Executions;
using OpsRobot.Core.Text;

namespace OpsRobot.Core.Workflows.Runtime;

/// <summary><c>pause ID</c>: pause a running workflow; its running tasks finish and nothing new starts.</summary>
public sealed class PauseCommand(WorkflowRequests requests) : IRobotCommand
{
    public CommandInfo Info { get; } = new("core", "pause", "pause ID", "Pause a running workflow: running tasks finish, nothing new starts until it is resumed.");

    public ValueTask<OutgoingMessage> ExecuteAsync(CommandContext context, CancellationToken cancellationToken) =>
        WorkflowControlCommand.ExecuteAsync(context, Info, requests, pause: true, cancellationToken);
}

/// <summary><c>resume ID</c>: let a paused workflow carry on.</summary>
public sealed class ResumeCommand(WorkflowRequests requests) : IRobotCommand
{
    public CommandInfo Info { get; } = new("core", "resume", "resume ID", "Resume a paused workflow.");

    public ValueTask<OutgoingMessage> ExecuteAsync(CommandContext context, CancellationToken cancellationToken) =>
        WorkflowControlCommand.ExecuteAsync(context, Info, requests, pause: false, cancellationToken);
}

/// <summary>
/// <c>rerun ID [from TASK[,TASK…]]</c>: run a failed workflow again from its failed tasks (or the ones named), keeping
/// what succeeded. The re-run is a new execution, requested by whoever asks, reported to this room as an alias's
/// execution is (still-running notices, then the result).
/// </summary>
public sealed partial class RerunCommand(WorkflowRequests requests, AliasDispatcher followUps) : IRobotCommand
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
        var result = await requests.RerunAsync(id, tasks, context.Principal, requester, beforeChange: null, cancellationToken).ConfigureAwait(false);
        if (result is { Started: { } started, Execution: { } execution })
        {
            return followUps.FollowedBy(
                new OutgoingMessage($"Re-running {Markdown.Code(execution.ActionRef)} #{WorkflowControlCommand.Number(id)} from {string.Join(", ", started.Tasks.Select(Markdown.Code))} as execution #{WorkflowControlCommand.Number(started.Execution.Id)}; what succeeded is kept."),
                started.Handle,
                message);
        }

        return new OutgoingMessage(result.Error ?? WorkflowControlCommand.Refusal(context, result, id));
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
/// What pause and resume share: the checks are <see cref="WorkflowRequests"/>' (as for the API), and the answer says
/// where the workflow stands now. The robot audits the command line and the decision, as for every command.
/// </summary>
internal static class WorkflowControlCommand
{
    public static async ValueTask<OutgoingMessage> ExecuteAsync(
        CommandContext context, CommandInfo info, WorkflowRequests requests, bool pause, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (!ExecutionIds.TryParse(context.Arguments, out var id))
        {
            return new OutgoingMessage($"Usage: {Markdown.Code(context.Options.CommandPrefix + info.Usage)} (the workflow's execution number, e.g. 42 or #42)");
        }

        var result = pause
            ? await requests.PauseAsync(id, context.Principal, beforeChange: null, cancellationToken).ConfigureAwait(false)
            : await requests.ResumeAsync(id, context.Principal, beforeChange: null, cancellationToken).ConfigureAwait(false);
        var number = Number(id);
        var verb = pause ? "pause" : "resume";
        var action = result.Execution is { } e ? Markdown.Code(e.ActionRef) : string.Empty;
        return new OutgoingMessage(result.Outcome switch
        {
            WorkflowRequestOutcome.Done => $"{action} #{number}: {result.Status}.",
            WorkflowRequestOutcome.Ended => $"{action} #{number} already ended: {result.Execution!.Status.ToWire()}; there is nothing to {verb}.",
            WorkflowRequestOutcome.NotRunningHere => $"Workflow #{number} does not run on this OpsRobot node (or has not started yet); ask again in a moment, or on the node that runs it.",
            WorkflowRequestOutcome.NotAWorkflow =>
                $"{action} #{number} is not a workflow; only workflows pause and resume. Use {Markdown.Code(context.Options.CommandPrefix + "cancel " + number)} to stop it.",
            WorkflowRequestOutcome.Refused => $"Cannot {verb} workflow #{number}: {result.Error}",
            _ => Refusal(context, result, id),
        });
    }

    /// <summary>The answer when there is no such execution, or it is not the caller's to manage.</summary>
    public static string Refusal(CommandContext context, WorkflowRequestResult result, long id) =>
        result.Outcome == WorkflowRequestOutcome.Forbidden && result.Execution is { } e
            ? ExecutionAccess.Refusal(context.Principal, e, Access.Permissions.WorkflowManage)!
            : $"There is no execution #{Number(id)}.";

    public static string Number(long id) => id.ToString(CultureInfo.InvariantCulture);
}
