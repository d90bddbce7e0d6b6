namespace OpsRobot.Core.Access;

/// <summary>Why a request was refused, when it was.</summary>
public enum DenialKind
{
    None,

    /// <summary>No role grants the permission.</summary>
    Permission,

    /// <summary>The command may not run in this room (or in a direct message).</summary>
    Room,

    /// <summary>A scope parameter named no node, or one the person does not belong to.</summary>
    Scope,

    /// <summary>An administrative command from someone not on the whitelist.</summary>
    Whitelist,

    /// <summary>A sudo command typed without <c>!sudo</c>.</summary>
    SudoRequired,

    /// <summary>A sudo command with no open elevation: confirmation is needed first.</summary>
    ElevationRequired,

    /// <summary>The resource is not visible to them: answer as if it did not exist.</summary>
    Hidden,
}

/// <summary>An allow or deny, the rule that decided it (for the audit), and what to tell the person.</summary>
/// <param name="Allowed">Whether the request may go ahead.</param>
/// <param name="Rule">The rule that decided, in words, for the audit.</param>
/// <param name="Explanation">For a refusal: what they are missing and whom to ask.</param>
/// <param name="Kind">What kind of refusal, so callers can answer (or hide) accordingly.</param>
public sealed record AccessDecision(bool Allowed, string Rule, string? Explanation, DenialKind Kind)
{
    public static AccessDecision Allow(string rule) => new(true, rule, null, DenialKind.None);

    public static AccessDecision Deny(DenialKind kind, string rule, string explanation) => new(false, rule, explanation, kind);

    /// <summary>The scope parameters resolved to node paths, for the audit and the execution.</summary>
    public IReadOnlyDictionary<string, string> ResolvedScope { get; init; } = new Dictionary<string, string>(StringComparer.Ordinal);
}
