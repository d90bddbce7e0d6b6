using static OpsRobot.Core.Tests.Templates.TemplateTestData;

namespace OpsRobot.Core.Tests.Templates;

/// <summary>Every built-in filter, with the cases Jinja users rely on.</summary>
public sealed class TemplateFilterTests
{
    [Theory]
    [InlineData("upper", "{{ 'abc' | upper }}", "ABC")]
    [InlineData("lower", "{{ 'AbC' | lower }}", "abc")]
    [InlineData("title", "{{ 'hello big-world (x)' | title }}", "Hello Big-World (X)")]
    [InlineData("capitalize", "{{ 'hELLO world' | capitalize }}", "Hello world")]
    [InlineData("trim", "[{{ '  x \n' | trim }}]", "[x]")]
    [InlineData("trim with characters", "{{ 'xxaxx' | trim('x') }}", "a")]
    [InlineData("strip is trim", "[{{ ' x ' | strip }}]", "[x]")]
    [InlineData("upper of undefined is empty", "[{{ missing | upper }}]", "[]")]
    [InlineData("upper of none is NONE, as in Jinja", "{{ nothing | upper }}", "NONE")]
    [InlineData("replace", "{{ 'a-b-c' | replace('-', '+') }}", "a+b+c")]
    [InlineData("replace with a count", "{{ 'a-b-c' | replace('-', '+', 1) }}", "a+b-c")]
    [InlineData("replace an empty string", "{{ 'ab' | replace('', '.') }}", ".a.b.")]
    [InlineData("indent", "{{ 'a\\nb\\n\\nc' | indent(2) }}", "a\n  b\n\n  c")]
    [InlineData("indent the first line too", "{{ 'a\\nb' | indent(2, true) }}", "  a\n  b")]
    [InlineData("indent with a string", "{{ 'a\\nb' | indent('> ') }}", "a\n> b")]
    [InlineData("wordcount", "{{ 'hello big_world, again!' | wordcount }}", "3")]
    [InlineData("truncate at a word", "{{ 'hello big world' | truncate(9) }}", "hello...")]
    [InlineData("truncate killing words", "{{ 'hello big world' | truncate(9, true) }}", "hello ...")]
    [InlineData("truncate within leeway keeps the text", "{{ 'hello big world' | truncate(11) }}", "hello big world")]
    [InlineData("truncate with end and no leeway", "{{ 'hello big world' | truncate(11, end='~', leeway=0) }}", "hello big~")]
    [InlineData("split", "{{ 'a b  c' | split }} {{ 'a:b' | split(':') }}", "['a', 'b', 'c'] ['a', 'b']")]
    [InlineData("json_escape", "{{ 'say \"hi\"\\n' | json_escape }}", "say \\\"hi\\\"\\n")]
    [InlineData("basename", "{{ '/var/log/app.log' | basename }}", "app.log")]
    [InlineData("dirname", "{{ '/var/log/app.log' | dirname }} {{ '/app' | dirname }} {{ 'app' | dirname }}", "/var/log / ")]
    [InlineData("urlencode a string", "{{ 'a b/c&d=é' | urlencode }}", "a%20b/c%26d%3D%C3%A9")]
    [InlineData("urlencode a dict", "{{ {'q': 'a b', 'x': 1} | urlencode }}", "q=a+b&x=1")]
    [InlineData("b64encode", "{{ 'hello' | b64encode }}", "aGVsbG8=")]
    [InlineData("b64decode", "{{ 'aGVsbG8=' | b64decode }}", "hello")]
    public void Render_StringFilters_Work(string row, string template, string expected)
    {
        Render(template).ShouldBe(expected, row);
    }

    [Theory]
    [InlineData("default of undefined", "{{ missing | default('dflt') }}", "dflt")]
    [InlineData("d is default", "{{ missing | d('dflt') }}", "dflt")]
    [InlineData("default keeps None (it is defined)", "{{ nothing | default('dflt') }}", "None")]
    [InlineData("default with boolean replaces None", "{{ nothing | default('dflt', true) }}", "dflt")]
    [InlineData("default with boolean replaces empty", "{{ empty | default('dflt', boolean=true) }}", "dflt")]
    [InlineData("default keeps a value", "{{ app | default('dflt') }}", "web")]
    [InlineData("default keeps false", "{{ off | default(true) }}", "False")]
    [InlineData("default without a value is empty", "[{{ missing | default }}]", "[]")]
    [InlineData("default of a missing attribute", "{{ execution.result.stderr | default('none') }}", "none")]
    [InlineData("default of attribute of undefined", "{{ missing.a.b | default('x') }}", "x")]
    public void Render_Default_TreatsUndefinedAndNoneAsJinja(string row, string template, string expected)
    {
        Render(template).ShouldBe(expected, row);
    }

    [Theory]
    [InlineData("int of a string", "{{ '42' | int }}", "42")]
    [InlineData("int of a float string truncates", "{{ '3.9' | int }}", "3")]
    [InlineData("int of a float truncates", "{{ -2.7 | int }}", "-2")]
    [InlineData("int falls back to 0", "{{ 'x' | int }}", "0")]
    [InlineData("int with a default", "{{ 'x' | int(7) }}", "7")]
    [InlineData("int in base 16", "{{ 'ff' | int(base=16) }} {{ '0x1F' | int(0, 16) }}", "255 31")]
    [InlineData("float of a string", "{{ '2.5' | float }}", "2.5")]
    [InlineData("float of an int", "{{ 3 | float }}", "3.0")]
    [InlineData("float falls back to 0.0", "{{ 'x' | float }}", "0.0")]
    [InlineData("string", "{{ (1 | string) ~ 'x' }} {{ xs | string }}", "1x [1, 2, 3]")]
    [InlineData("bool of words", "{{ 'yes' | bool }} {{ 'On' | bool }} {{ 'no' | bool }} {{ 'false' | bool }}", "True True False False")]
    [InlineData("bool of numbers", "{{ 0 | bool }} {{ 2 | bool }}", "False True")]
    [InlineData("list of a string", "{{ 'ab' | list }}", "['a', 'b']")]
    [InlineData("list of a dict", "{{ d | list }}", "['a', 'b']")]
    [InlineData("tojson", "{{ d | tojson }}", "{\"a\": 1, \"b\": 2}")]
    [InlineData("tojson escapes and keeps types", "{{ {'s': 'q\"\\n', 'n': none, 'l': [true, 1.5], 'u': missing} | tojson }}", "{\"s\": \"q\\\"\\n\", \"n\": null, \"l\": [true, 1.5], \"u\": null}")]
    [InlineData("to_json_string is tojson", "{{ xs | to_json_string }}", "[1, 2, 3]")]
    [InlineData("tojson sorted", "{{ {'b': 1, 'a': 2} | tojson(sort_keys=true) }}", "{\"a\": 2, \"b\": 1}")]
    [InlineData("tojson indented", "{{ {'a': [1]} | tojson(2) }}", "{\n  \"a\": [\n    1\n  ]\n}")]
    [InlineData("fromjson", "{{ ('{\"a\": [1, 2]}' | fromjson).a[1] }}", "2")]
    [InlineData("from_json_string is fromjson", "{{ ('[true]' | from_json_string)[0] }}", "True")]
    public void Render_ConversionFilters_Work(string row, string template, string expected)
    {
        Render(template).ShouldBe(expected, row);
    }

    [Theory]
    [InlineData("length of a list", "{{ xs | length }}", "3")]
    [InlineData("count is length, in characters", "{{ 'héllo' | count }}", "5")]
    [InlineData("length of a dict", "{{ d | length }}", "2")]
    [InlineData("length of undefined is 0", "{{ missing | length }}", "0")]
    [InlineData("first and last", "{{ xs | first }} {{ xs | last }} {{ 'abc' | last }}", "1 3 c")]
    [InlineData("first of empty is undefined", "[{{ [] | first }}]", "[]")]
    [InlineData("join", "{{ xs | join(', ') }}", "1, 2, 3")]
    [InlineData("join without a separator", "{{ xs | join }}", "123")]
    [InlineData("join an attribute", "{{ users | join('/', attribute='name') }}", "ann/bob/cy")]
    [InlineData("sort", "{{ [3, 1, 2] | sort }}", "[1, 2, 3]")]
    [InlineData("sort reversed", "{{ [3, 1, 2] | sort(reverse=true) }}", "[3, 2, 1]")]
    [InlineData("sort ignores case by default", "{{ names | sort }}", "['a', 'b', 'C']")]
    [InlineData("sort case-sensitive", "{{ names | sort(case_sensitive=true) }}", "['C', 'a', 'b']")]
    [InlineData("sort by attribute", "{{ users | sort(attribute='age') | map(attribute='name') | join(',') }}", "bob,ann,cy")]
    [InlineData("reverse", "{{ xs | reverse }} {{ 'abc' | reverse }}", "[3, 2, 1] cba")]
    [InlineData("unique", "{{ [1, 2, 1, 'a', 'A', 1.0] | unique }}", "[1, 2, 'a']")]
    [InlineData("unique case-sensitive", "{{ ['a', 'A'] | unique(case_sensitive=true) }}", "['a', 'A']")]
    [InlineData("min and max", "{{ xs | min }} {{ xs | max }}", "1 3")]
    [InlineData("max by attribute", "{{ (users | max(attribute='age')).name }}", "cy")]
    [InlineData("sum", "{{ xs | sum }} {{ users | sum(attribute='age') }} {{ xs | sum(start=10) }}", "6 96 16")]
    [InlineData("abs", "{{ -3 | abs }} {{ -2.5 | abs }}", "3 2.5")]
    [InlineData("round halves to even, as Python", "{{ 2.5 | round }} {{ 3.5 | round }}", "2.0 4.0")]
    [InlineData("round to a precision", "{{ 3.14159 | round(2) }}", "3.14")]
    [InlineData("round up and down", "{{ 2.1 | round(method='ceil') }} {{ 2.9 | round(0, 'floor') }}", "3.0 2.0")]
    [InlineData("round then int", "{{ 2.7 | round | int }}", "3")]
    public void Render_SequenceFilters_Work(string row, string template, string expected)
    {
        Render(template).ShouldBe(expected, row);
    }

    [Theory]
    [InlineData("map an attribute", "{{ users | map(attribute='name') | list }}", "['ann', 'bob', 'cy']")]
    [InlineData("map an attribute with a default", "{{ users | map(attribute='admin', default='n/a') | list }}", "[True, False, 'n/a']")]
    [InlineData("map a filter", "{{ ['a', 'b'] | map('upper') | join }}", "AB")]
    [InlineData("map a filter with arguments", "{{ ['a-a', 'b-b'] | map('replace', '-', '') | list }}", "['aa', 'bb']")]
    [InlineData("select truthy", "{{ [0, 1, '', 'a', none] | select | list }}", "[1, 'a']")]
    [InlineData("select a test", "{{ xs | select('odd') | list }}", "[1, 3]")]
    [InlineData("select a test with an argument", "{{ xs | select('gt', 1) | list }}", "[2, 3]")]
    [InlineData("select in", "{{ xs | select('in', [1, 3]) | list }}", "[1, 3]")]
    [InlineData("select by symbol", "{{ xs | select('>=', 2) | list }}", "[2, 3]")]
    [InlineData("reject", "{{ xs | reject('odd') | list }}", "[2]")]
    [InlineData("selectattr truthy", "{{ users | selectattr('admin') | map(attribute='name') | list }}", "['ann']")]
    [InlineData("selectattr defined", "{{ users | selectattr('admin', 'defined') | map(attribute='name') | list }}", "['ann', 'bob']")]
    [InlineData("rejectattr defined", "{{ users | rejectattr('admin', 'defined') | map(attribute='name') | list }}", "['cy']")]
    [InlineData("selectattr equalto", "{{ users | selectattr('name', 'equalto', 'bob') | map(attribute='age') | first }}", "25")]
    [InlineData("selectattr eq", "{{ execution.result.hosts | selectattr('status', 'eq', 'up') | map(attribute='name') | list }}", "['web1']")]
    [InlineData("selectattr ne", "{{ users | selectattr('name', 'ne', 'bob') | list | length }}", "2")]
    [InlineData("selectattr ge", "{{ users | selectattr('age', 'ge', 31) | map(attribute='name') | list }}", "['ann', 'cy']")]
    [InlineData("selectattr lt and le", "{{ users | selectattr('age', 'lt', 31) | list | length }} {{ users | selectattr('age', 'le', 31) | list | length }}", "1 2")]
    [InlineData("selectattr in", "{{ users | selectattr('name', 'in', ['ann', 'cy']) | list | length }}", "2")]
    [InlineData("selectattr none", "{{ [{'a': none}, {'a': 1}] | selectattr('a', 'none') | list | length }}", "1")]
    [InlineData("selectattr falsy", "{{ users | selectattr('admin', 'falsy') | map(attribute='name') | list }}", "['bob', 'cy']")]
    [InlineData("selectattr string and number", "{{ [{'v': 'x'}, {'v': 1}] | selectattr('v', 'string') | list | length }} {{ [{'v': 'x'}, {'v': 1}] | selectattr('v', 'number') | list | length }}", "1 1")]
    [InlineData("selectattr on a nested attribute", "{{ [{'a': {'b': 1}}, {'a': {'b': 2}}] | selectattr('a.b', 'eq', 2) | list | length }}", "1")]
    [InlineData("dictsort", "{{ {'b': 1, 'a': 2} | dictsort }}", "[['a', 2], ['b', 1]]")]
    [InlineData("dictsort by value", "{{ {'b': 1, 'a': 2} | dictsort(by='value') }}", "[['b', 1], ['a', 2]]")]
    [InlineData("items", "{{ d | items }}", "[['a', 1], ['b', 2]]")]
    [InlineData("keys and values", "{{ d | keys }} {{ d | values }}", "['a', 'b'] [1, 2]")]
    [InlineData("attr", "{{ d | attr('b') }}", "2")]
    public void Render_HigherOrderFilters_Work(string row, string template, string expected)
    {
        Render(template).ShouldBe(expected, row);
    }

    [Theory]
    [InlineData("regex_match anchors at the start", "{{ 'abc' | regex_match('b') }} {{ 'abc' | regex_match('a.c') }}", "False True")]
    [InlineData("regex_match ignoring case", "{{ 'ABC' | regex_match('abc', ignorecase=true) }}", "True")]
    [InlineData("regex_search finds anywhere", "{{ 'abc123' | regex_search('\\d+') }}", "True")]
    [InlineData("regex_replace with Python groups", "{{ 'Hello World' | regex_replace('(\\w+) (\\w+)', '\\2 \\1') }}", "World Hello")]
    [InlineData("regex_replace with a named group", "{{ 'ab' | regex_replace('(?P<x>a)', '[\\g<x>]') }}", "[a]b")]
    [InlineData("regex_replace keeps a dollar literal", "{{ 'cost' | regex_replace('cost', '$5') }}", "$5")]
    [InlineData("regex_replace of every match, empty ones included", "{{ 'abc' | regex_replace('x*', '-') }}", "-a-b-c-")]
    [InlineData("regex_replace with escapes in the replacement", "{{ 'a b' | regex_replace(' ', '\\\\n') }}", "a\nb")]
    [InlineData("regex_substring", "{{ 'v1.2.3' | regex_substring('\\d+') }} {{ 'v1.2.3' | regex_substring('\\d+', 2) }}", "1 3")]
    [InlineData("regex_substring returns the first group", "{{ 'id=42;' | regex_substring('id=(\\d+)') }}", "42")]
    public void Render_StackStormRegexFilters_Work(string row, string template, string expected)
    {
        Render(template).ShouldBe(expected, row);
    }

    [Fact]
    public void Render_RegexSubstringWithoutMatch_IsAnError()
    {
        RenderError("{{ 'abc' | regex_substring('\\d') }}").Message.ShouldStartWith("filter 'regex_substring': no match found at line 1, column 12");
    }

    [Theory]
    [InlineData("unknown filter", "{{ app | nope }}", "unknown filter 'nope' at line 1, column 10")]
    [InlineData("unknown filter in map()", "{{ xs | map('nope') }}", "unknown filter 'nope' at line 1, column 13")]
    [InlineData("unknown test in select()", "{{ xs | select('nope') }}", "unknown test 'nope' at line 1, column 16")]
    public void Check_UnknownFilter_IsReportedWithItsPosition(string row, string template, string expected)
    {
        var error = Renderer.Check(template);

        error.ShouldNotBeNull(row);
        error.Message.ShouldBe(expected, row);
    }

    [Theory]
    [InlineData("wrong argument name", "{{ xs | join(sep=',') }}", "filter 'join' has no argument named 'sep' at line 1, column 9")]
    [InlineData("too many arguments", "{{ xs | join(',', 'x', 'y') }}", "filter 'join' takes at most 2 arguments, got 3 at line 1, column 9")]
    [InlineData("argument to a filter without any", "{{ xs | length(1) }}", "filter 'length' takes no arguments at line 1, column 9")]
    [InlineData("bad base64", "{{ '***' | b64decode }}", "filter 'b64decode': the value is not valid base64 at line 1, column 12")]
    [InlineData("bad JSON", "{{ '{' | fromjson }}", "filter 'fromjson': the text is not valid JSON at line 1, column 10")]
    [InlineData("bad regex", "{{ 'a' | regex_match('(') }}", "invalid regular expression at line 1, column 10")]
    [InlineData("bad group reference", "{{ 'a' | regex_replace('a', '\\2') }}", "invalid group reference '2' in the replacement at line 1, column 10")]
    public void Render_BadFilterArguments_AreErrorsAtTheFilter(string row, string template, string expected)
    {
        RenderError(template).Message.ShouldStartWith(expected, customMessage: row);
    }
}
