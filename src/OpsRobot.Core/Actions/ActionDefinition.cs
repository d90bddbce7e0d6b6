using System.Text.Json.Nodes;

namespace OpsRobot.Core.Actions;

/// <summary>The JSON-schema-like types an action parameter can have (StackStorm's names).</summary>
#pragma warning disable CA1720 // The names are the ones pack authors write in YAML; renaming them would hide that.
public enum ParameterType
{
    String,
    Integer,
    Number,
    Boolean,
    Array,
    Object,
}
#pragma warning restore CA1720

/// <summary>One parameter of an action, as declared in the action's YAML.</summary>
public sealed record ParameterDefinition(string Name, ParameterType Type)
{
    public string Description { get; init; } = string.Empty;

    public bool Required { get; init; }

    /// <summary>The value used when the caller gives none; null when there is no default.</summary>
    public JsonNode? Default { get; init; }

    /// <summary>The only values allowed, when set.</summary>
    public IReadOnlyList<JsonNode?>? Enum { get; init; }

    /// <summary>Masked everywhere it could be seen: chat, logs, API answers, the execution record.</summary>
    public bool Secret { get; init; }

    /// <summary>Where the value goes among a script's positional arguments (StackStorm's <c>position</c>).</summary>
    public int? Position { get; init; }

    /// <summary>A caller may not override the default (StackStorm's <c>immutable</c>).</summary>
    public bool Immutable { get; init; }
}

/// <summary>What to do when an action already runs as many times as its concurrency limit allows.</summary>
public enum ConcurrencyMode
{
    /// <summary>Wait for a slot (the execution stays <c>scheduled</c>).</summary>
    Queue,

    /// <summary>Refuse the new execution at once.</summary>
    Refuse,
}

/// <summary>Per-action policies: a concurrency limit, and a retry on failure or timeout.</summary>
public sealed record ActionPolicies
{
    /// <summary>At most this many executions of the action at once; null for no limit.</summary>
    public int? ConcurrencyLimit { get; init; }

    public ConcurrencyMode ConcurrencyMode { get; init; } = ConcurrencyMode.Queue;

    /// <summary>How many times to try again after a failure or timeout (0: never).</summary>
    public int RetryCount { get; init; }

    public TimeSpan RetryDelay { get; init; } = TimeSpan.Zero;

    /// <summary>Retry on a failure (non-zero exit, HTTP error), not only on a timeout.</summary>
    public bool RetryOnFailure { get; init; } = true;

    public bool RetryOnTimeout { get; init; } = true;
}

/// <summary>An action: a unit of work with typed parameters, run by a runner. Loaded from <c>packs/PACK/actions/*.yaml</c>.</summary>
public sealed record ActionDefinition(string Pack, string Name, string RunnerType)
{
    /// <summary><c>pack.name</c>, the action's reference.</summary>
    public string Ref => $"{Pack}.{Name}";

    public string Description { get; init; } = string.Empty;

    public bool Enabled { get; init; } = true;

    /// <summary>The script or file the runner uses, relative to the pack's <c>actions/</c> folder (StackStorm's rule).</summary>
    public string? EntryPoint { get; init; }

    public IReadOnlyList<ParameterDefinition> Parameters { get; init; } = [];

    /// <summary>How long one run may take before its whole process tree is killed.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromMinutes(10);

    public ActionPolicies Policies { get; init; } = new();

    /// <summary>The pack's folder on disk (absolute).</summary>
    public string PackDirectory { get; init; } = string.Empty;

    /// <summary>The YAML file the action was loaded from, for error messages.</summary>
    public string SourceFile { get; init; } = string.Empty;

    /// <summary>Access rules: sudo, read-only, rooms, and the parameters that name application nodes or hosts.</summary>
    public Access.CommandGuards Guards { get; init; } = Access.CommandGuards.None;

    /// <summary>The absolute path of <see cref="EntryPoint"/>, or null.</summary>
    public string? EntryPointPath => EntryPoint is null ? null : Path.GetFullPath(Path.Combine(PackDirectory, "actions", EntryPoint));
}
