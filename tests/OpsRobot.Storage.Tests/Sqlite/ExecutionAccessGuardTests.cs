using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using OpsRobot.Core.Access;
using OpsRobot.Core.Actions;
using OpsRobot.Core.Audit;
using OpsRobot.Core.Executions;
using OpsRobot.Storage.Sqlite;
using OpsRobot.Testing;

namespace OpsRobot.Storage.Tests.Sqlite;

/// <summary>
/// <see cref="ExecutionAccessGuard"/>: an execution that waited is checked again before it starts, against its
/// requester's rights as they are now; one whose requester cannot be read is refused, whatever the name it keeps.
/// </summary>
public sealed class ExecutionAccessGuardTests : IAsyncLifetime
{
    private readonly TempDirectory _dir = new("opsrobot-guard");
    private readonly TestTimeProvider _time = new();
    private SqliteDatabase _database = null!;
    private AccessService _access = null!;
    private ExecutionAccessGuard _guard = null!;

    public async Task InitializeAsync()
    {
        _database = SqliteTestDatabase.Create(_dir.Combine("opsrobot.db"));
        await _database.MigrateAsync(_time, CancellationToken.None);
        var users = new SqliteUserStore(_database, _time);
        var alice = await users.CreateAsync("alice", "Alice", isAdmin: true, passwordHash: null, CancellationToken.None);
        var store = new SqliteAccessStore(_database, _time);
        await store.AssignRoleAsync(new UserRoleAssignment(alice.Id, "admin", "test", _time.GetUtcNow()), CancellationToken.None);
        _access = new AccessService(store, users, new AuditLog(new SqliteAuditStore(_database), _time), _time, Options.Create(new AccessOptions()), NullLogger<AccessService>.Instance);
        _guard = new ExecutionAccessGuard(_access, users);
    }

    public async Task DisposeAsync()
    {
        _access.Dispose();
        await SqliteTestDatabase.ClosePoolAsync(_database);
        _dir.Dispose();
    }

    [Theory]
    [InlineData(ExecutionDoor.Api, true)]
    [InlineData(ExecutionDoor.Unknown, false)]
    public async Task Recheck_AnAdministratorsExecution_GoesAhead_UnlessItsRequesterCouldNotBeRead(ExecutionDoor door, bool goesAhead)
    {
        var execution = new ExecutionRecord
        {
            Id = 7,
            ActionRef = "ops.restart",
            RunnerType = "noop",
            Parameters = new JsonObject(),
            Status = ExecutionStatus.Scheduled,
            Requester = new ExecutionRequester { Door = door, UserName = "alice" },
            CreatedAt = _time.GetUtcNow(),
        };

        var refusal = await _guard.RecheckAsync(execution, new ActionDefinition("ops", "restart", "noop"), CancellationToken.None);

        if (goesAhead)
        {
            refusal.ShouldBeNull();
        }
        else
        {
            refusal.ShouldNotBeNull().ShouldContain("cannot be read");
        }
    }
}
