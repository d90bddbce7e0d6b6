using System.Security.Cryptography;
using System.Text.Json.Nodes;
using OpsRobot.Core.Templates;

namespace OpsRobot.Core.Workflows.Expressions;

/// <summary>
/// What an expression in a workflow can see: the workflow context, and while a task is being evaluated, that task's
/// id, route, status and result, and the current item of a with-items task.
/// </summary>
public sealed class ExpressionScope
{
    public ExpressionScope(JsonObject context)
    {
        ArgumentNullException.ThrowIfNull(context);
        Context = context;
    }

    /// <summary>The workflow context (<c>ctx()</c>). Read-only for expressions.</summary>
    public JsonObject Context { get; }

    /// <summary>The task being evaluated, or null (inputs, vars, output).</summary>
    public string? TaskId { get; init; }

    public int Route { get; init; }

    /// <summary>The task's status, for <c>succeeded()</c>, <c>failed()</c>, <c>completed()</c>.</summary>
    public string? TaskStatus { get; init; }

    /// <summary>The task's result, for <c>result()</c>.</summary>
    public JsonNode? Result { get; init; }

    /// <summary>Whether an item is current (inside a with-items task's action and input).</summary>
    public bool HasItem { get; init; }

    public JsonNode? Item { get; init; }

    /// <summary>The status of a task by name and route, for <c>task_status('t')</c>; null when it has not run.</summary>
    public Func<string, int, string?>? TaskStatusLookup { get; init; }
}

/// <summary>An expression in a workflow that failed to evaluate; the message names the expression and the reason.</summary>
public sealed class WorkflowExpressionException : Exception
{
    public WorkflowExpressionException()
    {
    }

    public WorkflowExpressionException(string message)
        : base(message)
    {
    }

    public WorkflowExpressionException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>
/// The workflow expression language: the template language (Jinja in <c>{{ }}</c>, YAQL's everyday subset in
/// <c>&lt;% %&gt;</c>, see docs/templates.md) with Orquesta's functions registered: <c>ctx()</c>, <c>result()</c>,
/// <c>item()</c>, <c>succeeded()</c>, <c>failed()</c>, <c>completed()</c>, <c>task_status()</c>, <c>zip()</c>,
/// <c>random()</c>. A field that is exactly one expression keeps the expression's type; anything else renders to
/// text. Thread-safe.
/// </summary>
public sealed class WorkflowExpressions
{
    // The registered functions are fixed when the renderer is built, but what they read (the context, the current
    // task) changes with every evaluation. Evaluation is synchronous and functions never evaluate other
    // expressions, so the scope of the evaluation running on this thread is all they need.
    [ThreadStatic]
    private static ExpressionScope? _scope;

    private readonly TemplateRenderer _renderer;

    /// <summary>The expression language with the default sandbox limits.</summary>
    public WorkflowExpressions()
        : this(new TemplateOptions())
    {
    }

    /// <summary>The expression language with these limits (the workflow functions are added to a copy's registry).</summary>
    public WorkflowExpressions(TemplateOptions limits)
    {
        ArgumentNullException.ThrowIfNull(limits);
        var options = new TemplateOptions
        {
            MaxSteps = limits.MaxSteps,
            MaxDepth = limits.MaxDepth,
            MaxOutputLength = limits.MaxOutputLength,
            MaxCacheEntries = Math.Max(limits.MaxCacheEntries, 4096),
            RegexTimeout = limits.RegexTimeout,
            MaxRegexLength = limits.MaxRegexLength,
            TrimBlocks = limits.TrimBlocks,
            LStripBlocks = limits.LStripBlocks,
        };
        foreach (var name in limits.Functions.Names)
        {
            if (!Names.Contains(name))
            {
                throw new ArgumentException($"The template function '{name}' cannot be used in workflows: register workflow functions here.", nameof(limits));
            }
        }

        options.Functions.Add("ctx", Ctx);
        options.Functions.Add("result", (call, args) => NoArgs(call, args, Scope(call).Result?.DeepClone()));
        options.Functions.Add("item", Item);
        options.Functions.Add("succeeded", (call, args) => NoArgs(call, args, JsonValue.Create(TaskStatus(call) == WorkflowStatuses.Succeeded)));
        options.Functions.Add("failed", (call, args) => NoArgs(call, args, JsonValue.Create(TaskStatus(call) == WorkflowStatuses.Failed)));
        options.Functions.Add("completed", (call, args) => NoArgs(call, args, JsonValue.Create(WorkflowStatuses.IsCompleted(TaskStatus(call)))));
        options.Functions.Add("task_status", TaskStatusOf);
        options.Functions.Add("zip", Zip);
        options.Functions.Add("random", RandomNumber);
        _renderer = new TemplateRenderer(options);
    }

    /// <summary>The functions workflows add to the template language.</summary>
    public static IReadOnlySet<string> Names { get; } = new HashSet<string>(StringComparer.Ordinal)
    {
        "ctx", "result", "item", "succeeded", "failed", "completed", "task_status", "zip", "random",
    };

    /// <summary>Whether the text holds an expression (<c>&lt;% %&gt;</c>, <c>{{ }}</c> or <c>{% %}</c>).</summary>
    public static bool HasExpression(string text) =>
        text.Contains("<%", StringComparison.Ordinal) || text.Contains("{{", StringComparison.Ordinal) || text.Contains("{%", StringComparison.Ordinal);

    /// <summary>Parses without evaluating. Returns null when it parses, else the error with its position in the text.</summary>
    public TemplateException? Check(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return HasExpression(text) ? _renderer.Check(text) : null;
    }

    /// <summary>
    /// Evaluates a value as written in the workflow: strings are evaluated (keeping the type of a lone expression),
    /// lists and mappings are walked, other values are copied.
    /// </summary>
    /// <exception cref="WorkflowExpressionException">An expression failed.</exception>
    public JsonNode? Evaluate(JsonNode? value, ExpressionScope scope)
    {
        ArgumentNullException.ThrowIfNull(scope);
        var previous = _scope;
        _scope = scope;
        try
        {
            return Walk(value);
        }
        finally
        {
            _scope = previous;
        }
    }

    /// <summary>Evaluates a condition (<c>when</c>) and reads the result as Python would: empty, zero, false and null are false.</summary>
    /// <exception cref="WorkflowExpressionException">The expression failed.</exception>
    public bool IsTrue(string condition, ExpressionScope scope) => Truthy(Evaluate(JsonValue.Create(condition), scope));

    /// <summary>Python's truthiness of a JSON value.</summary>
    public static bool Truthy(JsonNode? node) => node switch
    {
        null => false,
        JsonArray a => a.Count > 0,
        JsonObject o => o.Count > 0,
        JsonValue v when v.TryGetValue<bool>(out var b) => b,
        JsonValue v when v.TryGetValue<string>(out var s) => s.Length > 0,
        JsonValue v when v.TryGetValue<long>(out var l) => l != 0,
        JsonValue v when v.TryGetValue<int>(out var i) => i != 0,
        JsonValue v when v.TryGetValue<double>(out var d) => d != 0,
        JsonValue v when v.GetValueKind() is System.Text.Json.JsonValueKind.False or System.Text.Json.JsonValueKind.Null => false,
        JsonValue v when v.GetValueKind() == System.Text.Json.JsonValueKind.Number => v.GetValue<double>() != 0,
        JsonValue v when v.GetValueKind() == System.Text.Json.JsonValueKind.String => v.GetValue<string>().Length > 0,
        _ => true,
    };

    private JsonNode? Walk(JsonNode? value)
    {
        switch (value)
        {
            case null:
                return null;
            case JsonArray array:
                var list = new JsonArray();
                foreach (var item in array)
                {
                    list.Add(Walk(item));
                }

                return list;
            case JsonObject obj:
                var map = new JsonObject();
                foreach (var (key, item) in obj)
                {
                    map[key] = Walk(item);
                }

                return map;
            case JsonValue v when v.GetValueKind() == System.Text.Json.JsonValueKind.String:
                var text = v.GetValue<string>();
                if (!HasExpression(text))
                {
                    return JsonValue.Create(text);
                }

                try
                {
                    return _renderer.Evaluate(text, []);
                }
                catch (TemplateException ex)
                {
                    throw new WorkflowExpressionException($"{Describe(text)}: {ex.Message}", ex);
                }

            default:
                return value.DeepClone();
        }
    }

    private static string Describe(string text) => text.Length <= 120 ? $"'{text.Trim()}'" : $"'{text.Trim()[..117]}...'";

    private static ExpressionScope Scope(TemplateCallContext call) =>
        _scope ?? throw call.Error($"{call.FunctionName}() is only available inside a workflow");

    private static string? TaskStatus(TemplateCallContext call)
    {
        var scope = Scope(call);
        return scope.TaskId is null
            ? throw call.Error($"{call.FunctionName}() is only available in a task's transitions")
            : scope.TaskStatus;
    }

    private static JsonNode? NoArgs(TemplateCallContext call, IReadOnlyList<JsonNode?> args, JsonNode? value) =>
        args.Count > 0 || call.NamedArguments.Count > 0 ? throw call.Error($"{call.FunctionName}() takes no arguments") : value;

    private static JsonNode? Ctx(TemplateCallContext call, IReadOnlyList<JsonNode?> args)
    {
        var context = Scope(call).Context;
        if (args.Count == 0)
        {
            return context;
        }

        if (args.Count > 1 || args[0] is not JsonValue name || !name.TryGetValue<string>(out var key))
        {
            throw call.Error("ctx() takes one variable name, as ctx(name) or ctx('name')");
        }

        return context.TryGetPropertyValue(key, out var value)
            ? value
            : throw call.Error($"the variable '{key}' is not defined in the workflow context");
    }

    private static JsonNode? Item(TemplateCallContext call, IReadOnlyList<JsonNode?> args)
    {
        var scope = Scope(call);
        if (!scope.HasItem)
        {
            throw call.Error("item() is only available in a with-items task's action and input");
        }

        if (args.Count == 0)
        {
            return scope.Item?.DeepClone();
        }

        if (args.Count > 1 || args[0] is not JsonValue name || !name.TryGetValue<string>(out var key))
        {
            throw call.Error("item() takes at most one key name");
        }

        return scope.Item is JsonObject obj && obj.TryGetPropertyValue(key, out var value)
            ? value?.DeepClone()
            : throw call.Error($"the current item has no key '{key}'");
    }

    private static JsonNode? TaskStatusOf(TemplateCallContext call, IReadOnlyList<JsonNode?> args)
    {
        if (args.Count != 1 || args[0] is not JsonValue name || !name.TryGetValue<string>(out var task))
        {
            throw call.Error("task_status() takes one task name");
        }

        var scope = Scope(call);
        var status = scope.TaskStatusLookup?.Invoke(task, scope.Route);
        return status is null ? null : JsonValue.Create(status);
    }

    private static JsonNode? Zip(TemplateCallContext call, IReadOnlyList<JsonNode?> args)
    {
        if (args.Count < 2 || args.Any(a => a is not JsonArray))
        {
            throw call.Error("zip() takes two or more lists");
        }

        var lists = args.Cast<JsonArray>().ToList();
        var length = lists.Min(l => l.Count);
        var result = new JsonArray();
        for (var i = 0; i < length; i++)
        {
            var tuple = new JsonArray();
            foreach (var list in lists)
            {
                tuple.Add(list[i]?.DeepClone());
            }

            result.Add(tuple);
        }

        return result;
    }

    private static JsonNode? RandomNumber(TemplateCallContext call, IReadOnlyList<JsonNode?> args)
    {
        if (args.Count != 2 || args[0] is not JsonValue a || args[1] is not JsonValue b
            || !a.TryGetValue<long>(out var min) || !b.TryGetValue<long>(out var max) || max <= min
            || min < int.MinValue || max > int.MaxValue)
        {
            throw call.Error("random() takes two whole numbers, min and max (max excluded, max > min)");
        }

        return JsonValue.Create((long)RandomNumberGenerator.GetInt32((int)min, (int)max));
    }
}
