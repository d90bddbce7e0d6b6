using System.Collections.Frozen;
using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;

namespace OpsRobot.Core.Templates;

/// <summary>An immutable snapshot of <see cref="TemplateOptions"/>, taken when a renderer is created.</summary>
internal sealed class TemplateSettings
{
    public TemplateSettings(TemplateOptions options)
    {
        MaxSteps = options.MaxSteps;
        MaxDepth = options.MaxDepth;
        MaxOutputLength = options.MaxOutputLength;
        MaxCacheEntries = options.MaxCacheEntries;
        RegexTimeout = options.RegexTimeout;
        MaxRegexLength = options.MaxRegexLength;
        StrictUndefined = options.StrictUndefined;
        TrimBlocks = options.TrimBlocks;
        LStripBlocks = options.LStripBlocks;
        Functions = Templates.Functions.Build(options.Functions);
    }

    public long MaxSteps { get; }

    public int MaxDepth { get; }

    public int MaxOutputLength { get; }

    public int MaxCacheEntries { get; }

    public TimeSpan RegexTimeout { get; }

    public int MaxRegexLength { get; }

    public bool StrictUndefined { get; }

    public bool TrimBlocks { get; }

    public bool LStripBlocks { get; }

    public FrozenDictionary<string, FunctionDef> Functions { get; }
}

/// <summary>Turns offsets into the 1-based line and column an author sees, and builds the exception.</summary>
internal static class TemplateErrors
{
    public static (int Line, int Column) LineColumn(string source, int offset)
    {
        offset = Math.Clamp(offset, 0, source.Length);
        var line = 1;
        var lineStart = 0;
        for (var i = 0; i < offset; i++)
        {
            if (source[i] == '\n')
            {
                line++;
                lineStart = i + 1;
            }
        }

        return (line, offset - lineStart + 1);
    }

    /// <summary>"<paramref name="head"/> at line L, column C[: <paramref name="detail"/>]".</summary>
    public static TemplateException At(string source, int offset, string head, string? detail = null, Exception? inner = null)
    {
        var (line, column) = LineColumn(source, offset);
        var message = string.Create(CultureInfo.InvariantCulture, $"{head} at line {line}, column {column}");
        if (!string.IsNullOrEmpty(detail))
        {
            message += ": " + detail;
        }

        return inner is null
            ? new TemplateException(message, line, column)
            : new TemplateException(message, line, column, inner);
    }

    public static string Where(string source, int offset)
    {
        var (line, column) = LineColumn(source, offset);
        return string.Create(CultureInfo.InvariantCulture, $"line {line}, column {column}");
    }
}

/// <summary>
/// Everything one render owns: the output, the local variables, the step count. Created per call, so a compiled
/// template can be shared by any number of threads.
/// </summary>
internal sealed class RenderState(TemplateSettings settings, JsonObject root, string source, TemplateEscape escape)
{
    private readonly List<Dictionary<string, Value>> _frames = [];
    private long _steps;

    public TemplateSettings Settings { get; } = settings;

    public JsonObject Root { get; } = root;

    public string Source { get; } = source;

    /// <summary>The offset of the construct being evaluated, for error messages.</summary>
    public int Pos { get; set; }

    public TemplateEscape Escape { get; set; } = escape;

    public StringBuilder Out { get; set; } = new();

    public TemplateException Error(string head, string? detail = null, Exception? inner = null) =>
        TemplateErrors.At(Source, Pos, head, detail, inner);

    public void Step()
    {
        if (++_steps > Settings.MaxSteps)
        {
            throw StepLimit();
        }
    }

    /// <summary>Charges <paramref name="count"/> steps at once, before the work is done (so before allocating).</summary>
    public void Steps(long count)
    {
        if (count < 0 || count > Settings.MaxSteps - _steps)
        {
            throw StepLimit();
        }

        _steps += count;
    }

    private TemplateException StepLimit() => Error(
        string.Create(CultureInfo.InvariantCulture, $"step limit of {Settings.MaxSteps} exceeded"),
        "the template does too much work (loops, ranges or filters over long lists); see TemplateOptions.MaxSteps");

    /// <summary>Throws unless a string or list of <paramref name="length"/> may be built.</summary>
    public void CheckLength(long length)
    {
        if (length > Settings.MaxOutputLength)
        {
            throw OutputLimit();
        }
    }

    public TemplateException OutputLimit() => Error(
        string.Create(CultureInfo.InvariantCulture, $"output limit of {Settings.MaxOutputLength} characters exceeded"),
        "the template builds too much text; see TemplateOptions.MaxOutputLength");

    public void CheckDepth(int depth)
    {
        if (depth > Settings.MaxDepth)
        {
            throw Error(
                string.Create(CultureInfo.InvariantCulture, $"value nested deeper than the depth limit of {Settings.MaxDepth}"),
                "see TemplateOptions.MaxDepth");
        }
    }

    public void Write(string text)
    {
        if ((long)Out.Length + text.Length > Settings.MaxOutputLength)
        {
            throw OutputLimit();
        }

        Out.Append(text);
    }

    public Value Lookup(string name)
    {
        for (var i = _frames.Count - 1; i >= 0; i--)
        {
            if (_frames[i].TryGetValue(name, out var v))
            {
                return v;
            }
        }

        return Root.TryGetPropertyValue(name, out var node) ? Value.FromNode(node) : Value.Missing(name);
    }

    public bool TryLookupLocal(string name, out Value value)
    {
        for (var i = _frames.Count - 1; i >= 0; i--)
        {
            if (_frames[i].TryGetValue(name, out value))
            {
                return true;
            }
        }

        value = Value.Undefined;
        return false;
    }

    /// <summary>Assigns in the innermost scope: the current for loop, or the template's top level.</summary>
    public void Assign(string name, Value value)
    {
        if (_frames.Count == 0)
        {
            _frames.Add(new Dictionary<string, Value>(StringComparer.Ordinal));
        }

        _frames[^1][name] = value;
    }

    public Dictionary<string, Value> PushFrame()
    {
        var frame = new Dictionary<string, Value>(StringComparer.Ordinal);
        _frames.Add(frame);
        return frame;
    }

    public void PopFrame() => _frames.RemoveAt(_frames.Count - 1);

    /// <summary>The error for using an undefined value where a real one is needed.</summary>
    public TemplateException UndefinedError(Value v) =>
        Error(v.UndefinedName is { } name ? $"'{name}' is undefined" : "a value is undefined");
}
