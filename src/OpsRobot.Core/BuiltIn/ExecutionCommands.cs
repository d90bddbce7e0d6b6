using System.Globalization;
using OpsRobot.Core.Chat;
using OpsRobot.Core.Commands;
using OpsRobot.Core.Executions;
using OpsRobot.Core.Text;

namespace OpsRobot.Core.BuiltIn;

/// <summary><c>cancel ID</c>: stop an execution; its process tree is stopped and the room hears the result.</summary>
public sealed class CancelCommand(ExecutionService executions) : IRobotCommand
{
    public CommandInfo Info { get; } = new("core", "cancel", "cancel ID", "Cancel a running or waiting execution.");


    public async ValueTask<OutgoingMessage> ExecuteAsync(CommandContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (!ExecutionIds.TryParse(context.Arguments, out var id))
        {
            return new OutgoingMessage($"Usage: {Markdown.Code(context.Options.CommandPrefix + Info.Usage)} (the number the robot gave when it started it, e.g. 42 or #42)");
        }

        var before = await executions.GetAsync(id, cancellationToken).ConfigureAwait(false);
        if (before is null)
        {
            return new OutgoingMessage($"There is no execution #{id.ToString(CultureInfo.InvariantCulture)}.");
        }

        if (await ExecutionAccess.RefusalAsync(context, before, Access.Permissions.ExecutionCancel, cancellationToken).ConfigureAwait(false) is { } refused)
        {
            return new OutgoingMessage(refused);
        }

        if (before.Status.IsFinished())
        {
            return new OutgoingMessage($"{Markdown.Code(before.ActionRef)} #{id.ToString(CultureInfo.InvariantCulture)} already ended: {before.Status.ToWire()}.");
        }

        var after = await executions.CancelAsync(id, context.Message.Sender.Name, cancellationToken).ConfigureAwait(false);
        return new OutgoingMessage($"{Markdown.Code(before.ActionRef)} #{id.ToString(CultureInfo.InvariantCulture)}: {after?.Status.ToWire() ?? "canceled"}.");
    }
}

/// <summary><c>execution ID</c>: where an execution stands, and the end of its output.</summary>
public sealed class ExecutionCommand(ExecutionService executions, TimeProvider time) : IRobotCommand
{
    public CommandInfo Info { get; } = new("core", "execution", "execution ID", "Show an execution's status, who asked, and the end of its output.");

    public async ValueTask<OutgoingMessage> ExecuteAsync(CommandContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (!ExecutionIds.TryParse(context.Arguments, out var id))
        {
            return new OutgoingMessage($"Usage: {Markdown.Code(context.Options.CommandPrefix + Info.Usage)}");
        }

        var e = await executions.GetAsync(id, cancellationToken).ConfigureAwait(false);
        if (e is null)
        {
            return new OutgoingMessage($"There is no execution #{id.ToString(CultureInfo.InvariantCulture)}.");
        }

        if (await ExecutionAccess.RefusalAsync(context, e, Access.Permissions.ExecutionView, cancellationToken).ConfigureAwait(false) is { } refused)
        {
            return new OutgoingMessage(refused);
        }

        var who = e.Requester.RoomName is { } room ? $"{e.Requester.UserName} in {room}" : $"{e.Requester.UserName} ({e.Requester.Door.ToString().ToLowerInvariant()})";
        var took = e.StartedAt is { } s ? ExecutionService.FormatSpan((e.EndedAt ?? time.GetUtcNow()) - s) : "not started";
        var rows = new List<IReadOnlyList<string>>
        {
            new[] { "status", e.Status.ToWire() },
            new[] { "action", Markdown.Code(e.ActionRef) },
            new[] { "asked by", who },
            new[] { "time", took },
            new[] { "parameters", Markdown.Code(e.Parameters.ToJsonString()) },
        };
        if (e.Error is { Length: > 0 } error)
        {
            rows.Add(["error", error]);
        }

        var chunks = await executions.ReadOutputAsync(id, 0, 1000, cancellationToken).ConfigureAwait(false);
        var output = string.Concat(chunks.Select(c => c.Text)).TrimEnd();
        var text = $"Execution #{id.ToString(CultureInfo.InvariantCulture)}\n\n" + Markdown.Table(["field", "value"], rows);
        if (output.Length > 0)
        {
            text += "\n" + Markdown.CodeBlock(output.Length > 800 ? "…" + output[^800..] : output);
        }

        return new OutgoingMessage(text);
    }
}

/// <summary>
/// Who may see or act on an execution: its requester always; others with the permission on its action. A refusal
/// is recorded in the audit as a deny decision.
/// </summary>
internal static class ExecutionAccess
{
    public static async Task<string?> RefusalAsync(CommandContext context, ExecutionRecord e, string permission, CancellationToken cancellationToken)
    {
        if (context.Principal is not { } principal)
        {
            return null;
        }

        var allowed = context.Robot?.Access is { } access
            ? await access.MayActOnExecutionAsync(principal, e, permission, cancellationToken).ConfigureAwait(false)
            : Access.AccessService.MayActOnExecution(principal, e, permission);
        return allowed ? null : Sentence(e, permission);
    }

    /// <summary>
    /// The refusal's wording, without deciding anything new or recording it: for a refusal already decided and
    /// recorded elsewhere (the workflow requests behind pause, resume and rerun).
    /// </summary>
    public static string? Refusal(Access.Principal? principal, ExecutionRecord e, string permission) =>
        principal is null || Access.AccessService.MayActOnExecution(principal, e, permission) ? null : Sentence(e, permission);

    private static string Sentence(ExecutionRecord e, string permission) =>
        $"You need `{permission}` on `{e.ActionRef}` for execution #{e.Id.ToString(CultureInfo.InvariantCulture)} (it is not yours).";
}

/// <summary>Reads an execution id as people type it: <c>42</c> or <c>#42</c>.</summary>
internal static class ExecutionIds
{
    public static bool TryParse(string text, out long id) =>
        long.TryParse(text.Trim().TrimStart('#'), NumberStyles.None, CultureInfo.InvariantCulture, out id) && id > 0;
}
