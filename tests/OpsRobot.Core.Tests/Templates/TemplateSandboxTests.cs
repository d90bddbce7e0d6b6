using System.Diagnostics;
using System.Text.Json.Nodes;
using OpsRobot.Core.Templates;
using static OpsRobot.Core.Tests.Templates.TemplateTestData;

namespace OpsRobot.Core.Tests.Templates;

/// <summary>
/// Hostile templates hit a limit, fail with an error that names it, and fail fast (the bound on time is generous:
/// it is there to catch a hang, not to measure speed).
/// </summary>
public sealed class TemplateSandboxTests
{
    private static readonly TimeSpan Fast = TimeSpan.FromSeconds(5);

    private static TemplateException Hostile(string template, TemplateRenderer? renderer = null)
    {
        var stopwatch = Stopwatch.StartNew();
        var error = Should.Throw<TemplateException>(() => (renderer ?? Renderer).Render(template, Context()));
        stopwatch.Elapsed.ShouldBeLessThan(Fast, template.Length > 80 ? template[..80] : template);
        return error;
    }

    [Theory]
    [InlineData("a billion-item range", "{% for i in range(1000000000) %}{% endfor %}")]
    [InlineData("a range as large as it gets", "{{ range(-9223372036854775807, 9223372036854775807) | length }}")]
    [InlineData("two nested loops", "{% for i in range(1000) %}{% for j in range(1000) %}{{ '' }}{% endfor %}{% endfor %}")]
    [InlineData("three nested loops", "{% for i in range(100) %}{% for j in range(100) %}{% for k in range(100) %}{% endfor %}{% endfor %}{% endfor %}")]
    [InlineData("list repetition", "{{ [1] * 1000000000 }}")]
    [InlineData("a filter over a big list", "{{ range(60000) | map('string') | join }}")]
    [InlineData("a regex replacing every character", "{{ ('x' * 200000) | regex_replace('x', 'y') }}")]
    public void Render_RunawayWork_HitsTheStepLimit(string row, string template)
    {
        Hostile(template).Message.ShouldStartWith("step limit of 100000 exceeded at line 1, column ", customMessage: row);
    }

    [Fact]
    public void Render_StepLimit_IsConfigurable()
    {
        var small = new TemplateRenderer(new TemplateOptions { MaxSteps = 50 });

        small.Render("{% for i in range(10) %}{{ i }}{% endfor %}", new JsonObject()).ShouldBe("0123456789");
        Hostile("{% for i in range(100) %}{{ i }}{% endfor %}", small).Message.ShouldStartWith("step limit of 50 exceeded");
    }

    [Fact]
    public void Render_HugeStringRepeat_FailsBeforeAllocating()
    {
        var before = GC.GetAllocatedBytesForCurrentThread();

        var error = Hostile("{{ 'x' * 100000000 }}");

        error.Message.ShouldBe("output limit of 1000000 characters exceeded at line 1, column 8: the template builds too much text; see TemplateOptions.MaxOutputLength");
        (GC.GetAllocatedBytesForCurrentThread() - before).ShouldBeLessThan(20_000_000);
    }

    [Theory]
    [InlineData("~ concatenation", "{{ s ~ s }}")]
    [InlineData("+ concatenation", "{{ s + s }}")]
    [InlineData("join", "{{ [s, s] | join }}")]
    [InlineData("replace that grows", "{{ s | replace('x', 'xx') }}")]
    [InlineData("method replace that grows", "{{ s.replace('x', 'xx') }}")]
    [InlineData("regex_replace that grows", "{{ s[:1000] | regex_replace('x', s[:2000]) }}")]
    [InlineData("regex_replace that repeats a group", "{{ s | regex_replace('(x+)', '\\1\\1') }}")]
    [InlineData("indent that grows", "{{ (s | replace('x', '\\n', 100000)) | indent(20) }}")]
    [InlineData("output accumulated by a loop", "{% for i in range(2) %}{{ s }}{% endfor %}")]
    [InlineData("a captured block", "{% set t %}{{ s }}{{ s }}{% endset %}")]
    [InlineData("repr of a big list", "{{ [s, s] }}")]
    [InlineData("tojson of a big list", "{{ [s, s] | tojson }}")]
    public void Render_GrowingText_HitsTheOutputLimit(string row, string template)
    {
        var error = Hostile("{% set s = 'x' * 600000 %}" + template);

        error.Message.ShouldStartWith("output limit of 1000000 characters exceeded", customMessage: row);
    }

    public static TheoryData<string, string> DeeplyNested() => new()
    {
        { "10,000 brackets", "{{ " + new string('(', 10_000) + "1" + new string(')', 10_000) + " }}" },
        { "10,000 nested lists", "{{ " + new string('[', 10_000) + new string(']', 10_000) + " }}" },
        { "10,000 nested dicts", "{{ " + string.Concat(Enumerable.Repeat("{'a': ", 10_000)) + "1" + new string('}', 10_000) + " }}" },
        { "10,000 nots", "{{ " + string.Concat(Enumerable.Repeat("not ", 10_000)) + "x }}" },
        { "10,000 minus signs", "{{ " + string.Concat(Enumerable.Repeat("- ", 10_000)) + "1 }}" },
        { "10,000 additions", "{{ 1" + string.Concat(Enumerable.Repeat(" + 1", 10_000)) + " }}" },
        { "10,000 filters", "{{ x" + string.Concat(Enumerable.Repeat(" | upper", 10_000)) + " }}" },
        { "10,000 attributes", "{{ x" + string.Concat(Enumerable.Repeat(".a", 10_000)) + " }}" },
        { "10,000 nested subscripts", "{{ " + string.Concat(Enumerable.Repeat("a[", 10_000)) + "0" + new string(']', 10_000) + " }}" },
        { "10,000 nested calls", "{{ " + string.Concat(Enumerable.Repeat("len(", 10_000)) + "x" + new string(')', 10_000) + " }}" },
        { "10,000 conditionals", "{{ 1" + string.Concat(Enumerable.Repeat(" if x else 1", 10_000)) + " }}" },
    };

    [Theory]
    [MemberData(nameof(DeeplyNested))]
    public void Check_DeeplyNestedExpression_HitsTheDepthLimitWithoutOverflowingTheStack(string row, string template)
    {
        var stopwatch = Stopwatch.StartNew();

        var error = Renderer.Check(template);

        stopwatch.Elapsed.ShouldBeLessThan(Fast, row);
        error.ShouldNotBeNull(row);
        error.Message.ShouldContain("nested deeper than the depth limit of 64", customMessage: row);
        error.Line.ShouldBe(1, row);
    }

    [Fact]
    public void Check_DeeplyNestedBlocks_HitTheDepthLimit()
    {
        var template = string.Concat(Enumerable.Repeat("{% if true %}", 10_000)) + string.Concat(Enumerable.Repeat("{% endif %}", 10_000));

        var error = Renderer.Check(template);

        error.ShouldNotBeNull();
        error.Message.ShouldStartWith("blocks nested deeper than the depth limit of 64 at line 1, column 833");
    }

    [Fact]
    public void Check_NestingWithinTheLimit_Parses()
    {
        Renderer.Check("{{ " + new string('(', 30) + "1" + new string(')', 30) + " }}").ShouldBeNull();
        Renderer.Check(string.Concat(Enumerable.Repeat("{% if true %}", 30)) + string.Concat(Enumerable.Repeat("{% endif %}", 30))).ShouldBeNull();
    }

    [Theory]
    [InlineData("printing", "{{ x }}")]
    [InlineData("tojson", "{{ x | tojson }}")]
    [InlineData("comparing", "{{ x == x }}")]
    [InlineData("unique", "{{ [x] | unique }}")]
    public void Render_ValueNestedAtRuntime_HitsTheDepthLimit(string row, string use)
    {
        var template = "{% set x = [] %}{% for i in range(100) %}{% set x = [x] %}{% if loop.last %}" + use + "{% endif %}{% endfor %}";

        Hostile(template).Message.ShouldStartWith("value nested deeper than the depth limit of 64", customMessage: row);
    }

    [Fact]
    public void Evaluate_ValueNestedAtRuntime_HitsTheDepthLimit()
    {
        const string template = "{{ range(100) | map('string') | list }}";
        Renderer.Evaluate(template, Context()).ShouldBeOfType<JsonArray>().Count.ShouldBe(100);

        var error = Should.Throw<TemplateException>(() => Renderer.Evaluate("{{ ('[' * 100 ~ ']' * 100) | fromjson }}", Context()));

        error.Message.ShouldStartWith("filter 'fromjson': the text is not valid JSON at line 1, column 30");
    }

    [Fact]
    public void Render_CatastrophicRegex_TimesOut()
    {
        var error = Hostile("{{ ('a' * 40 ~ '!') | regex_match('(a+)+$') }}");

        error.Message.ShouldBe("regular expression timed out after 100 ms at line 1, column 23: simplify the pattern; see TemplateOptions.RegexTimeout");
    }

    [Fact]
    public void Render_LongRegex_IsRefused()
    {
        var error = Hostile("{{ 'x' | regex_search('a' * 2000) }}");

        error.Message.ShouldBe("regular expression longer than 1000 characters at line 1, column 10: see TemplateOptions.MaxRegexLength");
    }

    [Theory]
    [InlineData("Python class walk", "{{ ''.__class__.__mro__[1].__subclasses__() }}")]
    [InlineData("globals through a function", "{{ range.__globals__ }}")]
    [InlineData("Flask config", "{{ config.items() }}")]
    [InlineData("self", "{{ self }}")]
    [InlineData("attribute on a number", "{{ count.real }}")]
    [InlineData("dunder item", "{{ d['__class__'] }}")]
    public void Render_PythonSandboxEscapes_FindNothing(string row, string template)
    {
        Render(template).ShouldBe(string.Empty, row);
    }

    [Fact]
    public void Renderer_OutOfRangeOptions_AreRefused()
    {
        Should.Throw<ArgumentOutOfRangeException>(() => new TemplateRenderer(new TemplateOptions { MaxSteps = 0 }));
        Should.Throw<ArgumentOutOfRangeException>(() => new TemplateRenderer(new TemplateOptions { MaxDepth = 0 }));
        Should.Throw<ArgumentOutOfRangeException>(() => new TemplateRenderer(new TemplateOptions { MaxDepth = 5000 }));
        Should.Throw<ArgumentOutOfRangeException>(() => new TemplateRenderer(new TemplateOptions { MaxOutputLength = 0 }));
        Should.Throw<ArgumentOutOfRangeException>(() => new TemplateRenderer(new TemplateOptions { MaxCacheEntries = -1 }));
        Should.Throw<ArgumentOutOfRangeException>(() => new TemplateRenderer(new TemplateOptions { RegexTimeout = TimeSpan.Zero }));
        Should.Throw<ArgumentOutOfRangeException>(() => new TemplateRenderer(new TemplateOptions { RegexTimeout = Timeout.InfiniteTimeSpan }));
    }
}
