using System.Collections.Frozen;
using System.Text.Json.Nodes;

namespace OpsRobot.Core.Templates;

/// <summary>
/// Functions that expressions may call by name, added by the code that hosts the templates (the workflow engine
/// adds Orquesta's <c>ctx()</c>, <c>result()</c>, <c>item()</c>, <c>succeeded()</c>…). Fill it while configuring;
/// a <see cref="TemplateRenderer"/> takes a snapshot when it is created, so later additions are not seen by it.
/// </summary>
/// <remarks>
/// A function receives copies of its arguments as JSON (an undefined value arrives as <c>null</c>) and returns a
/// JSON value; it never sees the engine's internals. It runs with the caller's privileges, so it must not reach
/// outside the data it is given: that is what keeps templates sandboxed.
/// </remarks>
public sealed class TemplateFunctions
{
    private readonly Dictionary<string, Func<TemplateCallContext, IReadOnlyList<JsonNode?>, JsonNode?>> _functions =
        new(StringComparer.Ordinal);

    /// <summary>The names added so far.</summary>
    public IReadOnlyCollection<string> Names => _functions.Keys;

    /// <summary>
    /// Adds a function callable as <c>name(arg, …)</c> in both <c>{{ }}</c> and <c>&lt;% %&gt;</c>. The name must be an
    /// identifier that is not a keyword and not a built-in function (<c>range</c>, <c>str</c>, <c>len</c>…).
    /// </summary>
    /// <exception cref="ArgumentException">The name is not an identifier, is taken, or is a built-in.</exception>
    public void Add(string name, Func<TemplateCallContext, IReadOnlyList<JsonNode?>, JsonNode?> function)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(function);
        if (!Lexer.IsIdentifier(name) || Parser.IsKeyword(name))
        {
            throw new ArgumentException($"'{name}' is not a valid function name.", nameof(name));
        }

        if (Functions.BuiltIns.ContainsKey(name))
        {
            throw new ArgumentException($"'{name}' is a built-in function and cannot be replaced.", nameof(name));
        }

        if (!_functions.TryAdd(name, function))
        {
            throw new ArgumentException($"A function named '{name}' is already registered.", nameof(name));
        }
    }

    /// <summary>Whether a function of this name was added.</summary>
    public bool Contains(string name) => _functions.ContainsKey(name);

    internal IEnumerable<KeyValuePair<string, Func<TemplateCallContext, IReadOnlyList<JsonNode?>, JsonNode?>>> Entries => _functions;
}

/// <summary>What a registered function can see of the render that called it.</summary>
public sealed class TemplateCallContext
{
    private readonly RenderState _state;

    internal TemplateCallContext(RenderState state, string functionName, IReadOnlyDictionary<string, JsonNode?> namedArguments)
    {
        _state = state;
        FunctionName = functionName;
        NamedArguments = namedArguments;
        (Line, Column) = TemplateErrors.LineColumn(state.Source, state.Pos);
    }

    /// <summary>The name the function was called by.</summary>
    public string FunctionName { get; }

    /// <summary>Arguments passed as <c>name=value</c> (copies).</summary>
    public IReadOnlyDictionary<string, JsonNode?> NamedArguments { get; }

    /// <summary>1-based line of the call in the template.</summary>
    public int Line { get; }

    /// <summary>1-based column of the call in the template.</summary>
    public int Column { get; }

    /// <summary>
    /// Reads a variable as the template sees it at the call: a <c>set</c> or loop variable first, then the context
    /// given to the render. Local values arrive as copies; context values as the caller's own nodes, which a
    /// function must treat as read-only.
    /// </summary>
    public bool TryGetVariable(string name, out JsonNode? value)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (_state.TryLookupLocal(name, out var local))
        {
            value = TextForm.ToNode(_state, local, 0);
            return !local.IsUndefined;
        }

        return _state.Root.TryGetPropertyValue(name, out value);
    }

    /// <summary>An error that points at the call, for the function to throw.</summary>
    public TemplateException Error(string message) => TemplateErrors.At(_state.Source, _state.Pos, message);
}

internal sealed class FunctionDef(string name, Func<RenderState, Args, Value> invoke)
{
    public string Name { get; } = name;

    public Func<RenderState, Args, Value> Invoke { get; } = invoke;
}

/// <summary>The built-in functions, and the bridge to registered ones.</summary>
internal static class Functions
{
    public static readonly FrozenDictionary<string, FunctionDef> BuiltIns = new Dictionary<string, FunctionDef>(StringComparer.Ordinal)
    {
        ["range"] = new("range", Range),
        ["str"] = new("str", (st, a) => Value.Str(TextForm.SoftStr(st, a.Bind(st, "str()", ["value"]).Get(0, Value.EmptyString)))),
        ["len"] = new("len", (st, a) => Value.Int(Ops.Length(st, a.Bind(st, "len()", ["value"]).Required(0)))),
        ["list"] = new("list", MakeList),
        ["dict"] = new("dict", MakeDict),
        ["int"] = new("int", (st, a) =>
        {
            var b = a.Bind(st, "int()", ["value", "base"]);
            var v = b.Get(0, Value.Int(0));
            return Filters.TryInt(v, (int)b.Int(1, 10), out var r) ? r : throw st.Error($"int(): cannot convert {TextForm.Repr(st, v)} to an integer");
        }),
        ["float"] = new("float", (st, a) =>
        {
            var v = a.Bind(st, "float()", ["value"]).Get(0, Value.Float(0));
            return Filters.TryToFloat(v, out var d) ? Value.Float(d) : throw st.Error($"float(): cannot convert {TextForm.Repr(st, v)} to a float");
        }),
        ["bool"] = new("bool", (st, a) => Value.Bool(Filters.ToBool(a.Bind(st, "bool()", ["value"]).Get(0, Value.False)))),
    }.ToFrozenDictionary(StringComparer.Ordinal);

    public static FrozenDictionary<string, FunctionDef> Build(TemplateFunctions registered)
    {
        var all = new Dictionary<string, FunctionDef>(BuiltIns, StringComparer.Ordinal);
        foreach (var kv in registered.Entries)
        {
            all[kv.Key] = new FunctionDef(kv.Key, Bridge(kv.Key, kv.Value));
        }

        return all.ToFrozenDictionary(StringComparer.Ordinal);
    }

    private static Func<RenderState, Args, Value> Bridge(string name, Func<TemplateCallContext, IReadOnlyList<JsonNode?>, JsonNode?> function) =>
        (st, args) =>
        {
            var positional = new JsonNode?[args.Count];
            for (var i = 0; i < args.Count; i++)
            {
                positional[i] = TextForm.ToNode(st, args.Positional[i], 0);
            }

            var named = new Dictionary<string, JsonNode?>(StringComparer.Ordinal);
            foreach (var kv in args.Named)
            {
                named[kv.Key] = TextForm.ToNode(st, kv.Value, 0);
            }

            var pos = st.Pos;
            JsonNode? result;
            try
            {
                result = function(new TemplateCallContext(st, name, named), positional);
            }
            catch (TemplateException ex) when (ex.Line == 0)
            {
                st.Pos = pos;
                throw st.Error(ex.Message, null, ex);
            }
            catch (TemplateException)
            {
                throw;
            }
#pragma warning disable CA1031 // A registered function is host code; whatever it throws becomes a template error at the call, not a crash of the render.
            catch (Exception ex) when (ex is not OutOfMemoryException)
#pragma warning restore CA1031
            {
                st.Pos = pos;
                throw st.Error($"function '{name}' failed", ex.Message, ex);
            }

            return Value.FromNode(result);
        };

    /// <summary>range(stop) / range(start, stop[, step]); its length is charged as steps before the list is built.</summary>
    private static Value Range(RenderState st, Args a)
    {
        if (a.Named.Length > 0 || a.Count is < 1 or > 3)
        {
            throw st.Error("range() takes 1 to 3 integer arguments");
        }

        foreach (var v in a.Positional)
        {
            if (v.Kind != ValueKind.Int)
            {
                throw v.IsUndefined ? st.UndefinedError(v) : st.Error($"range() needs integers, not '{Value.KindName(v)}'");
            }
        }

        var start = a.Count == 1 ? 0 : a.Positional[0].IntValue;
        var stop = a.Count == 1 ? a.Positional[0].IntValue : a.Positional[1].IntValue;
        var step = a.Count == 3 ? a.Positional[2].IntValue : 1;
        if (step == 0)
        {
            throw st.Error("range() step must not be zero");
        }

        var span = step > 0 ? (decimal)stop - start : (decimal)start - stop;
        var count = span <= 0 ? 0 : Math.Ceiling(span / Math.Abs((decimal)step));
        st.Steps(count > long.MaxValue ? long.MaxValue : (long)count);
        var items = new List<Value>((int)count);
        for (var i = 0L; i < count; i++)
        {
            items.Add(Value.Int(start + (i * step)));
        }

        return Value.List(items);
    }

    /// <summary>
    /// list(a, b, …) builds a list of its arguments (YAQL's list); with one list or dict argument it converts it
    /// (Python's list(): a copy, or the keys).
    /// </summary>
    private static Value MakeList(RenderState st, Args a)
    {
        if (a.Named.Length > 0)
        {
            throw st.Error("list() takes no named arguments");
        }

        if (a.Count == 1 && a.Positional[0].Kind is ValueKind.List or ValueKind.Dict)
        {
            return Filters.ToList(st, a.Positional[0]);
        }

        st.Steps(a.Count);
        return Value.List([.. a.Positional]);
    }

    /// <summary>dict(key=value, …), or dict(a_dict) / dict(a_list_of_pairs) with named arguments added on top.</summary>
    private static Value MakeDict(RenderState st, Args a)
    {
        if (a.Count > 1)
        {
            throw st.Error("dict() takes at most one positional argument");
        }

        var d = new OrderedDictionary<string, Value>(StringComparer.Ordinal);
        if (a.Count == 1)
        {
            var source = a.Positional[0];
            if (source.Kind == ValueKind.Dict)
            {
                foreach (var kv in source.Entries())
                {
                    d[kv.Key] = kv.Value;
                }
            }
            else
            {
                foreach (var pair in Ops.Iterate(st, source))
                {
                    if (pair.Kind != ValueKind.List || pair.Count != 2)
                    {
                        throw st.Error("dict() needs a dict or a list of [key, value] pairs");
                    }

                    d[Ops.Key(st, pair.ItemAt(0))] = pair.ItemAt(1);
                }
            }
        }

        foreach (var kv in a.Named)
        {
            d[kv.Key] = kv.Value;
        }

        st.Steps(d.Count);
        return Value.Dict(d);
    }
}

/// <summary>The methods Jinja users call on strings, dicts and <c>loop</c>: <c>d.items()</c>, <c>s.split(',')</c>…</summary>
internal static class Methods
{
    public static Value Call(RenderState st, Value obj, string name, Args a)
    {
        switch (obj.Kind)
        {
            case ValueKind.String:
                return StringMethod(st, obj.StringValue, name, a);
            case ValueKind.Dict:
                switch (name)
                {
                    case "items":
                        NoArgs(st, a, name);
                        return Filters.Items(st, obj, name);
                    case "keys":
                    case "values":
                        NoArgs(st, a, name);
                        return Filters.KeysOrValues(st, obj, name == "keys");
                    case "get":
                        var b = a.Bind(st, "get()", ["key", "default"]);
                        var key = b.Required(0);
                        return key.Kind == ValueKind.String && obj.TryGetKey(key.StringValue, out var found) ? found : b.Get(1, Value.None);
                }

                break;
            case ValueKind.Loop when name == "cycle":
                if (a.Count == 0)
                {
                    throw st.Error("loop.cycle() needs at least one value");
                }

                return a.Positional[obj.LoopValue.Index0 % a.Count];
            case ValueKind.Undefined or ValueKind.None when !st.Settings.StrictUndefined:
                return Value.Missing(name);
            case ValueKind.Undefined:
                throw st.UndefinedError(obj);
        }

        throw st.Error($"a value of type '{Value.KindName(obj)}' has no method '{name}'");
    }

    private static void NoArgs(RenderState st, Args a, string name)
    {
        if (a.Count > 0 || a.Named.Length > 0)
        {
            throw st.Error($"{name}() takes no arguments");
        }
    }

    private static Value StringMethod(RenderState st, string s, string name, Args a)
    {
        switch (name)
        {
            case "upper":
                NoArgs(st, a, name);
                return Value.Str(s.ToUpperInvariant());
            case "lower":
                NoArgs(st, a, name);
                return Value.Str(s.ToLowerInvariant());
            case "title":
            case "capitalize":
                NoArgs(st, a, name);
                return Filters.All[name].Invoke(st, Value.Str(s), Args.Empty);
            case "strip":
            case "lstrip":
            case "rstrip":
                {
                    var b = a.Bind(st, name + "()", ["chars"]);
                    var chars = b.Has(0) && !b.Get(0).IsNoneOrUndefined ? b.RequiredString(0).ToCharArray() : null;
                    return Value.Str(name switch
                    {
                        "strip" => chars is null ? s.Trim() : s.Trim(chars),
                        "lstrip" => chars is null ? s.TrimStart() : s.TrimStart(chars),
                        _ => chars is null ? s.TrimEnd() : s.TrimEnd(chars),
                    });
                }

            case "startswith":
            case "endswith":
                {
                    var b = a.Bind(st, name + "()", ["prefix"]);
                    var p = b.Required(0);
                    var candidates = p.Kind == ValueKind.List ? Ops.Iterate(st, p) : [p];
                    foreach (var c in candidates)
                    {
                        var text = TextForm.Str(st, c);
                        if (name == "startswith" ? s.StartsWith(text, StringComparison.Ordinal) : s.EndsWith(text, StringComparison.Ordinal))
                        {
                            return Value.True;
                        }
                    }

                    return Value.False;
                }

            case "split":
                {
                    var b = a.Bind(st, "split()", ["sep", "maxsplit"]);
                    return Filters.SplitText(st, s, b.Has(0) && !b.Get(0).IsNoneOrUndefined ? b.RequiredString(0) : null, b.Int(1, -1));
                }

            case "splitlines":
                NoArgs(st, a, name);
                var lines = s.ReplaceLineEndings("\n").Split('\n').ToList();
                if (lines.Count > 0 && lines[^1].Length == 0)
                {
                    lines.RemoveAt(lines.Count - 1);
                }

                st.Steps(lines.Count);
                return Value.List(lines.ConvertAll(Value.Str));
            case "replace":
                {
                    var b = a.Bind(st, "replace()", ["old", "new", "count"]);
                    return Value.Str(Filters.ReplaceText(st, s, b.RequiredString(0), b.RequiredString(1), b.Int(2, -1)));
                }

            case "join":
                {
                    var b = a.Bind(st, "join()", ["iterable"]);
                    var items = Ops.Iterate(st, b.Required(0));
                    st.Steps(items.Count);
                    var sb = new System.Text.StringBuilder();
                    for (var i = 0; i < items.Count; i++)
                    {
                        if (i > 0)
                        {
                            sb.Append(s);
                        }

                        sb.Append(TextForm.SoftStr(st, items[i]));
                        st.CheckLength(sb.Length);
                    }

                    return Value.Str(sb.ToString());
                }
        }

        throw st.Error($"a value of type 'string' has no method '{name}'");
    }
}
