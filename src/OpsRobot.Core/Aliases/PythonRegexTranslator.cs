using System.Globalization;
using System.Text;

namespace OpsRobot.Core.Aliases;

/// <summary>
/// Reads a pattern written for Python's <c>re</c> module (what StackStorm alias formats are) the way CPython 3.8-3.10's
/// <c>sre_parse</c> does, and writes a .NET pattern that matches the same texts:
/// <c>(?P&lt;name&gt;…)</c> and <c>(?P=name)</c> become .NET named groups; every group is named <c>gN</c> after its
/// Python number so back-references cannot change meaning (.NET numbers named groups after unnamed ones);
/// <c>\s</c>/<c>\S</c> include U+001C–U+001F as Python's do; <c>\Z</c> becomes <c>\z</c>; <c>{,n}</c> becomes
/// <c>{0,n}</c>; verbose mode is applied here rather than handed to .NET; a global flag anywhere applies to the
/// whole pattern (Python before 3.11). Errors Python raises (bad escapes, unknown group names, variable-width
/// look-behind, …) are raised here too, so a format that StackStorm cannot compile is refused at load time.
/// The Python 3.11 additions (atomic groups and possessive quantifiers) are accepted.
/// Known, documented differences: <c>\w</c>, <c>\b</c> and <c>\S</c> inside a character class follow .NET's
/// word/whitespace definitions, <c>.</c> matches one UTF-16 unit, and <c>\N{name}</c> and <c>(?a)</c> are refused.
/// </summary>
internal sealed class PythonRegexTranslator
{
    internal const string PySpace = @"\s\x1C-\x1F";

    private const string AsciiWhitespace = " \t\n\r\v\f";
    private const long Unbounded = uint.MaxValue;

    /// <summary>
    /// Groups nest by recursion here; a hostile pack could nest thousands deep and overflow the stack. CPython's own
    /// parser gives up (RecursionError) at a few hundred levels, so no working StackStorm format goes beyond this.
    /// </summary>
    private const int MaxNesting = 200;

    private readonly string _p;
    private readonly StringBuilder _out = new();
    private readonly List<int> _outMap = [];
    private readonly Dictionary<string, int> _groupByName = new(StringComparer.Ordinal);
    private readonly List<(string Name, int Number)> _named = [];
    private readonly HashSet<int> _openGroups = [];
    private readonly Dictionary<int, (long Min, long Max)> _groupWidths = [];
    private readonly List<(int Group, int Position)> _conditionRefs = [];
    private int _pos;
    private bool _verbose;
    private int _groupCount;
    private int _lookbehindGroups = -1;
    private int _depth;
    private bool _ignoreCase;
    private bool _multiline;
    private bool _hasGlobalFlags;

    private PythonRegexTranslator(string pattern, bool verbose)
    {
        _p = pattern;
        _verbose = verbose;
    }

    public static PyTranslation Translate(string pattern)
    {
        try
        {
            return new PythonRegexTranslator(pattern, verbose: false).Run();
        }
        catch (RestartInVerboseModeException)
        {
            // Python restarts the whole parse in verbose mode the moment it meets a global (?x).
            return new PythonRegexTranslator(pattern, verbose: true).Run();
        }
    }

    private PyTranslation Run()
    {
        var tree = ParseAlternation();
        if (_pos < _p.Length)
        {
            throw Error("unbalanced parenthesis", _pos);
        }

        foreach (var (group, position) in _conditionRefs)
        {
            if (group > _groupCount)
            {
                throw Error($"invalid group reference {group}", position);
            }
        }

        return new PyTranslation(_out.ToString(), _outMap, tree, _named, _ignoreCase, _multiline, _hasGlobalFlags);
    }

    private PyAlternation ParseAlternation()
    {
        var alternation = new PyAlternation();
        while (true)
        {
            alternation.Branches.Add(ParseSequence());
            if (_pos < _p.Length && _p[_pos] == '|')
            {
                Emit("|", _pos);
                _pos++;
                continue;
            }

            return alternation;
        }
    }

    private PySequence ParseSequence()
    {
        var seq = new PySequence();
        while (_pos < _p.Length)
        {
            var c = _p[_pos];
            if (c is '|' or ')')
            {
                break;
            }

            if (_verbose && AsciiWhitespace.Contains(c, StringComparison.Ordinal))
            {
                _pos++;
                continue;
            }

            if (_verbose && c == '#')
            {
                while (_pos < _p.Length && _p[_pos] != '\n')
                {
                    _pos++;
                }

                _pos++;
                continue;
            }

            var start = _pos;
            PyItem? item;
            switch (c)
            {
                case '*':
                    _pos++;
                    ApplyQuantifier(seq, 0, Unbounded, start);
                    continue;
                case '+':
                    _pos++;
                    ApplyQuantifier(seq, 1, Unbounded, start);
                    continue;
                case '?':
                    _pos++;
                    ApplyQuantifier(seq, 0, 1, start);
                    continue;
                case '{':
                    if (TryReadBraceQuantifier(out var min, out var max))
                    {
                        ApplyQuantifier(seq, min, max, start);
                        continue;
                    }

                    _pos++;
                    item = Literal('{', start);
                    break;
                case '[':
                    item = ParseSet();
                    break;
                case '\\':
                    item = ParseEscape();
                    break;
                case '.':
                    _pos++;
                    item = Emitted(PyItemKind.Set, ".", start, 1, 1);
                    break;
                case '^':
                    _pos++;
                    item = AnchorItem(PyAnchor.Beginning, "^", start);
                    break;
                case '$':
                    _pos++;
                    item = AnchorItem(PyAnchor.End, "$", start);
                    break;
                case '(':
                    item = ParseGroup();
                    break;
                default:
                    item = Literal(ReadCodePoint(), start);
                    break;
            }

            if (item is not null)
            {
                seq.Items.Add(item);
            }
        }

        return seq;
    }

    private bool TryReadBraceQuantifier(out long min, out long max)
    {
        // Python: '{' is a quantifier only as {m}, {m,}, {,n}, {m,n} or {,}; otherwise it is a literal brace.
        min = 0;
        max = Unbounded;
        var i = _pos + 1;
        if (i < _p.Length && _p[i] == '}')
        {
            return false;
        }

        var loStart = i;
        while (i < _p.Length && char.IsAsciiDigit(_p[i]))
        {
            i++;
        }

        var lo = _p[loStart..i];
        string hi;
        if (i < _p.Length && _p[i] == ',')
        {
            i++;
            var hiStart = i;
            while (i < _p.Length && char.IsAsciiDigit(_p[i]))
            {
                i++;
            }

            hi = _p[hiStart..i];
        }
        else
        {
            hi = lo;
        }

        if (i >= _p.Length || _p[i] != '}')
        {
            return false;
        }

        if (lo.Length > 0)
        {
            min = ParseRepeat(lo);
        }

        if (hi.Length > 0)
        {
            max = ParseRepeat(hi);
            if (max < min)
            {
                throw Error("min repeat greater than max repeat", _pos);
            }
        }

        _pos = i + 1;
        return true;
    }

    private long ParseRepeat(string digits)
    {
        if (!long.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out var value) || value > int.MaxValue)
        {
            throw Error("the repetition number is too large", _pos);
        }

        return value;
    }

    private void ApplyQuantifier(PySequence seq, long min, long max, int start)
    {
        var item = seq.Items.Count == 0 ? null : seq.Items[^1];
        if (item is null || item.Kind == PyItemKind.Anchor)
        {
            throw Error("nothing to repeat", start);
        }

        if (item.Quantified)
        {
            throw Error("multiple repeat", start);
        }

        var lazy = false;
        var possessive = false;
        if (_pos < _p.Length && _p[_pos] == '?')
        {
            lazy = true;
            _pos++;
        }
        else if (_pos < _p.Length && _p[_pos] == '+')
        {
            possessive = true;
            _pos++;
        }

        item.Quantified = true;
        item.MinRepeat = min;
        item.MaxRepeat = max;
        var text = (min, max) switch
        {
            (0, Unbounded) => "*",
            (1, Unbounded) => "+",
            (0, 1) => "?",
            _ when max == Unbounded => string.Create(CultureInfo.InvariantCulture, $"{{{min},}}"),
            _ when min == max => string.Create(CultureInfo.InvariantCulture, $"{{{min}}}"),
            _ => string.Create(CultureInfo.InvariantCulture, $"{{{min},{max}}}"),
        };
        if (possessive)
        {
            // .NET has no possessive quantifiers; an atomic group around the quantified item is the same thing.
            _out.Insert(item.OutStart, "(?>");
            _outMap.InsertRange(item.OutStart, [start, start, start]);
            Emit(text + ")", start);
        }
        else
        {
            Emit(lazy ? text + "?" : text, start);
        }
    }

    private PyItem ParseSet()
    {
        var start = _pos;
        _pos++;
        var negate = false;
        if (_pos < _p.Length && _p[_pos] == '^')
        {
            negate = true;
            _pos++;
        }

        var parts = new StringBuilder();
        var hasNonSpace = false;
        var empty = true;
        while (true)
        {
            if (_pos >= _p.Length)
            {
                throw Error("unterminated character set", start);
            }

            var thisStart = _pos;
            if (_p[_pos] == ']' && !empty)
            {
                _pos++;
                break;
            }

            var first = ReadSetAtom(out var firstText, out var firstIsLiteral);
            empty = false;
            if (_pos < _p.Length && _p[_pos] == '-')
            {
                _pos++;
                if (_pos >= _p.Length)
                {
                    throw Error("unterminated character set", start);
                }

                if (_p[_pos] == ']')
                {
                    _pos++;
                    AppendSetPart(parts, first, firstText, firstIsLiteral, ref hasNonSpace);
                    parts.Append(SetChar('-'));
                    break;
                }

                var second = ReadSetAtom(out _, out var secondIsLiteral);
                if (!firstIsLiteral || !secondIsLiteral)
                {
                    throw Error($"bad character range {_p[thisStart.._pos]}", thisStart);
                }

                if (second < first)
                {
                    throw Error($"bad character range {_p[thisStart.._pos]}", thisStart);
                }

                if (second > 0xFFFF)
                {
                    throw Error("characters beyond U+FFFF are not supported inside [...]", thisStart);
                }

                parts.Append(SetChar(first)).Append('-').Append(SetChar(second));
                continue;
            }

            AppendSetPart(parts, first, firstText, firstIsLiteral, ref hasNonSpace);
        }

        string text;
        if (!hasNonSpace)
        {
            text = (negate ? "[^" : "[") + parts + "]";
        }
        else if (negate)
        {
            // not (parts or non-space) = Python whitespace minus parts
            text = parts.Length == 0 ? $"[{PySpace}]" : $"[{PySpace}-[{parts}]]";
        }
        else
        {
            text = parts.Length == 0 ? $"[^{PySpace}]" : $"(?:[{parts}]|[^{PySpace}])";
        }

        return Emitted(PyItemKind.Set, text, start, 1, 1);
    }

    private void AppendSetPart(StringBuilder parts, int codePoint, string? category, bool isLiteral, ref bool hasNonSpace)
    {
        if (isLiteral)
        {
            if (codePoint > 0xFFFF)
            {
                throw Error("characters beyond U+FFFF are not supported inside [...]", _pos - 1);
            }

            parts.Append(SetChar(codePoint));
        }
        else if (category == @"\S")
        {
            hasNonSpace = true;
        }
        else if (category == @"\s")
        {
            parts.Append(PySpace);
        }
        else
        {
            parts.Append(category);
        }
    }

    /// <summary>One member of a character set: a literal (code point) or a category escape (text).</summary>
    private int ReadSetAtom(out string? category, out bool isLiteral)
    {
        category = null;
        isLiteral = true;
        if (_p[_pos] != '\\')
        {
            return ReadCodePoint();
        }

        var start = _pos;
        _pos++;
        if (_pos >= _p.Length)
        {
            throw Error("bad escape (end of pattern)", start);
        }

        var c = _p[_pos];
        switch (c)
        {
            case 'd' or 'D' or 's' or 'S' or 'w' or 'W':
                _pos++;
                category = "\\" + c;
                isLiteral = false;
                return -1;
            case 'b':
                _pos++;
                return '\b';
            case >= '0' and <= '7':
                {
                    // octal, up to three digits
                    var digitsStart = _pos;
                    while (_pos < _p.Length && _pos - digitsStart < 3 && _p[_pos] is >= '0' and <= '7')
                    {
                        _pos++;
                    }

                    var value = Convert.ToInt32(_p[digitsStart.._pos], 8);
                    if (value > 0xFF)
                    {
                        throw Error($"octal escape value \\{_p[digitsStart.._pos]} outside of range 0-0o377", start);
                    }

                    return value;
                }

            case '8' or '9':
                throw Error($"bad escape \\{c}", start);
            default:
                return ReadCommonEscape(start);
        }
    }

    /// <summary>Escapes that mean the same inside and outside a set: \a \f \n \r \t \v \\ \x \u \U, punctuation.</summary>
    private int ReadCommonEscape(int start)
    {
        var c = _p[_pos];
        _pos++;
        switch (c)
        {
            case 'a':
                return '\a';
            case 'f':
                return '\f';
            case 'n':
                return '\n';
            case 'r':
                return '\r';
            case 't':
                return '\t';
            case 'v':
                return '\v';
            case 'x':
                return ReadHex(start, 2);
            case 'u':
                return ReadHex(start, 4);
            case 'U':
                {
                    var value = ReadHex(start, 8);
                    if (value > 0x10FFFF)
                    {
                        throw Error($"bad escape {_p[start.._pos]}", start);
                    }

                    return value;
                }

            case 'N':
                throw Error(@"named Unicode escapes (\N{...}) are not supported; write the character itself", start);
            default:
                if (char.IsAsciiLetter(c))
                {
                    throw Error($"bad escape \\{c}", start);
                }

                _pos--;
                return ReadCodePoint();
        }
    }

    private int ReadHex(int start, int digits)
    {
        if (_pos + digits > _p.Length || !_p.AsSpan(_pos, digits).ToString().All(char.IsAsciiHexDigit))
        {
            throw Error($"incomplete escape {_p[start..Math.Min(_p.Length, _pos + digits)]}", start);
        }

        var value = int.Parse(_p.AsSpan(_pos, digits), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture);
        _pos += digits;
        return value;
    }

    private PyItem ParseEscape()
    {
        var start = _pos;
        _pos++;
        if (_pos >= _p.Length)
        {
            throw Error("bad escape (end of pattern)", start);
        }

        var c = _p[_pos];
        switch (c)
        {
            case 'A':
                _pos++;
                return AnchorItem(PyAnchor.BeginningString, @"\A", start);
            case 'Z':
                _pos++;
                return AnchorItem(PyAnchor.EndString, @"\z", start);
            case 'b':
                _pos++;
                return AnchorItem(PyAnchor.Boundary, @"\b", start);
            case 'B':
                _pos++;
                return AnchorItem(PyAnchor.Boundary, @"\B", start);
            case 'd' or 'D' or 'w' or 'W':
                _pos++;
                return Emitted(PyItemKind.Set, "\\" + c, start, 1, 1);
            case 's':
                {
                    _pos++;
                    var outStart = _out.Length;
                    Emit($"[{PySpace}]", start);
                    return new PyItem { Kind = PyItemKind.Set, IsSpaceClass = true, OutStart = outStart, MinWidth = 1, MaxWidth = 1 };
                }

            case 'S':
                _pos++;
                return Emitted(PyItemKind.Set, $"[^{PySpace}]", start, 1, 1);
            case '0':
                {
                    var digitsStart = _pos;
                    _pos++;
                    while (_pos < _p.Length && _pos - digitsStart < 3 && _p[_pos] is >= '0' and <= '7')
                    {
                        _pos++;
                    }

                    return Literal(Convert.ToInt32(_p[digitsStart.._pos], 8), start);
                }

            case >= '1' and <= '9':
                return ParseDigitEscape(start);
            default:
                return Literal(ReadCommonEscape(start), start);
        }
    }

    private PyItem ParseDigitEscape(int start)
    {
        // Python: three octal digits make an octal escape; otherwise one or two digits are a group reference.
        var digitsStart = _pos;
        _pos++;
        if (_pos < _p.Length && char.IsAsciiDigit(_p[_pos]))
        {
            _pos++;
            if (_p[digitsStart] is >= '0' and <= '7' && _p[digitsStart + 1] is >= '0' and <= '7'
                && _pos < _p.Length && _p[_pos] is >= '0' and <= '7')
            {
                _pos++;
                var value = Convert.ToInt32(_p[digitsStart.._pos], 8);
                if (value > 0xFF)
                {
                    throw Error($"octal escape value \\{_p[digitsStart.._pos]} outside of range 0-0o377", start);
                }

                return Literal(value, start);
            }
        }

        var group = int.Parse(_p.AsSpan(digitsStart, _pos - digitsStart), CultureInfo.InvariantCulture);
        if (group > _groupCount)
        {
            throw Error($"invalid group reference {group}", start);
        }

        return Backreference(group, start);
    }

    private PyItem Backreference(int group, int start)
    {
        if (_openGroups.Contains(group))
        {
            throw Error("cannot refer to an open group", start);
        }

        if (_lookbehindGroups >= 0 && group > _lookbehindGroups)
        {
            throw Error("cannot refer to group defined in the same lookbehind subpattern", start);
        }

        var (min, max) = _groupWidths.GetValueOrDefault(group, (0, Unbounded));
        return Emitted(PyItemKind.Backref, $@"\k<g{group}>", start, min, max);
    }

    private PyItem? ParseGroup()
    {
        var start = _pos;
        if (++_depth > MaxNesting)
        {
            throw Error($"groups are nested more than {MaxNesting} deep", start);
        }

        try
        {
            return ParseGroupAfterDepthCheck(start);
        }
        finally
        {
            _depth--;
        }
    }

    private PyItem? ParseGroupAfterDepthCheck(int start)
    {
        _pos++;
        if (_pos < _p.Length && _p[_pos] == '?')
        {
            _pos++;
            if (_pos >= _p.Length)
            {
                throw Error("unexpected end of pattern", start);
            }

            var c = _p[_pos];
            _pos++;
            switch (c)
            {
                case ':':
                    return GroupBody(start, "(?:", PyItemKind.Group, isSubpattern: true, capture: 0);
                case 'P':
                    return ParseNamedConstruct(start);
                case '#':
                    while (_pos < _p.Length && _p[_pos] != ')')
                    {
                        _pos++;
                    }

                    if (_pos >= _p.Length)
                    {
                        throw Error("missing ), unterminated comment", start);
                    }

                    _pos++;
                    return null;
                case '=':
                    return GroupBody(start, "(?=", PyItemKind.Lookaround, isSubpattern: false, capture: 0);
                case '!':
                    return GroupBody(start, "(?!", PyItemKind.Lookaround, isSubpattern: false, capture: 0);
                case '<':
                    {
                        if (_pos < _p.Length && _p[_pos] is '=' or '!')
                        {
                            var negative = _p[_pos] == '!';
                            _pos++;
                            return Lookbehind(start, negative);
                        }

                        throw Error($"unknown extension ?<{(_pos < _p.Length ? _p[_pos] : ' ')}", start);
                    }

                case '(':
                    return ParseConditional(start);
                case '>':
                    return GroupBody(start, "(?>", PyItemKind.Group, isSubpattern: false, capture: 0);
                case 'i' or 'L' or 'm' or 's' or 'x' or 'a' or 'u' or 't' or '-':
                    return ParseFlags(start, c);
                default:
                    throw Error($"unknown extension ?{c}", start);
            }
        }

        var number = ++_groupCount;
        return GroupBody(start, $"(?<g{number}>", PyItemKind.Group, isSubpattern: true, capture: number);
    }

    private PyItem ParseNamedConstruct(int start)
    {
        if (_pos >= _p.Length)
        {
            throw Error("unexpected end of pattern", start);
        }

        var kind = _p[_pos];
        _pos++;
        if (kind == '<')
        {
            var name = ReadName('>', "missing >, unterminated name", start);
            if (_groupByName.TryGetValue(name, out var previous))
            {
                throw Error($"redefinition of group name '{name}' as group {_groupCount + 1}; was group {previous}", start);
            }

            var number = ++_groupCount;
            _groupByName[name] = number;
            _named.Add((name, number));
            return GroupBody(start, $"(?<g{number}>", PyItemKind.Group, isSubpattern: true, capture: number);
        }

        if (kind == '=')
        {
            var name = ReadName(')', "missing ), unterminated name", start);
            if (!_groupByName.TryGetValue(name, out var number))
            {
                throw Error($"unknown group name '{name}'", start);
            }

            return Backreference(number, start);
        }

        throw Error($"unknown extension ?P{kind}", start);
    }

    private string ReadName(char terminator, string unterminated, int start)
    {
        var nameStart = _pos;
        while (_pos < _p.Length && _p[_pos] != terminator)
        {
            _pos++;
        }

        if (_pos >= _p.Length)
        {
            throw Error(unterminated, start);
        }

        var name = _p[nameStart.._pos];
        _pos++;
        if (name.Length == 0)
        {
            throw Error("missing group name", start);
        }

        if (!IsIdentifier(name))
        {
            throw Error($"bad character in group name '{name}'", start);
        }

        return name;
    }

    private PyItem Lookbehind(int start, bool negative)
    {
        var outer = _lookbehindGroups;
        if (outer < 0)
        {
            _lookbehindGroups = _groupCount;
        }

        var item = GroupBody(start, negative ? "(?<!" : "(?<=", PyItemKind.Lookaround, isSubpattern: false, capture: 0);
        _lookbehindGroups = outer;
        var body = Width(item.Body!);
        if (body.Min != body.Max)
        {
            throw Error("look-behind requires fixed-width pattern", start);
        }

        return item;
    }

    private PyItem ParseConditional(int start)
    {
        var nameStart = _pos;
        while (_pos < _p.Length && _p[_pos] != ')')
        {
            _pos++;
        }

        if (_pos >= _p.Length)
        {
            throw Error("missing ), unterminated name", start);
        }

        var name = _p[nameStart.._pos];
        _pos++;
        int group;
        if (name.Length == 0)
        {
            throw Error("missing group name", start);
        }

        if (name.All(char.IsAsciiDigit))
        {
            group = int.Parse(name, CultureInfo.InvariantCulture);
            if (group == 0)
            {
                throw Error("bad group number", start);
            }

            _conditionRefs.Add((group, start));
        }
        else if (!IsIdentifier(name))
        {
            throw Error($"bad character in group name '{name}'", start);
        }
        else if (!_groupByName.TryGetValue(name, out group))
        {
            throw Error($"unknown group name '{name}'", start);
        }

        var outStart = _out.Length;
        Emit($"(?(g{group})", start);
        var yes = ParseSequence();
        PySequence? no = null;
        if (_pos < _p.Length && _p[_pos] == '|')
        {
            Emit("|", _pos);
            _pos++;
            no = ParseSequence();
            if (_pos < _p.Length && _p[_pos] == '|')
            {
                throw Error("conditional backref with more than two branches", start);
            }
        }

        ExpectClose(start);
        var body = new PyAlternation();
        body.Branches.Add(yes);
        if (no is not null)
        {
            body.Branches.Add(no);
        }

        var (yesMin, yesMax) = Width(yes);
        var (noMin, noMax) = no is null ? (0L, 0L) : Width(no);
        return new PyItem
        {
            Kind = PyItemKind.Conditional,
            Body = body,
            OutStart = outStart,
            MinWidth = Math.Min(yesMin, noMin),
            MaxWidth = Math.Max(yesMax, noMax),
        };
    }

    private PyItem? ParseFlags(int start, char first)
    {
        var add = new HashSet<char>();
        var del = new HashSet<char>();
        var c = first;
        if (c != '-')
        {
            while (true)
            {
                CheckFlag(c, start);
                add.Add(c);
                if (_pos >= _p.Length)
                {
                    throw Error("missing -, : or )", start);
                }

                c = _p[_pos];
                _pos++;
                if (c is ')' or '-' or ':')
                {
                    break;
                }

                if (!IsFlag(c))
                {
                    throw Error(char.IsLetter(c) ? "unknown flag" : "missing -, : or )", _pos - 1);
                }
            }
        }

        if (c == ')')
        {
            // A global flag group: Python (before 3.11) applies it to the whole pattern wherever it stands.
            _hasGlobalFlags = true;
            _ignoreCase |= add.Contains('i');
            _multiline |= add.Contains('m');
            if (add.Contains('x') && !_verbose)
            {
                throw new RestartInVerboseModeException();
            }

            return null;
        }

        if (c == '-')
        {
            if (_pos >= _p.Length)
            {
                throw Error("missing flag", start);
            }

            c = _p[_pos];
            _pos++;
            if (!IsFlag(c))
            {
                throw Error(char.IsLetter(c) ? "unknown flag" : "missing flag", _pos - 1);
            }

            while (true)
            {
                if (c is 'a' or 'u' or 'L')
                {
                    throw Error("bad inline flags: cannot turn off flags 'a', 'u' and 'L'", start);
                }

                CheckFlag(c, start);
                del.Add(c);
                if (_pos >= _p.Length)
                {
                    throw Error("missing :", start);
                }

                c = _p[_pos];
                _pos++;
                if (c == ':')
                {
                    break;
                }

                if (!IsFlag(c))
                {
                    throw Error(char.IsLetter(c) ? "unknown flag" : "missing :", _pos - 1);
                }
            }
        }

        if (add.Overlaps(del))
        {
            throw Error("bad inline flags: flag turned on and off", start);
        }

        var outerVerbose = _verbose;
        _verbose = (_verbose || add.Contains('x')) && !del.Contains('x');
        var on = new string([.. add.Where(f => f is 'i' or 'm' or 's').Order()]);
        var off = new string([.. del.Where(f => f is 'i' or 'm' or 's').Order()]);
        var open = on.Length == 0 && off.Length == 0 ? "(?:" : "(?" + on + (off.Length > 0 ? "-" + off : string.Empty) + ":";
        var item = GroupBody(start, open, PyItemKind.Group, isSubpattern: true, capture: 0);
        _verbose = outerVerbose;
        return item;
    }

    private static void CheckFlag(char flag, int start)
    {
        switch (flag)
        {
            case 'L':
                throw Error("bad inline flags: cannot use 'L' flag with a str pattern", start);
            case 'a':
                throw Error("ASCII-only matching (?a) is not supported", start);
            case 't':
                throw Error("the template flag (?t) is not supported", start);
        }
    }

    private static bool IsFlag(char c) => c is 'i' or 'L' or 'm' or 's' or 'x' or 'a' or 'u' or 't';

    private PyItem GroupBody(int start, string open, PyItemKind kind, bool isSubpattern, int capture)
    {
        var outStart = _out.Length;
        Emit(open, start);
        if (capture > 0)
        {
            _openGroups.Add(capture);
        }

        var body = ParseAlternation();
        ExpectClose(start);
        var (min, max) = kind == PyItemKind.Lookaround ? (0L, 0L) : Width(body);
        if (capture > 0)
        {
            _openGroups.Remove(capture);
            _groupWidths[capture] = (min, max);
        }

        return new PyItem
        {
            Kind = kind,
            Body = body,
            IsSubpattern = isSubpattern,
            OutStart = outStart,
            MinWidth = min,
            MaxWidth = max,
        };
    }

    private void ExpectClose(int start)
    {
        if (_pos >= _p.Length || _p[_pos] != ')')
        {
            throw Error("missing ), unterminated subpattern", start);
        }

        Emit(")", _pos);
        _pos++;
    }

    private int ReadCodePoint()
    {
        var c = _p[_pos];
        if (char.IsHighSurrogate(c) && _pos + 1 < _p.Length && char.IsLowSurrogate(_p[_pos + 1]))
        {
            _pos += 2;
            return char.ConvertToUtf32(c, _p[_pos - 1]);
        }

        _pos++;
        return c;
    }

    private PyItem Literal(int codePoint, int start)
    {
        var outStart = _out.Length;
        if (codePoint > 0xFFFF)
        {
            // Python sees one code point; a group keeps a following quantifier on both UTF-16 halves.
            var pair = char.ConvertFromUtf32(codePoint);
            Emit("(?:" + Escape(pair[0]) + Escape(pair[1]) + ")", start);
        }
        else
        {
            Emit(Escape((char)codePoint), start);
        }

        return new PyItem { Kind = PyItemKind.Literal, CodePoint = codePoint, OutStart = outStart, MinWidth = 1, MaxWidth = 1 };
    }

    private PyItem AnchorItem(PyAnchor anchor, string text, int start)
    {
        var outStart = _out.Length;
        Emit(text, start);
        return new PyItem { Kind = PyItemKind.Anchor, Anchor = anchor, OutStart = outStart };
    }

    private PyItem Emitted(PyItemKind kind, string text, int start, long min, long max)
    {
        var outStart = _out.Length;
        Emit(text, start);
        return new PyItem { Kind = kind, OutStart = outStart, MinWidth = min, MaxWidth = max };
    }

    private void Emit(string text, int inputPosition)
    {
        _out.Append(text);
        for (var i = 0; i < text.Length; i++)
        {
            _outMap.Add(inputPosition);
        }
    }

    private static string Escape(char c)
    {
        if (char.IsAsciiLetterOrDigit(c) || c == '_')
        {
            return c.ToString();
        }

        if (c is > ' ' and < '\u007F')
        {
            return "\\" + c;
        }

        if (c >= '\u00A0' && !char.IsWhiteSpace(c) && !char.IsSurrogate(c) && !char.IsControl(c))
        {
            return c.ToString();
        }

        return SetChar(c);
    }

    private static string SetChar(int c) => string.Create(CultureInfo.InvariantCulture, $"\\u{c:X4}");

    private static (long Min, long Max) Width(PyAlternation alternation)
    {
        long min = long.MaxValue;
        long max = 0;
        foreach (var branch in alternation.Branches)
        {
            var (lo, hi) = Width(branch);
            min = Math.Min(min, lo);
            max = Math.Max(max, hi);
        }

        return (min == long.MaxValue ? 0 : min, max);
    }

    private static (long Min, long Max) Width(PySequence sequence)
    {
        long min = 0;
        long max = 0;
        foreach (var item in sequence.Items)
        {
            min = Math.Min(Unbounded, min + Times(item.MinWidth, item.MinRepeat));
            max = Math.Min(Unbounded, max + Times(item.MaxWidth, item.MaxRepeat));
        }

        return (min, max);
    }

    private static long Times(long width, long repeat) =>
        width == 0 || repeat == 0 ? 0 : width > Unbounded / repeat ? Unbounded : Math.Min(Unbounded, width * repeat);

    /// <summary>Python's <c>str.isidentifier()</c>, which is what a group name has to be.</summary>
    internal static bool IsIdentifier(string name)
    {
        var first = true;
        foreach (var rune in name.EnumerateRunes())
        {
            var category = Rune.GetUnicodeCategory(rune);
            var ok = rune.Value == '_' || category is UnicodeCategory.UppercaseLetter or UnicodeCategory.LowercaseLetter
                or UnicodeCategory.TitlecaseLetter or UnicodeCategory.ModifierLetter or UnicodeCategory.OtherLetter
                or UnicodeCategory.LetterNumber;
            if (!first)
            {
                ok |= category is UnicodeCategory.NonSpacingMark or UnicodeCategory.SpacingCombiningMark
                    or UnicodeCategory.DecimalDigitNumber or UnicodeCategory.ConnectorPunctuation;
            }

            if (!ok)
            {
                return false;
            }

            first = false;
        }

        return !first;
    }

    private static PyRegexException Error(string message, int position) => new(message, position);

    /// <summary>
    /// StackStorm's <c>search_regex_tokens</c>: does the parsed pattern contain anchor <paramref name="a"/> or <paramref name="b"/>
    /// where that function looks? It walks the top-level items, descends into groups (capturing, non-capturing,
    /// scoped flags) but not into quantified items, look-arounds or conditionals, and of an alternation it only
    /// searches the second branch (it reads <c>rtoken[1][1]</c>).
    /// </summary>
    internal static bool ContainsAnchor(PyAlternation alternation, PyAnchor a, PyAnchor b)
    {
        var searched = alternation.Branches.Count == 1 ? alternation.Branches[0] : alternation.Branches[1];
        foreach (var item in searched.Items)
        {
            if (item.Quantified)
            {
                continue;
            }

            if (item.Kind == PyItemKind.Anchor && (item.Anchor == a || item.Anchor == b))
            {
                return true;
            }

            if (item is { Kind: PyItemKind.Group, IsSubpattern: true, Body: not null } && ContainsAnchor(item.Body, a, b))
            {
                return true;
            }
        }

        return false;
    }
}
