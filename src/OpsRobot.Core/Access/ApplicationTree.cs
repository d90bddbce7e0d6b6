using System.Collections.Frozen;
using System.Text.RegularExpressions;

namespace OpsRobot.Core.Access;

/// <summary>
/// The application tree as one immutable snapshot: nodes by path, and who owns or belongs where. Membership and
/// ownership hold for the node and every node below it.
/// </summary>
public sealed partial class ApplicationTree
{
    /// <summary>Nodes are at most this deep.</summary>
    public const int MaxDepth = 16;

    public const string SegmentRule = "lowercase ASCII letters, digits, '_' or '-', starting with a letter or digit, at most 63 characters";

    private readonly FrozenDictionary<string, TreeNodeRecord> _nodes;
    private readonly FrozenDictionary<string, TreeMemberRecord[]> _membersByPath;
    private readonly FrozenDictionary<string, string[]> _byLeaf;

    public ApplicationTree(IEnumerable<TreeNodeRecord> nodes, IEnumerable<TreeMemberRecord> members)
    {
        _nodes = nodes.ToFrozenDictionary(n => n.Path, StringComparer.Ordinal);
        _membersByPath = members.GroupBy(m => m.Path, StringComparer.Ordinal).ToFrozenDictionary(g => g.Key, g => g.ToArray(), StringComparer.Ordinal);
        _byLeaf = _nodes.Keys.GroupBy(Leaf, StringComparer.Ordinal).ToFrozenDictionary(g => g.Key, g => g.ToArray(), StringComparer.Ordinal);
    }

    public static ApplicationTree Empty { get; } = new([], []);

    public IEnumerable<TreeNodeRecord> Nodes => _nodes.Values.OrderBy(n => n.Path, StringComparer.Ordinal);

    public bool Contains(string path) => _nodes.ContainsKey(path);

    public IReadOnlyList<TreeMemberRecord> MembersAt(string path) => _membersByPath.GetValueOrDefault(path) ?? [];

    /// <summary>The path and every ancestor, nearest first: <c>a/b/c</c>, <c>a/b</c>, <c>a</c>.</summary>
    public static IEnumerable<string> SelfAndAncestors(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        var current = path;
        while (current.Length > 0)
        {
            yield return current;
            var cut = current.LastIndexOf('/');
            current = cut < 0 ? string.Empty : current[..cut];
        }
    }

    public static string? Parent(string path)
    {
        var cut = path.LastIndexOf('/');
        return cut < 0 ? null : path[..cut];
    }

    /// <summary>The place <paramref name="userId"/> holds at <paramref name="path"/>, inherited from above; null when none.</summary>
    public TreeMemberKind? PlaceOf(long userId, string path)
    {
        TreeMemberKind? best = null;
        foreach (var node in SelfAndAncestors(path))
        {
            foreach (var m in MembersAt(node))
            {
                if (m.UserId == userId)
                {
                    if (m.Kind == TreeMemberKind.Owner)
                    {
                        return TreeMemberKind.Owner;
                    }

                    best = TreeMemberKind.Member;
                }
            }
        }

        return best;
    }

    /// <summary>The owners nearest to <paramref name="path"/>: those of the node itself, else of its closest ancestor that has any.</summary>
    public (string Path, IReadOnlyList<long> Owners)? NearestOwners(string path)
    {
        foreach (var node in SelfAndAncestors(path))
        {
            var owners = MembersAt(node).Where(m => m.Kind == TreeMemberKind.Owner).Select(m => m.UserId).ToList();
            if (owners.Count > 0)
            {
                return (node, owners);
            }
        }

        return null;
    }

    /// <summary>Checks the form of a path someone typed for a new node; null when fine, else what is wrong.</summary>
    public static string? CheckNewPath(string? path)
    {
        if (string.IsNullOrEmpty(path))
        {
            return "the path is empty";
        }

        if (path.Length > 255)
        {
            return "the path is longer than 255 characters";
        }

        var segments = path.Split('/');
        if (segments.Length > MaxDepth)
        {
            return $"the tree is at most {MaxDepth} levels deep";
        }

        foreach (var segment in segments)
        {
            if (!SegmentPattern().IsMatch(segment))
            {
                return segment.Length == 0
                    ? "the path has an empty part (a leading, trailing or doubled '/')"
                    : $"'{segment}' is not a valid node name: {SegmentRule}";
            }
        }

        return null;
    }

    /// <summary>
    /// Resolves a value a command received for a parameter that names an application: the exact path of a node,
    /// or the name of a leaf that only one node has. Anything else is refused with the reason: no case folding,
    /// no Unicode look-alikes, no wildcards, no <c>..</c>.
    /// </summary>
    public ScopeResolution Resolve(string? value)
    {
        if (string.IsNullOrEmpty(value))
        {
            return ScopeResolution.Refused("the value is empty");
        }

        if (value.Length > 255)
        {
            return ScopeResolution.Refused("the value is too long to be a node path");
        }

        foreach (var c in value)
        {
            if (c > 0x7F)
            {
                return ScopeResolution.Refused("node paths are plain lowercase ASCII; this value has other characters");
            }

            if (c is '*' or '?' or '[' or ']')
            {
                return ScopeResolution.Refused("wildcards are not allowed here; name one node");
            }

            if (char.IsUpper(c))
            {
                return ScopeResolution.Refused("node paths are lowercase; write the path exactly as the tree has it");
            }
        }

        if (value.Contains("..", StringComparison.Ordinal) || value.StartsWith('/') || value.EndsWith('/') || value.Contains("//", StringComparison.Ordinal)
            || value.Contains('\\', StringComparison.Ordinal))
        {
            return ScopeResolution.Refused("the value is not a node path (no '..', no leading, trailing or doubled '/')");
        }

        if (CheckNewPath(value) is { } problem)
        {
            return ScopeResolution.Refused(problem);
        }

        if (_nodes.ContainsKey(value))
        {
            return ScopeResolution.Found(value);
        }

        if (!value.Contains('/', StringComparison.Ordinal) && _byLeaf.TryGetValue(value, out var paths))
        {
            return paths.Length == 1
                ? ScopeResolution.Found(paths[0])
                : ScopeResolution.Refused($"'{value}' names {paths.Length} nodes; give the full path ({string.Join(", ", paths.Order(StringComparer.Ordinal))})");
        }

        return ScopeResolution.Refused($"there is no application node '{value}'");
    }

    private static string Leaf(string path)
    {
        var cut = path.LastIndexOf('/');
        return cut < 0 ? path : path[(cut + 1)..];
    }

    [GeneratedRegex("^[a-z0-9][a-z0-9_-]{0,62}$", RegexOptions.CultureInvariant, matchTimeoutMilliseconds: 100)]
    private static partial Regex SegmentPattern();
}

/// <summary>What a scope parameter's value resolved to: a node path, or why it was refused.</summary>
public sealed record ScopeResolution(string? Path, string? Problem)
{
    public static ScopeResolution Found(string path) => new(path, null);

    public static ScopeResolution Refused(string problem) => new(null, problem);
}
