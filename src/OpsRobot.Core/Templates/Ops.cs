using System.Globalization;
using System.Text;

namespace OpsRobot.Core.Templates;

internal enum BinaryOp
{
    Add,
    Sub,
    Mul,
    Div,
    FloorDiv,
    Mod,
    Pow,
}

internal enum CompareOp
{
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    In,
    NotIn,
}

/// <summary>Python's operators over template values, with the sandbox's size checks before anything big is built.</summary>
internal static class Ops
{
    public static bool Truthy(Value v) => v.Kind switch
    {
        ValueKind.Undefined or ValueKind.None => false,
        ValueKind.Bool => v.BoolValue,
        ValueKind.Int => v.IntValue != 0,
        ValueKind.Float => v.FloatValue != 0,
        ValueKind.String => v.StringValue.Length > 0,
        ValueKind.List or ValueKind.Dict => v.Count > 0,
        _ => true,
    };

    public static string OpText(BinaryOp op) => op switch
    {
        BinaryOp.Add => "+",
        BinaryOp.Sub => "-",
        BinaryOp.Mul => "*",
        BinaryOp.Div => "/",
        BinaryOp.FloorDiv => "//",
        BinaryOp.Mod => "%",
        _ => "**",
    };

    public static Value Binary(RenderState st, BinaryOp op, Value a, Value b)
    {
        if (a.IsUndefined)
        {
            throw st.UndefinedError(a);
        }

        if (b.IsUndefined)
        {
            throw st.UndefinedError(b);
        }

        if (a.IsNumber && b.IsNumber)
        {
            return a.Kind == ValueKind.Int && b.Kind == ValueKind.Int
                ? IntOp(st, op, a.IntValue, b.IntValue)
                : FloatOp(st, op, a.AsDouble, b.AsDouble);
        }

        switch (op)
        {
            case BinaryOp.Add when a.Kind == ValueKind.String && b.Kind == ValueKind.String:
                st.CheckLength((long)a.StringValue.Length + b.StringValue.Length);
                return Value.Str(string.Concat(a.StringValue, b.StringValue));
            case BinaryOp.Add when a.Kind == ValueKind.List && b.Kind == ValueKind.List:
                st.Steps((long)a.Count + b.Count);
                var joined = a.Items();
                joined.AddRange(b.Items());
                return Value.List(joined);
            case BinaryOp.Mul when a.Kind == ValueKind.String && b.Kind == ValueKind.Int:
                return Repeat(st, a.StringValue, b.IntValue);
            case BinaryOp.Mul when a.Kind == ValueKind.Int && b.Kind == ValueKind.String:
                return Repeat(st, b.StringValue, a.IntValue);
            case BinaryOp.Mul when a.Kind == ValueKind.List && b.Kind == ValueKind.Int:
                return RepeatList(st, a, b.IntValue);
            case BinaryOp.Mul when a.Kind == ValueKind.Int && b.Kind == ValueKind.List:
                return RepeatList(st, b, a.IntValue);
            case BinaryOp.Mod when a.Kind == ValueKind.String:
                throw st.Error("'%' string formatting is not supported", "build text with '~' instead");
            default:
                throw st.Error($"unsupported operand types for {OpText(op)}: '{Value.KindName(a)}' and '{Value.KindName(b)}'");
        }
    }

    private static Value Repeat(RenderState st, string s, long times)
    {
        if (times <= 0 || s.Length == 0)
        {
            return Value.EmptyString;
        }

        // The size is checked before anything is allocated: 'x' * 100000000 fails here, at once.
        if (times > st.Settings.MaxOutputLength || s.Length * times > st.Settings.MaxOutputLength)
        {
            throw st.OutputLimit();
        }

        return Value.Str(new StringBuilder(s.Length * (int)times).Insert(0, s, (int)times).ToString());
    }

    private static Value RepeatList(RenderState st, Value list, long times)
    {
        if (times <= 0 || list.Count == 0)
        {
            return Value.List([]);
        }

        if (times > st.Settings.MaxSteps)
        {
            st.Steps(long.MaxValue);
        }

        st.Steps(list.Count * times);
        var items = list.Items();
        var result = new List<Value>(items.Count * (int)times);
        for (var i = 0; i < times; i++)
        {
            result.AddRange(items);
        }

        return Value.List(result);
    }

    private static Value IntOp(RenderState st, BinaryOp op, long a, long b)
    {
        switch (op)
        {
            case BinaryOp.Add:
                {
                    var r = unchecked(a + b);
                    return ((a ^ r) & (b ^ r)) < 0 ? Value.Float((double)a + b) : Value.Int(r);
                }

            case BinaryOp.Sub:
                {
                    var r = unchecked(a - b);
                    return ((a ^ b) & (a ^ r)) < 0 ? Value.Float((double)a - b) : Value.Int(r);
                }

            case BinaryOp.Mul:
                return TryMultiply(a, b, out var product) ? Value.Int(product) : Value.Float((double)a * b);
            case BinaryOp.Div:
                return b == 0 ? throw DivisionByZero(st) : Value.Float((double)a / b);
            case BinaryOp.FloorDiv:
                {
                    if (b == 0)
                    {
                        throw DivisionByZero(st);
                    }

                    if (a == long.MinValue && b == -1)
                    {
                        return Value.Float(-(double)long.MinValue);
                    }

                    var q = a / b;
                    if (a % b != 0 && (a < 0) != (b < 0))
                    {
                        q--;
                    }

                    return Value.Int(q);
                }

            case BinaryOp.Mod:
                {
                    if (b == 0)
                    {
                        throw DivisionByZero(st);
                    }

                    if (b == -1)
                    {
                        return Value.Int(0);
                    }

                    var r = a % b;
                    if (r != 0 && (r < 0) != (b < 0))
                    {
                        r += b;
                    }

                    return Value.Int(r);
                }

            default:
                if (b < 0)
                {
                    return a == 0 ? throw st.Error("0 cannot be raised to a negative power") : Value.Float(Math.Pow(a, b));
                }

                long result = 1;
                long power = a;
                var exponent = b;
                while (exponent > 0)
                {
                    if ((exponent & 1) == 1 && !TryMultiply(result, power, out result))
                    {
                        return Value.Float(Math.Pow(a, b));
                    }

                    exponent >>= 1;
                    if (exponent > 0 && !TryMultiply(power, power, out power))
                    {
                        return Value.Float(Math.Pow(a, b));
                    }
                }

                return Value.Int(result);
        }
    }

    private static bool TryMultiply(long a, long b, out long result)
    {
        var high = Math.BigMul(a, b, out result);
        return high == result >> 63;
    }

    private static Value FloatOp(RenderState st, BinaryOp op, double a, double b)
    {
        switch (op)
        {
            case BinaryOp.Add:
                return Value.Float(a + b);
            case BinaryOp.Sub:
                return Value.Float(a - b);
            case BinaryOp.Mul:
                return Value.Float(a * b);
            case BinaryOp.Div:
                return b == 0 ? throw DivisionByZero(st) : Value.Float(a / b);
            case BinaryOp.FloorDiv:
                return b == 0 ? throw DivisionByZero(st) : Value.Float(Math.Floor(a / b));
            case BinaryOp.Mod:
                {
                    if (b == 0)
                    {
                        throw DivisionByZero(st);
                    }

                    var r = a % b;
                    if (r != 0 && (r < 0) != (b < 0))
                    {
                        r += b;
                    }

                    return Value.Float(r);
                }

            default:
                if (a == 0 && b < 0)
                {
                    throw st.Error("0 cannot be raised to a negative power");
                }

                var p = Math.Pow(a, b);
                return double.IsNaN(p) && !double.IsNaN(a) && !double.IsNaN(b)
                    ? throw st.Error("a negative number cannot be raised to a fractional power")
                    : Value.Float(p);
        }
    }

    private static TemplateException DivisionByZero(RenderState st) => st.Error("division by zero");

    public static Value Negate(RenderState st, Value v) => v.Kind switch
    {
        ValueKind.Int => v.IntValue == long.MinValue ? Value.Float(-(double)long.MinValue) : Value.Int(-v.IntValue),
        ValueKind.Float => Value.Float(-v.FloatValue),
        ValueKind.Undefined => throw st.UndefinedError(v),
        _ => throw st.Error($"bad operand type for unary -: '{Value.KindName(v)}'"),
    };

    public static Value Plus(RenderState st, Value v) => v.Kind switch
    {
        ValueKind.Int or ValueKind.Float => v,
        ValueKind.Undefined => throw st.UndefinedError(v),
        _ => throw st.Error($"bad operand type for unary +: '{Value.KindName(v)}'"),
    };

    /// <summary>Python's <c>==</c>: integers and floats compare by value; booleans are not numbers here.</summary>
    public static bool Equal(RenderState st, Value a, Value b, int depth = 0)
    {
        if (a.IsNumber && b.IsNumber)
        {
            return a.Kind == ValueKind.Int && b.Kind == ValueKind.Int ? a.IntValue == b.IntValue : a.AsDouble == b.AsDouble;
        }

        if (a.Kind != b.Kind)
        {
            return false;
        }

        switch (a.Kind)
        {
            case ValueKind.Undefined:
            case ValueKind.None:
                return true;
            case ValueKind.Bool:
                return a.BoolValue == b.BoolValue;
            case ValueKind.String:
                return a.StringValue == b.StringValue;
            case ValueKind.List:
                {
                    st.CheckDepth(depth);
                    if (a.Count != b.Count)
                    {
                        return false;
                    }

                    st.Steps(a.Count);
                    for (var i = 0; i < a.Count; i++)
                    {
                        if (!Equal(st, a.ItemAt(i), b.ItemAt(i), depth + 1))
                        {
                            return false;
                        }
                    }

                    return true;
                }

            case ValueKind.Dict:
                {
                    st.CheckDepth(depth);
                    if (a.Count != b.Count)
                    {
                        return false;
                    }

                    st.Steps(a.Count);
                    foreach (var kv in a.Entries())
                    {
                        if (!b.TryGetKey(kv.Key, out var other) || !Equal(st, kv.Value, other, depth + 1))
                        {
                            return false;
                        }
                    }

                    return true;
                }

            default:
                return ReferenceEquals(a.Raw, b.Raw);
        }
    }

    /// <summary>Python's ordering: numbers, strings (by code point) and lists (item by item); anything else is an error.</summary>
    public static int Order(RenderState st, Value a, Value b, string op, int depth = 0)
    {
        if (a.IsUndefined)
        {
            throw st.UndefinedError(a);
        }

        if (b.IsUndefined)
        {
            throw st.UndefinedError(b);
        }

        if (a.IsNumber && b.IsNumber)
        {
            if (a.Kind == ValueKind.Int && b.Kind == ValueKind.Int)
            {
                return a.IntValue.CompareTo(b.IntValue);
            }

            var x = a.AsDouble;
            var y = b.AsDouble;
            return x < y ? -1 : x > y ? 1 : 0;
        }

        if (a.Kind == ValueKind.String && b.Kind == ValueKind.String)
        {
            return Math.Sign(string.CompareOrdinal(a.StringValue, b.StringValue));
        }

        if (a.Kind == ValueKind.Bool && b.Kind == ValueKind.Bool)
        {
            return a.BoolValue.CompareTo(b.BoolValue);
        }

        if (a.Kind == ValueKind.List && b.Kind == ValueKind.List)
        {
            st.CheckDepth(depth);
            var n = Math.Min(a.Count, b.Count);
            for (var i = 0; i < n; i++)
            {
                var c = Order(st, a.ItemAt(i), b.ItemAt(i), op, depth + 1);
                if (c != 0)
                {
                    return c;
                }
            }

            return a.Count.CompareTo(b.Count);
        }

        throw st.Error($"'{op}' is not supported between '{Value.KindName(a)}' and '{Value.KindName(b)}'");
    }

    public static bool Compare(RenderState st, CompareOp op, Value a, Value b) => op switch
    {
        CompareOp.Eq => Equal(st, a, b),
        CompareOp.Ne => !Equal(st, a, b),
        CompareOp.Lt => Order(st, a, b, "<") < 0,
        CompareOp.Le => Order(st, a, b, "<=") <= 0,
        CompareOp.Gt => Order(st, a, b, ">") > 0,
        CompareOp.Ge => Order(st, a, b, ">=") >= 0,
        CompareOp.In => Contains(st, b, a),
        _ => !Contains(st, b, a),
    };

    /// <summary>Python's <c>item in container</c>: substring, list member, or dict key.</summary>
    public static bool Contains(RenderState st, Value container, Value item)
    {
        switch (container.Kind)
        {
            case ValueKind.String:
                return item.Kind == ValueKind.String
                    ? container.StringValue.Contains(item.StringValue, StringComparison.Ordinal)
                    : throw st.Error($"'in <string>' needs a string on the left, not '{Value.KindName(item)}'");
            case ValueKind.List:
                st.Steps(container.Count);
                for (var i = 0; i < container.Count; i++)
                {
                    if (Equal(st, item, container.ItemAt(i)))
                    {
                        return true;
                    }
                }

                return false;
            case ValueKind.Dict:
                return item.Kind == ValueKind.String && container.TryGetKey(item.StringValue, out _);
            case ValueKind.Undefined when !st.Settings.StrictUndefined:
            case ValueKind.None when !st.Settings.StrictUndefined:
                return false;
            case ValueKind.Undefined:
                throw st.UndefinedError(container);
            default:
                throw st.Error($"'in' needs a string, list or dict on the right, not '{Value.KindName(container)}'");
        }
    }

    /// <summary><c>obj.name</c>: a dict key, a list index written as digits, or an attribute of <c>loop</c>.</summary>
    public static Value GetAttr(RenderState st, Value obj, string name)
    {
        switch (obj.Kind)
        {
            case ValueKind.Dict:
                return obj.TryGetKey(name, out var v) ? v : Value.Missing(name);
            case ValueKind.List when int.TryParse(name, NumberStyles.None, CultureInfo.InvariantCulture, out var index):
                return index < obj.Count ? obj.ItemAt(index) : Value.Missing(name);
            case ValueKind.Loop:
                return LoopAttr(obj.LoopValue, name);
            case ValueKind.Undefined when st.Settings.StrictUndefined:
                throw st.UndefinedError(obj);
            case ValueKind.None when st.Settings.StrictUndefined:
                throw st.Error($"none has no attribute '{name}'");
            default:
                return Value.Missing(name);
        }
    }

    private static Value LoopAttr(LoopState loop, string name) => name switch
    {
        "index" => Value.Int(loop.Index0 + 1),
        "index0" => Value.Int(loop.Index0),
        "revindex" => Value.Int(loop.Length - loop.Index0),
        "revindex0" => Value.Int(loop.Length - loop.Index0 - 1),
        "first" => Value.Bool(loop.Index0 == 0),
        "last" => Value.Bool(loop.Index0 == loop.Length - 1),
        "length" => Value.Int(loop.Length),
        "previtem" => loop.Index0 > 0 ? loop.Items[loop.Index0 - 1] : Value.Missing("previtem"),
        "nextitem" => loop.Index0 < loop.Length - 1 ? loop.Items[loop.Index0 + 1] : Value.Missing("nextitem"),
        "depth" => Value.Int(1),
        "depth0" => Value.Int(0),
        _ => Value.Missing(name),
    };

    /// <summary><c>obj[key]</c>: dict key (numbers are looked up by their text), list or string index (negative from the end).</summary>
    public static Value GetItem(RenderState st, Value obj, Value key)
    {
        switch (obj.Kind)
        {
            case ValueKind.Dict:
                if (key.Kind is ValueKind.String or ValueKind.Int or ValueKind.Float or ValueKind.Bool)
                {
                    var k = key.Kind == ValueKind.String ? key.StringValue : TextForm.Str(st, key);
                    return obj.TryGetKey(k, out var v) ? v : Value.Missing(k);
                }

                return Value.Missing("?");
            case ValueKind.List:
            case ValueKind.String:
                if (key.Kind != ValueKind.Int)
                {
                    if (key.IsUndefined)
                    {
                        throw st.UndefinedError(key);
                    }

                    return key.Kind == ValueKind.String
                        ? Value.Missing(key.StringValue)
                        : throw st.Error($"a {Value.KindName(obj)} index must be an integer, not a value of type '{Value.KindName(key)}'");
                }

                var i = key.IntValue < 0 ? key.IntValue + obj.Count : key.IntValue;
                if (i < 0 || i >= obj.Count)
                {
                    return Value.Missing(key.IntValue.ToString(CultureInfo.InvariantCulture));
                }

                return obj.Kind == ValueKind.List ? obj.ItemAt((int)i) : Value.Str(obj.StringValue[(int)i].ToString());
            case ValueKind.Loop when key.Kind == ValueKind.String:
                return LoopAttr(obj.LoopValue, key.StringValue);
            case ValueKind.Undefined when st.Settings.StrictUndefined:
                throw st.UndefinedError(obj);
            case ValueKind.None when st.Settings.StrictUndefined:
                throw st.Error("none cannot be indexed");
            default:
                return Value.Missing(key.Kind == ValueKind.String ? key.StringValue : "?");
        }
    }

    /// <summary>Python's <c>obj[start:stop:step]</c> on a list or string.</summary>
    public static Value Slice(RenderState st, Value obj, Value start, Value stop, Value step)
    {
        if (obj.Kind is not (ValueKind.List or ValueKind.String))
        {
            if (obj.IsNoneOrUndefined && !st.Settings.StrictUndefined)
            {
                return Value.Undefined;
            }

            throw st.Error($"a value of type '{Value.KindName(obj)}' cannot be sliced");
        }

        long len = obj.Count;
        var s = SliceBound(st, step, 1);
        if (s == 0)
        {
            throw st.Error("slice step cannot be zero");
        }

        long lower = s > 0 ? 0 : -1;
        var upper = s > 0 ? len : len - 1;
        var from = start.IsNoneOrUndefined ? (s > 0 ? lower : upper) : Clamp(SliceBound(st, start, 0), len, lower, upper);
        var to = stop.IsNoneOrUndefined ? (s > 0 ? upper : lower) : Clamp(SliceBound(st, stop, 0), len, lower, upper);
        var indexes = new List<int>();
        if (s > 0)
        {
            for (var i = from; i < to; i += s)
            {
                indexes.Add((int)i);
            }
        }
        else
        {
            for (var i = from; i > to; i += s)
            {
                indexes.Add((int)i);
            }
        }

        st.Steps(indexes.Count);
        if (obj.Kind == ValueKind.String)
        {
            var text = obj.StringValue;
            var sb = new StringBuilder(indexes.Count);
            foreach (var i in indexes)
            {
                sb.Append(text[i]);
            }

            return Value.Str(sb.ToString());
        }

        var result = new List<Value>(indexes.Count);
        foreach (var i in indexes)
        {
            result.Add(obj.ItemAt(i));
        }

        return Value.List(result);
    }

    private static long SliceBound(RenderState st, Value v, long dflt) => v.Kind switch
    {
        ValueKind.Int => v.IntValue,
        ValueKind.Undefined or ValueKind.None => dflt,
        _ => throw st.Error($"slice indices must be integers, not '{Value.KindName(v)}'"),
    };

    private static long Clamp(long i, long len, long lower, long upper)
    {
        if (i < 0)
        {
            i += len;
            return i < lower ? lower : i;
        }

        return i > upper ? upper : i;
    }

    /// <summary>The items a for loop or a filter walks: list items, dict keys, string characters.</summary>
    public static List<Value> Iterate(RenderState st, Value v)
    {
        switch (v.Kind)
        {
            case ValueKind.List:
                return v.Items();
            case ValueKind.Dict:
                {
                    var keys = new List<Value>(v.Count);
                    foreach (var kv in v.Entries())
                    {
                        keys.Add(Value.Str(kv.Key));
                    }

                    return keys;
                }

            case ValueKind.String:
                {
                    var chars = new List<Value>(v.StringValue.Length);
                    foreach (var r in v.StringValue.EnumerateRunes())
                    {
                        chars.Add(Value.Str(r.ToString()));
                    }

                    return chars;
                }

            case ValueKind.Undefined when !st.Settings.StrictUndefined:
            case ValueKind.None when !st.Settings.StrictUndefined:
                return [];
            case ValueKind.Undefined:
                throw st.UndefinedError(v);
            default:
                throw st.Error($"a value of type '{Value.KindName(v)}' cannot be iterated");
        }
    }

    /// <summary>Python's <c>len()</c>: characters (code points) of a string, items of a list, keys of a dict.</summary>
    public static long Length(RenderState st, Value v) => v.Kind switch
    {
        ValueKind.String => CodePoints(v.StringValue),
        ValueKind.List or ValueKind.Dict => v.Count,
        ValueKind.Undefined => st.Settings.StrictUndefined ? throw st.UndefinedError(v) : 0,
        ValueKind.Loop => v.LoopValue.Length,
        _ => throw st.Error($"a value of type '{Value.KindName(v)}' has no length"),
    };

    public static int CodePoints(string s)
    {
        var n = 0;
        foreach (var c in s)
        {
            if (!char.IsLowSurrogate(c))
            {
                n++;
            }
        }

        return n;
    }

    /// <summary>Looks up <paramref name="path"/> ("name", "a.b", "0") in an item, as Jinja's attribute= arguments do.</summary>
    public static Value Attribute(RenderState st, Value item, string path)
    {
        var v = item;
        foreach (var part in path.Split('.'))
        {
            v = v.Kind == ValueKind.List && int.TryParse(part, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var i)
                ? GetItem(st, v, Value.Int(i))
                : GetAttr(st, v, part);
        }

        return v;
    }

    /// <summary>A dict key from any simple value (dict keys are strings, as in JSON).</summary>
    public static string Key(RenderState st, Value key) => key.Kind switch
    {
        ValueKind.String => key.StringValue,
        ValueKind.Int or ValueKind.Float or ValueKind.Bool or ValueKind.None => TextForm.Str(st, key),
        ValueKind.Undefined => throw st.UndefinedError(key),
        _ => throw st.Error($"a value of type '{Value.KindName(key)}' cannot be a dict key"),
    };
}
