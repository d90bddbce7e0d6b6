using System.Diagnostics;
using System.Globalization;
using OpsRobot.Core.Commands;
using OpsRobot.Core.Packs;

// Alias matching as packs grow: the same lines against 10 and 1,000 aliases. Hubot tries every listener's regex
// in turn; OpsRobot indexes aliases by their leading words, so the cost should barely move.
var results = new List<(string Name, double PerSecond)>();
foreach (var count in new[] { 10, 1000 })
{
    var index = AliasIndex.Build(Snapshot(count));
    var lines = Enumerable.Range(0, 1000).Select(i => $"deploy{i % count} booking-{i} to prod").ToArray();
    foreach (var line in lines.Take(200))
    {
        if (index.Match(line).Best is null)
        {
            throw new InvalidOperationException($"'{line}' did not match");
        }
    }

    var clock = Stopwatch.StartNew();
    var n = 0;
    while (clock.Elapsed < TimeSpan.FromSeconds(2))
    {
        foreach (var line in lines)
        {
            _ = index.Match(line);
        }

        n += lines.Length;
    }

    var perSecond = n / clock.Elapsed.TotalSeconds;
    results.Add(($"alias match, {count} aliases", perSecond));
}

foreach (var (name, perSecond) in results)
{
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{name}\t{perSecond:0}"));
}

Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"alias match, ratio 1000/10\t{results[1].PerSecond / results[0].PerSecond:0.00}"));

static PackLoadResult Snapshot(int count)
{
    var actions = new List<OpsRobot.Core.Actions.ActionDefinition>();
    var aliases = new List<AliasDefinition>();
    for (var i = 0; i < count; i++)
    {
        var name = $"deploy{i}";
        actions.Add(new OpsRobot.Core.Actions.ActionDefinition("bench", name, "noop"));
        aliases.Add(new AliasDefinition("bench", name, $"bench.{name}")
        {
            Formats = [new AliasFormatEntry($"{name} <app> to <env>", [$"{name} {{{{ app }}}} to {{{{ env=staging }}}}", $"{name} {{{{ app }}}}"])],
        });
    }

    return new PackLoadResult([new LoadedPack(new Pack("bench", "1", "bench", "/"), actions, aliases)], []);
}
