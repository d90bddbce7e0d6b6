using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using OpsRobot.Core.Access;
using OpsRobot.Core.Audit;
using OpsRobot.Core.Cmdb;
using OpsRobot.Storage.Sqlite;
using OpsRobot.Storage.Tests.Sqlite;
using OpsRobot.Testing;

namespace OpsRobot.Storage.Tests.Cmdb;

/// <summary>
/// The CMDB on a real SQLite file with real access control: the store's contract (history, idempotent writes,
/// queries), who sees and changes which hosts, imports (dry run, idempotency, all-or-nothing, prune) and the
/// host directory that host-scoped commands use.
/// </summary>
public sealed class CmdbServiceTests : IAsyncLifetime
{
    private static readonly CancellationToken None = CancellationToken.None;

    private readonly TempDirectory _dir = new("opsrobot-cmdb");
    private readonly TestTimeProvider _time = new();
    private SqliteDatabase _database = null!;
    private SqliteHostStore _store = null!;
    private SqliteAuditStore _auditStore = null!;
    private AccessService _access = null!;
    private CmdbService _cmdb = null!;
    private SqliteUserStore _users = null!;
    private Principal _admin = null!;
    private Principal _bob = null!;
    private Principal _carol = null!;
    private Principal _erin = null!;

    public async Task InitializeAsync()
    {
        _database = SqliteTestDatabase.Create(_dir.Combine("opsrobot.db"));
        await _database.MigrateAsync(_time, None);
        _store = new SqliteHostStore(_database);
        _auditStore = new SqliteAuditStore(_database);
        var users = _users = new SqliteUserStore(_database, _time);
        var accessStore = new SqliteAccessStore(_database, _time);
        _access = new AccessService(accessStore, users, new AuditLog(_auditStore, _time), _time, Options.Create(new AccessOptions()), NullLogger<AccessService>.Instance);
        _cmdb = new CmdbService(_store, new StoreHostInventory(_store), _access, users, _time, Options.Create(new CmdbOptions()));

        foreach (var path in new[] { "corp", "corp/booking", "corp/booking/api", "corp/search", "corp/booking_old" })
        {
            await accessStore.AddNodeAsync(new TreeNodeRecord(path, string.Empty, "admin", _time.GetUtcNow()), None);
        }

        var admin = await users.CreateAsync("admin", "Admin", isAdmin: true, passwordHash: null, None);
        var bob = await users.CreateAsync("bob", "Bob", isAdmin: false, passwordHash: null, None);
        var carol = await users.CreateAsync("carol", "Carol", isAdmin: false, passwordHash: null, None);
        var erin = await users.CreateAsync("erin", "Erin", isAdmin: false, passwordHash: null, None);
        await accessStore.AssignRoleAsync(new UserRoleAssignment(admin.Id, BuiltInRoles.Admin, "test", _time.GetUtcNow()), None);
        await accessStore.AssignRoleAsync(new UserRoleAssignment(bob.Id, BuiltInRoles.Operator, "test", _time.GetUtcNow()), None);
        await accessStore.AssignRoleAsync(new UserRoleAssignment(erin.Id, BuiltInRoles.Operator, "test", _time.GetUtcNow()), None);
        await accessStore.SetMemberAsync(new TreeMemberRecord("corp/booking", bob.Id, TreeMemberKind.Member, "admin", _time.GetUtcNow()), None);
        await accessStore.SetMemberAsync(new TreeMemberRecord("corp/booking", erin.Id, TreeMemberKind.Owner, "admin", _time.GetUtcNow()), None);
        await accessStore.SetMemberAsync(new TreeMemberRecord("corp/search", carol.Id, TreeMemberKind.Member, "admin", _time.GetUtcNow()), None);
        _admin = await _access.ForUserAsync(admin, Doors.Api, "127.0.0.1", None);
        _bob = await _access.ForUserAsync(bob, Doors.Api, "127.0.0.1", None);
        _carol = await _access.ForUserAsync(carol, Doors.Chat, "shell:ops", None);
        _erin = await _access.ForUserAsync(erin, Doors.Cli, "127.0.0.1", None);
    }

    public async Task DisposeAsync()
    {
        _access.Dispose();
        await SqliteTestDatabase.ClosePoolAsync(_database);
        _dir.Dispose();
    }

    private static HostRecord Host(string name, string? app, string env = "prod", string status = "active", string? owner = "team", params string[] tags) =>
        new(name, ["10.0.0.1"], env, app, tags, owner, status, new Dictionary<string, string>(StringComparer.Ordinal) { ["os"] = "debian12" });

    // ---- the store's contract ----

    [Fact]
    public async Task Store_CreateUpdateSameAgainDelete_HistoryRecordsWhoWhenWhat()
    {
        var actor = new HostActor("alice", Doors.Api, _time.GetUtcNow());
        var created = await _store.ApplyAsync([Host("web01", "corp/booking")], [], actor, None);
        _time.Advance(TimeSpan.FromMinutes(1));
        var updated = await _store.ApplyAsync([Host("web01", "corp/booking", status: "maintenance")], [], actor with { Name = "bob", At = _time.GetUtcNow() }, None);
        var same = await _store.ApplyAsync([Host("web01", "corp/booking", status: "maintenance")], [], actor, None);
        var deleted = await _store.ApplyAsync([], ["web01", "nosuch"], actor with { Name = "carol", Door = Doors.Chat, At = _time.GetUtcNow() }, None);
        var history = await _store.HistoryAsync("web01", 10, None);

        created.ShouldHaveSingleItem().Kind.ShouldBe(HostChangeKind.Created);
        updated.ShouldHaveSingleItem().Fields.ShouldBe(["status"]);
        same.ShouldHaveSingleItem().Kind.ShouldBe(HostChangeKind.Unchanged);
        deleted.ShouldHaveSingleItem().Kind.ShouldBe(HostChangeKind.Deleted);
        (await _store.FindAsync("web01", None)).ShouldBeNull();
        history.Select(h => (h.Kind, h.Actor)).ShouldBe([(HostChangeKind.Deleted, "carol"), (HostChangeKind.Updated, "bob"), (HostChangeKind.Created, "alice")]);
        history[1].Diff["status"]!.ToJsonString().ShouldBe("""{"from":"active","to":"maintenance"}""");
        history[1].At.ShouldBe(_time.GetUtcNow());
        history[0].Door.ShouldBe(Doors.Chat);
        history[0].Diff["application"]!["from"]!.GetValue<string>().ShouldBe("corp/booking");
    }

    [Fact]
    public async Task Store_RoundTrip_EveryFieldKept()
    {
        var host = new HostRecord("db01.example.com", ["10.0.0.9", "2001:db8::9"], "staging", "corp/search", ["db", "postgres"], "Data team", "retired",
            new Dictionary<string, string>(StringComparer.Ordinal) { ["ssh_port"] = "2222", ["ssh_user"] = "ops" });
        await _store.ApplyAsync([host], [], new HostActor("t", Doors.Api, _time.GetUtcNow()), None);

        var back = (await _store.FindAsync("db01.example.com", None))!;

        back.Addresses.ShouldBe(host.Addresses);
        back.Tags.ShouldBe(host.Tags);
        back.Attributes.ShouldBe(host.Attributes);
        (back.Environment, back.Application, back.Owner, back.Status).ShouldBe(("staging", "corp/search", "Data team", "retired"));
    }

    [Fact]
    public async Task Store_QueryByApplication_NodeAndBelow_UnderscoreIsNotAWildcard()
    {
        await _store.ApplyAsync([Host("a1", "corp/booking"), Host("a2", "corp/booking/api"), Host("a3", "corp/booking_old"), Host("a4", "corp/search", env: "staging")],
            [], new HostActor("t", Doors.Api, _time.GetUtcNow()), None);

        (await _store.QueryAsync(new HostQuery(Application: "corp/booking"), None)).Select(h => h.Hostname).ShouldBe(["a1", "a2"]);
        (await _store.QueryAsync(new HostQuery(Application: "/corp"), None)).Count.ShouldBe(4);
        (await _store.QueryAsync(new HostQuery(Environment: "staging"), None)).ShouldHaveSingleItem().Hostname.ShouldBe("a4");
        (await _store.QueryAsync(new HostQuery(Name: "a[12]"), None)).ShouldBeEmpty();
    }

    // ---- who sees what ----

    [Fact]
    public async Task Query_MemberSeesTheirNodeAndBelowOnly_AdminSeesAll_UnassignedForAdminsOnly()
    {
        await SeedAsync();

        (await _cmdb.QueryAsync(_bob, new HostQuery(), None)).Select(h => h.Hostname).ShouldBe(["api01", "web01"]);
        (await _cmdb.QueryAsync(_carol, new HostQuery(), None)).Select(h => h.Hostname).ShouldBe(["search01"]);
        (await _cmdb.QueryAsync(_admin, new HostQuery(), None)).Select(h => h.Hostname).ShouldBe(["api01", "loose01", "search01", "web01"]);
        (await _cmdb.FindAsync(_bob, "search01", None)).ShouldBeNull();
        (await _cmdb.FindAsync(_bob, "loose01", None)).ShouldBeNull();
        (await _cmdb.FindAsync(_bob, "WEB01", None))!.Hostname.ShouldBe("web01");
    }

    [Fact]
    public async Task Query_ApiKeyScopedWithoutHostView_SeesNothing()
    {
        await SeedAsync();
        var scoped = _admin with { KeyScope = [new Grant("action.*", ["*"])] };

        (await _cmdb.QueryAsync(scoped, new HostQuery(), None)).ShouldBeEmpty();
    }

    [Fact]
    public async Task WhoOwns_NamesTheNodesNearestOwners()
    {
        await SeedAsync();

        var who = (await _cmdb.WhoOwnsAsync(_bob, "api01", None))!;

        who.Host.Application.ShouldBe("corp/booking/api");
        who.OwnersNode.ShouldBe("corp/booking");
        who.NodeOwners.ShouldBe(["erin"]);
        (await _cmdb.WhoOwnsAsync(_carol, "api01", None)).ShouldBeNull();
    }

    // ---- who changes what ----

    [Fact]
    public async Task Set_MemberInTheirNode_Allowed_AuditedAndRecorded()
    {
        var change = await _cmdb.SetAsync(_bob, Host("WEB09", "/corp/booking"), None);
        var again = await _cmdb.SetAsync(_bob, Host("web09", "corp/booking"), None);
        var audit = await _auditStore.QueryAsync(new AuditQuery { Kind = CmdbService.AuditKind }, None);

        change.Change.Kind.ShouldBe(HostChangeKind.Created);
        again.Change.Kind.ShouldBe(HostChangeKind.Unchanged);
        change.Host.Hostname.ShouldBe("web09");
        change.Host.Application.ShouldBe("corp/booking");
        HostFiles.ToJson(change.Host).ToJsonString().ShouldBe(HostFiles.ToJson((await _store.FindAsync("web09", None))!).ToJsonString());
        HostFiles.ToJson(again.Host).ToJsonString().ShouldBe(HostFiles.ToJson(change.Host).ToJsonString());
        audit.ShouldHaveSingleItem().Subject.ShouldBe("set host web09");
        (await _store.HistoryAsync("web09", 10, None)).ShouldHaveSingleItem().Actor.ShouldBe("bob");
    }

    [Theory]
    [InlineData("a viewer has no host.manage", "carol", "corp/search", "you need `host.manage` on `web09`")]
    [InlineData("moving a host into a node they are not in", "bob", "corp/search", "you need membership of its application node")]
    [InlineData("a host with no application", "bob", null, "hosts without an application are for administrators")]
    public async Task Set_Refused_ExplainsWithoutLeaking(string row, string who, string? app, string expected)
    {
        var principal = who == "bob" ? _bob : _carol;

        var ex = await Should.ThrowAsync<CmdbException>(() => _cmdb.SetAsync(principal, Host("web09", app), None));

        ex.Kind.ShouldBe(CmdbErrorKind.Forbidden, row);
        ex.Message.ShouldContain(expected, Case.Sensitive, row);
        (await _store.FindAsync("web09", None)).ShouldBeNull(row);
    }

    [Fact]
    public async Task Set_ExistingHostOfAnotherTeam_RefusedAlikeAsAnyRefusal_NothingChanged()
    {
        await SeedAsync();

        var ex = await Should.ThrowAsync<CmdbException>(() => _cmdb.SetAsync(_bob, Host("search01", "corp/booking"), None));

        ex.Message.ShouldBe("You may not change host search01: you need membership of its application node (hosts without an application are for administrators)");
        (await _store.FindAsync("search01", None))!.Application.ShouldBe("corp/search");
    }

    [Fact]
    public async Task Set_Invalid_EveryProblemInOneSentence()
    {
        var ex = await Should.ThrowAsync<CmdbException>(() => _cmdb.SetAsync(_admin, Host("bad_name", "corp/nowhere", status: "gone"), None));

        ex.Kind.ShouldBe(CmdbErrorKind.Invalid);
        ex.Message.ShouldStartWith("Hostname 'bad_name' is not a valid host name");
        ex.Message.ShouldContain("application 'corp/nowhere' is not a node of the application tree");
        ex.Message.ShouldContain("status 'gone' is not one of");
    }

    [Fact]
    public async Task Delete_InvisibleHost_IsNotFound_VisibleOne_GoneWithHistoryKept()
    {
        await SeedAsync();

        (await _cmdb.DeleteAsync(_bob, "search01", None)).ShouldBeFalse();
        (await _cmdb.DeleteAsync(_bob, "web01", None)).ShouldBeTrue();
        (await _cmdb.FindAsync(_admin, "web01", None)).ShouldBeNull();
        (await _cmdb.HistoryAsync(_bob, "web01", None))!.Select(h => h.Kind).ShouldBe([HostChangeKind.Deleted, HostChangeKind.Created]);
        (await _cmdb.HistoryAsync(_carol, "web01", None)).ShouldBeNull();
    }

    [Fact]
    public async Task HttpSource_Writes_RefusedAsReadOnly()
    {
        var remote = new CmdbService(_store, new StoreHostInventory(_store), _access, new SqliteUserStore(_database, _time), _time,
            Options.Create(new CmdbOptions { Source = CmdbSource.Http }));

        var ex = await Should.ThrowAsync<CmdbException>(() => remote.SetAsync(_admin, Host("web01", "corp/booking"), None));

        ex.Kind.ShouldBe(CmdbErrorKind.ReadOnly);
        ex.Message.ShouldContain("change them there");
    }

    // ---- imports ----

    private const string Csv = """
        hostname,addresses,environment,application,tags,owner,status,attr.os
        web01,10.0.0.1,prod,corp/booking,web,team,active,debian12
        web02,10.0.0.2,prod,corp/booking,web,team,active,debian12

        """;

    [Fact]
    public async Task Import_DryRunThenApplyThenAgain_ReportsThenChangesThenNothing()
    {
        var dry = await ImportAsync(_bob, Csv, dryRun: true);
        var afterDry = await _store.QueryAsync(new HostQuery(), None);
        var applied = await ImportAsync(_bob, Csv);
        var again = await ImportAsync(_bob, Csv);
        var changed = await ImportAsync(_bob, Csv.Replace("web02,10.0.0.2,prod", "web02,10.0.0.2,staging", StringComparison.Ordinal), dryRun: true);

        dry.Items.Select(i => (i.Hostname, i.Action)).ShouldBe([("web01", "create"), ("web02", "create")]);
        dry.Applied.ShouldBeFalse();
        afterDry.ShouldBeEmpty();
        applied.Applied.ShouldBeTrue();
        (await _store.QueryAsync(new HostQuery(), None)).Count.ShouldBe(2);
        again.Items.ShouldAllBe(i => i.Action == "unchanged");
        (await _store.HistoryAsync("web01", 10, None)).Count.ShouldBe(1);
        changed.Items.Single(i => i.Hostname == "web02").Changes.ToJsonString().ShouldBe("""{"environment":{"from":"prod","to":"staging"}}""");
        changed.Items.Single(i => i.Hostname == "web02").Action.ShouldBe("update");
    }

    [Fact]
    public async Task Import_OneBadLine_NothingChanged_EveryProblemWithItsLine()
    {
        var csv = Csv + "web_03,10.0.0.3,prod,corp/booking,,,active,\nweb01,10.0.0.4,prod,corp/booking,,,active,\nsearch09,10.0.0.5,prod,corp/search,,,active,\n";

        var report = await ImportAsync(_bob, csv);

        report.Applied.ShouldBeFalse();
        report.Problems.Select(p => p.ToString()).ShouldBe(
        [
            "line 4: hostname 'web_03' is not a valid host name: " + HostRules.HostnameRule,
            "line 5: host web01 is already on line 2",
            "line 6: You may not change host search09: you need membership of its application node (hosts without an application are for administrators)",
        ]);
        (await _store.QueryAsync(new HostQuery(), None)).ShouldBeEmpty();
        var denied = (await _auditStore.QueryAsync(new AuditQuery { Kind = CmdbService.AuditKind }, None)).ShouldHaveSingleItem("the refused host is an access attempt");
        denied.Decision.ShouldBe("deny");
        denied.Subject.ShouldBe("import hosts");
        denied.Actor.ShouldBe("bob");
        System.Text.Json.Nodes.JsonNode.Parse(denied.Detail)!["refused"]!.AsArray().Select(n => n!.GetValue<string>()).ShouldBe(["search09"]);
    }

    [Fact]
    public async Task Import_Prune_DeletesOnlyWhatTheImporterManages()
    {
        await SeedAsync();

        var dry = await ImportAsync(_bob, Csv, dryRun: true, prune: true);
        var applied = await ImportAsync(_bob, Csv, prune: true);

        dry.Items.Where(i => i.Action == "delete").Select(i => i.Hostname).ShouldBe(["api01"]);
        applied.Applied.ShouldBeTrue();
        (await _store.QueryAsync(new HostQuery(), None)).Select(h => h.Hostname).ShouldBe(["loose01", "search01", "web01", "web02"]);
    }

    [Theory]
    [InlineData(false, 1, 0)]
    [InlineData(true, 0, 1)]
    public async Task Import_ReadsTheStoredHostsOnceForTheFile_NotOneByOne(bool prune, int findManyReads, int queryReads)
    {
        await SeedAsync();
        var counting = new CountingHostStore(_store);
        var cmdb = new CmdbService(counting, new StoreHostInventory(counting), _access, _users, _time, Options.Create(new CmdbOptions()));
        var (hosts, problems) = HostFiles.Read(Csv, HostFileFormat.Csv, 1000);

        var report = await cmdb.ImportAsync(_bob, hosts, problems, dryRun: true, prune, None);

        report.Items.Select(i => (i.Hostname, i.Action)).ShouldBe(prune
            ? [("web01", "update"), ("web02", "create"), ("api01", "delete")]
            : [("web01", "update"), ("web02", "create")]);
        counting.Finds.ShouldBe(0);
        counting.FindManys.ShouldBe(findManyReads);
        counting.Queries.ShouldBe(queryReads);
    }

    [Fact]
    public async Task Store_FindMany_MoreNamesThanOneBatch_ReturnsTheOnesThatExist()
    {
        await SeedAsync();
        var names = Enumerable.Range(0, 1200).Select(i => $"host{i:D4}").Concat(["web01", "search01", "web01", "nothere"]).ToList();

        var found = await _store.FindManyAsync(names, None);

        found.Keys.Order(StringComparer.Ordinal).ShouldBe(["search01", "web01"]);
        HostFiles.ToJson(found["web01"]).ToJsonString().ShouldBe(HostFiles.ToJson((await _store.FindAsync("web01", None))!).ToJsonString());
        (await _store.FindManyAsync([], None)).ShouldBeEmpty();
    }

    [Fact]
    public async Task Import_ColumnsLeftOut_KeepTheirStoredValues_AttrColumnsSetOrClearOne()
    {
        await ImportAsync(_bob, Csv);
        await _store.ApplyAsync([Host("web01", "corp/booking") with
        {
            Attributes = new Dictionary<string, string>(StringComparer.Ordinal) { ["os"] = "debian12", ["rack"] = "r1" },
        }], [], new HostActor("t", Doors.Api, _time.GetUtcNow()), None);

        var report = await ImportAsync(_bob, "hostname,status,attr.rack\nweb01,maintenance,\n");
        var json = await ImportAsync(_bob, """[{"hostname": "web02", "owner": "other"}]""", format: HostFileFormat.Json);

        report.Items.ShouldHaveSingleItem().Changes.Select(c => c.Key).ShouldBe(["status", "attr.rack"]);
        var web01 = (await _store.FindAsync("web01", None))!;
        (web01.Status, web01.Owner, web01.Environment, web01.Application).ShouldBe(("maintenance", "team", "prod", "corp/booking"));
        web01.Attributes.ShouldBe(new Dictionary<string, string>(StringComparer.Ordinal) { ["os"] = "debian12" });
        json.Items.ShouldHaveSingleItem().Changes.Select(c => c.Key).ShouldBe(["owner"]);
        (await _store.FindAsync("web02", None))!.Tags.ShouldBe(["web"]);
    }

    [Fact]
    public async Task Import_Json_SameAsCsv_Idempotent()
    {
        var json = """[{"hostname": "web01", "addresses": ["10.0.0.1"], "environment": "prod", "application": "corp/booking", "tags": ["web"], "owner": "team", "status": "active", "attributes": {"os": "debian12"}}]""";
        await ImportAsync(_bob, Csv);

        var report = await ImportAsync(_bob, json, format: HostFileFormat.Json);

        report.Items.ShouldHaveSingleItem().Action.ShouldBe("unchanged");
    }

    [Fact]
    public async Task Export_ThenImport_ChangesNothing()
    {
        await SeedAsync();
        var exported = HostFiles.Write(await _cmdb.QueryAsync(_admin, new HostQuery(), None), HostFileFormat.Csv);

        var report = await ImportAsync(_admin, exported);

        report.Problems.ShouldBeEmpty();
        report.Items.Count.ShouldBe(4);
        report.Items.ShouldAllBe(i => i.Action == "unchanged");
    }

    // ---- the host directory (host-scoped parameters) ----

    [Fact]
    public async Task HostDirectory_KnownHost_ItsNode_UnknownOrUnassigned_Null()
    {
        await SeedAsync();
        var directory = new InventoryHostDirectory(new StoreHostInventory(_store), NullLogger<InventoryHostDirectory>.Instance);

        (await directory.FindApplicationAsync("API01", None)).ShouldBe("corp/booking/api");
        (await directory.FindApplicationAsync("loose01", None)).ShouldBeNull();
        (await directory.FindApplicationAsync("nosuch", None)).ShouldBeNull();
        (await directory.FindApplicationAsync("../etc", None)).ShouldBeNull();
    }

    private async Task SeedAsync() =>
        await _store.ApplyAsync(
            [Host("web01", "corp/booking"), Host("api01", "corp/booking/api"), Host("search01", "corp/search"), Host("loose01", null)],
            [], new HostActor("seed", Doors.System, _time.GetUtcNow()), None);

    private Task<ImportReport> ImportAsync(Principal who, string text, bool dryRun = false, bool prune = false, HostFileFormat format = HostFileFormat.Csv)
    {
        var (hosts, problems) = HostFiles.Read(text, format, 1000);
        return _cmdb.ImportAsync(who, hosts, problems, dryRun, prune, None);
    }

    /// <summary>The real store, counting its reads.</summary>
    private sealed class CountingHostStore(IHostStore inner) : IHostStore
    {
        public int Finds { get; private set; }

        public int FindManys { get; private set; }

        public int Queries { get; private set; }

        public Task<HostRecord?> FindAsync(string hostname, CancellationToken cancellationToken)
        {
            Finds++;
            return inner.FindAsync(hostname, cancellationToken);
        }

        public Task<IReadOnlyDictionary<string, HostRecord>> FindManyAsync(IReadOnlyCollection<string> hostnames, CancellationToken cancellationToken)
        {
            FindManys++;
            return inner.FindManyAsync(hostnames, cancellationToken);
        }

        public Task<IReadOnlyList<HostRecord>> QueryAsync(HostQuery query, CancellationToken cancellationToken)
        {
            Queries++;
            return inner.QueryAsync(query, cancellationToken);
        }

        public Task<IReadOnlyList<HostChange>> ApplyAsync(IReadOnlyList<HostRecord> upserts, IReadOnlyList<string> deletes, HostActor actor, CancellationToken cancellationToken) =>
            inner.ApplyAsync(upserts, deletes, actor, cancellationToken);

        public Task<IReadOnlyList<HostHistoryEntry>> HistoryAsync(string hostname, int limit, CancellationToken cancellationToken) =>
            inner.HistoryAsync(hostname, limit, cancellationToken);
    }
}
