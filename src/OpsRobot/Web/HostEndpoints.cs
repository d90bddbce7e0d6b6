using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using OpsRobot.Core.Cmdb;
using OpsRobot.Core.Storage;
using OpsRobot.Core.Users;

namespace OpsRobot.Web;

/// <summary>
/// The CMDB over HTTP: <c>GET|POST /api/v1/hosts</c>, <c>GET|PUT|DELETE /api/v1/hosts/{name}</c>,
/// <c>GET /api/v1/hosts/{name}/history</c>, <c>POST /api/v1/hosts/import?dryRun=&amp;format=&amp;prune=</c> (a JSON
/// file as the body; a CSV file as <c>{"content": "…"}</c>, since every state-changing call is JSON) and
/// <c>GET /api/v1/hosts/export?format=</c>. Every answer is limited to the hosts the caller may see
/// (<see cref="CmdbService"/>); a host they may not see is a 404 like one that does not exist.
/// </summary>
internal static class HostEndpoints
{
    /// <summary>The largest import body read.</summary>
    public const int MaxImportBytes = 32 * 1024 * 1024;

    private const int MaxPage = 1000;

    public static IEndpointRouteBuilder MapHostApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/v1/hosts").WithTags("CMDB");
        api.MapGet("/", ListAsync).WithSummary("Hosts you may see, filtered by ?app=&env=&status=&tag=&owner=&name= (name takes * wildcards), paged by ?offset=&limit=.");
        api.MapPost("/", CreateAsync).WithSummary("Create a host: {\"hostname\": …, \"addresses\": [], \"environment\", \"application\", \"tags\": [], \"owner\", \"status\", \"attributes\": {}}.");
        api.MapPost("/import", ImportAsync).WithSummary("Import hosts (?format=csv|json): a JSON file as the body, a CSV file as {\"content\": \"…\"}; ?dryRun=true reports what would change; ?prune=true deletes the hosts you manage that the file leaves out.");
        api.MapGet("/export", ExportAsync).WithSummary("The hosts you may see as a file (?format=csv|json), in the import format.");
        api.MapGet("/{name}", GetAsync).WithSummary("One host.");
        api.MapPut("/{name}", PutAsync).WithSummary("Create or replace a host whole; answers what changed.");
        api.MapDelete("/{name}", DeleteAsync).WithSummary("Delete a host (its history is kept).");
        api.MapGet("/{name}/history", HistoryAsync).WithSummary("Who changed the host, when, and what (newest first).");
        return app;
    }

    private static Task<IResult> ListAsync(
        string? app, string? env, string? status, string? tag, string? owner, string? name, int? offset, int? limit,
        HttpContext http, IUserStore users, CmdbService cmdb, CancellationToken ct) =>
        GuardAsync(http, users, async caller =>
        {
            var tags = string.IsNullOrWhiteSpace(tag) ? null : tag.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            var hosts = await cmdb.QueryAsync(caller.Principal, new HostQuery(name, app, env, tags, status, owner), ct);
            var skip = Math.Max(offset ?? 0, 0);
            var take = Math.Clamp(limit ?? 100, 1, MaxPage);
            return Results.Ok(new JsonObject
            {
                ["total"] = hosts.Count,
                ["offset"] = skip,
                ["hosts"] = new JsonArray([.. hosts.Skip(skip).Take(take).Select(HostFiles.ToJson)]),
            });
        });

    private static Task<IResult> GetAsync(string name, HttpContext http, IUserStore users, CmdbService cmdb, CancellationToken ct) =>
        GuardAsync(http, users, async caller =>
            await cmdb.FindAsync(caller.Principal, name, ct) is { } host ? Results.Ok(HostFiles.ToJson(host)) : NotFound(name));

    private static Task<IResult> CreateAsync(HttpContext http, IUserStore users, CmdbService cmdb, CancellationToken ct) =>
        GuardAsync(http, users, async caller =>
        {
            var (input, problem) = await ReadHostAsync(http, null, ct);
            if (input is null)
            {
                return Results.BadRequest(new ErrorDto(problem!));
            }

            if (await cmdb.FindAsync(caller.Principal, input.Hostname, ct) is not null)
            {
                return Results.Conflict(new ErrorDto($"Host {input.Hostname.Trim().ToLowerInvariant()} exists already; PUT /api/v1/hosts/{{name}} replaces it."));
            }

            var written = await cmdb.SetAsync(caller.Principal, input, ct);
            return Results.Created($"/api/v1/hosts/{written.Host.Hostname}", Changed(written));
        });

    private static Task<IResult> PutAsync(string name, HttpContext http, IUserStore users, CmdbService cmdb, CancellationToken ct) =>
        GuardAsync(http, users, async caller =>
        {
            var (input, problem) = await ReadHostAsync(http, name, ct);
            if (input is null)
            {
                return Results.BadRequest(new ErrorDto(problem!));
            }

            return Results.Ok(Changed(await cmdb.SetAsync(caller.Principal, input, ct)));
        });

    private static Task<IResult> DeleteAsync(string name, HttpContext http, IUserStore users, CmdbService cmdb, CancellationToken ct) =>
        GuardAsync(http, users, async caller =>
            await cmdb.DeleteAsync(caller.Principal, name, ct)
                ? Results.Ok(new JsonObject { ["deleted"] = name.Trim().ToLowerInvariant() })
                : NotFound(name));

    private static Task<IResult> HistoryAsync(string name, HttpContext http, IUserStore users, CmdbService cmdb, CancellationToken ct) =>
        GuardAsync(http, users, async caller =>
        {
            if (await cmdb.HistoryAsync(caller.Principal, name, ct) is not { } history)
            {
                return NotFound(name);
            }

            return Results.Ok(new JsonObject
            {
                ["hostname"] = name.Trim().ToLowerInvariant(),
                ["history"] = new JsonArray([.. history.Select(h => (JsonNode)new JsonObject
                {
                    ["id"] = h.Id,
                    ["at"] = h.At,
                    ["actor"] = h.Actor,
                    ["door"] = h.Door,
                    ["change"] = CmdbService.Wire(h.Kind),
                    ["diff"] = h.Diff.DeepClone(),
                })]),
            });
        });

    private static Task<IResult> ImportAsync(string? format, bool? dryRun, bool? prune, HttpContext http, IUserStore users, CmdbService cmdb, CancellationToken ct) =>
        GuardAsync(http, users, async caller =>
        {
            if (!HostFiles.TryParseFormat(format, out var fileFormat))
            {
                return Results.BadRequest(new ErrorDto($"'{format}' is not an import format: use csv or json."));
            }

            var body = await OpsRobot.Chat.Connected.ChatHttp.ReadCappedAsync(http.Request.Body, MaxImportBytes, ct);
            if (body is null)
            {
                return Results.Json(new ErrorDto(string.Create(CultureInfo.InvariantCulture, $"The file is larger than {MaxImportBytes / (1024 * 1024)} MiB; split it.")),
                    statusCode: StatusCodes.Status413PayloadTooLarge);
            }

            string text;
            try
            {
                text = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(body).TrimStart('\uFEFF');
            }
            catch (DecoderFallbackException)
            {
                return Results.BadRequest(new ErrorDto("The file is not UTF-8 text."));
            }

            if (fileFormat == HostFileFormat.Csv)
            {
                // State-changing API calls are JSON (the CSRF guard), so a CSV file travels as {"content": "…"}.
                if (CsvContent(text) is not { } csv)
                {
                    return Results.BadRequest(new ErrorDto("Send a CSV file as JSON: {\"content\": \"hostname,addresses,…\\n…\"}."));
                }

                text = csv;
            }

            var (hosts, problems) = HostFiles.Read(text, fileFormat, cmdb.Options.MaxImportHosts);
            var report = await cmdb.ImportAsync(caller.Principal, hosts, problems, dryRun ?? false, prune ?? false, ct);
            var json = Report(report);
            if (report.Problems.Count > 0)
            {
                json["error"] = string.Create(CultureInfo.InvariantCulture,
                    $"The import has {report.Problems.Count} problem{(report.Problems.Count == 1 ? string.Empty : "s")}; nothing was changed. First: {report.Problems[0]}");
                return Results.Json(json, statusCode: StatusCodes.Status400BadRequest);
            }

            return Results.Ok(json);
        });

    private static Task<IResult> ExportAsync(string? format, HttpContext http, IUserStore users, CmdbService cmdb, CancellationToken ct) =>
        GuardAsync(http, users, async caller =>
        {
            if (!HostFiles.TryParseFormat(format, out var fileFormat))
            {
                return Results.BadRequest(new ErrorDto($"'{format}' is not an export format: use csv or json."));
            }

            var hosts = await cmdb.QueryAsync(caller.Principal, new HostQuery(), ct);
            return Results.Text(HostFiles.Write(hosts, fileFormat), fileFormat == HostFileFormat.Json ? "application/json" : "text/csv", Encoding.UTF8);
        });

    private static string? CsvContent(string json)
    {
        try
        {
            return JsonNode.Parse(json) is JsonObject { Count: 1 } obj && obj["content"] is JsonValue v && v.GetValueKind() == JsonValueKind.String ? v.GetValue<string>() : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static JsonObject Report(ImportReport report) => new()
    {
        ["dryRun"] = report.DryRun,
        ["applied"] = report.Applied,
        ["created"] = report.Count("create"),
        ["updated"] = report.Count("update"),
        ["unchanged"] = report.Count("unchanged"),
        ["deleted"] = report.Count("delete"),
        ["items"] = new JsonArray([.. report.Items.Select(i => (JsonNode)new JsonObject
        {
            ["hostname"] = i.Hostname,
            ["line"] = i.Line,
            ["action"] = i.Action,
            ["changes"] = i.Changes.DeepClone(),
        })]),
        ["problems"] = new JsonArray([.. report.Problems.Select(p => (JsonNode)new JsonObject { ["line"] = p.Line, ["message"] = p.Message })]),
    };

    private static JsonObject Changed(HostWrite written) => new()
    {
        ["change"] = CmdbService.Wire(written.Change.Kind),
        ["diff"] = written.Change.Diff.DeepClone(),
        ["host"] = HostFiles.ToJson(written.Host),
    };

    private static async Task<(HostRecord? Host, string? Problem)> ReadHostAsync(HttpContext http, string? name, CancellationToken ct)
    {
        var body = await OpsRobot.Chat.Connected.ChatHttp.ReadCappedAsync(http.Request.Body, 256 * 1024, ct);
        if (body is null)
        {
            return (null, "The body is larger than 256 KiB.");
        }

        JsonNode? node;
        try
        {
            node = JsonNode.Parse(body, documentOptions: new JsonDocumentOptions { MaxDepth = 16 });
        }
        catch (JsonException)
        {
            return (null, "The body is not JSON: send a host object, {\"hostname\": \"web01\", \"addresses\": [\"10.0.0.1\"], …}.");
        }

        var (host, problems) = HostFiles.FromJson(node, name);
        return host is null ? (null, Capitalize(string.Join("; ", problems)) + ".") : (host, null);
    }

    private static IResult NotFound(string name) =>
        Results.NotFound(new ErrorDto($"There is no host {(name.Length > 80 ? name[..80] + "…" : name)} (or none you may see)."));

    private static async Task<IResult> GuardAsync(HttpContext http, IUserStore users, Func<ApiCaller, Task<IResult>> work)
    {
        if (await ApiCallers.IdentifyAsync(http, users, http.RequestAborted) is not { } caller)
        {
            return ApiCallers.Refused();
        }

        try
        {
            return await work(caller);
        }
        catch (CmdbException ex)
        {
            var status = ex.Kind switch
            {
                CmdbErrorKind.NotFound => StatusCodes.Status404NotFound,
                CmdbErrorKind.Invalid => StatusCodes.Status400BadRequest,
                CmdbErrorKind.Forbidden => StatusCodes.Status403Forbidden,
                CmdbErrorKind.ReadOnly => StatusCodes.Status409Conflict,
                _ => StatusCodes.Status503ServiceUnavailable,
            };
            return Results.Json(new ErrorDto(ex.Message), statusCode: status);
        }
        catch (StoreUnavailableException ex)
        {
            return Results.Json(new ErrorDto(ex.Message), statusCode: StatusCodes.Status503ServiceUnavailable);
        }
    }

    private static string Capitalize(string text) => text.Length == 0 ? text : char.ToUpperInvariant(text[0]) + text[1..];
}
