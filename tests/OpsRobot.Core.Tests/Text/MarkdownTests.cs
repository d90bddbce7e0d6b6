using OpsRobot.Core.Text;

namespace OpsRobot.Core.Tests.Text;

public sealed class MarkdownTests
{
    [Theory]
    [InlineData("plain text", "ping", "`ping`")]
    [InlineData("one backtick needs a double fence", "a`b", "``a`b``")]
    [InlineData("two backticks need a triple fence", "a``b", "```a``b```")]
    [InlineData("leading backtick is padded", "`rm", "`` `rm ``")]
    [InlineData("trailing backtick is padded", "rm`", "`` rm` ``")]
    [InlineData("newline becomes a space", "one\ntwo", "`one two`")]
    public void Code_UserText_StaysInsideOneCodeSpan(string row, string text, string expected)
    {
        Markdown.Code(text).ShouldBe(expected, row);
    }

    [Fact]
    public void CodeBlock_PlainText_FencedWithLanguage()
    {
        Markdown.CodeBlock("echo hi\n\n", "bash").ShouldBe("```bash\necho hi\n```");
    }

    [Theory]
    [InlineData("a closing fence in the text", "before\n```\nafter")]
    [InlineData("a longer fence in the text", "x\n`````\ny")]
    public void CodeBlock_TextWithFences_UsesALongerFenceSoTextCannotCloseIt(string row, string text)
    {
        var block = Markdown.CodeBlock(text);

        var lines = block.Split('\n');
        var fence = lines[0];
        lines[^1].ShouldBe(fence, row);
        string.Join('\n', lines[1..^1]).ShouldBe(text, row);
        lines[1..^1].ShouldAllBe(l => !l.StartsWith(fence, StringComparison.Ordinal), row);
    }

    [Fact]
    public void Table_PlainCells_GitHubPipeTable()
    {
        var table = Markdown.Table(["name", "state"], [["store", "healthy"], ["packs", "degraded"]]);

        table.ShouldBe("| name | state |\n| --- | --- |\n| store | healthy |\n| packs | degraded |");
    }

    [Fact]
    public void Table_PipeInCell_IsEscaped()
    {
        var table = Markdown.Table(["cmd"], [["a|b"]]);

        table.ShouldBe("| cmd |\n| --- |\n| a\\|b |");
    }

    [Theory]
    [InlineData("a pipe", "x | y")]
    [InlineData("a newline", "first\nsecond")]
    [InlineData("a newline that starts a fake row", "x\n| fake | row |")]
    [InlineData("CRLF", "first\r\nsecond")]
    [InlineData("a lone CR, a line ending to Markdown", "first\r| fake | row |")]
    public void Table_HostileCell_CannotBendTheTable(string row, string cell)
    {
        var table = Markdown.Table(["a", "b"], [[cell, "ok"]]);

        var lines = table.Split('\n');
        lines.Length.ShouldBe(3, row);
        table.Contains('\r', StringComparison.Ordinal).ShouldBeFalse(row);
        lines.ShouldAllBe(l => UnescapedPipes(l) == 3, row);
    }

    private static int UnescapedPipes(string line) =>
        line.Where((c, i) => c == '|' && (i == 0 || line[i - 1] != '\\')).Count();
}
