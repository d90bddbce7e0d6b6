using OpsRobot.Core.Aliases;

namespace OpsRobot.Core.Tests.Aliases;

public sealed class AliasTextTests
{
    [Theory]
    // trimmed, collapsed, lower-cased
    [InlineData("  Deploy\tWeb \n NOW ", "deploy web now")]
    // U+001F is whitespace to Python, so here too
    [InlineData("a\u001Fb", "a b")]
    // a no-break space is whitespace
    [InlineData("\u00A0x\u00A0", "x")]
    // a zero-width space is not
    [InlineData("A\u200BB", "a\u200Bb")]
    // non-ASCII text keeps its characters
    [InlineData("部署  Booking", "部署 booking")]
    [InlineData("", "")]
    [InlineData(" \t\r\n", "")]
    public void Normalize_Text_TrimsCollapsesAndLowerCases(string text, string expected)
    {
        AliasText.Normalize(text).ShouldBe(expected);
    }

    [Theory]
    // the information separators Python counts as whitespace
    [InlineData('\u001C', true)]
    [InlineData('\u001F', true)]
    // ESC is not
    [InlineData('\u001B', false)]
    [InlineData('\u00A0', true)]
    [InlineData('\u3000', true)]
    [InlineData('\u200B', false)]
    public void IsWhiteSpace_Character_AgreesWithPythonStrIsspace(char c, bool expected)
    {
        AliasText.IsWhiteSpace(c).ShouldBe(expected);
    }

    [Fact]
    public void IsWhiteSpace_EveryBmpCharacter_IsDotNetWhitespaceOrAnInformationSeparator()
    {
        // Python's str.isspace() on the BMP is .NET's char.IsWhiteSpace plus U+001C..U+001F (checked against CPython).
        for (var c = 0; c <= 0xFFFF; c++)
        {
            var expected = char.IsWhiteSpace((char)c) || c is >= 0x1C and <= 0x1F;
            AliasText.IsWhiteSpace((char)c).ShouldBe(expected, $"U+{c:X4}");
        }
    }

    [Theory]
    // the literal followed by a space
    [InlineData("deploy web", "deploy", true)]
    // exactly the literal
    [InlineData("deploy", "deploy", true)]
    // the literal as part of a longer word
    [InlineData("deployweb", "deploy", false)]
    // an empty literal is a prefix of everything
    [InlineData("anything", "", true)]
    [InlineData("nagios ack web1", "nagios ack", true)]
    [InlineData("nagios acknowledge", "nagios ack", false)]
    public void StartsWithWords_NormalizedText_ChecksWholeWords(string text, string literal, bool expected)
    {
        AliasText.StartsWithWords(text, literal).ShouldBe(expected);
    }
}
