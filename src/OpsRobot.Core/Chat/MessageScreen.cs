using System.Globalization;

namespace OpsRobot.Core.Chat;

/// <summary>Why a chat line was refused before anything read it.</summary>
public enum ScreenVerdict
{
    Accepted,
    Empty,
    TooLong,
    Binary,
}

/// <summary>
/// The first check every chat line meets, whatever door it came through: empty, oversized and binary lines are
/// refused here so that no parser behind it has to be ready for them.
/// </summary>
public static class MessageScreen
{
    /// <summary>Checks <paramref name="text"/> against the size limit and for binary content.</summary>
    public static ScreenVerdict Check(string? text, int maxLength)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return ScreenVerdict.Empty;
        }

        if (text.Length > maxLength)
        {
            return ScreenVerdict.TooLong;
        }

        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (char.IsHighSurrogate(c))
            {
                // A lone surrogate is what undecodable bytes leave behind.
                if (i + 1 >= text.Length || !char.IsLowSurrogate(text[i + 1]))
                {
                    return ScreenVerdict.Binary;
                }

                i++;
                continue;
            }

            if (char.IsLowSurrogate(c) || c == '\uFFFD')
            {
                return ScreenVerdict.Binary;
            }

            if (c is '\t' or '\n' or '\r')
            {
                continue;
            }

            var category = CharUnicodeInfo.GetUnicodeCategory(c);
            if (category == UnicodeCategory.Control)
            {
                return ScreenVerdict.Binary;
            }
        }

        return ScreenVerdict.Accepted;
    }

    /// <summary>The sentence a person sees when their line was refused.</summary>
    public static string Explain(ScreenVerdict verdict, int length, int maxLength) => verdict switch
    {
        ScreenVerdict.Empty => "That message is empty.",
        ScreenVerdict.TooLong => string.Create(
            CultureInfo.InvariantCulture,
            $"That message is {length:N0} characters long; the limit is {maxLength:N0}. Attach long text as a file or split it."),
        ScreenVerdict.Binary => "That message holds control characters or bytes that are not text, so it was not read.",
        _ => string.Empty,
    };
}
