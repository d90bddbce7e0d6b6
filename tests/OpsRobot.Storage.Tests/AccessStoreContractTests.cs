using OpsRobot.Core.Access;
using OpsRobot.Core.Audit;

namespace OpsRobot.Storage.Tests;

public abstract partial class StoreContractTests
{
    // ---- access control ----

    [Fact]
    public async Task LinkIdentity_ReplacesAnEarlierLink_AndUnlinks()
    {
        var alice = await Users.CreateAsync("alice", "Alice", false, null, None);
        var bob = await Users.CreateAsync("bob", "Bob", false, null, None);

        (await Access.LinkIdentityAsync(new ChatIdentityLink("slack", "U01", alice.Id, "al", "admin", Time.GetUtcNow()), None)).ShouldBeNull();
        var replaced = await Access.LinkIdentityAsync(new ChatIdentityLink("slack", "U01", bob.Id, "bo", "admin", Time.GetUtcNow()), None);

        replaced.ShouldNotBeNull().UserId.ShouldBe(alice.Id);
        (await Access.ListIdentitiesAsync(None)).ShouldHaveSingleItem().UserId.ShouldBe(bob.Id);
        (await Access.UnlinkIdentityAsync("slack", "U01", None)).ShouldBeTrue();
        (await Access.UnlinkIdentityAsync("slack", "U01", None)).ShouldBeFalse();
    }

    [Fact]
    public async Task Roles_RoundTripTheirGrants_AndAssignmentsAreIdempotent()
    {
        var alice = await Users.CreateAsync("alice", "Alice", false, null, None);
        var role = new Role("deployer", "Deploys", [new Grant("action.execute", ["deploy.*"]), new Grant("alias.run", ["*"]) { ReadOnlyOnly = true }], RoleOrigin.Store);

        await Access.SaveRoleAsync(role, "admin", None);
        (await Access.AssignRoleAsync(new UserRoleAssignment(alice.Id, "deployer", "admin", Time.GetUtcNow()), None)).ShouldBeTrue();
        (await Access.AssignRoleAsync(new UserRoleAssignment(alice.Id, "deployer", "admin", Time.GetUtcNow()), None)).ShouldBeFalse();

        var stored = (await Access.ListRolesAsync(None)).ShouldHaveSingleItem();
        stored.Grants.Select(g => g.ToString()).ShouldBe(role.Grants.Select(g => g.ToString()));
        (await Access.ListUserRolesAsync(None)).ShouldHaveSingleItem().Role.ShouldBe("deployer");
        (await Access.DeleteRoleAsync("deployer", None)).ShouldBeTrue();
        (await Access.ListUserRolesAsync(None)).ShouldBeEmpty();
    }

    [Fact]
    public async Task RemoveNode_TakesItsSubtreeAndMembers_ButNotLookalikeSiblings()
    {
        var alice = await Users.CreateAsync("alice", "Alice", false, null, None);
        foreach (var path in new[] { "corp", "corp/hotel", "corp/hotel/api", "corp/hotels" })
        {
            (await Access.AddNodeAsync(new TreeNodeRecord(path, string.Empty, "admin", Time.GetUtcNow()), None)).ShouldBeTrue();
        }

        (await Access.AddNodeAsync(new TreeNodeRecord("corp", string.Empty, "admin", Time.GetUtcNow()), None)).ShouldBeFalse();
        await Access.SetMemberAsync(new TreeMemberRecord("corp/hotel/api", alice.Id, TreeMemberKind.Member, "admin", Time.GetUtcNow()), None);
        await Access.SetMemberAsync(new TreeMemberRecord("corp/hotels", alice.Id, TreeMemberKind.Owner, "admin", Time.GetUtcNow()), None);

        (await Access.RemoveNodeAsync("corp/hotel", None)).ShouldBe(2);

        (await Access.ListNodesAsync(None)).Select(n => n.Path).ShouldBe(["corp", "corp/hotels"]);
        (await Access.ListMembersAsync(None)).ShouldHaveSingleItem().Path.ShouldBe("corp/hotels");
    }

    [Fact]
    public async Task ApiKeys_AreFoundByTheirHashOnly_AndRevokedOnce()
    {
        var alice = await Users.CreateAsync("alice", "Alice", false, null, None);
        var key = await Access.CreateApiKeyAsync(new ApiKeyRecord
        {
            Id = 0,
            Kind = "key",
            UserId = alice.Id,
            Name = "ci",
            CreatedBy = "alice",
            CreatedAt = Time.GetUtcNow(),
            Scope = [new Grant("execution.view", ["*"])],
            ExpiresAt = Time.GetUtcNow().AddDays(1),
        }, "hash-of-secret", None);

        (await Access.FindApiKeyBySecretHashAsync("hash-of-secret", None)).ShouldNotBeNull().Key.Scope.ShouldNotBeNull().ShouldHaveSingleItem();
        (await Access.FindApiKeyBySecretHashAsync("other", None)).ShouldBeNull();
        await Access.RecordApiKeyUseAsync(key.Id, Time.GetUtcNow(), "127.0.0.1", None);
        (await Access.GetApiKeyAsync(key.Id, None)).ShouldNotBeNull().LastUsedFrom.ShouldBe("127.0.0.1");
        (await Access.RevokeApiKeyAsync(key.Id, "admin", Time.GetUtcNow(), None)).ShouldBeTrue();
        (await Access.RevokeApiKeyAsync(key.Id, "admin", Time.GetUtcNow(), None)).ShouldBeFalse();
        (await Access.GetApiKeyAsync(key.Id, None)).ShouldNotBeNull().RevokedBy.ShouldBe("admin");
    }

    [Fact]
    public async Task OneTimeCodes_AreUsedOnce_NotAfterExpiry_AndNeverTwiceOpen()
    {
        var alice = await Users.CreateAsync("alice", "Alice", false, null, None);
        var now = Time.GetUtcNow();
        var id = await Access.CreateCodeAsync("link", alice.Id, "h1", "{}", now, now.AddMinutes(10), None);

        id.ShouldBeGreaterThan(0);
        (await Access.CreateCodeAsync("link", alice.Id, "h1", "{}", now, now.AddMinutes(10), None)).ShouldBe(0);
        (await Access.UseCodeAsync("link", "h1", now.AddMinutes(11), None)).ShouldBeNull();
        (await Access.UseCodeAsync("elevate", "h1", now, None)).ShouldBeNull();
        (await Access.UseCodeAsync("link", "h1", now, None)).ShouldNotBeNull().UserId.ShouldBe(alice.Id);
        (await Access.UseCodeAsync("link", "h1", now, None)).ShouldBeNull();
    }

    [Fact]
    public async Task Elevations_OpenAndClose()
    {
        var alice = await Users.CreateAsync("alice", "Alice", false, null, None);
        var now = Time.GetUtcNow();

        await Access.OpenElevationAsync(new ElevationRecord(alice.Id, now, now.AddMinutes(10), "code"), None);
        await Access.OpenElevationAsync(new ElevationRecord(alice.Id, now, now.AddMinutes(20), "web console"), None);

        (await Access.GetElevationAsync(alice.Id, None)).ShouldBe(new ElevationRecord(alice.Id, now, now.AddMinutes(20), "web console"));
        await Access.CloseElevationAsync(alice.Id, None);
        (await Access.GetElevationAsync(alice.Id, None)).ShouldBeNull();
    }

    // ---- audit ----

    [Fact]
    public async Task Audit_AppendsAnUnbrokenChain_AcrossInstances()
    {
        var second = await OpenStoresAsync();
        var log1 = new AuditLog(Audit, Time);
        var log2 = new AuditLog(second.Audit, Time);

        await Task.WhenAll(Enumerable.Range(0, 40).Select(i => (i % 2 == 0 ? log1 : log2).WriteAsync(new AuditEntry
        {
            Kind = AuditKinds.Command,
            Actor = $"user{i}",
            Door = Doors.Chat,
            Subject = $"command {i}",
            Decision = "allow",
        })));

        var all = await Audit.ReadAsync(0, 1000, None);
        all.Count.ShouldBe(40);
        all.Select(r => r.Id).ShouldBe(Enumerable.Range(1, 40).Select(i => (long)i));
        AuditChain.FirstBroken(all, AuditChain.Genesis, 0).ShouldBeNull();
    }

    [Fact]
    public async Task Audit_Query_FiltersAndPagesNewestFirst()
    {
        var log = new AuditLog(Audit, Time);
        await log.WriteAsync(new AuditEntry { Kind = AuditKinds.Command, Actor = "bob", Door = Doors.Chat, Subject = "restart booking", Decision = "allow" });
        await log.WriteAsync(new AuditEntry { Kind = AuditKinds.ExecutionStarted, Actor = "bob", Door = Doors.Chat, Subject = "#1 ops.restart" });
        await log.WriteAsync(new AuditEntry { Kind = AuditKinds.Command, Actor = "carol", Door = Doors.Api, Subject = "restart search", Decision = "deny" });

        (await Audit.QueryAsync(new AuditQuery { Actor = "bob" }, None)).Select(r => r.Id).ShouldBe([2L, 1L]);
        (await Audit.QueryAsync(new AuditQuery { Kind = "execution.*" }, None)).ShouldHaveSingleItem().Id.ShouldBe(2);
        (await Audit.QueryAsync(new AuditQuery { Decision = "deny" }, None)).ShouldHaveSingleItem().Actor.ShouldBe("carol");
        (await Audit.QueryAsync(new AuditQuery { Subject = "restart " }, None)).Count.ShouldBe(2);
        (await Audit.QueryAsync(new AuditQuery { BeforeId = 3, Limit = 1 }, None)).ShouldHaveSingleItem().Id.ShouldBe(2);
    }
}
