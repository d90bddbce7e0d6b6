using OpsRobot.Core.Access;
using OpsRobot.Core.Audit;
using OpsRobot.Testing;

namespace OpsRobot.Core.Tests.Access;

public sealed class WildcardTests
{
    [Theory]
    [InlineData("*", "anything", true)]
    [InlineData("*", "", true)]
    [InlineData("deploy.*", "deploy.app", true)]
    [InlineData("deploy.*", "deploy.", true)]
    [InlineData("deploy.*", "deployer.app", false)]
    [InlineData("deploy.*", "Deploy.app", false)]
    [InlineData("nagios.ack", "nagios.ack", true)]
    [InlineData("nagios.ack", "nagios.acknowledge", false)]
    [InlineData("nagios.a?k", "nagios.ack", true)]
    [InlineData("*.status", "ops.status", true)]
    [InlineData("*.status", "ops.status.more", false)]
    [InlineData("a*b*c", "aXXbYYc", true)]
    [InlineData("a*b*c", "aXXbYY", false)]
    [InlineData("action.*", "action.execute", true)]
    [InlineData("action.*", "alias.run", false)]
    public void IsMatch_IsShellStyleAndCaseSensitive(string pattern, string value, bool expected) =>
        Wildcard.IsMatch(pattern, value).ShouldBe(expected);

    [Fact]
    public void IsMatch_OnAPathologicalPattern_IsFast()
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        Wildcard.IsMatch(string.Concat(Enumerable.Repeat("*a", 50)) + "b", new string('a', 5000)).ShouldBeFalse();
        clock.Elapsed.ShouldBeLessThan(TimeSpan.FromSeconds(2));
    }
}

public sealed class GrantTests
{
    [Fact]
    public void ReadOnlyGrant_CoversOnlyReadOnlyResources()
    {
        var grant = new Grant("action.execute", ["*"]) { ReadOnlyOnly = true };

        grant.Covers("action.execute", "ops.health", resourceIsReadOnly: true).ShouldBeTrue();
        grant.Covers("action.execute", "ops.restart", resourceIsReadOnly: false).ShouldBeFalse();
    }

    [Theory]
    [InlineData("action.execute", null)]
    [InlineData("action.*", null)]
    [InlineData("*", null)]
    [InlineData("action.delete", "unknown permission")]
    [InlineData("", "unknown permission")]
    public void CheckGrant_KnowsThePermissions(string permission, string? problem)
    {
        var found = BuiltInRoles.CheckGrant(new Grant(permission, ["*"]));
        if (problem is null)
        {
            found.ShouldBeNull();
        }
        else
        {
            found.ShouldNotBeNull().ShouldContain(problem);
        }
    }

    [Fact]
    public void CheckGrant_RefusesResourcePatternsWithSpaces() =>
        BuiltInRoles.CheckGrant(new Grant("action.execute", ["deploy app"])).ShouldNotBeNull().ShouldContain("bad resource pattern");

    [Fact]
    public void BuiltInRoles_ViewerRunsOnlyReadOnly_GuestSeesOnlyReadOnly()
    {
        var viewer = new Principal { Name = "v", Roles = [BuiltInRoles.ViewerRole], Door = Doors.Chat };
        var guest = new Principal { Name = "g", Roles = [BuiltInRoles.GuestRole], Door = Doors.Chat };

        AccessService.Check(viewer, Permissions.ActionExecute, "ops.health", resourceIsReadOnly: true).Allowed.ShouldBeTrue();
        AccessService.Check(viewer, Permissions.ActionExecute, "ops.restart").Allowed.ShouldBeFalse();
        AccessService.Check(viewer, Permissions.ExecutionView, "ops.restart").Allowed.ShouldBeTrue();
        AccessService.Check(guest, Permissions.ExecutionView, "ops.restart").Allowed.ShouldBeFalse();
        AccessService.Check(guest, Permissions.AliasView, "ops.restart").Allowed.ShouldBeFalse();
        AccessService.Check(guest, Permissions.AliasRun, "ops.health", resourceIsReadOnly: true).Allowed.ShouldBeTrue();
    }

    [Fact]
    public void Check_NamesTheRuleThatDecided_AndAKeyScopeNarrowsIt()
    {
        var op = new Principal { Name = "bob", Roles = [BuiltInRoles.OperatorRole], Door = Doors.Api };
        var scoped = op with { KeyScope = [new Grant("execution.view", ["*"])], ApiKeyId = 7 };

        AccessService.Check(op, Permissions.ActionExecute, "ops.restart").Rule.ShouldBe("role operator: action.* on *");
        var refused = AccessService.Check(scoped, Permissions.ActionExecute, "ops.restart");
        refused.Allowed.ShouldBeFalse();
        refused.Rule.ShouldContain("API key #7");
    }
}

public sealed class ApplicationTreeTests
{
    private static readonly TestTimeProvider Time = new();

    private static readonly ApplicationTree Tree = new(
        [Node("corp"), Node("corp/hotel"), Node("corp/hotel/booking"), Node("corp/hotel/api"), Node("corp/flights"), Node("corp/flights/api")],
        [
            new TreeMemberRecord("corp/hotel", 1, TreeMemberKind.Owner, "admin", Time.GetUtcNow()),
            new TreeMemberRecord("corp/hotel/booking", 2, TreeMemberKind.Member, "admin", Time.GetUtcNow()),
        ]);

    [Theory]
    [InlineData("corp/hotel/booking", "corp/hotel/booking")]
    [InlineData("booking", "corp/hotel/booking")]
    [InlineData("corp", "corp")]
    public void Resolve_FindsExactPathsAndUniqueLeaves(string value, string path) =>
        Tree.Resolve(value).Path.ShouldBe(path);

    [Theory]
    [InlineData("", "empty")]
    [InlineData(null, "empty")]
    [InlineData("../corp", "no '..'")]
    [InlineData("corp/hotel/../flights", "no '..'")]
    [InlineData("corp/*", "wildcards")]
    [InlineData("corp/hotel/booki?g", "wildcards")]
    [InlineData("Corp/hotel", "lowercase")]
    [InlineData("BOOKING", "lowercase")]
    [InlineData("b\u043eoking", "plain lowercase ASCII")]
    [InlineData("booking\u200b", "plain lowercase ASCII")]
    [InlineData("ｂooking", "plain lowercase ASCII")]
    [InlineData("/corp", "not a node path")]
    [InlineData("corp/", "not a node path")]
    [InlineData("corp//hotel", "not a node path")]
    [InlineData("corp\\hotel", "not a node path")]
    [InlineData("corp/hotel/bookings", "there is no application node")]
    [InlineData("api", "names 2 nodes")]
    [InlineData("corp hotel", "not a valid node name")]
    public void Resolve_RefusesWhatTriesToEscapeItsScope(string? value, string problem) =>
        Tree.Resolve(value).Problem.ShouldNotBeNull().ShouldContain(problem);

    [Fact]
    public void PlaceOf_InheritsDownward_NotUpward_NorSideways()
    {
        Tree.PlaceOf(1, "corp/hotel/booking").ShouldBe(TreeMemberKind.Owner);
        Tree.PlaceOf(1, "corp/hotel").ShouldBe(TreeMemberKind.Owner);
        Tree.PlaceOf(1, "corp").ShouldBeNull();
        Tree.PlaceOf(1, "corp/flights").ShouldBeNull();
        Tree.PlaceOf(2, "corp/hotel/booking").ShouldBe(TreeMemberKind.Member);
        Tree.PlaceOf(2, "corp/hotel/api").ShouldBeNull();
    }

    [Fact]
    public void NearestOwners_AreThoseClosestAbove() =>
        Tree.NearestOwners("corp/hotel/booking").ShouldNotBeNull().Path.ShouldBe("corp/hotel");

    [Theory]
    [InlineData("corp/hotel", null)]
    [InlineData("a/b/c/d/e/f/g/h/i/j/k/l/m/n/o/p/q", "16 levels")]
    [InlineData("corp/Hotel", "not a valid node name")]
    [InlineData("-corp", "not a valid node name")]
    public void CheckNewPath_KeepsNodeNamesPlain(string path, string? problem)
    {
        var found = ApplicationTree.CheckNewPath(path);
        if (problem is null)
        {
            found.ShouldBeNull();
        }
        else
        {
            found.ShouldNotBeNull().ShouldContain(problem);
        }
    }

    private static TreeNodeRecord Node(string path) => new(path, string.Empty, "admin", Time.GetUtcNow());
}

public sealed class CommandGuardsTests
{
    [Fact]
    public void Combine_TakesTheStricterOfEach()
    {
        var action = new CommandGuards { AllowRooms = ["ops", "war-room"], Scope = [new ScopeParameter("app", ScopeKind.Application)], ReadOnly = true };
        var alias = new CommandGuards { Sudo = true, AllowRooms = ["ops"], DenyRooms = ["dev"], AllowDirect = false };

        var both = action.Combine(alias);

        both.Sudo.ShouldBeTrue();
        both.AllowRooms.ShouldBe(["ops"]);
        both.DenyRooms.ShouldBe(["dev"]);
        both.AllowDirect.ShouldBeFalse();
        both.ReadOnly.ShouldBeFalse();
        both.Scope.ShouldHaveSingleItem().Parameter.ShouldBe("app");
    }
}

public sealed class AuditChainTests
{
    [Fact]
    public void FirstBroken_FindsChangedRemovedAndInsertedRecords()
    {
        var chain = Chain(5);

        AuditChain.FirstBroken(chain, AuditChain.Genesis, 0).ShouldBeNull();

        var changed = chain.ToList();
        changed[2] = changed[2] with { Subject = "restart everything" };
        AuditChain.FirstBroken(changed, AuditChain.Genesis, 0)!.Value.Record.Id.ShouldBe(3);

        var removed = chain.Where(r => r.Id != 3).ToList();
        var gap = AuditChain.FirstBroken(removed, AuditChain.Genesis, 0)!.Value;
        gap.Record.Id.ShouldBe(4);
        gap.Problem.ShouldContain("missing");

        var rehashed = chain.ToList();
        rehashed[1] = rehashed[1] with { Actor = "mallory" };
        rehashed[1] = rehashed[1] with { Hash = AuditChain.Hash(rehashed[1].PreviousHash, rehashed[1]) };
        var relinked = AuditChain.FirstBroken(rehashed, AuditChain.Genesis, 0)!.Value;
        relinked.Record.Id.ShouldBe(3);
        relinked.Problem.ShouldContain("link to the record before");
    }

    [Fact]
    public void Hash_CoversEveryField()
    {
        var record = Chain(1)[0];
        var hash = AuditChain.Hash(AuditChain.Genesis, record);
        foreach (var variant in new[]
        {
            record with { Kind = "x" }, record with { Actor = "x" }, record with { Door = "x" }, record with { Place = "x" },
            record with { Subject = "x" }, record with { Decision = "x" }, record with { Rule = "x" }, record with { Detail = "{\"x\":1}" },
            record with { At = record.At.AddMilliseconds(1) }, record with { Id = 2 }, record with { Place = null },
        })
        {
            AuditChain.Hash(AuditChain.Genesis, variant).ShouldNotBe(hash);
        }
    }

    [Theory]
    [InlineData("kv set db password=hunter2", "kv set db password=********")]
    [InlineData("login token: abc.def", "login token: ********")]
    [InlineData("curl -H 'Authorization: Bearer eyJhbGciOi'", "curl -H 'Authorization: Bearer ********'")]
    [InlineData("use opsr_AbCdEf0123456789xyz please", "use opsr_******** please")]
    [InlineData("restart booking", "restart booking")]
    public void MaskSecrets_HidesWhatLooksLikeASecret(string text, string masked) =>
        AuditLog.MaskSecrets(text).ShouldBe(masked);

    [Fact]
    public void Canonical_SortsKeys_SoEqualDetailsHashAlike() =>
        AuditLog.Canonical(System.Text.Json.Nodes.JsonNode.Parse("{\"b\":1,\"a\":{\"d\":2,\"c\":3}}"))
            .ShouldBe("{\"a\":{\"c\":3,\"d\":2},\"b\":1}");

    private static List<AuditRecord> Chain(int count)
    {
        var list = new List<AuditRecord>();
        var previous = AuditChain.Genesis;
        for (var i = 1; i <= count; i++)
        {
            var record = new AuditRecord
            {
                Id = i,
                At = DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_000 + i),
                Kind = AuditKinds.Command,
                Actor = "bob",
                Door = Doors.Chat,
                Place = "irc:#ops",
                Subject = $"restart app{i}",
                Decision = "allow",
                Rule = "role operator: action.* on *",
                Detail = "{}",
                PreviousHash = previous,
                Hash = string.Empty,
            };
            record = record with { Hash = AuditChain.Hash(previous, record) };
            list.Add(record);
            previous = record.Hash;
        }

        return list;
    }
}
