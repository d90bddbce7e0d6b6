using System.Globalization;
using System.Text;

namespace OpsRobot.Core.Templates;

/// <summary>An expression node. Immutable after parsing, so one compiled template serves every thread.</summary>
internal abstract class Expr(int pos, int depth)
{
    public int Pos { get; } = pos;

    /// <summary>Height of the tree below this node, bounded by MaxDepth at parse time so evaluation cannot overflow the stack.</summary>
    public int Depth { get; } = depth;

    public abstract Value Eval(RenderState st);

    protected static int Deepest(params ReadOnlySpan<Expr?> children)
    {
        var max = 0;
        foreach (var c in children)
        {
            if (c is not null && c.Depth > max)
            {
                max = c.Depth;
            }
        }

        return max + 1;
    }

    protected static int Deepest(IEnumerable<Expr> children)
    {
        var max = 0;
        foreach (var c in children)
        {
            max = Math.Max(max, c.Depth);
        }

        return max + 1;
    }
}

internal sealed class ConstExpr(int pos, Value value) : Expr(pos, 1)
{
    public Value Value { get; } = value;

    public override Value Eval(RenderState st) => Value;
}

internal sealed class NameExpr(int pos, string name) : Expr(pos, 1)
{
    public string Name { get; } = name;

    public override Value Eval(RenderState st) => st.Lookup(Name);
}

/// <summary>
/// Inside <c>&lt;% %&gt;</c>, a bare name passed straight to a function: the variable when it is defined, else the
/// name itself as a string, so Orquesta's <c>ctx(name)</c> reads as <c>ctx('name')</c>.
/// </summary>
internal sealed class NameOrStringExpr(int pos, string name) : Expr(pos, 1)
{
    public override Value Eval(RenderState st)
    {
        var v = st.Lookup(name);
        return v.IsUndefined ? Value.Str(name) : v;
    }
}

internal sealed class AttrExpr(int pos, Expr target, string name) : Expr(pos, Deepest(target))
{
    public override Value Eval(RenderState st)
    {
        var obj = target.Eval(st);
        st.Pos = Pos;
        return Ops.GetAttr(st, obj, name);
    }
}

internal sealed class ItemExpr(int pos, Expr target, Expr key) : Expr(pos, Deepest(target, key))
{
    public override Value Eval(RenderState st)
    {
        var obj = target.Eval(st);
        var k = key.Eval(st);
        st.Pos = Pos;
        return Ops.GetItem(st, obj, k);
    }
}

internal sealed class SliceExpr(int pos, Expr target, Expr? start, Expr? stop, Expr? step) : Expr(pos, Deepest(target, start, stop, step))
{
    public override Value Eval(RenderState st)
    {
        var obj = target.Eval(st);
        var a = start?.Eval(st) ?? Value.None;
        var b = stop?.Eval(st) ?? Value.None;
        var c = step?.Eval(st) ?? Value.None;
        st.Pos = Pos;
        return Ops.Slice(st, obj, a, b, c);
    }
}

internal sealed class ListExpr(int pos, Expr[] items) : Expr(pos, Deepest(items))
{
    public override Value Eval(RenderState st)
    {
        var list = new List<Value>(items.Length);
        foreach (var item in items)
        {
            list.Add(item.Eval(st));
        }

        return Value.List(list);
    }
}

internal sealed class DictExpr(int pos, Expr[] keys, Expr[] values) : Expr(pos, Math.Max(Deepest(keys), Deepest(values)))
{
    public override Value Eval(RenderState st)
    {
        var d = new OrderedDictionary<string, Value>(keys.Length, StringComparer.Ordinal);
        for (var i = 0; i < keys.Length; i++)
        {
            var k = keys[i].Eval(st);
            st.Pos = keys[i].Pos;
            d[Ops.Key(st, k)] = values[i].Eval(st);
        }

        return Value.Dict(d);
    }
}

internal sealed class UnaryExpr(int pos, bool negate, Expr operand) : Expr(pos, Deepest(operand))
{
    public override Value Eval(RenderState st)
    {
        var v = operand.Eval(st);
        st.Pos = Pos;
        return negate ? Ops.Negate(st, v) : Ops.Plus(st, v);
    }
}

internal sealed class NotExpr(int pos, Expr operand) : Expr(pos, Deepest(operand))
{
    public override Value Eval(RenderState st) => Value.Bool(!Ops.Truthy(operand.Eval(st)));
}

internal sealed class BinaryExpr(int pos, BinaryOp op, Expr left, Expr right) : Expr(pos, Deepest(left, right))
{
    public override Value Eval(RenderState st)
    {
        var a = left.Eval(st);
        var b = right.Eval(st);
        st.Pos = Pos;
        return Ops.Binary(st, op, a, b);
    }
}

/// <summary><c>a ~ b ~ c</c>: the text of each part, joined (an undefined part is empty, as in Jinja).</summary>
internal sealed class ConcatExpr(int pos, Expr[] parts) : Expr(pos, Deepest(parts))
{
    public override Value Eval(RenderState st)
    {
        var sb = new StringBuilder();
        foreach (var part in parts)
        {
            var v = part.Eval(st);
            st.Pos = Pos;
            var text = TextForm.Str(st, v);
            st.CheckLength((long)sb.Length + text.Length);
            sb.Append(text);
        }

        return Value.Str(sb.ToString());
    }
}

/// <summary><c>a &lt; b &lt;= c</c>: Python's chained comparison, each operand evaluated once.</summary>
internal sealed class CompareExpr(int pos, Expr first, CompareOp[] ops, Expr[] rest) : Expr(pos, Math.Max(Deepest(first), Deepest(rest)))
{
    public override Value Eval(RenderState st)
    {
        var left = first.Eval(st);
        for (var i = 0; i < ops.Length; i++)
        {
            var right = rest[i].Eval(st);
            st.Pos = rest[i].Pos;
            if (!Ops.Compare(st, ops[i], left, right))
            {
                return Value.False;
            }

            left = right;
        }

        return Value.True;
    }
}

/// <summary><c>a and b</c> / <c>a or b</c>: Python's, returning the deciding operand rather than a boolean.</summary>
internal sealed class LogicalExpr(int pos, bool isAnd, Expr[] parts) : Expr(pos, Deepest(parts))
{
    public override Value Eval(RenderState st)
    {
        var v = Value.Undefined;
        foreach (var part in parts)
        {
            v = part.Eval(st);
            if (Ops.Truthy(v) != isAnd)
            {
                return v;
            }
        }

        return v;
    }
}

internal sealed class CondExpr(int pos, Expr test, Expr then, Expr? otherwise) : Expr(pos, Deepest(test, then, otherwise))
{
    public override Value Eval(RenderState st) =>
        Ops.Truthy(test.Eval(st)) ? then.Eval(st) : otherwise?.Eval(st) ?? Value.Undefined;
}

/// <summary>Arguments as written: positional expressions, then name=expression pairs.</summary>
internal sealed class ArgExprs(Expr[] positional, string[] names, Expr[] named)
{
    public static readonly ArgExprs None = new([], [], []);

    public Expr[] Positional { get; } = positional;

    public int Depth { get; } = Math.Max(
        positional.Length == 0 ? 0 : positional.Max(e => e.Depth),
        named.Length == 0 ? 0 : named.Max(e => e.Depth));

    public Args Eval(RenderState st)
    {
        if (Positional.Length == 0 && named.Length == 0)
        {
            return Args.Empty;
        }

        var values = new Value[Positional.Length];
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = Positional[i].Eval(st);
        }

        var pairs = new KeyValuePair<string, Value>[named.Length];
        for (var i = 0; i < pairs.Length; i++)
        {
            pairs[i] = new(names[i], named[i].Eval(st));
        }

        return new Args(values, pairs);
    }
}

internal sealed class FilterExpr(int pos, Expr input, FilterDef filter, ArgExprs args) : Expr(pos, Math.Max(input.Depth, args.Depth) + 1)
{
    public override Value Eval(RenderState st)
    {
        var v = input.Eval(st);
        var a = args.Eval(st);
        st.Pos = Pos;
        st.Step();
        return filter.Invoke(st, v, a);
    }
}

internal sealed class TestExpr(int pos, Expr input, TestDef test, ArgExprs args, bool negate) : Expr(pos, Math.Max(input.Depth, args.Depth) + 1)
{
    public override Value Eval(RenderState st)
    {
        var v = input.Eval(st);
        var a = args.Eval(st);
        st.Pos = Pos;
        st.Step();
        return Value.Bool(test.Invoke(st, v, a) != negate);
    }
}

internal sealed class CallExpr(int pos, FunctionDef function, ArgExprs args) : Expr(pos, args.Depth + 1)
{
    public override Value Eval(RenderState st)
    {
        var a = args.Eval(st);
        st.Pos = Pos;
        st.Step();
        return function.Invoke(st, a);
    }
}

internal sealed class MethodCallExpr(int pos, Expr target, string name, ArgExprs args) : Expr(pos, Math.Max(target.Depth, args.Depth) + 1)
{
    public override Value Eval(RenderState st)
    {
        var obj = target.Eval(st);
        var a = args.Eval(st);
        st.Pos = Pos;
        st.Step();
        return Methods.Call(st, obj, name, a);
    }
}

/// <summary>A statement of the template body.</summary>
internal abstract class Stmt(int pos)
{
    public int Pos { get; } = pos;

    public abstract void Exec(RenderState st);

    public static void ExecAll(Stmt[] body, RenderState st)
    {
        foreach (var s in body)
        {
            s.Exec(st);
        }
    }
}

internal sealed class TextStmt(int pos, string text) : Stmt(pos)
{
    public string Text { get; } = text;

    public override void Exec(RenderState st)
    {
        st.Pos = Pos;
        st.Write(Text);
    }
}

/// <summary><c>{{ expr }}</c> or <c>&lt;% expr %&gt;</c>: the value's text, shell-quoted when rendering for a shell.</summary>
internal sealed class OutputStmt(int pos, Expr expr) : Stmt(pos)
{
    public Expr Expr { get; } = expr;

    public override void Exec(RenderState st)
    {
        st.Pos = Pos;
        st.Step();
        var v = Expr.Eval(st);
        st.Pos = Expr.Pos;
        var text = TextForm.Str(st, v);
        if (st.Escape == TemplateEscape.Shell)
        {
            if (text.Contains('\0', StringComparison.Ordinal))
            {
                throw st.Error("a value with a NUL character cannot be passed to a shell command");
            }

            text = ShellQuote.Quote(text);
        }

        st.Write(text);
    }
}

internal sealed class IfStmt(int pos, Expr[] conditions, Stmt[][] bodies, Stmt[]? otherwise) : Stmt(pos)
{
    public override void Exec(RenderState st)
    {
        st.Step();
        for (var i = 0; i < conditions.Length; i++)
        {
            if (Ops.Truthy(conditions[i].Eval(st)))
            {
                ExecAll(bodies[i], st);
                return;
            }
        }

        if (otherwise is not null)
        {
            ExecAll(otherwise, st);
        }
    }
}

internal sealed class ForStmt(int pos, string[] targets, Expr iterable, Expr? filter, Stmt[] body, Stmt[]? otherwise) : Stmt(pos)
{
    public override void Exec(RenderState st)
    {
        st.Step();
        var source = iterable.Eval(st);
        st.Pos = iterable.Pos;
        var items = Ops.Iterate(st, source);
        var frame = st.PushFrame();
        if (filter is not null)
        {
            var kept = new List<Value>(items.Count);
            foreach (var item in items)
            {
                st.Step();
                Bind(st, frame, item);
                if (Ops.Truthy(filter.Eval(st)))
                {
                    kept.Add(item);
                }
            }

            items = kept;
        }

        var loop = new LoopState(items);
        frame["loop"] = Value.Loop(loop);
        for (var i = 0; i < items.Count; i++)
        {
            st.Pos = Pos;
            st.Step();
            loop.Index0 = i;
            Bind(st, frame, items[i]);
            ExecAll(body, st);
        }

        st.PopFrame();
        if (items.Count == 0 && otherwise is not null)
        {
            ExecAll(otherwise, st);
        }
    }

    private void Bind(RenderState st, Dictionary<string, Value> frame, Value item)
    {
        if (targets.Length == 1)
        {
            frame[targets[0]] = item;
            return;
        }

        SetStmt.Unpack(st, Pos, targets, item, frame);
    }
}

internal sealed class SetStmt(int pos, string[] targets, Expr value) : Stmt(pos)
{
    public override void Exec(RenderState st)
    {
        st.Step();
        var v = value.Eval(st);
        if (targets.Length == 1)
        {
            st.Assign(targets[0], v);
            return;
        }

        Unpack(st, Pos, targets, v, null);
    }

    /// <summary><c>k, v = pair</c>: the value must be a list of exactly as many items as there are names.</summary>
    public static void Unpack(RenderState st, int pos, string[] targets, Value v, Dictionary<string, Value>? frame)
    {
        if (v.Kind != ValueKind.List || v.Count != targets.Length)
        {
            st.Pos = pos;
            throw st.Error(
                string.Create(
                    CultureInfo.InvariantCulture,
                    $"cannot unpack {(v.Kind == ValueKind.List ? "a list of " + v.Count : "a value of type '" + Value.KindName(v) + "'")} into {targets.Length} names"));
        }

        for (var i = 0; i < targets.Length; i++)
        {
            if (frame is null)
            {
                st.Assign(targets[i], v.ItemAt(i));
            }
            else
            {
                frame[targets[i]] = v.ItemAt(i);
            }
        }
    }
}

/// <summary><c>{% set x %}…{% endset %}</c>: captures the rendered body as a string (unescaped; escaping happens when it is printed).</summary>
internal sealed class SetBlockStmt(int pos, string target, Stmt[] body) : Stmt(pos)
{
    public override void Exec(RenderState st)
    {
        st.Step();
        var outer = st.Out;
        var escape = st.Escape;
        st.Out = new StringBuilder();
        st.Escape = TemplateEscape.None;
        ExecAll(body, st);
        var text = st.Out.ToString();
        st.Out = outer;
        st.Escape = escape;
        st.Assign(target, Value.Str(text));
    }
}

/// <summary>A parsed template: its body, and the lone expression when it is exactly one (for typed evaluation).</summary>
internal sealed class CompiledTemplate(string source, Stmt[] body)
{
    public string Source { get; } = source;

    public Stmt[] Body { get; } = body;

    /// <summary>The expression when the template is one <c>{{ }}</c>/<c>&lt;% %&gt;</c> with only whitespace around it.</summary>
    public Expr? Single { get; } = FindSingle(body);

    private static Expr? FindSingle(Stmt[] body)
    {
        Expr? found = null;
        foreach (var s in body)
        {
            switch (s)
            {
                case TextStmt t when string.IsNullOrWhiteSpace(t.Text):
                    continue;
                case OutputStmt o when found is null:
                    found = o.Expr;
                    continue;
                default:
                    return null;
            }
        }

        return found;
    }
}
