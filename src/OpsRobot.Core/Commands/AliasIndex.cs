using OpsRobot.Core.Aliases;
using OpsRobot.Core.Packs;

namespace OpsRobot.Core.Commands;

/// <summary>One format of one alias, compiled.</summary>
public sealed record AliasCandidate(AliasDefinition Alias, AliasFormatEntry Entry, AliasFormat Format);

/// <summary>The outcome of matching a line against the aliases.</summary>
/// <param name="Best">The most specific match, when exactly one alias wins.</param>
/// <param name="Parameters">The parameters it extracted (strings, as typed), when there is a best match.</param>
/// <param name="Ambiguous">Several aliases matched equally well: the person must choose.</param>
public sealed record AliasLookup(AliasCandidate? Best, IReadOnlyDictionary<string, string>? Parameters, IReadOnlyList<AliasCandidate> Ambiguous)
{
    public static AliasLookup None { get; } = new(null, null, []);
}

/// <summary>
/// The aliases of one pack snapshot, indexed by the first word of each format's literal start, so that matching a
/// line tries only the formats that could match it: with 1,000 aliases a line costs about what it costs with 10.
/// Formats that start with a parameter or a regex construct cannot be indexed and are tried for every line.
/// </summary>
public sealed class AliasIndex
{
    private readonly Dictionary<string, List<AliasCandidate>> _byFirstWord = new(StringComparer.Ordinal);
    private readonly List<AliasCandidate> _unanchored = [];
    private readonly List<AliasCandidate> _all = [];

    private AliasIndex(PackLoadResult snapshot)
    {
        Snapshot = snapshot;
        foreach (var alias in snapshot.Aliases.Where(a => a.Enabled))
        {
            foreach (var entry in alias.Formats)
            {
                foreach (var representation in entry.Representations)
                {
                    var candidate = new AliasCandidate(alias, entry, AliasFormat.Parse(representation));
                    _all.Add(candidate);
                    var first = FirstWord(candidate.Format.LeadingLiteral);
                    if (first.Length == 0)
                    {
                        _unanchored.Add(candidate);
                    }
                    else
                    {
                        if (!_byFirstWord.TryGetValue(first, out var list))
                        {
                            _byFirstWord[first] = list = [];
                        }

                        list.Add(candidate);
                    }
                }
            }
        }
    }

    public PackLoadResult Snapshot { get; }

    /// <summary>Every compiled format, in pack order.</summary>
    public IReadOnlyList<AliasCandidate> All => _all;

    public static AliasIndex Build(PackLoadResult snapshot)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        return new AliasIndex(snapshot);
    }

    /// <summary>
    /// Finds the alias a command line runs. The most specific format wins; a tie between aliases is ambiguous.
    /// Aliases that <paramref name="visible"/> rejects are left out, as if they did not exist.
    /// </summary>
    public AliasLookup Match(string commandText, Func<AliasDefinition, bool>? visible = null)
    {
        ArgumentNullException.ThrowIfNull(commandText);
        var first = FirstWord(commandText);
        var matches = new List<(AliasCandidate Candidate, AliasMatch Match)>();
        if (_byFirstWord.TryGetValue(first, out var bucket))
        {
            Try(bucket, commandText, matches);
        }

        Try(_unanchored, commandText, matches);
        if (visible is not null)
        {
            matches.RemoveAll(m => !visible(m.Candidate.Alias));
        }

        if (matches.Count == 0)
        {
            return AliasLookup.None;
        }

        var top = matches.Max(m => m.Candidate.Format.Specificity);
        var best = matches.Where(m => m.Candidate.Format.Specificity == top).ToList();
        var distinct = best.Select(m => m.Candidate.Alias.Ref).Distinct(StringComparer.Ordinal).Count();
        return distinct == 1
            ? new AliasLookup(best[0].Candidate, best[0].Match.All, [])
            : new AliasLookup(null, null, [.. best.Select(m => m.Candidate).DistinctBy(c => c.Alias.Ref, StringComparer.Ordinal)]);
    }

    /// <summary>Aliases whose literal start is close to the line's first words, for "did you mean".</summary>
    public IReadOnlyList<AliasCandidate> Suggest(string commandText, int max = 3)
    {
        ArgumentNullException.ThrowIfNull(commandText);
        var first = FirstWord(commandText);
        if (first.Length == 0)
        {
            return [];
        }

        return All
            .Where(c => c.Format.LeadingLiteral.Length > 0)
            .Select(c => (Candidate: c, Distance: Similarity.Distance(first, FirstWord(c.Format.LeadingLiteral))))
            .Where(x => x.Distance <= Math.Max(2, first.Length / 3))
            .OrderBy(x => x.Distance)
            .Select(x => x.Candidate)
            .DistinctBy(c => c.Alias.Ref, StringComparer.Ordinal)
            .Take(max)
            .ToList();
    }

    private static void Try(List<AliasCandidate> candidates, string text, List<(AliasCandidate Candidate, AliasMatch Match)> matches)
    {
        foreach (var candidate in candidates)
        {
            AliasMatch? match;
            try
            {
                match = candidate.Format.Match(text);
            }
            catch (AliasFormatException)
            {
                // A format whose regex gives up on this text (its time limit) simply does not match it.
                continue;
            }

            if (match is not null)
            {
                matches.Add((candidate, match));
            }
        }
    }

    /// <summary>
    /// The first word of <paramref name="text"/> in the form <see cref="AliasFormat.LeadingLiteral"/> uses (the
    /// alias parser's whitespace and case rules), so a line always lands in the bucket of every format that can
    /// match it.
    /// </summary>
    private static string FirstWord(string text)
    {
        var start = 0;
        while (start < text.Length && AliasText.IsWhiteSpace(text[start]))
        {
            start++;
        }

        var end = start;
        while (end < text.Length && !AliasText.IsWhiteSpace(text[end]))
        {
            end++;
        }

        // Only the first word is needed, so only it is normalised (the same rule as AliasText.Normalize).
        return text[start..end].ToLowerInvariant();
    }
}
