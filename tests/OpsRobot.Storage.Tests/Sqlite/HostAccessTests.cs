using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using OpsRobot.Core.Access;
using OpsRobot.Core.Audit;
using OpsRobot.Core.Cmdb;
using OpsRobot.Core.Executions;
using OpsRobot.Storage.Sqlite;
using OpsRobot.Testing;

namespace OpsRobot.Storage.Tests.Sqlite;

/// <summary>
/// <see cref="AccessService.AuthorizeHostsAsync"/> on real stores: a host is allowed when the requester is a member
/// or owner of its application node or a node above; everything else is refused with the reason and audited.
/// </summary>
public sealed class HostAccessTests : IAsyncLifetime
{
    private readonly TempDirectory _dir = new("opsrobot-hostaccess");
    private readonly TestTimeProvider _time = new();
    private SqliteDatabase _database = null!;
    private AccessService _access = null!;
    private AuditLog _audit = null!;

    public async Task InitializeAsync()
    {
        _database = SqliteTestDatabase.Create(_dir.Combine("opsrobot.db"));
        await _database.MigrateAsync(_time, CancellationToken.None);
        var users = new SqliteUserStore(_database, _time);
        var store = new SqliteAccessStore(_database, _time);
        var alice = await users.CreateAsync("alice", "Alice", isAdmin: true, passwordHash: null, CancellationToken.None);
        await users.CreateAsync("bob", "Bob", isAdmin: false, passwordHash: null, CancellationToken.None);
        foreach (var path in new[] { "corp", "corp/web", "corp/db" })
        {
            await store.AddNodeAsync(new TreeNodeRecord(path, string.Empty, "test", _time.GetUtcNow()), CancellationToken.None);
        }

        await store.SetMemberAsync(new TreeMemberRecord("corp/web", alice.Id, TreeMemberKind.Member, "test", _time.GetUtcNow()), CancellationToken.None);
        _audit = new AuditLog(new SqliteAuditStore(_database), _time);
        _access = new AccessService(store, users, _audit, _time, Options.Create(new AccessOptions()), NullLogger<AccessService>.Instance);
    }

    public async Task DisposeAsync()
    {
        _access.Dispose();
        await SqliteTestDatabase.ClosePoolAsync(_database);
        _dir.Dispose();
    }

    [Fact]
    public async Task AuthorizeHostsAsync_AllowsHostsUnderTheRequestersNodes_AndRefusesAndAuditsTheRest()
    {
        var hosts = new[] { Host("web01", "/corp/web"), Host("db01", "corp/db"), Host("orphan01", null), Host("ghost01", "corp/gone") };

        var decisions = await _access.AuthorizeHostsAsync(Requester("alice"), "ssh.run", hosts, CancellationToken.None);

        decisions.Select(d => (d.Hostname, d.Allowed)).ShouldBe([("web01", true), ("db01", false), ("orphan01", false), ("ghost01", false)]);
        decisions[1].Reason.ShouldContain("not a member of `corp/db`");
        decisions[2].Reason.ShouldContain("belongs to no application");
        decisions[3].Reason.ShouldContain("not a node of the application tree");
        var audit = await _audit.QueryAsync(new AuditQuery { Actor = "alice", Decision = "deny" }, CancellationToken.None);
        var record = audit.ShouldHaveSingleItem();
        record.Subject.ShouldBe("ssh.run on 3 of 4 hosts");
        record.Rule!.ShouldContain("db01");
    }

    [Fact]
    public async Task AuthorizeHostsAsync_RefusesEveryHost_ForAnUnknownUserOrNoRequester_AndAllowsRulesTreeWide()
    {
        var hosts = new[] { Host("web01", "corp/web") };

        (await _access.AuthorizeHostsAsync(Requester("bob"), "ssh.run", hosts, CancellationToken.None)).ShouldHaveSingleItem().Allowed.ShouldBeFalse();
        (await _access.AuthorizeHostsAsync(Requester("mallory"), "ssh.run", hosts, CancellationToken.None)).ShouldHaveSingleItem().Reason.ShouldContain("not a known user");
        (await _access.AuthorizeHostsAsync(null, "ssh.run", hosts, CancellationToken.None)).ShouldHaveSingleItem().Allowed.ShouldBeFalse();
        var rule = new ExecutionRequester { Door = ExecutionDoor.Rule, UserName = "rule:ops.heal" };
        (await _access.AuthorizeHostsAsync(rule, "ssh.run", hosts, CancellationToken.None)).ShouldHaveSingleItem().Allowed.ShouldBeTrue();
        var workflowOfRule = new ExecutionRequester { Door = ExecutionDoor.Workflow, UserName = "rule:ops.heal" };
        (await _access.AuthorizeHostsAsync(workflowOfRule, "ssh.run", [Host("x", null)], CancellationToken.None)).ShouldHaveSingleItem().Allowed.ShouldBeFalse();
    }

    private static ExecutionRequester Requester(string user) => new() { Door = ExecutionDoor.Chat, UserName = user };

    private static HostRecord Host(string name, string? application) =>
        new(name, ["127.0.0.1"], "prod", application, [], null, "active", new Dictionary<string, string>());
}
