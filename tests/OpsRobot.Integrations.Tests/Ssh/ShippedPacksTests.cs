using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging.Abstractions;
using OpsRobot.Core.Actions;
using OpsRobot.Core.Packs;
using OpsRobot.Core.Templates;
using OpsRobot.Integrations.Deploy;
using OpsRobot.Integrations.Ssh;
using OpsRobot.Integrations.Tests.Support;
using OpsRobot.Testing;
using MsOptions = Microsoft.Extensions.Options.Options;

namespace OpsRobot.Integrations.Tests.Ssh;

/// <summary>The ssh and deploy packs that ship load with their runners, and their answers render as tables.</summary>
public sealed class ShippedPacksTests
{
    private static readonly TemplateRenderer Renderer = new();

    [Fact]
    public void SshUptimeResult_IsATableOfHosts_WithPipesInOutputEscaped()
    {
        var alias = Load("ssh").Aliases.Single(a => a.Name == "uptime");
        var result = new JsonObject
        {
            ["hosts"] = new JsonArray(
                new SshHostResult("web01", SshHostStatus.Ok) { ExitCode = 0, Stdout = "up 3 days | load 0.1\n" }.ToJson(),
                new SshHostResult("db01", SshHostStatus.NotPermitted) { Error = "Not permitted: alice is not a member of `corp/db`." }.ToJson()),
            ["summary"] = new JsonObject { ["total"] = 2, ["ok"] = 1, ["not_permitted"] = 1 },
        };

        var text = Render(alias.ResultFormat!, "failed", result);

        text.ShouldContain("**1** of **2** hosts ok");
        text.ShouldContain("| host | status | exit | first line |");
        text.ShouldContain("| web01 | ok | 0 | up 3 days \\| load 0.1 |");
        text.ShouldContain("| db01 | not_permitted |  | Not permitted: alice is not a member of `corp/db`. |");
    }

    [Fact]
    public void DeployedResult_IsATableOfWhatIsWhere()
    {
        var alias = Load("deploy").Aliases.Single(a => a.Name == "deployed");
        var result = new JsonObject
        {
            ["query"] = "booking",
            ["deployments"] = new JsonArray(new JsonObject
            {
                ["app"] = "booking",
                ["env"] = "prod",
                ["version"] = "1.4.2",
                ["previous_version"] = "1.4.1",
                ["by"] = "alice",
                ["at"] = "2026-11-21 16:02 UTC",
            }),
        };

        Render(alias.ResultFormat!, "succeeded", result).ShouldContain("| booking | prod | 1.4.2 | 1.4.1 | alice | 2026-11-21 16:02 UTC |");
        Render(alias.ResultFormat!, "succeeded", new JsonObject { ["query"] = "qa", ["deployments"] = new JsonArray() }).ShouldContain("Nothing is recorded as deployed for qa.");
    }

    [Fact]
    public void DeployPack_MarksTheProductionActionsSudo_AndOnlyThem()
    {
        var pack = Load("deploy");

        pack.Actions.Where(a => a.Guards.Sudo).Select(a => a.Name).ShouldBe(["deploy_production", "rollback_production"], ignoreOrder: true);
        pack.Actions.Single(a => a.Name == "deployed").Guards.ReadOnly.ShouldBeTrue();
        Load("ssh").Actions.Single(a => a.Name == "trust").Guards.Administrative.ShouldBeTrue();
    }

    private static string Render(string template, string status, JsonObject result) =>
        Renderer.Render(template, new JsonObject
        {
            ["execution"] = new JsonObject { ["id"] = 7, ["status"] = status, ["result"] = result, ["parameters"] = new JsonObject(), ["error"] = null },
        });

    private static LoadedPack Load(string name)
    {
        var ssh = MsOptions.Create(new SshOptions());
        var policy = new NodeHostPolicy();
        var keys = new DictionaryKeySource(new Dictionary<string, string>());
        IRunner[] runners =
        [
            new SshRunner(ssh, policy, keys, Renderer, TimeProvider.System, NullLogger<SshRunner>.Instance),
            new SshTrustRunner(ssh, TimeProvider.System, NullLogger<SshTrustRunner>.Instance),
            new DeployRunner(MsOptions.Create(new DeployOptions()), ssh, policy, keys, [], TimeProvider.System, NullLogger<DeployRunner>.Instance),
        ];
        var (pack, errors) = new PackLoader(new RunnerCatalog(runners), Renderer).LoadOne(Path.Combine(RepoPaths.Packs, name));
        errors.ShouldBeEmpty();
        return pack!;
    }
}
