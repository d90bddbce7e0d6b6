namespace OpsRobot.Core.Access;

/// <summary>
/// Shell-style wildcards for grants: <c>*</c> matches any run of characters (including none), <c>?</c> exactly
/// one. Matching is ordinal and case-sensitive: <c>Deploy.*</c> does not grant <c>deploy.app</c>. No regular
/// expressions, so a pattern from a role file can never be slow.
/// </summary>
public static class Wildcard
{
    public static bool IsMatch(string pattern, string value)
    {
        ArgumentNullException.ThrowIfNull(pattern);
        ArgumentNullException.ThrowIfNull(value);
        int p = 0, v = 0, star = -1, mark = 0;
        while (v < value.Length)
        {
            if (p < pattern.Length && (pattern[p] == '?' || pattern[p] == value[v]))
            {
                p++;
                v++;
            }
            else if (p < pattern.Length && pattern[p] == '*')
            {
                star = p++;
                mark = v;
            }
            else if (star >= 0)
            {
                p = star + 1;
                v = ++mark;
            }
            else
            {
                return false;
            }
        }

        while (p < pattern.Length && pattern[p] == '*')
        {
            p++;
        }

        return p == pattern.Length;
    }

    /// <summary>True when the text has a wildcard character.</summary>
    public static bool HasWildcard(string text) => text.AsSpan().IndexOfAny('*', '?') >= 0;
}
