using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using OpsRobot.Core.Actions;
using OpsRobot.Core.Templates;
using YamlDotNet.RepresentationModel;

namespace OpsRobot.Core.Packs;

/// <summary>
/// Reads pack folders from disk: <c>pack.yaml</c>, <c>actions/*.yaml</c>, <c>aliases/*.yaml</c>,
/// <c>policies/*.yaml</c>. Loading is all-or-nothing per pack: a pack with any error is left out whole, and every
/// error names its file, line and column.
/// </summary>
public sealed partial class PackLoader(RunnerCatalog runners, ITemplateRenderer templates)
{
    /// <summary>The largest pack file read; a larger one is refused rather than parsed.</summary>
    public const long MaxFileBytes = PackYaml.MaxFileBytes;

    /// <summary>The most files of one kind (actions, aliases, policies) a pack may hold.</summary>
    public const int MaxFilesPerKind = 2000;

    private static readonly TimeSpan DefaultTimeout = TimeSpan.FromMinutes(10);

    [GeneratedRegex("^[a-z0-9_]{1,64}$", RegexOptions.CultureInvariant, matchTimeoutMilliseconds: 100)]
    private static partial Regex PackNamePattern();

    [GeneratedRegex("^[A-Za-z0-9_][A-Za-z0-9_-]{0,127}$", RegexOptions.CultureInvariant, matchTimeoutMilliseconds: 100)]
    private static partial Regex ItemNamePattern();

    /// <summary>
    /// Loads every pack under <paramref name="packsDirectory"/> (one sub-folder each). Aliases are checked against
    /// the actions of every pack that loaded, so a pack whose alias points at a missing action is refused too.
    /// </summary>
    public PackLoadResult LoadAll(string packsDirectory)
    {
        ArgumentNullException.ThrowIfNull(packsDirectory);
        var errors = new List<PackError>();
        if (!Directory.Exists(packsDirectory))
        {
            errors.Add(new PackError(packsDirectory, 0, 0, "the packs folder does not exist"));
            return new PackLoadResult([], errors);
        }

        var loaded = new List<LoadedPack>();
        var seen = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var dir in Directory.EnumerateDirectories(packsDirectory).Order(StringComparer.Ordinal))
        {
            if (Path.GetFileName(dir).StartsWith('.'))
            {
                continue;
            }

            var (pack, packErrors) = LoadOne(dir);
            if (pack is not null && seen.TryGetValue(pack.Pack.Name, out var other))
            {
                packErrors = [.. packErrors, new PackError(Path.Combine(dir, "pack.yaml"), 0, 0, $"pack name '{pack.Pack.Name}' is already used by {other}")];
            }

            if (packErrors.Count > 0 || pack is null)
            {
                errors.AddRange(packErrors);
                continue;
            }

            seen[pack.Pack.Name] = dir;
            loaded.Add(pack);
        }

        return new PackLoadResult(RefuseBrokenAliases(loaded, errors), errors);
    }

    /// <summary>
    /// Drops packs whose aliases point at actions that no loaded pack has, until none is left: dropping one pack can
    /// break another's alias.
    /// </summary>
#pragma warning disable MA0016 // Both lists are changed in place by design: packs are removed, errors appended.
    public static List<LoadedPack> RefuseBrokenAliases(List<LoadedPack> loaded, List<PackError> errors)
#pragma warning restore MA0016
    {
        ArgumentNullException.ThrowIfNull(loaded);
        ArgumentNullException.ThrowIfNull(errors);
        while (true)
        {
            var actions = loaded.SelectMany(p => p.Actions).Select(a => a.Ref).ToHashSet(StringComparer.Ordinal);
            var broken = loaded
                .Select(p => (Pack: p, Bad: p.Aliases.Where(a => !actions.Contains(a.ActionRef)).ToList()))
                .Where(x => x.Bad.Count > 0)
                .ToList();
            if (broken.Count == 0)
            {
                return loaded;
            }

            foreach (var (pack, bad) in broken)
            {
                errors.AddRange(bad.Select(a => new PackError(a.SourceFile, 0, 0, $"alias '{a.Name}' runs action '{a.ActionRef}', which no loaded pack has")));
                loaded.Remove(pack);
            }
        }
    }

    /// <summary>Loads one pack folder and everything in it.</summary>
    public (LoadedPack? Pack, IReadOnlyList<PackError> Errors) LoadOne(string packDirectory)
    {
        ArgumentNullException.ThrowIfNull(packDirectory);
        packDirectory = Path.GetFullPath(packDirectory);
        var errors = new List<PackError>();
        var manifest = LoadManifest(packDirectory, errors);
        if (manifest is null)
        {
            return (null, errors);
        }

        var actions = new List<ActionDefinition>();
        foreach (var file in Files(packDirectory, "actions", errors))
        {
            if (LoadAction(manifest, file, errors) is { } action)
            {
                if (actions.Any(a => a.Name == action.Name))
                {
                    errors.Add(new PackError(file, 0, 0, $"action '{action.Name}' is defined twice in pack {manifest.Name}"));
                    continue;
                }

                actions.Add(action);
            }
        }

        foreach (var file in Files(packDirectory, "policies", errors))
        {
            ApplyPolicy(manifest, file, actions, errors);
        }

        var aliases = new List<AliasDefinition>();
        foreach (var file in Files(packDirectory, "aliases", errors))
        {
            if (LoadAlias(manifest, file, errors) is { } alias)
            {
                if (aliases.Any(a => a.Name == alias.Name))
                {
                    errors.Add(new PackError(file, 0, 0, $"alias '{alias.Name}' is defined twice in pack {manifest.Name}"));
                    continue;
                }

                aliases.Add(alias);
            }
        }

        var rules = LoadRules(manifest, packDirectory, errors);
        return errors.Count > 0 ? (null, errors) : (new LoadedPack(manifest, actions, aliases) { Rules = rules }, errors);
    }

    private static List<string> Files(string packDirectory, string folder, List<PackError> errors)
    {
        var dir = Path.Combine(packDirectory, folder);
        if (!Directory.Exists(dir))
        {
            return [];
        }

        var files = Directory.EnumerateFiles(dir)
            .Where(f => f.EndsWith(".yaml", StringComparison.OrdinalIgnoreCase) || f.EndsWith(".yml", StringComparison.OrdinalIgnoreCase))
            .Order(StringComparer.Ordinal)
            .Take(MaxFilesPerKind + 1)
            .ToList();
        if (files.Count > MaxFilesPerKind)
        {
            errors.Add(new PackError(dir, 0, 0, $"more than {MaxFilesPerKind} files; split the pack"));
            return [];
        }

        return files;
    }

    private static Pack? LoadManifest(string packDirectory, List<PackError> errors)
    {
        var file = Path.Combine(packDirectory, "pack.yaml");
        if (!File.Exists(file))
        {
            errors.Add(new PackError(file, 0, 0, "missing pack.yaml: every pack folder needs one (name, version, description)"));
            return null;
        }

        var (root, loadError) = PackYaml.LoadMapping(file, "name, version, description");
        if (loadError is not null)
        {
            errors.Add(loadError);
            return null;
        }

        var f = new YamlFields(file, root!, errors);
        var before = errors.Count;
        var name = f.Has("ref") ? f.String("ref", required: true) : f.String("name", required: true);
        var version = f.String("version", required: true);
        var description = f.String("description", required: true);
        var author = f.String("author");
        var email = f.String("email");
        if (name is not null && !PackNamePattern().IsMatch(name))
        {
            f.Error(f.Node("ref") ?? f.Node("name"), $"pack name '{name}' is not valid: use lowercase letters, digits and underscores (at most 64)");
        }

        var keywords = f.SequenceField("keywords")?.Children.OfType<YamlScalarNode>().Select(s => s.Value ?? string.Empty).ToList() ?? [];
        return errors.Count > before ? null : new Pack(name!, version!, description!, packDirectory) { Author = author, Email = email, Keywords = keywords };
    }

    private ActionDefinition? LoadAction(Pack pack, string file, List<PackError> errors)
    {
        if (OpenItem(pack, file, "action", "name, runner_type, parameters", errors) is not { } item)
        {
            return null;
        }

        var (f, name, before) = item;
        var runnerType = f.String("runner_type", required: true);
        if (runnerType is not null && runners.Find(runnerType) is null)
        {
            f.Error(f.Node("runner_type"), $"unknown runner_type '{runnerType}'; this OpsRobot has: {string.Join(", ", runners.Names.Order(StringComparer.Ordinal))}");
        }

        var parameters = LoadParameters(f);
        var timeoutSeconds = f.Integer("timeout", 1, 7 * 24 * 3600);
        var action = new ActionDefinition(pack.Name, name ?? "?", runnerType ?? "?")
        {
            Description = f.String("description") ?? string.Empty,
            Enabled = f.Bool("enabled") ?? true,
            EntryPoint = f.String("entry_point") is { Length: > 0 } ep ? ep : null,
            Parameters = parameters,
            Timeout = timeoutSeconds is { } t ? TimeSpan.FromSeconds(t) : DefaultTimeout,
            PackDirectory = pack.Directory,
            SourceFile = file,
            Guards = ReadGuards(f, readOnlyAllowed: true, parameters.Select(p => p.Name)),
        };

        if (errors.Count > before)
        {
            return null;
        }

        foreach (var problem in runners.Find(action.RunnerType)!.Validate(action))
        {
            f.Error(f.Node("entry_point") ?? f.Node("runner_type"), problem);
        }

        return errors.Count > before ? null : action;
    }

    private static List<ParameterDefinition> LoadParameters(YamlFields f)
    {
        var result = new List<ParameterDefinition>();
        var mapping = f.MappingField("parameters");
        if (mapping is null)
        {
            return result;
        }

        var positions = new Dictionary<long, string>();
        foreach (var (keyNode, valueNode) in mapping.Children)
        {
            var name = (keyNode as YamlScalarNode)?.Value ?? string.Empty;
            if (!ItemNamePattern().IsMatch(name))
            {
                f.Error(keyNode, $"parameter name '{name}' is not valid: letters, digits, '_' and '-'");
                continue;
            }

            if (valueNode is not YamlMappingNode spec)
            {
                f.Error(valueNode, $"parameter '{name}' must be a mapping (type, description, required, default, …)");
                continue;
            }

            var p = new YamlFields(f.File, spec, f.Errors);
            var before = f.Errors.Count;
            var defaultNode = p.Node("default");
            var defaultValue = defaultNode is null ? null : YamlFields.ToJson(defaultNode);
            var typeText = p.String("type");
            ParameterType type;
            if (typeText is null)
            {
                type = Infer(defaultValue);
            }
            else if (!TryParseType(typeText, out type))
            {
                p.Error(p.Node("type"), $"parameter '{name}' has unknown type '{typeText}'; use string, integer, number, boolean, array or object");
                continue;
            }

            IReadOnlyList<JsonNode?>? allowed = null;
            if (p.SequenceField("enum") is { } enumNode)
            {
                allowed = [.. enumNode.Children.Select(YamlFields.ToJson)];
            }

            var position = p.Integer("position", 0, 1000);
            if (position is { } pos && !positions.TryAdd(pos, name))
            {
                p.Error(p.Node("position"), $"parameter '{name}' has position {pos}, already taken by '{positions[pos]}'");
            }

            var definition = new ParameterDefinition(name, type)
            {
                Description = p.String("description") ?? string.Empty,
                Required = p.Bool("required") ?? false,
                Default = defaultValue,
                Enum = allowed,
                Secret = p.Bool("secret") ?? false,
                Position = position is null ? null : (int)position,
                Immutable = p.Bool("immutable") ?? false,
            };

            if (defaultValue is not null)
            {
                try
                {
                    // The default must itself be a valid value, or the first run without the parameter would fail.
                    var probe = new ActionDefinition("pack", "action", "noop") { Parameters = [definition with { Default = null, Required = false, Immutable = false }] };
                    ParameterBinder.Bind(probe, new JsonObject { [name] = defaultValue.DeepClone() });
                }
                catch (ParameterException ex)
                {
                    p.Error(defaultNode, $"the default of parameter '{name}' does not fit it: {ex.Message.Replace("pack.action", "the action", StringComparison.Ordinal)}");
                }
            }

            if (f.Errors.Count == before)
            {
                result.Add(definition);
            }
        }

        return result;
    }

    private static ParameterType Infer(JsonNode? value) => value?.GetValueKind() switch
    {
        System.Text.Json.JsonValueKind.True or System.Text.Json.JsonValueKind.False => ParameterType.Boolean,
        System.Text.Json.JsonValueKind.Number when value.AsValue().TryGetValue<long>(out _) => ParameterType.Integer,
        System.Text.Json.JsonValueKind.Number => ParameterType.Number,
        System.Text.Json.JsonValueKind.Array => ParameterType.Array,
        System.Text.Json.JsonValueKind.Object => ParameterType.Object,
        _ => ParameterType.String,
    };

    private static bool TryParseType(string text, out ParameterType type)
    {
        switch (text)
        {
            case "string": type = ParameterType.String; return true;
            case "integer": type = ParameterType.Integer; return true;
            case "number": type = ParameterType.Number; return true;
            case "boolean": type = ParameterType.Boolean; return true;
            case "array": type = ParameterType.Array; return true;
            case "object": type = ParameterType.Object; return true;
            default: type = ParameterType.String; return false;
        }
    }

    /// <summary>
    /// The opening every action and alias file shares: read it as a mapping, check its <c>name</c> and <c>pack</c>.
    /// Returns the fields, the name, and the error count before this file's checks (null when it did not parse).
    /// </summary>
    private static (YamlFields Fields, string? Name, int ErrorsBefore)? OpenItem(Pack pack, string file, string kind, string expected, List<PackError> errors)
    {
        var (root, loadError) = PackYaml.LoadMapping(file, expected);
        if (loadError is not null)
        {
            errors.Add(loadError);
            return null;
        }

        var f = new YamlFields(file, root!, errors);
        var before = errors.Count;
        var name = f.String("name", required: true);
        if (name is not null && !ItemNamePattern().IsMatch(name))
        {
            f.Error(f.Node("name"), $"{kind} name '{name}' is not valid: letters, digits, '_' and '-' (at most 128)");
        }

        CheckPackField(f, pack);
        return (f, name, before);
    }

    private static void CheckPackField(YamlFields f, Pack pack)
    {
        if (f.String("pack") is { } declared && declared != pack.Name)
        {
            f.Error(f.Node("pack"), $"field 'pack' says '{declared}' but the file is in pack '{pack.Name}'");
        }
    }

    /// <summary>StackStorm's policy files: <c>action.concurrency</c> and <c>action.retry</c> on an action of this pack.</summary>
    private static void ApplyPolicy(Pack pack, string file, List<ActionDefinition> actions, List<PackError> errors)
    {
        var (root, loadError) = PackYaml.LoadMapping(file, "name, resource_ref, policy_type, parameters");
        if (loadError is not null)
        {
            errors.Add(loadError);
            return;
        }

        var f = new YamlFields(file, root!, errors);
        var before = errors.Count;
        f.String("name", required: true);
        CheckPackField(f, pack);
        var resource = f.String("resource_ref", required: true);
        var type = f.String("policy_type", required: true);
        var parameters = f.MappingField("parameters");
        if (errors.Count > before || f.Bool("enabled") == false)
        {
            return;
        }

        var index = actions.FindIndex(a => a.Ref == resource);
        if (index < 0)
        {
            f.Error(f.Node("resource_ref"), $"policy applies to '{resource}', which is not an action of pack {pack.Name}");
            return;
        }

        var p = new YamlFields(file, parameters ?? new YamlMappingNode(), errors);
        var action = actions[index];
        switch (type)
        {
            case "action.concurrency":
                var threshold = p.Integer("threshold", 1, 100_000);
                var mode = p.String("action") ?? "delay";
                if (mode is not ("delay" or "cancel"))
                {
                    p.Error(p.Node("action"), $"concurrency policy action must be 'delay' (wait for a slot) or 'cancel' (refuse), not '{mode}'");
                }

                if (threshold is null && !p.Has("threshold"))
                {
                    p.Error(parameters, "concurrency policy needs parameters.threshold");
                }

                if (errors.Count == before)
                {
                    actions[index] = action with
                    {
                        Policies = action.Policies with
                        {
                            ConcurrencyLimit = (int)threshold!.Value,
                            ConcurrencyMode = mode == "cancel" ? ConcurrencyMode.Refuse : ConcurrencyMode.Queue,
                        },
                    };
                }

                break;
            case "action.retry":
                var on = p.String("retry_on") ?? "failure";
                var count = p.Integer("max_retry_count", 0, 100) ?? 2;
                var delay = p.Integer("delay", 0, 24 * 3600) ?? 0;
                if (on is not ("failure" or "timeout"))
                {
                    p.Error(p.Node("retry_on"), $"retry policy retry_on must be 'failure' or 'timeout', not '{on}'");
                }

                if (errors.Count == before)
                {
                    actions[index] = action with
                    {
                        Policies = action.Policies with
                        {
                            RetryCount = (int)count,
                            RetryDelay = TimeSpan.FromSeconds(delay),
                            RetryOnFailure = on == "failure",
                            RetryOnTimeout = on == "timeout",
                        },
                    };
                }

                break;
            default:
                f.Error(f.Node("policy_type"), $"unknown policy_type '{type}'; OpsRobot has action.concurrency and action.retry");
                break;
        }
    }
}
