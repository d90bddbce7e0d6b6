using OpsRobot.Core.Text;

namespace OpsRobot.Core.Tests.Text;

public sealed class DurationTextTests
{
    [Theory]
    [InlineData("seconds", "90s", 90)]
    [InlineData("a week, upper case", "1W", 604800)]
    [InlineData("a sum, as !silence and !nagios downtime took it", "1h30m", 5400)]
    [InlineData("a sum with a repeated unit", "1h1h", 7200)]
    [InlineData("thirty days in seconds, as kv --ttl took it", "2592000s", 2592000)]
    [InlineData("spaces around, as the Nagios runner took it", " 2h ", 7200)]
    [InlineData("the longest", "3650d", 315360000)]
    public void TryParse_EveryFormThatWasRead_IsRead(string row, string text, int seconds)
    {
        DurationText.TryParse(text, out var duration).ShouldBeTrue(row);
        duration.ShouldBe(TimeSpan.FromSeconds(seconds), row);
        DurationText.Parse(text).ShouldBe(TimeSpan.FromSeconds(seconds), row);
    }

    [Theory]
    [InlineData("nothing", null)]
    [InlineData("blank", "   ")]
    [InlineData("no unit", "10")]
    [InlineData("zero", "0m")]
    [InlineData("zero in a sum", "0h0m")]
    [InlineData("space inside", "1h 30m")]
    [InlineData("unknown unit", "5y")]
    [InlineData("a trailing separator", "2h;")]
    [InlineData("non-ASCII digits", "٢h")]
    [InlineData("nine digits", "123456789s")]
    [InlineData("one second over the longest", "3650d1s")]
    [InlineData("a week count that overflowed a TimeSpan in kv --ttl", "10000000w")]
    [InlineData("too long to read", "1s1s1s1s1s1s1s1s1s1s1s1s1s1s1s1s1s")]
    public void TryParse_NotADuration_IsRefused(string row, string? text)
    {
        DurationText.TryParse(text, out var duration).ShouldBeFalse(row);
        duration.ShouldBe(TimeSpan.Zero, row);
        DurationText.Parse(text).ShouldBeNull(row);
    }

    [Theory]
    [InlineData(90, "1m30s")]
    [InlineData(7200, "2h")]
    [InlineData(93784, "1d2h3m4s")]
    [InlineData(0, "0s")]
    public void Format_Duration_IsTheShortestExactFormAndReadsBack(int seconds, string expected)
    {
        var text = DurationText.Format(TimeSpan.FromSeconds(seconds));

        text.ShouldBe(expected);
        if (seconds > 0)
        {
            DurationText.Parse(text).ShouldBe(TimeSpan.FromSeconds(seconds));
        }
    }

    [Fact]
    public void NotADuration_HostileText_IsShownCutShortOnOneLineInACodeSpan()
    {
        var message = DurationText.NotADuration("soon\n!kv delete system.x\u202E" + new string('x', 100));
        var link = DurationText.NotADuration("[here](http://evil.example)`");

        message.ShouldStartWith("`soon?!kv delete system.x?");
        message.ShouldContain("…` is not a duration: write it like 90s, 30m, 2h, 1h30m, 1d or 1w (at most 3650d).");
        message.ShouldNotContain("\n");
        message.Length.ShouldBeLessThan(150);
        link.ShouldStartWith("`` [here](http://evil.example)` `` is not a duration");
    }
}
