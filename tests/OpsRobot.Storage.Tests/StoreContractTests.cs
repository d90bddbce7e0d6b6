using OpsRobot.Core.Rooms;
using OpsRobot.Core.Storage;
using OpsRobot.Core.Users;
using OpsRobot.Testing;

namespace OpsRobot.Storage.Tests;

/// <summary>The stores a contract test runs against: one instance of each, opened on the test's database.</summary>
public sealed record StoreSet(IUserStore Users, IRoomStore Rooms, OpsRobot.Core.Executions.IExecutionStore Executions, OpsRobot.Core.Access.IAccessStore Access, OpsRobot.Core.Audit.IAuditStore Audit);

/// <summary>
/// What every store behind <see cref="IUserStore"/> and <see cref="IRoomStore"/> must do, whatever the database.
/// A subclass per database supplies the stores on a fresh, migrated database; the tests are the same for all.
/// </summary>
public abstract partial class StoreContractTests : IAsyncLifetime
{
    private static readonly CancellationToken None = CancellationToken.None;

    protected TestTimeProvider Time { get; } = new();

    protected IUserStore Users { get; private set; } = null!;

    protected IRoomStore Rooms { get; private set; } = null!;

    protected OpsRobot.Core.Executions.IExecutionStore Executions { get; private set; } = null!;

    protected OpsRobot.Core.Access.IAccessStore Access { get; private set; } = null!;

    protected OpsRobot.Core.Audit.IAuditStore Audit { get; private set; } = null!;

    /// <summary>The most messages one read may return for this store.</summary>
    protected abstract int MaxPage { get; }

    /// <summary>
    /// Opens a new, independent instance of the stores on the test's database, as a second process would: its own
    /// connections, the same data. The first call creates and migrates the database.
    /// </summary>
    protected abstract Task<StoreSet> OpenStoresAsync();

    /// <summary>Closes every connection the earlier instances hold, as a process exit would, then opens the stores again.</summary>
    protected abstract Task<StoreSet> RestartAsync();

    public async Task InitializeAsync()
    {
        var stores = await OpenStoresAsync();
        Users = stores.Users;
        Rooms = stores.Rooms;
        Executions = stores.Executions;
        Access = stores.Access;
        Audit = stores.Audit;
    }

    public virtual Task DisposeAsync() => Task.CompletedTask;

    // ---- users ----

    [Fact]
    public async Task CreateUser_NewName_FindableByIdAndNameWithEveryField()
    {
        var created = await Users.CreateAsync("alice", "Alice Liddell", isAdmin: false, passwordHash: "hash-1", None);

        created.Id.ShouldBeGreaterThan(0);
        created.ShouldBe(new UserRecord(created.Id, "alice", "Alice Liddell", false, "hash-1", 0, null, Time.GetUtcNow(), null));
        (await Users.FindByIdAsync(created.Id, None)).ShouldBe(created);
        (await Users.FindByNameAsync("alice", None)).ShouldBe(created);
        (await Users.CountAsync(None)).ShouldBe(1);
    }

    [Theory]
    [InlineData("all capitals", "ALICE")]
    [InlineData("first letter capital", "Alice")]
    [InlineData("mixed case", "aLiCe")]
    public async Task FindUserByName_OtherCase_FindsTheSameUser(string row, string lookup)
    {
        var alice = await Users.CreateAsync("alice", "Alice", false, null, None);

        var found = await Users.FindByNameAsync(lookup, None);

        found.ShouldNotBeNull(row).Id.ShouldBe(alice.Id, row);
    }

    [Fact]
    public async Task FindUser_Unknown_ReturnsNull()
    {
        await Users.CreateAsync("alice", "Alice", false, null, None);

        (await Users.FindByNameAsync("bob", None)).ShouldBeNull();
        (await Users.FindByIdAsync(9999, None)).ShouldBeNull();
    }

    [Theory]
    [InlineData("same name", "alice")]
    [InlineData("same name in other case", "ALICE")]
    public async Task CreateUser_NameTaken_ThrowsConflictAndKeepsTheFirst(string row, string second)
    {
        var first = await Users.CreateAsync("alice", "The first", false, null, None);

        var ex = await Should.ThrowAsync<StoreConflictException>(() => Users.CreateAsync(second, "The second", false, null, None));

        ex.Message.ShouldContain(second, customMessage: row);
        (await Users.CountAsync(None)).ShouldBe(1, row);
        (await Users.FindByNameAsync("alice", None)).ShouldBe(first, row);
    }

    [Theory]
    [InlineData("empty", "")]
    [InlineData("a space", "alice smith")]
    [InlineData("starts with a dash", "-alice")]
    [InlineData("starts with a dot", ".alice")]
    [InlineData("a slash", "a/b")]
    [InlineData("a letter outside ASCII", "zoë")]
    [InlineData("SQL", "x'); DROP TABLE users;--")]
    [InlineData("65 characters", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")]
    public async Task CreateUser_InvalidName_ThrowsArgumentExceptionAndStoresNothing(string row, string name)
    {
        await Should.ThrowAsync<ArgumentException>(() => Users.CreateAsync(name, "someone", false, null, None), row);

        (await Users.CountAsync(None)).ShouldBe(0, row);
    }

    [Fact]
    public async Task CreateUser_LongestValidName_IsStored()
    {
        var name = "A" + new string('b', 62) + "_";

        var created = await Users.CreateAsync(name, name, false, null, None);

        (await Users.FindByIdAsync(created.Id, None)).ShouldNotBeNull().Name.ShouldBe(name);
    }

    [Fact]
    public async Task SetAdmin_GrantThenRevoke_CountAdminsFollows()
    {
        var alice = await Users.CreateAsync("alice", "Alice", false, null, None);
        await Users.CreateAsync("bob", "Bob", false, null, None);
        (await Users.CountAdminsAsync(None)).ShouldBe(0);

        await Users.SetAdminAsync(alice.Id, true, None);
        var afterGrant = await Users.CountAdminsAsync(None);
        var aliceAfterGrant = await Users.FindByIdAsync(alice.Id, None);
        await Users.SetAdminAsync(alice.Id, false, None);
        var afterRevoke = await Users.CountAdminsAsync(None);

        afterGrant.ShouldBe(1);
        aliceAfterGrant.ShouldNotBeNull().IsAdmin.ShouldBeTrue();
        afterRevoke.ShouldBe(0);
    }

    [Fact]
    public async Task CreateUser_AsAdmin_CountedAsAdmin()
    {
        var root = await Users.CreateAsync("root", "Root", isAdmin: true, passwordHash: "h", None);

        root.IsAdmin.ShouldBeTrue();
        (await Users.CountAdminsAsync(None)).ShouldBe(1);
    }

    [Fact]
    public async Task RecordSignInFailure_WithLock_RoundTripsCountAndLockedUntil()
    {
        var alice = await Users.CreateAsync("alice", "Alice", false, "h", None);
        var lockedUntil = Time.GetUtcNow().AddMinutes(15).AddMilliseconds(250);

        await Users.RecordSignInFailureAsync(alice.Id, 5, lockedUntil, None);
        var stored = await Users.FindByIdAsync(alice.Id, None);

        stored.ShouldNotBeNull();
        stored.FailedSignIns.ShouldBe(5);
        stored.LockedUntil.ShouldBe(lockedUntil);
    }

    [Fact]
    public async Task RecordSignInSuccess_AfterFailures_ClearsLockAndRecordsTheTime()
    {
        var alice = await Users.CreateAsync("alice", "Alice", false, "h", None);
        await Users.RecordSignInFailureAsync(alice.Id, 5, Time.GetUtcNow().AddMinutes(15), None);
        Time.Advance(TimeSpan.FromMinutes(20));
        var at = Time.GetUtcNow();

        await Users.RecordSignInSuccessAsync(alice.Id, at, None);
        var stored = await Users.FindByIdAsync(alice.Id, None);

        stored.ShouldNotBeNull();
        stored.FailedSignIns.ShouldBe(0);
        stored.LockedUntil.ShouldBeNull();
        stored.LastSignInAt.ShouldBe(at);
    }

    [Fact]
    public async Task SetPasswordHash_LockedAccount_NewHashAndUnlocked()
    {
        var alice = await Users.CreateAsync("alice", "Alice", false, "old", None);
        await Users.RecordSignInFailureAsync(alice.Id, 5, Time.GetUtcNow().AddMinutes(15), None);

        await Users.SetPasswordHashAsync(alice.Id, "new", None);
        var stored = await Users.FindByIdAsync(alice.Id, None);

        stored.ShouldNotBeNull();
        stored.PasswordHash.ShouldBe("new");
        stored.FailedSignIns.ShouldBe(0);
        stored.LockedUntil.ShouldBeNull();
    }

    // ---- rooms ----

    [Fact]
    public async Task CreateRoom_NewName_CreatorIsTheOnlyMember()
    {
        var alice = await Users.CreateAsync("alice", "Alice", false, null, None);
        var at = Time.GetUtcNow();

        var room = await Rooms.CreateAsync("ops", "Operations", alice.Id, at, None);

        room.ShouldBe(new RoomRecord(room.Id, "ops", "Operations", RoomKind.Room, alice.Id, at));
        (await Rooms.FindAsync("ops", None)).ShouldBe(room);
        (await Rooms.IsMemberAsync(room.Id, alice.Id, None)).ShouldBeTrue();
        (await Rooms.GetMemberIdsAsync(room.Id, None)).ShouldBe([alice.Id]);
    }

    [Fact]
    public async Task CreateRoom_NameTaken_ThrowsConflictAndKeepsTheFirst()
    {
        var alice = await Users.CreateAsync("alice", "Alice", false, null, None);
        var bob = await Users.CreateAsync("bob", "Bob", false, null, None);
        var first = await Rooms.CreateAsync("ops", "Alice's", alice.Id, Time.GetUtcNow(), None);

        var ex = await Should.ThrowAsync<StoreConflictException>(() => Rooms.CreateAsync("ops", "Bob's", bob.Id, Time.GetUtcNow(), None));

        ex.Message.ShouldContain("'ops'");
        (await Rooms.FindAsync("ops", None)).ShouldBe(first);
        (await Rooms.IsMemberAsync(first.Id, bob.Id, None)).ShouldBeFalse();
    }

    [Theory]
    [InlineData("capitals", "Ops")]
    [InlineData("a direct room's name", "@alice")]
    [InlineData("empty", "")]
    [InlineData("a space", "ops team")]
    [InlineData("starts with a dash", "-ops")]
    [InlineData("65 characters", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")]
    public async Task CreateRoom_InvalidName_ThrowsArgumentException(string row, string name)
    {
        var alice = await Users.CreateAsync("alice", "Alice", false, null, None);

        await Should.ThrowAsync<ArgumentException>(() => Rooms.CreateAsync(name, "", alice.Id, Time.GetUtcNow(), None), row);

        (await Rooms.ListForUserAsync(alice.Id, None)).ShouldBeEmpty(row);
    }

    [Fact]
    public async Task FindRoom_Unknown_ReturnsNull()
    {
        (await Rooms.FindAsync("nowhere", None)).ShouldBeNull();
    }

    [Fact]
    public async Task GetOrCreateDirect_CalledTwice_SameRoomWithTheOwnerAsMember()
    {
        var alice = await Users.CreateAsync("alice", "Alice", false, null, None);

        var first = await Rooms.GetOrCreateDirectAsync(alice.Id, "alice", Time.GetUtcNow(), None);
        Time.Advance(TimeSpan.FromHours(1));
        var second = await Rooms.GetOrCreateDirectAsync(alice.Id, "Alice", Time.GetUtcNow(), None);

        second.ShouldBe(first);
        first.Name.ShouldBe("@alice");
        first.Kind.ShouldBe(RoomKind.Direct);
        first.OwnerUserId.ShouldBe(alice.Id);
        (await Rooms.GetMemberIdsAsync(first.Id, None)).ShouldBe([alice.Id]);
    }

    [Fact]
    public async Task ListForUser_AnotherUsersDirectRoom_IsNotShown()
    {
        var alice = await Users.CreateAsync("alice", "Alice", false, null, None);
        var bob = await Users.CreateAsync("bob", "Bob", false, null, None);
        await Rooms.GetOrCreateDirectAsync(alice.Id, alice.Name, Time.GetUtcNow(), None);
        await Rooms.GetOrCreateDirectAsync(bob.Id, bob.Name, Time.GetUtcNow(), None);

        var bobSees = await Rooms.ListForUserAsync(bob.Id, None);
        var aliceSees = await Rooms.ListForUserAsync(alice.Id, None);

        bobSees.Select(r => r.Room.Name).ShouldBe(["@bob"]);
        aliceSees.Select(r => r.Room.Name).ShouldBe(["@alice"]);
        aliceSees[0].Joined.ShouldBeTrue();
    }

    [Fact]
    public async Task JoinAndLeave_Membership_Follows()
    {
        var alice = await Users.CreateAsync("alice", "Alice", false, null, None);
        var bob = await Users.CreateAsync("bob", "Bob", false, null, None);
        var room = await Rooms.CreateAsync("ops", "", alice.Id, Time.GetUtcNow(), None);

        await Rooms.JoinAsync(room.Id, bob.Id, Time.GetUtcNow(), None);
        await Rooms.JoinAsync(room.Id, bob.Id, Time.GetUtcNow(), None);
        var joined = await Rooms.IsMemberAsync(room.Id, bob.Id, None);
        var membersAfterJoin = await Rooms.GetMemberIdsAsync(room.Id, None);
        await Rooms.LeaveAsync(room.Id, bob.Id, None);
        await Rooms.LeaveAsync(room.Id, bob.Id, None);
        var stillMember = await Rooms.IsMemberAsync(room.Id, bob.Id, None);
        var membersAfterLeave = await Rooms.GetMemberIdsAsync(room.Id, None);

        joined.ShouldBeTrue();
        membersAfterJoin.ShouldBe([alice.Id, bob.Id], ignoreOrder: true);
        stillMember.ShouldBeFalse();
        membersAfterLeave.ShouldBe([alice.Id]);
    }

    [Fact]
    public async Task ListForUser_SeveralRooms_JoinedFlagsAndMemberCounts()
    {
        var alice = await Users.CreateAsync("alice", "Alice", false, null, None);
        var bob = await Users.CreateAsync("bob", "Bob", false, null, None);
        var carol = await Users.CreateAsync("carol", "Carol", false, null, None);
        var ops = await Rooms.CreateAsync("ops", "", alice.Id, Time.GetUtcNow(), None);
        await Rooms.CreateAsync("dev", "", alice.Id, Time.GetUtcNow(), None);
        await Rooms.JoinAsync(ops.Id, bob.Id, Time.GetUtcNow(), None);
        await Rooms.JoinAsync(ops.Id, carol.Id, Time.GetUtcNow(), None);
        await Rooms.GetOrCreateDirectAsync(bob.Id, bob.Name, Time.GetUtcNow(), None);

        var list = await Rooms.ListForUserAsync(bob.Id, None);

        list.Select(r => (r.Room.Name, r.Joined, r.MemberCount)).ShouldBe(
        [
            ("dev", false, 1),
            ("ops", true, 3),
            ("@bob", true, 1),
        ]);
    }

    // ---- messages ----

    [Fact]
    public async Task Append_UserMessage_ReturnsStoredMessageWithIdRoomNameAndTime()
    {
        var (alice, room) = await AliceInOpsAsync();
        Time.Advance(TimeSpan.FromMilliseconds(1234));
        var at = Time.GetUtcNow();

        var stored = await Rooms.AppendAsync(new NewMessage(room.Id, AuthorKind.User, alice.Id, "alice", "!ping", at), None);

        stored.Id.ShouldBeGreaterThan(0);
        stored.ShouldBe(new StoredMessage(stored.Id, room.Id, "ops", AuthorKind.User, alice.Id, "alice", "!ping", at));
    }

    [Fact]
    public async Task Append_RobotMessage_HasNoUserAndRobotAuthor()
    {
        var (_, room) = await AliceInOpsAsync();

        var stored = await Rooms.AppendAsync(new NewMessage(room.Id, AuthorKind.Robot, null, "opsrobot", "pong", Time.GetUtcNow()), None);
        var read = await Rooms.ReadAsync(room.Id, new MessagePage(null, null, 10), None);

        read.ShouldBe([stored]);
        stored.AuthorKind.ShouldBe(AuthorKind.Robot);
        stored.UserId.ShouldBeNull();
        stored.AuthorName.ShouldBe("opsrobot");
    }

    [Fact]
    public async Task Read_NoCursor_LatestPageInAscendingOrder()
    {
        var (alice, room) = await AliceInOpsAsync();
        await AppendManyAsync(room, alice, 10);

        var page = await Rooms.ReadAsync(room.Id, new MessagePage(null, null, 3), None);

        page.Select(m => m.Text).ShouldBe(["m8", "m9", "m10"]);
    }

    [Fact]
    public async Task Read_BeforeId_PreviousPageInAscendingOrder()
    {
        var (alice, room) = await AliceInOpsAsync();
        var all = await AppendManyAsync(room, alice, 10);

        var page = await Rooms.ReadAsync(room.Id, new MessagePage(all[7].Id, null, 3), None);

        page.Select(m => m.Text).ShouldBe(["m5", "m6", "m7"]);
    }

    [Fact]
    public async Task Read_AfterId_NextPageInAscendingOrder()
    {
        var (alice, room) = await AliceInOpsAsync();
        var all = await AppendManyAsync(room, alice, 10);

        var page = await Rooms.ReadAsync(room.Id, new MessagePage(null, all[2].Id, 3), None);

        page.Select(m => m.Text).ShouldBe(["m4", "m5", "m6"]);
    }

    [Fact]
    public async Task Read_AfterTheNewest_Empty()
    {
        var (alice, room) = await AliceInOpsAsync();
        var all = await AppendManyAsync(room, alice, 3);

        (await Rooms.ReadAsync(room.Id, new MessagePage(null, all[^1].Id, 50), None)).ShouldBeEmpty();
    }

    [Fact]
    public async Task Read_PagingBackwardsThroughHistory_EveryMessageOnceInOrder()
    {
        var (alice, room) = await AliceInOpsAsync();
        var all = await AppendManyAsync(room, alice, 23);
        var seen = new List<StoredMessage>();

        long? before = null;
        while (true)
        {
            var page = await Rooms.ReadAsync(room.Id, new MessagePage(before, null, 5), None);
            if (page.Count == 0)
            {
                break;
            }

            seen.InsertRange(0, page);
            before = page[0].Id;
        }

        seen.ShouldBe(all);
    }

    [Fact]
    public async Task Read_OnlyThatRoomsMessages()
    {
        var (alice, ops) = await AliceInOpsAsync();
        var dev = await Rooms.CreateAsync("dev", "", alice.Id, Time.GetUtcNow(), None);
        await Rooms.AppendAsync(new NewMessage(ops.Id, AuthorKind.User, alice.Id, "alice", "in ops", Time.GetUtcNow()), None);
        await Rooms.AppendAsync(new NewMessage(dev.Id, AuthorKind.User, alice.Id, "alice", "in dev", Time.GetUtcNow()), None);

        var page = await Rooms.ReadAsync(dev.Id, new MessagePage(null, null, 50), None);

        page.Select(m => (m.RoomName, m.Text)).ShouldBe([("dev", "in dev")]);
    }

    [Fact]
    public async Task Read_LimitAboveMaxPage_ClampedToMaxPage()
    {
        var (alice, room) = await AliceInOpsAsync();
        var all = await AppendManyAsync(room, alice, MaxPage + 10);

        var page = await Rooms.ReadAsync(room.Id, new MessagePage(null, null, int.MaxValue), None);

        page.Count.ShouldBe(MaxPage);
        page.ShouldBe(all.Skip(10));
    }

    [Theory]
    [InlineData("CJK", "部署 booking 到 生产")]
    [InlineData("emoji with ZWJ and skin tone", "👩🏽‍💻 shipped 🚀")]
    [InlineData("right-to-left with an override mark", "مرحبا \u202Eevil")]
    [InlineData("combining accents", "cafe\u0301 nai\u0308ve")]
    [InlineData("quotes and SQL", "'; DROP TABLE messages; --")]
    [InlineData("Markdown and newlines", "```\n| a | b |\n```\r\n**x**")]
    public async Task Append_UnicodeText_RoundTripsExactly(string row, string text)
    {
        var (alice, room) = await AliceInOpsAsync();

        await Rooms.AppendAsync(new NewMessage(room.Id, AuthorKind.User, alice.Id, "alice", text, Time.GetUtcNow()), None);
        var read = await Rooms.ReadAsync(room.Id, new MessagePage(null, null, 1), None);

        read.ShouldHaveSingleItem(row).Text.ShouldBe(text, row);
    }

    [Fact]
    public async Task Append_100KilobyteText_RoundTripsExactly()
    {
        var (alice, room) = await AliceInOpsAsync();
        var text = string.Concat(Enumerable.Range(0, 100 * 1024 / 16).Select(i => $"{i,6} 部署 🚀 ok\n"));
        text.Length.ShouldBeGreaterThanOrEqualTo(100 * 1024);

        await Rooms.AppendAsync(new NewMessage(room.Id, AuthorKind.User, alice.Id, "alice", text, Time.GetUtcNow()), None);
        var read = await Rooms.ReadAsync(room.Id, new MessagePage(null, null, 1), None);

        (read.ShouldHaveSingleItem().Text == text).ShouldBeTrue("the 100 KB text came back changed");
    }

    // ---- two instances, restarts ----

    [Fact]
    public async Task SecondInstance_WritesOfTheFirst_AreVisible()
    {
        var (alice, room) = await AliceInOpsAsync();
        var written = await Rooms.AppendAsync(new NewMessage(room.Id, AuthorKind.User, alice.Id, "alice", "from the server", Time.GetUtcNow()), None);

        var other = await OpenStoresAsync();
        var bob = await other.Users.CreateAsync("bob", "Bob", false, null, None);
        await other.Rooms.JoinAsync(room.Id, bob.Id, Time.GetUtcNow(), None);
        var fromShell = await other.Rooms.AppendAsync(new NewMessage(room.Id, AuthorKind.User, bob.Id, "bob", "from the shell", Time.GetUtcNow()), None);

        (await other.Users.FindByNameAsync("alice", None)).ShouldBe(alice);
        (await other.Rooms.ReadAsync(room.Id, new MessagePage(null, null, 10), None)).ShouldBe([written, fromShell]);
        (await Rooms.ReadAsync(room.Id, new MessagePage(null, null, 10), None)).ShouldBe([written, fromShell]);
        (await Rooms.GetMemberIdsAsync(room.Id, None)).ShouldBe([alice.Id, bob.Id], ignoreOrder: true);
    }

    [Fact]
    public async Task Restart_EverythingWritten_IsStillThere()
    {
        var (alice, room) = await AliceInOpsAsync();
        await Users.RecordSignInFailureAsync(alice.Id, 2, null, None);
        var messages = await AppendManyAsync(room, alice, 5);

        var after = await RestartAsync();

        (await after.Users.FindByIdAsync(alice.Id, None)).ShouldNotBeNull().FailedSignIns.ShouldBe(2);
        (await after.Rooms.FindAsync("ops", None)).ShouldBe(room);
        (await after.Rooms.ReadAsync(room.Id, new MessagePage(null, null, 10), None)).ShouldBe(messages);
    }

    private async Task<(UserRecord Alice, RoomRecord Room)> AliceInOpsAsync()
    {
        var alice = await Users.CreateAsync("alice", "Alice", false, null, None);
        var room = await Rooms.CreateAsync("ops", "Operations", alice.Id, Time.GetUtcNow(), None);
        return (alice, room);
    }

    private async Task<List<StoredMessage>> AppendManyAsync(RoomRecord room, UserRecord user, int count)
    {
        var list = new List<StoredMessage>();
        for (var i = 1; i <= count; i++)
        {
            Time.Advance(TimeSpan.FromSeconds(1));
            list.Add(await Rooms.AppendAsync(new NewMessage(room.Id, AuthorKind.User, user.Id, user.Name, $"m{i}", Time.GetUtcNow()), None));
        }

        return list;
    }
}
