using System.Globalization;
using System.Text;
using OpsRobot.Core.Access;
using OpsRobot.Core.Chat;
using OpsRobot.Core.Commands;
using OpsRobot.Core.Text;
using OpsRobot.Core.Users;

namespace OpsRobot.Core.BuiltIn;

/// <summary>
/// <c>role</c>: list roles, show one, give a role to a user or take it back. Changing needs <c>role.manage</c>
/// and the administrators' whitelist; every change is audited.
/// </summary>
public sealed class RoleCommand(AccessService access, IUserStore users) : IRobotCommand
{
    /// <summary><c>action.execute:deploy.*,nagios.ack</c>; without resources, all (<c>*</c>).</summary>
    private static Grant ParseGrant(string word)
    {
        var colon = word.IndexOf(':', StringComparison.Ordinal);
        return colon < 0
            ? new Grant(word, ["*"])
            : new Grant(word[..colon], word[(colon + 1)..].Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
    }

    public CommandInfo Info { get; } = new("core", "role",
        "role [list | show ROLE | of USER | grant USER ROLE | revoke USER ROLE | define ROLE PERMISSION[:RESOURCE,…]… | delete ROLE]",
        "List roles, give and take them, or define roles kept in the store.")
    { Permission = Permissions.RoleView };

    public async ValueTask<OutgoingMessage> ExecuteAsync(CommandContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var principal = context.Principal!;
        var words = context.Arguments.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        try
        {
            switch (words)
            {
                case [] or ["list"]:
                    var roles = await access.RolesAsync(cancellationToken).ConfigureAwait(false);
                    return new OutgoingMessage(Markdown.Table(["role", "from", "what it is for"],
                        roles.Select(r => (IReadOnlyList<string>)[Markdown.Code(r.Name), r.Origin.ToString().ToLowerInvariant(), r.Description])));
                case ["show", var name]:
                    var role = (await access.RolesAsync(cancellationToken).ConfigureAwait(false)).FirstOrDefault(r => string.Equals(r.Name, name, StringComparison.OrdinalIgnoreCase));
                    return new OutgoingMessage(role is null
                        ? $"There is no role {Markdown.Code(name)}."
                        : $"**{role.Name}** ({role.Origin.ToString().ToLowerInvariant()}): {role.Description}\n" + string.Join("\n", role.Grants.Select(g => "- " + Markdown.Code(g.ToString()))));
                case ["of", var userName]:
                    var user = await users.FindByNameAsync(userName, cancellationToken).ConfigureAwait(false);
                    return new OutgoingMessage(user is null
                        ? $"There is no user {Markdown.Code(userName)}."
                        : $"{user.Name}: {string.Join(", ", await access.RoleNamesOfAsync(user, cancellationToken).ConfigureAwait(false))}{(user.IsAdmin ? " (on the administrators' whitelist)" : string.Empty)}");
                case ["grant", var userName, var roleName]:
                    await access.AssignRoleAsync(principal, userName, roleName, cancellationToken).ConfigureAwait(false);
                    return new OutgoingMessage($"{userName} now has the role {Markdown.Code(roleName)}.");
                case ["define", var roleName, .. var grantWords] when grantWords.Length > 0:
                    var grants = grantWords.Select(ParseGrant).ToList();
                    await access.SaveRoleAsync(principal, new Role(roleName, $"Defined in chat by {principal.Name}", grants, RoleOrigin.Store), cancellationToken).ConfigureAwait(false);
                    return new OutgoingMessage($"Role {Markdown.Code(roleName)} now grants: {string.Join(", ", grants.Select(g => Markdown.Code(g.ToString())))}.");
                case ["delete", var roleName]:
                    return new OutgoingMessage(await access.DeleteRoleAsync(principal, roleName, cancellationToken).ConfigureAwait(false)
                        ? $"Role {Markdown.Code(roleName)} deleted, and taken from everyone who had it."
                        : $"There is no role {Markdown.Code(roleName)} in the store.");
                case ["revoke", var userName, var roleName]:
                    return new OutgoingMessage(await access.UnassignRoleAsync(principal, userName, roleName, cancellationToken).ConfigureAwait(false)
                        ? $"{userName} no longer has the role {Markdown.Code(roleName)}."
                        : $"{userName} did not have the role {Markdown.Code(roleName)} in the store (roles from files change in their file).");
                default:
                    return new OutgoingMessage($"Usage: {Markdown.Code(context.Options.CommandPrefix + Info.Usage)}");
            }
        }
        catch (AccessChangeException ex)
        {
            return new OutgoingMessage(ex.Message);
        }
    }
}

/// <summary>
/// <c>tree</c>: the application tree, its owners and members; adding nodes and owners needs <c>tree.manage</c>
/// and the whitelist, adding members needs that or ownership of the node or one above it.
/// </summary>
public sealed class TreeCommand(AccessService access, IUserStore users) : IRobotCommand
{
    public CommandInfo Info { get; } = new("core", "tree", "tree [PATH | add PATH | owner PATH USER | member PATH USER | remove PATH USER]", "Show the application tree, or change it.") { Permission = Permissions.TreeView };

    public async ValueTask<OutgoingMessage> ExecuteAsync(CommandContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var principal = context.Principal!;
        var words = context.Arguments.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        try
        {
            switch (words)
            {
                case []:
                    return new OutgoingMessage(await ShowAsync(null, cancellationToken).ConfigureAwait(false));
                case ["add", var path]:
                    await access.AddNodeAsync(principal, path, string.Empty, cancellationToken).ConfigureAwait(false);
                    return new OutgoingMessage($"Added {Markdown.Code(path)}.");
                case ["owner", var path, var user]:
                    await access.SetMemberAsync(principal, path, user, TreeMemberKind.Owner, cancellationToken).ConfigureAwait(false);
                    return new OutgoingMessage($"{user} now owns {Markdown.Code(path)} and everything below it.");
                case ["member", var path, var user]:
                    await access.SetMemberAsync(principal, path, user, TreeMemberKind.Member, cancellationToken).ConfigureAwait(false);
                    return new OutgoingMessage($"{user} is now a member of {Markdown.Code(path)} and everything below it.");
                case ["remove", var path, var user]:
                    return new OutgoingMessage(await access.RemoveMemberAsync(principal, path, user, cancellationToken).ConfigureAwait(false)
                        ? $"{user} is no longer in {Markdown.Code(path)}."
                        : $"{user} had no place of their own at {Markdown.Code(path)} (it may come from a node above).");
                case [var path]:
                    return new OutgoingMessage(await ShowAsync(path, cancellationToken).ConfigureAwait(false));
                default:
                    return new OutgoingMessage($"Usage: {Markdown.Code(context.Options.CommandPrefix + Info.Usage)}");
            }
        }
        catch (AccessChangeException ex)
        {
            return new OutgoingMessage(ex.Message);
        }
    }

    private async Task<string> ShowAsync(string? under, CancellationToken cancellationToken)
    {
        var tree = await access.TreeAsync(cancellationToken).ConfigureAwait(false);
        var nodes = tree.Nodes.Where(n => under is null || n.Path == under || n.Path.StartsWith(under + "/", StringComparison.Ordinal)).Take(100).ToList();
        if (nodes.Count == 0)
        {
            return under is null ? "The application tree is empty. `tree add corp` makes its first node." : $"There is no node {Markdown.Code(under)}.";
        }

        var names = new Dictionary<long, string>();
        var sb = new StringBuilder();
        var rows = new List<IReadOnlyList<string>>();
        foreach (var node in nodes)
        {
            var people = new List<string>();
            foreach (var m in tree.MembersAt(node.Path).OrderBy(m => m.Kind).ThenBy(m => m.UserId))
            {
                if (!names.TryGetValue(m.UserId, out var name))
                {
                    name = (await users.FindByIdAsync(m.UserId, cancellationToken).ConfigureAwait(false))?.Name ?? m.UserId.ToString(CultureInfo.InvariantCulture);
                    names[m.UserId] = name;
                }

                people.Add(m.Kind == TreeMemberKind.Owner ? name + " (owner)" : name);
            }

            rows.Add([Markdown.Code(node.Path), string.Join(", ", people)]);
        }

        sb.Append(Markdown.Table(["node", "owners and members here (they hold below too)"], rows));
        return sb.ToString();
    }
}

/// <summary><c>identity</c>: link a chat identity to a user, or unlink it (administrators).</summary>
public sealed class IdentityCommand(AccessService access) : IRobotCommand
{
    public CommandInfo Info { get; } = new("core", "identity", "identity link PLATFORM PLATFORM_USER_ID USER | identity unlink PLATFORM PLATFORM_USER_ID", "Link or unlink a chat identity (administrators).") { Permission = Permissions.UserManage };

    public async ValueTask<OutgoingMessage> ExecuteAsync(CommandContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var principal = context.Principal!;
        var words = context.Arguments.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        try
        {
            switch (words)
            {
                case ["link", var platform, var id, var user]:
                    await access.LinkIdentityAsync(principal, platform, id, user, string.Empty, cancellationToken).ConfigureAwait(false);
                    return new OutgoingMessage($"{Markdown.Code(platform + ":" + id)} is now {user}.");
                case ["unlink", var platform, var id]:
                    return new OutgoingMessage(await access.UnlinkIdentityAsync(principal, platform, id, cancellationToken).ConfigureAwait(false)
                        ? $"{Markdown.Code(platform + ":" + id)} is no longer linked."
                        : $"{Markdown.Code(platform + ":" + id)} was not linked.");
                default:
                    return new OutgoingMessage($"Usage: {Markdown.Code(context.Options.CommandPrefix + Info.Usage)}");
            }
        }
        catch (AccessChangeException ex)
        {
            return new OutgoingMessage(ex.Message);
        }
    }
}
