using System.Text.Json.Nodes;
using OpsRobot.Chat.Rendering;
using OpsRobot.Core.Chat;

namespace OpsRobot.Chat.Tests.Rendering;

public sealed class RenderingTests
{
    private const string Mixed = "**Deploy** of `api` done\n\n| host | state |\n| --- | --- |\n| web-1 | ok \\| fine |\n| db-1 | *slow* |\n\n```sh\necho hi\n```\n\n- one\n- two\n  more\n\n1. first\n2. second";

    [Fact]
    public void Parse_MixedMarkdown_GivesEachBlockKind()
    {
        var blocks = MessageBlocks.Parse(Mixed);

        blocks.Count.ShouldBe(5);
        blocks[0].ShouldBe(new ParagraphBlock("**Deploy** of `api` done"));
        var table = blocks[1].ShouldBeOfType<TableBlock>();
        table.Header.ShouldBe(["host", "state"]);
        table.Rows[0].ShouldBe(["web-1", "ok | fine"]);
        blocks[2].ShouldBe(new CodeBlock("sh", "echo hi"));
        var bullets = blocks[3].ShouldBeOfType<ListBlock>();
        bullets.Ordered.ShouldBeFalse();
        bullets.Items.ShouldBe(["one", "two\nmore"]);
        blocks[4].ShouldBeOfType<ListBlock>().Ordered.ShouldBeTrue();
    }

    [Theory]
    [InlineData("| not | a table |\nno delimiter", "a pipe line without a delimiter row is text")]
    [InlineData("```\nunterminated\n| a | b |\n| --- | --- |", "an unclosed fence runs to the end")]
    public void Parse_Ambiguous_DoesNotInventTables(string markdown, string why)
    {
        MessageBlocks.Parse(markdown).OfType<TableBlock>().ShouldBeEmpty(why);
    }

    [Fact]
    public void Slack_ConvertsEmphasisLinksAndEscapesReservedCharacters()
    {
        InlineMarkdown.ToSlack("**bold** and *it* <!channel> & [docs](https://x.test/a?b=1&c=2) `a<b **x**`")
            .ShouldBe("*bold* and _it_ &lt;!channel&gt; &amp; <https://x.test/a?b=1&amp;c=2|docs> `a&lt;b **x**`");
    }

    [Fact]
    public void Slack_TableBecomesCodeBlock_ButtonsBecomeActions()
    {
        var message = new OutgoingMessage(Mixed)
        {
            Buttons = [new ChatButton("Approve", "!approve 12") { Style = ChatButtonStyle.Primary }, new ChatButton("Deny", "!deny 12") { Style = ChatButtonStyle.Danger }],
            Attachments = [new ChatAttachment("graph", new Uri("https://grafana.test/render.png")) { IsImage = true }, new ChatAttachment("evil", new Uri("file:///etc/passwd"))],
        };

        var post = SlackRenderer.Render(message).ShouldHaveSingleItem();

        var blocks = post.Blocks.Select(b => b!.AsObject()).ToList();
        var section = blocks[0]["text"]!["text"]!.GetValue<string>();
        section.ShouldStartWith("*Deploy* of `api` done\n\n```");
        section.ShouldContain("```\nhost   state\n-----  ---------\nweb-1  ok | fine\ndb-1   slow\n```");
        section.ShouldContain("• one\n• two\n   more");
        blocks.ShouldContain(b => b["type"]!.GetValue<string>() == "image");
        var actions = blocks.Single(b => b["type"]!.GetValue<string>() == "actions")["elements"]!.AsArray();
        actions[0]!["value"]!.GetValue<string>().ShouldBe("!approve 12");
        actions[0]!["style"]!.GetValue<string>().ShouldBe("primary");
        actions[1]!["style"]!.GetValue<string>().ShouldBe("danger");
        post.Text.ShouldNotContain("passwd");
    }

    [Fact]
    public void Slack_LongCodeBlock_IsSplitIntoFencedSectionsAndPosts()
    {
        var code = string.Join('\n', Enumerable.Range(0, 9000).Select(i => $"line {i:D5} of the log"));
        var posts = SlackRenderer.Render(new OutgoingMessage("Output:\n\n```\n" + code + "\n```"));

        posts.Count.ShouldBeGreaterThan(1);
        var sections = posts.SelectMany(p => p.Blocks).Select(b => b!["text"]!["text"]!.GetValue<string>()).ToList();
        sections.ShouldAllBe(s => s.Length <= SlackRenderer.SectionLimit);
        posts.ShouldAllBe(p => p.Blocks.Count <= SlackRenderer.BlockLimit && p.Text.Length <= SlackRenderer.TextLimit);
        var lines = sections.Skip(1).SelectMany(s =>
        {
            s.ShouldStartWith("```\n");
            s.ShouldEndWith("\n```");
            return s[4..^4].Split('\n');
        }).ToList();
        lines.ShouldBe(code.Split('\n'));
    }

    [Fact]
    public void Mattermost_KeepsTables_SignsButtonsIntoIntegrations()
    {
        var message = new OutgoingMessage(Mixed) { Buttons = [new ChatButton("Approve", "!approve 12")] };

        var post = MattermostRenderer.Render(message, MattermostRenderer.DefaultPostLimit, b => new JsonObject { ["url"] = "https://robot.test/a", ["context"] = new JsonObject { ["command"] = b.Command } })
            .ShouldHaveSingleItem();

        post.Message.ShouldContain("| host | state |\n| --- | --- |\n| web-1 | ok \\| fine |");
        var action = post.Attachments!.Single()!["actions"]![0]!;
        action["name"]!.GetValue<string>().ShouldBe("Approve");
        action["integration"]!["context"]!["command"]!.GetValue<string>().ShouldBe("!approve 12");
    }

    [Fact]
    public void Mattermost_WithoutCallbackAddress_ButtonsBecomeHints()
    {
        var post = MattermostRenderer.Render(new OutgoingMessage("Approve the deploy?") { Buttons = [new ChatButton("Approve", "!approve 12")] }, 1000, null).Single();

        post.Message.ShouldBe("Approve the deploy?\n\n**Approve**: `!approve 12`");
        post.Attachments.ShouldBeNull();
    }

    [Fact]
    public void RocketChat_TableToCode_BoldToStar_ButtonsSendTheirCommand()
    {
        var posts = RocketChatRenderer.Render(new OutgoingMessage(Mixed) { Buttons = [new ChatButton("Approve", "!approve 12")] }, RocketChatRenderer.DefaultMessageLimit);

        var post = posts.ShouldHaveSingleItem();
        post.Text.ShouldStartWith("*Deploy* of `api` done");
        post.Text.ShouldContain("```\nhost   state\n");
        post.Text.ShouldContain("*Approve*: `!approve 12`");
        var action = post.Attachments!.Single()!["actions"]![0]!;
        action["msg"]!.GetValue<string>().ShouldBe("!approve 12");
        action["msg_in_chat_window"]!.GetValue<bool>().ShouldBeTrue();
    }

    [Theory]
    [InlineData(100, "a short limit")]
    [InlineData(5000, "Rocket.Chat's default")]
    public void Split_NeverBreaksAFence_AndLosesNothing(int limit, string what)
    {
        var code = string.Join('\n', Enumerable.Range(0, 400).Select(i => $"row {i}"));
        var text = "intro " + new string('x', 30) + "\n\n```\n" + code + "\n```\n\ntail";
        var posts = RocketChatRenderer.Render(new OutgoingMessage(text), limit).Select(p => p.Text).ToList();

        posts.ShouldAllBe(p => p.Length <= limit, what);
        posts.ShouldAllBe(p => p.Split('\n').Count(l => l.StartsWith("```")) % 2 == 0, what);
        string.Join('\n', posts).Split('\n').Where(l => l.StartsWith("row ")).ShouldBe(code.Split('\n'));
    }

    [Fact]
    public void Cut_HugeWordWithSurrogates_NeverSplitsAPair()
    {
        var text = string.Concat(Enumerable.Repeat("😀", 100));
        var pieces = MessageSplitter.Cut(text, 33);

        pieces.ShouldAllBe(p => p.Length <= 33 && !char.IsHighSurrogate(p[p.Length - 1]));
        string.Concat(pieces).ShouldBe(text);
    }

    [Fact]
    public void Fallback_ForPlainChats_KeepsButtonsAsCommandsAndLinks_OnIrcToo()
    {
        var message = new OutgoingMessage("Deploy 12 needs approval.")
        {
            Buttons = [new ChatButton("Approve", "!approve 12"), new ChatButton("Deny", "!deny 12")],
            Attachments = [new ChatAttachment("graph", new Uri("https://grafana.test/g.png")) { IsImage = true }, new ChatAttachment("x", new Uri("javascript:alert(1)"))],
        };

        var markdown = MessageFallback.Markdown(message);
        var irc = OpsRobot.Chat.Irc.IrcText.ToLines(markdown, 400);

        markdown.ShouldBe("Deploy 12 needs approval.\n\n**Approve**: `!approve 12` · **Deny**: `!deny 12`\n\n[graph](https://grafana.test/g.png)");
        irc.ShouldBe(["Deploy 12 needs approval.", "Approve: `!approve 12` · Deny: `!deny 12`", "[graph](https://grafana.test/g.png)"]);
    }

    [Fact]
    public void Split_CodeFullOfBacktickRuns_StillRendersEverything()
    {
        var code = string.Join('\n', Enumerable.Range(0, 50).Select(i => new string('`', 40) + i));

        // The fence is 41 backticks: with a 64-character limit there is no room left for the code between two fences.
        var posts = MattermostRenderer.Render(new OutgoingMessage(Core.Text.Markdown.CodeBlock(code)), 64, null);

        var digits = string.Concat(posts.SelectMany(p => p.Message).Where(char.IsAsciiDigit));
        digits.ShouldBe(string.Concat(Enumerable.Range(0, 50)));
    }
}
