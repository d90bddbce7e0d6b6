using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OpsRobot.Core.Access;
using OpsRobot.Core.Actions;
using OpsRobot.Core.Audit;
using OpsRobot.Core.Chat;
using OpsRobot.Core.Executions;
using OpsRobot.Core.Packs;
using OpsRobot.Core.Templates;
using OpsRobot.Core.Text;

namespace OpsRobot.Core.Commands;

/// <summary>How the robot reports executions started from chat.</summary>
public sealed class ChatNotifyOptions
{
    /// <summary>When an execution still runs after this long, the room is told, with the output so far.</summary>
    public TimeSpan StillRunningAfter { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>After the first notice, how often to say it is still running.</summary>
    public TimeSpan StillRunningEvery { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>The longest output shown in a chat message; the rest is cut, with where to read it all.</summary>
    public int MaxOutputInChat { get; set; } = 1500;
}

/// <summary>
/// Runs chat lines that match a pack alias: the line becomes an execution of the alias's action, the room gets
/// the alias's acknowledgement at once and the result when the execution ends, with notices while it runs long.
/// </summary>
public sealed partial class AliasDispatcher(
    PackCatalog packs,
    ExecutionService executions,
    ITemplateRenderer templates,
    IChatReplySender sender,
    AccessService access,
    TimeProvider time,
    IOptions<ChatNotifyOptions> options,
    ILogger<AliasDispatcher> logger)
{
    private readonly ChatNotifyOptions _options = options.Value;
    private volatile AliasIndex? _index;

    /// <summary>The index of the current pack snapshot, rebuilt when the packs change.</summary>
    public AliasIndex Index
    {
        get
        {
            var snapshot = packs.Current;
            var index = _index;
            if (index is null || !ReferenceEquals(index.Snapshot, snapshot))
            {
                index = AliasIndex.Build(snapshot);
                _index = index;
            }

            return index;
        }
    }

    /// <summary>
    /// Answers <paramref name="commandText"/> if an alias matches it; null when none does. The answer's
    /// <see cref="OutgoingMessage.FollowUp"/> completes once the result has been sent to the room.
    /// </summary>
    public async ValueTask<OutgoingMessage?> TryHandleAsync(IncomingMessage message, string commandText, RobotOptions robot, Principal? principal, bool sudo, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(message);
        ArgumentNullException.ThrowIfNull(robot);
        if (principal is null)
        {
            return null;
        }

        var lookup = Index.Match(commandText, a => MaySee(principal, a, FindAction(a)));
        if (lookup.Ambiguous.Count > 0)
        {
            var choices = string.Join("\n", lookup.Ambiguous.Select(c => $"- {Markdown.Code(robot.CommandPrefix + c.Entry.Display)} ({c.Alias.Ref}: {c.Alias.Description})"));
            return new OutgoingMessage($"That matches more than one command; say which:\n{choices}");
        }

        if (lookup.Best is not { } candidate)
        {
            return null;
        }

        var alias = candidate.Alias;
        var input = new JsonObject();
        foreach (var (key, value) in lookup.Parameters!)
        {
            input[key] = value;
        }

        foreach (var (key, value) in alias.ImmutableParameters)
        {
            if (lookup.Parameters!.ContainsKey(key) && !candidate.Format.Defaults.ContainsKey(key))
            {
                return new OutgoingMessage($"{Markdown.Code(key)} is fixed by this command and cannot be given. Usage: {Markdown.Code(robot.CommandPrefix + candidate.Entry.Display)}");
            }

            input[key] = value?.DeepClone();
        }

        var action = FindAction(alias);
        var auditText = MaskedCommand(commandText, input, action);
        if (action is not null)
        {
            var parameters = input.ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal);
            var decision = await access.AuthorizeRunAsync(principal, new RunRequest(action, alias, parameters)
            {
                Room = message.Room,
                Platform = message.Platform,
                Sudo = sudo,
            }, cancellationToken).ConfigureAwait(false);
            if (decision.Kind == DenialKind.Hidden)
            {
                return null;
            }

            await AuditAsync(principal, auditText, decision, alias, cancellationToken).ConfigureAwait(false);
            if (decision.Kind == DenialKind.ElevationRequired)
            {
                return new OutgoingMessage(await StartElevationAsync(principal, message, commandText, robot, cancellationToken).ConfigureAwait(false));
            }

            if (!decision.Allowed)
            {
                return new OutgoingMessage(decision.Explanation!);
            }
        }

        var requester = new ExecutionRequester
        {
            Door = ExecutionDoor.Chat,

            // Who asked as access control knows them: the linked OpsRobot user, or the chat identity
            // (`platform:id`, which no user name can equal). Never the display name, which anyone can set to
            // another user's name: the requester is re-checked by name when a queued execution starts.
            UserName = principal?.Name ?? message.Sender.Name,
            Platform = message.Platform,
            RoomId = message.Room.Id,
            RoomName = message.Room.Name,
            ThreadId = message.ThreadId,
            AliasRef = alias.Ref,
        };

        ExecutionHandle handle;
        try
        {
            handle = await executions.RequestAsync(new ExecutionRequest(alias.ActionRef, input, requester), cancellationToken).ConfigureAwait(false);
        }
        catch (ExecutionRequestException ex)
        {
            return new OutgoingMessage($"{ex.Message}\nUsage: {Markdown.Code(robot.CommandPrefix + candidate.Entry.Display)} (say `{robot.CommandPrefix}help {FirstWord(candidate.Entry.Display)}` for details)");
        }

        if (!alias.AckEnabled)
        {
            return FollowedBy(new OutgoingMessage(string.Empty), handle, message, alias);
        }

        var ack = alias.AckFormat is null
            ? $"Running {Markdown.Code(alias.ActionRef)} as execution #{handle.Execution.Id.ToString(CultureInfo.InvariantCulture)}."
            : RenderOrExplain(alias.AckFormat, Context(handle.Execution, alias, message), "ack");
        return FollowedBy(new OutgoingMessage(ack), handle, message, alias);
    }

    /// <summary>
    /// The answer that acknowledges an execution started from chat, with its follow-up: the still-running notices and
    /// then the result, posted to the room that asked, after the answer itself. Aliases use it, and so do commands that
    /// start an execution (<c>!rerun</c>), so every execution started from chat is reported to its room the same way.
    /// </summary>
    /// <param name="answer">The acknowledgement (empty: posted by nobody, the result still follows).</param>
    /// <param name="handle">The execution started.</param>
    /// <param name="message">The chat message that started it: the result goes to its room and thread.</param>
    /// <param name="alias">The alias that started it, whose result settings apply; null for the default result.</param>
    public OutgoingMessage FollowedBy(OutgoingMessage answer, ExecutionHandle handle, IncomingMessage message, AliasDefinition? alias = null)
    {
        ArgumentNullException.ThrowIfNull(answer);
        ArgumentNullException.ThrowIfNull(handle);
        ArgumentNullException.ThrowIfNull(message);
        var acknowledged = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var follow = FollowAsync(handle, alias, message, acknowledged.Task);
        return answer with { FollowUp = follow, Delivered = () => acknowledged.TrySetResult() };
    }

    /// <summary>The action an alias runs, in the current snapshot.</summary>
    public ActionDefinition? FindAction(AliasDefinition alias)
    {
        ArgumentNullException.ThrowIfNull(alias);
        return packs.Current.FindAction(alias.ActionRef);
    }

    /// <summary>Whether <paramref name="principal"/> may see an alias at all (in help, suggestions, answers).</summary>
    public static bool MaySee(Principal? principal, AliasDefinition alias, ActionDefinition? action)
    {
        ArgumentNullException.ThrowIfNull(alias);
        if (principal is null)
        {
            return true;
        }

        var readOnly = action?.Guards.ReadOnly ?? false;
        return AccessService.Check(principal, Permissions.AliasView, alias.Ref, readOnly).Allowed
            || AccessService.Check(principal, Permissions.AliasRun, alias.Ref, readOnly).Allowed;
    }

    /// <summary>
    /// Whether <paramref name="principal"/> holds the grants to run an alias (<c>alias.run</c> and
    /// <c>action.execute</c>), for help. Rooms, the tree and sudo depend on where and on what it runs; they are
    /// checked when it does.
    /// </summary>
    public static bool MayRun(Principal? principal, AliasDefinition alias, ActionDefinition? action)
    {
        ArgumentNullException.ThrowIfNull(alias);
        if (principal is null)
        {
            return true;
        }

        var readOnly = action?.Guards.ReadOnly ?? false;
        return AccessService.Check(principal, Permissions.AliasRun, alias.Ref, readOnly).Allowed
            && AccessService.Check(principal, Permissions.ActionExecute, alias.ActionRef, readOnly).Allowed
            && (action?.Guards.Administrative != true || principal.IsAdministrator);
    }

    /// <summary>The command line with the values of secret parameters masked, for the audit.</summary>
    private static string MaskedCommand(string commandText, JsonObject input, ActionDefinition? action)
    {
        var masked = commandText;
        foreach (var parameter in action?.Parameters.Where(p => p.Secret) ?? [])
        {
            if (input[parameter.Name] is JsonValue v && v.TryGetValue<string>(out var secret) && secret.Length > 0)
            {
                masked = masked.Replace(secret, "********", StringComparison.Ordinal);
            }
        }

        return AuditLog.MaskSecrets(masked);
    }

    private async Task AuditAsync(Principal principal, string auditText, AccessDecision decision, AliasDefinition alias, CancellationToken cancellationToken)
    {
        var detail = new JsonObject { ["alias"] = alias.Ref, ["action"] = alias.ActionRef };
        if (decision.ResolvedScope.Count > 0)
        {
            detail["scope"] = new JsonObject([.. decision.ResolvedScope.Select(p => KeyValuePair.Create(p.Key, (JsonNode?)JsonValue.Create(p.Value)))]);
        }

        await access.Audit.WriteAsync(new AuditEntry
        {
            Kind = AuditKinds.Command,
            Actor = principal.Name,
            Door = principal.Door,
            Place = principal.Place,
            Subject = auditText,
            Decision = decision.Allowed ? "allow" : "deny",
            Rule = decision.Rule,
            Detail = detail,
        }, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// A sudo command with no open elevation: keep the command, send a one-time code through a second channel (a
    /// direct message on this platform), and say how to confirm.
    /// </summary>
    private async Task<string> StartElevationAsync(Principal principal, IncomingMessage message, string commandText, RobotOptions robot, CancellationToken cancellationToken)
    {
        if (principal.User is not { } user)
        {
            return "Sudo commands need a linked OpsRobot user.";
        }

        var (code, pending) = await access.RequestElevationAsync(user, new PendingElevation(0, commandText, message.Platform, message.Room.Id, message.Room.Name, message.Room.IsDirect, message.ThreadId, default), cancellationToken).ConfigureAwait(false);
        var minutes = (int)Math.Ceiling(access.Options.ElevationCodeLifetime.TotalMinutes);
        var dm = new OutgoingMessage(
            $"Code **{code}** confirms sudo for {Markdown.Code(AuditLog.MaskSecrets(commandText))} asked in {message.Room.Name}. Say {Markdown.Code($"{robot.CommandPrefix}sudo confirm {code}")} within {minutes.ToString(CultureInfo.InvariantCulture)} minutes. If this was not you, do not use it and tell an administrator.");
        var sent = !message.Room.IsDirect && await sender.SendDirectAsync(message.Platform, message.Sender, dm, cancellationToken).ConfigureAwait(false);
        var requestId = pending.Id.ToString(CultureInfo.InvariantCulture);
        return sent
            ? $"This needs sudo. I sent you a one-time code in a direct message: say {Markdown.Code(robot.CommandPrefix + "sudo confirm CODE")} to open a {FormatWindow(access.Options.ElevationWindow)} elevation and run it, or confirm request #{requestId} in the web console."
            : $"This needs sudo. I could not send you a code through a second channel from here: confirm request #{requestId} in the web console (Elevations), and the command runs.";
    }

    private static string FormatWindow(TimeSpan window) =>
        window.TotalMinutes >= 1 ? $"{window.TotalMinutes.ToString("0.#", CultureInfo.InvariantCulture)}-minute" : $"{window.TotalSeconds.ToString("0", CultureInfo.InvariantCulture)}-second";

    /// <summary>How long a result waits for its acknowledgement to be posted before it goes anyway.</summary>
    private static readonly TimeSpan AckWait = TimeSpan.FromSeconds(10);

    private async Task FollowAsync(ExecutionHandle handle, AliasDefinition? alias, IncomingMessage message, Task acknowledged)
    {
        try
        {
            // A fast action can end before the adapter has posted its acknowledgement; the room must read them in order.
            try
            {
                await acknowledged.WaitAsync(AckWait, time).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                // An adapter that does not report delivery: go on rather than keep the result back for good.
            }

            var wait = _options.StillRunningAfter;
            while (!handle.Outcome.IsCompleted)
            {
                var delay = Task.Delay(wait, time);
                if (await Task.WhenAny(handle.Outcome, delay).ConfigureAwait(false) == handle.Outcome)
                {
                    break;
                }

                var current = await executions.GetAsync(handle.Execution.Id, CancellationToken.None).ConfigureAwait(false);
                if (current is not null && !current.Status.IsFinished())
                {
                    await SendAsync(message, await StillRunningAsync(current).ConfigureAwait(false)).ConfigureAwait(false);
                }

                wait = _options.StillRunningEvery;
            }

            var final = await handle.Outcome.ConfigureAwait(false);
            if (alias is { ResultEnabled: false })
            {
                return;
            }

            var text = alias?.ResultFormat is not { } format
                ? await DefaultResultAsync(final).ConfigureAwait(false)
                : RenderOrExplain(format, Context(final, alias, message), "result");
            if (string.IsNullOrWhiteSpace(text))
            {
                return;
            }

            await SendAsync(message, text).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            LogFollowFailed(logger, ex, handle.Execution.Id);
        }
    }

    private Task<bool> SendAsync(IncomingMessage message, string text) =>
        sender.SendAsync(message.Platform, message.Room, new OutgoingMessage(text) { ThreadId = message.ThreadId }, CancellationToken.None);

    private async Task<string> StillRunningAsync(ExecutionRecord execution)
    {
        // Counted from the request: that is how long the person has been waiting.
        var elapsed = time.GetUtcNow() - execution.CreatedAt;
        var tail = await OutputTailAsync(execution.Id).ConfigureAwait(false);
        var head = $"{Markdown.Code(execution.ActionRef)} #{execution.Id.ToString(CultureInfo.InvariantCulture)} is still {execution.Status.ToWire()} ({ExecutionService.FormatSpan(elapsed)}).";
        return tail.Length == 0 ? head : head + " Latest output:\n" + Markdown.CodeBlock(tail);
    }

    /// <summary>The default result message for a finished execution: status, time, error, and its result or output tail.</summary>
    public Task<string> DescribeResultAsync(ExecutionRecord execution)
    {
        ArgumentNullException.ThrowIfNull(execution);
        return DefaultResultAsync(execution);
    }

    private async Task<string> DefaultResultAsync(ExecutionRecord e)
    {
        var id = e.Id.ToString(CultureInfo.InvariantCulture);
        var took = e.StartedAt is { } s && e.EndedAt is { } end ? $" in {ExecutionService.FormatSpan(end - s)}" : string.Empty;
        var attempts = e.Attempt > 1 ? $" (attempt {e.Attempt.ToString(CultureInfo.InvariantCulture)})" : string.Empty;
        var sb = new StringBuilder();
        sb.Append(CultureInfo.InvariantCulture, $"{Markdown.Code(e.ActionRef)} #{id} **{e.Status.ToWire()}**{took}{attempts}");
        if (e.Status != ExecutionStatus.Succeeded && e.Error is { Length: > 0 } error)
        {
            sb.Append(": ").Append(error);
        }

        var body = ResultText(e.Result);
        if (body.Length == 0 && e.Status != ExecutionStatus.Succeeded)
        {
            body = await OutputTailAsync(e.Id).ConfigureAwait(false);
        }

        if (body.Length > 0)
        {
            var cut = body.Length > _options.MaxOutputInChat;
            sb.Append('\n').Append(Markdown.CodeBlock(cut ? body[.._options.MaxOutputInChat] : body));
            if (cut)
            {
                sb.Append(CultureInfo.InvariantCulture,
                    $"\nOutput cut at {_options.MaxOutputInChat:N0} of {body.Length:N0} characters. All of it: `opsrobot execution get {id}` or GET /api/v1/executions/{id}/output");
            }
        }

        return sb.ToString();
    }

    /// <summary>What to show of a result: the output of a process, else the result as JSON.</summary>
    private static string ResultText(JsonNode? result)
    {
        if (result is null)
        {
            return string.Empty;
        }

        if (result is JsonObject obj && obj.ContainsKey("stdout"))
        {
            var stdout = obj["stdout"];
            var stderr = obj["stderr"] is JsonValue v && v.TryGetValue<string>(out var se) ? se : string.Empty;
            var text = stdout is JsonValue sv && sv.TryGetValue<string>(out var so) ? so : stdout?.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) ?? string.Empty;
            var succeeded = obj["succeeded"] is not JsonValue ok || !ok.TryGetValue<bool>(out var b) || b;
            return (succeeded || stderr.Length == 0 ? text : text + (text.Length > 0 ? "\n" : string.Empty) + stderr).TrimEnd();
        }

        return result.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
    }

    private async Task<string> OutputTailAsync(long id)
    {
        var chunks = await executions.ReadOutputAsync(id, 0, 1000, CancellationToken.None).ConfigureAwait(false);
        var all = string.Concat(chunks.Select(c => c.Text)).TrimEnd();
        var max = Math.Min(_options.MaxOutputInChat, 500);
        return all.Length <= max ? all : "…" + all[^max..];
    }

    private string RenderOrExplain(string template, JsonObject context, string what)
    {
        try
        {
            return templates.Render(template, context);
        }
        catch (TemplateException ex)
        {
            LogTemplateFailed(logger, ex, what);
            return $"(the alias's {what} template failed: {ex.Message})";
        }
    }

    /// <summary>What ack and result templates see: StackStorm's <c>execution</c>, plus <c>alias</c> and <c>user</c>.</summary>
    private JsonObject Context(ExecutionRecord e, AliasDefinition alias, IncomingMessage message)
    {
        var elapsed = e.StartedAt is { } s ? ((e.EndedAt ?? time.GetUtcNow()) - s).TotalSeconds : 0;
        return new JsonObject
        {
            ["execution"] = new JsonObject
            {
                ["id"] = e.Id,
                ["status"] = e.Status.ToWire(),
                ["action"] = new JsonObject { ["ref"] = e.ActionRef },
                ["parameters"] = e.Parameters.DeepClone(),
                ["result"] = e.Result?.DeepClone(),
                ["exit_code"] = e.ExitCode,
                ["error"] = e.Error,
                ["attempt"] = e.Attempt,
                ["elapsed_seconds"] = Math.Round(elapsed, 3),
                ["start_timestamp"] = e.StartedAt?.ToString("O", CultureInfo.InvariantCulture),
                ["end_timestamp"] = e.EndedAt?.ToString("O", CultureInfo.InvariantCulture),
            },
            ["alias"] = new JsonObject { ["ref"] = alias.Ref, ["name"] = alias.Name, ["pack"] = alias.Pack },
            ["user"] = new JsonObject { ["name"] = message.Sender.Name, ["id"] = message.Sender.Id },
            ["room"] = new JsonObject { ["name"] = message.Room.Name, ["id"] = message.Room.Id },
        };
    }

    private static string FirstWord(string text)
    {
        var t = text.TrimStart();
        var i = t.IndexOf(' ', StringComparison.Ordinal);
        return i < 0 ? t : t[..i];
    }

    [LoggerMessage(EventId = 1401, Level = LogLevel.Error, Message = "Could not report execution {ExecutionId} back to chat")]
    private static partial void LogFollowFailed(ILogger logger, Exception exception, long executionId);

    [LoggerMessage(EventId = 1402, Level = LogLevel.Warning, Message = "An alias {What} template failed to render")]
    private static partial void LogTemplateFailed(ILogger logger, Exception exception, string what);
}
