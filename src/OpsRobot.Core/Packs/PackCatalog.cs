using OpsRobot.Core.Status;

namespace OpsRobot.Core.Packs;

/// <summary>
/// The packs currently loaded. The snapshot is replaced whole on reload, so a reader never sees half of a change.
/// </summary>
public sealed class PackCatalog : IStatusSource
{
    private volatile PackLoadResult _current = new([], []);

    public PackLoadResult Current => _current;

    /// <summary>Loads the folder and swaps the snapshot in one step.</summary>
    public PackLoadResult Load(string packsDirectory)
    {
        var result = PackLoader.LoadAll(packsDirectory);
        _current = result;
        return result;
    }

    public ValueTask<ComponentStatus> GetStatusAsync(CancellationToken cancellationToken)
    {
        var current = _current;
        var names = string.Join(", ", current.Packs.Select(p => $"{p.Name} {p.Version}"));
        var detail = $"{current.Packs.Count} loaded" + (names.Length > 0 ? $" ({names})" : string.Empty);
        if (current.Errors.Count > 0)
        {
            detail += $"; {current.Errors.Count} error(s), first: {current.Errors[0]}";
        }

        return ValueTask.FromResult(new ComponentStatus("packs", current.Errors.Count > 0 ? HealthState.Degraded : HealthState.Healthy, detail));
    }
}
