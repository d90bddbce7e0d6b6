using System.Text.Json.Nodes;
using OpsRobot.Core.Templates;

namespace OpsRobot.Core.Tests.Fuzz;

/// <summary>
/// The template language takes text from pack authors and, through chat parameters, from anyone: whatever it is
/// given, it renders or refuses with a positioned error, within its limits, never crashing or hanging.
/// </summary>
public sealed class TemplateFuzzTests
{
    private static readonly string[] Seeds =
    [
        "Deployed {{ app }} to {{ env | default('staging') }}",
        "{% for h in hosts %}{{ loop.index }}: {{ h.name | upper }}{% if not loop.last %}, {% endif %}{% endfor %}",
        "{% if execution.status == 'succeeded' %}ok{% elif x > 3 %}{{ x * 2 }}{% else %}{{ execution.error }}{% endif %}",
        "{% set total = items | map(attribute='n') | sum %}{{ total }} of {{ items | length }}",
        "<% ctx().x %> and <% ctx(y) %>",
        "{{ hosts | selectattr('up') | map(attribute='name') | join(', ') }}",
        "{{ range(1, 10, 3) | list }} {{ 'a,b' .split(',') }} {{ {'k': [1, 2.5, none, true]} | tojson }}",
        "{{ text | regex_replace('[0-9]+', '#') | truncate(20) }} {{ x ~ y }} {{ not a and (b or c) }}",
        "{%- for k, v in d.items() -%}{{ k }}={{ v }}{%- endfor %}{# a comment #}",
    ];

    private static readonly string[] Tokens =
    [
        "{{", "}}", "{%", "%}", "{#", "#}", "<%", "%>", "{%-", "-%}", " for ", " in ", " if ", " elif ", " else ", " endif ",
        " endfor ", " set ", " raw ", " endraw ", "|", "(", ")", "[", "]", "{", "}", ",", ":", ".", "'", "\"", "\\",
        " and ", " or ", " not ", "==", "!=", "<=", "**", "//", "%", "~", "+", "-", "*", "/", "x", "hosts", "loop",
        "range(", "99999999999999999999", "1e308", "-0", "upper", "join", "map", "tojson", "default", "length",
        "regex_replace(", "'(a+)+$'", "ctx(", "item()", "\n", " ", "none", "true", "attribute=",
    ];

    private static JsonObject Context() => new()
    {
        ["app"] = "web",
        ["x"] = 4,
        ["y"] = "why",
        ["text"] = "abc123def456",
        ["hosts"] = new JsonArray(new JsonObject { ["name"] = "a", ["up"] = true }, new JsonObject { ["name"] = "b", ["up"] = false }),
        ["items"] = new JsonArray(new JsonObject { ["n"] = 1 }, new JsonObject { ["n"] = 2 }),
        ["d"] = new JsonObject { ["k"] = "v" },
        ["execution"] = new JsonObject { ["status"] = "failed", ["error"] = "boom" },
    };

    [Theory]
    [InlineData("mutations of valid templates", 1, true)]
    [InlineData("token soup", 2, false)]
    public void Render_AnyText_RendersOrRefusesClearly_WithinLimits(string row, int seed, bool mutate)
    {
        // A small output limit and step budget so that every bomb hits a limit quickly.
        var renderer = new TemplateRenderer(new TemplateOptions { MaxOutputLength = 100_000, MaxSteps = 50_000, MaxCacheEntries = 64 });

        var ran = Fuzzer.Run(seed, 3000,
            random => mutate ? Fuzzer.Mutate(random, Seeds[random.Next(Seeds.Length)], Tokens) : Fuzzer.Soup(random, Tokens, 40),
            source =>
            {
                foreach (var escape in new[] { TemplateEscape.None, TemplateEscape.Shell })
                {
                    try
                    {
                        var output = renderer.Render(source, Context(), escape);
                        output.Length.ShouldBeLessThanOrEqualTo(100_000, row);
                    }
                    catch (TemplateException ex)
                    {
                        Fuzzer.ShouldBeClear(ex.Message, row);
                    }
                }

                try
                {
                    _ = renderer.Evaluate(source, Context());
                }
                catch (TemplateException ex)
                {
                    Fuzzer.ShouldBeClear(ex.Message, row);
                }

                if (renderer.Check(source) is { } error)
                {
                    Fuzzer.ShouldBeClear(error.Message, row);
                }
            },
            source => source);

        ran.ShouldBeGreaterThan(100, $"{row}: too few cases ran within the time budget to mean anything");
    }

    [Theory]
    [InlineData("nested loops multiply", "{% for a in range(100000) %}{% for b in range(100000) %}x{% endfor %}{% endfor %}")]
    [InlineData("doubling a string", "{% set s = 'xxxxxxxxxx' %}{% for i in range(40) %}{% set s = s ~ s %}{% endfor %}{{ s }}")]
    [InlineData("deep parentheses", "{{ ((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((1)))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))) }}")]
    [InlineData("deep lists", "{{ [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]] }}")]
    [InlineData("deep ifs", "{% if 1 %}{% if 1 %}{% if 1 %}{% if 1 %}{% if 1 %}{% if 1 %}{% if 1 %}{% if 1 %}{% if 1 %}{% if 1 %}{% if 1 %}{% if 1 %}{% if 1 %}{% if 1 %}{% if 1 %}{% if 1 %}{% if 1 %}{% if 1 %}{% if 1 %}{% if 1 %}{% if 1 %}{% if 1 %}{% if 1 %}{% if 1 %}{% if 1 %}{% if 1 %}{% if 1 %}{% if 1 %}{% if 1 %}{% if 1 %}{% if 1 %}{% if 1 %}{% if 1 %}{% if 1 %}{% if 1 %}{% if 1 %}{% if 1 %}{% if 1 %}{% if 1 %}{% if 1 %}{% if 1 %}{% if 1 %}{% if 1 %}{% if 1 %}{% if 1 %}{% if 1 %}{% if 1 %}{% if 1 %}{% if 1 %}{% if 1 %}{% if 1 %}{% if 1 %}{% if 1 %}{% if 1 %}{% if 1 %}{% if 1 %}{% if 1 %}{% if 1 %}{% if 1 %}{% if 1 %}{% if 1 %}{% if 1 %}{% if 1 %}{% if 1 %}{% if 1 %}{% if 1 %}x")]
    [InlineData("catastrophic regex", "{{ ('a' * 5000 ~ '!') | regex_replace('(a+)+$', '') }}")]
    [InlineData("huge range", "{{ range(999999999999) | length }}")]
    [InlineData("repeat a string huge", "{{ 'x' * 999999999 }}")]
    public void Render_Bomb_EndsWithAClearLimitError(string row, string source)
    {
        var renderer = new TemplateRenderer();

        var ran = Fuzzer.Run(0, 1, _ => source, s =>
        {
            var error = Should.Throw<TemplateException>(() => renderer.Render(s, Context()), row);
            Fuzzer.ShouldBeClear(error.Message, row);
        }, s => s);

        ran.ShouldBe(1);
    }

    [Fact]
    public void Render_DeeplyNestedExpression_BeyondTheParserDepth_IsRefusedNotAStackOverflow()
    {
        // 100,000 nested parentheses: a recursive-descent parser without a depth limit dies with the process.
        var source = "{{ " + new string('(', 100_000) + "1" + new string(')', 100_000) + " }}";
        var renderer = new TemplateRenderer();

        var error = Should.Throw<TemplateException>(() => renderer.Render(source, Context()));

        Fuzzer.ShouldBeClear(error.Message, "deep nesting");
    }
}
