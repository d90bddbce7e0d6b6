using System.Globalization;
using System.Text.Json.Nodes;
using OpsRobot.Core.Executions;
using OpsRobot.Core.Inquiries;
using OpsRobot.Core.Users;

namespace OpsRobot.Web;

/// <summary>
/// The inquiry API (StackStorm's <c>/api/v1/inquiries</c>): list the questions workflows asked, read one, answer one
/// with <c>{"response": {...}}</c>. A caller sees an inquiry they may answer, or whose workflow they may see; answers
/// go through <see cref="InquiryService"/> (who may, the schema, the audit), as the chat commands do. See docs/workflows.md.
/// </summary>
internal static class InquiryEndpoints
{
    /// <summary>The body of <c>PUT /api/v1/inquiries/{id}</c>.</summary>
    internal sealed record RespondRequest(JsonObject? Response);

    public static IEndpointRouteBuilder MapInquiryApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/v1/inquiries").WithTags("Inquiries");
        api.MapGet("/", ListAsync).WithSummary("The inquiries you may answer or see, newest first; ?status=pending|responded|denied|expired|canceled, ?limit=N (at most 1000).");
        api.MapGet("/{id:long}", GetAsync).WithSummary("One inquiry: its question, schema, who may answer, room, expiry, status and response.");
        api.MapPut("/{id:long}", RespondAsync).WithSummary("Answer an inquiry: {\"response\": {...}} checked against its schema; {\"response\": {\"approved\": false}} denies an approve/deny inquiry.");
        return app;
    }

    private static async Task<IResult> ListAsync(
        HttpContext http, IUserStore users, InquiryService inquiries, ExecutionService executions, TimeProvider time, string? status, int? limit, CancellationToken ct)
    {
        if (await ApiCallers.IdentifyAsync(http, users, ct) is not { } caller)
        {
            return ApiCallers.Refused();
        }

        if (status is not null && !InquiryStatuses.All.Contains(status, StringComparer.Ordinal))
        {
            return Results.BadRequest(new ErrorDto($"status must be one of {string.Join(", ", InquiryStatuses.All)}."));
        }

        if (limit is < 1 or > 1000)
        {
            return Results.BadRequest(new ErrorDto("limit must be between 1 and 1000."));
        }

        var found = await inquiries.ListAsync(new InquiryQuery { Status = status, Limit = limit ?? 50 }, ct);
        // The executions of the rows the caller is not named on, read together for the page.
        var named = found.Where(i => InquiryService.Refusal(i, caller.Principal) is null).Select(i => i.Id).ToHashSet();
        var workflows = (await executions.GetManyAsync([.. found.Where(i => !named.Contains(i.Id)).Select(WorkflowOf)], ct)).ToDictionary(e => e.Id);
        var visible = new JsonArray();
        foreach (var inquiry in found.Where(i => named.Contains(i.Id) || MaySee(caller, workflows.GetValueOrDefault(WorkflowOf(i)))))
        {
            visible.Add(ToJson(inquiry, caller, time));
        }

        return Results.Json(new JsonObject { ["inquiries"] = visible });
    }

    private static async Task<IResult> GetAsync(long id, HttpContext http, IUserStore users, InquiryService inquiries, ExecutionService executions, TimeProvider time, CancellationToken ct)
    {
        if (await ApiCallers.IdentifyAsync(http, users, ct) is not { } caller)
        {
            return ApiCallers.Refused();
        }

        return await inquiries.GetAsync(id, ct) is { } inquiry && await MaySeeAsync(caller, inquiry, executions, ct)
            ? Results.Json(ToJson(inquiry, caller, time))
            : Results.NotFound(new ErrorDto($"There is no inquiry {id.ToString(CultureInfo.InvariantCulture)}."));
    }

    private static async Task<IResult> RespondAsync(
        long id, RespondRequest? request, HttpContext http, IUserStore users, InquiryService inquiries, ExecutionService executions, TimeProvider time, CancellationToken ct)
    {
        if (await ApiCallers.IdentifyAsync(http, users, ct) is not { } caller)
        {
            return ApiCallers.Refused();
        }

        if (request?.Response is not { } response)
        {
            return Results.BadRequest(new ErrorDto("The body must be {\"response\": {...}}: the fields the inquiry asks for, e.g. {\"response\": {\"approved\": true}}."));
        }

        var number = id.ToString(CultureInfo.InvariantCulture);
        if (await inquiries.GetAsync(id, ct) is not { } inquiry || !await MaySeeAsync(caller, inquiry, executions, ct))
        {
            return Results.NotFound(new ErrorDto($"There is no inquiry {number}."));
        }

        var responder = new InquiryResponder(
            caller.Principal, caller.UserName, caller.Principal.Door == Core.Access.Doors.Cli ? Core.Access.Doors.Cli : Core.Access.Doors.Api, caller.Address);
        try
        {
            var answered = await inquiries.RespondAsync(id, responder, response, ct);
            return Results.Json(ToJson(answered, caller, time));
        }
        catch (InquiryException ex) when (ex.NotFound)
        {
            return Results.NotFound(new ErrorDto(ex.Message));
        }
        catch (InquiryException ex) when (ex.Forbidden)
        {
            return ApiCallers.Forbidden(ex.Message);
        }
        catch (InquiryException ex) when (ex.Closed)
        {
            return Results.Conflict(new ErrorDto(ex.Message));
        }
        catch (InquiryException ex)
        {
            return Results.BadRequest(new ErrorDto(ex.Message));
        }
    }

    /// <summary>Someone the inquiry names, or who may see its workflow (or its ask, when it is not a workflow's).</summary>
    private static async Task<bool> MaySeeAsync(ApiCaller caller, InquiryRecord inquiry, ExecutionService executions, CancellationToken ct) =>
        InquiryService.Refusal(inquiry, caller.Principal) is null || MaySee(caller, await executions.GetAsync(WorkflowOf(inquiry), ct));

    /// <summary>Whether the caller may see the inquiry's workflow (<see cref="WorkflowOf"/>), which decides for one the inquiry does not name.</summary>
    private static bool MaySee(ApiCaller caller, ExecutionRecord? workflow) =>
        workflow is not null && Core.Access.AccessService.MayActOnExecution(caller.Principal, workflow, Core.Access.Permissions.ExecutionView);

    /// <summary>The execution whose visibility an inquiry follows: its workflow's, or its ask's when it is not a workflow's.</summary>
    private static long WorkflowOf(InquiryRecord inquiry) => inquiry.ParentId ?? inquiry.ExecutionId;

    private static JsonObject ToJson(InquiryRecord inquiry, ApiCaller caller, TimeProvider time)
    {
        var json = new JsonObject
        {
            ["id"] = inquiry.Id,
            ["status"] = inquiry.Status,
            ["question"] = inquiry.Question,
            ["kind"] = inquiry.IsApproval ? "approval" : "values",
            ["schema"] = inquiry.Schema.ToJson(),
            ["users"] = new JsonArray([.. inquiry.Users.Select(u => (JsonNode?)u)]),
            ["roles"] = new JsonArray([.. inquiry.Roles.Select(r => (JsonNode?)r)]),
            ["execution"] = inquiry.ExecutionId,
            ["workflow"] = inquiry.ParentId,
            ["route"] = inquiry.Platform is null ? null : $"{inquiry.Platform}:{inquiry.RoomName ?? inquiry.RoomId}",
            ["createdAt"] = inquiry.CreatedAt,
            ["expiresAt"] = inquiry.ExpiresAt,
            ["expired"] = inquiry.Status == InquiryStatuses.Pending && time.GetUtcNow() >= inquiry.ExpiresAt,
            ["mayRespond"] = inquiry.Status == InquiryStatuses.Pending && InquiryService.Refusal(inquiry, caller.Principal) is null,
            ["response"] = inquiry.Response?.DeepClone(),
            ["respondedBy"] = inquiry.RespondedBy,
            ["respondedAt"] = inquiry.RespondedAt,
        };
        return json;
    }
}
