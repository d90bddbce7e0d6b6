using System.Text.Json.Nodes;
using OpsRobot.Core.Templates;
using static OpsRobot.Core.Tests.Templates.TemplateTestData;

namespace OpsRobot.Core.Tests.Templates;

/// <summary>Errors name the problem and its real 1-based line and column, for parse and runtime errors alike.</summary>
public sealed class TemplateErrorTests
{
    [Theory]
    [InlineData("missing operand", "Hello {{ x + }}", "unexpected '}}' at line 1, column 14: expected an expression", 1, 14)]
    [InlineData("empty output", "{{ }}", "unexpected '}}' at line 1, column 4: expected an expression", 1, 4)]
    [InlineData("unclosed output", "Hello {{ name", "unexpected end of template at line 1, column 14: expected '}}' to close the '{{' at line 1, column 7", 1, 14)]
    [InlineData("unclosed Orquesta output", "<% a", "unexpected end of template at line 1, column 5: expected '%>' to close the '<%' at line 1, column 1", 1, 5)]
    [InlineData("two values without an operator", "{{ a b }}", "unexpected 'b' at line 1, column 6: expected '}}'", 1, 6)]
    [InlineData("missing filter name", "{{ x | }}", "unexpected '}}' at line 1, column 8: expected a filter name", 1, 8)]
    [InlineData("if without a condition, on line 2", "line one\n{% if %}", "unexpected '%}' at line 2, column 7: expected an expression", 2, 7)]
    [InlineData("error on line 3 of a multi-line tag", "first\nsecond {{ a +\n  * b }}", "unexpected '*' at line 3, column 3: expected an expression", 3, 3)]
    [InlineData("unclosed if", "{% if flag %}yes", "unexpected end of template at line 1, column 17: expected '{% endif %}' to close the 'if' at line 1, column 1", 1, 17)]
    [InlineData("unclosed set block", "{% set x %}abc", "unexpected end of template at line 1, column 15: expected '{% endset %}' to close the 'set' at line 1, column 1", 1, 15)]
    [InlineData("wrong end tag", "{% for x in xs %}{% endif %}", "unexpected 'endif' at line 1, column 21: expected 'else' or 'endfor' for the 'for' at line 1, column 1", 1, 21)]
    [InlineData("stray end tag", "{% endfor %}", "unexpected 'endfor' at line 1, column 4: there is no open block for it to close or continue", 1, 4)]
    [InlineData("unknown tag", "{% macro m() %}", "unknown tag 'macro' at line 1, column 4: the tags are if/elif/else/endif, for/else/endfor, set/endset and raw/endraw", 1, 4)]
    [InlineData("for without in", "{% for x xs %}{% endfor %}", "unexpected 'xs' at line 1, column 10: expected 'in'", 1, 10)]
    [InlineData("assigning to a number", "{% set 1 = 2 %}", "unexpected '1' at line 1, column 8: expected a variable name", 1, 8)]
    [InlineData("assigning to a keyword", "{% set none = 2 %}", "cannot assign to 'none' at line 1, column 8", 1, 8)]
    [InlineData("unterminated string", "{{ 'abc }}", "unterminated string at line 1, column 4: expected a closing '", 1, 4)]
    [InlineData("unterminated comment", "a {# note", "unterminated comment at line 1, column 3: expected '#}' to close the '{#'", 1, 3)]
    [InlineData("unterminated raw", "{% raw %}abc", "unterminated raw block at line 1, column 1: expected '{% endraw %}'", 1, 1)]
    [InlineData("bad character", "{{ a @ b }}", "unexpected character '@' at line 1, column 6", 1, 6)]
    [InlineData("mismatched bracket", "{{ (a] }}", "unexpected ']' at line 1, column 6: expected ')'", 1, 6)]
    [InlineData("unknown test", "{{ x is nope }}", "unknown test 'nope' at line 1, column 9", 1, 9)]
    [InlineData("calling a value", "{{ (1)(2) }}", "only functions and methods can be called at line 1, column 7: write name(...) or value.method(...)", 1, 7)]
    [InlineData("positional after named", "{{ x | join(d=',', 'y') }}", "a positional argument cannot follow a named one at line 1, column 20", 1, 20)]
    [InlineData("bad escape", "{{ '\\x4' }}", "invalid escape in string at line 1, column 4: \\x needs 2, \\u 4 and \\U 8 hex digits", 1, 4)]
    public void Check_SyntaxError_ReportsTheRealPosition(string row, string template, string message, int line, int column)
    {
        var error = Renderer.Check(template);

        error.ShouldNotBeNull(row);
        error.Message.ShouldBe(message, row);
        error.Line.ShouldBe(line, row);
        error.Column.ShouldBe(column, row);
    }

    [Fact]
    public void Check_UnknownFunction_ListsTheKnownOnes()
    {
        var error = Renderer.Check("{{ nope() }}");

        error.ShouldNotBeNull();
        error.Message.ShouldBe("unknown function 'nope' at line 1, column 4: the functions here are bool(), dict(), float(), int(), len(), list(), range(), str()");
    }

    [Theory]
    [InlineData("plain text", "hello")]
    [InlineData("valid template", "{% for x in xs %}{{ x | upper }}{% endfor %}")]
    [InlineData("undefined names are not a parse error", "{{ whatever.you.like }}")]
    public void Check_ValidTemplate_ReturnsNull(string row, string template)
    {
        Renderer.Check(template).ShouldBeNull(row);
    }

    [Fact]
    public void Render_SyntaxError_ThrowsTheSameErrorEachTime()
    {
        var first = RenderError("{{ x + }}");
        var second = RenderError("{{ x + }}");

        second.ShouldNotBeSameAs(first);
        second.Message.ShouldBe(first.Message);
    }

    [Theory]
    [InlineData("division by zero", "{{ 1 / 0 }}", "division by zero at line 1, column 6")]
    [InlineData("modulo by zero", "{{ 1 % 0 }}", "division by zero at line 1, column 6")]
    [InlineData("type error", "{{ count + 'a' }}", "unsupported operand types for +: 'integer' and 'string' at line 1, column 10")]
    [InlineData("arithmetic on undefined", "{{ missing + 1 }}", "'missing' is undefined at line 1, column 12")]
    [InlineData("unknown method", "{{ app.nope() }}", "a value of type 'string' has no method 'nope' at line 1, column 7")]
    [InlineData("method on a number", "{{ count.items() }}", "a value of type 'integer' has no method 'items' at line 1, column 9")]
    [InlineData("ordering across types", "{{ 'a' < 1 }}", "'<' is not supported between 'string' and 'integer' at line 1, column 10")]
    [InlineData("unpacking a number", "{% for k, v in xs %}{% endfor %}", "cannot unpack a value of type 'integer' into 2 names at line 1, column 1")]
    [InlineData("unpacking a list of the wrong length", "{% set a, b = [1, 2, 3] %}", "cannot unpack a list of 3 into 2 names at line 1, column 1")]
    [InlineData("float index", "{{ xs[1.5] }}", "a list index must be an integer, not a value of type 'float' at line 1, column 6")]
    [InlineData("iterating a number", "{% for x in count %}{% endfor %}", "a value of type 'integer' cannot be iterated at line 1, column 13")]
    [InlineData("length of a number", "{{ count | length }}", "a value of type 'integer' has no length at line 1, column 12")]
    [InlineData("% formatting", "{{ '%s' % app }}", "'%' string formatting is not supported at line 1, column 9: build text with '~' instead")]
    [InlineData("range step zero", "{{ range(1, 5, 0) }}", "range() step must not be zero at line 1, column 4")]
    [InlineData("error on a later line", "a\nb\n  {{ xs | sum(attribute='x') }}", "'x' is undefined at line 3, column 11")]
    public void Render_RuntimeError_ReportsThePosition(string row, string template, string message)
    {
        RenderError(template).Message.ShouldBe(message, row);
    }

    [Theory]
    [InlineData("printing undefined", "{{ missing }}", "'missing' is undefined at line 1, column 4")]
    [InlineData("attribute of undefined", "{{ missing.a }}", "'missing' is undefined at line 1, column 11")]
    [InlineData("attribute of none", "{{ nothing.a }}", "none has no attribute 'a' at line 1, column 11")]
    [InlineData("iterating undefined", "{% for x in missing %}{% endfor %}", "'missing' is undefined at line 1, column 13")]
    [InlineData("missing key then printed", "{{ d.zz }}", "'zz' is undefined at line 1, column 5")]
    public void Render_StrictUndefined_RefusesUndefinedValues(string row, string template, string message)
    {
        var strict = new TemplateRenderer(new TemplateOptions { StrictUndefined = true });

        var error = Should.Throw<TemplateException>(() => strict.Render(template, Context()));

        error.Message.ShouldBe(message, row);
    }

    [Theory]
    [InlineData("is defined", "{{ missing is defined }}", "False")]
    [InlineData("default", "{{ missing | default('x') }}", "x")]
    [InlineData("default of a missing key", "{{ d.zz | default('x') }}", "x")]
    public void Render_StrictUndefined_StillAllowsTestsAndDefault(string row, string template, string expected)
    {
        var strict = new TemplateRenderer(new TemplateOptions { StrictUndefined = true });

        strict.Render(template, Context()).ShouldBe(expected, row);
    }

    [Fact]
    public void Render_NulInAShellValue_IsAnError()
    {
        var error = Should.Throw<TemplateException>(
            () => Renderer.Render("echo {{ v }}", new JsonObject { ["v"] = "a\0b" }, TemplateEscape.Shell));

        error.Message.ShouldBe("a value with a NUL character cannot be passed to a shell command at line 1, column 9");
    }
}
