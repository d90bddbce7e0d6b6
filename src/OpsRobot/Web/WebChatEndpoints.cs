using System.Globalization;
using System.Security.Claims;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using OpsRobot.Chat.BuiltIn;
using OpsRobot.Core.Access;
using OpsRobot.Core.Audit;
using OpsRobot.Core.Rooms;
using OpsRobot.Core.Storage;
using OpsRobot.Core.Users;

namespace OpsRobot.Web;

/// <summary>The web chat's HTTP API: sign-in, rooms, history and posting. See docs/api.md.</summary>
internal static class WebChatEndpoints
{
    public const string Platform = "web";

    public static IEndpointRouteBuilder MapWebChat(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/v1").WithTags("Web chat");

        api.MapPost("/auth/login", SignInAsync).AllowAnonymous();
        api.MapPost("/auth/logout", async (HttpContext http) =>
        {
            await http.SignOutAsync(CookieAuthenticationDefaults.AuthenticationScheme);
            return Results.NoContent();
        }).AllowAnonymous();

        // No RequireAuthorization here: it knows only the session cookie. Each endpoint identifies its caller like
        // the rest of the API (an API key, a bearer token or the session) and answers 401/403 with a sentence.
        var authed = api.MapGroup(string.Empty);
        authed.MapGet("/me", async (HttpContext http, IUserStore users, CancellationToken ct) =>
            await ChatUserAsync(http, users, ct) is ({ } user, _) ? Results.Ok(UserDto.From(user)) : ApiCallers.Refused());

        authed.MapPost("/users", CreateUserAsync);
        authed.MapGet("/rooms", ListRoomsAsync);
        authed.MapPost("/rooms", CreateRoomAsync);
        authed.MapPost("/rooms/{name}/join", JoinAsync);
        authed.MapPost("/rooms/{name}/leave", LeaveAsync);
        authed.MapGet("/rooms/{name}/messages", ReadMessagesAsync);
        authed.MapPost("/rooms/{name}/messages", PostMessageAsync);
        authed.MapGet("/direct", DirectAsync);
        return app;
    }

    /// <summary>The signed-in user, read afresh from the store so that a removed user loses access at once.</summary>
    public static async Task<UserRecord?> CurrentUserAsync(HttpContext http, IUserStore users, CancellationToken cancellationToken)
    {
        var id = http.User.FindFirstValue(ClaimTypes.NameIdentifier);
        return long.TryParse(id, NumberStyles.None, CultureInfo.InvariantCulture, out var userId)
            ? await users.FindByIdAsync(userId, cancellationToken)
            : null;
    }

    private static async Task<IResult> SignInAsync(SignInRequest? request, HttpContext http, Accounts accounts, CancellationToken ct)
    {
        if (request is null || string.IsNullOrEmpty(request.UserName) || string.IsNullOrEmpty(request.Password))
        {
            return Results.BadRequest(new ErrorDto("Give a user name and a password."));
        }

        if (request.UserName.Length > 256 || request.Password.Length > 1024)
        {
            return Results.BadRequest(new ErrorDto("The user name or password is too long."));
        }

        var (outcome, user) = await accounts.SignInAsync(request.UserName, request.Password, http.Connection.RemoteIpAddress?.ToString(), ct);
        await http.RequestServices.GetRequiredService<AccessService>().Audit.WriteAsync(new AuditEntry
        {
            Kind = AuditKinds.SignIn,
            Actor = user?.Name ?? (request.UserName.Length > 64 ? request.UserName[..64] : request.UserName),
            Door = "web",
            Place = http.Connection.RemoteIpAddress?.ToString(),
            Subject = "web console",
            Decision = outcome == SignInOutcome.Succeeded ? "allow" : "deny",
            Rule = outcome switch
            {
                SignInOutcome.Succeeded => "password",
                SignInOutcome.LockedOut => "too many failures for this name from this address",
                _ => "wrong user name or password",
            },
        }, ct);
        if (outcome != SignInOutcome.Succeeded)
        {
            // One answer for an unknown name, a wrong password and a pause, so none tells which names exist.
            return Results.Json(new ErrorDto(accounts.FailureSentence), statusCode: StatusCodes.Status401Unauthorized);
        }

        var identity = new ClaimsIdentity(
            [
                new Claim(ClaimTypes.NameIdentifier, user!.Id.ToString(CultureInfo.InvariantCulture)),
                new Claim(ClaimTypes.Name, user.Name),
            ],
            CookieAuthenticationDefaults.AuthenticationScheme);
        await http.SignInAsync(CookieAuthenticationDefaults.AuthenticationScheme, new ClaimsPrincipal(identity));
        return Results.Ok(UserDto.From(user));
    }

    private static async Task<IResult> CreateUserAsync(CreateUserRequest? request, HttpContext http, IUserStore users, AccessService access, CancellationToken ct)
    {
        if (await ApiCallers.IdentifyAsync(http, users, ct) is not { } caller)
        {
            return ApiCallers.Refused();
        }

        var decision = await access.AuthorizeAsync(caller.Principal, Permissions.UserManage, request?.Name ?? "*", ct);
        if (!decision.Allowed)
        {
            await access.AuditChangeAsync(caller.Principal, AuditKinds.Decision, "create user", new JsonObject { ["decision"] = "deny", ["rule"] = decision.Rule }, ct);
            return Results.Json(new ErrorDto(decision.Explanation!), statusCode: StatusCodes.Status403Forbidden);
        }

        if (request is null || !UserNames.IsValid(request.Name))
        {
            return Results.BadRequest(new ErrorDto($"A user name is {UserNames.Rule}."));
        }

        if (string.IsNullOrEmpty(request.Password) || request.Password.Length < 8 || request.Password.Length > 1024)
        {
            return Results.BadRequest(new ErrorDto("A password of 8 to 1024 characters is required."));
        }

        var known = await access.RolesAsync(ct);
        var roles = request.Roles ?? [];
        if (roles.FirstOrDefault(r => !known.Any(k => string.Equals(k.Name, r, StringComparison.OrdinalIgnoreCase))) is { } unknown)
        {
            return Results.BadRequest(new ErrorDto($"There is no role '{unknown}'."));
        }

        try
        {
            var user = await users.CreateAsync(request.Name!, request.DisplayName ?? request.Name!, request.IsAdmin, Accounts.HashPassword(request.Password), ct);
            await access.AuditChangeAsync(caller.Principal, AuditKinds.UserChanged, user.Name, new JsonObject
            {
                ["change"] = "created",
                ["administrator"] = request.IsAdmin,
            }, ct);
            foreach (var role in roles)
            {
                await access.AssignRoleAsync(caller.Principal, user.Name, role, ct);
            }

            return Results.Created($"/api/v1/users/{user.Id}", UserDto.From(user));
        }
        catch (AccessChangeException ex)
        {
            return ex.Forbidden ? Results.Json(new ErrorDto(ex.Message), statusCode: StatusCodes.Status403Forbidden) : Results.BadRequest(new ErrorDto(ex.Message));
        }
        catch (StoreConflictException ex)
        {
            return Results.Conflict(new ErrorDto(ex.Message));
        }
    }

    private static async Task<IResult> ListRoomsAsync(HttpContext http, IUserStore users, IRoomStore rooms, TimeProvider time, CancellationToken ct)
    {
        var (me, refused) = await ChatUserAsync(http, users, ct);
        if (me is null)
        {
            return refused!;
        }

        // Everyone has a direct room with the robot; make it exist so the list always shows it.
        await rooms.GetOrCreateDirectAsync(me.Id, me.Name, time.GetUtcNow(), ct);
        var list = await rooms.ListForUserAsync(me.Id, ct);
        return Results.Ok(list.Select(RoomDto.From));
    }

    private static async Task<IResult> CreateRoomAsync(CreateRoomRequest? request, HttpContext http, IUserStore users, IRoomStore rooms, TimeProvider time, CancellationToken ct)
    {
        var (me, refused) = await ChatUserAsync(http, users, ct);
        if (me is null)
        {
            return refused!;
        }

        var name = request?.Name?.Trim().ToLowerInvariant();
        if (!RoomNames.IsValid(name))
        {
            return Results.BadRequest(new ErrorDto($"A room name is {RoomNames.Rule}."));
        }

        var topic = request?.Topic?.Trim() ?? string.Empty;
        if (topic.Length > 250 || MessageScreen(topic))
        {
            return Results.BadRequest(new ErrorDto("A topic is at most 250 characters of text."));
        }

        try
        {
            var room = await rooms.CreateAsync(name!, topic, me.Id, time.GetUtcNow(), ct);
            return Results.Created($"/api/v1/rooms/{room.Name}", RoomDto.From(new RoomSummary(room, true, 1)));
        }
        catch (StoreConflictException)
        {
            return Results.Conflict(new ErrorDto($"A room named '{name}' already exists; join it instead."));
        }
    }

    private static bool MessageScreen(string text) =>
        text.Length > 0 && Core.Chat.MessageScreen.Check(text, int.MaxValue) != Core.Chat.ScreenVerdict.Accepted;

    private static async Task<IResult> JoinAsync(string name, HttpContext http, IUserStore users, IRoomStore rooms, TimeProvider time, CancellationToken ct)
    {
        var (me, refused) = await ChatUserAsync(http, users, ct);
        if (me is null)
        {
            return refused!;
        }

        var room = await rooms.FindAsync(name, ct);
        if (room is null || (room.Kind == RoomKind.Direct && room.OwnerUserId != me.Id))
        {
            return Results.NotFound(new ErrorDto($"There is no room named '{Clip(name)}'."));
        }

        await rooms.JoinAsync(room.Id, me.Id, time.GetUtcNow(), ct);
        var members = await rooms.GetMemberIdsAsync(room.Id, ct);
        return Results.Ok(RoomDto.From(new RoomSummary(room, true, members.Count)));
    }

    private static async Task<IResult> LeaveAsync(string name, HttpContext http, IUserStore users, IRoomStore rooms, CancellationToken ct)
    {
        var (me, refused) = await ChatUserAsync(http, users, ct);
        if (me is null)
        {
            return refused!;
        }

        var room = await rooms.FindAsync(name, ct);
        if (room is null || room.Kind == RoomKind.Direct)
        {
            return Results.NotFound(new ErrorDto($"There is no room named '{Clip(name)}' to leave."));
        }

        await rooms.LeaveAsync(room.Id, me.Id, ct);
        return Results.NoContent();
    }

    private static async Task<IResult> ReadMessagesAsync(string name, long? before, long? after, int? limit, HttpContext http, IUserStore users, IRoomStore rooms, CancellationToken ct)
    {
        var (me, refused) = await ChatUserAsync(http, users, ct);
        if (me is null)
        {
            return refused!;
        }

        var (room, problem) = await MemberRoomAsync(name, me, rooms, ct);
        if (problem is not null)
        {
            return problem;
        }

        if (before is not null && after is not null)
        {
            return Results.BadRequest(new ErrorDto("Ask for messages before an id or after one, not both."));
        }

        var messages = await rooms.ReadAsync(room!.Id, new MessagePage(before, after, limit ?? 50), ct);
        return Results.Ok(new MessagesDto([.. messages.Select(MessageDto.From)]));
    }

    private static async Task<IResult> PostMessageAsync(string name, PostMessageRequest? request, HttpContext http, IUserStore users, IRoomStore rooms, BuiltInChat chat, CancellationToken ct)
    {
        var (me, refused) = await ChatUserAsync(http, users, ct);
        if (me is null)
        {
            return refused!;
        }

        var (room, problem) = await MemberRoomAsync(name, me, rooms, ct);
        if (problem is not null)
        {
            return problem;
        }

        try
        {
            var result = await chat.PostAsync(me, room!, request?.Text ?? string.Empty, Platform, ct);
            return Results.Accepted(value: new PostedDto(result.Message.Id));
        }
        catch (ChatRefusedException ex)
        {
            return Results.Json(new ErrorDto(ex.Message),
                statusCode: ex.Verdict == Core.Chat.ScreenVerdict.TooLong ? StatusCodes.Status413PayloadTooLarge : StatusCodes.Status400BadRequest);
        }
    }

    private static async Task<IResult> DirectAsync(HttpContext http, IUserStore users, IRoomStore rooms, TimeProvider time, CancellationToken ct)
    {
        var (me, refused) = await ChatUserAsync(http, users, ct);
        if (me is null)
        {
            return refused!;
        }

        var room = await rooms.GetOrCreateDirectAsync(me.Id, me.Name, time.GetUtcNow(), ct);
        return Results.Ok(RoomDto.From(new RoomSummary(room, true, 1)));
    }

    /// <summary>The room, if it exists and the user is a member; otherwise the answer to give. A direct room that is not yours does not exist.</summary>
    internal static async Task<(RoomRecord? Room, IResult? Problem)> MemberRoomAsync(string name, UserRecord me, IRoomStore rooms, CancellationToken ct)
    {
        var room = await rooms.FindAsync(name, ct);
        if (room is null || (room.Kind == RoomKind.Direct && room.OwnerUserId != me.Id))
        {
            return (null, Results.NotFound(new ErrorDto($"There is no room named '{Clip(name)}'.")));
        }

        if (!await rooms.IsMemberAsync(room.Id, me.Id, ct))
        {
            return (null, Results.Json(new ErrorDto($"Join '{room.Name}' first."), statusCode: StatusCodes.Status403Forbidden));
        }

        return (room, null);
    }

    private static string Clip(string text) => text.Length > 64 ? text[..64] + "…" : text;

    /// <summary>
    /// The user the web chat acts for: the caller of an API key, a bearer token or the session. A line posted runs
    /// as that user with every grant they hold, so an API key limited to a scope is refused here (and the refusal
    /// audited): its scope could not follow the line into chat.
    /// </summary>
    internal static async Task<(UserRecord? User, IResult? Problem)> ChatUserAsync(HttpContext http, IUserStore users, CancellationToken ct)
    {
        if (await ApiCallers.IdentifyAsync(http, users, ct) is not { Principal.User: { } user } caller)
        {
            return (null, ApiCallers.Refused());
        }

        if (caller.Principal.KeyScope is not null)
        {
            const string Sentence = "This API key is limited to a scope, and the web chat acts with all of your grants; use an unscoped key, a token from `opsrobot login` or the web console.";
            await http.RequestServices.GetRequiredService<AccessService>().RecordRefusalAsync(
                caller.Principal.Name, caller.Principal.Door, caller.Address, $"{http.Request.Method} {http.Request.Path}", $"API key #{caller.Principal.ApiKeyId} is scoped", ct);
            return (null, ApiCallers.Forbidden(Sentence));
        }

        return (user, null);
    }
}

/// <summary>
/// Refuses state-changing API calls that are not JSON. Browsers cannot send <c>application/json</c> across sites
/// without a CORS preflight, which we never grant, so together with SameSite cookies this closes cross-site
/// request forgery. DELETE carries no body and needs no content type: no form can send it, and a cross-site
/// script needs the same preflight.
/// </summary>
internal sealed class JsonOnlyMiddleware(RequestDelegate next)
{
    public Task InvokeAsync(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var request = context.Request;
        if (request.Path.StartsWithSegments("/api", StringComparison.OrdinalIgnoreCase)
            && !HttpMethods.IsGet(request.Method) && !HttpMethods.IsHead(request.Method) && !HttpMethods.IsOptions(request.Method)
            && !(HttpMethods.IsDelete(request.Method) && (request.ContentLength ?? 0) == 0)
            && request.ContentType?.StartsWith("application/json", StringComparison.OrdinalIgnoreCase) != true)
        {
            context.Response.StatusCode = StatusCodes.Status415UnsupportedMediaType;
            return context.Response.WriteAsJsonAsync(new ErrorDto("Send the request with Content-Type: application/json."));
        }

        return next(context);
    }
}
