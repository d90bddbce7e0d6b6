using OpsRobot.Core.Access;
using OpsRobot.Core.Cmdb;

namespace OpsRobot.Core.Tests.Cmdb;

public sealed class HostRulesTests
{
    private static readonly ApplicationTree Tree = new(
        [new TreeNodeRecord("corp", string.Empty, "admin", DateTimeOffset.UnixEpoch), new TreeNodeRecord("corp/booking", string.Empty, "admin", DateTimeOffset.UnixEpoch)], []);

    private static HostRecord Host(string name = "web01", string[]? addresses = null, string? env = "prod", string? app = "corp/booking",
        string[]? tags = null, string? owner = "team-booking", string status = "active", Dictionary<string, string>? attributes = null) =>
        new(name, addresses ?? ["10.0.0.1"], env, app, tags ?? [], owner, status, attributes ?? new Dictionary<string, string>(StringComparer.Ordinal));

    [Theory]
    [InlineData("a plain name", "web01", "web01")]
    [InlineData("upper case is folded", "WEB01.Example.COM", "web01.example.com")]
    [InlineData("a label of 63 characters", "a23456789012345678901234567890123456789012345678901234567890123", "a23456789012345678901234567890123456789012345678901234567890123")]
    [InlineData("digits first (RFC 1123)", "1web", "1web")]
    [InlineData("leading hyphen", "-web", null)]
    [InlineData("trailing hyphen", "web-", null)]
    [InlineData("underscore", "web_01", null)]
    [InlineData("empty label", "web..example", null)]
    [InlineData("trailing dot", "web.", null)]
    [InlineData("a label of 64 characters", "a234567890123456789012345678901234567890123456789012345678901234", null)]
    [InlineData("a Cyrillic look-alike", "w\u0435b01", null)]
    [InlineData("a shell metacharacter", "web;rm", null)]
    [InlineData("a space", "web 01", null)]
    public void CanonicalHostname_Rfc1123(string row, string input, string? expected)
    {
        HostRules.CanonicalHostname(input).ShouldBe(expected, row);
    }

    [Theory]
    [InlineData("IPv4", "10.0.0.1", "10.0.0.1")]
    [InlineData("IPv6 is shortened", "2001:0db8:0000:0000:0000:0000:0000:0001", "2001:db8::1")]
    [InlineData("a DNS name", "Web01.Example.com", "web01.example.com")]
    [InlineData("an IPv4 out of range", "10.0.0.300", null)]
    [InlineData("a bad IPv6", "2001:db8::zz", null)]
    [InlineData("hostile text", "$(reboot)", null)]
    public void CanonicalAddress_ParsesIpAndNames(string row, string input, string? expected)
    {
        HostRules.CanonicalAddress(input).ShouldBe(expected, row);
    }

    [Fact]
    public void Normalize_GoodHost_CanonicalFormWithSortedTagsAndStrippedSlash()
    {
        var (host, problems) = HostRules.Normalize(Host(name: "WEB01", env: "PROD", app: "/corp/booking", tags: ["nginx", "Web", "nginx"], status: "Active"), Tree);

        problems.ShouldBeEmpty();
        host.ShouldNotBeNull();
        host.Hostname.ShouldBe("web01");
        host.Environment.ShouldBe("prod");
        host.Application.ShouldBe("corp/booking");
        host.Tags.ShouldBe(["nginx", "web"]);
        host.Status.ShouldBe("active");
    }

    [Fact]
    public void Normalize_NoStatus_IsActive()
    {
        HostRules.Normalize(Host(status: string.Empty), Tree).Host!.Status.ShouldBe(HostStatuses.Active);
    }

    [Theory]
    [InlineData("unknown node", "corp/flights", "application 'corp/flights' is not a node of the application tree")]
    [InlineData("climbing out", "corp/booking/..", "is not a node of the application tree")]
    public void Normalize_ApplicationNotInTree_Refused(string row, string app, string expected)
    {
        var (host, problems) = HostRules.Normalize(Host(app: app), Tree);

        host.ShouldBeNull(row);
        problems.ShouldContain(p => p.Contains(expected, StringComparison.Ordinal), row);
    }

    [Fact]
    public void Normalize_EveryBadField_EveryProblemNamed()
    {
        var (host, problems) = HostRules.Normalize(Host(
            name: "bad_name", addresses: ["10.0.0.999"], env: "pr od", tags: ["no spaces"], owner: "a\nb", status: "on-fire",
            attributes: new Dictionary<string, string>(StringComparer.Ordinal) { ["Bad Key"] = "x", ["os"] = "line\u0007bell" }), Tree);

        host.ShouldBeNull();
        problems.ShouldContain(p => p.StartsWith("hostname 'bad_name'", StringComparison.Ordinal));
        problems.ShouldContain(p => p.StartsWith("address '10.0.0.999'", StringComparison.Ordinal));
        problems.ShouldContain(p => p.StartsWith("environment 'pr od'", StringComparison.Ordinal));
        problems.ShouldContain(p => p.StartsWith("tag 'no spaces'", StringComparison.Ordinal));
        problems.ShouldContain(p => p.StartsWith("owner", StringComparison.Ordinal));
        problems.ShouldContain(p => p.StartsWith("status 'on-fire' is not one of active, maintenance, provisioning, retired", StringComparison.Ordinal));
        problems.ShouldContain(p => p.StartsWith("attribute name 'Bad Key'", StringComparison.Ordinal));
        problems.ShouldContain(p => p.StartsWith("attribute 'os'", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("application matches the node", "corp/booking", true)]
    [InlineData("application matches below the node", "corp", true)]
    [InlineData("a sibling with the same prefix does not match", "corp/book", false)]
    public void Matches_ApplicationIsTheNodeOrBelow(string row, string app, bool expected)
    {
        HostRules.Matches(Host(), new HostQuery(Application: app)).ShouldBe(expected, row);
    }

    [Fact]
    public void Matches_NameWildcardTagsEnvStatusOwner()
    {
        var host = Host(tags: ["nginx", "web"]);

        HostRules.Matches(host, new HostQuery(Name: "WEB*")).ShouldBeTrue();
        HostRules.Matches(host, new HostQuery(Name: "db*")).ShouldBeFalse();
        HostRules.Matches(host, new HostQuery(Tags: ["web", "nginx"])).ShouldBeTrue();
        HostRules.Matches(host, new HostQuery(Tags: ["web", "redis"])).ShouldBeFalse();
        HostRules.Matches(host, new HostQuery(Environment: "PROD", Status: "active", Owner: "Team-Booking")).ShouldBeTrue();
        HostRules.Matches(host, new HostQuery(Environment: "staging")).ShouldBeFalse();
    }

    [Fact]
    public void Diff_FieldsAndAttributes_FromAndTo()
    {
        var before = Host(attributes: new Dictionary<string, string>(StringComparer.Ordinal) { ["os"] = "debian11" });
        var after = Host(status: "maintenance", attributes: new Dictionary<string, string>(StringComparer.Ordinal) { ["os"] = "debian12", ["ssh_port"] = "2222" });

        var diff = HostDiff.Compute(before, after);

        diff.Select(p => p.Key).ShouldBe(["status", "attr.os", "attr.ssh_port"]);
        diff["attr.os"]!["from"]!.GetValue<string>().ShouldBe("debian11");
        diff["attr.ssh_port"]!["from"].ShouldBeNull();
        HostDiff.Compute(before, before).Count.ShouldBe(0);
    }
}
