using System.Text.RegularExpressions;
using YamlDotNet.RepresentationModel;

namespace OpsRobot.Core.Packs;

/// <summary>
/// Reads pack folders from disk. Loading is all-or-nothing per pack: a pack with any error is left out whole and
/// every error names its file, line and column.
/// </summary>
public static partial class PackLoader
{
    /// <summary>The largest pack file read; a larger one is refused rather than parsed.</summary>
    public const long MaxFileBytes = PackYaml.MaxFileBytes;

    [GeneratedRegex("^[a-z0-9_]{1,64}$", RegexOptions.CultureInvariant, matchTimeoutMilliseconds: 100)]
    private static partial Regex PackNamePattern();

    /// <summary>Loads every pack under <paramref name="packsDirectory"/> (one sub-folder each, with a <c>pack.yaml</c>).</summary>
    public static PackLoadResult LoadAll(string packsDirectory)
    {
        ArgumentNullException.ThrowIfNull(packsDirectory);
        var packs = new List<Pack>();
        var errors = new List<PackError>();
        if (!System.IO.Directory.Exists(packsDirectory))
        {
            errors.Add(new PackError(packsDirectory, 0, 0, "the packs folder does not exist"));
            return new PackLoadResult(packs, errors);
        }

        var seen = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var dir in System.IO.Directory.EnumerateDirectories(packsDirectory).Order(StringComparer.Ordinal))
        {
            if (Path.GetFileName(dir).StartsWith('.'))
            {
                continue;
            }

            var (pack, packErrors) = LoadOne(dir);
            if (pack is not null && seen.TryGetValue(pack.Name, out var other))
            {
                packErrors = [.. packErrors, new PackError(Path.Combine(dir, "pack.yaml"), 0, 0, $"pack name '{pack.Name}' is already used by {other}")];
            }

            if (packErrors.Count > 0 || pack is null)
            {
                errors.AddRange(packErrors);
                continue;
            }

            seen[pack.Name] = dir;
            packs.Add(pack);
        }

        return new PackLoadResult(packs, errors);
    }

    /// <summary>Loads one pack folder.</summary>
    public static (Pack? Pack, IReadOnlyList<PackError> Errors) LoadOne(string packDirectory)
    {
        ArgumentNullException.ThrowIfNull(packDirectory);
        var file = Path.Combine(packDirectory, "pack.yaml");
        if (!File.Exists(file))
        {
            return (null, [new PackError(file, 0, 0, "missing pack.yaml: every pack folder needs one (name, version, description)")]);
        }

        var (loaded, loadError) = PackYaml.LoadMapping(file, "name, version, description");
        if (loadError is not null)
        {
            return (null, [loadError]);
        }

        var root = loaded!;
        var errors = new List<PackError>();
        string? Scalar(string key, bool required)
        {
            if (!root.Children.TryGetValue(new YamlScalarNode(key), out var node))
            {
                if (required)
                {
                    errors.Add(new PackError(file, (int)root.Start.Line, (int)root.Start.Column, $"missing required field '{key}'"));
                }

                return null;
            }

            if (node is not YamlScalarNode scalar)
            {
                errors.Add(new PackError(file, (int)node.Start.Line, (int)node.Start.Column, $"field '{key}' must be a single value"));
                return null;
            }

            if (required && string.IsNullOrWhiteSpace(scalar.Value))
            {
                errors.Add(new PackError(file, (int)node.Start.Line, (int)node.Start.Column, $"field '{key}' is empty"));
                return null;
            }

            return scalar.Value;
        }

        var name = Scalar("ref", required: false) ?? Scalar("name", required: true);
        var version = Scalar("version", required: true);
        var description = Scalar("description", required: true);
        var author = Scalar("author", required: false);
        var email = Scalar("email", required: false);

        if (name is not null && !PackNamePattern().IsMatch(name))
        {
            var node = root.Children.TryGetValue(new YamlScalarNode("ref"), out var r) ? r : root.Children[new YamlScalarNode("name")];
            errors.Add(new PackError(file, (int)node.Start.Line, (int)node.Start.Column,
                $"pack name '{name}' is not valid: use lowercase letters, digits and underscores (at most 64)"));
        }

        var keywords = new List<string>();
        if (root.Children.TryGetValue(new YamlScalarNode("keywords"), out var kw))
        {
            if (kw is YamlSequenceNode seq)
            {
                keywords.AddRange(seq.Children.OfType<YamlScalarNode>().Select(s => s.Value ?? string.Empty));
            }
            else
            {
                errors.Add(new PackError(file, (int)kw.Start.Line, (int)kw.Start.Column, "field 'keywords' must be a list"));
            }
        }

        if (errors.Count > 0)
        {
            return (null, errors);
        }

        return (new Pack(name!, version!, description!, packDirectory) { Author = author, Email = email, Keywords = keywords }, []);
    }
}
