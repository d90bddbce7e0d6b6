using System.Text.RegularExpressions;
using OpsRobot.Core.Aliases;

namespace OpsRobot.Core.Tests.Aliases;

public sealed class TrailingPairsTests
{
    // StackStorm's own pattern for the run of pairs at the end of a command (match_kv_pairs_at_end), with Python's
    // \s, run on a backtracking engine: the reference the linear-time finder must agree with.
    private static readonly Regex StackStormEnding = new(
        """.*?(?<run>(?:(?:^|[\s\x1C-\x1F]+)[\s\x1C-\x1F]*[^\s\x1C-\x1F]+?[\s\x1C-\x1F]*=(?:""|''|".+?"|'.+?'|\{.+?\}|[^\s\x1C-\x1F]+)[\s\x1C-\x1F]*)*)$""",
        RegexOptions.Singleline | RegexOptions.CultureInvariant,
        TimeSpan.FromSeconds(10));

    [Theory]
    // no pairs
    [InlineData("deploy web")]
    // one pair at the end
    [InlineData("deploy web a=1")]
    // the whole text is pairs
    [InlineData("a=1 b=2")]
    // quoted values with spaces
    [InlineData("x a=\"p q\" r='s t'")]
    // a pair in the middle does not count
    [InlineData("x a=1 y b=2")]
    // an unclosed quote
    [InlineData("x a=\"p q")]
    // JSON with spaces
    [InlineData("x d={\"a\": \"b\"}")]
    // key= with no value
    [InlineData("x a= b=1")]
    // a trailing newline
    [InlineData("x a=1\n")]
    // unit separator as whitespace
    [InlineData("x\u001fa=1")]
    // text before the value's closing quote looks like a pair
    [InlineData("x a=\"y b=\"z\"")]
    public void FindStart_Text_SameStartAsStackStormsPattern(string text)
    {
        TrailingPairs.FindStart(text).ShouldBe(ReferenceStart(text));
    }

    [Fact]
    public void FindStart_RandomTexts_SameStartAsStackStormsPattern()
    {
        var random = new Random(7);
        string[] tokens = ["a=1", "b=\"x y\"", "c='z'", "d={\"q\": 2}", "e=", "=", "\"", "'", "{", "}", "word", "k=v=w", "x=\"", "a =2", "é=ü"];
        string[] gaps = [" ", "  ", "\t", "\u001f", "", "\n"];

        for (var i = 0; i < 3000; i++)
        {
            var text = string.Concat(Enumerable.Range(0, random.Next(1, 7)).Select(_ => tokens[random.Next(tokens.Length)] + gaps[random.Next(gaps.Length)]));

            TrailingPairs.FindStart(text).ShouldBe(ReferenceStart(text), $"text \"{text}\"");
        }
    }

    [Fact]
    public void Read_Run_ValuesUnquotedAndInOrder()
    {
        var pairs = TrailingPairs.Read(" a=foobar1 b=\"boobar2 3 4\" c='coobar3 4' d={\"a\": \"b\"} e=\"\"");

        pairs.Select(p => $"{p.Key}|{p.Value}").ShouldBe(["a|foobar1", "b|boobar2 3 4", "c|coobar3 4", "d|{\"a\": \"b\"}", "e|"]);
    }

    private static int ReferenceStart(string text)
    {
        var run = StackStormEnding.Match(text).Groups["run"];
        return run.Length > 0 ? run.Index : text.Length;
    }
}
