namespace OpsRobot.Core.Templates;

/// <summary>
/// The template language's sandbox limits and behaviour, fixed when a <see cref="TemplateRenderer"/> is created.
/// The defaults are safe for templates written by pack authors and fed with values from chat, webhooks and
/// command output; every limit produces a <see cref="TemplateException"/> that names it, never a hang or a crash.
/// </summary>
public sealed class TemplateOptions
{
    /// <summary>
    /// The most work one render may do. A step is a statement executed, a loop iteration, a filter, function or
    /// method call, each regular-expression match, and each item a filter or function builds or walks (so
    /// <c>range(n)</c> costs n before the list is built). Raising it lets a hostile or careless template (nested loops over <c>range()</c>) hold a worker thread
    /// and memory for longer; it cannot be turned off.
    /// </summary>
    public int MaxSteps { get; set; } = 100_000;

    /// <summary>
    /// The deepest nesting allowed: of blocks (<c>if</c> in <c>for</c> in …), of expressions (brackets, operators,
    /// filter chains) and of values being printed, compared or converted. Checked while parsing, so hostile input
    /// such as 10,000 opening brackets is refused before it can exhaust the stack. At most 1000; raising it towards
    /// that risks deep recursion in the parser and the evaluator (the stack is still guarded, but errors get slower).
    /// </summary>
    public int MaxDepth { get; set; } = 64;

    /// <summary>
    /// The longest text a render may produce, in characters, and the longest string an expression may build
    /// (<c>'x' * n</c>, <c>~</c>, <c>join</c>, <c>replace</c>…), checked before the string is allocated. Raising it lets
    /// one template allocate that much memory per render, and whatever consumes the output (chat, a shell) receive it.
    /// </summary>
    public int MaxOutputLength { get; set; } = 1_000_000;

    /// <summary>
    /// How many compiled templates the renderer keeps, keyed by their source text. When full, a quarter of the
    /// entries are dropped at random. 0 disables the cache (every render parses again). Raising it costs memory
    /// proportional to the distinct templates seen; templates built from user input would otherwise fill it.
    /// </summary>
    public int MaxCacheEntries { get; set; } = 1024;

    /// <summary>
    /// How long one regular-expression evaluation (<c>regex_match</c>, <c>regex_replace</c>…) may run. Raising it
    /// lets a catastrophically backtracking pattern hold a worker for that long per call.
    /// </summary>
    public TimeSpan RegexTimeout { get; set; } = TimeSpan.FromMilliseconds(100);

    /// <summary>The longest regular-expression pattern accepted, in characters. Raising it admits costlier patterns.</summary>
    public int MaxRegexLength { get; set; } = 1000;

    /// <summary>
    /// When false (the default, Jinja's behaviour), an undefined variable prints as an empty string and an attribute
    /// of an undefined or none value is undefined. When true, printing an undefined value, or reaching into an
    /// undefined or none value, is an error; <c>is defined</c> and <c>default</c> still work.
    /// </summary>
    public bool StrictUndefined { get; set; }

    /// <summary>
    /// Removes the first newline after a block tag (<c>%}</c>) or comment, as StackStorm configures Jinja, so that a
    /// <c>{% for %}</c> on a line of its own leaves no blank line. <c>+%}</c> keeps the newline for one tag.
    /// </summary>
    public bool TrimBlocks { get; set; } = true;

    /// <summary>
    /// Removes spaces and tabs before a block tag or comment that starts a line, as StackStorm configures Jinja.
    /// <c>{%+</c> keeps them for one tag.
    /// </summary>
    public bool LStripBlocks { get; set; } = true;

    /// <summary>Functions callable from expressions, beyond the built-in ones. See <see cref="TemplateFunctions"/>.</summary>
    public TemplateFunctions Functions { get; } = new();
}
