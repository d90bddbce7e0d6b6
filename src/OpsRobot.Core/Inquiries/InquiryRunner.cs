using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OpsRobot.Core.Actions;
using OpsRobot.Core.Alerts;
using OpsRobot.Core.Chat;
using OpsRobot.Core.Commands;
using OpsRobot.Core.Executions;
using OpsRobot.Core.Text;
using OpsRobot.Core.Workflows.Runtime;

namespace OpsRobot.Core.Inquiries;

/// <summary>Knobs of inquiries.</summary>
public sealed class InquiryOptions
{
    /// <summary>
    /// How often a waiting ask reads its inquiry from the store. An answer given on this node wakes it at once; this
    /// is for answers given on another node, and for the expiry.
    /// </summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(2);
}

/// <summary>
/// The <c>inquiry</c> runner (StackStorm's <c>inquirer</c>, behind <c>core.ask</c>): puts a question to people in a
/// room and waits for the answer. The question is stored (an inquiry), posted with buttons where the chat system has
/// them and the commands (<c>!approve ID</c>, <c>!deny ID</c>, <c>!answer ID key=value …</c>) everywhere; the ask's
/// execution shows <c>pending</c> and its workflow <c>paused</c> meanwhile. The result is the response, so a workflow
/// reads <c>result().approved</c> or the fields. A denial or the expiry fails the task. After a restart the ask,
/// started again by its resumed workflow, adopts its inquiry: the number people were given stays valid.
/// </summary>
public sealed partial class InquiryRunner(IServiceProvider services, TimeProvider time, IOptions<InquiryOptions> options, ILogger<InquiryRunner> logger) : IRunner
{
    /// <summary>The time-to-live used when an ask gives none: a day, as StackStorm's.</summary>
    public const double DefaultTtlMinutes = 1440;

    /// <summary>The longest time-to-live accepted: 7 days, the longest timeout an action may have.</summary>
    public const double MaxTtlMinutes = 7 * 1440;

    private const int MaxNames = 100;

    public IReadOnlyList<string> Names { get; } = ["inquiry", "inquirer"];

    public IEnumerable<string> Validate(ActionDefinition action)
    {
        ArgumentNullException.ThrowIfNull(action);
        if (action.Parameters.FirstOrDefault(p => p.Name == "schema") is { Default: { } schema })
        {
            string? problem = null;
            try
            {
                InquirySchema.Parse(schema);
            }
            catch (InquirySchemaException ex)
            {
                problem = $"the default schema is not usable: {ex.Message}";
            }

            if (problem is not null)
            {
                yield return problem;
            }
        }
    }

    public async Task<RunnerResult> RunAsync(RunnerContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var executions = services.GetRequiredService<ExecutionService>();
        var inquiries = services.GetRequiredService<InquiryService>();
        var store = services.GetRequiredService<IInquiryStore>();
        var id = long.Parse(context.ExecutionId, NumberStyles.None, CultureInfo.InvariantCulture);
        var self = await executions.GetAsync(id, CancellationToken.None).ConfigureAwait(false);

        Ask ask;
        try
        {
            ask = ReadParameters(context);
        }
        catch (InquirySchemaException ex)
        {
            return new RunnerResult(RunnerOutcome.Failed, null, null, ex.Message);
        }

        if (TimeSpan.FromMinutes(ask.TtlMinutes) > context.Action.Timeout)
        {
            return new RunnerResult(RunnerOutcome.Failed, null, null,
                $"The ttl ({ask.TtlMinutes.ToString(CultureInfo.InvariantCulture)} minutes) is longer than the action's timeout ({context.Action.Timeout.TotalMinutes.ToString(CultureInfo.InvariantCulture)} minutes); shorten the ttl or raise {context.Action.Ref}'s timeout.");
        }

        var hash = Fingerprint(context.Parameters);
        var inquiry = self?.ParentId is { } parent ? await AdoptAsync(store, executions, parent, hash, id).ConfigureAwait(false) : null;
        if (inquiry is null)
        {
            var room = await RoomAsync(executions, self, ask.Route, CancellationToken.None).ConfigureAwait(false);
            if (room.Problem is { } problem)
            {
                return new RunnerResult(RunnerOutcome.Failed, null, null, problem);
            }

            var now = time.GetUtcNow();
            inquiry = await store.CreateAsync(new InquiryRecord
            {
                ExecutionId = id,
                ParentId = self?.ParentId,
                ParametersHash = hash,
                Question = ask.Question,
                Schema = ask.Schema,
                Users = ask.Users,
                Roles = ask.Roles,
                Platform = room.Platform,
                RoomId = room.Room?.Id,
                RoomName = room.Room?.Name,
                ThreadId = room.ThreadId,
                CreatedAt = now,
                ExpiresAt = now + TimeSpan.FromMinutes(ask.TtlMinutes),
            }, CancellationToken.None).ConfigureAwait(false);
            LogAsked(logger, inquiry.Id, id);
            context.Output.Write(OutputKind.Stdout, $"Inquiry {InquiryService.Number(inquiry.Id)} asked; waiting for {InquiryService.Who(inquiry)}.\n");
            if (!await PostAsync(inquiry, CancellationToken.None).ConfigureAwait(false) && inquiry.Platform is { } platform)
            {
                context.Output.Write(OutputKind.Stdout,
                    $"The question could not be posted to {platform}:{inquiry.RoomName ?? inquiry.RoomId} (there is no such room, or its chat system is not connected); it can still be answered through the API, the CLI, or the commands in any room.\n");
            }
        }
        else
        {
            LogAdopted(logger, inquiry.Id, id);
            context.Output.Write(OutputKind.Stdout, $"Inquiry {InquiryService.Number(inquiry.Id)} asked before OpsRobot restarted; still waiting.\n");
        }

        // The workflow that runs here pauses itself for the wait (its engine counts every task that waits, and keeps a
        // pause someone asked for); its record is moved here only when no such run can be told.
        var parentRecord = self?.ParentId is { } workflowId && services.GetService<WorkflowControl>()?.ReportChildWaiting(workflowId, id) == true
            ? null
            : self?.ParentId;
        await executions.ReportInquiryWaitAsync(id, parentRecord, waiting: true, CancellationToken.None).ConfigureAwait(false);

        try
        {
            return await WaitAsync(inquiries, store, executions, inquiry, id, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            inquiries.Forget(inquiry.Id);
            await executions.ReportInquiryWaitAsync(id, parentRecord, waiting: false, CancellationToken.None).ConfigureAwait(false);
        }
    }

    private async Task<RunnerResult> WaitAsync(
        InquiryService inquiries, IInquiryStore store, ExecutionService executions, InquiryRecord inquiry, long executionId, CancellationToken cancellationToken)
    {
        var number = InquiryService.Number(inquiry.Id);
        while (true)
        {
            var changed = inquiries.ChangedAsync(inquiry.Id);
            var current = await store.GetAsync(inquiry.Id, CancellationToken.None).ConfigureAwait(false) ?? inquiry;
            switch (current.Status)
            {
                case InquiryStatuses.Responded:
                    return new RunnerResult(RunnerOutcome.Succeeded, current.Response?.DeepClone(), null, null);
                case InquiryStatuses.Denied:
                    return new RunnerResult(RunnerOutcome.Failed, current.Response?.DeepClone(), null,
                        $"Inquiry {number} was denied by {current.RespondedBy}" + (current.Response?["reason"] is JsonValue r ? $": {r}" : "."));
                case InquiryStatuses.Expired:
                    return Expired(current);
                case InquiryStatuses.Canceled:
                    return new RunnerResult(RunnerOutcome.Canceled, null, null, $"Inquiry {number} was canceled.");
            }

            var left = current.ExpiresAt - time.GetUtcNow();
            if (left <= TimeSpan.Zero)
            {
                await store.CloseAsync(inquiry.Id, InquiryStatuses.Expired, null, null, time.GetUtcNow(), CancellationToken.None).ConfigureAwait(false);
                continue;
            }

            try
            {
                var wait = left < options.Value.PollInterval ? left : options.Value.PollInterval;
                await Task.WhenAny(changed, Task.Delay(wait, time, cancellationToken)).ConfigureAwait(false);
                cancellationToken.ThrowIfCancellationRequested();
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                // A cancel of the ask (or of its workflow) closes the question; OpsRobot stopping leaves it open for
                // the ask its workflow starts again after the restart.
                var record = await executions.GetAsync(executionId, CancellationToken.None).ConfigureAwait(false);
                if (record?.Status.IsCancelRequested() == true)
                {
                    await store.CloseAsync(inquiry.Id, InquiryStatuses.Canceled, null, null, time.GetUtcNow(), CancellationToken.None).ConfigureAwait(false);
                    return new RunnerResult(RunnerOutcome.Canceled, null, null, $"Inquiry {number} was canceled before anyone answered.");
                }

                return new RunnerResult(RunnerOutcome.Canceled, null, null, $"OpsRobot stopped while inquiry {number} waited; it stays open for the resumed workflow.");
            }
        }
    }

    private static RunnerResult Expired(InquiryRecord inquiry)
    {
        var minutes = (inquiry.ExpiresAt - inquiry.CreatedAt).TotalMinutes;
        return new RunnerResult(RunnerOutcome.Failed, null, null,
            $"Nobody answered inquiry {InquiryService.Number(inquiry.Id)} within its ttl of {minutes.ToString("0.##", CultureInfo.InvariantCulture)} minute(s); it expired at " +
            $"{inquiry.ExpiresAt.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture)} UTC.");
    }

    /// <summary>
    /// The inquiry an earlier run of this same ask opened, when that run was cut off by a restart (its execution
    /// abandoned): this run takes it over, answered meanwhile or not.
    /// </summary>
    private static async Task<InquiryRecord?> AdoptAsync(IInquiryStore store, ExecutionService executions, long parent, string hash, long executionId)
    {
        foreach (var candidate in await store.FindByParentAsync(parent, hash, CancellationToken.None).ConfigureAwait(false))
        {
            if (candidate.ExecutionId == executionId)
            {
                return candidate;
            }

            var earlier = await executions.GetAsync(candidate.ExecutionId, CancellationToken.None).ConfigureAwait(false);
            if (earlier?.Status == ExecutionStatus.Abandoned
                && await store.AdoptAsync(candidate.Id, candidate.ExecutionId, executionId, CancellationToken.None).ConfigureAwait(false))
            {
                return candidate with { ExecutionId = executionId };
            }
        }

        return null;
    }

    private sealed record Ask(InquirySchema Schema, string? Question, IReadOnlyList<string> Users, IReadOnlyList<string> Roles, string? Route, double TtlMinutes);

    private static Ask ReadParameters(RunnerContext context)
    {
        var parameters = context.Parameters;
        var schema = InquirySchema.Parse(parameters.GetValueOrDefault("schema"));
        var ttl = DefaultTtlMinutes;
        if (parameters.GetValueOrDefault("ttl") is JsonValue t)
        {
            if (!t.TryGetValue<double>(out ttl) && !(t.TryGetValue<long>(out var whole) && (ttl = whole) > 0))
            {
                throw new InquirySchemaException("ttl must be a number of minutes.");
            }
        }

        if (!double.IsFinite(ttl) || ttl <= 0 || ttl > MaxTtlMinutes)
        {
            throw new InquirySchemaException($"ttl must be more than 0 and at most {MaxTtlMinutes.ToString(CultureInfo.InvariantCulture)} minutes (7 days).");
        }

        return new Ask(
            schema,
            parameters.GetValueOrDefault("question") is JsonValue q && q.TryGetValue<string>(out var question) && !string.IsNullOrWhiteSpace(question) ? question.Trim() : null,
            NameList(parameters.GetValueOrDefault("users"), "users"),
            NameList(parameters.GetValueOrDefault("roles"), "roles"),
            parameters.GetValueOrDefault("route") is JsonValue r && r.TryGetValue<string>(out var route) && !string.IsNullOrWhiteSpace(route) ? route.Trim() : null,
            ttl);
    }

    private static List<string> NameList(JsonNode? node, string what)
    {
        if (node is null)
        {
            return [];
        }

        if (node is not JsonArray list || list.Count > MaxNames || list.Any(n => n is not JsonValue v || !v.TryGetValue<string>(out var s) || string.IsNullOrWhiteSpace(s) || s.Length > 200))
        {
            throw new InquirySchemaException($"{what} must be a list of at most {MaxNames} names.");
        }

        return [.. list.Select(n => n!.GetValue<string>().Trim()).Distinct(StringComparer.Ordinal)];
    }

    /// <summary>A stable fingerprint of the ask's parameters (keys in order), to find its inquiry again after a restart.</summary>
    internal static string Fingerprint(IReadOnlyDictionary<string, JsonNode?> parameters)
    {
        var canonical = new JsonObject();
        foreach (var (name, value) in parameters.OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            canonical[name] = value?.DeepClone();
        }

        return Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(canonical.ToJsonString())));
    }

    private sealed record RoomChoice(string? Platform, ChatRoom? Room, string? ThreadId, string? Problem);

    /// <summary>
    /// Where the question goes: the <c>route</c> (<c>platform:room</c>) when given, otherwise the room the workflow was
    /// started from (the nearest ancestor started from chat). None when the workflow came from the API or a rule: it is
    /// then answered through the API, the CLI, or the commands from any room.
    /// </summary>
    private static async Task<RoomChoice> RoomAsync(ExecutionService executions, ExecutionRecord? self, string? route, CancellationToken cancellationToken)
    {
        if (route is not null)
        {
            // Given by name, as on every platform: the adapter finds the room (the built-in chat looks the name up).
            return AlertRoom.Parse(route) is { } target
                ? new RoomChoice(target.Platform, new ChatRoom(target.Room, target.Room, false), null, null)
                : new RoomChoice(null, null, null, $"route '{route}' is not platform:room (e.g. web:ops or slack:C0123).");
        }

        var current = self;
        for (var depth = 0; current is not null && depth < 32; depth++)
        {
            if (current.Requester is { Platform: { } platform, RoomId: { } roomId } requester)
            {
                return new RoomChoice(platform, new ChatRoom(roomId, requester.RoomName ?? roomId, false), requester.ThreadId, null);
            }

            current = current.ParentId is { } parent ? await executions.GetAsync(parent, cancellationToken).ConfigureAwait(false) : null;
        }

        return new RoomChoice(null, null, null, null);
    }

    /// <summary>
    /// Posts the question with its buttons; a chat system that is down leaves it answerable by the API and the CLI.
    /// Returns whether it was posted (false also when it has no room to go to).
    /// </summary>
    private async Task<bool> PostAsync(InquiryRecord inquiry, CancellationToken cancellationToken)
    {
        if (inquiry.Platform is not { } platform || inquiry.RoomId is not { } roomId || services.GetService<IChatReplySender>() is not { } sender)
        {
            return false;
        }

        var prefix = services.GetService<IOptions<RobotOptions>>()?.Value.CommandPrefix ?? "!";
        try
        {
            var message = Question(inquiry, prefix, time.GetUtcNow());
            return await sender.SendAsync(platform, new ChatRoom(roomId, inquiry.RoomName ?? roomId, false), message, cancellationToken).ConfigureAwait(false);
        }
#pragma warning disable CA1031 // The inquiry is stored and answerable through the API; a chat system that is down must not fail the ask.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            LogPostFailed(logger, ex, inquiry.Id, platform);
            return false;
        }
    }

    /// <summary>The question as posted to the room: what is asked, by whom, who may answer, until when, and how.</summary>
    internal static OutgoingMessage Question(InquiryRecord inquiry, string prefix, DateTimeOffset now)
    {
        var number = InquiryService.Number(inquiry.Id);
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"**Inquiry {number}**");
        if (inquiry.ParentId is { } parent)
        {
            text.Append(CultureInfo.InvariantCulture, $" from workflow #{InquiryService.Number(parent)}");
        }

        text.Append(": ").Append(inquiry.Question ?? (inquiry.IsApproval ? "approve or deny?" : "please answer.")).Append('\n');
        if (!inquiry.IsApproval)
        {
            text.Append("Fields: ").Append(inquiry.Schema.DescribeFields()).Append('\n');
        }

        var left = inquiry.ExpiresAt - now;
        text.Append(CultureInfo.InvariantCulture,
            $"Who may answer: {InquiryService.Who(inquiry)}. Expires in {Duration(left)} ({inquiry.ExpiresAt.UtcDateTime.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture)} UTC).\n");
        var deny = $"{prefix}deny {number}";
        List<ChatButton> buttons;
        if (inquiry.IsApproval)
        {
            var approve = $"{prefix}approve {number}";
            text.Append(CultureInfo.InvariantCulture, $"Answer with {Markdown.Code(approve + " [comment]")} or {Markdown.Code(deny + " [reason]")}.");
            buttons = [new ChatButton("Approve", approve) { Style = ChatButtonStyle.Primary }, new ChatButton("Deny", deny) { Style = ChatButtonStyle.Danger }];
        }
        else
        {
            var answer = $"{prefix}answer {number} " + string.Join(" ", inquiry.Schema.Fields.Select(f => f.Name + "=…"));
            text.Append(CultureInfo.InvariantCulture, $"Answer with {Markdown.Code(answer)}, or {Markdown.Code(deny + " [reason]")}.");
            buttons = [new ChatButton("Deny", deny) { Style = ChatButtonStyle.Danger }];
        }

        return new OutgoingMessage(text.ToString()) { ThreadId = inquiry.ThreadId, Buttons = buttons };
    }

    private static string Duration(TimeSpan span) => span.TotalMinutes < 1
        ? $"{Math.Max(0, (int)span.TotalSeconds).ToString(CultureInfo.InvariantCulture)} s"
        : span.TotalHours < 2
            ? $"{((int)Math.Ceiling(span.TotalMinutes)).ToString(CultureInfo.InvariantCulture)} min"
            : $"{span.TotalHours.ToString("0.#", CultureInfo.InvariantCulture)} h";

    [LoggerMessage(EventId = 1310, Level = LogLevel.Information, Message = "Inquiry {InquiryId} asked by execution {ExecutionId}")]
    private static partial void LogAsked(ILogger logger, long inquiryId, long executionId);

    [LoggerMessage(EventId = 1311, Level = LogLevel.Information, Message = "Inquiry {InquiryId} adopted by execution {ExecutionId} after a restart")]
    private static partial void LogAdopted(ILogger logger, long inquiryId, long executionId);

    [LoggerMessage(EventId = 1312, Level = LogLevel.Warning, Message = "Inquiry {InquiryId}: could not post the question to {Platform}")]
    private static partial void LogPostFailed(ILogger logger, Exception exception, long inquiryId, string platform);
}
