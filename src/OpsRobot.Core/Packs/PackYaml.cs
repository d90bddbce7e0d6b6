using YamlDotNet.Core;
using YamlDotNet.Core.Events;
using YamlDotNet.RepresentationModel;

namespace OpsRobot.Core.Packs;

/// <summary>
/// Reads one pack file as YAML, safely: size-limited, and nesting-limited before the (recursive) document loader
/// sees it, so a hostile file gets an error at its position instead of overflowing the stack.
/// </summary>
internal static class PackYaml
{
    /// <summary>The largest pack file read; a larger one is refused rather than parsed.</summary>
    public const long MaxFileBytes = 1024 * 1024;

    /// <summary>The deepest nesting of mappings and sequences accepted.</summary>
    public const int MaxDepth = 64;

    /// <summary>
    /// The most values (scalars, mappings, sequences) a file may hold once its aliases are expanded. A file within
    /// <see cref="MaxFileBytes"/> and without aliases never gets near it (every value takes at least a byte), so
    /// only alias expansion can reach it.
    /// </summary>
    public const long MaxNodes = MaxFileBytes;

    /// <summary>Loads <paramref name="file"/>, whose document must be a mapping; returns it or the error.</summary>
    public static (YamlMappingNode? Root, PackError? Error) LoadMapping(string file, string expected)
    {
        long length;
        try
        {
            length = new FileInfo(file).Length;
        }
        catch (IOException ex)
        {
            return (null, new PackError(file, 0, 0, $"cannot read the file: {ex.Message}"));
        }

        if (length > MaxFileBytes)
        {
            return (null, new PackError(file, 0, 0, $"file is {length:N0} bytes; pack files are limited to {MaxFileBytes:N0}"));
        }

        string text;
        try
        {
            text = File.ReadAllText(file);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return (null, new PackError(file, 0, 0, $"cannot read the file: {ex.Message}"));
        }

        Parser? parser = null;
        try
        {
            parser = new Parser(new StringReader(text));
            if (Scan(parser) is { } problem)
            {
                return (null, new PackError(file, (int)problem.At.Line, (int)problem.At.Column, problem.Message));
            }

            var stream = new YamlStream();
            stream.Load(new StringReader(text));
            if (stream.Documents.Count == 0 || stream.Documents[0].RootNode is not YamlMappingNode mapping)
            {
                var node = stream.Documents.Count == 0 ? null : stream.Documents[0].RootNode;
                return (null, new PackError(file, (int)(node?.Start.Line ?? 1), (int)(node?.Start.Column ?? 1), $"expected a mapping of fields ({expected})"));
            }

            if (stream.Documents.Count > 1)
            {
                var second = stream.Documents[1].RootNode;
                return (null, new PackError(file, (int)second.Start.Line, (int)second.Start.Column, "a pack file holds one YAML document; found more"));
            }

            return (mapping, null);
        }
        catch (YamlException ex)
        {
            return (null, new PackError(file, (int)ex.Start.Line, (int)ex.Start.Column, ex.InnerException?.Message ?? ex.Message));
        }
        catch (InvalidOperationException)
        {
            // YamlDotNet's scanner throws this, instead of a YamlException, on some malformed input (a document marker
            // inside a flow mapping, for one): the file is not valid YAML, and the last event read is the best position.
            var at = parser?.Current?.End ?? Mark.Empty;
            return (null, new PackError(file, (int)at.Line, (int)at.Column, "not valid YAML after this point; check the brackets, quotes and '---' markers"));
        }
    }

    /// <summary>
    /// Reads the events once before the document is built: nesting deeper than <see cref="MaxDepth"/>, an alias
    /// that refers to the node containing it, and a document whose aliases expand to more than
    /// <see cref="MaxNodes"/> nodes (the "billion laughs": nine aliases of nine aliases of … are tiny on disk and
    /// enormous once read) are refused here, at their position, before anything expands them.
    /// </summary>
    private static (Mark At, string Message)? Scan(Parser parser)
    {
        // One frame per open mapping or sequence: its anchor, and the nodes it holds once its aliases are expanded.
        var frames = new Stack<(string? Anchor, long Nodes)>();
        var sizes = new Dictionary<string, long>(StringComparer.Ordinal);
        var open = new HashSet<string>(StringComparer.Ordinal);
        long total = 0;

        (Mark, string)? Add(long nodes, Mark at)
        {
            if (frames.Count == 0)
            {
                total += nodes;
            }
            else
            {
                var (anchor, count) = frames.Pop();
                frames.Push((anchor, count + nodes));
            }

            return total + frames.Sum(f => f.Nodes) > MaxNodes
                ? (at, $"the document expands to more than {MaxNodes:N0} values once its aliases (*name) are resolved")
                : null;
        }

        while (parser.MoveNext())
        {
            var current = parser.Current!;
            switch (current)
            {
                case MappingStart or SequenceStart:
                    if (frames.Count >= MaxDepth)
                    {
                        return (current.Start, $"nested deeper than {MaxDepth} levels");
                    }

                    var anchor = current is NodeEvent { Anchor.IsEmpty: false } node ? node.Anchor.Value : null;
                    if (anchor is not null)
                    {
                        open.Add(anchor);
                    }

                    frames.Push((anchor, 1));
                    break;
                case MappingEnd or SequenceEnd:
                    var (closed, nodes) = frames.Pop();
                    if (closed is not null)
                    {
                        open.Remove(closed);
                        sizes[closed] = nodes;
                    }

                    if (Add(nodes, current.Start) is { } tooBig)
                    {
                        return tooBig;
                    }

                    break;
                case Scalar scalar:
                    if (!scalar.Anchor.IsEmpty)
                    {
                        sizes[scalar.Anchor.Value] = 1;
                    }

                    if (Add(1, current.Start) is { } tooMany)
                    {
                        return tooMany;
                    }

                    break;
                case AnchorAlias alias:
                    if (open.Contains(alias.Value.Value))
                    {
                        return (current.Start, $"the alias *{alias.Value.Value} refers to the node that contains it");
                    }

                    if (Add(sizes.GetValueOrDefault(alias.Value.Value, 1), current.Start) is { } expanded)
                    {
                        return expanded;
                    }

                    break;
            }
        }

        return null;
    }
}
