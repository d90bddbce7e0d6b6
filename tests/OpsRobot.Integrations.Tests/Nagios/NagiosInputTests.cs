using OpsRobot.Core.Text;
using OpsRobot.Integrations.Nagios;

namespace OpsRobot.Integrations.Tests.Nagios;

public sealed class NagiosInputTests
{
    [Theory]
    [InlineData("web01", "a plain name")]
    [InlineData("db-2.prod.example.com", "a fully qualified name")]
    [InlineData("10.0.0.7", "an IPv4 address")]
    [InlineData("fe80::1", "an IPv6 address")]
    [InlineData("  web01 ", "spaces around are trimmed")]
    public void Host_Valid_IsAccepted(string name, string why)
    {
        NagiosInput.Host(name).ShouldBe(name.Trim(), why);
    }

    [Theory]
    [InlineData("web01;DISABLE_NOTIFICATIONS", "a field separator: a second command")]
    [InlineData("web01\n[1] SHUTDOWN_PROGRAM", "a newline: a second command line")]
    [InlineData("web01\r", "a carriage return")]
    [InlineData("web\u000001", "a NUL")]
    [InlineData("wеb01", "a Cyrillic е that looks like e")]
    [InlineData("web 01", "a space")]
    [InlineData("-web01", "a leading dash")]
    [InlineData("web01$(reboot)", "shell syntax")]
    [InlineData("", "empty")]
    [InlineData("   ", "blank")]
    public void Host_Hostile_IsRefusedWithTheReason(string name, string why)
    {
        var ex = Should.Throw<NagiosException>(() => NagiosInput.Host(name), why);
        ex.Message.ShouldNotContain("\n");
        ex.Message.ShouldNotContain("\r");
    }

    [Fact]
    public void Host_TooLong_IsRefused()
    {
        Should.Throw<NagiosException>(() => NagiosInput.Host(new string('a', 256))).Message.ShouldContain("255");
    }

    [Theory]
    [InlineData("disk")]
    [InlineData("Disk Space")]
    [InlineData("HTTP /api/health")]
    [InlineData("Current Load")]
    [InlineData("check_mysql:3306")]
    public void Service_Valid_IsAccepted(string name)
    {
        NagiosInput.Service(name).ShouldBe(name);
    }

    [Theory]
    [InlineData("disk;1;1;1;x;y", "a field separator")]
    [InlineData("disk\nDISABLE_NOTIFICATIONS", "a newline")]
    [InlineData("Disk  Space", "a double space that Nagios would not match")]
    [InlineData("disk\t", "a tab")]
    [InlineData("disk=1", "Nagios's illegal '='")]
    [InlineData("dísk", "a non-ASCII letter")]
    public void Service_Hostile_IsRefused(string name, string why)
    {
        Should.Throw<NagiosException>(() => NagiosInput.Service(name), why).Message.ShouldContain("service name");
    }

    [Theory]
    [InlineData("looking into it; DISABLE_NOTIFICATIONS", "';'")]
    [InlineData("looking\n[0] SHUTDOWN_PROGRAM", "line breaks")]
    [InlineData("looking\u2028more", "line breaks")]
    [InlineData("looking\u202Eti otni", "control characters")]
    [InlineData("bell\a", "control characters")]
    public void Comment_Hostile_IsRefusedSayingWhy(string comment, string reason)
    {
        Should.Throw<NagiosException>(() => NagiosInput.Comment(comment)).Message.ShouldContain(reason);
    }

    [Fact]
    public void Comment_UnicodeAndPunctuation_IsKeptAsWritten()
    {
        NagiosInput.Comment("Jörg regarde ça: disk 95% → cleaning /var/log (ticket #42)").ShouldBe("Jörg regarde ça: disk 95% → cleaning /var/log (ticket #42)");
    }

    [Fact]
    public void Comment_TooLong_IsRefused()
    {
        Should.Throw<NagiosException>(() => NagiosInput.Comment(new string('x', NagiosInput.MaxCommentLength + 1))).Message.ShouldContain("at most");
    }

    [Theory]
    [InlineData("3", 3)]
    [InlineData("#12", 12)]
    public void DowntimeId_Number_IsParsed(string text, long expected)
    {
        NagiosInput.DowntimeId(text).ShouldBe(expected);
    }

    [Theory]
    [InlineData("0")]
    [InlineData("-1")]
    [InlineData("3;4")]
    [InlineData("abc")]
    [InlineData("99999999999999999999")]
    public void DowntimeId_NotAPositiveNumber_IsRefused(string text)
    {
        Should.Throw<NagiosException>(() => NagiosInput.DowntimeId(text)).Message.ShouldContain("downtime id");
    }

    [Theory]
    [InlineData("90s", 90)]
    [InlineData("30m", 1800)]
    [InlineData("2h", 7200)]
    [InlineData("1h30m", 5400)]
    [InlineData("1d", 86400)]
    [InlineData("1W", 604800)]
    public void Duration_Written_IsParsed(string text, int seconds)
    {
        DurationText.TryParse(text, out var duration).ShouldBeTrue();
        duration.ShouldBe(TimeSpan.FromSeconds(seconds));
        DurationText.TryParse(DurationText.Format(duration), out var again).ShouldBeTrue();
        again.ShouldBe(duration);
    }

    [Theory]
    [InlineData("2")]
    [InlineData("h")]
    [InlineData("2x")]
    [InlineData("0m")]
    [InlineData("-2h")]
    [InlineData("2h;")]
    [InlineData("9999999h")]
    public void Duration_Malformed_IsRefused(string text)
    {
        DurationText.TryParse(text, out _).ShouldBeFalse();
    }
}
