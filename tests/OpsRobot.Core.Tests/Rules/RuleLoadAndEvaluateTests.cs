using System.Text.Json.Nodes;
using OpsRobot.Core.Packs;
using OpsRobot.Core.Rules;
using OpsRobot.Core.Templates;
using OpsRobot.Testing;

namespace OpsRobot.Core.Tests.Rules;

public sealed class RuleLoadAndEvaluateTests : IDisposable
{
    private static readonly PackLoader Loader = new(
        new OpsRobot.Core.Actions.RunnerCatalog([new Support.NamedRunner("noop")]),
        new TemplateRenderer());

    private readonly TempDirectory _dir = new("opsrobot-rules");
    private readonly TestTimeProvider _time = new(new DateTimeOffset(2026, 11, 21, 12, 0, 0, TimeSpan.Zero));

    public void Dispose() => _dir.Dispose();

    private RuleDefinition Load(string yaml)
    {
        var file = _dir.Write("rule.yaml", yaml);
        var (rule, errors) = Loader.LoadRuleFile(file);
        errors.ShouldBeEmpty();
        return rule.ShouldNotBeNull();
    }

    private IReadOnlyList<PackError> Errors(string yaml)
    {
        var file = _dir.Write("bad.yaml", yaml);
        var (rule, errors) = Loader.LoadRuleFile(file);
        rule.ShouldBeNull();
        errors.ShouldNotBeEmpty();
        return errors;
    }

    private RuleEvaluation Evaluate(RuleDefinition rule, string payload, JsonObject? kv = null) =>
        new RuleEvaluator(new TemplateRenderer(), _time).Evaluate(rule, RuleEvaluator.Context((JsonObject)JsonNode.Parse(payload)!, kv));

    private const string DiskRule = """
        name: disk_full
        pack: ops
        description: Clean up when a disk fills.
        enabled: true
        trigger:
          type: core.st2.webhook
          parameters:
            url: alerts
        criteria:
          trigger.body.severity:
            type: inside
            pattern: [critical, major]
          trigger.body.used_percent:
            type: gt
            pattern: "{{ kv.system.disk_limit }}"
          trigger.body.host:
            type: matchwildcard
            pattern: "db-*"
        action:
          ref: ops.cleanup
          parameters:
            host: "{{ trigger.body.host }}"
            percent: "{{ trigger.body.used_percent }}"
            note: "{{ trigger.body.host }} at {{ trigger.body.used_percent }}%"
            nested:
              list: ["{{ trigger.body.severity | upper }}", 3]
        """;

    [Fact]
    public void LoadRuleFile_StackStormLayout_ReadsEveryField()
    {
        var rule = Load(DiskRule);

        rule.Ref.ShouldBe("ops.disk_full");
        rule.Identity.ShouldBe("rule:ops.disk_full");
        rule.TriggerType.ShouldBe("core.webhook");
        rule.TriggerParameters["url"]!.GetValue<string>().ShouldBe("alerts");
        rule.Criteria.Select(c => (c.Key, c.Type)).ShouldBe([
            ("trigger.body.severity", "inside"), ("trigger.body.used_percent", "greaterthan"), ("trigger.body.host", "matchwildcard")]);
        rule.Criteria[1].WrittenType.ShouldBe("gt");
        rule.ActionRef.ShouldBe("ops.cleanup");
        rule.Description.ShouldBe("Clean up when a disk fills.");
    }

    [Fact]
    public void Evaluate_AllCriteriaHold_RendersParametersKeepingTypes()
    {
        var rule = Load(DiskRule);

        var result = Evaluate(rule, """{"body": {"severity": "critical", "used_percent": 97, "host": "db-1"}}""",
            new JsonObject { ["system"] = new JsonObject { ["disk_limit"] = "90" } });

        result.Matched.ShouldBeTrue(result.Failure?.ToString());
        result.Parameters!.ToJsonString().ShouldBe("""{"host":"db-1","percent":97,"note":"db-1 at 97%","nested":{"list":["CRITICAL",3]}}""");
    }

    [Fact]
    public void Evaluate_OneCriterionFails_NamesItWithValueAndPattern()
    {
        var rule = Load(DiskRule);

        var result = Evaluate(rule, """{"body": {"severity": "critical", "used_percent": 50, "host": "db-1"}}""",
            new JsonObject { ["system"] = new JsonObject { ["disk_limit"] = "90" } });

        result.Matched.ShouldBeFalse();
        result.Failure!.Criterion.Key.ShouldBe("trigger.body.used_percent");
        result.Failure.Value!.ToJsonString().ShouldBe("50");
        result.Failure.Pattern!.ToJsonString().ShouldBe("\"90\"");
        result.Failure.ToString().ShouldContain("is not greater than");
    }

    [Fact]
    public void Evaluate_CriteriaAndEmptyPayload_NeverMatches()
    {
        var rule = Load("name: r\ntrigger: {type: core.webhook, parameters: {url: x}}\ncriteria:\n  trigger.a: {type: nexists}\naction: {ref: a.b}\n");

        var result = Evaluate(rule, "{}");

        result.Matched.ShouldBeFalse();
        result.Failure!.Reason.ShouldContain("empty");
    }

    [Fact]
    public void Evaluate_NoCriteria_AlwaysMatches()
    {
        var rule = Load("name: r\ntrigger: {type: core.webhook, parameters: {url: x}}\naction: {ref: a.b, parameters: {x: \"{{ trigger.y }}\"}}\n");

        var result = Evaluate(rule, "{}");

        result.Matched.ShouldBeTrue();

        // A lone expression keeps its type; an undefined one is null, so the action's default applies.
        result.Parameters!.ContainsKey("x").ShouldBeTrue();
        result.Parameters["x"].ShouldBeNull();
    }

    [Fact]
    public void Evaluate_ParameterTemplateFails_MatchesButReportsTheError()
    {
        var rule = Load("name: r\ntrigger: {type: core.webhook, parameters: {url: x}}\naction: {ref: a.b, parameters: {x: \"{{ 1 / 0 }}\"}}\n");

        var result = Evaluate(rule, """{"a": 1}""");

        result.Matched.ShouldBeTrue();
        result.Parameters.ShouldBeNull();
        result.ParameterError.ShouldNotBeNull().ShouldContain("do not render");
    }

    private const string SearchRule = """
        name: jira
        trigger: {type: core.webhook, parameters: {url: jira}}
        criteria:
          trigger.fields:
            type: search
            condition: {0}
            pattern:
              item.field_name:
                type: equals
                pattern: Status
              item.to_value:
                type: equals
                pattern: Approved
        action: {ref: a.b}
        """;

    [Theory]
    [InlineData("any", """[{"field_name":"Status","to_value":"Approved"},{"field_name":"x","to_value":"y"}]""", true, "one item meets both")]
    [InlineData("any", """[{"field_name":"Status","to_value":"Open"},{"field_name":"x","to_value":"Approved"}]""", false, "no item meets both")]
    [InlineData("all", """[{"field_name":"Status","to_value":"Approved"},{"field_name":"Status","to_value":"Approved"}]""", true, "every item meets both")]
    [InlineData("all", """[{"field_name":"Status","to_value":"Approved"},{"field_name":"Status","to_value":"Open"}]""", false, "one item misses one")]
    [InlineData("any2any", """[{"field_name":"Status","to_value":"Open"},{"field_name":"x","to_value":"y"}]""", true, "one item meets one")]
    [InlineData("any2any", """[{"field_name":"a","to_value":"b"}]""", false, "nothing meets anything")]
    [InlineData("all2any", """[{"field_name":"Status","to_value":"Open"},{"field_name":"x","to_value":"Approved"}]""", true, "every item meets one")]
    [InlineData("all2any", """[{"field_name":"Status","to_value":"Open"},{"field_name":"x","to_value":"y"}]""", false, "one item meets none")]
    [InlineData("all", "[]", true, "all() of nothing holds, as in Python")]
    [InlineData("any", "[]", false, "any() of nothing does not")]
    [InlineData("any", "\"not a list\"", false, "search needs a list")]
    public void Evaluate_Search_FollowsItsCondition(string condition, string fields, bool expected, string why)
    {
        var rule = Load(SearchRule.Replace("{0}", condition, StringComparison.Ordinal));

        var result = Evaluate(rule, $$"""{"fields": {{fields}}}""");

        result.Matched.ShouldBe(expected, why);
    }

    [Fact]
    public void Evaluate_ChildPatternTemplate_SeesTheItemAndThePayload()
    {
        var rule = Load("""
            name: r
            trigger: {type: core.webhook, parameters: {url: x}}
            criteria:
              trigger.hosts:
                type: search
                condition: any
                pattern:
                  item.name:
                    type: equals
                    pattern: "{{ trigger.wanted }}"
            action: {ref: a.b}
            """);

        Evaluate(rule, """{"wanted": "db2", "hosts": [{"name": "db1"}, {"name": "db2"}]}""").Matched.ShouldBeTrue();
        Evaluate(rule, """{"wanted": "db3", "hosts": [{"name": "db1"}, {"name": "db2"}]}""").Matched.ShouldBeFalse();
    }

    [Fact]
    public void Evaluate_TimeDiff_UsesTheInjectedClock()
    {
        var rule = Load("name: r\ntrigger: {type: core.webhook, parameters: {url: x}}\ncriteria:\n  trigger.at: {type: td_lt, pattern: 300}\naction: {ref: a.b}\n");
        const string payload = """{"at": "2026-11-21T11:58:00Z"}""";

        Evaluate(rule, payload).Matched.ShouldBeTrue();
        _time.Advance(TimeSpan.FromMinutes(5));
        Evaluate(rule, payload).Matched.ShouldBeFalse();
    }

    [Theory]
    [InlineData("name: r\ntrigger: {type: core.webhook, parameters: {url: x}}\ncriteria:\n  trigger.a: {type: equal, pattern: 1}\naction: {ref: a.b}\n", 4, "unknown criteria operator 'equal'")]
    [InlineData("name: r\ntrigger: {type: core.webhook, parameters: {url: x}}\ncriteria:\n  payload.a: {type: eq, pattern: 1}\naction: {ref: a.b}\n", 4, "must start with 'trigger.'")]
    [InlineData("name: r\ntrigger: {type: core.webhook, parameters: {url: x}}\ncriteria:\n  trigger.a: {type: regex, pattern: '(oops'}\naction: {ref: a.b}\n", 4, "not valid for regex")]
    [InlineData("name: r\ntrigger: {type: core.webhook, parameters: {url: x}}\ncriteria:\n  trigger.a: {type: eq, pattern: '{{ oops'}\naction: {ref: a.b}\n", 4, "does not parse as a template")]
    [InlineData("name: r\ntrigger: {type: core.webhook, parameters: {url: x}}\ncriteria:\n  trigger.a: {type: eq}\naction: {ref: a.b}\n", 4, "needs a 'pattern'")]
    [InlineData("name: r\ntrigger: {type: core.webhook, parameters: {url: x}}\ncriteria:\n  trigger.a: {type: search, condition: some, pattern: {item.x: {type: eq, pattern: 1}}}\naction: {ref: a.b}\n", 4, "search condition 'some'")]
    [InlineData("name: r\ntrigger: {type: core.webhook, parameters: {url: x}}\ncriteria:\n  trigger.a: {type: search, condition: any, pattern: {trigger.x: {type: eq, pattern: 1}}}\naction: {ref: a.b}\n", 4, "must start with 'item.'")]
    [InlineData("name: r\ntrigger: {type: core.webhook}\naction: {ref: a.b}\n", 2, "trigger parameter 'url' is required")]
    [InlineData("name: r\ntrigger: {type: core.nothing}\naction: {ref: a.b}\n", 2, "unknown core trigger")]
    [InlineData("name: r\ntrigger: {type: nodots}\naction: {ref: a.b}\n", 2, "neither a built-in trigger")]
    [InlineData("name: r\naction: {ref: a.b}\n", 1, "missing required field 'trigger'")]
    [InlineData("name: r\ntrigger: {type: core.webhook, parameters: {url: x}}\n", 1, "missing required field 'action'")]
    [InlineData("name: r\ntrigger: {type: core.webhook, parameters: {url: x}}\naction: {ref: noaction}\n", 3, "must be pack.action")]
    [InlineData("name: r\ntrigger: {type: core.webhook, parameters: {url: x}}\naction: {ref: a.b, parameters: {x: '{% if %}'}}\n", 3, "does not parse as a template")]
    [InlineData("name: 'bad name'\ntrigger: {type: core.webhook, parameters: {url: x}}\naction: {ref: a.b}\n", 1, "rule name 'bad name' is not valid")]
    [InlineData("trigger: {type: core.webhook, parameters: {url: x}}\naction: {ref: a.b}\n", 1, "missing required field 'name'")]
    [InlineData("name: r\nenabled: perhaps\ntrigger: {type: core.webhook, parameters: {url: x}}\naction: {ref: a.b}\n", 2, "must be true or false")]
    [InlineData("- a list\n", 1, "expected a mapping")]
    public void LoadRuleFile_Broken_NamesFileLineAndField(string yaml, int line, string message)
    {
        var errors = Errors(yaml);

        errors.ShouldContain(e => e.Message.Contains(message, StringComparison.Ordinal) && e.Line == line && e.File.EndsWith("bad.yaml", StringComparison.Ordinal),
            string.Join("\n", errors));
    }

    [Fact]
    public void LoadOne_PackWithRules_LoadsThemAndRefusesAWrongPackField()
    {
        _dir.Write("p/pack.yaml", "name: ops\nversion: 1\ndescription: d\n");
        _dir.Write("p/rules/a.yaml", "name: a\ntrigger: {type: core.interval_timer, parameters: {unit: seconds, delta: 30}}\naction: {ref: ops.x}\n");
        _dir.Write("p/rules/b.yml", "name: b\npack: ops\nenabled: false\ntrigger: {type: core.st2.CronTimer, parameters: {expression: '0 * * * *'}}\naction: {ref: ops.x}\n");

        var (pack, errors) = Loader.LoadOne(_dir.Combine("p"));

        errors.ShouldBeEmpty();
        pack!.Rules.Select(r => (r.Ref, r.TriggerType, r.Enabled)).ShouldBe([("ops.a", "core.interval_timer", true), ("ops.b", "core.cron_timer", false)]);
        new PackLoadResult([pack], []).Rules.Count.ShouldBe(2);

        _dir.Write("p/rules/c.yaml", "name: c\npack: other\ntrigger: {type: core.webhook, parameters: {url: x}}\naction: {ref: ops.x}\n");
        var (refused, problems) = Loader.LoadOne(_dir.Combine("p"));
        refused.ShouldBeNull();
        problems.ShouldContain(e => e.Message.Contains("field 'pack' says 'other'", StringComparison.Ordinal));
    }

    [Fact]
    public void LoadOne_SameRuleNameTwice_IsAnError()
    {
        _dir.Write("p/pack.yaml", "name: ops\nversion: 1\ndescription: d\n");
        _dir.Write("p/rules/a.yaml", "name: a\ntrigger: {type: core.webhook, parameters: {url: x}}\naction: {ref: ops.x}\n");
        _dir.Write("p/rules/b.yaml", "name: a\ntrigger: {type: core.webhook, parameters: {url: y}}\naction: {ref: ops.x}\n");

        var (pack, errors) = Loader.LoadOne(_dir.Combine("p"));

        pack.ShouldBeNull();
        errors.ShouldContain(e => e.Message.Contains("defined twice", StringComparison.Ordinal));
    }
}
