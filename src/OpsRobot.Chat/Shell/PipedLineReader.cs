using System.Text;

namespace OpsRobot.Chat.Shell;

/// <summary>
/// Lines from a pipe, read in large blocks, that can tell whether the next line is already here
/// (<see cref="TryReadBufferedLine"/>) or would have to be waited for. The shell chat's piped mode uses that to
/// print every answer due before it waits for more input, so a script that writes a line and waits for its answer
/// gets it, while a burst of lines still shares commits and writes. UTF-8 (a leading byte-order mark is dropped,
/// invalid bytes become U+FFFD); lines end at <c>\n</c>, <c>\r\n</c> or <c>\r</c>, as with <see cref="StreamReader"/>.
/// </summary>
public sealed class PipedLineReader : TextReader
{
    private const int BlockBytes = 64 * 1024;
    private readonly Stream _stream;
    private readonly Decoder _decoder = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: false).GetDecoder();
    private readonly byte[] _bytes = new byte[BlockBytes];
    private readonly char[] _chars = new char[BlockBytes + 1];
    private readonly StringBuilder _partial = new();
    private int _position;
    private int _length;
    private bool _ended;
    private bool _first = true;
    private bool _skipLineFeed;

    public PipedLineReader(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        _stream = stream;
    }

    /// <summary>
    /// The next line if it is already read (true), or null at the end of the input (true); false when the next line
    /// has not arrived yet and <see cref="ReadLineAsync(CancellationToken)"/> would wait for it.
    /// </summary>
    public bool TryReadBufferedLine(out string? line)
    {
        while (_position < _length)
        {
            if (_skipLineFeed)
            {
                _skipLineFeed = false;
                if (_chars[_position] == '\n')
                {
                    _position++;
                    continue;
                }
            }

            var rest = _chars.AsSpan(_position, _length - _position);
            var end = rest.IndexOfAny('\r', '\n');
            if (end < 0)
            {
                _partial.Append(rest);
                _position = _length;
                break;
            }

            _skipLineFeed = rest[end] == '\r';
            line = Take(rest[..end]);
            _position += end + 1;
            return true;
        }

        if (_ended)
        {
            line = _partial.Length > 0 ? Take([]) : null;
            return true;
        }

        line = null;
        return false;
    }

    public override async ValueTask<string?> ReadLineAsync(CancellationToken cancellationToken)
    {
        string? line;
        while (!TryReadBufferedLine(out line))
        {
            Decode(await _stream.ReadAsync(_bytes, cancellationToken).ConfigureAwait(false));
        }

        return line;
    }

    public override Task<string?> ReadLineAsync() => ReadLineAsync(CancellationToken.None).AsTask();

    public override string? ReadLine()
    {
        string? line;
        while (!TryReadBufferedLine(out line))
        {
            Decode(_stream.Read(_bytes));
        }

        return line;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _stream.Dispose();
        }

        base.Dispose(disposing);
    }

    private void Decode(int read)
    {
        _length = _decoder.GetChars(_bytes, 0, read, _chars, 0, flush: read == 0);
        _position = 0;
        _ended = read == 0;
    }

    private string Take(ReadOnlySpan<char> tail)
    {
        string line;
        if (_partial.Length == 0)
        {
            line = new string(tail);
        }
        else
        {
            line = _partial.Append(tail).ToString();
            _partial.Clear();
        }

        if (_first)
        {
            _first = false;
            if (line.StartsWith('\uFEFF'))
            {
                line = line[1..];
            }
        }

        return line;
    }
}
