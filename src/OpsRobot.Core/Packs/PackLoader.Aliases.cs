using System.Text.Json.Nodes;
using OpsRobot.Core.Aliases;
using YamlDotNet.RepresentationModel;

namespace OpsRobot.Core.Packs;

public sealed partial class PackLoader
{
    /// <summary>
    /// StackStorm's action-alias file: <c>name</c>, <c>action_ref</c>, <c>formats</c> (strings, or
    /// <c>{display, representation: [...]}</c>), <c>ack</c> and <c>result</c> (<c>enabled</c>, <c>format</c>),
    /// <c>immutable_parameters</c>, <c>description</c>, <c>enabled</c>. Every format and template is compiled here,
    /// so a broken one is refused at load with its position, not at the first use.
    /// </summary>
    private AliasDefinition? LoadAlias(Pack pack, string file, List<PackError> errors)
    {
        if (OpenItem(pack, file, "alias", "name, action_ref, formats", errors) is not { } opened)
        {
            return null;
        }

        var (f, name, before) = opened;
        var actionRef = f.String("action_ref", required: true);
        if (actionRef is not null && !actionRef.Contains('.', StringComparison.Ordinal))
        {
            f.Error(f.Node("action_ref"), $"action_ref '{actionRef}' must be pack.action");
        }

        var formats = new List<AliasFormatEntry>();
        var formatsNode = f.SequenceField("formats");
        if (formatsNode is null)
        {
            if (!f.Has("formats"))
            {
                f.Error(null, "missing required field 'formats'");
            }
        }
        else
        {
            foreach (var item in formatsNode.Children)
            {
                if (ReadFormat(f, item) is { } entry)
                {
                    formats.Add(entry);
                }
            }

            if (formatsNode.Children.Count == 0)
            {
                f.Error(formatsNode, "field 'formats' is empty: an alias needs at least one format");
            }
        }

        var (ackEnabled, ackFormat) = ReadMessageBlock(f, "ack");
        var (resultEnabled, resultFormat) = ReadMessageBlock(f, "result");
        var immutable = f.MappingField("immutable_parameters") is { } im ? YamlFields.ToJson(im) as JsonObject ?? [] : [];
        var guards = ReadGuards(f, readOnlyAllowed: false, knownParameters: null);

        if (errors.Count > before)
        {
            return null;
        }

        return new AliasDefinition(pack.Name, name!, actionRef!)
        {
            Description = f.String("description") ?? string.Empty,
            Enabled = f.Bool("enabled") ?? true,
            Formats = formats,
            ImmutableParameters = immutable,
            AckEnabled = ackEnabled,
            AckFormat = ackFormat,
            ResultEnabled = resultEnabled,
            ResultFormat = resultFormat,
            SourceFile = file,
            Guards = guards,
        };
    }

    private static AliasFormatEntry? ReadFormat(YamlFields f, YamlNode item)
    {
        switch (item)
        {
            case YamlScalarNode { Value: { Length: > 0 } text }:
                return CheckFormat(f, item, text) ? new AliasFormatEntry(ReadableDisplay(text), [text]) : null;
            case YamlMappingNode mapping:
                var m = new YamlFields(f.File, mapping, f.Errors);
                var display = m.String("display");
                var representations = new List<string>();
                var node = m.Node("representation");
                switch (node)
                {
                    case YamlSequenceNode seq:
                        foreach (var r in seq.Children)
                        {
                            if (r is YamlScalarNode { Value: { Length: > 0 } rt } && CheckFormat(f, r, rt))
                            {
                                representations.Add(rt);
                            }
                            else if (r is not YamlScalarNode { Value.Length: > 0 })
                            {
                                f.Error(r, "a representation must be a format string");
                            }
                        }

                        break;
                    case YamlScalarNode { Value: { Length: > 0 } single }:
                        if (CheckFormat(f, node, single))
                        {
                            representations.Add(single);
                        }

                        break;
                    default:
                        if (display is null)
                        {
                            m.Error(mapping, "a format mapping needs 'display' and/or 'representation'");
                            return null;
                        }

                        break;
                }

                // StackStorm: a display without representations is matched as its own format.
                if (representations.Count == 0 && display is not null && CheckFormat(f, m.Node("display")!, display))
                {
                    representations.Add(display);
                }

                return representations.Count == 0 ? null : new AliasFormatEntry(display ?? representations[0], representations);
            default:
                f.Error(item, "a format is a string, or a mapping with 'display' and 'representation'");
                return null;
        }
    }

    /// <summary>How help shows a plain format: <c>deploy {{ app }} to {{ env=staging }}</c> reads <c>deploy &lt;app&gt; to [env=staging]</c>.</summary>
    internal static string ReadableDisplay(string format) => ParameterInFormat().Replace(format, m =>
        m.Groups["default"].Success ? $"[{m.Groups["name"].Value}={m.Groups["default"].Value.Trim()}]" : $"<{m.Groups["name"].Value}>");

    [System.Text.RegularExpressions.GeneratedRegex(@"\{\{\s*(?<name>[A-Za-z_][A-Za-z0-9_]*)\s*(?:=(?<default>[^}]*))?\}\}", System.Text.RegularExpressions.RegexOptions.CultureInvariant, matchTimeoutMilliseconds: 100)]
    private static partial System.Text.RegularExpressions.Regex ParameterInFormat();

    private static bool CheckFormat(YamlFields f, YamlNode node, string format)
    {
        try
        {
            AliasFormat.Parse(format);
            return true;
        }
        catch (AliasFormatException ex)
        {
            f.Errors.Add(new PackError(f.File, (int)node.Start.Line, (int)node.Start.Column, $"format \"{format}\" does not parse: {ex.Message}"));
            return false;
        }
    }

    private (bool Enabled, string? Format) ReadMessageBlock(YamlFields f, string key)
    {
        var mapping = f.MappingField(key);
        if (mapping is null)
        {
            return (true, null);
        }

        var m = new YamlFields(f.File, mapping, f.Errors);
        var enabled = m.Bool("enabled") ?? true;
        var format = m.String("format");
        if (format is not null && templates.Check(format) is { } problem)
        {
            var node = m.Node("format")!;
            // Point into the file: the template's own line and column, counted from where its text starts.
            var line = (int)node.Start.Line + Math.Max(0, problem.Line - 1);
            var column = problem.Line <= 1 ? (int)node.Start.Column + Math.Max(0, problem.Column - 1) : problem.Column;
            f.Errors.Add(new PackError(f.File, line, column, $"{key} format does not parse: {problem.Message}"));
        }

        return (enabled, format);
    }
}
