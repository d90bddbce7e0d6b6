using System.Text.Json.Nodes;
using OpsRobot.Core.Templates;
using static OpsRobot.Core.Tests.Templates.TemplateTestData;

namespace OpsRobot.Core.Tests.Templates;

/// <summary>The statements and delimiters: output, if, for, set, comments, raw and whitespace control.</summary>
public sealed class TemplateSyntaxTests
{
    [Theory]
    [InlineData("plain text is returned as it is", "no tags here", "no tags here")]
    [InlineData("a lone brace is text", "a { b } c < d", "a { b } c < d")]
    [InlineData("variables", "Deploying {{ app }} to {{ env }} (execution {{ execution.id }})", "Deploying web to prod (execution 5f3a9c0e)")]
    [InlineData("no spaces inside the braces", "{{app}}-{{env}}", "web-prod")]
    [InlineData("Orquesta delimiters", "<% app %> and {{ env }}", "web and prod")]
    [InlineData("a dict literal's braces do not close the tag", "{{ {'a': {'b': 1}}['a']['b'] }}", "1")]
    [InlineData("a string containing the closing delimiter", "{{ '}}' }}", "}}")]
    [InlineData("a bare tuple prints as a list", "{{ 1, 'a' }}", "[1, 'a']")]
    public void Render_Output_PrintsValues(string row, string template, string expected)
    {
        Render(template).ShouldBe(expected, row);
    }

    [Theory]
    [InlineData("if true", "{% if flag %}yes{% endif %}", "yes")]
    [InlineData("if false", "{% if off %}yes{% endif %}", "")]
    [InlineData("else", "{% if off %}yes{% else %}no{% endif %}", "no")]
    [InlineData("first elif that holds", "{% if count == 1 %}one{% elif count == 3 %}three{% elif count > 2 %}big{% else %}other{% endif %}", "three")]
    [InlineData("else after elifs", "{% if count == 1 %}one{% elif count == 2 %}two{% else %}other{% endif %}", "other")]
    [InlineData("undefined is falsy", "{% if missing %}yes{% else %}no{% endif %}", "no")]
    [InlineData("empty string is falsy", "{% if empty %}yes{% else %}no{% endif %}", "no")]
    [InlineData("empty list is falsy", "{% if [] %}yes{% else %}no{% endif %}", "no")]
    [InlineData("zero is falsy", "{% if 0.0 %}yes{% else %}no{% endif %}", "no")]
    [InlineData("nested", "{% if flag %}{% if off %}a{% else %}b{% endif %}{% endif %}", "b")]
    public void Render_If_TakesTheFirstTrueBranch(string row, string template, string expected)
    {
        Render(template).ShouldBe(expected, row);
    }

    [Fact]
    public void Render_ForLoopVariables_AreJinjas()
    {
        var text = Render("{% for x in xs %}{{ loop.index }}{{ loop.index0 }}{{ loop.revindex }}{{ loop.revindex0 }} {{ loop.first }} {{ loop.last }} {{ loop.length }};{% endfor %}");

        text.ShouldBe("1032 True False 3;2121 False False 3;3210 False True 3;");
    }

    [Theory]
    [InlineData("else runs on an empty list", "{% for x in [] %}{{ x }}{% else %}none{% endfor %}", "none")]
    [InlineData("else runs on an undefined list", "{% for x in missing %}{{ x }}{% else %}none{% endfor %}", "none")]
    [InlineData("none iterates as empty", "{% for x in nothing %}{{ x }}{% else %}none{% endfor %}", "none")]
    [InlineData("else is skipped when there are items", "{% for x in xs %}{{ x }}{% else %}none{% endfor %}", "123")]
    [InlineData("a dict iterates over its keys", "{% for k in d %}{{ k }}{% endfor %}", "ab")]
    [InlineData("a string iterates over its characters", "{% for c in 'abc' %}{{ c }}.{% endfor %}", "a.b.c.")]
    [InlineData("tuple unpacking over items()", "{% for k, v in d.items() %}{{ k }}={{ v }};{% endfor %}", "a=1;b=2;")]
    [InlineData("tuple unpacking in brackets", "{% for (k, v) in d | dictsort %}{{ k }}{{ v }}{% endfor %}", "a1b2")]
    [InlineData("filtered loop counts the kept items", "{% for x in xs if x > 1 %}{{ x }}/{{ loop.length }} {% endfor %}", "2/2 3/2 ")]
    [InlineData("inner loop shadows loop", "{% for a in [1, 2] %}{% for b in 'xy' %}{{ a }}{{ b }}{{ loop.index }} {% endfor %}{% endfor %}", "1x1 1y2 2x1 2y2 ")]
    [InlineData("previtem and nextitem", "{% for x in xs %}{{ loop.previtem }}<{{ x }}>{{ loop.nextitem }} {% endfor %}", "<1>2 1<2>3 2<3> ")]
    [InlineData("loop.cycle", "{% for x in xs %}{{ loop.cycle('odd', 'even') }} {% endfor %}", "odd even odd ")]
    [InlineData("range()", "{% for i in range(3) %}{{ i }}{% endfor %}", "012")]
    public void Render_For_IteratesAsJinja(string row, string template, string expected)
    {
        Render(template).ShouldBe(expected, row);
    }

    [Fact]
    public void Render_StackStormResultTable_RendersOneRowPerHost()
    {
        var text = Render("{% for h in execution.result.hosts %}| {{ h.name }} | {{ h.status }} |{% endfor %}");

        text.ShouldBe("| web1 | up || web2 | down |");
    }

    [Fact]
    public void Render_StackStormMultilineResult_LeavesNoBlankLinesAroundBlockTags()
    {
        const string template = """
            Result of {{ execution.id }}:
            {% for h in execution.result.hosts %}
              - {{ h.name }}: {{ h.status }}
            {% endfor %}
            {% if execution.result.stdout %}
            stdout: {{ execution.result.stdout }}
            {% endif %}
            """;

        Render(template).ShouldBe("Result of 5f3a9c0e:\n  - web1: up\n  - web2: down\nstdout: done\n");
    }

    [Theory]
    [InlineData("set then use", "{% set x = 2 * 3 %}{{ x }}", "6")]
    [InlineData("set shadows the context", "{% set app = 'api' %}{{ app }}", "api")]
    [InlineData("set in if is visible after it", "{% if flag %}{% set x = 1 %}{% endif %}{{ x }}", "1")]
    [InlineData("set in a loop does not leak out of it", "{% set x = 0 %}{% for i in xs %}{% set x = i %}{% endfor %}{{ x }}", "0")]
    [InlineData("set in a loop lasts for the rest of the loop", "{% for i in xs %}{% if loop.first %}{% set seen = 'y' %}{% endif %}{{ seen }}{% endfor %}", "yyy")]
    [InlineData("tuple assignment", "{% set a, b = 1, 2 %}{{ b }}{{ a }}", "21")]
    [InlineData("block set captures text", "{% set msg %}Hi {{ app }}!{% endset %}[{{ msg | upper }}]", "[HI WEB!]")]
    public void Render_Set_AssignsInTheCurrentScope(string row, string template, string expected)
    {
        Render(template).ShouldBe(expected, row);
    }

    [Fact]
    public void Render_Set_DoesNotModifyTheCallersContext()
    {
        var context = Context();

        Renderer.Render("{% set app = 'changed' %}{{ app }}", context).ShouldBe("changed");

        context["app"]!.GetValue<string>().ShouldBe("web");
    }

    [Theory]
    [InlineData("a comment prints nothing", "a{# note {{ x }} #}b", "ab")]
    [InlineData("a comment over several lines", "a{# one\ntwo #}b", "ab")]
    [InlineData("raw keeps delimiters as text", "{% raw %}{{ app }} {% if %}{% endraw %}", "{{ app }} {% if %}")]
    [InlineData("raw with whitespace control", "x {%- raw -%}  {{ y }}  {%- endraw -%} z", "x{{ y }}z")]
    public void Render_CommentsAndRaw_AreNotEvaluated(string row, string template, string expected)
    {
        Render(template).ShouldBe(expected, row);
    }

    [Theory]
    [InlineData("{{- strips before", "a  \n {{- app }}", "aweb")]
    [InlineData("-}} strips after", "{{ app -}} \n  b", "webb")]
    [InlineData("{%- and -%} strip both sides", "a  {%- if flag -%}  \n yes  \n {%- endif -%}  b", "ayesb")]
    [InlineData("{#- and -#} strip around comments", "a {#- c -#} b", "ab")]
    [InlineData("<% %> has no whitespace control", "a <% app %> b", "a web b")]
    [InlineData("trim_blocks removes the newline after a block tag", "{% if flag %}\nyes\n{% endif %}\nend", "yes\nend")]
    [InlineData("trim_blocks does not touch }}", "{{ app }}\nend", "web\nend")]
    [InlineData("lstrip_blocks removes indentation before a block tag", "  {% if flag %}\n  yes\n  {% endif %}\n", "  yes\n")]
    [InlineData("lstrip_blocks leaves text before a tag on the same line", "x {% if flag %}y{% endif %}", "x y")]
    [InlineData("+%} keeps the newline", "{% if flag +%}\nyes{% endif %}", "\nyes")]
    [InlineData("{%+ keeps the indentation", "  {%+ if flag %}yes{% endif %}", "  yes")]
    public void Render_WhitespaceControl_StripsAsJinjaWithStackStormSettings(string row, string template, string expected)
    {
        Render(template).ShouldBe(expected, row);
    }

    [Fact]
    public void Render_TrimAndLStripBlocksOff_KeepsWhitespaceAsPlainJinja()
    {
        var plain = new TemplateRenderer(new TemplateOptions { TrimBlocks = false, LStripBlocks = false });

        var text = plain.Render("  {% if true %}\nyes\n  {% endif %}\n", new JsonObject());

        text.ShouldBe("  \nyes\n  \n");
    }

    [Fact]
    public void Render_WindowsLineEndings_TrimBlocksRemovesCrLf()
    {
        Render("{% if flag %}\r\nyes\r\n{% endif %}\r\nend").ShouldBe("yes\r\nend");
    }
}
