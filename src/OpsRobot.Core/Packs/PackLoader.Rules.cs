using System.Text.Json.Nodes;
using OpsRobot.Core.Events;
using OpsRobot.Core.Rules;
using YamlDotNet.RepresentationModel;

namespace OpsRobot.Core.Packs;

public sealed partial class PackLoader
{
    /// <summary>The pack StackStorm assumes for a rule file that names none.</summary>
    public const string DefaultRulePack = "default";

    /// <summary>The deepest nesting of <c>search</c> criteria accepted.</summary>
    private const int MaxSearchDepth = 8;

    private List<RuleDefinition> LoadRules(Pack pack, string packDirectory, List<PackError> errors)
    {
        var rules = new List<RuleDefinition>();
        foreach (var file in Files(packDirectory, "rules", errors))
        {
            if (LoadRule(pack, file, errors) is { } rule)
            {
                if (rules.Any(r => r.Name == rule.Name))
                {
                    errors.Add(new PackError(file, 0, 0, $"rule '{rule.Name}' is defined twice in pack {pack.Name}"));
                    continue;
                }

                rules.Add(rule);
            }
        }

        return rules;
    }

    /// <summary>
    /// Loads one rule file outside any pack (for <c>rule test</c>): its pack is its <c>pack</c> field, or
    /// <see cref="DefaultRulePack"/> as in StackStorm. Returns the rule, or null with the errors.
    /// </summary>
    public (RuleDefinition? Rule, IReadOnlyList<PackError> Errors) LoadRuleFile(string file)
    {
        ArgumentNullException.ThrowIfNull(file);
        var errors = new List<PackError>();
        var (root, loadError) = PackYaml.LoadMapping(file, "name, trigger, criteria, action");
        if (loadError is not null)
        {
            return (null, [loadError]);
        }

        var f = new YamlFields(file, root!, errors);
        var packName = f.String("pack") is { Length: > 0 } p ? p : DefaultRulePack;
        var rule = LoadRule(new Pack(packName, "0", string.Empty, Path.GetDirectoryName(Path.GetFullPath(file)) ?? "."), file, errors);
        return errors.Count > 0 ? (null, errors) : (rule, errors);
    }

    /// <summary>
    /// StackStorm's rule file: <c>name</c>, <c>pack</c>, <c>description</c>, <c>enabled</c>, <c>trigger</c>
    /// (<c>type</c>, <c>parameters</c>), <c>criteria</c> (key: {type, pattern}), <c>action</c> (<c>ref</c>,
    /// <c>parameters</c>). Every operator, key, template and static regular expression is checked here, so a broken
    /// rule is refused at load with its position rather than never firing.
    /// </summary>
    private RuleDefinition? LoadRule(Pack pack, string file, List<PackError> errors)
    {
        if (OpenItem(pack, file, "rule", "name, trigger, criteria, action", errors) is not { } opened)
        {
            return null;
        }

        var (f, name, before) = opened;
        var enabled = f.Bool("enabled") ?? true;

        string? triggerType = null;
        var triggerParameters = new JsonObject();
        if (f.MappingField("trigger") is { } triggerNode)
        {
            var t = new YamlFields(file, triggerNode, errors);
            var written = t.String("type", required: true);
            if (t.MappingField("parameters") is { } tp)
            {
                triggerParameters = YamlFields.ToJson(tp) as JsonObject ?? [];
            }

            if (written is not null)
            {
                if (BuiltInTriggers.Find(written) is { } builtIn)
                {
                    triggerType = builtIn.Ref;
                    var problems = TriggerType.Check(builtIn.Parameters, triggerParameters, "trigger parameter");
                    foreach (var problem in problems)
                    {
                        t.Error(t.Node("parameters") ?? t.Node("type"), problem);
                    }

                    if (problems.Count == 0 && Sensors.TimerSchedules.IsTimer(builtIn.Ref)
                        && Sensors.TimerSchedules.TryCreate(builtIn.Ref, triggerParameters, DateTimeOffset.UnixEpoch, out var timerError) is null)
                    {
                        t.Error(t.Node("parameters") ?? t.Node("type"), $"the timer's schedule is not valid: {timerError}");
                    }
                }
                else if (!written.Contains('.', StringComparison.Ordinal) || written.StartsWith('.') || written.EndsWith('.'))
                {
                    t.Error(t.Node("type"), $"trigger type '{written}' is neither a built-in trigger ({string.Join(", ", BuiltInTriggers.All.Select(x => x.Ref))}) nor pack.trigger");
                }
                else if (written.StartsWith("core.", StringComparison.Ordinal))
                {
                    t.Error(t.Node("type"), $"unknown core trigger '{written}'; the core triggers are {string.Join(", ", BuiltInTriggers.All.Select(x => x.Ref))}");
                }
                else
                {
                    triggerType = written;
                }
            }
        }
        else if (!f.Has("trigger"))
        {
            f.Error(null, "missing required field 'trigger' (type, parameters)");
        }

        var criteria = new List<Criterion>();
        if (f.MappingField("criteria") is { } criteriaNode)
        {
            criteria = ReadCriteria(f, criteriaNode, "trigger", 0);
        }

        string? actionRef = null;
        var actionParameters = new JsonObject();
        if (f.MappingField("action") is { } actionNode)
        {
            var a = new YamlFields(file, actionNode, errors);
            actionRef = a.String("ref", required: true);
            if (actionRef is not null && !actionRef.Contains('.', StringComparison.Ordinal))
            {
                a.Error(a.Node("ref"), $"action ref '{actionRef}' must be pack.action");
            }

            if (a.MappingField("parameters") is { } ap)
            {
                actionParameters = YamlFields.ToJson(ap) as JsonObject ?? [];
                CheckTemplates(a, ap, "action parameter");
            }
        }
        else if (!f.Has("action"))
        {
            f.Error(null, "missing required field 'action' (ref, parameters)");
        }

        if (errors.Count > before)
        {
            return null;
        }

        return new RuleDefinition(pack.Name, name!, triggerType!, actionRef!)
        {
            Description = f.String("description") ?? string.Empty,
            Enabled = enabled,
            TriggerParameters = triggerParameters,
            Criteria = criteria,
            ActionParameters = actionParameters,
            SourceFile = file,
        };
    }

    private List<Criterion> ReadCriteria(YamlFields f, YamlMappingNode mapping, string root, int depth)
    {
        var result = new List<Criterion>();
        foreach (var (keyNode, valueNode) in mapping.Children)
        {
            var key = (keyNode as YamlScalarNode)?.Value ?? string.Empty;
            var path = PayloadPath.TryParse(key, out var keyError);
            if (path is null)
            {
                f.Error(keyNode, $"criteria key '{key}' does not parse: {keyError}");
                continue;
            }

            if (path.Root != root)
            {
                f.Error(keyNode, root == "trigger"
                    ? $"criteria key '{key}' must start with 'trigger.' (the event's payload)"
                    : $"a search's criteria key '{key}' must start with 'item.' (the list item being checked)");
                continue;
            }

            if (valueNode is not YamlMappingNode spec)
            {
                f.Error(valueNode, $"criterion '{key}' must be a mapping with 'type' and 'pattern'");
                continue;
            }

            var c = new YamlFields(f.File, spec, f.Errors);
            var before = f.Errors.Count;
            var written = c.String("type", required: true);
            if (written is null)
            {
                continue;
            }

            var type = CriteriaOperators.Canonical(written);
            if (type is null)
            {
                c.Error(c.Node("type"), $"unknown criteria operator '{written}'; use one of: {string.Join(", ", CriteriaOperators.Names.Keys.Order(StringComparer.Ordinal))}");
                continue;
            }

            var patternNode = c.Node("pattern");
            if (type == "search")
            {
                var condition = c.String("condition", required: true);
                if (condition is not null && !CriteriaOperators.SearchConditions.Contains(condition, StringComparer.Ordinal))
                {
                    c.Error(c.Node("condition"), $"search condition '{condition}' is not one of {string.Join(", ", CriteriaOperators.SearchConditions)}");
                }

                if (depth >= MaxSearchDepth)
                {
                    c.Error(spec, $"search criteria are nested deeper than {MaxSearchDepth} levels");
                    continue;
                }

                if (patternNode is not YamlMappingNode children || children.Children.Count == 0)
                {
                    c.Error(patternNode ?? spec, "a search needs 'pattern': a mapping of criteria on item.… keys");
                    continue;
                }

                var childCriteria = ReadCriteria(f, children, "item", depth + 1);
                if (f.Errors.Count == before)
                {
                    result.Add(new Criterion(key, path, type, null) { WrittenType = written, Condition = condition, Children = childCriteria });
                }

                continue;
            }

            var pattern = patternNode is null ? null : YamlFields.ToJson(patternNode);
            if (patternNode is YamlScalarNode { Value: { } text } && pattern is JsonValue pv && pv.TryGetValue<string>(out _))
            {
                if (templates.Check(text) is { } problem)
                {
                    c.Error(patternNode, $"the pattern of criterion '{key}' does not parse as a template: {problem.Message}");
                }
                else if (!text.Contains("{{", StringComparison.Ordinal) && !text.Contains("{%", StringComparison.Ordinal)
                         && !text.Contains("<%", StringComparison.Ordinal)
                         && CriteriaOperators.CheckStaticPattern(type, pattern) is { } bad)
                {
                    c.Error(patternNode, $"the pattern of criterion '{key}' is not valid for {written}: {bad}");
                }
            }
            else if (patternNode is null && type is not ("exists" or "nexists" or "nequals"))
            {
                c.Error(spec, $"criterion '{key}' ({written}) needs a 'pattern'");
            }

            if (f.Errors.Count == before)
            {
                result.Add(new Criterion(key, path, type, pattern) { WrittenType = written });
            }
        }

        return result;
    }

    /// <summary>Checks that every text under <paramref name="node"/> parses as a template, pointing at the one that does not.</summary>
    private void CheckTemplates(YamlFields f, YamlNode node, string what)
    {
        switch (node)
        {
            case YamlScalarNode { Value: { } text } scalar:
                if (templates.Check(text) is { } problem)
                {
                    var line = (int)scalar.Start.Line + Math.Max(0, problem.Line - 1);
                    var column = problem.Line <= 1 ? (int)scalar.Start.Column + Math.Max(0, problem.Column - 1) : problem.Column;
                    f.Errors.Add(new PackError(f.File, line, column, $"{what} does not parse as a template: {problem.Message}"));
                }

                break;
            case YamlMappingNode mapping:
                foreach (var (_, value) in mapping.Children)
                {
                    CheckTemplates(f, value, what);
                }

                break;
            case YamlSequenceNode sequence:
                foreach (var item in sequence.Children)
                {
                    CheckTemplates(f, item, what);
                }

                break;
        }
    }
}
