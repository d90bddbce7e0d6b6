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

/// <summary>One pack with everything it defines.</summary>
public sealed record LoadedPack(Pack Pack, IReadOnlyList<Actions.ActionDefinition> Actions, IReadOnlyList<AliasDefinition> Aliases)
{
    /// <summary>The pack's rules (<c>rules/*.yaml</c>).</summary>
    public IReadOnlyList<Rules.RuleDefinition> Rules { get; init; } = [];
}

/// <summary>
/// What loading a packs folder produced: the packs that loaded with their actions and aliases, and the errors of
/// those that did not. A snapshot: it is replaced whole on reload and never changed in place, so an execution
/// that started with one definition keeps it.
/// </summary>
public sealed record PackLoadResult(IReadOnlyList<LoadedPack> Loaded, IReadOnlyList<PackError> Errors)
{
    public static PackLoadResult Empty { get; } = new([], []);

    public IReadOnlyList<Pack> Packs { get; } = [.. Loaded.Select(p => p.Pack)];

    /// <summary>Every action of the loaded packs, by <c>pack.name</c>.</summary>
    public IReadOnlyDictionary<string, Actions.ActionDefinition> Actions { get; } =
        Loaded.SelectMany(p => p.Actions).ToDictionary(a => a.Ref, StringComparer.Ordinal);

    /// <summary>Every alias of the loaded packs.</summary>
    public IReadOnlyList<AliasDefinition> Aliases { get; } = [.. Loaded.SelectMany(p => p.Aliases)];

    public Actions.ActionDefinition? FindAction(string actionRef) => Actions.GetValueOrDefault(actionRef);

    /// <summary>Every rule of the loaded packs.</summary>
    public IReadOnlyList<Rules.RuleDefinition> Rules { get; } = [.. Loaded.SelectMany(p => p.Rules)];

    /// <summary>Packs whose new version was refused on reload, so their previous version stays loaded.</summary>
    public IReadOnlyList<string> KeptPrevious { get; init; } = [];
}
