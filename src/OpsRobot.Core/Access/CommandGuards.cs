namespace OpsRobot.Core.Access;

/// <summary>What a parameter that scopes a command names.</summary>
public enum ScopeKind
{
    /// <summary>A node of the application tree (<c>corp/hotel/booking</c>, or a unique leaf name such as <c>booking</c>).</summary>
    Application,

    /// <summary>A host, resolved to its application node through the CMDB.</summary>
    Host,
}

/// <summary>A parameter that names what the command touches, so running it needs rights on that node.</summary>
public sealed record ScopeParameter(string Parameter, ScopeKind Kind);

/// <summary>
/// The access rules an action or alias declares in its YAML: <c>sudo</c>, <c>admin</c>, <c>read_only</c>, <c>allow_rooms</c>,
/// <c>deny_rooms</c>, <c>allow_direct</c> and <c>scope</c>. An alias's guards add to its action's: both must allow.
/// </summary>
public sealed record CommandGuards
{
    public static CommandGuards None { get; } = new();

    /// <summary>Running it needs the <c>sudo</c> permission and an open elevation.</summary>
    public bool Sudo { get; init; }

    /// <summary>Administrative: runs only for users on the administrators' whitelist, whatever their roles grant.</summary>
    public bool Administrative { get; init; }

    /// <summary>Changes nothing: roles that run only read-only commands may run it.</summary>
    public bool ReadOnly { get; init; }

    /// <summary>Room names (wildcards allowed, optionally <c>platform:room</c>) where it may run; empty: anywhere.</summary>
    public IReadOnlyList<string> AllowRooms { get; init; } = [];

    /// <summary>Room names where it may never run.</summary>
    public IReadOnlyList<string> DenyRooms { get; init; } = [];

    /// <summary>Whether it may run in a direct conversation with the robot.</summary>
    public bool AllowDirect { get; init; } = true;

    /// <summary>Parameters naming application nodes or hosts.</summary>
    public IReadOnlyList<ScopeParameter> Scope { get; init; } = [];

    /// <summary>Both sets of guards at once: the stricter of each.</summary>
    public CommandGuards Combine(CommandGuards other)
    {
        ArgumentNullException.ThrowIfNull(other);
        return new CommandGuards
        {
            Sudo = Sudo || other.Sudo,
            Administrative = Administrative || other.Administrative,
            ReadOnly = ReadOnly && other.ReadOnly,
            AllowRooms = AllowRooms.Count == 0 ? other.AllowRooms : other.AllowRooms.Count == 0 ? AllowRooms : [.. AllowRooms.Intersect(other.AllowRooms, StringComparer.Ordinal)],
            DenyRooms = [.. DenyRooms.Union(other.DenyRooms, StringComparer.Ordinal)],
            AllowDirect = AllowDirect && other.AllowDirect,
            Scope = [.. Scope.Concat(other.Scope).DistinctBy(s => s.Parameter, StringComparer.Ordinal)],
        };
    }
}
