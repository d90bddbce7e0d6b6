using System.Text.Json.Nodes;
using OpsRobot.Core.Events;
using OpsRobot.Core.Packs;
using OpsRobot.Core.Rules;
using OpsRobot.Core.Users;

namespace OpsRobot.Web;

internal sealed record EventDto(long Id, string Trigger, JsonObject Payload, string Source, DateTimeOffset ReceivedAt, string Status, DateTimeOffset? ProcessedAt, string? Damage)
{
    public static EventDto From(EventRecord e) => new(e.Id, e.TriggerType, e.Payload, e.Source, e.ReceivedAt, e.Status == EventStatus.Pending ? "pending" : "processed", e.ProcessedAt, e.Damage);
}

internal sealed record EnforcementDto(
    long Id, string Rule, long EventId, string Trigger, string Action, string Status, JsonObject? Parameters, long? ExecutionId, string? Error, DateTimeOffset CreatedAt)
{
    public static EnforcementDto From(EnforcementRecord e) => new(
        e.Id, e.RuleRef, e.EventId, e.TriggerType, e.ActionRef, e.Status.ToString().ToLowerInvariant(), e.Parameters, e.ExecutionId, e.Error, e.CreatedAt);
}

internal sealed record RuleDto(string Ref, string Pack, string Name, string Description, bool Enabled, string Trigger, JsonObject TriggerParameters, string Action, string Identity)
{
    public static RuleDto From(RuleDefinition r) => new(r.Ref, r.Pack, r.Name, r.Description, r.Enabled, r.TriggerType, r.TriggerParameters, r.ActionRef, r.Identity);
}

/// <summary>Read-only views of events, rules and enforcements: what happened, and what the rules did about it.</summary>
internal static class EventEndpoints
{
    public static IEndpointRouteBuilder MapEventApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/api/v1/events", ListEventsAsync).WithTags("Events").WithSummary("Events (trigger instances), newest first.");
        app.MapGet("/api/v1/events/{id:long}", GetEventAsync).WithTags("Events").WithSummary("One event and the enforcements it caused.");
        app.MapGet("/api/v1/rules", ListRulesAsync).WithTags("Events").WithSummary("The loaded rules.");
        app.MapGet("/api/v1/enforcements", ListEnforcementsAsync).WithTags("Events").WithSummary("Rule enforcements, newest first.");
        return app;
    }

    private static async Task<IResult> ListEventsAsync(string? trigger, string? status, long? before, int? limit, HttpContext http, IUserStore users, IEventStore store, CancellationToken ct)
    {
        if (await ApiCallers.IdentifyAsync(http, users, ct) is null)
        {
            return ApiCallers.Refused();
        }

        EventStatus? wanted = status switch
        {
            null => null,
            "pending" => EventStatus.Pending,
            "processed" => EventStatus.Processed,
            _ => (EventStatus)(-1),
        };
        if (wanted is (EventStatus)(-1))
        {
            return Results.BadRequest(new ErrorDto("status is pending or processed."));
        }

        var list = await store.ListAsync(new EventQuery { TriggerType = trigger, Status = wanted, BeforeId = before, Limit = limit ?? 50 }, ct);
        return Results.Ok(new { events = list.Select(EventDto.From) });
    }

    private static async Task<IResult> GetEventAsync(long id, HttpContext http, IUserStore users, IEventStore store, CancellationToken ct)
    {
        if (await ApiCallers.IdentifyAsync(http, users, ct) is null)
        {
            return ApiCallers.Refused();
        }

        if (await store.GetAsync(id, ct) is not { } e)
        {
            return Results.NotFound(new ErrorDto($"There is no event {id}."));
        }

        var enforcements = await store.ListEnforcementsAsync(new EnforcementQuery { EventId = id, Limit = 1000 }, ct);
        return Results.Ok(new { @event = EventDto.From(e), enforcements = enforcements.Select(EnforcementDto.From) });
    }

    private static async Task<IResult> ListRulesAsync(HttpContext http, IUserStore users, PackCatalog packs, CancellationToken ct) =>
        await ApiCallers.IdentifyAsync(http, users, ct) is null
            ? ApiCallers.Refused()
            : Results.Ok(new { rules = packs.Current.Rules.Select(RuleDto.From) });

    private static async Task<IResult> ListEnforcementsAsync(string? rule, long? @event, long? before, int? limit, HttpContext http, IUserStore users, IEventStore store, CancellationToken ct)
    {
        if (await ApiCallers.IdentifyAsync(http, users, ct) is null)
        {
            return ApiCallers.Refused();
        }

        var list = await store.ListEnforcementsAsync(new EnforcementQuery { RuleRef = rule, EventId = @event, BeforeId = before, Limit = limit ?? 50 }, ct);
        return Results.Ok(new { enforcements = list.Select(EnforcementDto.From) });
    }
}
