using OpsRobot.Core.Commands;

namespace OpsRobot.Core.Tests.Commands;

public sealed class CommandAddressingTests
{
    private static readonly RobotOptions Defaults = new();

    [Theory]
    [InlineData("prefix", "!ping", "ping")]
    [InlineData("prefix with arguments", "!echo hello world", "echo hello world")]
    [InlineData("prefix followed by spaces", "!   ping  ", "ping")]
    [InlineData("whitespace around the line", "   !ping   ", "ping")]
    [InlineData("mention with colon", "opsrobot: ping", "ping")]
    [InlineData("mention with colon and no space", "opsrobot:ping", "ping")]
    [InlineData("at-mention with comma", "@opsrobot, ping", "ping")]
    [InlineData("mention with a space, mixed case", "OpsRobot ping", "ping")]
    [InlineData("upper-case at-mention with colon", "@OPSROBOT: status", "status")]
    [InlineData("mention followed by a tab", "opsrobot\tping", "ping")]
    [InlineData("mention keeps the arguments", "opsrobot: echo a  b", "echo a  b")]
    [InlineData("bare mention", "opsrobot", "")]
    [InlineData("bare mention with colon", "@opsrobot:", "")]
    [InlineData("bare prefix", "!", "")]
    [InlineData("bare prefix with spaces", "  !  ", "")]
    public void TryGetCommand_AddressedLineInRoom_ReturnsCommandText(string form, string line, string expected)
    {
        var command = CommandAddressing.TryGetCommand(line, isDirect: false, Defaults);

        command.ShouldBe(expected, form);
    }

    [Theory]
    [InlineData("robot's name only starts a longer word", "opsrobotics rocks")]
    [InlineData("at-name only starts a longer word", "@opsrobotics rocks")]
    [InlineData("name glued to punctuation other than : or ,", "opsrobot.ping")]
    [InlineData("plain chatter", "deploying booking now")]
    [InlineData("mention not at the start", "hey opsrobot: ping")]
    [InlineData("prefix not at the start", "say !ping")]
    [InlineData("whitespace only", "   ")]
    public void TryGetCommand_NotAddressedInRoom_ReturnsNull(string form, string line)
    {
        var command = CommandAddressing.TryGetCommand(line, isDirect: false, Defaults);

        command.ShouldBeNull(form);
    }

    [Theory]
    [InlineData("plain chatter is the whole command", "  deploy booking  ", "deploy booking")]
    [InlineData("prefix still works", "!ping", "ping")]
    [InlineData("mention still works", "opsrobot: ping", "ping")]
    [InlineData("a word that starts with the name is not a mention", "opsrobotics", "opsrobotics")]
    public void TryGetCommand_DirectRoom_EveryLineIsACommand(string form, string line, string expected)
    {
        var command = CommandAddressing.TryGetCommand(line, isDirect: true, Defaults);

        command.ShouldBe(expected, form);
    }

    [Theory]
    [InlineData("custom prefix", ".ping", "ping")]
    [InlineData("custom prefix with arguments", ".echo hi", "echo hi")]
    [InlineData("default prefix is no longer a prefix", "!ping", null)]
    [InlineData("mention still works", "opsrobot: ping", "ping")]
    public void TryGetCommand_CustomPrefix_OnlyThatPrefixCounts(string form, string line, string? expected)
    {
        var options = new RobotOptions { CommandPrefix = "." };

        var command = CommandAddressing.TryGetCommand(line, isDirect: false, options);

        command.ShouldBe(expected, form);
    }

    [Theory]
    [InlineData("plain chatter is not a command", "ping", null)]
    [InlineData("the old prefix is just text", "!ping", null)]
    [InlineData("mention still works", "opsrobot: ping", "ping")]
    public void TryGetCommand_EmptyPrefix_OnlyMentionsAddressTheRobot(string form, string line, string? expected)
    {
        var options = new RobotOptions { CommandPrefix = string.Empty };

        var command = CommandAddressing.TryGetCommand(line, isDirect: false, options);

        command.ShouldBe(expected, form);
    }

    [Fact]
    public void TryGetCommand_CustomRobotName_MentionUsesThatName()
    {
        var options = new RobotOptions { RobotName = "hal" };

        var byNewName = CommandAddressing.TryGetCommand("HAL: ping", isDirect: false, options);
        var byOldName = CommandAddressing.TryGetCommand("opsrobot: ping", isDirect: false, options);

        byNewName.ShouldBe("ping");
        byOldName.ShouldBeNull();
    }
}
