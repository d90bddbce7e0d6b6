using OpsRobot.Chat.Shell;
using OpsRobot.Chat.Tests.Support;
using OpsRobot.Testing;

namespace OpsRobot.Chat.Tests.Shell;

public sealed class TerminalTextTests
{
    [Fact]
    public void Render_Table_AlignedColumnsWithTheSeparatorRowReplaced()
    {
        var markdown = "Commands:\n| command | what it does |\n| --- | --- |\n| `!ping` | Check that the robot is listening. |\n| `!echo TEXT` | Say TEXT back. |\nThe end.";

        var text = TerminalText.Render(markdown);

        text.ShouldBe(
            "Commands:\n" +
            "command       what it does\n" +
            new string('-', 48) + "\n" +
            "`!ping`       Check that the robot is listening.\n" +
            "`!echo TEXT`  Say TEXT back.\n" +
            "The end.");
    }

    [Fact]
    public void Render_TableWithEscapedPipe_PipeShownInItsCellAndColumnsStillAligned()
    {
        var text = TerminalText.Render("| a | b |\n| --- | --- |\n| x \\| y | z |");

        text.Split('\n').ShouldBe(["a      b", "--------", "x | y  z"]);
    }

    [Fact]
    public void Render_CodeFence_FenceDroppedContentKeptIndented()
    {
        var text = TerminalText.Render("Output:\n```bash\n$ uptime\n  10:00 up 2 days\n```\nDone.");

        text.ShouldBe("Output:\n  $ uptime\n    10:00 up 2 days\nDone.");
    }

    [Fact]
    public void Render_TableInsideCodeFence_LeftAsItIs()
    {
        var text = TerminalText.Render("```\n| a | b |\n```");

        text.ShouldBe("  | a | b |");
    }

    [Theory]
    [InlineData("bold", "OpsRobot: **healthy**, up 2h", "OpsRobot: healthy, up 2h")]
    [InlineData("escaped pipe", "a \\| b", "a | b")]
    [InlineData("escaped emphasis characters", "You are **a\\*\\_\\`b**", "You are a*_`b")]
    [InlineData("inline code keeps its backticks", "Say `!help` for more.", "Say `!help` for more.")]
    public void Render_InlineMarkdown_PlainText(string row, string markdown, string expected)
    {
        TerminalText.Render(markdown).ShouldBe(expected, row);
    }

    [Theory]
    [InlineData("inside inline code", "There is no command `deploy**`.")]
    [InlineData("unpaired, as in arithmetic", "2**10")]
    public void Render_DoubleAsteriskThatIsNotBold_KeptLiterally(string row, string markdown)
    {
        TerminalText.Render(markdown).ShouldBe(markdown, row);
    }

    [Fact]
    public async Task Render_RealHelpReply_NoMarkdownTableSyntaxAndAlignedSummaries()
    {
        using var dir = new TempDirectory("opsrobot-render");
        await using var h = await ChatHarness.StartAsync(dir.Combine("opsrobot.db"));
        var help = await h.Robot.HandleAsync(new("test", new("1", "@alice", true), new("1", "alice"), "help", h.Time.GetUtcNow()));

        var text = TerminalText.Render(help!.Text);

        var lines = text.Split('\n');
        lines.ShouldNotContain(l => l.TrimStart().StartsWith('|'));
        lines.ShouldNotContain(l => l.Contains("---|", StringComparison.Ordinal));
        var header = Array.FindIndex(lines, l => l.StartsWith("command ", StringComparison.Ordinal));
        lines[header + 1].ShouldAllBe(c => c == '-');
        var rows = lines.Skip(header + 2).TakeWhile(l => l.Length > 0).ToList();
        rows.Count.ShouldBe(6);
        var summaryColumn = lines[header].IndexOf("what it does", StringComparison.Ordinal);
        rows.ShouldAllBe(r => r[summaryColumn - 1] == ' ' && r[summaryColumn] != ' ');
    }
}
