using System.Text.Json.Nodes;

namespace OpsRobot.Core.Templates;

/// <summary>How values inserted by <c>{{ … }}</c> are escaped when a template is rendered.</summary>
public enum TemplateEscape
{
    /// <summary>Inserted as they are (chat replies, where the adapter renders Markdown safely).</summary>
    None,

    /// <summary>
    /// Each inserted value is quoted for a POSIX shell (single quotes, with embedded quotes escaped), so it reaches
    /// the command as exactly one word of data, whatever it contains. Only literal text written by the template's
    /// author is left unquoted.
    /// </summary>
    Shell,
}

/// <summary>The template language's entry point, as the rest of the engine sees it. See docs/templates.md.</summary>
public interface ITemplateRenderer
{
    /// <summary>Renders <paramref name="source"/> (compiled once and cached) with the variables in <paramref name="context"/>.</summary>
    /// <exception cref="TemplateException">The template does not parse, or evaluating it failed or hit a limit.</exception>
    string Render(string source, JsonObject context, TemplateEscape escape = TemplateEscape.None);

    /// <summary>
    /// Evaluates a field: when it is exactly one expression (<c>{{ x }}</c> or <c>&lt;% x %&gt;</c>), its value keeps
    /// its type (list, number, boolean, null); otherwise the rendered text is returned as a string.
    /// </summary>
    JsonNode? Evaluate(string field, JsonObject context);

    /// <summary>Parses without evaluating, for load-time validation. Returns null when it parses, else the error.</summary>
    TemplateException? Check(string source);
}

/// <summary>A template that does not parse, or whose evaluation failed; carries the position for the author.</summary>
public sealed class TemplateException : Exception
{
    public TemplateException()
    {
    }

    public TemplateException(string message)
        : base(message)
    {
    }

    public TemplateException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public TemplateException(string message, int line, int column)
        : base(message)
    {
        Line = line;
        Column = column;
    }

    /// <summary>An error at a known position that was caused by another (a failing registered function, a regex timeout).</summary>
    public TemplateException(string message, int line, int column, Exception innerException)
        : base(message, innerException)
    {
        Line = line;
        Column = column;
    }

    /// <summary>1-based line within the template, or 0 when unknown.</summary>
    public int Line { get; }

    /// <summary>1-based column within the template, or 0 when unknown.</summary>
    public int Column { get; }
}
