using OpsRobot.Core.Aliases;

namespace OpsRobot.Core.Tests.Aliases;

public sealed class PythonRegexTranslatorTests
{
    [Theory]
    // test_beginning_tokens / test_no_ending_tokens
    [InlineData("^asdf", true, false)]
    // test_no_beginning_or_ending_tokens
    [InlineData("asdf", false, false)]
    // test_backwards
    [InlineData("^asdf$", true, true)]
    // test_branches: the $ is in the second branch, which is the only one searched, so ^ in the first is missed
    [InlineData("^asdf|fdsa$", false, true)]
    // test_subpatterns
    [InlineData("^(?:asdf|fdsa$)", true, true)]
    // \A and \Z count too
    [InlineData("\\Aasdf\\Z", true, true)]
    // a quantified group is not looked into
    [InlineData("(?:^a)?b(?:$)?", false, false)]
    // nor a look-around
    [InlineData("(?=^)a(?=$)", false, false)]
    // of three branches only the second is searched
    [InlineData("a|^b|c", true, false)]
    [InlineData("^a|b|^c", false, false)]
    // a capturing group and a scoped-flag group are looked into
    [InlineData("(^a)(?i:b$)", true, true)]
    public void ContainsAnchor_Pattern_LooksWhereStackStormsSearchRegexTokensLooks(string pattern, bool beginning, bool end)
    {
        var tree = PythonRegexTranslator.Translate(pattern).Tree;

        PythonRegexTranslator.ContainsAnchor(tree, PyAnchor.Beginning, PyAnchor.BeginningString).ShouldBe(beginning);
        PythonRegexTranslator.ContainsAnchor(tree, PyAnchor.End, PyAnchor.EndString).ShouldBe(end);
    }

    [Theory]
    // \1 is the first group in Python even when it is named (.NET would number named groups last)
    [InlineData("(?P<a>x)(y)\\1", "xyx", true)]
    [InlineData("(?P<a>x)(y)\\1", "xyy", false)]
    // \Z is the very end in Python (.NET's \Z also allows a final newline)
    [InlineData("ab\\Z", "ab\n", false)]
    // Python's \s includes U+001C..U+001F
    [InlineData("a\\sb", "a\u001cb", true)]
    [InlineData("a\\Sb", "a\u001cb", false)]
    // {,2} is a quantifier in Python (a literal in .NET)
    [InlineData("xa{,2}", "xaa", true)]
    // verbose mode is applied by the translator
    [InlineData("(?x) a b # comment", "ab", true)]
    public void Parse_PythonOnlySemantics_MatchAsPythonDoes(string format, string text, bool matches)
    {
        (AliasFormat.Parse(format).Match(text) is not null).ShouldBe(matches);
    }
}
