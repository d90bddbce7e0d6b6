using OpsRobot.Core.Datastore;
using OpsRobot.Core.Storage;
using OpsRobot.Core.Users;

namespace OpsRobot.Web;

internal sealed record KeyValueDto(string Scope, string? User, string Name, string Value, bool Secret, DateTimeOffset? ExpiresAt, DateTimeOffset UpdatedAt, string UpdatedBy)
{
    public static KeyValueDto From(KeyValueEntry e) => new(
        DatastoreService.Wire(e.Scope), e.Scope == KeyValueScope.User ? e.Owner : null, e.Name, e.Value, e.Secret, e.ExpiresAt, e.UpdatedAt, e.UpdatedBy);
}

internal sealed record KeyValuesDto(IReadOnlyList<KeyValueDto> Keys);

/// <summary>The body of <c>PUT /api/v1/kv/{scope}/{name}</c>.</summary>
internal sealed record SetKeyValueRequest(string? Value, bool Secret, long? TtlSeconds);

/// <summary>
/// The datastore over HTTP: <c>GET /api/v1/kv/{scope}</c> (list, <c>?prefix=</c>), <c>GET|PUT|DELETE
/// /api/v1/kv/{scope}/{name}</c>, scope <c>system</c> or <c>user</c> (the caller's own keys). Secrets come back masked.
/// Who may do what is the <see cref="IDatastoreAccessPolicy"/>'s call.
/// </summary>
internal static class KeyValueEndpoints
{
    public static IEndpointRouteBuilder MapKeyValueApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/v1/kv").WithTags("Datastore");
        api.MapGet("/{scope}", ListAsync).WithSummary("List keys of a scope (system, or user: your own), by name; secrets masked.");
        api.MapGet("/{scope}/{name}", GetAsync).WithSummary("One key; a secret's value is masked.");
        api.MapPut("/{scope}/{name}", SetAsync).WithSummary("Create or replace a key: {\"value\": \"…\", \"secret\": false, \"ttlSeconds\": null}.");
        api.MapDelete("/{scope}/{name}", DeleteAsync).WithSummary("Delete a key.");
        return app;
    }

    private static Task<IResult> ListAsync(string scope, string? prefix, HttpContext http, IUserStore users, DatastoreService kv, IDatastoreAccessPolicy access, CancellationToken ct) =>
        GuardAsync(scope, null, DatastoreOperation.Read, http, users, access, async (s, owner, _) =>
            Results.Ok(new KeyValuesDto([.. (await kv.ListAsync(s, owner, prefix, ct)).Select(KeyValueDto.From)])), ct);

    private static Task<IResult> GetAsync(string scope, string name, HttpContext http, IUserStore users, DatastoreService kv, IDatastoreAccessPolicy access, CancellationToken ct) =>
        GuardAsync(scope, name, DatastoreOperation.Read, http, users, access, async (s, owner, _) =>
            await kv.GetAsync(s, owner, name, ct) is { } entry
                ? Results.Ok(KeyValueDto.From(entry))
                : Results.NotFound(new ErrorDto($"There is no key {scope}.{name}.")), ct);

    private static Task<IResult> SetAsync(
        string scope, string name, SetKeyValueRequest? request, HttpContext http, IUserStore users, DatastoreService kv, IDatastoreAccessPolicy access, CancellationToken ct) =>
        GuardAsync(scope, name, DatastoreOperation.Write, http, users, access, async (s, owner, caller) =>
        {
            if (request?.Value is null)
            {
                return Results.BadRequest(new ErrorDto("Give the value: {\"value\": \"…\", \"secret\": false, \"ttlSeconds\": 3600}."));
            }

            var ttl = request.TtlSeconds is { } seconds ? TimeSpan.FromSeconds(Math.Clamp(seconds, -1, 315_360_000)) : (TimeSpan?)null;
            return Results.Ok(KeyValueDto.From(await kv.SetAsync(s, owner, name, request.Value, request.Secret, ttl, caller, ct)));
        }, ct);

    private static Task<IResult> DeleteAsync(string scope, string name, HttpContext http, IUserStore users, DatastoreService kv, IDatastoreAccessPolicy access, CancellationToken ct) =>
        GuardAsync(scope, name, DatastoreOperation.Write, http, users, access, async (s, owner, caller) =>
            await kv.DeleteAsync(s, owner, name, caller, ct)
                ? Results.Ok(new { deleted = $"{scope}.{name}" })
                : Results.NotFound(new ErrorDto($"There is no key {scope}.{name}.")), ct);

    /// <summary>Identifies the caller, reads the scope, asks the policy, and turns the datastore's refusals into 400s.</summary>
    private static async Task<IResult> GuardAsync(
        string scope, string? name, DatastoreOperation operation, HttpContext http, IUserStore users, IDatastoreAccessPolicy access,
        Func<KeyValueScope, string, string, Task<IResult>> work, CancellationToken ct)
    {
        if (await ApiCallers.IdentifyAsync(http, users, ct) is not { } caller)
        {
            return ApiCallers.Refused();
        }

        if (!DatastoreService.TryParseScope(scope, out var s))
        {
            return Results.NotFound(new ErrorDto($"'{scope}' is not a datastore scope: use system or user."));
        }

        if (name is not null && !DatastoreService.IsValidName(name))
        {
            return Results.BadRequest(new ErrorDto("A key name is letters, digits, '_', '.', ':' and '-' (at most 200), starting with a letter, digit or '_'."));
        }

        var owner = s == KeyValueScope.User ? caller.UserName : string.Empty;
        if (await access.CheckAsync(caller.UserName, DatastoreDoor.Api, operation, s, owner, ct) is { } refusal)
        {
            return Results.Json(new ErrorDto(refusal), statusCode: StatusCodes.Status403Forbidden);
        }

        // An API key's scope narrows this too, own keys included.
        var permission = operation == DatastoreOperation.Read ? Core.Access.Permissions.DatastoreView : Core.Access.Permissions.DatastoreSet;
        if (caller.Principal.KeyScope is not null
            && !(await http.RequestServices.GetRequiredService<Core.Access.AccessService>().CheckAsync(caller.Principal, permission, "*", ct)).Allowed)
        {
            return Results.Json(new ErrorDto($"This API key's scope does not include `{permission}`."), statusCode: StatusCodes.Status403Forbidden);
        }

        try
        {
            return await work(s, owner, caller.UserName);
        }
        catch (DatastoreException ex)
        {
            return Results.BadRequest(new ErrorDto(ex.Message));
        }
        catch (StoreUnavailableException ex)
        {
            return Results.Json(new ErrorDto(ex.Message), statusCode: StatusCodes.Status503ServiceUnavailable);
        }
    }
}
