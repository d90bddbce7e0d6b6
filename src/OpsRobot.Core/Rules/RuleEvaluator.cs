using System.Text.Json;
using System.Text.Json.Nodes;
using OpsRobot.Core.Templates;

namespace OpsRobot.Core.Rules;

/// <summary>Why a rule did not match: the first criterion that did not hold, the values it compared, and the reason.</summary>
public sealed record CriterionFailure(Criterion Criterion, JsonNode? Value, JsonNode? Pattern, string Reason)
{
    /// <summary>The payload value in JSON, shortened for a message.</summary>
    public string ValueText => PyValues.Short(Value);

    /// <summary>The rendered pattern in JSON, shortened for a message.</summary>
    public string PatternText => PyValues.Short(Pattern);

    public override string ToString() =>
        $"criterion {Criterion.Key} ({Criterion.WrittenType}) did not hold: {Reason} (value: {PyValues.Short(Value)}, pattern: {PyValues.Short(Pattern)})";
}

/// <summary>What evaluating a rule against an event gave: whether it matched, and the action's parameters when it did.</summary>
public sealed record RuleEvaluation(bool Matched, CriterionFailure? Failure, JsonObject? Parameters, string? ParameterError);

/// <summary>
/// Applies a rule's criteria to an event's payload and renders its action parameters, as StackStorm's rule filter
/// and enforcer do. Pure: it reads the clock it is given and the template context the caller builds (the payload
/// as <c>trigger</c>, the datastore as <c>kv</c>), and touches nothing else, so <c>rule test</c> and the engine agree.
/// </summary>
public sealed class RuleEvaluator(ITemplateRenderer templates, TimeProvider time)
{
    /// <summary>
    /// The template context for an event: <c>trigger</c> is the payload; <paramref name="kv"/> (the datastore as
    /// templates see it) is reachable as <c>kv</c>, and as <c>st2kv</c> so StackStorm rules read the same.
    /// </summary>
    public static JsonObject Context(JsonObject payload, JsonObject? kv)
    {
        ArgumentNullException.ThrowIfNull(payload);
        var context = new JsonObject { ["trigger"] = payload.DeepClone() };
        if (kv is not null)
        {
            context["kv"] = kv.DeepClone();
            context["st2kv"] = kv.DeepClone();
        }

        return context;
    }

    /// <summary>Evaluates the criteria, then (when they hold) renders the parameters.</summary>
    public RuleEvaluation Evaluate(RuleDefinition rule, JsonObject context)
    {
        ArgumentNullException.ThrowIfNull(rule);
        ArgumentNullException.ThrowIfNull(context);
        if (Check(rule.Criteria, context) is { } failure)
        {
            return new RuleEvaluation(false, failure, null, null);
        }

        try
        {
            return new RuleEvaluation(true, null, RenderParameters(rule.ActionParameters, context), null);
        }
        catch (TemplateException ex)
        {
            return new RuleEvaluation(true, null, null, $"the action parameters do not render: {ex.Message}");
        }
    }

    /// <summary>The first criterion that does not hold, or null when all hold.</summary>
    public CriterionFailure? Check(IReadOnlyList<Criterion> criteria, JsonObject context)
    {
        ArgumentNullException.ThrowIfNull(criteria);
        ArgumentNullException.ThrowIfNull(context);
        if (criteria.Count == 0)
        {
            return null;
        }

        var payload = context["trigger"];
        if (payload is null or JsonObject { Count: 0 })
        {
            // StackStorm: a rule with criteria never matches an event with an empty payload.
            return new CriterionFailure(criteria[0], null, null, "the event's payload is empty, and a rule with criteria never matches an empty payload");
        }

        foreach (var criterion in criteria)
        {
            if (CheckOne(criterion, context) is { } failure)
            {
                return failure;
            }
        }

        return null;
    }

    private CriterionFailure? CheckOne(Criterion criterion, JsonObject context)
    {
        var root = context[criterion.Path.Root];
        var value = context.ContainsKey(criterion.Path.Root) ? criterion.Path.Find(root) : null;
        JsonNode? pattern;
        try
        {
            pattern = criterion.Type == "search" ? criterion.Pattern : RenderPattern(criterion.Pattern, context);
        }
        catch (TemplateException ex)
        {
            return new CriterionFailure(criterion, value, criterion.Pattern, $"the pattern does not render: {ex.Message}");
        }

        if (criterion.Type == "search")
        {
            return Search(criterion, value, context);
        }

        var outcome = CriteriaOperators.Apply(criterion.Type, value, pattern, time.GetUtcNow());
        return outcome.Holds ? null : new CriterionFailure(criterion, value, pattern, outcome.Detail);
    }

    /// <summary>
    /// StackStorm's <c>search</c>: the value is a list; each item is checked against every child criterion (keys on
    /// <c>item.…</c>). any: some item meets all; all: every item meets all; any2any: some item meets some;
    /// all2any: every item meets some. As in Python, <c>all</c> of an empty list holds and <c>any</c> does not.
    /// </summary>
    private CriterionFailure? Search(Criterion criterion, JsonNode? value, JsonObject context)
    {
        if (value is not JsonArray items)
        {
            return new CriterionFailure(criterion, value, null, $"search needs a list, but the value is {PyValues.Describe(value)}");
        }

        var everyChild = criterion.Condition is "any" or "all";
        var everyItem = criterion.Condition is "all" or "all2any";
        var results = new List<bool>(items.Count);

        // The item is lent to the context for its checks (so child patterns can use it too), then the context is
        // put back as it was: cheaper than copying the whole context, datastore included, for every item.
        var hadItem = context.TryGetPropertyValue("item", out var previous);
        context.Remove("item");
        try
        {
            foreach (var item in items)
            {
                context["item"] = item?.DeepClone();
                var childResults = criterion.Children.Select(child => CheckOne(child, context) is null);
                results.Add(everyChild ? childResults.All(r => r) : childResults.Any(r => r));
                context.Remove("item");
            }
        }
        finally
        {
            context.Remove("item");
            if (hadItem)
            {
                context["item"] = previous;
            }
        }

        var holds = everyItem ? results.TrueForAll(r => r) : results.Exists(r => r);
        if (holds)
        {
            return null;
        }

        var matched = results.Count(r => r);
        var reason = criterion.Condition switch
        {
            "any" => $"no item of the list meets every child criterion ({items.Count} item(s))",
            "all" => $"{items.Count - matched} of {items.Count} item(s) do not meet every child criterion",
            "any2any" => $"no item of the list meets any child criterion ({items.Count} item(s))",
            _ => $"{items.Count - matched} of {items.Count} item(s) meet no child criterion",
        };
        return new CriterionFailure(criterion, value, null, reason);
    }

    /// <summary>A text pattern is a template (a single expression keeps its type: a number stays a number); other patterns are used as written.</summary>
    private JsonNode? RenderPattern(JsonNode? pattern, JsonObject context) =>
        PyValues.Kind(pattern) == JsonValueKind.String ? templates.Evaluate(pattern!.GetValue<string>(), context) : pattern?.DeepClone();

    /// <summary>Renders every text in the parameters (nested too); a field that is one expression keeps its type.</summary>
    public JsonObject RenderParameters(JsonObject parameters, JsonObject context)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        ArgumentNullException.ThrowIfNull(context);
        return (JsonObject)Render(parameters, context)!;
    }

    private JsonNode? Render(JsonNode? node, JsonObject context)
    {
        switch (node)
        {
            case JsonObject obj:
                var o = new JsonObject();
                foreach (var (key, value) in obj)
                {
                    o[key] = Render(value, context);
                }

                return o;
            case JsonArray arr:
                return new JsonArray([.. arr.Select(v => Render(v, context))]);
            case JsonValue v when v.GetValueKind() == JsonValueKind.String:
                return templates.Evaluate(v.GetValue<string>(), context);
            default:
                return node?.DeepClone();
        }
    }
}
