using System.Globalization;
using System.Text.Json;

namespace OpsRobot.Cli.Client;

/// <summary><c>opsrobot packs reload</c>: the server reads its packs folder again (the offline pack verbs are in <see cref="Cli.PackVerbs"/>).</summary>
internal static class PacksReloadVerb
{
    /// <summary>What a pack may contain, counted when the server says how many.</summary>
    private static readonly string[] Kinds = ["actions", "aliases", "rules", "workflows"];

    public static async Task<int> ReloadAsync(OpsRobotClient client, CancellationToken cancellationToken)
    {
        var answer = await client.PostAsync("api/v1/packs/reload", null, cancellationToken);
        if (answer.ValueKind != JsonValueKind.Object || !answer.TryGetProperty("packs", out var packs) || packs.ValueKind != JsonValueKind.Array)
        {
            throw new UnexpectedAnswerException("The answer to POST /api/v1/packs/reload has no 'packs' list.");
        }

        var loaded = packs.EnumerateArray().Select(DescribePack).ToList();
        await Console.Out.WriteLineAsync(loaded.Count == 0
            ? "Loaded no packs."
            : $"Loaded {loaded.Count.ToString(CultureInfo.InvariantCulture)} pack{(loaded.Count == 1 ? string.Empty : "s")}:");
        foreach (var line in loaded)
        {
            await Console.Out.WriteLineAsync("  " + line);
        }

        foreach (var kept in Strings(answer, "keptPrevious"))
        {
            await Console.Out.WriteLineAsync($"Kept the previous version of pack {kept}: its new files have errors.");
        }

        var errors = Strings(answer, "errors");
        foreach (var error in errors)
        {
            await Console.Error.WriteLineAsync(error);
        }

        if (errors.Count > 0)
        {
            await Console.Error.WriteLineAsync($"opsrobot: {errors.Count.ToString(CultureInfo.InvariantCulture)} error{(errors.Count == 1 ? string.Empty : "s")} in the packs.");
            return ExitCodes.Failed;
        }

        return ExitCodes.Succeeded;
    }

    /// <summary><c>core 0.1.0 (6 actions, 2 aliases)</c>, from whichever of those fields the server sent.</summary>
    private static string DescribePack(JsonElement pack)
    {
        if (pack.ValueKind != JsonValueKind.Object)
        {
            return Text.Value(pack);
        }

        var text = Text.Field(pack, "name") ?? "?";
        if (Text.Field(pack, "version") is { } version)
        {
            text += " " + version;
        }

        var counts = Kinds
            .Select(name => pack.TryGetProperty(name, out var n) ? (name, count: n.ValueKind switch
            {
                JsonValueKind.Number when n.TryGetInt32(out var i) => i,
                JsonValueKind.Array => n.GetArrayLength(),
                _ => -1,
            }) : (name, count: -1))
            .Where(c => c.count >= 0)
            .Select(c => $"{c.count.ToString(CultureInfo.InvariantCulture)} {(c.count == 1 ? c.name.TrimEnd('s').Replace("aliase", "alias", StringComparison.Ordinal) : c.name)}")
            .ToList();
        return counts.Count == 0 ? text : $"{text} ({string.Join(", ", counts)})";
    }

    private static List<string> Strings(JsonElement answer, string name) =>
        answer.TryGetProperty(name, out var list) && list.ValueKind == JsonValueKind.Array
            ? [.. list.EnumerateArray().Select(e => e.ValueKind == JsonValueKind.String ? OpsRobotClient.OneLine(e.GetString() ?? string.Empty) : e.GetRawText())]
            : [];
}
