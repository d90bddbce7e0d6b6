using System.Buffers;
using System.Text;

namespace OpsRobot.Chat.Irc;

/// <summary>One line read from the server, and whether it was longer than the protocol allows.</summary>
internal readonly record struct IrcLine(string Text, bool Oversized);

/// <summary>
/// Reads CR LF (or bare LF) terminated lines from the server, never holding more than <c>maxLineBytes</c> of one:
/// a longer line is cut there, the rest skipped up to its end, and it is marked <see cref="IrcLine.Oversized"/> so
/// the caller can refuse it. A hostile server cannot make the robot buffer without bound.
/// </summary>
internal sealed class IrcLineReader(Stream stream, int maxLineBytes = 512)
{
    private static readonly Encoding Utf8 = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: false);
    private readonly byte[] _buffer = new byte[8192];
    private readonly ArrayBufferWriter<byte> _line = new(512);
    private int _start;
    private int _end;

    /// <summary>The next line, or null when the server closed the connection.</summary>
    public async ValueTask<IrcLine?> ReadLineAsync(CancellationToken cancellationToken)
    {
        _line.Clear();
        var oversized = false;
        while (true)
        {
            if (_start == _end)
            {
                _start = 0;
                _end = await stream.ReadAsync(_buffer, cancellationToken).ConfigureAwait(false);
                if (_end == 0)
                {
                    return null;
                }
            }

            var chunk = _buffer.AsSpan(_start, _end - _start);
            var newline = chunk.IndexOf((byte)'\n');
            var take = newline < 0 ? chunk : chunk[..newline];
            _start += newline < 0 ? chunk.Length : newline + 1;

            // The limit counts the CR LF, as RFC 2812 does.
            var room = maxLineBytes - 2 - _line.WrittenCount;
            if (take.Length > room)
            {
                oversized = true;
                take = take[..Math.Max(room, 0)];
            }

            _line.Write(take);
            if (newline >= 0)
            {
                var bytes = _line.WrittenSpan;
                if (!bytes.IsEmpty && bytes[^1] == '\r')
                {
                    bytes = bytes[..^1];
                }

                return new IrcLine(Utf8.GetString(bytes), oversized);
            }
        }
    }
}
