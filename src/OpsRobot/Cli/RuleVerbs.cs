using System.CommandLine;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using OpsRobot.Core.Actions;
using OpsRobot.Core.Packs;
using OpsRobot.Core.Rules;
using OpsRobot.Core.Templates;

namespace OpsRobot.Cli;

/// <summary>
/// <c>opsrobot rule test --rule FILE --event FILE [--kv FILE]</c>: whether a rule would fire for an event, offline, as
/// StackStorm's <c>st2-rule-tester</c>. Exit 0 when it would fire (the rendered action parameters on standard
/// output), 1 when it would not (which criterion failed and why), 2 when a file is missing or broken.
/// </summary>
internal static class RuleVerbs
{
    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static void Add(RootCommand root)
    {
        var ruleFile = new Option<string>("--rule") { Description = "The rule file (StackStorm's layout: name, trigger, criteria, action)", Required = true };
        var eventFile = new Option<string>("--event") { Description = "The event file: JSON with 'trigger' and 'payload', as st2-rule-tester takes it", Required = true };
        var kvFile = new Option<string?>("--kv") { Description = "Datastore values the templates read, as JSON: {\"system\": {…}, \"user\": {…}}" };
        var test = new Command("test", "Tell whether a rule would fire for an event and with what parameters; exit 0 if it would, 1 if not.")
        {
            ruleFile, eventFile, kvFile,
        };
        test.SetAction(r => Test(r.GetValue(ruleFile)!, r.GetValue(eventFile)!, r.GetValue(kvFile), Console.Out, Console.Error, TimeProvider.System));
        root.Subcommands.Add(new Command("rule", "Work with rules.") { test });
    }

    /// <summary>The verb's work, on the given writers and clock so tests can drive it in process.</summary>
    internal static int Test(string ruleFile, string eventFile, string? kvFile, TextWriter output, TextWriter error, TimeProvider time)
    {
        var templates = new TemplateRenderer();
        var loader = new PackLoader(new RunnerCatalog([]), templates);
        if (!File.Exists(ruleFile))
        {
            error.WriteLine($"opsrobot: the rule file {Path.GetFullPath(ruleFile)} does not exist.");
            return 2;
        }

        var (rule, errors) = loader.LoadRuleFile(ruleFile);
        if (rule is null)
        {
            foreach (var e in errors)
            {
                error.WriteLine($"error  {e}");
            }

            error.WriteLine("opsrobot: the rule does not load; fix the errors above.");
            return 2;
        }

        if (ReadJson(eventFile, "event", error) is not { } eventText)
        {
            return 2;
        }

        RuleTestEvent ev;
        try
        {
            ev = RuleTestEvent.Parse(eventText);
        }
        catch (FormatException ex)
        {
            error.WriteLine($"opsrobot: {eventFile}: {ex.Message}");
            return 2;
        }

        JsonObject? kv = null;
        if (kvFile is not null)
        {
            if (ReadJson(kvFile, "datastore", error) is not { } kvText)
            {
                return 2;
            }

            try
            {
                kv = JsonNode.Parse(kvText) as JsonObject ?? throw new JsonException("expected a JSON object");
            }
            catch (JsonException ex)
            {
                error.WriteLine($"opsrobot: {kvFile}: the datastore values must be a JSON object such as {{\"system\": {{\"limit\": \"90\"}}}}: {ex.Message}");
                return 2;
            }
        }

        if (!rule.Enabled)
        {
            output.WriteLine($"Rule {rule.Ref} is disabled (enabled: false), so it would not fire.");
            return 1;
        }

        if (ev.CanonicalTrigger != rule.TriggerType)
        {
            output.WriteLine($"Rule {rule.Ref} would not fire: it listens to {rule.TriggerType}, and the event is a {ev.Trigger}.");
            return 1;
        }

        var evaluation = new RuleEvaluator(templates, time).Evaluate(rule, RuleEvaluator.Context(ev.Payload, kv));
        if (!evaluation.Matched)
        {
            var f = evaluation.Failure!;
            output.WriteLine($"Rule {rule.Ref} would not fire.");
            output.WriteLine($"  criterion: {f.Criterion.Key} ({f.Criterion.WrittenType})");
            output.WriteLine($"  value:     {f.ValueText}");
            output.WriteLine($"  pattern:   {f.PatternText}");
            output.WriteLine($"  why:       {f.Reason}");
            return 1;
        }

        if (evaluation.ParameterError is { } problem)
        {
            output.WriteLine($"Rule {rule.Ref} matches, but its action would not start: {problem}");
            return 1;
        }

        output.WriteLine($"Rule {rule.Ref} would fire: action {rule.ActionRef} as {rule.Identity}, with parameters:");
        output.WriteLine(evaluation.Parameters!.ToJsonString(Json));
        return 0;
    }

    private static string? ReadJson(string file, string what, TextWriter error)
    {
        try
        {
            var info = new FileInfo(file);
            if (!info.Exists)
            {
                error.WriteLine($"opsrobot: the {what} file {info.FullName} does not exist.");
                return null;
            }

            if (info.Length > RuleTestEvent.MaxBytes)
            {
                error.WriteLine($"opsrobot: the {what} file {info.FullName} is larger than {RuleTestEvent.MaxBytes / (1024 * 1024)} MiB.");
                return null;
            }

            return File.ReadAllText(file);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            error.WriteLine($"opsrobot: cannot read the {what} file {file}: {ex.Message}");
            return null;
        }
    }
}
