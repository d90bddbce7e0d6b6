using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace OpsRobot.Core.Templates;

/// <summary>The kinds of value a template works with: JSON's, plus "undefined" and the loop object.</summary>
internal enum ValueKind : byte
{
    Undefined,
    None,
    Bool,
    Int,
    Float,
    String,
    List,
    Dict,
    Loop,
}

/// <summary>
/// One template value. Lists and dicts are either views over the caller's <see cref="JsonArray"/> /
/// <see cref="JsonObject"/> (read, never written, never copied on the way in) or lists and ordered dictionaries
/// the template built. Nothing else can be reached, which is what keeps the language sandboxed by construction.
/// </summary>
[StructLayout(LayoutKind.Auto)]
internal readonly struct Value
{
    private readonly object? _obj;
    private readonly long _bits;

    private Value(ValueKind kind, long bits, object? obj)
    {
        Kind = kind;
        _bits = bits;
        _obj = obj;
    }

    public static readonly Value None = new(ValueKind.None, 0, null);
    public static readonly Value True = new(ValueKind.Bool, 1, null);
    public static readonly Value False = new(ValueKind.Bool, 0, null);
    public static readonly Value EmptyString = new(ValueKind.String, 0, string.Empty);

    public ValueKind Kind { get; }

    public static Value Undefined => default;

    public bool IsUndefined => Kind == ValueKind.Undefined;

    public bool IsNoneOrUndefined => Kind is ValueKind.None or ValueKind.Undefined;

    public bool IsNumber => Kind is ValueKind.Int or ValueKind.Float;

    public bool BoolValue => _bits != 0;

    public long IntValue => _bits;

    public double FloatValue => BitConverter.Int64BitsToDouble(_bits);

    /// <summary>The number as a double, for an Int or a Float.</summary>
    public double AsDouble => Kind == ValueKind.Int ? _bits : BitConverter.Int64BitsToDouble(_bits);

    public string StringValue => (string)_obj!;

    /// <summary>For an undefined value: the name that was looked up, for error messages.</summary>
    public string? UndefinedName => Kind == ValueKind.Undefined ? _obj as string : null;

    public LoopState LoopValue => (LoopState)_obj!;

    /// <summary>The backing object: string, JsonArray, List, JsonObject, OrderedDictionary or LoopState.</summary>
    public object? Raw => _obj;

    public static Value Missing(string name) => new(ValueKind.Undefined, 0, name);

    public static Value Bool(bool value) => value ? True : False;

    public static Value Int(long value) => new(ValueKind.Int, value, null);

    public static Value Float(double value) => new(ValueKind.Float, BitConverter.DoubleToInt64Bits(value), null);

    public static Value Str(string value) => new(ValueKind.String, 0, value);

    public static Value List(List<Value> items) => new(ValueKind.List, 0, items);

    public static Value Dict(OrderedDictionary<string, Value> entries) => new(ValueKind.Dict, 0, entries);

    public static Value Loop(LoopState loop) => new(ValueKind.Loop, 0, loop);

    /// <summary>Wraps a node from the caller's context without copying it.</summary>
    public static Value FromNode(JsonNode? node) => node switch
    {
        null => None,
        JsonObject o => new Value(ValueKind.Dict, 0, o),
        JsonArray a => new Value(ValueKind.List, 0, a),
        JsonValue v => FromJsonValue(v),
        _ => None,
    };

    private static Value FromJsonValue(JsonValue v)
    {
        // Parsed JSON (the usual case) is backed by a JsonElement; values built in code are backed by CLR
        // primitives, which JsonValue will only hand back as their exact type.
        if (v.TryGetValue<JsonElement>(out var e))
        {
            return FromElement(e);
        }

        if (v.TryGetValue<string>(out var s))
        {
            return Str(s);
        }

        if (v.TryGetValue<bool>(out var b))
        {
            return Bool(b);
        }

        if (v.TryGetValue<long>(out var l))
        {
            return Int(l);
        }

        if (v.TryGetValue<int>(out var i))
        {
            return Int(i);
        }

        if (v.TryGetValue<double>(out var d))
        {
            return Float(d);
        }

        if (v.TryGetValue<short>(out var sh))
        {
            return Int(sh);
        }

        if (v.TryGetValue<byte>(out var by))
        {
            return Int(by);
        }

        if (v.TryGetValue<uint>(out var ui))
        {
            return Int(ui);
        }

        if (v.TryGetValue<ulong>(out var ul))
        {
            return ul <= long.MaxValue ? Int((long)ul) : Float(ul);
        }

        if (v.TryGetValue<float>(out var f))
        {
            return Float(f);
        }

        if (v.TryGetValue<decimal>(out var m))
        {
            return decimal.Truncate(m) == m && m >= long.MinValue && m <= long.MaxValue ? Int((long)m) : Float((double)m);
        }

        if (v.TryGetValue<char>(out var c))
        {
            return Str(c.ToString());
        }

        // Anything else (Guid, DateTime, enums…) is whatever it serialises to.
        using var doc = JsonDocument.Parse(v.ToJsonString());
        return FromElement(doc.RootElement.Clone());
    }

    private static Value FromElement(JsonElement e)
    {
        switch (e.ValueKind)
        {
            case JsonValueKind.String:
                return Str(e.GetString()!);
            case JsonValueKind.Number:
                if (e.TryGetInt64(out var l))
                {
                    return Int(l);
                }

                return e.TryGetDouble(out var d)
                    ? Float(d)
                    : Float(double.Parse(e.GetRawText(), NumberStyles.Float, CultureInfo.InvariantCulture));
            case JsonValueKind.True:
                return True;
            case JsonValueKind.False:
                return False;
            case JsonValueKind.Object:
            case JsonValueKind.Array:
                return FromNode(JsonNode.Parse(e.GetRawText()));
            default:
                return None;
        }
    }

    /// <summary>Number of items of a list, entries of a dict, characters of a string.</summary>
    public int Count => _obj switch
    {
        JsonArray a => a.Count,
        List<Value> l => l.Count,
        JsonObject o => o.Count,
        OrderedDictionary<string, Value> d => d.Count,
        string s => s.Length,
        _ => 0,
    };

    /// <summary>The item at <paramref name="index"/> of a list (0 ≤ index &lt; Count).</summary>
    public Value ItemAt(int index) => _obj is JsonArray a ? FromNode(a[index]) : ((List<Value>)_obj!)[index];

    /// <summary>Looks up a key of a dict.</summary>
    public bool TryGetKey(string key, out Value value)
    {
        if (_obj is JsonObject o)
        {
            if (o.TryGetPropertyValue(key, out var node))
            {
                value = FromNode(node);
                return true;
            }
        }
        else if (_obj is OrderedDictionary<string, Value> d && d.TryGetValue(key, out value))
        {
            return true;
        }

        value = Undefined;
        return false;
    }

    /// <summary>The entries of a dict, in order.</summary>
    public List<KeyValuePair<string, Value>> Entries()
    {
        var list = new List<KeyValuePair<string, Value>>(Count);
        if (_obj is JsonObject o)
        {
            foreach (var kv in o)
            {
                list.Add(new(kv.Key, FromNode(kv.Value)));
            }
        }
        else if (_obj is OrderedDictionary<string, Value> d)
        {
            foreach (var kv in d)
            {
                list.Add(kv);
            }
        }

        return list;
    }

    /// <summary>The items of a list, copied into a list the caller may keep.</summary>
    public List<Value> Items()
    {
        if (_obj is List<Value> l)
        {
            return new List<Value>(l);
        }

        var a = (JsonArray)_obj!;
        var list = new List<Value>(a.Count);
        foreach (var node in a)
        {
            list.Add(FromNode(node));
        }

        return list;
    }

    public static string KindName(Value v) => v.Kind switch
    {
        ValueKind.Undefined => "undefined",
        ValueKind.None => "none",
        ValueKind.Bool => "boolean",
        ValueKind.Int => "integer",
        ValueKind.Float => "float",
        ValueKind.String => "string",
        ValueKind.List => "list",
        ValueKind.Dict => "dict",
        _ => "loop",
    };
}

/// <summary>The state behind <c>loop</c> inside a for block. One per loop, advanced in place.</summary>
internal sealed class LoopState(List<Value> items)
{
    public List<Value> Items { get; } = items;

    public int Index0 { get; set; }

    public int Length => Items.Count;
}
