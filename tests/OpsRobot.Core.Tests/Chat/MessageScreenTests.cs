using OpsRobot.Core.Chat;

namespace OpsRobot.Core.Tests.Chat;

public sealed class MessageScreenTests
{
    private const int Limit = 4000;

    [Theory]
    [InlineData("null", null)]
    [InlineData("empty", "")]
    [InlineData("spaces", "    ")]
    [InlineData("tabs and newlines", "\t\r\n\n")]
    public void Check_EmptyOrWhitespace_IsEmpty(string form, string? text)
    {
        MessageScreen.Check(text, Limit).ShouldBe(ScreenVerdict.Empty, form);
    }

    [Fact]
    public void Check_ExactlyAtLimit_IsAccepted()
    {
        MessageScreen.Check(new string('a', Limit), Limit).ShouldBe(ScreenVerdict.Accepted);
    }

    [Fact]
    public void Check_OneOverLimit_IsTooLong()
    {
        MessageScreen.Check(new string('a', Limit + 1), Limit).ShouldBe(ScreenVerdict.TooLong);
    }

    [Fact]
    public void Check_HugeLineOfControlCharacters_IsTooLongBeforeAnythingReadsIt()
    {
        MessageScreen.Check(new string('\0', 1_000_000), Limit).ShouldBe(ScreenVerdict.TooLong);
    }

    [Theory]
    [InlineData("NUL byte", "!echo a\0b")]
    [InlineData("ANSI escape that would recolour a terminal", "!echo \x1b[31mred")]
    [InlineData("bell", "!echo ding\x07")]
    [InlineData("backspace", "!echo abc\bd")]
    [InlineData("DEL", "!echo \x7f")]
    [InlineData("C1 control (NEL)", "!echo a\u0085b")]
    [InlineData("lone high surrogate at the end", "!echo \uD83D")]
    [InlineData("lone high surrogate in the middle", "!echo \uD83Dx")]
    [InlineData("lone low surrogate", "!echo \uDE80")]
    [InlineData("surrogates in the wrong order", "!echo \uDE80\uD83D")]
    [InlineData("replacement character left by a bad decode", "!echo caf\uFFFD")]
    public void Check_ControlOrUndecodableCharacters_IsBinary(string form, string text)
    {
        MessageScreen.Check(text, Limit).ShouldBe(ScreenVerdict.Binary, form);
    }

    [Theory]
    [InlineData("tab", "!echo a\tb")]
    [InlineData("newline", "!echo line one\nline two")]
    [InlineData("CRLF", "!echo line one\r\nline two")]
    [InlineData("emoji (a surrogate pair)", "!echo 🚀 shipped")]
    [InlineData("emoji joined with ZWJ", "!echo 👩‍💻")]
    [InlineData("CJK", "部署 booking 到 生产")]
    [InlineData("right-to-left script", "!echo مرحبا")]
    [InlineData("combining accent", "!echo cafe\u0301")]
    public void Check_OrdinaryText_IsAccepted(string form, string text)
    {
        MessageScreen.Check(text, Limit).ShouldBe(ScreenVerdict.Accepted, form);
    }

    [Fact]
    public void Check_EmojiAtTheEnd_IsNotMistakenForALoneSurrogate()
    {
        MessageScreen.Check("ok 🚀", Limit).ShouldBe(ScreenVerdict.Accepted);
    }

    [Fact]
    public void Explain_TooLong_GivesTheLengthAndTheLimit()
    {
        var text = MessageScreen.Explain(ScreenVerdict.TooLong, 5000, 4000);

        text.ShouldBe("That message is 5,000 characters long; the limit is 4,000. Attach long text as a file or split it.");
    }
}
