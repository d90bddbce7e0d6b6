namespace OpsRobot.Core.Aliases;

/// <summary>
/// One entry of an alias's <c>formats</c> list. StackStorm accepts two shapes (st2common
/// <c>util/actionalias_matching.py</c>, <c>normalise_alias_format_string</c>):
/// <list type="bullet">
/// <item>a plain string, which is both what help shows and what is matched (<see cref="FromString"/>);</item>
/// <item>an object <c>{display: "…", representation: ["…", …], match_multiple: false}</c>: <see cref="Display"/> is
/// shown in help and never matched, the <see cref="Representations"/> are matched and never shown
/// (<see cref="Create"/>).</item>
/// </list>
/// </summary>
/// <remarks>
/// Help: list <see cref="Display"/> verbatim, placeholders included (<c>deploy {{app}} to {{env}}</c>). An entry
/// without a display (representation only) is not listed, as StackStorm's <c>generate_helpstring_result</c> skips
/// it. Matching: try each representation; an entry without representations matches nothing here (StackStorm turns a
/// display-only entry into the empty format, which matches a blank command or one made only of <c>key=value</c>
/// pairs and so can start the action by accident).
/// </remarks>
/// <param name="Display">The help text, or null.</param>
/// <param name="Representations">The formats that are matched.</param>
/// <param name="MatchMultiple">Run the action once per match in the text (<see cref="AliasFormat.MatchAll"/>).</param>
public sealed record AliasFormatSpec(string? Display, IReadOnlyList<string> Representations, bool MatchMultiple = false)
{
    /// <summary>The plain-string shape: shown and matched as written.</summary>
    public static AliasFormatSpec FromString(string format)
    {
        ArgumentNullException.ThrowIfNull(format);
        return new AliasFormatSpec(format, [format]);
    }

    /// <summary>
    /// The object shape. A YAML <c>representation</c> given as a single string is passed as a one-element list; a
    /// missing one as null or empty.
    /// </summary>
    public static AliasFormatSpec Create(string? display, IEnumerable<string>? representations, bool matchMultiple = false) =>
        new(display, [.. representations ?? []], matchMultiple);

    /// <summary>What help shows for this entry, or null when it is not listed (no display text).</summary>
    public string? HelpText => string.IsNullOrEmpty(Display) ? null : Display;

    /// <summary>Compiles every representation.</summary>
    /// <exception cref="AliasFormatException">A representation is malformed.</exception>
    public IReadOnlyList<AliasFormat> Compile() => Compile(AliasFormat.DefaultMatchTimeout);

    /// <summary>Compiles every representation with the given per-match time limit.</summary>
    /// <exception cref="AliasFormatException">A representation is malformed.</exception>
    public IReadOnlyList<AliasFormat> Compile(TimeSpan matchTimeout) => [.. Representations.Select(r => AliasFormat.Parse(r, matchTimeout))];
}
