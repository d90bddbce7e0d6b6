using System.Collections.Concurrent;
using System.Text.Json.Nodes;

namespace OpsRobot.Core.Templates;

/// <summary>
/// The template language (Jinja as StackStorm users write it, plus Orquesta's <c>&lt;% %&gt;</c>), compiled once per
/// distinct source and cached, evaluated over JSON values in a sandbox with limits on steps, nesting and output.
/// Thread-safe: create one (per set of options) and share it. See docs/templates.md.
/// </summary>
public sealed class TemplateRenderer : ITemplateRenderer
{
    private readonly TemplateSettings _settings;
    private readonly ConcurrentDictionary<string, CompileResult> _cache = new(StringComparer.Ordinal);

    /// <summary>A renderer with the default, safe <see cref="TemplateOptions"/>.</summary>
    public TemplateRenderer()
        : this(new TemplateOptions())
    {
    }

    /// <summary>A renderer with these limits and functions (copied now; later changes to the options are not seen).</summary>
    /// <exception cref="ArgumentOutOfRangeException">A limit is out of its range.</exception>
    public TemplateRenderer(TemplateOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (Validate(options) is { } problem)
        {
            throw new ArgumentOutOfRangeException(nameof(options), problem);
        }

        _settings = new TemplateSettings(options);
    }

    private static string? Validate(TemplateOptions o) =>
        o.MaxSteps < 1 ? "MaxSteps must be at least 1."
        : o.MaxDepth is < 1 or > 1000 ? "MaxDepth must be between 1 and 1000."
        : o.MaxOutputLength < 1 ? "MaxOutputLength must be at least 1."
        : o.MaxCacheEntries < 0 ? "MaxCacheEntries must not be negative."
        : o.MaxRegexLength < 1 ? "MaxRegexLength must be at least 1."
        : o.RegexTimeout <= TimeSpan.Zero || o.RegexTimeout > TimeSpan.FromMinutes(1) ? "RegexTimeout must be positive and at most a minute."
        : null;

    /// <inheritdoc />
    public string Render(string source, JsonObject context, TemplateEscape escape = TemplateEscape.None)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(context);
        if (!HasMarkup(source))
        {
            return source;
        }

        var template = Compile(source);
        var st = new RenderState(_settings, context, source, escape);
        Stmt.ExecAll(template.Body, st);
        return st.Out.ToString();
    }

    /// <inheritdoc />
    public JsonNode? Evaluate(string field, JsonObject context)
    {
        ArgumentNullException.ThrowIfNull(field);
        ArgumentNullException.ThrowIfNull(context);
        if (!HasMarkup(field))
        {
            return JsonValue.Create(field);
        }

        var template = Compile(field);
        if (template.Single is not { } expr)
        {
            return JsonValue.Create(Render(field, context));
        }

        var st = new RenderState(_settings, context, field, TemplateEscape.None);
        var value = expr.Eval(st);
        st.Pos = expr.Pos;
        if (value.IsUndefined && _settings.StrictUndefined)
        {
            throw st.UndefinedError(value);
        }

        return TextForm.ToNode(st, value, 0);
    }

    /// <inheritdoc />
    public TemplateException? Check(string source)
    {
        ArgumentNullException.ThrowIfNull(source);
        if (!HasMarkup(source))
        {
            return null;
        }

        var result = GetOrCompile(source);
        return result.Template is null ? result.ToException() : null;
    }

    /// <summary>Whether the text has anything for the template engine to do.</summary>
    private static bool HasMarkup(string s) =>
        s.Contains('{', StringComparison.Ordinal) || s.Contains("<%", StringComparison.Ordinal);

    private CompiledTemplate Compile(string source)
    {
        var result = GetOrCompile(source);
        return result.Template ?? throw result.ToException();
    }

    private CompileResult GetOrCompile(string source)
    {
        if (_cache.TryGetValue(source, out var cached))
        {
            return cached;
        }

        CompileResult result;
        try
        {
            result = new CompileResult(Parser.Parse(source, _settings), null, 0, 0);
        }
        catch (TemplateException ex)
        {
            // Failures are cached too (as data, not as the exception object, which each caller gets fresh).
            result = new CompileResult(null, ex.Message, ex.Line, ex.Column);
        }

        if (_settings.MaxCacheEntries > 0)
        {
            if (_cache.Count >= _settings.MaxCacheEntries)
            {
                Evict();
            }

            _cache.TryAdd(source, result);
        }

        return result;
    }

    /// <summary>Drops about a quarter of the entries, in the dictionary's (arbitrary) order: random eviction, no bookkeeping on hits.</summary>
    private void Evict()
    {
        var toRemove = Math.Max(1, _settings.MaxCacheEntries / 4);
        foreach (var key in _cache.Keys)
        {
            if (toRemove-- <= 0)
            {
                break;
            }

            _cache.TryRemove(key, out _);
        }
    }

    /// <summary>How many compiled templates are cached (for tests and diagnostics).</summary>
    internal int CachedCount => _cache.Count;

    private sealed record CompileResult(CompiledTemplate? Template, string? Message, int Line, int Column)
    {
        public TemplateException ToException() => new(Message ?? "invalid template", Line, Column);
    }
}
