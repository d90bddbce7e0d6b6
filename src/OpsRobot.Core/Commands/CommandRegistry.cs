using System.Collections.Frozen;

namespace OpsRobot.Core.Commands;

/// <summary>
/// The commands the robot knows, indexed by their leading word so that finding one costs the same with ten
/// commands as with a thousand.
/// </summary>
public sealed class CommandRegistry
{
    private readonly FrozenDictionary<string, IRobotCommand> _byName;

    public CommandRegistry(IEnumerable<IRobotCommand> commands)
    {
        ArgumentNullException.ThrowIfNull(commands);
        var map = new Dictionary<string, IRobotCommand>(StringComparer.OrdinalIgnoreCase);
        foreach (var command in commands)
        {
            if (!map.TryAdd(command.Info.Name, command))
            {
                throw new InvalidOperationException(
                    $"Two commands are named '{command.Info.Name}': one in pack '{map[command.Info.Name].Info.Pack}' and one in pack '{command.Info.Pack}'.");
            }
        }

        _byName = map.ToFrozenDictionary(StringComparer.OrdinalIgnoreCase);
        All = [.. _byName.Values.OrderBy(c => c.Info.Pack, StringComparer.Ordinal).ThenBy(c => c.Info.Name, StringComparer.Ordinal)];
    }

    /// <summary>Every command, ordered by pack then name.</summary>
    public IReadOnlyList<IRobotCommand> All { get; }

    public IRobotCommand? Find(string name) => _byName.GetValueOrDefault(name);

    /// <summary>The commands whose names are closest to <paramref name="name"/>, for "did you mean".</summary>
    public IReadOnlyList<IRobotCommand> Suggest(string name, int max = 3)
    {
        ArgumentNullException.ThrowIfNull(name);
        var lowered = name.ToLowerInvariant();
        return All
            .Select(c => (Command: c, Distance: Similarity.Distance(lowered, c.Info.Name.ToLowerInvariant())))
            .Where(x => x.Distance <= Math.Max(2, lowered.Length / 3) || x.Command.Info.Name.StartsWith(lowered, StringComparison.OrdinalIgnoreCase))
            .OrderBy(x => x.Distance)
            .ThenBy(x => x.Command.Info.Name, StringComparer.Ordinal)
            .Take(max)
            .Select(x => x.Command)
            .ToList();
    }
}
