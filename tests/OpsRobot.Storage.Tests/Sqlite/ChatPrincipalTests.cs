using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using OpsRobot.Core.Access;
using OpsRobot.Core.Audit;
using OpsRobot.Core.Chat;
using OpsRobot.Core.Users;
using OpsRobot.Storage.Sqlite;
using OpsRobot.Testing;

namespace OpsRobot.Storage.Tests.Sqlite;

/// <summary>
/// <see cref="AccessService.ForChatAsync"/> keeps who-is-who with its cached view: a busy room costs no user read per
/// line, yet every change made through the service applies to the very next line, and changes made elsewhere (another
/// process on the same database) after <see cref="AccessOptions.CacheFor"/>.
/// </summary>
public sealed class ChatPrincipalTests : IAsyncLifetime
{
    private readonly TempDirectory _dir = new("opsrobot-chatprincipal");
    private readonly TestTimeProvider _time = new();
    private SqliteDatabase _database = null!;
    private CountingUsers _users = null!;
    private AccessService _access = null!;
    private UserRecord _bob = null!;
    private UserRecord _alice = null!;

    public async Task InitializeAsync()
    {
        _database = SqliteTestDatabase.Create(_dir.Combine("opsrobot.db"));
        await _database.MigrateAsync(_time, CancellationToken.None);
        _users = new CountingUsers(new SqliteUserStore(_database, _time));
        _alice = await _users.CreateAsync("alice", "Alice", isAdmin: true, passwordHash: null, CancellationToken.None);
        _bob = await _users.CreateAsync("bob", "Bob", isAdmin: false, passwordHash: null, CancellationToken.None);
        var store = new SqliteAccessStore(_database, _time);
        await store.AssignRoleAsync(new UserRoleAssignment(_alice.Id, "admin", "test", _time.GetUtcNow()), CancellationToken.None);
        _access = new AccessService(store, _users, new AuditLog(new SqliteAuditStore(_database), _time), _time, Options.Create(new AccessOptions()), NullLogger<AccessService>.Instance);
    }

    public async Task DisposeAsync()
    {
        _access.Dispose();
        await SqliteTestDatabase.ClosePoolAsync(_database);
        _dir.Dispose();
    }

    [Fact]
    public async Task ManyLinesFromOneUserInOneRoom_ReadTheUserOnce()
    {
        for (var i = 0; i < 200; i++)
        {
            var principal = await _access.ForChatAsync(Line(_bob, "ops"), CancellationToken.None);
            principal.Name.ShouldBe("bob");
        }

        _users.ReadsById.ShouldBe(1);
    }

    [Fact]
    public async Task EachRoomKeepsItsOwnPlace()
    {
        (await _access.ForChatAsync(Line(_bob, "ops"), CancellationToken.None)).Place.ShouldBe("web:ops");
        (await _access.ForChatAsync(Line(_bob, "dev"), CancellationToken.None)).Place.ShouldBe("web:dev");
        (await _access.ForChatAsync(Line(_bob, "ops"), CancellationToken.None)).Place.ShouldBe("web:ops");
    }

    [Fact]
    public async Task AChangeThroughTheService_AppliesToTheNextLine()
    {
        (await _access.ForChatAsync(Line(_bob, "ops"), CancellationToken.None)).IsAdministrator.ShouldBeFalse();
        var actor = await _access.ForUserAsync(_alice, Doors.Cli, null, CancellationToken.None);

        await _access.SetAdministratorAsync(actor, "bob", on: true, CancellationToken.None);
        (await _access.ForChatAsync(Line(_bob, "ops"), CancellationToken.None)).IsAdministrator.ShouldBeTrue();

        await _access.AssignRoleAsync(actor, "bob", "operator", CancellationToken.None);
        (await _access.ForChatAsync(Line(_bob, "ops"), CancellationToken.None)).Roles.Select(r => r.Name).ShouldContain("operator");
    }

    [Fact]
    public async Task AChangeFromAnotherProcess_AppliesOnceTheViewExpires()
    {
        (await _access.ForChatAsync(Line(_bob, "ops"), CancellationToken.None)).IsAdministrator.ShouldBeFalse();

        // Written straight to the store, as `opsrobot user` in another process would.
        await _users.SetAdminAsync(_bob.Id, true, CancellationToken.None);
        (await _access.ForChatAsync(Line(_bob, "ops"), CancellationToken.None)).IsAdministrator.ShouldBeFalse();

        _time.Advance(_access.Options.CacheFor + TimeSpan.FromSeconds(1));
        (await _access.ForChatAsync(Line(_bob, "ops"), CancellationToken.None)).IsAdministrator.ShouldBeTrue();
    }

    private IncomingMessage Line(UserRecord user, string room) =>
        new("web", new ChatRoom("1", room, IsDirect: false), new ChatUser(user.Id.ToString(System.Globalization.CultureInfo.InvariantCulture), user.Name), "!ping", _time.GetUtcNow())
        {
            AuthenticatedUserId = user.Id,
        };

    /// <summary>The real user store, counting reads by id.</summary>
    private sealed class CountingUsers(IUserStore inner) : IUserStore
    {
        private int _readsById;

        public int ReadsById => Volatile.Read(ref _readsById);

        public Task<UserRecord?> FindByIdAsync(long id, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref _readsById);
            return inner.FindByIdAsync(id, cancellationToken);
        }

        public Task<UserRecord?> FindByNameAsync(string name, CancellationToken cancellationToken) => inner.FindByNameAsync(name, cancellationToken);

        public Task<long> CountAsync(CancellationToken cancellationToken) => inner.CountAsync(cancellationToken);

        public Task<long> CountAdminsAsync(CancellationToken cancellationToken) => inner.CountAdminsAsync(cancellationToken);

        public Task<IReadOnlyList<string>> ListAdminNamesAsync(int limit, CancellationToken cancellationToken) => inner.ListAdminNamesAsync(limit, cancellationToken);

        public Task<IReadOnlyList<UserRecord>> ListAsync(CancellationToken cancellationToken) => inner.ListAsync(cancellationToken);

        public Task SetAdminAsync(long id, bool isAdmin, CancellationToken cancellationToken) => inner.SetAdminAsync(id, isAdmin, cancellationToken);

        public Task<UserRecord> CreateAsync(string name, string displayName, bool isAdmin, string? passwordHash, CancellationToken cancellationToken) =>
            inner.CreateAsync(name, displayName, isAdmin, passwordHash, cancellationToken);

        public Task SetPasswordHashAsync(long id, string passwordHash, CancellationToken cancellationToken) => inner.SetPasswordHashAsync(id, passwordHash, cancellationToken);

        public Task RecordSignInFailureAsync(long id, int failedSignIns, DateTimeOffset? lockedUntil, CancellationToken cancellationToken) =>
            inner.RecordSignInFailureAsync(id, failedSignIns, lockedUntil, cancellationToken);

        public Task RecordSignInSuccessAsync(long id, DateTimeOffset at, CancellationToken cancellationToken) => inner.RecordSignInSuccessAsync(id, at, cancellationToken);
    }
}
