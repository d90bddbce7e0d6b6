using OpsRobot.Core.Status;

namespace OpsRobot.Core.Packs;

/// <summary>
/// The packs currently loaded. The snapshot is replaced whole on (re)load, so a reader never sees half of a
/// change and an execution keeps the definitions it started with. A pack that fails to reload keeps its previous
/// good version loaded, and the errors say why the new one was refused.
/// </summary>
public sealed class PackCatalog(PackLoader loader) : IStatusSource
{
    private readonly Lock _gate = new();
    private volatile PackLoadResult _current = PackLoadResult.Empty;

    public PackLoadResult Current => _current;


    /// <summary>Loads the folder and swaps the snapshot in one step.</summary>
    public PackLoadResult Load(string packsDirectory)
    {
        ArgumentNullException.ThrowIfNull(packsDirectory);
        PackLoadResult next;
        lock (_gate)
        {
            var fresh = loader.LoadAll(packsDirectory);
            var previous = _current;
            var root = Path.GetFullPath(packsDirectory);
            var failed = fresh.Errors
                .Select(e => PackFolderOf(root, e.File))
                .Where(d => d is not null)
                .ToHashSet(StringComparer.Ordinal);
            var freshNames = fresh.Loaded.Select(p => p.Pack.Name).ToHashSet(StringComparer.Ordinal);
            var kept = previous.Loaded
                .Where(p => failed.Contains(Path.GetFullPath(p.Pack.Directory)) && !freshNames.Contains(p.Pack.Name))
                .ToList();
            var errors = fresh.Errors.ToList();
            var merged = kept.Count == 0 ? fresh.Loaded.ToList() : PackLoader.RefuseBrokenAliases([.. fresh.Loaded, .. kept], errors);
            next = new PackLoadResult(merged, errors) { KeptPrevious = [.. kept.Where(merged.Contains).Select(p => p.Pack.Name)] };
            _current = next;
        }

        return next;
    }

    public ValueTask<ComponentStatus> GetStatusAsync(CancellationToken cancellationToken)
    {
        var current = _current;
        var names = string.Join(", ", current.Packs.Select(p => $"{p.Name} {p.Version}"));
        var detail = $"{current.Packs.Count} loaded" + (names.Length > 0 ? $" ({names})" : string.Empty)
            + $", {current.Actions.Count} action(s), {current.Aliases.Count} alias(es)";
        if (current.Errors.Count > 0)
        {
            detail += $"; {current.Errors.Count} error(s), first: {current.Errors[0]}";
        }

        return ValueTask.FromResult(new ComponentStatus("packs", current.Errors.Count > 0 ? HealthState.Degraded : HealthState.Healthy, detail));
    }

    /// <summary>The pack folder (a direct child of the packs folder) that holds <paramref name="file"/>.</summary>
    private static string? PackFolderOf(string root, string file)
    {
        var full = Path.GetFullPath(file);
        if (!full.StartsWith(root + Path.DirectorySeparatorChar, StringComparison.Ordinal))
        {
            return null;
        }

        var rest = full[(root.Length + 1)..];
        var slash = rest.IndexOf(Path.DirectorySeparatorChar, StringComparison.Ordinal);
        return Path.Combine(root, slash < 0 ? rest : rest[..slash]);
    }
}
