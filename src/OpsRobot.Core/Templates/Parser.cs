using System.Collections.Frozen;
using System.Globalization;
using System.Runtime.CompilerServices;

namespace OpsRobot.Core.Templates;

/// <summary>
/// Recursive-descent parser for the grammar in docs/templates.md, with Jinja's operator precedence. Nesting is
/// counted as it parses (brackets, <c>not</c>/sign chains, blocks, and the height of every node built), so hostile
/// input is refused with an error before it can exhaust the stack. Filters, tests and functions are resolved here,
/// so an unknown name is reported by <see cref="ITemplateRenderer.Check"/>.
/// </summary>
internal sealed class Parser
{
    private static readonly FrozenSet<string> Keywords = FrozenSet.ToFrozenSet(
        ["and", "or", "not", "in", "is", "if", "else", "true", "false", "none", "True", "False", "None"],
        StringComparer.Ordinal);

    private static readonly string[] IfEnds = ["elif", "else", "endif"];
    private static readonly string[] IfElseEnds = ["endif"];
    private static readonly string[] ForEnds = ["else", "endfor"];
    private static readonly string[] ForElseEnds = ["endfor"];
    private static readonly string[] SetEnds = ["endset"];

    private readonly List<Token> _t;
    private readonly string _src;
    private readonly TemplateSettings _settings;
    private int _i;
    private int _depth;
    private int _blockDepth;
    private bool _yaql;

    private Parser(List<Token> tokens, string source, TemplateSettings settings)
    {
        _t = tokens;
        _src = source;
        _settings = settings;
    }

    public static bool IsKeyword(string name) => Keywords.Contains(name) || name == "null";

    public static CompiledTemplate Parse(string source, TemplateSettings settings)
    {
        var parser = new Parser(Lexer.Tokenize(source, settings), source, settings);
        var body = parser.ParseBody(null, null, 0, out _);
        return new CompiledTemplate(source, body);
    }

    private Token Cur => _t[_i];

    private Token Peek(int ahead = 1) => _t[Math.Min(_i + ahead, _t.Count - 1)];

    private bool IsOp(string op) => Cur.Kind == TokenKind.Op && Cur.Text == op;

    private bool IsName(string name) => Cur.Kind == TokenKind.Name && Cur.Text == name;

    private TemplateException Error(int pos, string head, string? detail = null) => TemplateErrors.At(_src, pos, head, detail);

    private string Describe(Token t) => t.Kind switch
    {
        TokenKind.Eof => "end of template",
        TokenKind.Data => "text",
        TokenKind.String => "string " + Shorten(_src.Substring(t.Pos, t.Length)),
        _ => "'" + Shorten(_src.Substring(t.Pos, t.Length)) + "'",
    };

    private static string Shorten(string s) => s.Length <= 24 ? s : s[..21] + "...";

    private TemplateException Unexpected(string expected) =>
        Error(Cur.Pos, "unexpected " + Describe(Cur), "expected " + expected);

    private void ExpectOp(string op)
    {
        if (!IsOp(op))
        {
            throw Unexpected($"'{op}'");
        }

        _i++;
    }

    private string ExpectName(string what)
    {
        if (Cur.Kind != TokenKind.Name)
        {
            throw Unexpected(what);
        }

        return _t[_i++].Text!;
    }

    private void ExpectBlockEnd()
    {
        if (Cur.Kind != TokenKind.BlockEnd)
        {
            throw Unexpected("'%}'");
        }

        _i++;
    }

    // ---- statements ----

    private Stmt[] ParseBody(string[]? ends, string? opener, int openerPos, out string? end)
    {
        var list = new List<Stmt>();
        while (true)
        {
            var t = Cur;
            switch (t.Kind)
            {
                case TokenKind.Data:
                    list.Add(new TextStmt(t.Pos, t.Text!));
                    _i++;
                    break;
                case TokenKind.VarBegin:
                    {
                        _i++;
                        _yaql = false;
                        var e = ParseTuple(withCondition: true);
                        if (Cur.Kind != TokenKind.VarEnd)
                        {
                            throw Unexpected("'}}'");
                        }

                        _i++;
                        list.Add(new OutputStmt(t.Pos, e));
                        break;
                    }

                case TokenKind.ExprBegin:
                    {
                        _i++;
                        _yaql = true;
                        var e = ParseExpression(withCondition: true);
                        if (Cur.Kind != TokenKind.ExprEnd)
                        {
                            throw Unexpected("'%>'");
                        }

                        _i++;
                        _yaql = false;
                        list.Add(new OutputStmt(t.Pos, e));
                        break;
                    }

                case TokenKind.BlockBegin:
                    {
                        _yaql = false;
                        var nameToken = Peek();
                        if (nameToken.Kind != TokenKind.Name)
                        {
                            _i++;
                            throw Unexpected("a tag name (if, for, set, raw)");
                        }

                        var name = nameToken.Text!;
                        if (ends is not null && Array.IndexOf(ends, name) >= 0)
                        {
                            _i += 2;
                            end = name;
                            return [.. list];
                        }

                        _i += 2;
                        switch (name)
                        {
                            case "if":
                                list.Add(ParseIf(t.Pos));
                                break;
                            case "for":
                                list.Add(ParseFor(t.Pos));
                                break;
                            case "set":
                                list.Add(ParseSet(t.Pos));
                                break;
                            case "elif" or "else" or "endif" or "endfor" or "endset" or "endraw":
                                throw Error(
                                    nameToken.Pos,
                                    $"unexpected '{name}'",
                                    opener is null
                                        ? "there is no open block for it to close or continue"
                                        : $"expected {string.Join(" or ", ends!.Select(e => "'" + e + "'"))} for the '{opener}' at {TemplateErrors.Where(_src, openerPos)}");
                            default:
                                throw Error(
                                    nameToken.Pos,
                                    $"unknown tag '{name}'",
                                    "the tags are if/elif/else/endif, for/else/endfor, set/endset and raw/endraw");
                        }

                        break;
                    }

                case TokenKind.Eof:
                    if (ends is not null)
                    {
                        throw Error(
                            t.Pos,
                            "unexpected end of template",
                            $"expected '{{% {ends[^1]} %}}' to close the '{opener}' at {TemplateErrors.Where(_src, openerPos)}");
                    }

                    end = null;
                    return [.. list];
                default:
                    throw Unexpected("text or a tag");
            }
        }
    }

    private void EnterBlock(int pos)
    {
        if (++_blockDepth > _settings.MaxDepth)
        {
            throw Error(
                pos,
                string.Create(CultureInfo.InvariantCulture, $"blocks nested deeper than the depth limit of {_settings.MaxDepth}"),
                "see TemplateOptions.MaxDepth");
        }
    }

    private IfStmt ParseIf(int pos)
    {
        EnterBlock(pos);
        var conditions = new List<Expr>();
        var bodies = new List<Stmt[]>();
        Stmt[]? otherwise = null;
        conditions.Add(ParseExpression(withCondition: true));
        ExpectBlockEnd();
        bodies.Add(ParseBody(IfEnds, "if", pos, out var end));
        while (end == "elif")
        {
            conditions.Add(ParseExpression(withCondition: true));
            ExpectBlockEnd();
            bodies.Add(ParseBody(IfEnds, "if", pos, out end));
        }

        if (end == "else")
        {
            ExpectBlockEnd();
            otherwise = ParseBody(IfElseEnds, "if", pos, out _);
        }

        ExpectBlockEnd();
        _blockDepth--;
        return new IfStmt(pos, [.. conditions], [.. bodies], otherwise);
    }

    private string[] ParseTargets()
    {
        var parens = IsOp("(");
        if (parens)
        {
            _i++;
        }

        var names = new List<string>();
        while (true)
        {
            var pos = Cur.Pos;
            var name = ExpectName("a variable name");
            if (IsKeyword(name))
            {
                throw Error(pos, $"cannot assign to '{name}'");
            }

            names.Add(name);
            if (!IsOp(","))
            {
                break;
            }

            _i++;
        }

        if (parens)
        {
            ExpectOp(")");
        }

        return [.. names];
    }

    private ForStmt ParseFor(int pos)
    {
        EnterBlock(pos);
        var targets = ParseTargets();
        if (!IsName("in"))
        {
            throw Unexpected("'in'");
        }

        _i++;
        var iterable = ParseTuple(withCondition: false);
        Expr? filter = null;
        if (IsName("if"))
        {
            _i++;
            filter = ParseExpression(withCondition: true);
        }

        if (IsName("recursive"))
        {
            throw Error(Cur.Pos, "recursive loops are not supported");
        }

        ExpectBlockEnd();
        var body = ParseBody(ForEnds, "for", pos, out var end);
        Stmt[]? otherwise = null;
        if (end == "else")
        {
            ExpectBlockEnd();
            otherwise = ParseBody(ForElseEnds, "for", pos, out _);
        }

        ExpectBlockEnd();
        _blockDepth--;
        return new ForStmt(pos, targets, iterable, filter, body, otherwise);
    }

    private Stmt ParseSet(int pos)
    {
        var targets = ParseTargets();
        if (IsOp("="))
        {
            _i++;
            var value = ParseTuple(withCondition: true);
            ExpectBlockEnd();
            return new SetStmt(pos, targets, value);
        }

        if (targets.Length == 1 && Cur.Kind == TokenKind.BlockEnd)
        {
            EnterBlock(pos);
            _i++;
            var body = ParseBody(SetEnds, "set", pos, out _);
            ExpectBlockEnd();
            _blockDepth--;
            return new SetBlockStmt(pos, targets[0], body);
        }

        throw Unexpected("'='");
    }

    // ---- expressions ----

    /// <summary>Counts one level of parser recursion; refuses nesting beyond the limit and guards the real stack too.</summary>
    private void Enter(int pos)
    {
        if (++_depth > _settings.MaxDepth || !RuntimeHelpers.TryEnsureSufficientExecutionStack())
        {
            throw DepthError(pos);
        }
    }

    private TemplateException DepthError(int pos) => Error(
        pos,
        string.Create(CultureInfo.InvariantCulture, $"expression nested deeper than the depth limit of {_settings.MaxDepth}"),
        "see TemplateOptions.MaxDepth");

    /// <summary>Checks the height of a node just built (long operator or filter chains nest without brackets).</summary>
    private T Node<T>(T e)
        where T : Expr => e.Depth > _settings.MaxDepth ? throw DepthError(e.Pos) : e;

    private bool AtExpressionEnd() =>
        Cur.Kind is TokenKind.VarEnd or TokenKind.BlockEnd or TokenKind.ExprEnd or TokenKind.Eof ||
        (Cur.Kind == TokenKind.Op && Cur.Text is ")" or "]" or "}");

    /// <summary>An expression, or a bare tuple <c>a, b</c> (a list) as Jinja allows in output, set and for.</summary>
    private Expr ParseTuple(bool withCondition)
    {
        var pos = Cur.Pos;
        var first = ParseExpression(withCondition);
        if (!IsOp(","))
        {
            return first;
        }

        var items = new List<Expr> { first };
        while (IsOp(","))
        {
            _i++;
            if (AtExpressionEnd() || IsName("if"))
            {
                break;
            }

            items.Add(ParseExpression(withCondition));
        }

        return Node(new ListExpr(pos, [.. items]));
    }

    private Expr ParseExpression(bool withCondition = true)
    {
        Enter(Cur.Pos);
        var e = ParseOr();
        while (withCondition && IsName("if"))
        {
            var pos = Cur.Pos;
            _i++;
            var test = ParseOr();
            Expr? otherwise = null;
            if (IsName("else"))
            {
                _i++;
                otherwise = ParseExpression(withCondition: true);
            }

            e = Node(new CondExpr(pos, test, e, otherwise));
        }

        _depth--;
        return e;
    }

    private Expr ParseOr()
    {
        var pos = Cur.Pos;
        var first = ParseAnd();
        if (!IsName("or"))
        {
            return first;
        }

        var parts = new List<Expr> { first };
        while (IsName("or"))
        {
            _i++;
            parts.Add(ParseAnd());
        }

        return Node(new LogicalExpr(pos, isAnd: false, [.. parts]));
    }

    private Expr ParseAnd()
    {
        var pos = Cur.Pos;
        var first = ParseNot();
        if (!IsName("and"))
        {
            return first;
        }

        var parts = new List<Expr> { first };
        while (IsName("and"))
        {
            _i++;
            parts.Add(ParseNot());
        }

        return Node(new LogicalExpr(pos, isAnd: true, [.. parts]));
    }

    private Expr ParseNot()
    {
        if (IsName("not"))
        {
            var pos = Cur.Pos;
            _i++;
            Enter(pos);
            var operand = ParseNot();
            _depth--;
            return Node(new NotExpr(pos, operand));
        }

        return ParseCompare();
    }

    private Expr ParseCompare()
    {
        var pos = Cur.Pos;
        var first = ParseSum();
        List<CompareOp>? ops = null;
        List<Expr>? rest = null;
        while (true)
        {
            CompareOp op;
            if (Cur.Kind == TokenKind.Op && Cur.Text is "==" or "!=" or "<" or "<=" or ">" or ">=")
            {
                op = Cur.Text switch
                {
                    "==" => CompareOp.Eq,
                    "!=" => CompareOp.Ne,
                    "<" => CompareOp.Lt,
                    "<=" => CompareOp.Le,
                    ">" => CompareOp.Gt,
                    _ => CompareOp.Ge,
                };
                _i++;
            }
            else if (IsOp("=") && _yaql)
            {
                // YAQL's equality, inside <% %> only.
                op = CompareOp.Eq;
                _i++;
            }
            else if (IsOp("="))
            {
                throw EqualsHint();
            }
            else if (IsName("in"))
            {
                op = CompareOp.In;
                _i++;
            }
            else if (IsName("not") && Peek() is { Kind: TokenKind.Name, Text: "in" })
            {
                op = CompareOp.NotIn;
                _i += 2;
            }
            else
            {
                break;
            }

            (ops ??= []).Add(op);
            (rest ??= []).Add(ParseSum());
        }

        return ops is null ? first : Node(new CompareExpr(pos, first, [.. ops], [.. rest!]));
    }

    private Expr ParseSum()
    {
        var left = ParseConcat();
        while (Cur.Kind == TokenKind.Op && Cur.Text is "+" or "-")
        {
            var pos = Cur.Pos;
            var op = Cur.Text == "+" ? BinaryOp.Add : BinaryOp.Sub;
            _i++;
            left = Node(new BinaryExpr(pos, op, left, ParseConcat()));
        }

        return left;
    }

    private Expr ParseConcat()
    {
        var pos = Cur.Pos;
        var first = ParseProduct();
        if (!IsOp("~"))
        {
            return first;
        }

        var parts = new List<Expr> { first };
        while (IsOp("~"))
        {
            pos = Cur.Pos;
            _i++;
            parts.Add(ParseProduct());
        }

        return Node(new ConcatExpr(pos, [.. parts]));
    }

    private Expr ParseProduct()
    {
        var left = ParsePower();
        while (Cur.Kind == TokenKind.Op && Cur.Text is "*" or "/" or "//" or "%")
        {
            var pos = Cur.Pos;
            var op = Cur.Text switch
            {
                "*" => BinaryOp.Mul,
                "/" => BinaryOp.Div,
                "//" => BinaryOp.FloorDiv,
                _ => BinaryOp.Mod,
            };
            _i++;
            left = Node(new BinaryExpr(pos, op, left, ParsePower()));
        }

        return left;
    }

    private Expr ParsePower()
    {
        // Jinja's ** is left-associative and binds tighter than unary minus on its right only.
        var left = ParseUnary(withFilters: true);
        while (IsOp("**"))
        {
            var pos = Cur.Pos;
            _i++;
            left = Node(new BinaryExpr(pos, BinaryOp.Pow, left, ParseUnary(withFilters: true)));
        }

        return left;
    }

    private Expr ParseUnary(bool withFilters)
    {
        Expr node;
        if (Cur.Kind == TokenKind.Op && Cur.Text is "-" or "+")
        {
            var pos = Cur.Pos;
            var negate = Cur.Text == "-";
            _i++;
            Enter(pos);
            var operand = ParseUnary(withFilters: false);
            _depth--;
            node = operand switch
            {
                ConstExpr { Value.Kind: ValueKind.Int } c when negate && c.Value.IntValue != long.MinValue => new ConstExpr(pos, Value.Int(-c.Value.IntValue)),
                ConstExpr { Value.Kind: ValueKind.Float } c when negate => new ConstExpr(pos, Value.Float(-c.Value.FloatValue)),
                _ => Node(new UnaryExpr(pos, negate, operand)),
            };
        }
        else
        {
            node = ParsePrimary();
        }

        node = ParsePostfix(node);
        return withFilters ? ParseFilters(node) : node;
    }

    private Expr ParsePrimary()
    {
        var t = Cur;
        switch (t.Kind)
        {
            case TokenKind.Name:
                _i++;
                switch (t.Text)
                {
                    case "true" or "True":
                        return new ConstExpr(t.Pos, Value.True);
                    case "false" or "False":
                        return new ConstExpr(t.Pos, Value.False);
                    case "none" or "None":
                        return new ConstExpr(t.Pos, Value.None);
                    case "null" when _yaql:
                        return new ConstExpr(t.Pos, Value.None);
                    case "and" or "or" or "not" or "in" or "is" or "if" or "else":
                        _i--;
                        throw Unexpected("an expression");
                }

                if (IsOp("("))
                {
                    return ParseFunctionCall(t);
                }

                return new NameExpr(t.Pos, t.Text!);
            case TokenKind.String:
                {
                    _i++;
                    var text = t.Text!;

                    // Adjacent literals concatenate, as in Python: 'a' 'b' is 'ab'.
                    while (Cur.Kind == TokenKind.String)
                    {
                        text += _t[_i++].Text;
                    }

                    return new ConstExpr(t.Pos, Value.Str(text));
                }

            case TokenKind.Int:
                _i++;
                return new ConstExpr(t.Pos, Value.Int(t.IntValue));
            case TokenKind.Float:
                _i++;
                return new ConstExpr(t.Pos, Value.Float(t.FloatValue));
            case TokenKind.Op when t.Text == "(":
                {
                    _i++;
                    if (IsOp(")"))
                    {
                        _i++;
                        return new ListExpr(t.Pos, []);
                    }

                    var e = ParseTuple(withCondition: true);
                    ExpectOp(")");
                    return e;
                }

            case TokenKind.Op when t.Text == "[":
                {
                    _i++;
                    var items = new List<Expr>();
                    while (!IsOp("]"))
                    {
                        items.Add(ParseExpression());
                        if (!IsOp(","))
                        {
                            break;
                        }

                        _i++;
                    }

                    ExpectOp("]");
                    return Node(new ListExpr(t.Pos, [.. items]));
                }

            case TokenKind.Op when t.Text == "{":
                {
                    _i++;
                    var keys = new List<Expr>();
                    var values = new List<Expr>();
                    while (!IsOp("}"))
                    {
                        keys.Add(ParseExpression());
                        ExpectOp(":");
                        values.Add(ParseExpression());
                        if (!IsOp(","))
                        {
                            break;
                        }

                        _i++;
                    }

                    ExpectOp("}");
                    return Node(new DictExpr(t.Pos, [.. keys], [.. values]));
                }

            case TokenKind.Op when t.Text == "=" && !_yaql:
                throw EqualsHint();
            default:
                throw Unexpected("an expression");
        }
    }

    private TemplateException EqualsHint() =>
        Error(Cur.Pos, "unexpected '='", "compare with '==' (a single '=' compares only inside <% %>)");

    private CallExpr ParseFunctionCall(Token name)
    {
        if (!_settings.Functions.TryGetValue(name.Text!, out var function))
        {
            throw Error(name.Pos, $"unknown function '{name.Text}'", FunctionHint());
        }

        var args = ParseArgs(bareNamesAreStrings: _yaql);
        return Node(new CallExpr(name.Pos, function, args));
    }

    private string FunctionHint() =>
        "the functions here are " + string.Join(", ", _settings.Functions.Keys.Order(StringComparer.Ordinal).Select(k => k + "()"));

    /// <summary>( [arg {, arg}] ) where arg is an expression or name=expression.</summary>
    private ArgExprs ParseArgs(bool bareNamesAreStrings)
    {
        var open = Cur.Pos;
        ExpectOp("(");
        Enter(open);
        var positional = new List<Expr>();
        var names = new List<string>();
        var named = new List<Expr>();
        while (!IsOp(")"))
        {
            if (Cur.Kind == TokenKind.Name && Peek() is { Kind: TokenKind.Op, Text: "=" })
            {
                var key = Cur.Text!;
                if (names.Contains(key, StringComparer.Ordinal))
                {
                    throw Error(Cur.Pos, $"argument '{key}' given twice");
                }

                _i += 2;
                names.Add(key);
                named.Add(ParseExpression());
            }
            else
            {
                if (named.Count > 0)
                {
                    throw Error(Cur.Pos, "a positional argument cannot follow a named one");
                }

                if (bareNamesAreStrings && Cur.Kind == TokenKind.Name && !IsKeyword(Cur.Text!) &&
                    Peek() is { Kind: TokenKind.Op, Text: "," or ")" })
                {
                    positional.Add(new NameOrStringExpr(Cur.Pos, Cur.Text!));
                    _i++;
                }
                else
                {
                    positional.Add(ParseExpression());
                }
            }

            if (!IsOp(","))
            {
                break;
            }

            _i++;
        }

        ExpectOp(")");
        _depth--;
        return new ArgExprs([.. positional], [.. names], [.. named]);
    }

    private Expr ParsePostfix(Expr node)
    {
        while (true)
        {
            var pos = Cur.Pos;
            if (IsOp("."))
            {
                _i++;
                if (Cur.Kind == TokenKind.Int)
                {
                    node = Node(new ItemExpr(pos, node, new ConstExpr(Cur.Pos, Value.Int(Cur.IntValue))));
                    _i++;
                    continue;
                }

                var name = ExpectName("an attribute name");
                node = IsOp("(")
                    ? Node(new MethodCallExpr(pos, node, name, ParseArgs(bareNamesAreStrings: false)))
                    : Node(new AttrExpr(pos, node, name));
            }
            else if (IsOp("["))
            {
                _i++;
                Enter(pos);
                node = Node(ParseSubscript(pos, node));
                _depth--;
            }
            else if (IsOp("("))
            {
                throw Error(pos, "only functions and methods can be called", "write name(...) or value.method(...)");
            }
            else
            {
                return node;
            }
        }
    }

    private Expr ParseSubscript(int pos, Expr target)
    {
        Expr? start = null;
        if (!IsOp(":"))
        {
            start = ParseExpression();
            if (IsOp("]"))
            {
                _i++;
                return new ItemExpr(pos, target, start);
            }
        }

        ExpectOp(":");
        Expr? stop = null;
        Expr? step = null;
        if (!IsOp("]") && !IsOp(":"))
        {
            stop = ParseExpression();
        }

        if (IsOp(":"))
        {
            _i++;
            if (!IsOp("]"))
            {
                step = ParseExpression();
            }
        }

        ExpectOp("]");
        return new SliceExpr(pos, target, start, stop, step);
    }

    private Expr ParseFilters(Expr node)
    {
        while (true)
        {
            if (IsOp("|"))
            {
                _i++;
                var pos = Cur.Pos;
                var name = ExpectName("a filter name");
                if (!Filters.All.TryGetValue(name, out var filter))
                {
                    throw Error(pos, $"unknown filter '{name}'");
                }

                var args = IsOp("(") ? ParseArgs(bareNamesAreStrings: false) : ArgExprs.None;
                CheckNamedCallable(name, args);
                node = Node(new FilterExpr(pos, node, filter, args));
            }
            else if (IsName("is"))
            {
                _i++;
                var negate = false;
                if (IsName("not"))
                {
                    negate = true;
                    _i++;
                }

                var pos = Cur.Pos;
                var name = ExpectName("a test name");
                if (!Filters.Tests.TryGetValue(name, out var test))
                {
                    throw Error(pos, $"unknown test '{name}'");
                }

                ArgExprs args;
                if (IsOp("("))
                {
                    args = ParseArgs(bareNamesAreStrings: false);
                }
                else if (StartsTestArgument())
                {
                    // Jinja's "x is divisibleby 3": one argument without brackets.
                    Enter(pos);
                    args = new ArgExprs([ParsePostfix(ParsePrimary())], [], []);
                    _depth--;
                }
                else
                {
                    args = ArgExprs.None;
                }

                node = Node(new TestExpr(pos, node, test, args, negate));
            }
            else
            {
                return node;
            }
        }
    }

    private bool StartsTestArgument() => Cur.Kind switch
    {
        TokenKind.String or TokenKind.Int or TokenKind.Float => true,
        TokenKind.Name => !Keywords.Contains(Cur.Text!) || Cur.Text is "true" or "false" or "none" or "True" or "False" or "None",
        TokenKind.Op => Cur.Text is "[" or "{",
        _ => false,
    };

    /// <summary>map('upper'), select('odd'), selectattr('x', 'defined'): a constant filter or test name is checked now.</summary>
    private void CheckNamedCallable(string filter, ArgExprs args)
    {
        var index = filter switch
        {
            "map" or "select" or "reject" => 0,
            "selectattr" or "rejectattr" => 1,
            _ => -1,
        };
        if (index < 0 || args.Positional.Length <= index || args.Positional[index] is not ConstExpr { Value.Kind: ValueKind.String } c)
        {
            return;
        }

        var name = c.Value.StringValue;
        var known = filter == "map" ? Filters.All.ContainsKey(name) : Filters.Tests.ContainsKey(name);
        if (!known)
        {
            throw Error(c.Pos, filter == "map" ? $"unknown filter '{name}'" : $"unknown test '{name}'");
        }
    }
}
