using OpsRobot.Chat.Irc;

namespace OpsRobot.Chat.Tests.Irc;

public sealed class IrcMessageTests
{
    [Theory]
    [InlineData(":alice!al@host PRIVMSG #ops :!ping now", "alice", "PRIVMSG", new[] { "#ops", "!ping now" })] // prefix and trailing
    [InlineData("PING :irc.test", null, "PING", new[] { "irc.test" })] // no prefix
    [InlineData(":irc.test 001 opsbot :Welcome to the net", "irc.test", "001", new[] { "opsbot", "Welcome to the net" })] // numeric
    [InlineData(":irc.test 433 * opsbot :Nickname already in use", "irc.test", "433", new[] { "*", "opsbot", "Nickname already in use" })]
    [InlineData(":a!b@c   KICK  #ops  opsbot :bye", "a", "KICK", new[] { "#ops", "opsbot", "bye" })] // extra spaces
    [InlineData(":a!b@c PRIVMSG #ops ::)", "a", "PRIVMSG", new[] { "#ops", ":)" })] // trailing starting with a colon
    [InlineData(":a!b@c PRIVMSG #ops :", "a", "PRIVMSG", new[] { "#ops", "" })] // empty trailing
    [InlineData("@time=x :a!b@c privmsg #ops hi", "a", "PRIVMSG", new[] { "#ops", "hi" })] // tags skipped, command upper-cased
    public void TryParse_WellFormedLine_GivesPrefixCommandAndParameters(string line, string? nick, string command, string[] parameters)
    {
        var message = IrcMessage.TryParse(line);

        message.ShouldNotBeNull();
        message.Nick.ShouldBe(nick);
        message.Command.ShouldBe(command);
        message.Parameters.ShouldBe(parameters);
    }

    [Fact]
    public void TryParse_FifteenthParameter_TakesTheRestOfTheLine()
    {
        var message = IrcMessage.TryParse("CMD 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16");

        message.ShouldNotBeNull();
        message.Parameters.Count.ShouldBe(15);
        message.Parameters[14].ShouldBe("15 16");
    }

    [Theory]
    [InlineData("")] // empty
    [InlineData(":onlyprefix")] // no command
    [InlineData(": PRIVMSG #ops :x")] // empty prefix
    [InlineData(":a!b@c PRIV-MSG #ops :x")] // not a command word
    [InlineData(":a!b@c 12 #ops :x")] // two-digit numeric
    [InlineData(":a!b@c PRIVMSG #ops :x\0y")] // NUL inside
    [InlineData("@tagsonly")] // tags and nothing else
    public void TryParse_MalformedLine_IsNull(string line) => IrcMessage.TryParse(line).ShouldBeNull();

    [Theory]
    [InlineData("hello world", "PRIVMSG #ops :hello world")]
    [InlineData("word", "PRIVMSG #ops word")]
    [InlineData(":starts", "PRIVMSG #ops ::starts")]
    public void Format_LastParameter_GetsAColonWhenNeeded(string text, string expected) =>
        IrcMessage.Format("PRIVMSG", "#ops", text).ShouldBe(expected);

    [Theory]
    [InlineData("#ops", "a\r\nQUIT")] // CR LF in the text
    [InlineData("#ops", "a\nQUIT")] // LF alone
    [InlineData("#ops", "a\0b")] // NUL
    [InlineData("#ops x", "hi")] // space in a middle parameter
    [InlineData("", "hi")] // empty middle parameter
    public void Format_ParameterThatWouldBendTheLine_Throws(string target, string text) =>
        Should.Throw<ArgumentException>(() => IrcMessage.Format("PRIVMSG", target, text));

    [Theory]
    [InlineData("opsrobot", true)]
    [InlineData("[bot]_1", true)]
    [InlineData("1bot", false)] // starts with a digit
    [InlineData("bot name", false)] // space
    [InlineData("", false)]
    public void IsValidNick_FollowsRfc2812(string nick, bool valid) => IrcProtocol.IsValidNick(nick).ShouldBe(valid);

    [Fact]
    public void NickEquals_UsesRfc1459CaseMapping() => IrcProtocol.NickEquals("Ops[Bot]", "ops{bot}").ShouldBeTrue();

    [Theory]
    [InlineData("#ops", true)]
    [InlineData("nick", true)]
    [InlineData("#a,#b", false)] // a comma would address two targets
    [InlineData("#a b", false)]
    [InlineData(":x", false)]
    [InlineData("x\r\nQUIT", false)]
    public void IsValidTarget_RefusesWhatCouldAddressSomethingElse(string target, bool valid) => IrcProtocol.IsValidTarget(target).ShouldBe(valid);
}
