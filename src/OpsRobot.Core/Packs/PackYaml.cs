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

        try
        {
            var parser = new Parser(new StringReader(text));
            var depth = 0;
            while (parser.MoveNext())
            {
                switch (parser.Current)
                {
                    case MappingStart or SequenceStart:
                        if (++depth > MaxDepth)
                        {
                            var start = parser.Current!.Start;
                            return (null, new PackError(file, (int)start.Line, (int)start.Column, $"nested deeper than {MaxDepth} levels"));
                        }

                        break;
                    case MappingEnd or SequenceEnd:
                        depth--;
                        break;
                }
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
    }
}
