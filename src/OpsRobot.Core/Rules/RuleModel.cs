using System.Text.Json.Nodes;

namespace OpsRobot.Core.Rules;

/// <summary>
/// One criterion of a rule: the payload key it reads, the operator (<c>type</c>) and its <c>pattern</c>, which may be
/// a template. A <c>search</c> criterion has a <c>condition</c> and child criteria on <c>item.…</c> keys instead.
/// </summary>
public sealed record Criterion(string Key, PayloadPath Path, string Type, JsonNode? Pattern)
{
    /// <summary>The operator as the rule wrote it (an alias such as <c>eq</c>), for messages.</summary>
    public string WrittenType { get; init; } = string.Empty;

    /// <summary><c>search</c> only: any, all, any2any or all2any.</summary>
    public string? Condition { get; init; }

    /// <summary><c>search</c> only: the criteria applied to each item of the list.</summary>
    public IReadOnlyList<Criterion> Children { get; init; } = [];
}

/// <summary>
/// A rule, in StackStorm's layout: when an event of <see cref="TriggerType"/> arrives and every criterion holds, run
/// <see cref="ActionRef"/> with the templated <see cref="ActionParameters"/>.
/// </summary>
public sealed record RuleDefinition(string Pack, string Name, string TriggerType, string ActionRef)
{
    /// <summary><c>pack.name</c>.</summary>
    public string Ref => $"{Pack}.{Name}";

    /// <summary>
    /// The name the rule acts under: executions it starts are requested by this user name, so grants and audit
    /// treat it as its own principal (<c>rule:pack.name</c>), never as the pack author or whoever sent the event.
    /// </summary>
    public string Identity => $"rule:{Ref}";

    public string Description { get; init; } = string.Empty;

    public bool Enabled { get; init; } = true;

    /// <summary>The trigger's parameters (a webhook's name, a timer's schedule).</summary>
    public JsonObject TriggerParameters { get; init; } = [];

    /// <summary>Every one must hold (StackStorm: criteria are AND-ed).</summary>
    public IReadOnlyList<Criterion> Criteria { get; init; } = [];

    /// <summary>The action's parameters; strings may be templates over <c>trigger</c> and <c>kv</c>.</summary>
    public JsonObject ActionParameters { get; init; } = [];

    /// <summary>The file it was loaded from, for messages.</summary>
    public string SourceFile { get; init; } = string.Empty;
}
