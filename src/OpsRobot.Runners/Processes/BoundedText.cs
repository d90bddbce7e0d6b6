using System.Globalization;
using System.Text;

namespace OpsRobot.Runners.Processes;

/// <summary>
/// Keeps the first <c>limit</c> characters of a stream for the result and counts the rest, so a command that
/// prints gigabytes costs a bounded amount of memory. Not thread-safe: one per stream.
/// </summary>
internal sealed class BoundedText(int limit)
{
    private readonly StringBuilder _kept = new();
    private readonly int _limit = Math.Max(0, limit);

    /// <summary>Characters seen but not kept.</summary>
    public long Dropped { get; private set; }

    public bool Truncated => Dropped > 0;

    public void Append(ReadOnlySpan<char> text)
    {
        var room = _limit - _kept.Length;
        if (room >= text.Length)
        {
            _kept.Append(text);
            return;
        }

        if (room > 0)
        {
            // Never cut a surrogate pair in half: the kept text must stay valid UTF-16.
            if (char.IsHighSurrogate(text[room - 1]))
            {
                room--;
            }

            _kept.Append(text[..room]);
        }

        Dropped += text.Length - Math.Max(room, 0);
    }

    /// <summary>The kept text, with a marker saying how much was left out.</summary>
    public override string ToString() => Truncated
        ? _kept.Append(CultureInfo.InvariantCulture, $"\n[… output truncated by OpsRobot: {Dropped} more characters were streamed but not kept in the result]").ToString()
        : _kept.ToString();
}
