using System.Text.Json.Nodes;
using OpsRobot.Core.Rules;

namespace OpsRobot.Core.Tests.Rules;

/// <summary>
/// Every StackStorm operator by every name, each row: value (JSON), pattern (JSON), expected, and what the row shows.
/// The expectations are what st2common/operators.py answers for the same values in Python.
/// </summary>
public sealed class CriteriaOperatorTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 21, 12, 0, 0, TimeSpan.Zero);

    public static TheoryData<string, string, string, bool, string> Rows => new()
    {
        // equals / eq: Python ==
        { "equals", "\"foo\"", "\"foo\"", true, "same text" },
        { "eq", "\"foo\"", "\"Foo\"", false, "case matters" },
        { "equals", "1", "1.0", true, "1 == 1.0" },
        { "equals", "true", "1", true, "True == 1 in Python" },
        { "equals", "\"1\"", "1", false, "text is never a number" },
        { "equals", "[1,\"a\"]", "[1,\"a\"]", true, "lists by items" },
        { "equals", "{\"a\":1}", "{\"a\":1.0}", true, "mappings by keys and values" },
        { "equals", "null", "null", false, "a null pattern never holds" },
        { "equals", "null", "\"x\"", false, "missing value" },
        // nequals / neq: no null guard
        { "nequals", "\"a\"", "\"b\"", true, "differs" },
        { "neq", "\"a\"", "\"a\"", false, "same" },
        { "nequals", "null", "\"a\"", true, "a missing key differs from anything" },
        { "nequals", "null", "null", false, "None != None is false" },
        // iequals / ieq: text only
        { "iequals", "\"WatchEvent\"", "\"watchevent\"", true, "ignores case" },
        { "ieq", "\"ÉTÉ\"", "\"été\"", true, "Unicode lower-casing" },
        { "iequals", "5", "\"5\"", false, "a number has no lower()" },
        // contains and friends: Python 'in'
        { "contains", "\"disk full on db1\"", "\"full\"", true, "substring" },
        { "contains", "[\"a\",\"b\"]", "\"b\"", true, "list membership" },
        { "contains", "[\"ab\"]", "\"a\"", false, "membership is whole items" },
        { "contains", "{\"k\":1}", "\"k\"", true, "mapping keys" },
        { "contains", "{\"k\":1}", "1", false, "values are not keys" },
        { "contains", "5", "\"5\"", false, "a number contains nothing (TypeError)" },
        { "contains", "null", "\"x\"", false, "missing value (TypeError)" },
        { "contains", "\"abc\"", "1", false, "'in <string>' needs text (TypeError)" },
        { "icontains", "\"Disk FULL\"", "\"full\"", true, "ignores case" },
        { "icontains", "[\"FULL\"]", "\"full\"", false, "text only" },
        { "ncontains", "\"disk ok\"", "\"full\"", true, "absent" },
        { "ncontains", "[\"a\"]", "\"a\"", false, "present in list" },
        { "ncontains", "null", "\"a\"", false, "an error is not a yes" },
        { "incontains", "\"Disk OK\"", "\"FULL\"", true, "absent ignoring case" },
        { "incontains", "\"Disk Full\"", "\"FULL\"", false, "present ignoring case" },
        // startswith / endswith
        { "startswith", "\"prod-db1\"", "\"prod-\"", true, "prefix" },
        { "startswith", "\"Prod-db1\"", "\"prod-\"", false, "case matters" },
        { "istartswith", "\"Prod-db1\"", "\"PROD-\"", true, "ignores case" },
        { "endswith", "\"db1.example.com\"", "\".example.com\"", true, "suffix" },
        { "endswith", "[\"x.com\"]", "\".com\"", false, "text only" },
        { "iendswith", "\"DB1.EXAMPLE.COM\"", "\".example.com\"", true, "ignores case" },
        // lessthan / greaterthan
        { "lessthan", "3", "5", true, "numbers" },
        { "lt", "5", "5", false, "strict" },
        { "lessthan", "\"abc\"", "\"abd\"", true, "text by code point" },
        { "lessthan", "\"10\"", "\"9\"", true, "text compares as text, so \"10\" < \"9\"" },
        { "lessthan", "\"a\"", "5", false, "text against a number (TypeError)" },
        { "lessthan", "3", "\"5\"", true, "a numeric text pattern (a rendered template) reads as a number" },
        { "lessthan", "null", "5", false, "missing value (TypeError)" },
        { "gt", "7.5", "7", true, "floats" },
        { "greaterthan", "[1,3]", "[1,2]", true, "lists item by item" },
        { "greaterthan", "1", "null", false, "a null pattern never holds" },
        // matchwildcard: fnmatch
        { "matchwildcard", "\"web-01.prod\"", "\"web-*.prod\"", true, "star" },
        { "matchwildcard", "\"web-01.prod\"", "\"web-0?.prod\"", true, "question mark" },
        { "matchwildcard", "\"web-01.prod\"", "\"web-0[12].prod\"", true, "set" },
        { "matchwildcard", "\"web-03.prod\"", "\"web-0[!12].prod\"", true, "negated set" },
        { "matchwildcard", "\"web-01.prod\"", "\"web\"", false, "whole text" },
        { "matchwildcard", "\"a.b\"", "\"a?b\"", true, "dot is a literal only in the pattern" },
        { "matchwildcard", "\"axb\"", "\"a.b\"", false, "dot in the pattern is literal" },
        { "matchwildcard", "\"line1\\nline2\"", "\"line1*\"", true, "star crosses newlines" },
        { "matchwildcard", "\"[x\"", "\"[x\"", true, "an unclosed bracket is literal" },
        // regex: re.search; iregex: re.search ignoring case; matchregex: re.match with DOTALL
        { "regex", "\"error: disk full\"", "\"disk\\\\s+full\"", true, "search anywhere" },
        { "regex", "\"Disk full\"", "\"disk\"", false, "case matters" },
        { "iregex", "\"Disk full\"", "\"disk\"", true, "ignores case" },
        { "matchregex", "\"error: disk full\"", "\"disk\"", false, "match is anchored at the start" },
        { "matchregex", "\"disk full\"", "\"disk\"", true, "prefix is enough (not fullmatch)" },
        { "matchregex", "\"a\\nb\"", "\"a.b\"", true, "DOTALL: dot crosses newlines" },
        { "regex", "\"a\\nb\"", "\"a.b\"", false, "without DOTALL dot stops at newline" },
        { "regex", "\"id=42\"", "\"id=(?P<n>\\\\d+)\"", true, "Python named groups" },
        { "regex", "42", "\"4\"", false, "a number is not text (TypeError)" },
        // timediff_lt / td_lt, timediff_gt / td_gt: seconds between the value and now
        { "timediff_lt", "\"2026-11-21T11:59:30Z\"", "60", true, "30 s ago, less than 60" },
        { "td_lt", "\"2026-11-21T11:58:00Z\"", "60", false, "120 s ago" },
        { "timediff_gt", "\"2026-11-21T11:58:00Z\"", "60", true, "120 s ago, more than 60" },
        { "td_gt", "\"2026-11-21T11:59:30\"", "60", false, "no offset means UTC" },
        { "timediff_lt", "\"2026-11-21T13:59:30+02:00\"", "\"60\"", true, "offsets and numeric text" },
        { "timediff_lt", "\"yesterday\"", "60", false, "not a date" },
        { "timediff_lt", "1700000000", "60", false, "a number is not a date string" },
        // exists / nexists: a value other than null
        { "exists", "\"x\"", "null", true, "present" },
        { "exists", "false", "null", true, "false is a value" },
        { "exists", "null", "null", false, "missing or null" },
        { "nexists", "null", "null", true, "missing or null" },
        { "nexists", "0", "null", false, "zero is a value" },
        // inside / in, ninside / nin: value in pattern
        { "inside", "\"prod\"", "[\"prod\",\"staging\"]", true, "in a list" },
        { "in", "\"dev\"", "[\"prod\",\"staging\"]", false, "not in the list" },
        { "inside", "\"rod\"", "\"production\"", true, "substring of a text pattern" },
        { "inside", "\"a\"", "{\"a\":1}", true, "a key of a mapping" },
        { "inside", "2", "[1,2.0]", true, "numbers compare by value" },
        { "inside", "null", "[null]", true, "None in [None]" },
        { "inside", "5", "\"5\"", false, "a number in text (TypeError)" },
        { "ninside", "\"dev\"", "[\"prod\"]", true, "absent" },
        { "nin", "\"prod\"", "[\"prod\"]", false, "present" },
        { "ninside", "\"x\"", "null", false, "a null pattern never holds" },
    };

    [Theory]
    [MemberData(nameof(Rows))]
    public void Apply_ValueAndPattern_AnswersAsStackStorm(string op, string value, string pattern, bool expected, string why)
    {
        var canonical = CriteriaOperators.Canonical(op);
        canonical.ShouldNotBeNull(why);

        var outcome = CriteriaOperators.Apply(canonical, JsonNode.Parse(value), JsonNode.Parse(pattern), Now);

        outcome.Holds.ShouldBe(expected, $"{op} {value} {pattern}: {why} ({outcome.Detail})");
        outcome.Detail.ShouldNotBeNullOrWhiteSpace();
    }

    [Theory]
    [InlineData("EQ", "equals")]
    [InlineData(" td_gt ", "timediff_gt")]
    [InlineData("nin", "ninside")]
    [InlineData("Search", "search")]
    public void Canonical_AnyCaseAndAlias_GivesTheLongName(string written, string canonical) =>
        CriteriaOperators.Canonical(written).ShouldBe(canonical);

    [Theory]
    [InlineData("equal")]
    [InlineData("match_wildcard")]
    [InlineData("")]
    public void Canonical_UnknownName_IsNull(string written) => CriteriaOperators.Canonical(written).ShouldBeNull();

    [Fact]
    public void Names_CoverEveryOperatorTheIssueLists()
    {
        string[] listed =
        [
            "equals", "eq", "nequals", "neq", "iequals", "ieq", "contains", "icontains", "ncontains", "incontains", "startswith",
            "istartswith", "endswith", "iendswith", "lessthan", "lt", "greaterthan", "gt", "matchwildcard", "regex", "iregex",
            "matchregex", "timediff_lt", "td_lt", "timediff_gt", "td_gt", "exists", "nexists", "inside", "in", "ninside", "nin", "search",
        ];

        CriteriaOperators.Names.Keys.Order(StringComparer.Ordinal).ShouldBe(listed.Order(StringComparer.Ordinal));
    }

    [Theory]
    [InlineData("regex", "(unclosed")]
    [InlineData("matchregex", "a{2,1}")]
    [InlineData("iregex", "(?P<1bad>x)")]
    public void CheckStaticPattern_BrokenRegex_SaysWhy(string op, string pattern) =>
        CriteriaOperators.CheckStaticPattern(op, JsonValue.Create(pattern)).ShouldNotBeNull();

    [Fact]
    public void Apply_BrokenRegexAtRunTime_DoesNotHoldAndSaysWhy()
    {
        var outcome = CriteriaOperators.Apply("regex", JsonValue.Create("x"), JsonValue.Create("(unclosed"), Now);

        outcome.Holds.ShouldBeFalse();
        outcome.Detail.ShouldContain("does not compile");
    }

    [Fact]
    public void Apply_CatastrophicRegex_StopsAtTheTimeoutInsteadOfHanging()
    {
        var hostile = new string('a', 5000) + "!";

        var outcome = CriteriaOperators.Apply("regex", JsonValue.Create(hostile), JsonValue.Create("^(a+)+$"), Now);

        outcome.Holds.ShouldBeFalse();
    }

    [Fact]
    public void Apply_OversizedPattern_IsRefused()
    {
        var outcome = CriteriaOperators.Apply("regex", JsonValue.Create("x"), JsonValue.Create(new string('x', CriteriaOperators.MaxPatternLength + 1)), Now);

        outcome.Holds.ShouldBeFalse();
        outcome.Detail.ShouldContain("longer than");
    }

    [Theory]
    [InlineData("*.py", @"\A(?s:.*\.py)\z")]
    [InlineData("a?[!b]", @"\A(?s:a.[^b])\z")]
    [InlineData("[]]", @"\A(?s:[]])\z")]
    public void TranslateWildcard_AsPythonFnmatch(string pattern, string regex) =>
        CriteriaOperators.TranslateWildcard(pattern).ShouldBe(regex);
}
