using System.Text;

namespace OpsRobot.Chat.Rendering;

/// <summary>A rendered block, ready to be packed into messages: text, or a code block that may be cut and re-fenced.</summary>
public readonly record struct RenderedBlock(string Text, string? FenceOpen = null, string? FenceClose = null)
{
    public static RenderedBlock Code(string open, string body, string close) => new($"{open}\n{body}\n{close}", open, close);

    public bool IsCode => FenceOpen is not null;
}

/// <summary>
/// Packs rendered blocks into messages of at most a given length. Blocks are kept whole where they fit; a code
/// block too long for one message is cut between lines and each piece fenced again, so no message ever holds
/// half a fence; text too long is cut between lines, then between words, then anywhere (never inside a
/// surrogate pair).
/// </summary>
public static class MessageSplitter
{
    public static IReadOnlyList<string> Split(IReadOnlyList<RenderedBlock> blocks, int limit, string separator = "\n\n")
    {
        ArgumentNullException.ThrowIfNull(blocks);
        ArgumentNullException.ThrowIfNull(separator);
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 32);
        var messages = new List<string>();
        var current = new StringBuilder();

        void Add(string piece)
        {
            var extra = current.Length == 0 ? piece.Length : separator.Length + piece.Length;
            if (current.Length > 0 && current.Length + extra > limit)
            {
                messages.Add(current.ToString());
                current.Clear();
            }

            if (current.Length > 0)
            {
                current.Append(separator);
            }

            current.Append(piece);
        }

        foreach (var block in blocks)
        {
            if (block.Text.Length <= limit)
            {
                Add(block.Text);
            }
            else if (block.IsCode)
            {
                var open = block.FenceOpen!;
                var close = block.FenceClose!;
                var body = block.Text[(open.Length + 1)..^(close.Length + 1)];
                // A fence as long as the limit (code full of backtick runs) would leave no room: the pieces then
                // run a little over rather than the message being lost.
                foreach (var piece in Cut(body, Math.Max(limit - open.Length - close.Length - 2, 16)))
                {
                    Add($"{open}\n{piece}\n{close}");
                }
            }
            else
            {
                foreach (var piece in Cut(block.Text, limit))
                {
                    Add(piece);
                }
            }
        }

        if (current.Length > 0)
        {
            messages.Add(current.ToString());
        }

        return messages;
    }

    /// <summary>Cuts <paramref name="text"/> into pieces of at most <paramref name="limit"/> characters, preferring line then word breaks.</summary>
    public static IReadOnlyList<string> Cut(string text, int limit)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 2);
        var pieces = new List<string>();
        var rest = text.AsSpan();
        while (rest.Length > limit)
        {
            var window = rest[..limit];
            var cut = window.LastIndexOf('\n');
            var skip = 1;
            if (cut < limit / 2)
            {
                cut = window.LastIndexOf(' ');
            }

            if (cut < limit / 2)
            {
                cut = limit;
                skip = 0;
                if (char.IsHighSurrogate(rest[cut - 1]))
                {
                    cut--;
                }
            }

            pieces.Add(rest[..cut].ToString());
            rest = rest[(cut + skip)..];
        }

        if (rest.Length > 0)
        {
            pieces.Add(rest.ToString());
        }

        return pieces;
    }
}
