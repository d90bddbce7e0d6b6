using System.Globalization;

namespace OpsRobot.Core.Templates;

/// <summary>The evaluated arguments of a filter, test, function or method call.</summary>
internal sealed class Args(Value[] positional, KeyValuePair<string, Value>[] named)
{
    public static readonly Args Empty = new([], []);

    public Value[] Positional { get; } = positional;

    public KeyValuePair<string, Value>[] Named { get; } = named;

    public int Count => Positional.Length;

    /// <summary>
    /// Matches the arguments to <paramref name="parameters"/> by position, then by name, as Python does.
    /// Positional arguments beyond the parameters are refused unless <paramref name="varArgs"/>.
    /// </summary>
    public Bound Bind(RenderState st, string what, string[] parameters, bool varArgs = false)
    {
        var values = new Value[parameters.Length];
        var present = 0UL;
        var take = Math.Min(Positional.Length, parameters.Length);
        for (var i = 0; i < take; i++)
        {
            values[i] = Positional[i];
            present |= 1UL << i;
        }

        List<Value>? extra = null;
        if (Positional.Length > parameters.Length)
        {
            if (!varArgs)
            {
                throw st.Error(string.Create(
                    CultureInfo.InvariantCulture,
                    $"{what} takes at most {parameters.Length} argument{(parameters.Length == 1 ? string.Empty : "s")}, got {Positional.Length}"));
            }

            extra = new List<Value>(Positional[parameters.Length..]);
        }

        foreach (var kv in Named)
        {
            var index = Array.IndexOf(parameters, kv.Key);
            if (index < 0)
            {
                throw st.Error($"{what} has no argument named '{kv.Key}'");
            }

            if ((present & (1UL << index)) != 0)
            {
                throw st.Error($"{what} got argument '{kv.Key}' twice");
            }

            values[index] = kv.Value;
            present |= 1UL << index;
        }

        return new Bound(st, what, parameters, values, present, extra ?? []);
    }
}

/// <summary>Arguments matched to parameters, with typed accessors that explain a wrong type.</summary>
internal sealed class Bound(RenderState st, string what, string[] parameters, Value[] values, ulong present, List<Value> extra)
{
    public List<Value> Extra { get; } = extra;

    public bool Has(int i) => (present & (1UL << i)) != 0;

    public Value Get(int i) => Has(i) ? values[i] : Value.Undefined;

    public Value Get(int i, Value fallback) => Has(i) ? values[i] : fallback;

    public Value Required(int i) =>
        Has(i) ? values[i] : throw st.Error($"{what} needs argument '{parameters[i]}'");

    public string String(int i, string fallback)
    {
        if (!Has(i) || values[i].IsNoneOrUndefined)
        {
            return fallback;
        }

        return TextForm.Str(st, values[i]);
    }

    public string RequiredString(int i) => TextForm.Str(st, Required(i));

    public long Int(int i, long fallback)
    {
        if (!Has(i) || values[i].Kind == ValueKind.None)
        {
            return fallback;
        }

        var v = values[i];
        return v.Kind switch
        {
            ValueKind.Int => v.IntValue,
            ValueKind.Float when Math.Abs(v.FloatValue) < 9e18 => (long)v.FloatValue,
            ValueKind.String when long.TryParse(v.StringValue, NumberStyles.Integer, CultureInfo.InvariantCulture, out var parsed) => parsed,
            _ => throw st.Error($"{what}: argument '{parameters[i]}' must be an integer, not '{Value.KindName(v)}'"),
        };
    }

    public bool Bool(int i, bool fallback) => Has(i) ? Ops.Truthy(values[i]) : fallback;
}
