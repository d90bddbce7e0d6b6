using static OpsRobot.Core.Tests.Templates.TemplateTestData;

namespace OpsRobot.Core.Tests.Templates;

/// <summary>Literals, operators, lookups, tests, methods, functions, and how values print.</summary>
public sealed class TemplateExpressionTests
{
    [Theory]
    [InlineData("single-quoted string", "{{ 'it' }}", "it")]
    [InlineData("double-quoted string", "{{ \"it's\" }}", "it's")]
    [InlineData("escaped quote", @"{{ 'it\'s' }}", "it's")]
    [InlineData("newline and tab escapes", @"{{ 'a\nb\tc' }}", "a\nb\tc")]
    [InlineData("unicode escape", @"{{ '\u00e9\x41' }}", "éA")]
    [InlineData("unknown escapes keep the backslash (regex friendly)", @"{{ '\d+\.' }}", @"\d+\.")]
    [InlineData("adjacent strings join", "{{ 'a' 'b' }}", "ab")]
    [InlineData("integer", "{{ 42 }}", "42")]
    [InlineData("negative integer", "{{ -42 }}", "-42")]
    [InlineData("underscores in numbers", "{{ 1_000_000 }}", "1000000")]
    [InlineData("float", "{{ 1.50 }}", "1.5")]
    [InlineData("float with exponent", "{{ 2e3 }}", "2000.0")]
    [InlineData("integer too big for 64 bits becomes a float", "{{ 99999999999999999999 }}", "1e+20")]
    [InlineData("lowercase booleans and none", "{{ true }} {{ false }} {{ none }}", "True False None")]
    [InlineData("Python-case booleans and None", "{{ True }} {{ False }} {{ None }}", "True False None")]
    [InlineData("list", "{{ [1, 'a', [true, none]] }}", "[1, 'a', [True, None]]")]
    [InlineData("trailing comma in a list", "{{ [1, 2,] }}", "[1, 2]")]
    [InlineData("dict", "{{ {'k': 'v', 'n': 1} }}", "{'k': 'v', 'n': 1}")]
    [InlineData("dict keys from numbers are strings", "{{ {1: 'a'}['1'] }}", "a")]
    [InlineData("empty brackets", "{{ [] }} {{ {} }} {{ () }}", "[] {} []")]
    public void Render_Literals_PrintAsPython(string row, string template, string expected)
    {
        Render(template).ShouldBe(expected, row);
    }

    [Theory]
    [InlineData("integer addition stays integer", "{{ 1 + 2 }}", "3")]
    [InlineData("division always gives a float", "{{ 6 / 2 }}", "3.0")]
    [InlineData("true division", "{{ 7 / 2 }}", "3.5")]
    [InlineData("integer division", "{{ 7 // 2 }}", "3")]
    [InlineData("integer division floors", "{{ -7 // 2 }}", "-4")]
    [InlineData("float floor division", "{{ 7.5 // 2 }}", "3.0")]
    [InlineData("modulo", "{{ 7 % 3 }}", "1")]
    [InlineData("modulo takes the divisor's sign", "{{ -7 % 3 }}", "2")]
    [InlineData("power", "{{ 2 ** 10 }}", "1024")]
    [InlineData("negative power is a float", "{{ 2 ** -1 }}", "0.5")]
    [InlineData("power is left-associative, as in Jinja", "{{ 2 ** 3 ** 2 }}", "64")]
    [InlineData("minus binds before power, as in Jinja", "{{ -2 ** 2 }}", "4")]
    [InlineData("precedence", "{{ 1 + 2 * 3 - 4 / 2 }}", "5.0")]
    [InlineData("brackets", "{{ (1 + 2) * 3 }}", "9")]
    [InlineData("int and float", "{{ 1 + 0.5 }}", "1.5")]
    [InlineData("float repr is shortest", "{{ 0.1 + 0.2 }}", "0.30000000000000004")]
    [InlineData("integer overflow promotes to float", "{{ 9223372036854775807 + 1 }}", "9.223372036854776e+18")]
    [InlineData("multiplication overflow promotes to float", "{{ 2 ** 64 }}", "1.8446744073709552e+19")]
    [InlineData("string concatenation with +", "{{ 'a' + 'b' }}", "ab")]
    [InlineData("list concatenation", "{{ [1] + [2] }}", "[1, 2]")]
    [InlineData("string repetition", "{{ 'ab' * 3 }}", "ababab")]
    [InlineData("list repetition", "{{ [0] * 3 }}", "[0, 0, 0]")]
    [InlineData("tilde joins text of anything", "{{ 'n=' ~ 1 ~ ' ' ~ none ~ ' ' ~ missing ~ true }}", "n=1 None True")]
    [InlineData("unary plus", "{{ +count }}", "3")]
    [InlineData("negation of a variable", "{{ -count }}", "-3")]
    public void Render_Arithmetic_FollowsPythonAndJinja(string row, string template, string expected)
    {
        Render(template).ShouldBe(expected, row);
    }

    [Theory]
    [InlineData("int equals float", "{{ 1 == 1.0 }}", "True")]
    [InlineData("not equal", "{{ 1 != 2 }}", "True")]
    [InlineData("string order", "{{ 'a' < 'b' }}", "True")]
    [InlineData("chained comparison", "{{ 1 < 2 < 3 }}", "True")]
    [InlineData("chained comparison that fails", "{{ 3 > 2 > 2 }}", "False")]
    [InlineData("list equality", "{{ [1, [2]] == [1, [2]] }}", "True")]
    [InlineData("dict equality ignores order", "{{ {'a': 1, 'b': 2} == d }}", "True")]
    [InlineData("list order", "{{ [1, 2] < [1, 3] }}", "True")]
    [InlineData("booleans are not numbers", "{{ true == 1 }}", "False")]
    [InlineData("none equals none", "{{ nothing == none }}", "True")]
    [InlineData("undefined is not none", "{{ missing == none }}", "False")]
    [InlineData("substring in string", "{{ 'eb' in app }}", "True")]
    [InlineData("item in list", "{{ 2 in xs }}", "True")]
    [InlineData("float equal to an item in list", "{{ 2.0 in xs }}", "True")]
    [InlineData("key in dict", "{{ 'a' in d }}", "True")]
    [InlineData("value is not a key", "{{ 1 in d }}", "False")]
    [InlineData("not in", "{{ 'z' not in d }}", "True")]
    [InlineData("in an undefined value is false", "{{ 'a' in missing }}", "False")]
    [InlineData("in none is false", "{{ 'a' in nothing }}", "False")]
    [InlineData("or returns the deciding value", "{{ nothing or 'fallback' }}", "fallback")]
    [InlineData("and returns the deciding value", "{{ 0 and 1 }} {{ 1 and 'y' }}", "0 y")]
    [InlineData("not", "{{ not 0 }} {{ not xs }}", "True False")]
    [InlineData("not binds looser than comparison", "{{ not 1 == 2 }}", "True")]
    [InlineData("conditional expression", "{{ 'big' if count > 2 else 'small' }}", "big")]
    [InlineData("conditional without else is undefined", "[{{ 'x' if off }}]", "[]")]
    [InlineData("nested conditional", "{{ 'a' if off else 'b' if flag else 'c' }}", "b")]
    public void Render_ComparisonsAndLogic_FollowPython(string row, string template, string expected)
    {
        Render(template).ShouldBe(expected, row);
    }

    [Theory]
    [InlineData("is defined", "{{ app is defined }} {{ missing is defined }}", "True False")]
    [InlineData("is not defined", "{{ missing is not defined }}", "True")]
    [InlineData("attribute of undefined is not defined", "{{ missing.a.b is defined }}", "False")]
    [InlineData("is undefined", "{{ missing is undefined }}", "True")]
    [InlineData("is none", "{{ nothing is none }} {{ missing is none }}", "True False")]
    [InlineData("is string", "{{ app is string }} {{ count is string }}", "True False")]
    [InlineData("is number", "{{ count is number }} {{ ratio is number }} {{ flag is number }}", "True True False")]
    [InlineData("is integer and float", "{{ count is integer }} {{ ratio is float }}", "True True")]
    [InlineData("is boolean", "{{ flag is boolean }}", "True")]
    [InlineData("is mapping", "{{ d is mapping }} {{ xs is mapping }}", "True False")]
    [InlineData("is sequence", "{{ xs is sequence }} {{ app is sequence }} {{ count is sequence }}", "True True False")]
    [InlineData("is iterable", "{{ d is iterable }}", "True")]
    [InlineData("is odd and even", "{{ 3 is odd }} {{ 3 is even }}", "True False")]
    [InlineData("is divisibleby with brackets", "{{ 9 is divisibleby(3) }}", "True")]
    [InlineData("is divisibleby without brackets", "{{ 9 is divisibleby 4 }}", "False")]
    [InlineData("is eq / equalto", "{{ count is eq 3 }} {{ count is equalto(4) }}", "True False")]
    [InlineData("is gt and lt", "{{ count is gt 2 }} {{ count is lt 2 }}", "True False")]
    [InlineData("is in", "{{ 2 is in xs }}", "True")]
    [InlineData("is sameas", "{{ nothing is sameas none }}", "True")]
    [InlineData("is lower and upper", "{{ 'ab' is lower }} {{ 'AB' is upper }} {{ 'Ab' is lower }}", "True True False")]
    [InlineData("is truthy and falsy", "{{ xs is truthy }} {{ empty is falsy }}", "True True")]
    [InlineData("test before and", "{{ app is defined and count > 1 }}", "True")]
    [InlineData("not before a test", "{{ not missing is defined }}", "True")]
    public void Render_Tests_AnswerAsJinja(string row, string template, string expected)
    {
        Render(template).ShouldBe(expected, row);
    }

    [Theory]
    [InlineData("attribute", "{{ execution.result.stdout }}", "done")]
    [InlineData("item with a string", "{{ execution['result']['stdout'] }}", "done")]
    [InlineData("index", "{{ xs[0] }}", "1")]
    [InlineData("negative index", "{{ xs[-1] }}", "3")]
    [InlineData("index by dot", "{{ xs.1 }}", "2")]
    [InlineData("nested index and attribute", "{{ execution.result.hosts[1].name }}", "web2")]
    [InlineData("index out of range is undefined", "[{{ xs[10] }}]", "[]")]
    [InlineData("string index", "{{ app[0] }}", "w")]
    [InlineData("slice", "{{ xs[1:3] }}", "[2, 3]")]
    [InlineData("open slice", "{{ xs[:2] }} {{ xs[1:] }}", "[1, 2] [2, 3]")]
    [InlineData("slice with step", "{{ [0, 1, 2, 3, 4][::2] }}", "[0, 2, 4]")]
    [InlineData("reversed string", "{{ 'abc'[::-1] }}", "cba")]
    [InlineData("negative slice bounds", "{{ xs[-2:] }}", "[2, 3]")]
    [InlineData("missing key is undefined", "[{{ d.zz }}]", "[]")]
    [InlineData("attribute of undefined is undefined (lenient)", "[{{ missing.a.b }}]", "[]")]
    [InlineData("attribute of none is undefined (lenient)", "[{{ nothing.a }}]", "[]")]
    [InlineData("a key named like a method is a key", "{{ {'items': 5}.items }}", "5")]
    [InlineData("variable key", "{% set k = 'b' %}{{ d[k] }}", "2")]
    public void Render_Lookups_ReachIntoJson(string row, string template, string expected)
    {
        Render(template).ShouldBe(expected, row);
    }

    [Theory]
    [InlineData("dict.items()", "{{ d.items() }}", "[['a', 1], ['b', 2]]")]
    [InlineData("dict.keys()", "{{ d.keys() }}", "['a', 'b']")]
    [InlineData("dict.values()", "{{ d.values() }}", "[1, 2]")]
    [InlineData("dict.get() found", "{{ d.get('a') }}", "1")]
    [InlineData("dict.get() with a default", "{{ d.get('zz', 'dflt') }}", "dflt")]
    [InlineData("dict.get() without a default is None", "{{ d.get('zz') }}", "None")]
    [InlineData("str.upper() and lower()", "{{ 'Ab'.upper() }} {{ 'Ab'.lower() }}", "AB ab")]
    [InlineData("str.strip()", "[{{ '  x  '.strip() }}] [{{ 'xxyxx'.strip('x') }}]", "[x] [y]")]
    [InlineData("str.lstrip() and rstrip()", "[{{ '  x  '.lstrip() }}] [{{ '  x  '.rstrip() }}]", "[x  ] [  x]")]
    [InlineData("str.startswith()", "{{ app.startswith('we') }} {{ app.startswith(['x', 'w']) }}", "True True")]
    [InlineData("str.endswith()", "{{ app.endswith('b') }}", "True")]
    [InlineData("str.split() on whitespace", "{{ ' a  b '.split() }}", "['a', 'b']")]
    [InlineData("str.split() on a separator", "{{ 'a,,b'.split(',') }}", "['a', '', 'b']")]
    [InlineData("str.split() with maxsplit", "{{ 'a,b,c'.split(',', 1) }}", "['a', 'b,c']")]
    [InlineData("str.replace()", "{{ 'a-b'.replace('-', '+') }}", "a+b")]
    [InlineData("str.join()", "{{ ', '.join(['a', 'b']) }}", "a, b")]
    [InlineData("str.splitlines()", "{{ 'a\\nb\\n'.splitlines() }}", "['a', 'b']")]
    [InlineData("str.title() and capitalize()", "{{ 'ab cd'.title() }} {{ 'ab cd'.capitalize() }}", "Ab Cd Ab cd")]
    [InlineData("method on undefined is undefined (lenient)", "[{{ missing.get('a') }}]", "[]")]
    public void Render_Methods_BehaveAsPython(string row, string template, string expected)
    {
        Render(template).ShouldBe(expected, row);
    }

    [Theory]
    [InlineData("range(stop)", "{{ range(3) }}", "[0, 1, 2]")]
    [InlineData("range(start, stop, step)", "{{ range(1, 10, 3) }}", "[1, 4, 7]")]
    [InlineData("range counting down", "{{ range(5, 0, -2) }}", "[5, 3, 1]")]
    [InlineData("empty range", "{{ range(0) }}", "[]")]
    [InlineData("str()", "{{ str(5) ~ str(none) ~ str() }}", "5None")]
    [InlineData("len()", "{{ len(xs) }} {{ len('héllo') }} {{ len(d) }}", "3 5 2")]
    [InlineData("list() of arguments", "{{ list(1, 'a') }}", "[1, 'a']")]
    [InlineData("list() of a list copies it", "{{ list(xs) }}", "[1, 2, 3]")]
    [InlineData("list() of a dict gives its keys", "{{ list(d) }}", "['a', 'b']")]
    [InlineData("list() of nothing", "{{ list() }}", "[]")]
    [InlineData("dict() of named arguments", "{{ dict(a=1, b='x') }}", "{'a': 1, 'b': 'x'}")]
    [InlineData("dict() of pairs", "{{ dict([['k', 1]]) }}", "{'k': 1}")]
    [InlineData("int(), float() and bool()", "{{ int('4') }} {{ float('2') }} {{ bool('yes') }}", "4 2.0 True")]
    public void Render_BuiltInFunctions_Work(string row, string template, string expected)
    {
        Render(template).ShouldBe(expected, row);
    }

    [Theory]
    [InlineData("undefined prints empty", "[{{ missing }}]", "[]")]
    [InlineData("none prints None", "{{ nothing }}", "None")]
    [InlineData("booleans print as Python", "{{ flag }} {{ off }}", "True False")]
    [InlineData("integral float keeps its point", "{{ 3.0 }}", "3.0")]
    [InlineData("large float uses an exponent", "{{ 1e16 }} {{ 1e15 }}", "1e+16 1000000000000000.0")]
    [InlineData("small float uses an exponent", "{{ 0.00001 }} {{ 0.0001 }}", "1e-05 0.0001")]
    [InlineData("negative float", "{{ -2.5 }}", "-2.5")]
    [InlineData("list of strings uses Python repr", "{{ names }}", "['b', 'C', 'a']")]
    [InlineData("repr picks double quotes around a single quote", "{{ [\"it's\"] }}", "[\"it's\"]")]
    [InlineData("repr escapes newlines and backslashes", "{{ ['a\\nb\\\\c'] }}", @"['a\nb\\c']")]
    [InlineData("nested dict", "{{ execution.result.hosts[0] }}", "{'name': 'web1', 'status': 'up'}")]
    [InlineData("loop object", "{% for x in xs %}{% if loop.last %}{{ loop }}{% endif %}{% endfor %}", "<loop 3/3>")]
    public void Render_ValueText_IsPythonsStr(string row, string template, string expected)
    {
        Render(template).ShouldBe(expected, row);
    }

    [Fact]
    public void Render_ValuesBuiltInCode_AreReadLikeParsedOnes()
    {
        var context = new System.Text.Json.Nodes.JsonObject
        {
            ["i"] = 5,
            ["l"] = 5L,
            ["d"] = 2.5,
            ["m"] = 1.25m,
            ["b"] = true,
            ["s"] = "x",
            ["g"] = Guid.Empty,
        };

        var text = Renderer.Render("{{ i + l }} {{ d * 2 }} {{ m }} {{ b }} {{ s }} {{ g }}", context);

        text.ShouldBe("10 5.0 1.25 True x 00000000-0000-0000-0000-000000000000");
    }
}
