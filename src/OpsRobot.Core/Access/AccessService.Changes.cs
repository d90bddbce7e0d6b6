using System.Text.Json.Nodes;
using OpsRobot.Core.Audit;
using OpsRobot.Core.Users;

namespace OpsRobot.Core.Access;

/// <summary>A change to access control was refused; the message says why, for people.</summary>
public sealed class AccessChangeException : Exception
{
    public AccessChangeException()
    {
    }

    public AccessChangeException(string message)
        : base(message)
    {
    }

    public AccessChangeException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>True when the actor lacks the right (HTTP 403), false when the change itself is wrong (400).</summary>
    public bool Forbidden { get; init; }
}

public sealed partial class AccessService
{
    /// <summary>
    /// Changes to who may do what. Each checks the actor's rights, is audited with who did it and through which
    /// door, and applies at once. Refusals throw <see cref="AccessChangeException"/>.
    /// </summary>
    public async Task LinkIdentityAsync(Principal actor, string platform, string platformUserId, string userName, string displayName, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(actor);
        await RequireAsync(actor, Permissions.UserManage, userName, cancellationToken).ConfigureAwait(false);
        var user = await RequireUserAsync(userName, cancellationToken).ConfigureAwait(false);
        await LinkAsync(actor, platform, platformUserId, user, displayName, "administrator", cancellationToken).ConfigureAwait(false);
    }

    private async Task LinkAsync(Principal actor, string platform, string platformUserId, UserRecord user, string displayName, string how, CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(platform) || string.IsNullOrWhiteSpace(platformUserId) || platform.Length > 64 || platformUserId.Length > 256)
        {
            throw new AccessChangeException("A chat identity needs a platform (at most 64 characters) and the platform's user id (at most 256).");
        }

        if (platform is "web" or "shell")
        {
            throw new AccessChangeException($"'{platform}' identities are OpsRobot users already; there is nothing to link.");
        }

        var replaced = await _store.LinkIdentityAsync(new ChatIdentityLink(platform, platformUserId, user.Id, displayName, actor.Name, _time.GetUtcNow()), cancellationToken).ConfigureAwait(false);
        Invalidate();
        await AuditChangeAsync(actor, AuditKinds.IdentityLinked, $"{platform}:{platformUserId}", new JsonObject
        {
            ["user"] = user.Name,
            ["display_name"] = displayName,
            ["how"] = how,
            ["replaced_user_id"] = replaced is null || replaced.UserId == user.Id ? null : replaced.UserId,
        }, cancellationToken).ConfigureAwait(false);
    }

    public async Task<bool> UnlinkIdentityAsync(Principal actor, string platform, string platformUserId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(actor);
        await RequireAsync(actor, Permissions.UserManage, "*", cancellationToken).ConfigureAwait(false);
        var removed = await _store.UnlinkIdentityAsync(platform, platformUserId, cancellationToken).ConfigureAwait(false);
        Invalidate();
        if (removed)
        {
            await AuditChangeAsync(actor, AuditKinds.IdentityUnlinked, $"{platform}:{platformUserId}", null, cancellationToken).ConfigureAwait(false);
        }

        return removed;
    }

    public async Task<IReadOnlyList<ChatIdentityLink>> IdentitiesOfAsync(long userId, CancellationToken cancellationToken) =>
        [.. (await SnapshotAsync(cancellationToken).ConfigureAwait(false)).Identities.Values.Where(i => i.UserId == userId).OrderBy(i => i.Platform, StringComparer.Ordinal)];

    /// <summary>The role names a user holds (assigned, from files, or the default).</summary>
    public async Task<IReadOnlyList<string>> RoleNamesOfAsync(UserRecord user, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(user);
        var names = (await SnapshotAsync(cancellationToken).ConfigureAwait(false)).RoleNamesOf(user);
        return names.Count == 0 ? [_options.DefaultUserRole] : names;
    }

    public async Task AssignRoleAsync(Principal actor, string userName, string role, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(actor);
        await RequireAsync(actor, Permissions.RoleManage, role, cancellationToken).ConfigureAwait(false);
        var user = await RequireUserAsync(userName, cancellationToken).ConfigureAwait(false);
        var snapshot = await SnapshotAsync(cancellationToken).ConfigureAwait(false);
        if (!snapshot.Roles.TryGetValue(role, out var found))
        {
            throw new AccessChangeException($"There is no role '{role}'. Roles: {string.Join(", ", snapshot.Roles.Keys.Order(StringComparer.Ordinal))}.");
        }

        var added = await _store.AssignRoleAsync(new UserRoleAssignment(user.Id, found.Name, actor.Name, _time.GetUtcNow()), cancellationToken).ConfigureAwait(false);
        Invalidate();
        if (added)
        {
            await AuditChangeAsync(actor, AuditKinds.GrantChanged, user.Name, new JsonObject { ["role"] = found.Name, ["change"] = "assigned" }, cancellationToken).ConfigureAwait(false);
        }
    }

    public async Task<bool> UnassignRoleAsync(Principal actor, string userName, string role, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(actor);
        await RequireAsync(actor, Permissions.RoleManage, role, cancellationToken).ConfigureAwait(false);
        var user = await RequireUserAsync(userName, cancellationToken).ConfigureAwait(false);
        var removed = await _store.UnassignRoleAsync(user.Id, role, cancellationToken).ConfigureAwait(false);
        Invalidate();
        if (removed)
        {
            await AuditChangeAsync(actor, AuditKinds.GrantChanged, user.Name, new JsonObject { ["role"] = role, ["change"] = "removed" }, cancellationToken).ConfigureAwait(false);
        }

        return removed;
    }

    /// <summary>Creates or replaces a role kept in the store. Built-in and file roles cannot be changed this way.</summary>
    public async Task SaveRoleAsync(Principal actor, Role role, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(actor);
        ArgumentNullException.ThrowIfNull(role);
        await RequireAsync(actor, Permissions.RoleManage, role.Name, cancellationToken).ConfigureAwait(false);
        if (!BuiltInRoles.IsValidName(role.Name))
        {
            throw new AccessChangeException($"'{role.Name}' is not a valid role name: {BuiltInRoles.NameRule}.");
        }

        if (BuiltInRoles.IsBuiltIn(role.Name))
        {
            throw new AccessChangeException($"'{role.Name}' is a built-in role and cannot be changed.");
        }

        if (_fileRoles.FirstOrDefault(r => string.Equals(r.Name, role.Name, StringComparison.OrdinalIgnoreCase)) is { } fromFile)
        {
            throw new AccessChangeException($"Role '{role.Name}' is defined in {fromFile.SourceFile}; change it there (configuration as code).");
        }

        foreach (var grant in role.Grants)
        {
            if (BuiltInRoles.CheckGrant(grant) is { } problem)
            {
                throw new AccessChangeException($"Role '{role.Name}': {problem}.");
            }
        }

        await _store.SaveRoleAsync(role with { Origin = RoleOrigin.Store }, actor.Name, cancellationToken).ConfigureAwait(false);
        Invalidate();
        await AuditChangeAsync(actor, AuditKinds.RoleChanged, role.Name, new JsonObject
        {
            ["change"] = "saved",
            ["grants"] = new JsonArray([.. role.Grants.Select(g => (JsonNode?)JsonValue.Create(g.ToString()))]),
        }, cancellationToken).ConfigureAwait(false);
    }

    public async Task<bool> DeleteRoleAsync(Principal actor, string name, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(actor);
        await RequireAsync(actor, Permissions.RoleManage, name, cancellationToken).ConfigureAwait(false);
        if (BuiltInRoles.IsBuiltIn(name) || _fileRoles.Any(r => string.Equals(r.Name, name, StringComparison.OrdinalIgnoreCase)))
        {
            throw new AccessChangeException($"Role '{name}' is built in or defined in a file; it cannot be deleted here.");
        }

        var removed = await _store.DeleteRoleAsync(name, cancellationToken).ConfigureAwait(false);
        Invalidate();
        if (removed)
        {
            await AuditChangeAsync(actor, AuditKinds.RoleChanged, name, new JsonObject { ["change"] = "deleted" }, cancellationToken).ConfigureAwait(false);
        }

        return removed;
    }

    /// <summary>Puts a user on the administrators' whitelist, or takes them off it.</summary>
    public async Task SetAdministratorAsync(Principal actor, string userName, bool on, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(actor);
        await RequireAsync(actor, Permissions.UserManage, userName, cancellationToken).ConfigureAwait(false);
        var user = await RequireUserAsync(userName, cancellationToken).ConfigureAwait(false);
        if (!on && user.IsAdmin && await _users.CountAdminsAsync(cancellationToken).ConfigureAwait(false) <= 1)
        {
            throw new AccessChangeException($"{user.Name} is the last administrator; put someone else on the whitelist first.");
        }

        await _users.SetAdminAsync(user.Id, on, cancellationToken).ConfigureAwait(false);
        Invalidate();
        await AuditChangeAsync(actor, AuditKinds.UserChanged, user.Name, new JsonObject { ["administrator"] = on }, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Adds a node; its parent must exist (or it is a root). Needs <c>tree.manage</c> on the new path.</summary>
    public async Task AddNodeAsync(Principal actor, string path, string description, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(actor);
        if (ApplicationTree.CheckNewPath(path) is { } problem)
        {
            throw new AccessChangeException($"'{path}' cannot be a node: {problem}.");
        }

        await RequireAsync(actor, Permissions.TreeManage, path, cancellationToken).ConfigureAwait(false);
        var tree = await TreeAsync(cancellationToken).ConfigureAwait(false);
        if (ApplicationTree.Parent(path) is { } parent && !tree.Contains(parent))
        {
            throw new AccessChangeException($"Add {parent} first: a node's parent must exist.");
        }

        if (!await _store.AddNodeAsync(new TreeNodeRecord(path, description, actor.Name, _time.GetUtcNow()), cancellationToken).ConfigureAwait(false))
        {
            throw new AccessChangeException($"{path} exists already.");
        }

        Invalidate();
        await AuditChangeAsync(actor, AuditKinds.TreeChanged, path, new JsonObject { ["change"] = "node added", ["description"] = description }, cancellationToken).ConfigureAwait(false);
    }

    public async Task<int> RemoveNodeAsync(Principal actor, string path, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(actor);
        await RequireAsync(actor, Permissions.TreeManage, path, cancellationToken).ConfigureAwait(false);
        var removed = await _store.RemoveNodeAsync(path, cancellationToken).ConfigureAwait(false);
        Invalidate();
        if (removed > 0)
        {
            await AuditChangeAsync(actor, AuditKinds.TreeChanged, path, new JsonObject { ["change"] = "node removed", ["nodes_removed"] = removed }, cancellationToken).ConfigureAwait(false);
        }

        return removed;
    }

    /// <summary>
    /// Makes a user an owner or member of a node. Administrators with <c>tree.manage</c> may do anything; an owner
    /// of a node may add members at that node or below it, but not owners.
    /// </summary>
    public async Task SetMemberAsync(Principal actor, string path, string userName, TreeMemberKind kind, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(actor);
        var tree = await TreeAsync(cancellationToken).ConfigureAwait(false);
        if (!tree.Contains(path))
        {
            throw new AccessChangeException($"There is no node {path}.");
        }

        await RequireTreeRightAsync(actor, tree, path, kind, cancellationToken).ConfigureAwait(false);
        var user = await RequireUserAsync(userName, cancellationToken).ConfigureAwait(false);
        await _store.SetMemberAsync(new TreeMemberRecord(path, user.Id, kind, actor.Name, _time.GetUtcNow()), cancellationToken).ConfigureAwait(false);
        Invalidate();
        await AuditChangeAsync(actor, AuditKinds.TreeChanged, path, new JsonObject { ["change"] = kind == TreeMemberKind.Owner ? "owner set" : "member set", ["user"] = user.Name }, cancellationToken).ConfigureAwait(false);
    }

    public async Task<bool> RemoveMemberAsync(Principal actor, string path, string userName, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(actor);
        var tree = await TreeAsync(cancellationToken).ConfigureAwait(false);
        var user = await RequireUserAsync(userName, cancellationToken).ConfigureAwait(false);
        var current = tree.MembersAt(path).FirstOrDefault(m => m.UserId == user.Id);
        await RequireTreeRightAsync(actor, tree, path, current?.Kind ?? TreeMemberKind.Member, cancellationToken).ConfigureAwait(false);
        var removed = await _store.RemoveMemberAsync(path, user.Id, cancellationToken).ConfigureAwait(false);
        Invalidate();
        if (removed)
        {
            await AuditChangeAsync(actor, AuditKinds.TreeChanged, path, new JsonObject { ["change"] = "member removed", ["user"] = user.Name }, cancellationToken).ConfigureAwait(false);
        }

        return removed;
    }

    private async Task RequireTreeRightAsync(Principal actor, ApplicationTree tree, string path, TreeMemberKind kind, CancellationToken cancellationToken)
    {
        var manage = await AuthorizeAsync(actor, Permissions.TreeManage, path, cancellationToken).ConfigureAwait(false);
        if (manage.Allowed)
        {
            return;
        }

        if (kind == TreeMemberKind.Member && actor.User is { } user && tree.PlaceOf(user.Id, path) == TreeMemberKind.Owner)
        {
            return;
        }

        await AuditDenialAsync(actor, Permissions.TreeManage, path, manage, cancellationToken).ConfigureAwait(false);
        throw new AccessChangeException(kind == TreeMemberKind.Member
            ? $"Only an owner of {path} (or of a node above it) or an administrator may change its members."
            : $"Only an administrator may change the owners of {path}.")
        {
            Forbidden = true,
        };
    }

    private async Task RequireAsync(Principal actor, string permission, string resource, CancellationToken cancellationToken)
    {
        var decision = await AuthorizeAsync(actor, permission, resource, cancellationToken).ConfigureAwait(false);
        if (!decision.Allowed)
        {
            await AuditDenialAsync(actor, permission, resource, decision, cancellationToken).ConfigureAwait(false);
            throw new AccessChangeException(decision.Explanation!) { Forbidden = true };
        }
    }

    private async Task<UserRecord> RequireUserAsync(string name, CancellationToken cancellationToken) =>
        await _users.FindByNameAsync(name, cancellationToken).ConfigureAwait(false)
            ?? throw new AccessChangeException($"There is no user '{name}'.");

    private Task<AuditRecord> AuditDenialAsync(Principal actor, string permission, string resource, AccessDecision decision, CancellationToken cancellationToken) =>
        _audit.WriteAsync(new AuditEntry
        {
            Kind = AuditKinds.Decision,
            Actor = actor.Name,
            Door = actor.Door,
            Place = actor.Place,
            Subject = $"{permission} on {resource}",
            Decision = "deny",
            Rule = decision.Rule,
        }, cancellationToken);

    /// <summary>Records a change made by <paramref name="actor"/>.</summary>
    public Task AuditChangeAsync(Principal actor, string kind, string subject, JsonObject? detail, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(actor);
        return _audit.WriteAsync(new AuditEntry
        {
            Kind = kind,
            Actor = actor.Name,
            Door = actor.Door,
            Place = actor.Place,
            Subject = subject,
            Detail = detail,
        }, cancellationToken);
    }
}
