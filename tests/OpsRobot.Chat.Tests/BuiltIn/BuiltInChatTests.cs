using OpsRobot.Chat.BuiltIn;
using OpsRobot.Chat.Tests.Support;
using OpsRobot.Core.Chat;
using OpsRobot.Core.Rooms;
using OpsRobot.Core.Users;
using OpsRobot.Testing;

namespace OpsRobot.Chat.Tests.BuiltIn;

public sealed class BuiltInChatTests : IAsyncLifetime
{
    private readonly TempDirectory _dir = new("opsrobot-chat");
    private ChatHarness _h = null!;
    private UserRecord _alice = null!;
    private UserRecord _bob = null!;
    private UserRecord _carol = null!;
    private RoomRecord _ops = null!;

    public async Task InitializeAsync()
    {
        _h = await ChatHarness.StartAsync(_dir.Combine("opsrobot.db"));
        _alice = await _h.CreateUserAsync("alice");
        _bob = await _h.CreateUserAsync("bob");
        _carol = await _h.CreateUserAsync("carol");
        _ops = await _h.Rooms.CreateAsync("ops", "Operations", _alice.Id, _h.Time.GetUtcNow(), CancellationToken.None);
        await _h.Rooms.JoinAsync(_ops.Id, _bob.Id, _h.Time.GetUtcNow(), CancellationToken.None);
    }

    public async Task DisposeAsync()
    {
        await _h.DisposeAsync();
        _dir.Dispose();
    }

    [Fact]
    public async Task PostAsync_AddressedLine_StoresLineThenReplyInOrder()
    {
        var result = await _h.Chat.PostAsync(_alice, _ops, "!ping", "web", CancellationToken.None);

        result.Message.ShouldBe(new StoredMessage(result.Message.Id, _ops.Id, "ops", AuthorKind.User, _alice.Id, "alice", "!ping", _h.Time.GetUtcNow()));
        var reply = result.Reply.ShouldNotBeNull();
        reply.Id.ShouldBeGreaterThan(result.Message.Id);
        (reply.AuthorKind, reply.UserId, reply.AuthorName, reply.Text).ShouldBe((AuthorKind.Robot, (long?)null, "opsrobot", "pong"));
        (await _h.HistoryAsync(_ops)).ShouldBe([result.Message, reply]);
    }

    [Fact]
    public async Task PostAsync_AddressedLine_EveryConnectedMemberGetsBothButNotOthers()
    {
        using var aliceTab1 = _h.Feed.Subscribe(_alice.Id);
        using var aliceTab2 = _h.Feed.Subscribe(_alice.Id);
        using var bob = _h.Feed.Subscribe(_bob.Id);
        using var carol = _h.Feed.Subscribe(_carol.Id);

        var result = await _h.Chat.PostAsync(_alice, _ops, "!ping", "web", CancellationToken.None);

        StoredMessage[] expected = [result.Message, result.Reply!];
        ChatHarness.Drain(aliceTab1).ShouldBe(expected);
        ChatHarness.Drain(aliceTab2).ShouldBe(expected);
        ChatHarness.Drain(bob).ShouldBe(expected);
        ChatHarness.Drain(carol).ShouldBeEmpty();
    }

    [Fact]
    public async Task PostAsync_RobotSeesWhoAndWhere()
    {
        var result = await _h.Chat.PostAsync(_bob, _ops, "opsrobot: whoami", "web", CancellationToken.None);

        result.Reply.ShouldNotBeNull().Text.ShouldBe($"You are **bob** (user id `{_bob.Id}` on `web`), writing in room `ops`.");
    }

    [Fact]
    public async Task PostAsync_UnaddressedLineInRoom_StoredAndDeliveredWithNoReply()
    {
        using var bob = _h.Feed.Subscribe(_bob.Id);

        var result = await _h.Chat.PostAsync(_alice, _ops, "good morning, ping me when the deploy is done", "web", CancellationToken.None);

        result.Reply.ShouldBeNull();
        (await _h.HistoryAsync(_ops)).ShouldBe([result.Message]);
        ChatHarness.Drain(bob).ShouldBe([result.Message]);
    }

    [Fact]
    public async Task PostAsync_PlainLineInDirectRoom_RobotAnswers()
    {
        var direct = await _h.Rooms.GetOrCreateDirectAsync(_alice.Id, _alice.Name, _h.Time.GetUtcNow(), CancellationToken.None);

        var result = await _h.Chat.PostAsync(_alice, direct, "ping", "web", CancellationToken.None);

        result.Reply.ShouldNotBeNull().Text.ShouldBe("pong");
        (await _h.HistoryAsync(direct)).Select(m => m.Text).ShouldBe(["ping", "pong"]);
    }

    [Theory]
    [InlineData("empty", "", ScreenVerdict.Empty)]
    [InlineData("whitespace", "  \t  ", ScreenVerdict.Empty)]
    [InlineData("terminal escape", "!echo \x1b[2J\x1b[H", ScreenVerdict.Binary)]
    [InlineData("NUL byte", "!ping\0", ScreenVerdict.Binary)]
    [InlineData("lone surrogate", "!echo \uD800", ScreenVerdict.Binary)]
    [InlineData("replacement character", "!echo \uFFFD", ScreenVerdict.Binary)]
    public async Task PostAsync_BadLine_RefusedWithVerdictAndNothingStoredOrSent(string row, string text, ScreenVerdict verdict)
    {
        using var bob = _h.Feed.Subscribe(_bob.Id);

        var ex = await Should.ThrowAsync<ChatRefusedException>(() => _h.Chat.PostAsync(_alice, _ops, text, "web", CancellationToken.None), row);

        ex.Verdict.ShouldBe(verdict, row);
        ex.Message.ShouldBe(MessageScreen.Explain(verdict, text.Length, 4000), row);
        (await _h.HistoryAsync(_ops)).ShouldBeEmpty(row);
        ChatHarness.Drain(bob).ShouldBeEmpty(row);
    }

    [Fact]
    public async Task PostAsync_OneOverTheLimit_RefusedAsTooLongAndNotStored()
    {
        var text = "!echo " + new string('a', 4001 - 6);

        var ex = await Should.ThrowAsync<ChatRefusedException>(() => _h.Chat.PostAsync(_alice, _ops, text, "web", CancellationToken.None));

        ex.Verdict.ShouldBe(ScreenVerdict.TooLong);
        ex.Message.ShouldContain("4,001 characters long; the limit is 4,000");
        (await _h.HistoryAsync(_ops)).ShouldBeEmpty();
    }

    [Fact]
    public async Task PostAsync_ExactlyAtTheLimit_StoredWhole()
    {
        var text = "!echo " + new string('a', 4000 - 6);

        var result = await _h.Chat.PostAsync(_alice, _ops, text, "web", CancellationToken.None);

        result.Message.Text.ShouldBe(text);
        result.Reply.ShouldNotBeNull().Text.ShouldBe(new string('a', 4000 - 6));
    }
}
