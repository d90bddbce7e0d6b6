using System.Text.Json.Nodes;

namespace OpsRobot.Core.Packs;

/// <summary>One way an alias may be typed: what help shows, and the formats that match.</summary>
/// <param name="Display">What help shows (StackStorm's <c>display</c>); the first representation when absent.</param>
/// <param name="Representations">The format strings matched against chat lines.</param>
public sealed record AliasFormatEntry(string Display, IReadOnlyList<string> Representations);

/// <summary>A chat command that runs an action: StackStorm's action-alias, field for field where they fit.</summary>
public sealed record AliasDefinition(string Pack, string Name, string ActionRef)
{
    public string Ref => $"{Pack}.{Name}";

    public string Description { get; init; } = string.Empty;

    public bool Enabled { get; init; } = true;

    public IReadOnlyList<AliasFormatEntry> Formats { get; init; } = [];

    /// <summary>Parameters set by the alias that a user cannot override (StackStorm's <c>immutable_parameters</c>).</summary>
    public JsonObject ImmutableParameters { get; init; } = [];

    /// <summary>Whether to acknowledge the command at once, and the template to do it with (null: the default acknowledgement).</summary>
    public bool AckEnabled { get; init; } = true;

    public string? AckFormat { get; init; }

    /// <summary>Whether to post the result, and the template to render it with (null: the default result message).</summary>
    public bool ResultEnabled { get; init; } = true;

    public string? ResultFormat { get; init; }

    public string SourceFile { get; init; } = string.Empty;

    /// <summary>Access rules of its own (sudo, rooms, scope), added to its action's.</summary>
    public Access.CommandGuards Guards { get; init; } = Access.CommandGuards.None;
}
