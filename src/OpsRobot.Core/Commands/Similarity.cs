namespace OpsRobot.Core.Commands;

/// <summary>Edit distance, for suggesting the command (or host, or service) a person probably meant.</summary>
public static class Similarity
{
    /// <summary>
    /// Whether <paramref name="a"/> and <paramref name="b"/> are at most <paramref name="edits"/> typos apart; names
    /// whose lengths alone differ by more are refused without building the table.
    /// </summary>
    public static bool IsWithin(string a, string b, int edits, bool ignoreCase = false)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        return Math.Abs(a.Length - b.Length) <= edits && Distance(a, b, ignoreCase) <= edits;
    }

    /// <summary>
    /// Optimal string alignment distance: insertions, deletions, substitutions and adjacent swaps, each one edit;
    /// with <paramref name="ignoreCase"/>, letters that differ only in case (invariant culture) are the same.
    /// </summary>
    public static int Distance(string a, string b, bool ignoreCase = false)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        if (ignoreCase)
        {
            a = a.ToLowerInvariant();
            b = b.ToLowerInvariant();
        }

        if (a.Length == 0)
        {
            return b.Length;
        }

        if (b.Length == 0)
        {
            return a.Length;
        }

        var d = new int[a.Length + 1, b.Length + 1];
        for (var i = 0; i <= a.Length; i++)
        {
            d[i, 0] = i;
        }

        for (var j = 0; j <= b.Length; j++)
        {
            d[0, j] = j;
        }

        for (var i = 1; i <= a.Length; i++)
        {
            for (var j = 1; j <= b.Length; j++)
            {
                var cost = a[i - 1] == b[j - 1] ? 0 : 1;
                d[i, j] = Math.Min(Math.Min(d[i - 1, j] + 1, d[i, j - 1] + 1), d[i - 1, j - 1] + cost);
                if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
                {
                    d[i, j] = Math.Min(d[i, j], d[i - 2, j - 2] + 1);
                }
            }
        }

        return d[a.Length, b.Length];
    }
}
