namespace OpsRobot.Core.Packs;

/// <summary>A pack's manifest (<c>pack.yaml</c>), with StackStorm's field names.</summary>
/// <param name="Name">The pack's reference name (<c>name</c>, or <c>ref</c> when present): lowercase letters, digits and underscores.</param>
/// <param name="Version">Its version string.</param>
/// <param name="Description">What it is for.</param>
/// <param name="Directory">The folder it was loaded from.</param>
public sealed record Pack(string Name, string Version, string Description, string Directory)
{
    public string? Author { get; init; }

    public string? Email { get; init; }

    public IReadOnlyList<string> Keywords { get; init; } = [];
}

/// <summary>A problem found while loading a pack, pointing at the exact place in the file.</summary>
public sealed record PackError(string File, int Line, int Column, string Message)
{
    public override string ToString() => Line > 0 ? $"{File}:{Line}:{Column}: {Message}" : $"{File}: {Message}";
}

/// <summary>
/// What loading a packs folder produced: the packs that loaded with their actions, and the errors of those that
/// did not. A snapshot: it is replaced whole on reload and never changed in place, so an execution that started
/// with one definition keeps it.
/// </summary>
public sealed record PackLoadResult(IReadOnlyList<Pack> Packs, IReadOnlyList<PackError> Errors)
{
    /// <summary>Every action of the loaded packs, by <c>pack.name</c>.</summary>
    public IReadOnlyDictionary<string, Actions.ActionDefinition> Actions { get; init; } =
        new Dictionary<string, Actions.ActionDefinition>(StringComparer.Ordinal);

    public Actions.ActionDefinition? FindAction(string actionRef) => Actions.GetValueOrDefault(actionRef);
}
