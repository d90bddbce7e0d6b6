using System.Text.Json.Nodes;
using OpsRobot.Core.Actions;
using OpsRobot.Core.Executions;
using OpsRobot.Core.Packs;

namespace OpsRobot.Web;

internal sealed record ParameterDto(
    string Name, string Type, string Description, bool Required, JsonNode? Default, IReadOnlyList<JsonNode?>? Enum, bool Secret, int? Position, bool Immutable)
{
    public static ParameterDto From(ParameterDefinition p) => new(
        p.Name, p.Type.ToString().ToLowerInvariant(), p.Description, p.Required,
        p.Secret && p.Default is not null ? JsonValue.Create(SecretMask.Mask) : p.Default?.DeepClone(),
        p.Enum?.Select(e => e?.DeepClone()).ToList(), p.Secret, p.Position, p.Immutable);
}

internal sealed record ActionDto(
    string Ref, string Pack, string Name, string Description, string RunnerType, bool Enabled, double TimeoutSeconds, IReadOnlyList<ParameterDto> Parameters)
{
    public static ActionDto From(ActionDefinition a) => new(
        a.Ref, a.Pack, a.Name, a.Description, a.RunnerType, a.Enabled, a.Timeout.TotalSeconds, [.. a.Parameters.Select(ParameterDto.From)]);
}

internal sealed record AliasFormatDto(string Display, IReadOnlyList<string> Representations);

internal sealed record AliasDto(string Ref, string Pack, string Name, string ActionRef, string Description, bool Enabled, IReadOnlyList<AliasFormatDto> Formats)
{
    public static AliasDto From(AliasDefinition a) => new(
        a.Ref, a.Pack, a.Name, a.ActionRef, a.Description, a.Enabled, [.. a.Formats.Select(f => new AliasFormatDto(f.Display, f.Representations))]);
}

internal sealed record ExecutionDto(
    long Id,
    string Action,
    string RunnerType,
    string Status,
    JsonObject Parameters,
    JsonNode? Result,
    int? ExitCode,
    string? Error,
    RequesterDto Requester,
    DateTimeOffset CreatedAt,
    DateTimeOffset? StartedAt,
    DateTimeOffset? EndedAt,
    double? ElapsedSeconds,
    long? ParentId,
    long? RetryOf,
    int Attempt,
    string? Workflow = null,
    string? Damage = null)
{
    public static ExecutionDto From(ExecutionRecord e, TimeProvider time) => new(
        e.Id, e.ActionRef, e.RunnerType, e.Status.ToWire(), e.Parameters, e.Result, e.ExitCode, e.Error, RequesterDto.From(e.Requester),
        e.CreatedAt, e.StartedAt, e.EndedAt,
        e.StartedAt is { } s ? Math.Round(((e.EndedAt ?? time.GetUtcNow()) - s).TotalSeconds, 3) : null,
        e.ParentId, e.RetryOf, e.Attempt,
        // The task graph of a workflow execution, for the console to draw (docs/workflows.md).
        e.RunnerType is "workflow" or "orquesta" ? $"/api/v1/executions/{e.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)}/workflow" : null,
        e.Damage);
}

/// <summary>Who asked for an execution, with the door as a word (<c>chat</c>, <c>api</c>, <c>cli</c>, …).</summary>
internal sealed record RequesterDto(string Door, string UserName, string? Platform, string? RoomId, string? RoomName, string? ThreadId, string? AliasRef, string? Address)
{
    public static RequesterDto From(ExecutionRequester r) =>
        new(r.Door.ToString().ToLowerInvariant(), r.UserName, r.Platform, r.RoomId, r.RoomName, r.ThreadId, r.AliasRef, r.Address);
}

internal sealed record ExecutionPageDto(IReadOnlyList<ExecutionDto> Executions, long? NextBefore);

/// <param name="Action">The action's ref.</param>
/// <param name="Parameters">Its parameters.</param>
/// <param name="Sudo">True to run a sudo action under the caller's open elevation (confirmed in chat or the web console).</param>
internal sealed record CreateExecutionRequest(string? Action, JsonObject? Parameters, bool Sudo = false);

internal sealed record MatchRequest(string? Text);

internal sealed record OutputChunkDto(long Seq, string Kind, string Text);
