using System.Collections.Frozen;
using System.Globalization;
using System.Text;

namespace OpsRobot.Core.Templates;

internal enum TokenKind : byte
{
    Data,
    VarBegin,
    VarEnd,
    BlockBegin,
    BlockEnd,
    ExprBegin,
    ExprEnd,
    Name,
    String,
    Int,
    Float,
    Op,
    Eof,
}

/// <summary>One token: <see cref="Text"/> is the data, name, decoded string or operator; Pos/Length locate it in the source.</summary>
internal readonly record struct Token(TokenKind Kind, int Pos, int Length, string? Text = null, long IntValue = 0, double FloatValue = 0);

/// <summary>
/// Splits a template into text and tags, and tags into tokens, in one pass. Whitespace control (<c>-</c>/<c>+</c>
/// markers, trim_blocks, lstrip_blocks), comments and raw blocks are resolved here, so the parser sees only
/// the text that will be printed.
/// </summary>
internal sealed class Lexer
{
    private static readonly FrozenSet<string> TwoCharOps = FrozenSet.ToFrozenSet(["**", "//", "==", "!=", "<=", ">="], StringComparer.Ordinal);

    private readonly string _src;
    private readonly TemplateSettings _settings;
    private readonly List<Token> _tokens = [];
    private int _pos;
    private bool _lstripNext;

    private Lexer(string source, TemplateSettings settings)
    {
        _src = source;
        _settings = settings;
    }

    public static List<Token> Tokenize(string source, TemplateSettings settings)
    {
        var lexer = new Lexer(source, settings);
        lexer.Run();
        return lexer._tokens;
    }

    public static bool IsIdentifier(string s)
    {
        if (s.Length == 0 || !IsNameStart(s[0]))
        {
            return false;
        }

        foreach (var c in s)
        {
            if (!IsNameChar(c))
            {
                return false;
            }
        }

        return true;
    }

    private static bool IsNameStart(char c) => char.IsLetter(c) || c == '_';

    private static bool IsNameChar(char c) => char.IsLetterOrDigit(c) || c == '_';

    private TemplateException Error(int pos, string head, string? detail = null) => TemplateErrors.At(_src, pos, head, detail);

    private void Run()
    {
        while (true)
        {
            var tag = FindTag(_pos);
            var dataStart = _pos;
            var dataEnd = tag < 0 ? _src.Length : tag;
            if (_lstripNext)
            {
                while (dataStart < dataEnd && char.IsWhiteSpace(_src[dataStart]))
                {
                    dataStart++;
                }

                _lstripNext = false;
            }

            if (tag < 0)
            {
                EmitData(dataStart, dataEnd);
                break;
            }

            var angle = _src[tag] == '<';
            var kind = _src[tag + 1];
            var inner = tag + 2;
            var marker = !angle && inner < _src.Length ? _src[inner] : '\0';
            if (marker == '-')
            {
                while (dataEnd > dataStart && char.IsWhiteSpace(_src[dataEnd - 1]))
                {
                    dataEnd--;
                }

                inner++;
            }
            else if (!angle && kind is '%' or '#')
            {
                if (marker == '+')
                {
                    inner++;
                }
                else if (_settings.LStripBlocks)
                {
                    dataEnd = LStrip(dataStart, dataEnd);
                }
            }

            EmitData(dataStart, dataEnd);
            if (angle)
            {
                _tokens.Add(new Token(TokenKind.ExprBegin, tag, 2, "<%"));
                _pos = inner;
                LexTag(TokenKind.ExprEnd, tag);
            }
            else if (kind == '#')
            {
                Comment(tag, inner);
            }
            else if (kind == '%')
            {
                if (!TryRaw(tag, inner))
                {
                    _tokens.Add(new Token(TokenKind.BlockBegin, tag, inner - tag, "{%"));
                    _pos = inner;
                    LexTag(TokenKind.BlockEnd, tag);
                }
            }
            else
            {
                _tokens.Add(new Token(TokenKind.VarBegin, tag, inner - tag, "{{"));
                _pos = inner;
                LexTag(TokenKind.VarEnd, tag);
            }
        }

        _tokens.Add(new Token(TokenKind.Eof, _src.Length, 0));
    }

    /// <summary>The next <c>{{</c>, <c>{%</c>, <c>{#</c> or <c>&lt;%</c>, or -1.</summary>
    private int FindTag(int from)
    {
        while (true)
        {
            var i = _src.AsSpan(from).IndexOfAny('{', '<');
            if (i < 0)
            {
                return -1;
            }

            i += from;
            if (i + 1 < _src.Length)
            {
                var next = _src[i + 1];
                if ((_src[i] == '{' && next is '{' or '%' or '#') || (_src[i] == '<' && next == '%'))
                {
                    return i;
                }
            }

            from = i + 1;
        }
    }

    /// <summary>lstrip_blocks: drops the spaces and tabs before a tag when nothing else precedes it on its line.</summary>
    private int LStrip(int dataStart, int dataEnd)
    {
        var j = dataEnd;
        while (j > dataStart && _src[j - 1] is ' ' or '\t')
        {
            j--;
        }

        return j == 0 || _src[j - 1] == '\n' ? j : dataEnd;
    }

    private void EmitData(int start, int end)
    {
        if (end > start)
        {
            _tokens.Add(new Token(TokenKind.Data, start, end - start, _src[start..end]));
        }
    }

    /// <summary>After a block tag or comment: '-' strips the following whitespace, '+' keeps it, else trim_blocks.</summary>
    private void AfterBlockEnd(char marker)
    {
        if (marker == '-')
        {
            _lstripNext = true;
        }
        else if (marker != '+' && _settings.TrimBlocks)
        {
            if (_pos < _src.Length && _src[_pos] == '\n')
            {
                _pos++;
            }
            else if (_pos + 1 < _src.Length && _src[_pos] == '\r' && _src[_pos + 1] == '\n')
            {
                _pos += 2;
            }
        }
    }

    private void Comment(int tag, int inner)
    {
        var end = _src.IndexOf("#}", inner, StringComparison.Ordinal);
        if (end < 0)
        {
            throw Error(tag, "unterminated comment", "expected '#}' to close the '{#'");
        }

        var marker = end > inner ? _src[end - 1] : '\0';
        _pos = end + 2;
        AfterBlockEnd(marker);
    }

    /// <summary>Matches <c>{% raw %}</c> and takes everything up to <c>{% endraw %}</c> as text.</summary>
    private bool TryRaw(int tag, int inner)
    {
        if (!MatchTagWord(inner, "raw", out var beginMarker, out var afterBegin))
        {
            return false;
        }

        var search = afterBegin;
        while (true)
        {
            var open = _src.IndexOf("{%", search, StringComparison.Ordinal);
            if (open < 0)
            {
                throw Error(tag, "unterminated raw block", "expected '{% endraw %}'");
            }

            var p = open + 2;
            var openMarker = p < _src.Length ? _src[p] : '\0';
            if (openMarker is '-' or '+')
            {
                p++;
            }

            if (MatchTagWord(p, "endraw", out var endMarker, out var afterEnd))
            {
                var contentStart = afterBegin;
                var contentEnd = open;
                _pos = afterBegin;
                if (beginMarker == '-')
                {
                    while (contentStart < contentEnd && char.IsWhiteSpace(_src[contentStart]))
                    {
                        contentStart++;
                    }
                }
                else if (beginMarker != '+' && _settings.TrimBlocks)
                {
                    if (contentStart < contentEnd && _src[contentStart] == '\n')
                    {
                        contentStart++;
                    }
                }

                if (openMarker == '-')
                {
                    while (contentEnd > contentStart && char.IsWhiteSpace(_src[contentEnd - 1]))
                    {
                        contentEnd--;
                    }
                }
                else if (openMarker != '+' && _settings.LStripBlocks)
                {
                    contentEnd = Math.Max(contentStart, LStrip(contentStart, contentEnd));
                }

                EmitData(contentStart, contentEnd);
                _pos = afterEnd;
                AfterBlockEnd(endMarker);
                return true;
            }

            search = open + 2;
        }
    }

    /// <summary>At <paramref name="p"/>: whitespace, <paramref name="word"/>, whitespace, optional marker, <c>%}</c>.</summary>
    private bool MatchTagWord(int p, string word, out char marker, out int after)
    {
        marker = '\0';
        after = 0;
        while (p < _src.Length && char.IsWhiteSpace(_src[p]))
        {
            p++;
        }

        if (string.CompareOrdinal(_src, p, word, 0, word.Length) != 0 ||
            (p + word.Length < _src.Length && IsNameChar(_src[p + word.Length])))
        {
            return false;
        }

        p += word.Length;
        while (p < _src.Length && char.IsWhiteSpace(_src[p]))
        {
            p++;
        }

        if (p < _src.Length && _src[p] is '-' or '+')
        {
            marker = _src[p];
            p++;
        }

        if (p + 1 < _src.Length && _src[p] == '%' && _src[p + 1] == '}')
        {
            after = p + 2;
            return true;
        }

        return false;
    }

    private static string Closer(TokenKind end) => end switch
    {
        TokenKind.VarEnd => "}}",
        TokenKind.BlockEnd => "%}",
        _ => "%>",
    };

    private static string Opener(TokenKind end) => end switch
    {
        TokenKind.VarEnd => "{{",
        TokenKind.BlockEnd => "{%",
        _ => "<%",
    };

    /// <summary>Tokens of one tag, up to its closing delimiter outside any brackets.</summary>
    private void LexTag(TokenKind end, int tagPos)
    {
        var brackets = new List<(char Close, int Pos)>();
        while (true)
        {
            while (_pos < _src.Length && char.IsWhiteSpace(_src[_pos]))
            {
                _pos++;
            }

            if (_pos >= _src.Length)
            {
                throw Error(
                    _src.Length,
                    "unexpected end of template",
                    $"expected '{Closer(end)}' to close the '{Opener(end)}' at {TemplateErrors.Where(_src, tagPos)}");
            }

            if (brackets.Count == 0 && TryEnd(end))
            {
                return;
            }

            var c = _src[_pos];
            var start = _pos;
            if (IsNameStart(c))
            {
                while (_pos < _src.Length && IsNameChar(_src[_pos]))
                {
                    _pos++;
                }

                _tokens.Add(new Token(TokenKind.Name, start, _pos - start, _src[start.._pos]));
            }
            else if (char.IsAsciiDigit(c))
            {
                Number();
            }
            else if (c is '\'' or '"')
            {
                StringLiteral();
            }
            else
            {
                var op = _pos + 1 < _src.Length && TwoCharOps.Contains(_src.Substring(_pos, 2)) ? _src.Substring(_pos, 2) : null;
                if (op is null)
                {
                    if ("+-*/%~<>=.,:|()[]{}".IndexOf(c, StringComparison.Ordinal) < 0)
                    {
                        var detail = c == '$' ? "YAQL's '$' is not supported; use a variable name or ctx(name)" : null;
                        throw Error(_pos, $"unexpected character '{c}'", detail);
                    }

                    op = c.ToString();
                }

                switch (c)
                {
                    case '(':
                        brackets.Add((')', _pos));
                        break;
                    case '[':
                        brackets.Add((']', _pos));
                        break;
                    case '{':
                        brackets.Add(('}', _pos));
                        break;
                    case ')' or ']' or '}':
                        if (brackets.Count == 0)
                        {
                            throw Error(_pos, $"unexpected '{c}'", $"expected '{Closer(end)}'");
                        }

                        if (brackets[^1].Close != c)
                        {
                            throw Error(_pos, $"unexpected '{c}'", $"expected '{brackets[^1].Close}'");
                        }

                        brackets.RemoveAt(brackets.Count - 1);
                        break;
                }

                _tokens.Add(new Token(TokenKind.Op, start, op.Length, op));
                _pos += op.Length;
            }
        }
    }

    private bool TryEnd(TokenKind end)
    {
        var rest = _src.AsSpan(_pos);
        switch (end)
        {
            case TokenKind.VarEnd:
                if (rest.StartsWith("-}}", StringComparison.Ordinal))
                {
                    _tokens.Add(new Token(end, _pos, 3, "-}}"));
                    _pos += 3;
                    _lstripNext = true;
                    return true;
                }

                if (rest.StartsWith("}}", StringComparison.Ordinal))
                {
                    _tokens.Add(new Token(end, _pos, 2, "}}"));
                    _pos += 2;
                    return true;
                }

                return false;
            case TokenKind.BlockEnd:
                if (rest.Length >= 3 && rest[0] is '-' or '+' && rest[1] == '%' && rest[2] == '}')
                {
                    _tokens.Add(new Token(end, _pos, 3, rest[..3].ToString()));
                    _pos += 3;
                    AfterBlockEnd(rest[0]);
                    return true;
                }

                if (rest.StartsWith("%}", StringComparison.Ordinal))
                {
                    _tokens.Add(new Token(end, _pos, 2, "%}"));
                    _pos += 2;
                    AfterBlockEnd('\0');
                    return true;
                }

                return false;
            default:
                if (rest.StartsWith("%>", StringComparison.Ordinal))
                {
                    _tokens.Add(new Token(end, _pos, 2, "%>"));
                    _pos += 2;
                    return true;
                }

                return false;
        }
    }

    private void Number()
    {
        var start = _pos;
        var afterDot = _tokens.Count > 0 && _tokens[^1] is { Kind: TokenKind.Op, Text: "." };
        SkipDigits();
        var isFloat = false;
        if (!afterDot && _pos + 1 < _src.Length && _src[_pos] == '.' && char.IsAsciiDigit(_src[_pos + 1]))
        {
            isFloat = true;
            _pos++;
            SkipDigits();
        }

        if (!afterDot && _pos < _src.Length && _src[_pos] is 'e' or 'E')
        {
            var p = _pos + 1;
            if (p < _src.Length && _src[p] is '+' or '-')
            {
                p++;
            }

            if (p < _src.Length && char.IsAsciiDigit(_src[p]))
            {
                isFloat = true;
                _pos = p;
                SkipDigits();
            }
        }

        var text = _src[start.._pos].Replace("_", string.Empty, StringComparison.Ordinal);
        if (!isFloat && long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var l))
        {
            _tokens.Add(new Token(TokenKind.Int, start, _pos - start, text, IntValue: l));
        }
        else
        {
            // An integer literal too big for 64 bits becomes a float rather than an error.
            var d = double.Parse(text, NumberStyles.Float, CultureInfo.InvariantCulture);
            _tokens.Add(new Token(TokenKind.Float, start, _pos - start, text, FloatValue: d));
        }
    }

    private void SkipDigits()
    {
        while (_pos < _src.Length && (char.IsAsciiDigit(_src[_pos]) || (_src[_pos] == '_' && _pos + 1 < _src.Length && char.IsAsciiDigit(_src[_pos + 1]))))
        {
            _pos++;
        }
    }

    /// <summary>A quoted string with Python's escapes; unknown escapes keep their backslash (so '\d+' stays a regex).</summary>
    private void StringLiteral()
    {
        var start = _pos;
        var quote = _src[_pos++];
        var sb = new StringBuilder();
        while (true)
        {
            if (_pos >= _src.Length)
            {
                throw Error(start, "unterminated string", $"expected a closing {quote}");
            }

            var c = _src[_pos];
            if (c == quote)
            {
                _pos++;
                break;
            }

            if (c == '\\' && _pos + 1 < _src.Length)
            {
                var e = _src[_pos + 1];
                _pos += 2;
                switch (e)
                {
                    case 'n':
                        sb.Append('\n');
                        break;
                    case 't':
                        sb.Append('\t');
                        break;
                    case 'r':
                        sb.Append('\r');
                        break;
                    case '0':
                        sb.Append('\0');
                        break;
                    case 'a':
                        sb.Append('\a');
                        break;
                    case 'b':
                        sb.Append('\b');
                        break;
                    case 'f':
                        sb.Append('\f');
                        break;
                    case 'v':
                        sb.Append('\v');
                        break;
                    case '\\' or '\'' or '"':
                        sb.Append(e);
                        break;
                    case '\n':
                        break;
                    case 'x':
                        sb.Append(HexEscape(2, start));
                        break;
                    case 'u':
                        sb.Append(HexEscape(4, start));
                        break;
                    case 'U':
                        sb.Append(HexEscape(8, start));
                        break;
                    default:
                        sb.Append('\\').Append(e);
                        break;
                }

                continue;
            }

            sb.Append(c);
            _pos++;
        }

        _tokens.Add(new Token(TokenKind.String, start, _pos - start, sb.ToString()));
    }

    private string HexEscape(int digits, int stringStart)
    {
        if (_pos + digits > _src.Length ||
            !int.TryParse(_src.AsSpan(_pos, digits), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var code) ||
            code > 0x10FFFF || (code >= 0xD800 && code <= 0xDFFF && digits == 8))
        {
            throw Error(stringStart, "invalid escape in string", $"\\x needs 2, \\u 4 and \\U 8 hex digits");
        }

        _pos += digits;
        return code <= 0xFFFF ? ((char)code).ToString() : char.ConvertFromUtf32(code);
    }
}
