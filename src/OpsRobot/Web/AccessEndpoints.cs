using System.Globalization;
using System.Text.Json.Nodes;
using OpsRobot.Core.Access;
using OpsRobot.Core.Audit;
using OpsRobot.Core.Chat;
using OpsRobot.Core.Commands;
using OpsRobot.Core.Users;

namespace OpsRobot.Web;

/// <summary>
/// Access control's API: tokens for the CLI, the signed-in user's own access (link codes, sudo confirmations), the
/// audit trail, and the management of roles, users' roles, identities, the application tree and API keys. Every
/// call is authenticated, authorized like the same change made in chat, and audited. See docs/access.md.
/// </summary>
internal static class AccessEndpoints
{
    public static IEndpointRouteBuilder MapAccessApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/v1").WithTags("Access");
        api.MapPost("/auth/token", TokenAsync).AllowAnonymous().WithSummary("Sign in with a password and get a bearer token for the CLI (opsrobot login).");

        api.MapGet("/me/access", MyAccessAsync).WithSummary("Who you are: roles, whitelist, linked chat identities, open elevation.");
        api.MapPost("/me/link-code", LinkCodeAsync).WithSummary("A one-time code to link a chat identity: say `link CODE` to the robot there. Web console sessions only.");
        api.MapGet("/me/elevations", PendingElevationsAsync).WithSummary("Sudo requests waiting for your confirmation.");
        api.MapPost("/me/elevations/{id:long}/confirm", ConfirmElevationAsync).WithSummary("Confirm a sudo request: opens the elevation and runs the command in its room. Web console sessions only.");

        api.MapGet("/audit", AuditAsync).WithTags("Audit").WithSummary("Audit records, newest first, with filters.");

        api.MapGet("/roles", async (HttpContext http, IUserStore users, AccessService access, CancellationToken ct) =>
            await WithCallerAsync(http, users, Permissions.RoleView, "*", async _ => Results.Ok((await access.RolesAsync(ct)).Select(RoleDto.From)), ct))
            .WithSummary("Every role: built-in, from files, and from the store.");
        api.MapPut("/roles/{name}", SaveRoleAsync).WithSummary("Create or replace a role kept in the store.");
        api.MapDelete("/roles/{name}", async (string name, HttpContext http, IUserStore users, AccessService access, CancellationToken ct) =>
            await ChangeAsync(http, users, async p => await access.DeleteRoleAsync(p, name, ct) ? Results.NoContent() : Results.NotFound(new ErrorDto($"There is no role {name} in the store.")), ct));

        api.MapGet("/users", ListUsersAsync).WithSummary("Users with their roles and linked identities.");
        api.MapPost("/users/{name}/roles", async (string name, RoleAssignmentRequest? body, HttpContext http, IUserStore users, AccessService access, CancellationToken ct) =>
            await ChangeAsync(http, users, async p =>
            {
                await access.AssignRoleAsync(p, name, body?.Role ?? string.Empty, ct);
                return Results.NoContent();
            }, ct)).WithSummary("Give a user a role.");
        api.MapDelete("/users/{name}/roles/{role}", async (string name, string role, HttpContext http, IUserStore users, AccessService access, CancellationToken ct) =>
            await ChangeAsync(http, users, async p => await access.UnassignRoleAsync(p, name, role, ct) ? Results.NoContent() : Results.NotFound(new ErrorDto($"{name} does not have the role {role} in the store.")), ct))
            .WithSummary("Take a role back.");
        api.MapPut("/users/{name}/administrator", async (string name, AdministratorRequest? body, HttpContext http, IUserStore users, AccessService access, CancellationToken ct) =>
            await ChangeAsync(http, users, async p =>
            {
                await access.SetAdministratorAsync(p, name, body?.Administrator ?? false, ct);
                return Results.NoContent();
            }, ct)).WithSummary("Put a user on the administrators' whitelist, or take them off.");

        api.MapPost("/identities", async (IdentityRequest? body, HttpContext http, IUserStore users, AccessService access, CancellationToken ct) =>
            await ChangeAsync(http, users, async p =>
            {
                await access.LinkIdentityAsync(p, body?.Platform ?? string.Empty, body?.PlatformUserId ?? string.Empty, body?.User ?? string.Empty, body?.DisplayName ?? string.Empty, ct);
                return Results.NoContent();
            }, ct)).WithSummary("Link a chat identity (platform and the platform's immutable user id) to a user.");
        api.MapDelete("/identities/{platform}/{platformUserId}", async (string platform, string platformUserId, HttpContext http, IUserStore users, AccessService access, CancellationToken ct) =>
            await ChangeAsync(http, users, async p => await access.UnlinkIdentityAsync(p, platform, platformUserId, ct) ? Results.NoContent() : Results.NotFound(new ErrorDto("That identity is not linked.")), ct));

        api.MapGet("/tree", TreeAsync).WithSummary("The application tree with owners and members.");
        api.MapPost("/tree/nodes", async (TreeNodeRequest? body, HttpContext http, IUserStore users, AccessService access, CancellationToken ct) =>
            await ChangeAsync(http, users, async p =>
            {
                await access.AddNodeAsync(p, body?.Path ?? string.Empty, body?.Description ?? string.Empty, ct);
                return Results.NoContent();
            }, ct)).WithSummary("Add a node; its parent must exist.");
        api.MapDelete("/tree/nodes/{**path}", async (string path, HttpContext http, IUserStore users, AccessService access, CancellationToken ct) =>
            await ChangeAsync(http, users, async p => await access.RemoveNodeAsync(p, path, ct) > 0 ? Results.NoContent() : Results.NotFound(new ErrorDto($"There is no node {path}.")), ct))
            .WithSummary("Remove a node and everything below it.");
        api.MapPut("/tree/members", async (TreeMemberRequest? body, HttpContext http, IUserStore users, AccessService access, CancellationToken ct) =>
            await ChangeAsync(http, users, async p =>
            {
                var kind = string.Equals(body?.Kind, "owner", StringComparison.OrdinalIgnoreCase) ? TreeMemberKind.Owner : TreeMemberKind.Member;
                await access.SetMemberAsync(p, body?.Path ?? string.Empty, body?.User ?? string.Empty, kind, ct);
                return Results.NoContent();
            }, ct)).WithSummary("Make a user an owner or member of a node (and so of everything below it).");
        api.MapDelete("/tree/members", async (string path, string user, HttpContext http, IUserStore users, AccessService access, CancellationToken ct) =>
            await ChangeAsync(http, users, async p => await access.RemoveMemberAsync(p, path, user, ct) ? Results.NoContent() : Results.NotFound(new ErrorDto($"{user} has no place of their own at {path}.")), ct));
        api.MapPost("/tree/import", ImportTreeAsync).WithSummary("Import nodes, owners and members from a document; ?dryRun=true shows what would change.");

        api.MapGet("/apikeys", async (string? user, HttpContext http, IUserStore users, AccessService access, CancellationToken ct) =>
            await ChangeAsync(http, users, async p => Results.Ok(await KeyDtosAsync(await access.ListApiKeysAsync(p, user, ct), users, ct)), ct))
            .WithSummary("API keys (yours, or everyone's with apikey.view). Secrets are never shown again.");
        api.MapPost("/apikeys", CreateKeyAsync).WithSummary("Make an API key; its secret is in this answer and nowhere else, ever.");
        api.MapDelete("/apikeys/{id:long}", async (long id, HttpContext http, IUserStore users, AccessService access, CancellationToken ct) =>
            await ChangeAsync(http, users, async p => await access.RevokeApiKeyAsync(p, id, ct) ? Results.NoContent() : Results.NotFound(new ErrorDto($"There is no active key #{id}.")), ct))
            .WithSummary("Revoke an API key at once.");
        return app;
    }

    private static async Task<IResult> TokenAsync(TokenRequest? request, HttpContext http, Accounts accounts, AccessService access, CancellationToken ct)
    {
        if (request is null || string.IsNullOrEmpty(request.UserName) || string.IsNullOrEmpty(request.Password) || request.UserName.Length > 256 || request.Password.Length > 1024)
        {
            return Results.BadRequest(new ErrorDto("Give a user name and a password."));
        }

        var address = http.Connection.RemoteIpAddress?.ToString();
        var (outcome, user) = await accounts.SignInAsync(request.UserName, request.Password, address, ct);
        if (outcome != SignInOutcome.Succeeded)
        {
            await access.Audit.WriteAsync(new AuditEntry
            {
                Kind = AuditKinds.SignIn,
                Actor = request.UserName.Length > 64 ? request.UserName[..64] : request.UserName,
                Door = Doors.Cli,
                Place = address,
                Subject = "bearer token",
                Decision = "deny",
                Rule = outcome == SignInOutcome.LockedOut ? "too many failures for this name from this address" : "wrong user name or password",
            }, ct);

            // One answer for an unknown name, a wrong password and a pause, so none tells which names exist.
            return Results.Json(new ErrorDto(accounts.FailureSentence), statusCode: StatusCodes.Status401Unauthorized);
        }

        var name = string.IsNullOrWhiteSpace(request.Name) ? $"opsrobot login from {address}" : request.Name.Length > 100 ? request.Name[..100] : request.Name;
        var (token, secret) = await access.IssueTokenAsync(user!, name, address, ct);
        return Results.Ok(new TokenDto(secret, token.ExpiresAt, user!.Name, token.Id));
    }

    private static async Task<IResult> MyAccessAsync(HttpContext http, IUserStore users, AccessService access, CancellationToken ct)
    {
        if (await ApiCallers.IdentifyAsync(http, users, ct) is not { Principal.User: { } user } caller)
        {
            return ApiCallers.Refused();
        }

        var identities = await access.IdentitiesOfAsync(user.Id, ct);
        var elevation = await access.ElevationOfAsync(user.Id, ct);
        return Results.Ok(new
        {
            user = user.Name,
            roles = caller.Principal.Roles.Select(r => r.Name),
            administrator = user.IsAdmin,
            identities = identities.Select(i => new { i.Platform, i.PlatformUserId, i.DisplayName, i.LinkedAt }),
            elevationUntil = elevation?.ExpiresAt,
            keyScope = caller.Principal.KeyScope?.Select(g => g.ToString()),
        });
    }

    /// <summary>Only a web console session (signed in with a password, in a browser) may ask for codes or confirm elevations: that is the second channel.</summary>
    private static async Task<UserRecord?> ConsoleUserAsync(HttpContext http, IUserStore users, CancellationToken ct) =>
        http.Request.Headers.ContainsKey(ApiCallers.ApiKeyHeader) || http.Request.Headers.Authorization.Count > 0
            ? null
            : await WebChatEndpoints.CurrentUserAsync(http, users, ct);

    private static async Task<IResult> LinkCodeAsync(HttpContext http, IUserStore users, AccessService access, Microsoft.Extensions.Options.IOptions<RobotOptions> robot, CancellationToken ct)
    {
        if (await ConsoleUserAsync(http, users, ct) is not { } user)
        {
            return Results.Json(new ErrorDto("Link codes come from the web console: sign in there."), statusCode: StatusCodes.Status401Unauthorized);
        }

        var (code, expires) = await access.CreateLinkCodeAsync(user, ct);
        return Results.Ok(new { code, expiresAt = expires, say = $"{robot.Value.CommandPrefix}link {code}" });
    }

    private static async Task<IResult> PendingElevationsAsync(HttpContext http, IUserStore users, AccessService access, CancellationToken ct)
    {
        if (await ApiCallers.IdentifyAsync(http, users, ct) is not { Principal.User: { } user })
        {
            return ApiCallers.Refused();
        }

        var pending = await access.PendingElevationsAsync(user, ct);
        return Results.Ok(pending.Select(p => new { p.Id, command = AuditLog.MaskSecrets(p.Command), p.Platform, room = p.RoomName, p.ExpiresAt }));
    }

    private static async Task<IResult> ConfirmElevationAsync(long id, HttpContext http, IUserStore users, AccessService access, Robot robot, IChatReplySender sender, TimeProvider time, CancellationToken ct)
    {
        if (await ConsoleUserAsync(http, users, ct) is not { } user)
        {
            return Results.Json(new ErrorDto("Sudo is confirmed in the web console, signed in with your password."), statusCode: StatusCodes.Status401Unauthorized);
        }

        var principal = await access.ForUserAsync(user, Doors.Api, http.Connection.RemoteIpAddress?.ToString(), ct);
        var pending = await access.ConfirmElevationFromConsoleAsync(principal, id, ct);
        if (pending is null)
        {
            return Results.NotFound(new ErrorDto($"There is no open sudo request #{id} of yours (it may have expired or been used)."));
        }

        // Run the command that was waiting, in the room it was typed in, as that platform's identity of the user.
        var identities = await access.IdentitiesOfAsync(user.Id, ct);
        var platformId = identities.FirstOrDefault(i => i.Platform == pending.Platform)?.PlatformUserId ?? user.Id.ToString(CultureInfo.InvariantCulture);
        var room = new ChatRoom(pending.RoomId, pending.RoomName, pending.RoomIsDirect);
        var requester = new IncomingMessage(pending.Platform, room, new ChatUser(platformId, user.Name), pending.Command, time.GetUtcNow())
        {
            AuthenticatedUserId = Chat.BuiltIn.BuiltInChatReplySender.Platforms.Contains(pending.Platform) ? user.Id : null,
        };
        await access.RunConfirmedElevationAsync(pending, requester, replyToCaller: false, robot, sender, ct);

        return Results.Ok(new { confirmed = pending.Id, ran = AuditLog.MaskSecrets(pending.Command), room = pending.RoomName });
    }

    private static async Task<IResult> AuditAsync(
        string? actor, string? kind, string? decision, string? subject, DateTimeOffset? since, DateTimeOffset? until, long? before, int? limit,
        HttpContext http, IUserStore users, AccessService access, CancellationToken ct) =>
        await WithCallerAsync(http, users, Permissions.AuditView, "*", async _ =>
        {
            var pageSize = Math.Clamp(limit ?? 50, 1, 1000);
            var records = await access.Audit.QueryAsync(new AuditQuery
            {
                Actor = actor,
                Kind = kind,
                Decision = decision,
                Subject = subject,
                Since = since,
                Until = until,
                BeforeId = before,
                Limit = pageSize,
            }, ct);
            return Results.Ok(new { records = records.Select(AuditDto.From), next = records.Count == pageSize ? records[^1].Id : (long?)null });
        }, ct);

    private static async Task<IResult> SaveRoleAsync(string name, RoleRequest? body, HttpContext http, IUserStore users, AccessService access, CancellationToken ct) =>
        await ChangeAsync(http, users, async p =>
        {
            var grants = (body?.Grants ?? []).Select(g => new Grant(g.Permission ?? string.Empty, g.Resources is { Count: > 0 } r ? r : ["*"]) { ReadOnlyOnly = g.ReadOnly }).ToList();
            await access.SaveRoleAsync(p, new Role(name, body?.Description ?? string.Empty, grants, RoleOrigin.Store), ct);
            return Results.NoContent();
        }, ct);

    private static async Task<IResult> ListUsersAsync(HttpContext http, IUserStore users, AccessService access, CancellationToken ct) =>
        await WithCallerAsync(http, users, Permissions.UserView, "*", async _ =>
        {
            var list = new List<object>();
            foreach (var u in await users.ListAsync(ct))
            {
                list.Add(new
                {
                    u.Name,
                    u.DisplayName,
                    administrator = u.IsAdmin,
                    roles = await access.RoleNamesOfAsync(u, ct),
                    identities = (await access.IdentitiesOfAsync(u.Id, ct)).Select(i => $"{i.Platform}:{i.PlatformUserId}"),
                    u.LastSignInAt,
                });
            }

            return Results.Ok(list);
        }, ct);

    private static async Task<IResult> TreeAsync(HttpContext http, IUserStore users, AccessService access, CancellationToken ct) =>
        await WithCallerAsync(http, users, Permissions.TreeView, "*", async _ =>
        {
            var tree = await access.TreeAsync(ct);
            var names = (await users.ListAsync(ct)).ToDictionary(u => u.Id, u => u.Name);
            return Results.Ok(tree.Nodes.Select(n => new
            {
                n.Path,
                n.Description,
                owners = tree.MembersAt(n.Path).Where(m => m.Kind == TreeMemberKind.Owner).Select(m => names.GetValueOrDefault(m.UserId, "?")),
                members = tree.MembersAt(n.Path).Where(m => m.Kind == TreeMemberKind.Member).Select(m => names.GetValueOrDefault(m.UserId, "?")),
            }));
        }, ct);

    /// <summary>
    /// Imports a tree document: <c>{"nodes": [{"path": "corp/hotel", "description": "…", "owners": ["alice"], "members": ["bob"]}]}</c>.
    /// Idempotent: nodes and places that exist are left as they are. With <c>dryRun</c>, only says what would change.
    /// </summary>
    private static async Task<IResult> ImportTreeAsync(TreeImportRequest? body, bool? dryRun, HttpContext http, IUserStore users, AccessService access, CancellationToken ct) =>
        await ChangeAsync(http, users, async p =>
        {
            if (body?.Nodes is not { Count: > 0 } nodes || nodes.Count > 10_000)
            {
                return Results.BadRequest(new ErrorDto("Give {\"nodes\": [{\"path\": \"corp/hotel\", \"owners\": [...], \"members\": [...]}]} with 1 to 10000 nodes."));
            }

            var tree = await access.TreeAsync(ct);
            var changes = new List<string>();
            foreach (var node in nodes.OrderBy(n => n.Path?.Count(c => c == '/') ?? 0))
            {
                var path = node.Path ?? string.Empty;
                if (ApplicationTree.CheckNewPath(path) is { } problem)
                {
                    return Results.BadRequest(new ErrorDto($"'{path}': {problem}."));
                }

                if (!tree.Contains(path))
                {
                    changes.Add($"add node {path}");
                }

                foreach (var (who, kind) in (node.Owners ?? []).Select(o => (o, TreeMemberKind.Owner)).Concat((node.Members ?? []).Select(m => (m, TreeMemberKind.Member))))
                {
                    var user = await users.FindByNameAsync(who, ct);
                    if (user is null)
                    {
                        return Results.BadRequest(new ErrorDto($"'{path}' names user '{who}', who does not exist."));
                    }

                    if (tree.MembersAt(path).FirstOrDefault(m => m.UserId == user.Id)?.Kind != kind)
                    {
                        changes.Add($"{(kind == TreeMemberKind.Owner ? "owner" : "member")} {who} at {path}");
                    }
                }
            }

            if (dryRun != true)
            {
                // The tree read once above says which nodes exist; a path listed twice is added once.
                var added = new HashSet<string>(StringComparer.Ordinal);
                foreach (var node in nodes.OrderBy(n => n.Path!.Count(c => c == '/')))
                {
                    if (!tree.Contains(node.Path!) && added.Add(node.Path!))
                    {
                        await access.AddNodeAsync(p, node.Path!, node.Description ?? string.Empty, ct);
                    }

                    foreach (var o in node.Owners ?? [])
                    {
                        await access.SetMemberAsync(p, node.Path!, o, TreeMemberKind.Owner, ct);
                    }

                    foreach (var m in node.Members ?? [])
                    {
                        await access.SetMemberAsync(p, node.Path!, m, TreeMemberKind.Member, ct);
                    }
                }
            }

            return Results.Ok(new { dryRun = dryRun == true, changes });
        }, ct);

    private static async Task<IResult> CreateKeyAsync(CreateKeyRequest? body, HttpContext http, IUserStore users, AccessService access, CancellationToken ct) =>
        await ChangeAsync(http, users, async p =>
        {
            var scope = body?.Scope?.Select(g => new Grant(g.Permission ?? string.Empty, g.Resources is { Count: > 0 } r ? r : ["*"]) { ReadOnlyOnly = g.ReadOnly }).ToList();
            var owner = body?.User ?? p.User?.Name ?? string.Empty;
            var (key, secret) = await access.CreateApiKeyAsync(p, owner, body?.Name ?? string.Empty, scope, body?.ExpiresAt, ct);
            return Results.Created($"/api/v1/apikeys/{key.Id}", new { id = key.Id, key.Name, user = owner, key.ExpiresAt, secret, note = "Keep the secret now: it is not shown again. Send it as X-Api-Key." });
        }, ct);

    private static async Task<IEnumerable<object>> KeyDtosAsync(IReadOnlyList<ApiKeyRecord> keys, IUserStore users, CancellationToken ct)
    {
        var names = (await users.ListAsync(ct)).ToDictionary(u => u.Id, u => u.Name);
        return keys.Select(k => (object)new
        {
            k.Id,
            k.Kind,
            user = names.GetValueOrDefault(k.UserId, "?"),
            k.Name,
            scope = k.Scope?.Select(g => g.ToString()),
            k.CreatedAt,
            k.CreatedBy,
            k.ExpiresAt,
            k.RevokedAt,
            k.LastUsedAt,
            k.LastUsedFrom,
        });
    }

    /// <summary>Runs <paramref name="work"/> for an authenticated caller who holds <paramref name="permission"/>.</summary>
    private static async Task<IResult> WithCallerAsync(HttpContext http, IUserStore users, string permission, string resource, Func<Principal, Task<IResult>> work, CancellationToken ct)
    {
        if (await ApiCallers.IdentifyAsync(http, users, ct) is not { } caller)
        {
            return ApiCallers.Refused();
        }

        var access = http.RequestServices.GetRequiredService<AccessService>();
        var decision = await access.AuthorizeAsync(caller.Principal, permission, resource, ct);
        if (!decision.Allowed)
        {
            await access.Audit.WriteAsync(new AuditEntry
            {
                Kind = AuditKinds.Decision,
                Actor = caller.Principal.Name,
                Door = caller.Principal.Door,
                Place = caller.Address,
                Subject = $"{http.Request.Method} {http.Request.Path}",
                Decision = "deny",
                Rule = decision.Rule,
            }, ct);
            return ApiCallers.Forbidden(decision.Explanation!);
        }

        return await work(caller.Principal);
    }

    /// <summary>Runs a change for an authenticated caller; the access service checks the rights and audits.</summary>
    private static async Task<IResult> ChangeAsync(HttpContext http, IUserStore users, Func<Principal, Task<IResult>> work, CancellationToken ct)
    {
        if (await ApiCallers.IdentifyAsync(http, users, ct) is not { } caller)
        {
            return ApiCallers.Refused();
        }

        try
        {
            return await work(caller.Principal);
        }
        catch (AccessChangeException ex)
        {
            return ex.Forbidden ? ApiCallers.Forbidden(ex.Message) : Results.BadRequest(new ErrorDto(ex.Message));
        }
    }
}

internal sealed record TokenRequest(string? UserName, string? Password, string? Name);

internal sealed record TokenDto(string Token, DateTimeOffset? ExpiresAt, string User, long Id);

internal sealed record GrantRequest(string? Permission, List<string>? Resources, bool ReadOnly = false);

internal sealed record RoleRequest(string? Description, List<GrantRequest>? Grants);

internal sealed record RoleAssignmentRequest(string? Role);

internal sealed record AdministratorRequest(bool Administrator);

internal sealed record IdentityRequest(string? Platform, string? PlatformUserId, string? User, string? DisplayName);

internal sealed record TreeNodeRequest(string? Path, string? Description);

internal sealed record TreeMemberRequest(string? Path, string? User, string? Kind);

internal sealed record TreeImportNode(string? Path, string? Description, List<string>? Owners, List<string>? Members);

internal sealed record TreeImportRequest(List<TreeImportNode>? Nodes);

internal sealed record CreateKeyRequest(string? Name, string? User, List<GrantRequest>? Scope, DateTimeOffset? ExpiresAt);

internal sealed record RoleDto(string Name, string Description, string Origin, IEnumerable<string> Grants, IEnumerable<string> FileUsers, string? SourceFile)
{
    public static RoleDto From(Role r) => new(r.Name, r.Description, r.Origin.ToString().ToLowerInvariant(), r.Grants.Select(g => g.ToString()), r.FileUsers, r.SourceFile);
}

internal sealed record AuditDto(long Id, DateTimeOffset At, string Kind, string Actor, string Door, string? Place, string? Subject, string? Decision, string? Rule, JsonNode? Detail, string Hash)
{
    public static AuditDto From(AuditRecord r) => new(r.Id, r.At, r.Kind, r.Actor, r.Door, r.Place, r.Subject, r.Decision, r.Rule, JsonNode.Parse(r.Detail), r.Hash);
}
