using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using OpsRobot.Core.Access;
using OpsRobot.Core.Audit;
using OpsRobot.Core.Chat;
using OpsRobot.Core.Executions;

namespace OpsRobot.Core.Inquiries;

/// <summary>Who answers an inquiry, and from where.</summary>
/// <param name="Principal">The answerer as access control sees them; null only where access control is not wired (tests).</param>
/// <param name="Name">The name shown in the room and kept in the record.</param>
/// <param name="Door">chat, api or cli.</param>
/// <param name="Place">The room (<c>platform:room</c>) or the address the answer came from.</param>
public sealed record InquiryResponder(Principal? Principal, string Name, string Door, string? Place)
{
    /// <summary>The chat room the answer was typed in (the robot's reply already tells that room).</summary>
    public (string Platform, string RoomId, string RoomName)? Room { get; init; }
}

/// <summary>An answer refused, with the reason as a sentence for the person who gave it.</summary>
public sealed class InquiryException : Exception
{
    public InquiryException()
    {
    }

    public InquiryException(string message)
        : base(message)
    {
    }

    public InquiryException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>True when the inquiry does not exist (the API answers 404).</summary>
    public bool NotFound { get; init; }

    /// <summary>True when the answerer may not answer it (the API answers 403).</summary>
    public bool Forbidden { get; init; }

    /// <summary>True when the inquiry can no longer be answered (the API answers 409).</summary>
    public bool Closed { get; init; }
}

/// <summary>
/// Answers inquiries, whatever door the answer comes through (chat, API, CLI): checks that the inquiry is still open
/// and that the answerer is one it names, checks the response against its schema, records it (exactly one answer
/// wins), audits it, wakes the ask waiting on it, and tells the room that was asked who answered.
/// </summary>
public sealed partial class InquiryService(
    IInquiryStore store, ExecutionService executions, AuditLog audit, TimeProvider time, IServiceProvider services, ILogger<InquiryService> logger)
{
    /// <summary>Audit kind of an answer (or denial) to an inquiry.</summary>
    public const string AuditKind = "inquiry.responded";

    private readonly ConcurrentDictionary<long, TaskCompletionSource> _changes = new();

    public Task<InquiryRecord?> GetAsync(long id, CancellationToken cancellationToken) => store.GetAsync(id, cancellationToken);

    public Task<IReadOnlyList<InquiryRecord>> ListAsync(InquiryQuery query, CancellationToken cancellationToken) => store.ListAsync(query, cancellationToken);

    /// <summary>Approves an approve/deny inquiry, with an optional comment.</summary>
    public Task<InquiryRecord> ApproveAsync(long id, InquiryResponder responder, string? comment, CancellationToken cancellationToken) =>
        AnswerAsync(id, responder, inquiry =>
        {
            if (!inquiry.IsApproval)
            {
                throw new InquiryException(
                    $"Inquiry {Number(id)} asks for values, not for an approval: answer it with answer {Number(id)} {string.Join(" ", inquiry.Schema.Fields.Select(f => f.Name + "=…"))}.");
            }

            var response = new JsonObject { ["approved"] = true };
            if (!string.IsNullOrWhiteSpace(comment))
            {
                response["comment"] = comment.Trim();
            }

            return inquiry.Schema.Validate(response);
        }, cancellationToken);

    /// <summary>Denies an inquiry (any kind): its ask task fails, with the reason.</summary>
    public Task<InquiryRecord> DenyAsync(long id, InquiryResponder responder, string? reason, CancellationToken cancellationToken) =>
        AnswerAsync(id, responder, _ =>
        {
            var response = new JsonObject { ["approved"] = false };
            if (!string.IsNullOrWhiteSpace(reason))
            {
                var text = reason.Trim();
                response["reason"] = text.Length <= InquirySchema.MaxTextLength ? text : text[..InquirySchema.MaxTextLength];
            }

            return response;
        }, cancellationToken, deny: true);

    /// <summary>Answers with <c>key=value …</c> as typed in chat or the CLI, typed and checked by the inquiry's schema.</summary>
    public Task<InquiryRecord> AnswerPairsAsync(long id, InquiryResponder responder, string pairs, CancellationToken cancellationToken) =>
        AnswerAsync(id, responder, inquiry => inquiry.Schema.ParsePairs(pairs), cancellationToken);

    /// <summary>Answers with a response given as JSON (the API), checked by the inquiry's schema.</summary>
    public Task<InquiryRecord> RespondAsync(long id, InquiryResponder responder, JsonObject response, CancellationToken cancellationToken) =>
        AnswerAsync(id, responder, inquiry => inquiry.Schema.Validate(response), cancellationToken);

    /// <summary>Who may answer: null when <paramref name="principal"/> may, otherwise the refusal as a sentence.</summary>
    public static string? Refusal(InquiryRecord inquiry, Principal? principal)
    {
        ArgumentNullException.ThrowIfNull(inquiry);
        if (principal is null || principal.IsAdministrator)
        {
            return null;
        }

        var number = Number(inquiry.Id);
        if (!principal.IsLinked)
        {
            return $"You are not linked to an OpsRobot user, so you cannot answer inquiry {number}.";
        }

        if (inquiry.Users.Count == 0 && inquiry.Roles.Count == 0)
        {
            return null;
        }

        if (inquiry.Users.Contains(principal.Name, StringComparer.Ordinal)
            || principal.Roles.Any(r => inquiry.Roles.Contains(r.Name, StringComparer.Ordinal)))
        {
            return null;
        }

        return $"Only {Who(inquiry)} may answer inquiry {number}.";
    }

    /// <summary>Who an inquiry names, for people: <c>alice, bob or members of role ops</c>.</summary>
    public static string Who(InquiryRecord inquiry)
    {
        ArgumentNullException.ThrowIfNull(inquiry);
        var parts = inquiry.Users.ToList();
        if (inquiry.Roles.Count > 0)
        {
            parts.Add((inquiry.Roles.Count == 1 ? "members of role " : "members of roles ") + string.Join(", ", inquiry.Roles));
        }

        return parts.Count switch
        {
            0 => "any OpsRobot user",
            1 => parts[0],
            _ => string.Join(", ", parts.Take(parts.Count - 1)) + " or " + parts[^1],
        };
    }

    private async Task<InquiryRecord> AnswerAsync(
        long id, InquiryResponder responder, Func<InquiryRecord, JsonObject> build, CancellationToken cancellationToken, bool deny = false)
    {
        ArgumentNullException.ThrowIfNull(responder);
        var number = Number(id);
        var inquiry = await store.GetAsync(id, cancellationToken).ConfigureAwait(false)
            ?? throw new InquiryException($"There is no inquiry {number}.") { NotFound = true };
        if (Refusal(inquiry, responder.Principal) is { } refused)
        {
            await AuditAsync(inquiry, responder, "deny", refused, null, cancellationToken).ConfigureAwait(false);
            throw new InquiryException(refused) { Forbidden = true };
        }

        await EnsureOpenAsync(inquiry, cancellationToken).ConfigureAwait(false);
        JsonObject response;
        try
        {
            response = build(inquiry);
        }
        catch (InquirySchemaException ex)
        {
            throw new InquiryException($"That does not answer inquiry {number}: {ex.Message}", ex);
        }

        var status = deny || (inquiry.IsApproval && response["approved"] is JsonValue a && a.TryGetValue<bool>(out var approved) && !approved)
            ? InquiryStatuses.Denied
            : InquiryStatuses.Responded;
        var at = time.GetUtcNow();
        if (!await store.CloseAsync(id, status, response, responder.Name, at, cancellationToken).ConfigureAwait(false))
        {
            var now = await store.GetAsync(id, cancellationToken).ConfigureAwait(false);
            throw new InquiryException(ClosedSentence(now ?? inquiry)) { Closed = true };
        }

        var answered = inquiry with { Status = status, Response = response, RespondedBy = responder.Name, RespondedAt = at };
        await AuditAsync(answered, responder, "allow", null, response, cancellationToken).ConfigureAwait(false);
        Signal(id);
        LogAnswered(logger, id, status, responder.Name);
        await TellRoomAsync(answered, responder, cancellationToken).ConfigureAwait(false);
        return answered;
    }

    /// <summary>Refuses an inquiry that was answered, expired, or whose ask is gone.</summary>
    private async Task EnsureOpenAsync(InquiryRecord inquiry, CancellationToken cancellationToken)
    {
        if (inquiry.Status != InquiryStatuses.Pending)
        {
            throw new InquiryException(ClosedSentence(inquiry)) { Closed = true };
        }

        if (time.GetUtcNow() >= inquiry.ExpiresAt)
        {
            // The ask that waits on it closes it too; whoever comes first records the expiry.
            await store.CloseAsync(inquiry.Id, InquiryStatuses.Expired, null, null, time.GetUtcNow(), cancellationToken).ConfigureAwait(false);
            Signal(inquiry.Id);
            throw new InquiryException(ClosedSentence(inquiry with { Status = InquiryStatuses.Expired })) { Closed = true };
        }

        // An ask cut off by a restart shows abandoned until its workflow, resumed, asks again and adopts the inquiry:
        // an answer given meanwhile is kept for it. Any other end of the ask (canceled, timed out) closes the question.
        var ask = await executions.GetAsync(inquiry.ExecutionId, cancellationToken).ConfigureAwait(false);
        if (ask is null || !ask.Status.IsFinished())
        {
            return;
        }

        var workflow = inquiry.ParentId is { } parent ? await executions.GetAsync(parent, cancellationToken).ConfigureAwait(false) : null;
        if (ask.Status == ExecutionStatus.Abandoned && workflow is { } w && !w.Status.IsFinished())
        {
            return;
        }

        var why = workflow is { } ended && ended.Status.IsFinished()
            ? $"its workflow #{Number(ended.Id)} ended ({ended.Status.ToWire()})"
            : $"the ask that opened it ended ({ask.Status.ToWire()})";
        await store.CloseAsync(inquiry.Id, InquiryStatuses.Canceled, null, null, time.GetUtcNow(), cancellationToken).ConfigureAwait(false);
        throw new InquiryException($"Inquiry {Number(inquiry.Id)} can no longer be answered: {why}.") { Closed = true };
    }

    /// <summary>Why a closed inquiry takes no answer, for people.</summary>
    public static string ClosedSentence(InquiryRecord inquiry)
    {
        ArgumentNullException.ThrowIfNull(inquiry);
        var number = Number(inquiry.Id);
        return inquiry.Status switch
        {
            InquiryStatuses.Responded => $"Inquiry {number} was already answered by {inquiry.RespondedBy}.",
            InquiryStatuses.Denied => $"Inquiry {number} was already denied by {inquiry.RespondedBy}.",
            InquiryStatuses.Expired => $"Inquiry {number} expired at {inquiry.ExpiresAt.UtcDateTime.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture)} UTC; it can no longer be answered.",
            InquiryStatuses.Canceled => $"Inquiry {number} was canceled; it can no longer be answered.",
            _ => $"Inquiry {number} is {inquiry.Status}.",
        };
    }

    /// <summary>What the room is told of an answer: who answered and how.</summary>
    public static string AnswerSentence(InquiryRecord inquiry)
    {
        ArgumentNullException.ThrowIfNull(inquiry);
        var number = Number(inquiry.Id);
        var response = inquiry.Response ?? [];
        if (inquiry.Status == InquiryStatuses.Denied)
        {
            return $"Inquiry {number} was denied by {inquiry.RespondedBy}" + (response["reason"] is JsonValue r ? $": {r}" : ".");
        }

        if (inquiry.IsApproval)
        {
            return $"Inquiry {number} was approved by {inquiry.RespondedBy}" + (response["comment"] is JsonValue c ? $": {c}" : ".");
        }

        return $"Inquiry {number} was answered by {inquiry.RespondedBy}: " +
               string.Join(", ", response.Select(p => $"{p.Key}={(p.Value is JsonValue v && v.GetValueKind() == System.Text.Json.JsonValueKind.String ? v.GetValue<string>() : p.Value?.ToJsonString())}"));
    }

    /// <summary>Completes when the inquiry may have changed (answered here); waiters also poll the store, for other nodes.</summary>
    internal Task ChangedAsync(long id) => _changes.GetOrAdd(id, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).Task;

    /// <summary>Forgets the wake-up of an inquiry nobody waits on any more.</summary>
    internal void Forget(long id) => _changes.TryRemove(id, out _);

    internal void Signal(long id)
    {
        if (_changes.TryRemove(id, out var waiting))
        {
            waiting.TrySetResult();
        }
    }

    private async Task AuditAsync(InquiryRecord inquiry, InquiryResponder responder, string decision, string? refusal, JsonObject? response, CancellationToken cancellationToken)
    {
        var detail = new JsonObject
        {
            ["inquiry"] = inquiry.Id,
            ["execution"] = inquiry.ExecutionId,
            ["status"] = inquiry.Status,
        };
        if (inquiry.ParentId is { } parent)
        {
            detail["workflow"] = parent;
        }

        if (response is not null)
        {
            detail["response"] = response.DeepClone();
        }

        if (refusal is not null)
        {
            detail["reason"] = refusal;
        }

        await audit.WriteAsync(new AuditEntry
        {
            Kind = AuditKind,
            Actor = responder.Name,
            Door = responder.Door,
            Place = responder.Place,
            Subject = $"inquiry #{Number(inquiry.Id)}",
            Decision = decision,
            Detail = detail,
        }, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Tells the room that was asked who answered, unless the answer was typed there (the reply says it).</summary>
    private async Task TellRoomAsync(InquiryRecord inquiry, InquiryResponder responder, CancellationToken cancellationToken)
    {
        if (inquiry.Platform is not { } platform || inquiry.RoomId is not { } roomId
            // A room asked from is known by its id; one asked through a route by its name (web:ops), which is then its
            // id too. Names alone are not compared otherwise: two rooms of one platform can share a name (a Mattermost
            // channel of the same name in two teams), and the other would not be told.
            || (responder.Room is { } from && from.Platform == platform && (from.RoomId == roomId || (roomId == inquiry.RoomName && from.RoomName == roomId)))
            || services.GetService<IChatReplySender>() is not { } sender)
        {
            return;
        }

        try
        {
            var room = new ChatRoom(roomId, inquiry.RoomName ?? roomId, IsDirect: false);
            var text = AnswerSentence(inquiry) + $" (through {responder.Door})";
            await sender.SendAsync(platform, room, new OutgoingMessage(text) { ThreadId = inquiry.ThreadId }, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
#pragma warning disable CA1031 // The answer is recorded and audited; a chat system that is down must not undo it.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            LogTellFailed(logger, ex, inquiry.Id, platform);
        }
    }

    internal static string Number(long id) => id.ToString(CultureInfo.InvariantCulture);

    [LoggerMessage(EventId = 1300, Level = LogLevel.Information, Message = "Inquiry {InquiryId} {Status} by {Responder}")]
    private static partial void LogAnswered(ILogger logger, long inquiryId, string status, string responder);

    [LoggerMessage(EventId = 1301, Level = LogLevel.Warning, Message = "Inquiry {InquiryId}: could not tell room on {Platform} who answered")]
    private static partial void LogTellFailed(ILogger logger, Exception exception, long inquiryId, string platform);
}
