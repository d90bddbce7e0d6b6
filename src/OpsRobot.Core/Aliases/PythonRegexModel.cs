namespace OpsRobot.Core.Aliases;

/// <summary>What one parsed Python regex item is; only the distinctions the alias code needs.</summary>
internal enum PyItemKind
{
    Literal,
    Set,
    Anchor,
    Group,
    Lookaround,
    Backref,
    Conditional,
}

internal enum PyAnchor
{
    None,
    Beginning,
    BeginningString,
    End,
    EndString,
    Boundary,
}

/// <summary>One item of a parsed sequence, with its quantifier (if any) and its width in code points.</summary>
internal sealed class PyItem
{
    public PyItemKind Kind { get; init; }

    /// <summary>The code point of a <see cref="PyItemKind.Literal"/>.</summary>
    public int CodePoint { get; init; }

    public PyAnchor Anchor { get; init; }

    /// <summary>
    /// Groups that Python's parser represents as SUBPATTERN (capturing, non-capturing and scoped-flag groups):
    /// the only ones StackStorm's anchor search looks into.
    /// </summary>
    public bool IsSubpattern { get; init; }

    /// <summary>A <c>\s</c> escape: matches exactly one whitespace character.</summary>
    public bool IsSpaceClass { get; init; }

    public PyAlternation? Body { get; init; }

    /// <summary>Where this item's .NET text starts in the output (a possessive quantifier wraps it).</summary>
    public int OutStart { get; init; }

    public long MinWidth { get; set; }

    public long MaxWidth { get; set; }

    public bool Quantified { get; set; }

    public long MinRepeat { get; set; } = 1;

    public long MaxRepeat { get; set; } = 1;
}

internal sealed class PySequence
{
    public List<PyItem> Items { get; } = [];
}

internal sealed class PyAlternation
{
    public List<PySequence> Branches { get; } = [];
}

/// <summary>A Python pattern translated to .NET, with what the alias code needs to know about it.</summary>
internal sealed record PyTranslation(
    string Pattern,
    IReadOnlyList<int> PatternToInput,
    PyAlternation Tree,
    IReadOnlyList<(string Name, int Number)> NamedGroups,
    bool IgnoreCase,
    bool Multiline,
    bool HasGlobalFlags);

/// <summary>Python's parser signal to start over in verbose mode; never leaves the translator.</summary>
internal sealed class RestartInVerboseModeException : Exception
{
}

/// <summary>A syntax error in a Python pattern, positioned in the translator's input.</summary>
internal sealed class PyRegexException(string message, int position) : Exception(message)
{
    public int Position { get; } = position;
}
