using System.Globalization;
using System.Text.RegularExpressions;

namespace OpsRobot.Core.Access;

/// <summary>
/// One grant: a permission (or a wildcard over permissions) on resources named by wildcard patterns.
/// </summary>
/// <param name="Permission">A permission name (<c>action.execute</c>) or pattern (<c>action.*</c>, <c>*</c>).</param>
/// <param name="Resources">Patterns over the permission's resource (<c>deploy.*</c>, <c>nagios.ack</c>); <c>*</c> is everything.</param>
public sealed record Grant(string Permission, IReadOnlyList<string> Resources)
{
    /// <summary>When true the grant covers only actions and aliases marked <c>read_only</c>.</summary>
    public bool ReadOnlyOnly { get; init; }

    public bool Covers(string permission, string resource, bool resourceIsReadOnly) =>
        Wildcard.IsMatch(Permission, permission)
        && (!ReadOnlyOnly || resourceIsReadOnly)
        && Resources.Any(r => Wildcard.IsMatch(r, resource));

    /// <summary>How the grant reads in an answer or the audit: <c>action.execute on deploy.*</c>.</summary>
    public override string ToString() =>
        $"{Permission} on {string.Join(", ", Resources)}{(ReadOnlyOnly ? " (read-only actions)" : string.Empty)}";
}

/// <summary>Where a role was defined.</summary>
public enum RoleOrigin
{
    /// <summary>Shipped with OpsRobot; cannot be changed.</summary>
    BuiltIn,

    /// <summary>From a YAML file in the roles folder: configuration as code, changed by editing the file.</summary>
    File,

    /// <summary>Made through the API, the CLI or chat, kept in the store.</summary>
    Store,
}

/// <summary>A named set of grants.</summary>
public sealed record Role(string Name, string Description, IReadOnlyList<Grant> Grants, RoleOrigin Origin)
{
    /// <summary>Users the role's file assigns it to (file roles only); added to the assignments in the store.</summary>
    public IReadOnlyList<string> FileUsers { get; init; } = [];

    /// <summary>The file a <see cref="RoleOrigin.File"/> role came from.</summary>
    public string? SourceFile { get; init; }
}

/// <summary>The roles that ship with OpsRobot, and the rule for role names.</summary>
public static partial class BuiltInRoles
{
    public const string Admin = "admin";
    public const string Operator = "operator";
    public const string Viewer = "viewer";
    public const string Guest = "guest";

    private static readonly string[] Everything = ["*"];

    /// <summary>Everything, everywhere. Administrative commands still need the administrators' whitelist.</summary>
    public static Role AdminRole { get; } = new(Admin, "Everything, on every resource.", [new Grant("*", Everything)], RoleOrigin.BuiltIn);

    /// <summary>Runs and follows operations; does not manage users, roles, keys or the tree.</summary>
    public static Role OperatorRole { get; } = new(Operator, "Runs every action and alias, follows and cancels executions, reads and sets the datastore.",
    [
        new Grant("pack.view", Everything), new Grant("action.*", Everything), new Grant("alias.*", Everything),
        new Grant("execution.*", Everything), new Grant("rule.view", Everything), new Grant("workflow.*", Everything),
        new Grant("datastore.*", Everything), new Grant("webhook.send", Everything), new Grant("tree.view", Everything),
        new Grant("user.view", Everything), new Grant("role.view", Everything), new Grant("alert.*", Everything),
        new Grant("host.view", Everything), new Grant("host.manage", Everything),
    ], RoleOrigin.BuiltIn);

    /// <summary>Sees everything that is not secret and runs read-only commands.</summary>
    public static Role ViewerRole { get; } = new(Viewer, "Sees packs, actions, executions, rules and the tree; runs only read-only commands.",
    [
        new Grant("pack.view", Everything), new Grant("action.view", Everything), new Grant("alias.view", Everything),
        new Grant("action.execute", Everything) { ReadOnlyOnly = true }, new Grant("alias.run", Everything) { ReadOnlyOnly = true },
        new Grant("execution.view", Everything), new Grant("rule.view", Everything), new Grant("workflow.view", Everything),
        new Grant("datastore.view", Everything), new Grant("tree.view", Everything), new Grant("user.view", Everything),
        new Grant("role.view", Everything), new Grant("alert.view", Everything), new Grant("host.view", Everything),
    ], RoleOrigin.BuiltIn);

    /// <summary>What a chat identity that is linked to no user gets by default: help, whoami and read-only commands.</summary>
    public static Role GuestRole { get; } = new(Guest, "For chat identities linked to no user: help, whoami, link and read-only commands.",
    [
        new Grant("action.view", Everything) { ReadOnlyOnly = true }, new Grant("alias.view", Everything) { ReadOnlyOnly = true },
        new Grant("action.execute", Everything) { ReadOnlyOnly = true }, new Grant("alias.run", Everything) { ReadOnlyOnly = true },
    ], RoleOrigin.BuiltIn);

    public static IReadOnlyList<Role> All { get; } = [AdminRole, OperatorRole, ViewerRole, GuestRole];

    public static bool IsBuiltIn(string name) => All.Any(r => string.Equals(r.Name, name, StringComparison.OrdinalIgnoreCase));

    public const string NameRule = "1 to 64 lowercase letters, digits, '_' or '-', starting with a letter";

    [GeneratedRegex("^[a-z][a-z0-9_-]{0,63}$", RegexOptions.CultureInvariant, matchTimeoutMilliseconds: 100)]
    private static partial Regex NamePattern();

    public static bool IsValidName(string? name) => name is not null && NamePattern().IsMatch(name);

    /// <summary>Checks a grant's parts; null when it is sound, else what is wrong, for the role's author.</summary>
    public static string? CheckGrant(Grant grant)
    {
        ArgumentNullException.ThrowIfNull(grant);
        if (string.IsNullOrWhiteSpace(grant.Permission) || !Permissions.IsKnownPattern(grant.Permission))
        {
            return string.Create(CultureInfo.InvariantCulture,
                $"unknown permission '{grant.Permission}'; permissions are {string.Join(", ", Permissions.All.Keys.Order(StringComparer.Ordinal))} (wildcards allowed, e.g. action.*)");
        }

        if (grant.Resources.Count == 0)
        {
            return $"grant '{grant.Permission}' names no resources; use [\"*\"] for all";
        }

        foreach (var r in grant.Resources)
        {
            if (string.IsNullOrWhiteSpace(r) || r.Length > 200 || r.Any(char.IsControl) || r.Any(char.IsWhiteSpace))
            {
                return $"grant '{grant.Permission}' has a bad resource pattern '{r}': no spaces or control characters, at most 200 characters";
            }
        }

        return null;
    }
}
