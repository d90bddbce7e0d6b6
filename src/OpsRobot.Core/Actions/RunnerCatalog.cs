using System.Collections.Frozen;

namespace OpsRobot.Core.Actions;

/// <summary>The runners registered, found by any of their names.</summary>
public sealed class RunnerCatalog
{
    private readonly FrozenDictionary<string, IRunner> _byName;

    public RunnerCatalog(IEnumerable<IRunner> runners)
    {
        ArgumentNullException.ThrowIfNull(runners);
        var map = new Dictionary<string, IRunner>(StringComparer.Ordinal);
        foreach (var runner in runners)
        {
            foreach (var name in runner.Names)
            {
                if (!map.TryAdd(name, runner))
                {
                    throw new InvalidOperationException($"Two runners answer to '{name}': {map[name].GetType().Name} and {runner.GetType().Name}.");
                }
            }
        }

        _byName = map.ToFrozenDictionary(StringComparer.Ordinal);
    }

    public IReadOnlyCollection<string> Names => _byName.Keys;

    public IRunner? Find(string runnerType) => _byName.GetValueOrDefault(runnerType);
}
