namespace OpsRobot.Core.Access;

/// <summary>Access control's settings, under <c>OpsRobot:Access</c>.</summary>
public sealed class AccessOptions
{
    /// <summary>The role of a chat identity linked to no user.</summary>
    public string UnlinkedRole { get; set; } = BuiltInRoles.Guest;

    /// <summary>The role of a user who has been given none.</summary>
    public string DefaultUserRole { get; set; } = BuiltInRoles.Viewer;

    /// <summary>The role whose grants rules act with (their identity is <c>rule:pack.name</c>).</summary>
    public string RuleRole { get; set; } = BuiltInRoles.Operator;

    /// <summary>User names put on the administrators' whitelist at every start (configuration as code).</summary>
    public IList<string> Administrators { get; } = [];

    /// <summary>How long a confirmed sudo elevation lasts.</summary>
    public TimeSpan ElevationWindow { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>How long a sudo confirmation code is valid.</summary>
    public TimeSpan ElevationCodeLifetime { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>How long a code from the web console for linking a chat identity is valid.</summary>
    public TimeSpan LinkCodeLifetime { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>How long a bearer token from <c>opsrobot login</c> lasts.</summary>
    public TimeSpan TokenLifetime { get; set; } = TimeSpan.FromHours(12);

    /// <summary>
    /// How long the server trusts its cached view of roles, identities and the tree when a change comes from outside
    /// (another process writing the same database). Changes made through the server apply at once.
    /// </summary>
    public TimeSpan CacheFor { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Failed <c>!link</c> or <c>!sudo confirm</c> codes one identity may try per quarter hour.</summary>
    public int MaxCodeAttempts { get; set; } = 5;
}
