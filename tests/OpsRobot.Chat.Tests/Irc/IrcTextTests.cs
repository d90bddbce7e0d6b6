using System.Text;
using OpsRobot.Chat.Irc;

namespace OpsRobot.Chat.Tests.Irc;

public sealed class IrcTextTests
{
    [Fact]
    public void ToLines_CodeBlockAndTable_BecomePlainLines()
    {
        var markdown = "**Result**\n```\nline 1\nline 2\n```\n| name | state |\n| --- | --- |\n| web | up |";

        var lines = IrcText.ToLines(markdown, 400);

        lines.ShouldBe(["Result", "  line 1", "  line 2", "name  state", "-----------", "web   up"]);
    }

    [Theory]
    [InlineData("hello\r\nQUIT :bye")] // CR LF
    [InlineData("hello\rQUIT :bye")] // bare CR, a line end for many servers
    [InlineData("hello\nQUIT :bye")] // LF
    public void ToLines_LineBreaksInText_BecomeSeparateLinesNeverACommand(string text)
    {
        var lines = IrcText.ToLines(text, 400);

        lines.ShouldBe(["hello", "QUIT :bye"]);
        lines.ShouldAllBe(l => !l.Contains('\r') && !l.Contains('\n'));
    }

    [Theory]
    [InlineData("a\0b", "ab")] // NUL
    [InlineData("\u0002bold\u0002 \u001Ditalic\u001D \u001Funder\u001F \u000Freset \u0016rev \u0011mono \u001Estrike", "bold italic under reset rev mono strike")]
    [InlineData("\u000304,12red\u0003 plain", "red plain")] // colour with foreground and background
    [InlineData("\u00034text", "text")] // one-digit colour
    [InlineData("\u0004FF00AAhex", "hex")] // hex colour
    [InlineData("\u0001ACTION dances\u0001", "ACTION dances")] // CTCP marker neutralised
    [InlineData("a\tb", "a b")] // tab
    [InlineData("\u001b[31mansi", "[31mansi")] // escape removed
    public void StripControls_RemovesFormattingAndControls(string text, string expected) =>
        IrcText.StripControls(text).ShouldBe(expected);

    [Fact]
    public void ToLines_LongText_SplitsAtTheByteLimitWithoutLoss()
    {
        var text = new string('x', 1500);

        var lines = IrcText.ToLines(text, 400);

        lines.Select(l => l.Length).ShouldBe([400, 400, 400, 300]);
        string.Concat(lines).ShouldBe(text);
    }

    [Fact]
    public void ToLines_MultibyteText_SplitsOnCharacterBoundaries()
    {
        // '€' is 3 bytes and '😀' 4 (a surrogate pair): no piece may end in the middle of either.
        var text = string.Concat(Enumerable.Repeat("€😀a", 100));

        var lines = IrcText.ToLines(text, 10);

        lines.ShouldAllBe(l => Encoding.UTF8.GetByteCount(l) <= 10);
        foreach (var line in lines)
        {
            char.IsHighSurrogate(line[^1]).ShouldBeFalse();
            char.IsLowSurrogate(line[0]).ShouldBeFalse();
        }

        string.Concat(lines).ShouldBe(text);
    }

    [Fact]
    public void ToLines_EmptyAndBlankLines_AreDropped() =>
        IrcText.ToLines("a\n\n   \n\u0002\u0002\nb", 400).ShouldBe(["a", "b"]);

    [Theory]
    [InlineData("\u0001ACTION waves\u0001", true)]
    [InlineData("\u0001VERSION\u0001", true)]
    [InlineData("!ping", false)]
    [InlineData("", false)]
    public void IsCtcp_RecognisesCtcpIncludingAction(string text, bool ctcp) => IrcText.IsCtcp(text).ShouldBe(ctcp);
}
