using OpsRobot.Core.Access;
using OpsRobot.Core.Audit;
using OpsRobot.Core.Commands;
using OpsRobot.Core.Packs;
using OpsRobot.Core.Users;
using OpsRobot.Hosting;

namespace OpsRobot.Web;

/// <summary>The actions, aliases and packs API. See docs/api.md.</summary>
internal static class CatalogEndpoints
{
    public static IEndpointRouteBuilder MapCatalogApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/v1").WithTags("Packs");
        api.MapGet("/actions", async (HttpContext http, IUserStore users, PackCatalog packs, CancellationToken ct) =>
            await ApiCallers.IdentifyAsync(http, users, ct) is not { } caller
                ? ApiCallers.Refused()
                : Results.Ok(packs.Current.Actions.Values.Where(a => MaySee(caller, a)).OrderBy(a => a.Ref, StringComparer.Ordinal).Select(ActionDto.From)))
            .WithSummary("The actions of the loaded packs that the caller may see.");

        api.MapGet("/actions/{actionRef}", async (string actionRef, HttpContext http, IUserStore users, PackCatalog packs, CancellationToken ct) =>
        {
            if (await ApiCallers.IdentifyAsync(http, users, ct) is not { } caller)
            {
                return ApiCallers.Refused();
            }

            if (packs.Current.FindAction(actionRef) is { } action && MaySee(caller, action))
            {
                return Results.Ok(ActionDto.From(action));
            }

            var close = packs.Current.Actions.Values.Where(a => MaySee(caller, a)).Select(a => a.Ref)
                .Where(k => k.StartsWith(actionRef.Split('.')[0], StringComparison.Ordinal)).Take(5).ToList();
            return Results.NotFound(new { error = $"There is no action {actionRef}.", suggestions = close });
        }).WithSummary("One action with its parameters.");

        api.MapGet("/aliases", async (HttpContext http, IUserStore users, PackCatalog packs, CancellationToken ct) =>
            await ApiCallers.IdentifyAsync(http, users, ct) is not { } caller
                ? ApiCallers.Refused()
                : Results.Ok(packs.Current.Aliases.Where(a => AliasDispatcher.MaySee(caller.Principal, a, packs.Current.FindAction(a.ActionRef))).Select(AliasDto.From)))
            .WithSummary("The aliases (chat commands) of the loaded packs that the caller may see.");

        api.MapPost("/aliases/match", async (MatchRequest? request, HttpContext http, IUserStore users, Robot robot, CancellationToken ct) =>
        {
            if (await ApiCallers.IdentifyAsync(http, users, ct) is not { } caller)
            {
                return ApiCallers.Refused();
            }

            if (request?.Text is not { Length: > 0 } text || robot.Aliases is null)
            {
                return Results.BadRequest(new ErrorDto("Give the chat line: {\"text\": \"deploy booking to prod\"}."));
            }

            var line = Core.Commands.CommandAddressing.TryGetCommand(text, isDirect: true, robot.Options) ?? text;
            var aliases = robot.Aliases;
            var lookup = aliases.Index.Match(line, a => AliasDispatcher.MaySee(caller.Principal, a, aliases.FindAction(a)));
            if (lookup.Best is { } best)
            {
                return Results.Ok(new { alias = best.Alias.Ref, action = best.Alias.ActionRef, format = best.Format.Source, parameters = lookup.Parameters });
            }

            if (lookup.Ambiguous.Count > 0)
            {
                return Results.Conflict(new { error = "The line matches more than one alias equally well.", choices = lookup.Ambiguous.Select(c => new { alias = c.Alias.Ref, format = c.Entry.Display }) });
            }

            return Results.NotFound(new
            {
                error = "No alias matches that line.",
                suggestions = aliases.Index.Suggest(line).Where(c => AliasDispatcher.MaySee(caller.Principal, c.Alias, aliases.FindAction(c.Alias))).Select(c => c.Entry.Display),
            });
        }).WithSummary("Which alias a chat line would run, and with what parameters.");

        api.MapPost("/packs/reload", async (HttpContext http, IUserStore users, PackCatalog packs, AccessService access, OpsRobotPaths paths, CancellationToken ct) =>
        {
            if (await ApiCallers.IdentifyAsync(http, users, ct) is not { } caller)
            {
                return ApiCallers.Refused();
            }

            var decision = await access.AuthorizeAsync(caller.Principal, Permissions.PackReload, "*", ct);
            if (!decision.Allowed)
            {
                await access.AuditChangeAsync(caller.Principal, AuditKinds.Decision, "reload packs", new System.Text.Json.Nodes.JsonObject { ["decision"] = "deny", ["rule"] = decision.Rule }, ct);
                return ApiCallers.Forbidden(decision.Explanation!);
            }

            var result = packs.Load(paths.PacksDir);
            RoleFileLoader.Reload(access, paths, http.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger("OpsRobot.Roles"));
            await access.AuditChangeAsync(caller.Principal, AuditKinds.PacksChanged, "reload packs", new System.Text.Json.Nodes.JsonObject
            {
                ["packs"] = new System.Text.Json.Nodes.JsonArray([.. result.Packs.Select(p => (System.Text.Json.Nodes.JsonNode?)System.Text.Json.Nodes.JsonValue.Create($"{p.Name} {p.Version}"))]),
                ["errors"] = result.Errors.Count,
            }, ct);
            return Results.Ok(new
            {
                packs = result.Packs.Select(p => new { p.Name, p.Version, actions = result.Actions.Values.Count(a => a.Pack == p.Name), aliases = result.Aliases.Count(a => a.Pack == p.Name) }),
                errors = result.Errors.Select(e => e.ToString()),
                keptPrevious = result.KeptPrevious,
            });
        }).WithSummary("Reload the packs from disk; a pack that fails keeps its previous version.");
        return app;
    }

    private static bool MaySee(ApiCaller caller, Core.Actions.ActionDefinition action) => AccessService.MaySeeAction(caller.Principal, action);
}
