using OpsRobot.Core.Access;
using YamlDotNet.RepresentationModel;

namespace OpsRobot.Core.Packs;

public sealed partial class PackLoader
{
    /// <summary>
    /// The access fields an action or alias may carry: <c>sudo</c>, <c>admin</c>, <c>read_only</c> (actions only),
    /// <c>allow_rooms</c>, <c>deny_rooms</c>, <c>allow_direct</c>, and <c>scope</c>, a mapping from a parameter to
    /// what it names (<c>application</c> or <c>host</c>).
    /// </summary>
    private static CommandGuards ReadGuards(YamlFields f, bool readOnlyAllowed, IEnumerable<string>? knownParameters)
    {
        if (!readOnlyAllowed && f.Has("read_only"))
        {
            f.Error(f.Node("read_only"), "'read_only' belongs on the action: an alias is read-only when its action is");
        }

        var scope = new List<ScopeParameter>();
        if (f.MappingField("scope") is { } mapping)
        {
            var known = knownParameters?.ToHashSet(StringComparer.Ordinal);
            foreach (var (keyNode, valueNode) in mapping.Children)
            {
                var parameter = (keyNode as YamlScalarNode)?.Value ?? string.Empty;
                var kindText = (valueNode as YamlScalarNode)?.Value;
                ScopeKind? kind = kindText switch
                {
                    "application" => ScopeKind.Application,
                    "host" => ScopeKind.Host,
                    _ => null,
                };
                if (kind is null)
                {
                    f.Error(valueNode, $"scope of '{parameter}' must be 'application' or 'host'");
                    continue;
                }

                if (known is not null && !known.Contains(parameter))
                {
                    f.Error(keyNode, $"scope names parameter '{parameter}', which this action does not have");
                    continue;
                }

                scope.Add(new ScopeParameter(parameter, kind.Value));
            }
        }

        return new CommandGuards
        {
            Sudo = f.Bool("sudo") ?? false,
            Administrative = f.Bool("admin") ?? false,
            ReadOnly = readOnlyAllowed && (f.Bool("read_only") ?? false),
            AllowRooms = RoomList(f, "allow_rooms"),
            DenyRooms = RoomList(f, "deny_rooms"),
            AllowDirect = f.Bool("allow_direct") ?? true,
            Scope = scope,
        };
    }

    private static List<string> RoomList(YamlFields f, string key)
    {
        var list = new List<string>();
        if (f.SequenceField(key) is not { } sequence)
        {
            return list;
        }

        foreach (var item in sequence.Children)
        {
            if (item is YamlScalarNode { Value: { Length: > 0 and <= 200 } name } && !name.Any(char.IsWhiteSpace) && !name.Any(char.IsControl))
            {
                list.Add(name);
            }
            else
            {
                f.Error(item, $"each entry of '{key}' must be a room name (wildcards and 'platform:room' allowed), without spaces");
            }
        }

        return list;
    }
}
