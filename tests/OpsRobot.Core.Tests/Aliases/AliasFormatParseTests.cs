using OpsRobot.Core.Aliases;

namespace OpsRobot.Core.Tests.Aliases;

public sealed class AliasFormatParseTests
{
    [Theory]
    // a parameter left open
    [InlineData("deploy {{app", 8, "does not start a valid parameter")]
    // a name with a space is not a parameter (StackStorm would leave the braces as literal text)
    [InlineData("deploy {{ app name }}", 8, "does not start a valid parameter")]
    // no name at all
    [InlineData("deploy {{}}", 8, "does not start a valid parameter")]
    // a name Python cannot use as a group name
    [InlineData("deploy {{foo-bar}}", 8, "bad character in group name 'foo-bar'")]
    // a name starting with a digit
    [InlineData("deploy {{1app}}", 8, "bad character in group name '1app'")]
    // '=' with no default makes the name "a=", which is invalid
    [InlineData("x {{a=}} y", 3, "bad character in group name 'a='")]
    // the same parameter twice
    [InlineData("deploy {{app}} {{app}}", 16, "redefinition of group name 'app'")]
    // a required and an optional parameter with one name
    [InlineData("deploy {{app}} to {{app=x}}", 19, "redefinition of group name 'app'")]
    // a regex group and a parameter with one name
    [InlineData("(?P<id>x) {{id}}", 11, "redefinition of group name 'id'")]
    // an unclosed group
    [InlineData("deploy (unclosed {{app}}", 8, "missing ), unterminated subpattern")]
    // a stray closing parenthesis
    [InlineData("deploy {{app}})", 15, "unbalanced parenthesis")]
    // an unclosed character set
    [InlineData("go [a-", 4, "unterminated character set")]
    // an unknown letter escape (Python 3.7+ refuses it)
    [InlineData("foo\\q {{x}}", 4, "bad escape \\q")]
    // a quantifier with nothing before it
    [InlineData("*deploy", 1, "nothing to repeat")]
    // two quantifiers in a row
    [InlineData("a**", 3, "multiple repeat")]
    // a quantifier on an anchor
    [InlineData("^*", 2, "nothing to repeat")]
    // Python only allows fixed-width look-behind
    [InlineData("(?<=a+)b", 1, "look-behind requires fixed-width pattern")]
    // a back-reference to an unknown name
    [InlineData("(?P=nope)", 1, "unknown group name 'nope'")]
    // a numbered back-reference before its group
    [InlineData("\\2(a)", 1, "invalid group reference 2")]
    // a back-reference inside its own group
    [InlineData("(a\\1)", 3, "cannot refer to an open group")]
    // .NET's (?<name>...) is not Python syntax
    [InlineData("(?<name>x)", 1, "unknown extension ?<n")]
    // reversed repeat bounds
    [InlineData("a{3,2}", 2, "min repeat greater than max repeat")]
    // reversed range
    [InlineData("[z-a]", 2, "bad character range z-a")]
    // a conditional with three branches
    [InlineData("(?(1)a|b|c)", 1, "conditional backref with more than two branches")]
    // a trailing backslash
    [InlineData("x\\", 2, "bad escape")]
    // ASCII-only mode has no .NET equivalent: refused rather than silently different
    [InlineData("(?a)x", 1, "not supported")]
    // named Unicode escapes are refused rather than guessed
    [InlineData("\\N{EM DASH}", 1, "not supported")]
    public void Parse_MalformedFormat_ThrowsWithColumn(string format, int column, string reason)
    {
        var ex = Should.Throw<AliasFormatException>(() => AliasFormat.Parse(format));

        ex.Column.ShouldBe(column);
        ex.Message.ShouldContain(reason);
        ex.Message.ShouldContain(format);
    }

    [Fact]
    public void Parse_GroupsNestedThousandsDeep_ThrowsInsteadOfOverflowingTheStack()
    {
        var format = new string('(', 5000) + "a" + new string(')', 5000);

        var ex = Should.Throw<AliasFormatException>(() => AliasFormat.Parse(format));

        ex.Message.ShouldContain("nested more than");
    }

    [Fact]
    public void Parse_NullFormatOrUnboundedTimeout_Throws()
    {
        Should.Throw<ArgumentNullException>(() => AliasFormat.Parse(null!));
        Should.Throw<ArgumentOutOfRangeException>(() => AliasFormat.Parse("x", TimeSpan.Zero));
        Should.Throw<ArgumentOutOfRangeException>(() => AliasFormat.Parse("x", System.Text.RegularExpressions.Regex.InfiniteMatchTimeout));
    }

    [Theory]
    // plain and optional parameters, in order
    [InlineData("deploy {{app}} to {{env=staging}}", new[] { "app", "env" })]
    // named regex groups count as parameters
    [InlineData("(?P<id>x) {{b}}", new[] { "id", "b" })]
    // test_all_the_things: five parameters of every kind
    [InlineData("{{ p0='http' }} g {{ p1=p }} a {{ url }} {{ p2={'a':'b'} }} {{ p3={{ e.i }} }}", new[] { "p0", "p1", "url", "p2", "p3" })]
    // Unicode identifiers are valid Python group names
    [InlineData("(?P<é>x) {{名前}}", new[] { "é", "名前" })]
    // no parameters
    [InlineData("lorem ipsum", new string[0])]
    public void Parse_Format_ListsParameterNamesInOrder(string format, string[] expected)
    {
        AliasFormat.Parse(format).ParameterNames.ShouldBe(expected);
    }

    [Fact]
    public void Parse_OptionalParameters_DefaultsWithQuotesRemoved()
    {
        var format = AliasFormat.Parse("{{ p0='http' }} g {{ p1=p }} a {{ url }} {{ p2={'a':'b'} }} {{ p3={{ e.i }} }} {{ p4=\"x y\" }} {{p5=\"\"}}");

        format.Defaults.ShouldBe(new Dictionary<string, string>
        {
            ["p0"] = "http",
            ["p1"] = "p",
            ["p2"] = "{'a':'b'}",
            ["p3"] = "{{ e.i }}",
            ["p4"] = "x y",
            ["p5"] = string.Empty,
        });
        format.Source.ShouldBe("{{ p0='http' }} g {{ p1=p }} a {{ url }} {{ p2={'a':'b'} }} {{ p3={{ e.i }} }} {{ p4=\"x y\" }} {{p5=\"\"}}");
    }

    [Theory]
    // the examples of the brief
    [InlineData("deploy {{app}} to {{env=staging}}", "deploy")]
    [InlineData("nagios ack {{host}}", "nagios ack")]
    // starts with a parameter
    [InlineData("{{cmd}}", "")]
    // starts with a regex construct
    [InlineData("^\\s*foo (?P<issue_key>[A-Z][A-Z0-9]+-[0-9]+)", "")]
    // lower-cased, whitespace collapsed
    [InlineData("Deploy  The   {{app}}", "deploy the")]
    // a word glued to a parameter is not a whole word
    [InlineData("deploy{{app}}", "")]
    // a word ending in an optional letter is not a whole word
    [InlineData("deploys? {{app}}", "")]
    // an optional parameter with its space still ends the word
    [InlineData("deploy {{app=web}}", "deploy")]
    // an optional parameter then a literal glued to it: "deployfoo" matches, so nothing is certain
    [InlineData("foo {{a=x}}bar", "")]
    // a format without parameters
    [InlineData("lorem ipsum", "lorem ipsum")]
    // escaped punctuation is literal
    [InlineData("v1\\.2 {{x}}", "v1.2")]
    // a top-level alternative may match anything
    [InlineData("foo|bar {{x}}", "")]
    // a global flag at the start
    [InlineData("(?i)deploy {{app}}", "")]
    // a global flag in the middle applies to the whole format (Python before 3.11)
    [InlineData("deploy (?i)now {{x}}", "")]
    // the format's own ^ (found where StackStorm looks) means StackStorm adds none
    [InlineData("foo (?:x|^)bar", "")]
    // a ^ StackStorm does not see leaves its ^ in place
    [InlineData("foo (?:^|x)bar", "foo")]
    // non-ASCII words
    [InlineData("部署 {{app}} 到 {{env}}", "部署")]
    // "feel?" is "fee" plus an optional "l"
    [InlineData("How do I feel? I feel... {{status}}!", "how do i")]
    // \s+ after a word ends it
    [InlineData("deploy\\s+{{app}}", "deploy")]
    // an end anchor ends the last word
    [InlineData("deploy now$", "deploy now")]
    // so does optional whitespace before it
    [InlineData("deploy now\\s*$", "deploy now")]
    // optional whitespace before more text does not
    [InlineData("deploy now\\s*x", "deploy")]
    // \b does not guarantee a space
    [InlineData("deploy now\\b", "deploy")]
    // leading and trailing spaces in the format
    [InlineData(" deploy {{x}}", "deploy")]
    public void LeadingLiteral_Format_IsItsWholeLiteralLeadingWords(string format, string expected)
    {
        AliasFormat.Parse(format).LeadingLiteral.ShouldBe(expected);
    }

    [Theory]
    // "deploy" + "to"
    [InlineData("deploy {{app}} to {{env}}", 8)]
    // "deploy"
    [InlineData("deploy {{app}}", 6)]
    // nothing literal
    [InlineData("{{cmd}}", 0)]
    [InlineData("", 0)]
    // the smaller side of a top-level alternative
    [InlineData("foo|barbaz", 3)]
    // an optional letter does not count
    [InlineData("deploys? {{app}}", 6)]
    // a repeated letter counts once
    [InlineData("a+b", 2)]
    // literal text inside a group does not count
    [InlineData("(?P<id>x) {{b}}", 0)]
    // regex-style match_multiple format
    [InlineData("(?:\\b|^)duplicate of (?P<issue_key>[A-Z][A-Z0-9]+-[0-9]+)(?:\\b|$)", 11)]
    public void Specificity_Format_CountsRequiredTopLevelLiteralCharacters(string format, int expected)
    {
        AliasFormat.Parse(format).Specificity.ShouldBe(expected);
    }

    [Fact]
    public void Specificity_OverlappingFormats_MoreLiteralTextWins()
    {
        var text = "deploy web to prod";
        var formats = new[] { "{{command}}", "deploy {{app}}", "deploy {{app}} to {{env}}" }.Select(AliasFormat.Parse).ToList();

        formats.ShouldAllBe(f => f.Match(text) != null);
        formats.MaxBy(f => f.Specificity)!.Source.ShouldBe("deploy {{app}} to {{env}}");
        formats.Select(f => f.Specificity).ShouldBeInOrder();
    }
}
