using System.Globalization;
using Microsoft.Extensions.Options;
using OpsRobot.Chat.BuiltIn;
using OpsRobot.Chat.Tests.Support;
using OpsRobot.Core.Chat;
using OpsRobot.Core.Commands;
using OpsRobot.Core.Rooms;
using OpsRobot.Core.Users;
using OpsRobot.Testing;

namespace OpsRobot.Chat.Tests.BuiltIn;

/// <summary>The robot's later messages (alerts, inquiries, results) reaching built-in rooms through the sender.</summary>
public sealed class BuiltInChatReplySenderTests : IAsyncLifetime
{
    private readonly TempDirectory _dir = new("opsrobot-sender");
    private ChatHarness _h = null!;
    private UserRecord _alice = null!;
    private RoomRecord _ops = null!;
    private BuiltInChatReplySender _sender = null!;

    public async Task InitializeAsync()
    {
        _h = await ChatHarness.StartAsync(_dir.Combine("opsrobot.db"));
        _alice = await _h.CreateUserAsync("alice");
        // Rooms made first so that the ids and the names below differ: a name that is another room's id must not be taken for it.
        await _h.Rooms.CreateAsync("lobby", "Lobby", _alice.Id, _h.Time.GetUtcNow(), CancellationToken.None);
        await _h.Rooms.CreateAsync("dev", "Dev", _alice.Id, _h.Time.GetUtcNow(), CancellationToken.None);
        _ops = await _h.Rooms.CreateAsync("ops", "Operations", _alice.Id, _h.Time.GetUtcNow(), CancellationToken.None);
        _sender = new BuiltInChatReplySender(_h.Rooms, _h.Feed, Options.Create(new RobotOptions()), _h.Time);
    }

    public async Task DisposeAsync()
    {
        await _h.DisposeAsync();
        _dir.Dispose();
    }

    [Theory]
    [InlineData("web")]
    [InlineData("shell")]
    public async Task SendAsync_ByRoomName_ReachesTheRoomAndItsMembers(string platform)
    {
        using var alice = _h.Feed.Subscribe(_alice.Id);

        var sent = await _sender.SendAsync(platform, new ChatRoom("ops", "ops", IsDirect: false), new OutgoingMessage("disk full on web1"), CancellationToken.None);

        sent.ShouldBeTrue();
        var said = (await _h.HistoryAsync(_ops)).ShouldHaveSingleItem();
        (said.AuthorKind, said.Text).ShouldBe((AuthorKind.Robot, "disk full on web1"));
        ChatHarness.Drain(alice).ShouldBe([said]);
    }

    [Fact]
    public async Task SendAsync_ById_StillReachesTheRoom()
    {
        var sent = await _sender.SendAsync("web", new ChatRoom(_ops.Id.ToString(CultureInfo.InvariantCulture), "ops", IsDirect: false), new OutgoingMessage("done"), CancellationToken.None);

        sent.ShouldBeTrue();
        (await _h.HistoryAsync(_ops)).ShouldHaveSingleItem().Text.ShouldBe("done");
    }

    [Fact]
    public async Task SendAsync_ByANameThatIsAnotherRoomsId_GoesToTheRoomOfThatName()
    {
        var renamed = await _h.Rooms.CreateAsync(_ops.Id.ToString(CultureInfo.InvariantCulture), "named as ops' id", _alice.Id, _h.Time.GetUtcNow(), CancellationToken.None);

        (await _sender.SendAsync("web", new ChatRoom(renamed.Name, renamed.Name, IsDirect: false), new OutgoingMessage("to the named room"), CancellationToken.None)).ShouldBeTrue();

        (await _h.HistoryAsync(renamed)).ShouldHaveSingleItem().Text.ShouldBe("to the named room");
        (await _h.HistoryAsync(_ops)).ShouldBeEmpty();
    }

    [Fact]
    public async Task SendAsync_GivenItsIdAsBothIdAndName_NoRoomOfThatName_ReachesTheRoomByItsId()
    {
        // What a caller with no name for the room sends: ChatRoom(id, RoomName ?? id).
        var id = _ops.Id.ToString(CultureInfo.InvariantCulture);

        (await _sender.SendAsync("web", new ChatRoom(id, id, IsDirect: false), new OutgoingMessage("by id"), CancellationToken.None)).ShouldBeTrue();

        (await _h.HistoryAsync(_ops)).ShouldHaveSingleItem().Text.ShouldBe("by id");
    }

    [Theory]
    [InlineData("web", "nowhere")] // no room of that name
    [InlineData("irc", "ops")] // not a built-in platform: another adapter's
    public async Task SendAsync_NoSuchBuiltInRoom_IsNotSentAndSaysSo(string platform, string room)
    {
        var sent = await _sender.SendAsync(platform, new ChatRoom(room, room, IsDirect: false), new OutgoingMessage("lost"), CancellationToken.None);

        sent.ShouldBeFalse();
        (await _h.HistoryAsync(_ops)).ShouldBeEmpty();
    }
}
