using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OpsRobot.Core.Actions;
using OpsRobot.Core.Audit;
using OpsRobot.Core.Chat;
using OpsRobot.Core.Packs;
using OpsRobot.Core.Users;

namespace OpsRobot.Core.Access;

/// <summary>What is being run, where, and how it was asked for, for <see cref="AccessService.AuthorizeRunAsync"/>.</summary>
public sealed record RunRequest(ActionDefinition Action, AliasDefinition? Alias, IReadOnlyDictionary<string, JsonNode?> Parameters)
{
    /// <summary>The room it was typed in; null for the API and the CLI.</summary>
    public ChatRoom? Room { get; init; }

    public string? Platform { get; init; }

    /// <summary>Typed as <c>!sudo …</c> (or sent with <c>sudo: true</c> through the API).</summary>
    public bool Sudo { get; init; }
}

/// <summary>
/// Decides who may do what. Every door (chat, API, CLI, rules) asks here, so a command is authorized the same
/// way wherever it comes from. The view of roles, identities and the tree is cached and refreshed on every change
/// made through this service (and after <see cref="AccessOptions.CacheFor"/> for changes from other processes).
/// </summary>
public sealed partial class AccessService : IDisposable
{
    private readonly IAccessStore _store;
    private readonly IUserStore _users;
    private readonly AuditLog _audit;
    private readonly TimeProvider _time;
    private readonly AccessOptions _options;
    private readonly IHostDirectory? _hosts;
    private readonly ILogger<AccessService> _logger;
    private readonly SemaphoreSlim _loading = new(1, 1);
    private volatile AccessSnapshot? _snapshot;
    private IReadOnlyList<Role> _fileRoles = [];

    public AccessService(IAccessStore store, IUserStore users, AuditLog audit, TimeProvider time, IOptions<AccessOptions> options, ILogger<AccessService> logger, IHostDirectory? hosts = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        _store = store;
        _users = users;
        _audit = audit;
        _time = time;
        _options = options.Value;
        _logger = logger;
        _hosts = hosts;
    }

    public AccessOptions Options => _options;

    public void Dispose() => _loading.Dispose();

    public AuditLog Audit => _audit;

    /// <summary>Replaces the roles defined in files (at start and on reload).</summary>
    public void SetFileRoles(IReadOnlyList<Role> roles)
    {
        _fileRoles = roles;
        Invalidate();
    }

    /// <summary>Forgets the cached view; the next decision reads the store again.</summary>
    public void Invalidate() => _snapshot = null;

    internal async Task<AccessSnapshot> SnapshotAsync(CancellationToken cancellationToken)
    {
        var snapshot = _snapshot;
        if (snapshot is not null && _time.GetUtcNow() - snapshot.LoadedAt < _options.CacheFor)
        {
            return snapshot;
        }

        await _loading.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            snapshot = _snapshot;
            if (snapshot is not null && _time.GetUtcNow() - snapshot.LoadedAt < _options.CacheFor)
            {
                return snapshot;
            }

            var loadedAt = _time.GetUtcNow();
            var storeRoles = await _store.ListRolesAsync(cancellationToken).ConfigureAwait(false);
            var assignments = await _store.ListUserRolesAsync(cancellationToken).ConfigureAwait(false);
            var nodes = await _store.ListNodesAsync(cancellationToken).ConfigureAwait(false);
            var members = await _store.ListMembersAsync(cancellationToken).ConfigureAwait(false);
            var identities = await _store.ListIdentitiesAsync(cancellationToken).ConfigureAwait(false);
            snapshot = new AccessSnapshot(loadedAt, BuiltInRoles.All, _fileRoles, storeRoles, assignments, new ApplicationTree(nodes, members), identities);
            _snapshot = snapshot;
            return snapshot;
        }
        finally
        {
            _loading.Release();
        }
    }

    /// <summary>The application tree as it is now.</summary>
    public async Task<ApplicationTree> TreeAsync(CancellationToken cancellationToken) => (await SnapshotAsync(cancellationToken).ConfigureAwait(false)).Tree;

    /// <summary>Every role: built-in, from files, from the store.</summary>
    public async Task<IReadOnlyList<Role>> RolesAsync(CancellationToken cancellationToken) =>
        [.. (await SnapshotAsync(cancellationToken).ConfigureAwait(false)).Roles.Values.OrderBy(r => r.Origin).ThenBy(r => r.Name, StringComparer.Ordinal)];

    /// <summary>
    /// Who sent a chat line. The built-in chat (web console, shell) knows its users; other platforms are mapped
    /// through the linked identities, by the platform's immutable user id, never the display name.
    /// </summary>
    public async Task<Principal> ForChatAsync(IncomingMessage message, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(message);
        var snapshot = await SnapshotAsync(cancellationToken).ConfigureAwait(false);

        // Who someone is in a room changes only with the view itself (roles, links, the administrators' flag: every
        // such change made here drops the view), so a busy room does not read its users again line after line.
        var key = new ChatPrincipalKey(message.Platform, message.Room.Name, message.Sender.Id, message.AuthenticatedUserId);
        if (snapshot.ChatPrincipals.TryGetValue(key, out var known))
        {
            return known;
        }

        var place = $"{message.Platform}:{message.Room.Name}";
        UserRecord? user = null;
        if (message.AuthenticatedUserId is { } userId)
        {
            user = await _users.FindByIdAsync(userId, cancellationToken).ConfigureAwait(false);
        }
        else if (snapshot.Identities.TryGetValue((message.Platform, message.Sender.Id), out var link))
        {
            user = await _users.FindByIdAsync(link.UserId, cancellationToken).ConfigureAwait(false);
        }

        var principal = user is null
            ? new Principal
            {
                Name = $"{message.Platform}:{message.Sender.Id}",
                Roles = RolesFor(snapshot, null),
                Door = Doors.Chat,
                Platform = message.Platform,
                PlatformUserId = message.Sender.Id,
                Place = place,
            }
            : ForUser(snapshot, user, Doors.Chat, place) with { Platform = message.Platform, PlatformUserId = message.Sender.Id };
        snapshot.Remember(key, principal);
        return principal;
    }

    /// <summary>A user acting through the API or the CLI, optionally limited by an API key's scope.</summary>
    public async Task<Principal> ForUserAsync(UserRecord user, string door, string? place, CancellationToken cancellationToken) =>
        ForUser(await SnapshotAsync(cancellationToken).ConfigureAwait(false), user, door, place);

    private Principal ForUser(AccessSnapshot snapshot, UserRecord user, string door, string? place) => new()
    {
        Name = user.Name,
        User = user,
        Roles = RolesFor(snapshot, user),
        IsAdministrator = user.IsAdmin,
        Door = door,
        Place = place,
    };

    private List<Role> RolesFor(AccessSnapshot snapshot, UserRecord? user)
    {
        var names = user is null
            ? [_options.UnlinkedRole]
            : snapshot.RoleNamesOf(user);
        if (user is not null && names.Count == 0)
        {
            names = [_options.DefaultUserRole];
        }

        var roles = new List<Role>(names.Count);
        foreach (var name in names)
        {
            if (snapshot.Roles.TryGetValue(name, out var role))
            {
                roles.Add(role);
            }
            else
            {
                LogUnknownRole(_logger, name, user?.Name ?? "(unlinked)");
            }
        }

        return roles;
    }

    /// <summary>
    /// Whether the principal holds <paramref name="permission"/> on <paramref name="resource"/>, and by which rule;
    /// the pure decision, audited nowhere. An attempt to do something is decided with <see cref="CheckAsync"/>, which
    /// records a refusal; this one is for questions that are no attempt: what to list in help, which rows of a list
    /// to show, the parts of a decision that its caller records itself.
    /// </summary>
    public static AccessDecision Check(Principal principal, string permission, string resource, bool resourceIsReadOnly = false)
    {
        ArgumentNullException.ThrowIfNull(principal);
        Grant? granting = null;
        Role? from = null;
        foreach (var role in principal.Roles)
        {
            foreach (var grant in role.Grants)
            {
                if (grant.Covers(permission, resource, resourceIsReadOnly))
                {
                    granting = grant;
                    from = role;
                    break;
                }
            }

            if (granting is not null)
            {
                break;
            }
        }

        if (granting is null)
        {
            return AccessDecision.Deny(DenialKind.Permission,
                $"no role of {principal.Name} ({string.Join(", ", principal.Roles.Select(r => r.Name))}) grants {permission} on {resource}",
                $"you need `{permission}` on `{resource}`");
        }

        if (principal.KeyScope is { } scope && !scope.Any(g => g.Covers(permission, resource, resourceIsReadOnly)))
        {
            return AccessDecision.Deny(DenialKind.Permission,
                $"API key #{principal.ApiKeyId} is not scoped for {permission} on {resource}",
                $"this API key's scope does not include `{permission}` on `{resource}`");
        }

        return AccessDecision.Allow($"role {from!.Name}: {granting}");
    }

    /// <summary>
    /// An attempt to use <paramref name="permission"/> on <paramref name="resource"/>: <see cref="Check"/>, with a
    /// refusal recorded in the audit as a deny decision naming the rule, whichever door it came through.
    /// </summary>
    public async Task<AccessDecision> CheckAsync(Principal principal, string permission, string resource, CancellationToken cancellationToken, bool resourceIsReadOnly = false)
    {
        ArgumentNullException.ThrowIfNull(principal);
        var decision = Check(principal, permission, resource, resourceIsReadOnly);
        if (!decision.Allowed)
        {
            await AuditDenialAsync(principal, permission, resource, decision, cancellationToken).ConfigureAwait(false);
        }

        return decision;
    }

    /// <summary>
    /// An attempt to see or act on an execution (<see cref="MayActOnExecution"/>), a refusal recorded in the audit.
    /// </summary>
    public async Task<bool> MayActOnExecutionAsync(Principal principal, Executions.ExecutionRecord execution, string permission, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(principal);
        ArgumentNullException.ThrowIfNull(execution);
        if (MayActOnExecution(principal, execution, permission))
        {
            return true;
        }

        var resource = $"execution {execution.Id.ToString(CultureInfo.InvariantCulture)} ({execution.ActionRef})";
        await AuditDenialAsync(principal, permission, resource, Check(principal, permission, execution.ActionRef), cancellationToken).ConfigureAwait(false);
        return false;
    }

    /// <summary>
    /// Records a refusal decided outside the grants (a user's own keys, an unknown user): what was asked
    /// (<paramref name="subject"/>) and why it was refused (<paramref name="rule"/>).
    /// </summary>
    public Task RecordRefusalAsync(string actor, string door, string? place, string subject, string rule, CancellationToken cancellationToken) =>
        _audit.WriteAsync(new AuditEntry
        {
            Kind = AuditKinds.Decision,
            Actor = actor,
            Door = door,
            Place = place,
            Subject = subject,
            Decision = "deny",
            Rule = rule,
        }, cancellationToken);

    /// <summary>Whether <paramref name="principal"/> may see an action at all (<c>action.view</c> or <c>action.execute</c>).</summary>
    public static bool MaySeeAction(Principal principal, ActionDefinition action)
    {
        ArgumentNullException.ThrowIfNull(principal);
        ArgumentNullException.ThrowIfNull(action);
        return Check(principal, Permissions.ActionView, action.Ref, action.Guards.ReadOnly).Allowed
            || Check(principal, Permissions.ActionExecute, action.Ref, action.Guards.ReadOnly).Allowed;
    }

    /// <summary>
    /// Whether <paramref name="principal"/> may see or act on an execution: its requester always may; anyone else
    /// needs <paramref name="permission"/> on the execution's action.
    /// </summary>
    public static bool MayActOnExecution(Principal principal, Executions.ExecutionRecord execution, string permission)
    {
        ArgumentNullException.ThrowIfNull(principal);
        ArgumentNullException.ThrowIfNull(execution);
        return string.Equals(principal.User?.Name, execution.Requester.UserName, StringComparison.OrdinalIgnoreCase)
            || Check(principal, permission, execution.ActionRef).Allowed;
    }

    /// <summary>
    /// A check for a built-in or administrative command: the permission, and for administrative permissions the
    /// whitelist too. The refusal names whom to ask.
    /// </summary>
    public async Task<AccessDecision> AuthorizeAsync(Principal principal, string permission, string resource, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(principal);
        var decision = Check(principal, permission, resource);
        if (decision.Allowed && Permissions.Administrative.Contains(permission) && !principal.IsAdministrator)
        {
            decision = AccessDecision.Deny(DenialKind.Whitelist,
                $"{principal.Name} is not on the administrators' whitelist ({permission} is administrative)",
                "only users on the administrators' whitelist may do this");
        }

        return decision.Allowed ? decision : decision with { Explanation = await ExplainAsync(principal, decision.Explanation!, null, cancellationToken).ConfigureAwait(false) };
    }

    /// <summary>
    /// Whether the principal may run an action (through an alias, when one matched): the grants on both, the
    /// rooms, the application-tree scope of its parameters, and sudo. Checks are made in that order; the first
    /// refusal is the answer.
    /// </summary>
    public async Task<AccessDecision> AuthorizeRunAsync(Principal principal, RunRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(principal);
        ArgumentNullException.ThrowIfNull(request);
        var action = request.Action;
        var guards = request.Alias is null ? action.Guards : action.Guards.Combine(request.Alias.Guards);
        var readOnly = action.Guards.ReadOnly;
        var rules = new List<string>();

        if (request.Alias is { } alias)
        {
            if (!Check(principal, Permissions.AliasView, alias.Ref, readOnly).Allowed && !Check(principal, Permissions.AliasRun, alias.Ref, readOnly).Allowed)
            {
                return AccessDecision.Deny(DenialKind.Hidden, $"{principal.Name} may not see alias {alias.Ref}", "hidden");
            }

            var run = Check(principal, Permissions.AliasRun, alias.Ref, readOnly);
            if (!run.Allowed)
            {
                return await ExplainedAsync(principal, run, null, cancellationToken).ConfigureAwait(false);
            }

            rules.Add(run.Rule);
        }

        var execute = Check(principal, Permissions.ActionExecute, action.Ref, readOnly);
        if (!execute.Allowed)
        {
            return await ExplainedAsync(principal, execute, null, cancellationToken).ConfigureAwait(false);
        }

        rules.Add(execute.Rule);

        if (guards.Administrative)
        {
            if (!principal.IsAdministrator)
            {
                return await ExplainedAsync(principal, AccessDecision.Deny(DenialKind.Whitelist,
                    $"{principal.Name} is not on the administrators' whitelist ({action.Ref} is administrative)",
                    $"`{action.Ref}` is an administrative command, for users on the administrators' whitelist only"), null, cancellationToken).ConfigureAwait(false);
            }

            rules.Add($"{principal.Name} is on the administrators' whitelist");
        }

        if (RoomRefusal(guards, request) is { } roomDecision)
        {
            return roomDecision;
        }

        var resolved = new Dictionary<string, string>(StringComparer.Ordinal);
        if (guards.Scope.Count > 0)
        {
            var snapshot = await SnapshotAsync(cancellationToken).ConfigureAwait(false);
            foreach (var scope in guards.Scope)
            {
                var scopeDecision = await CheckScopeAsync(principal, snapshot, scope, request.Parameters.GetValueOrDefault(scope.Parameter), cancellationToken).ConfigureAwait(false);
                if (!scopeDecision.Allowed)
                {
                    return scopeDecision;
                }

                resolved[scope.Parameter] = scopeDecision.ResolvedScope[scope.Parameter];
                rules.Add(scopeDecision.Rule);
            }
        }

        if (guards.Sudo)
        {
            var sudo = Check(principal, Permissions.Sudo, action.Ref);
            if (!sudo.Allowed)
            {
                return await ExplainedAsync(principal, sudo, null, cancellationToken).ConfigureAwait(false);
            }

            if (!request.Sudo)
            {
                return AccessDecision.Deny(DenialKind.SudoRequired, $"{action.Ref} is a sudo command and was not asked for with sudo",
                    "this is a sudo command: put `sudo` in front of it to confirm who you are first");
            }

            var elevation = principal.User is null ? null : await _store.GetElevationAsync(principal.User.Id, cancellationToken).ConfigureAwait(false);
            var now = _time.GetUtcNow();
            if (elevation is null || elevation.ExpiresAt <= now)
            {
                return AccessDecision.Deny(DenialKind.ElevationRequired,
                    elevation is null ? $"{principal.Name} has no open elevation" : string.Create(CultureInfo.InvariantCulture, $"{principal.Name}'s elevation expired at {elevation.ExpiresAt:O}"),
                    "this sudo command needs a confirmed elevation first");
            }

            rules.Add(string.Create(CultureInfo.InvariantCulture, $"elevation open until {elevation.ExpiresAt:O} ({sudo.Rule})"));
        }

        return AccessDecision.Allow(string.Join("; ", rules)) with { ResolvedScope = resolved };
    }

    private static AccessDecision? RoomRefusal(CommandGuards guards, RunRequest request)
    {
        if (request.Room is not { } room)
        {
            if (guards.AllowRooms.Count > 0)
            {
                return AccessDecision.Deny(DenialKind.Room, "the command runs only in rooms " + string.Join(", ", guards.AllowRooms),
                    $"this command runs only in the room{(guards.AllowRooms.Count > 1 ? "s" : string.Empty)} {string.Join(", ", guards.AllowRooms)}, where everyone sees it; run it there");
            }

            return null;
        }

        if (room.IsDirect)
        {
            return guards.AllowDirect && guards.AllowRooms.Count == 0
                ? null
                : AccessDecision.Deny(DenialKind.Room, "the command may not run in a direct message",
                    guards.AllowRooms.Count > 0
                        ? $"this command runs only in {string.Join(", ", guards.AllowRooms)}, where everyone sees it"
                        : "this command may not run in a direct message; run it in a room");
        }

        var names = new[] { room.Name, $"{request.Platform}:{room.Name}", room.Name.TrimStart('#', '~') };
        if (guards.DenyRooms.FirstOrDefault(p => names.Any(n => Wildcard.IsMatch(p, n))) is { } denied)
        {
            return AccessDecision.Deny(DenialKind.Room, $"room {room.Name} matches deny_rooms '{denied}'", $"this command may not run in {room.Name}");
        }

        if (guards.AllowRooms.Count > 0 && !guards.AllowRooms.Any(p => names.Any(n => Wildcard.IsMatch(p, n))))
        {
            return AccessDecision.Deny(DenialKind.Room, $"room {room.Name} is not in allow_rooms ({string.Join(", ", guards.AllowRooms)})",
                $"this command runs only in {string.Join(", ", guards.AllowRooms)}, where everyone sees it; run it there");
        }

        return null;
    }

    private async Task<AccessDecision> CheckScopeAsync(Principal principal, AccessSnapshot snapshot, ScopeParameter scope, JsonNode? value, CancellationToken cancellationToken)
    {
        var text = value is JsonValue v && v.TryGetValue<string>(out var s) ? s : value?.ToJsonString();
        string? path;
        if (scope.Kind == ScopeKind.Host)
        {
            if (string.IsNullOrEmpty(text) || text.Length > 253 || text.Any(c => c > 0x7F || char.IsWhiteSpace(c) || c is '*' or '?' or '/' or '\\'))
            {
                return AccessDecision.Deny(DenialKind.Scope, $"{scope.Parameter}: not a host name", $"`{scope.Parameter}` must name one host");
            }

            if (_hosts is null)
            {
                return AccessDecision.Deny(DenialKind.Scope, $"{scope.Parameter}: no CMDB maps hosts to applications",
                    $"I cannot check which application host `{text}` belongs to (no CMDB is configured), so I may not run this");
            }

            path = await _hosts.FindApplicationAsync(text, cancellationToken).ConfigureAwait(false);
            if (path is null || !snapshot.Tree.Contains(path))
            {
                return AccessDecision.Deny(DenialKind.Scope, $"{scope.Parameter}: host {text} has no application node", $"I know no host `{text}` in an application I can check");
            }
        }
        else
        {
            var resolution = snapshot.Tree.Resolve(text);
            if (resolution.Path is null)
            {
                return AccessDecision.Deny(DenialKind.Scope, $"{scope.Parameter}: {resolution.Problem}", $"`{scope.Parameter}` refused: {resolution.Problem}");
            }

            path = resolution.Path;
        }

        if (principal.TreeWide)
        {
            return AccessDecision.Allow($"{principal.Name} acts on the whole tree ({path})") with
            {
                ResolvedScope = new Dictionary<string, string>(StringComparer.Ordinal) { [scope.Parameter] = path },
            };
        }

        var place = principal.User is null ? null : snapshot.Tree.PlaceOf(principal.User.Id, path);
        if (place is null)
        {
            var owners = await OwnerNamesAsync(snapshot, path, cancellationToken).ConfigureAwait(false);
            var ask = owners is { } o ? $" — ask an owner of {o.Path}: {string.Join(", ", o.Names)}" : " — nobody owns it yet; ask an administrator";
            return AccessDecision.Deny(DenialKind.Scope, $"{principal.Name} is not a member of {path} or above", $"you need membership of `{path}`{ask}");
        }

        return AccessDecision.Allow($"{place.Value.ToString().ToLowerInvariant()} of {path}") with
        {
            ResolvedScope = new Dictionary<string, string>(StringComparer.Ordinal) { [scope.Parameter] = path },
        };
    }

    private async Task<(string Path, IReadOnlyList<string> Names)?> OwnerNamesAsync(AccessSnapshot snapshot, string path, CancellationToken cancellationToken)
    {
        if (snapshot.Tree.NearestOwners(path) is not { } owners)
        {
            return null;
        }

        var names = new List<string>();
        foreach (var id in owners.Owners.Take(5))
        {
            if (await _users.FindByIdAsync(id, cancellationToken).ConfigureAwait(false) is { } u)
            {
                names.Add(u.Name);
            }
        }

        return (owners.Path, names);
    }

    private async Task<AccessDecision> ExplainedAsync(Principal principal, AccessDecision decision, string? extra, CancellationToken cancellationToken) =>
        decision with { Explanation = await ExplainAsync(principal, decision.Explanation!, extra, cancellationToken).ConfigureAwait(false) };

    /// <summary>Completes a refusal with whom to ask (or how to link, for an unlinked identity).</summary>
    private async Task<string> ExplainAsync(Principal principal, string missing, string? extra, CancellationToken cancellationToken)
    {
        if (!principal.IsLinked && principal.Door == Doors.Chat)
        {
            return $"{Capitalize(missing)}. You are not linked to an OpsRobot user yet: sign in to the web console, ask for a link code, and say `link CODE` to me here.";
        }

        var admins = await AdministratorNamesAsync(cancellationToken).ConfigureAwait(false);
        var ask = admins.Count == 0 ? string.Empty : $" — ask an administrator: {string.Join(", ", admins)}";
        return $"{Capitalize(missing)}{ask}{extra}.";
    }

    /// <summary>The users on the administrators' whitelist, for "ask an administrator" (at most five).</summary>
    public async Task<IReadOnlyList<string>> AdministratorNamesAsync(CancellationToken cancellationToken) =>
        await _users.ListAdminNamesAsync(5, cancellationToken).ConfigureAwait(false);

    private static string Capitalize(string text) => text.Length == 0 ? text : char.ToUpperInvariant(text[0]) + text[1..];

    [LoggerMessage(EventId = 3001, Level = LogLevel.Warning, Message = "Role {Role} given to {User} does not exist; it grants nothing")]
    private static partial void LogUnknownRole(ILogger logger, string role, string user);
}

/// <summary>Who spoke where, as far as access is concerned.</summary>
internal readonly record struct ChatPrincipalKey(string Platform, string Room, string SenderId, long? AuthenticatedUserId);

/// <summary>The cached view access decisions are made from.</summary>
internal sealed class AccessSnapshot
{
    public AccessSnapshot(DateTimeOffset loadedAt, IEnumerable<Role> builtIn, IEnumerable<Role> fromFiles, IEnumerable<Role> fromStore,
        IEnumerable<UserRoleAssignment> assignments, ApplicationTree tree, IEnumerable<ChatIdentityLink> identities)
    {
        LoadedAt = loadedAt;
        var roles = new Dictionary<string, Role>(StringComparer.OrdinalIgnoreCase);
        foreach (var role in fromStore.Concat(fromFiles).Concat(builtIn))
        {
            roles[role.Name] = role;
        }

        Roles = roles;
        ByUserId = assignments.GroupBy(a => a.UserId).ToDictionary(g => g.Key, g => g.Select(a => a.Role).ToList());
        ByUserName = fromFiles.SelectMany(r => r.FileUsers.Select(u => (User: u, Role: r.Name)))
            .GroupBy(x => x.User, StringComparer.OrdinalIgnoreCase)
            .ToDictionary(g => g.Key, g => g.Select(x => x.Role).ToList(), StringComparer.OrdinalIgnoreCase);
        Tree = tree;
        Identities = identities.ToDictionary(i => (i.Platform, i.PlatformUserId));
    }

    public DateTimeOffset LoadedAt { get; }

    public Dictionary<string, Role> Roles { get; }

    public Dictionary<long, List<string>> ByUserId { get; }

    public Dictionary<string, List<string>> ByUserName { get; }

    public ApplicationTree Tree { get; }

    public Dictionary<(string Platform, string Id), ChatIdentityLink> Identities { get; }

    /// <summary>Chat principals already worked out against this view, so a busy room costs no store read per line.</summary>
    public ConcurrentDictionary<ChatPrincipalKey, Principal> ChatPrincipals { get; } = new();

    /// <summary>Keeps <paramref name="principal"/> for the life of this view, up to a bound (a view lives seconds).</summary>
    public void Remember(ChatPrincipalKey key, Principal principal)
    {
        if (ChatPrincipals.Count < MaxChatPrincipals)
        {
            ChatPrincipals.TryAdd(key, principal);
        }
    }

    private const int MaxChatPrincipals = 10_000;

    public List<string> RoleNamesOf(UserRecord user)
    {
        var names = new List<string>();
        if (ByUserId.TryGetValue(user.Id, out var stored))
        {
            names.AddRange(stored);
        }

        if (ByUserName.TryGetValue(user.Name, out var fromFiles))
        {
            names.AddRange(fromFiles.Where(n => !names.Contains(n, StringComparer.OrdinalIgnoreCase)));
        }

        return names;
    }
}
