using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging.Abstractions;
using OpsRobot.Core.Actions;
using OpsRobot.Core.Deployments;
using OpsRobot.Core.Executions;
using OpsRobot.Integrations.Deploy;
using OpsRobot.Integrations.Ssh;
using OpsRobot.Integrations.Tests.Support;
using OpsRobot.Testing;

namespace OpsRobot.Integrations.Tests.Deploy;

/// <summary>
/// Deployments through Debian's real ansible-playbook against the real sshd, reached as web01 and web02 (the
/// booking app's staging hosts in the CMDB); the playbook writes the version into a file per host, which the
/// tests read.
/// </summary>
public sealed class AnsibleDeployTests : IAsyncLifetime
{
    private static readonly ExecutionRequester Alice = new() { Door = ExecutionDoor.Chat, UserName = "alice" };

    private readonly TempDirectory _dir = new("opsrobot-deploy");
    private readonly InMemoryDeploymentStore _store = new();
    private readonly InMemoryHostInventory _inventory = new();
    private SshServer _server = null!;

    public async Task InitializeAsync()
    {
        if (!File.Exists("/usr/bin/ansible-playbook"))
        {
            throw new InvalidOperationException("Ansible is not installed (/usr/bin/ansible-playbook); install the ansible package (./build.sh does).");
        }

        _server = await SshServer.StartAsync();
        var user = SshServer.User;
        _inventory
            .Add("web01", "127.0.0.1", _server.Port, "corp/booking", "staging", user)
            .Add("web02", "localhost", _server.Port, "corp/booking", "staging", user)
            .Add("prod01", "127.0.0.1", _server.Port, "corp/booking", "prod", user)
            .Add("search01", "127.0.0.1", _server.Port, "corp/search", "staging", user);
        var key = _server.HostPublicKey.Split(' ');
        File.WriteAllText(_dir.Combine("known_hosts"), string.Join(string.Empty, new[] { "web01", "web02", "prod01", "search01" }.Select(h => $"{h} {key[0]} {key[1]}\n")));
        Directory.CreateDirectory(_dir.Combine("out"));
        _dir.Write("pack/playbooks/booking.yml", $$$"""
            - name: Deploy {{ app }}
              hosts: all
              gather_facts: false
              tasks:
                - name: Write the version
                  ansible.builtin.copy:
                    dest: "{{{_dir.Combine("out")}}}/{{ inventory_hostname }}-{{ env }}.version"
                    content: "{{ version }}"
                - name: Fail when asked to
                  ansible.builtin.fail:
                    msg: "version {{ version }} is broken"
                  when: version is match('.*-broken$')
            """);
    }

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        _dir.Dispose();
    }

    [Fact]
    public async Task Deploy_ThenDeployAgain_ThenRollback_PutsEachVersionOnEveryHost_AndRecordsWhatIsWhere()
    {
        var output = new RecordingOutput();
        (await Run("deploy", "1.4.1", output: output)).Outcome.ShouldBe(RunnerOutcome.Succeeded, output.Text);
        Version("web01").ShouldBe("1.4.1");
        Version("web02").ShouldBe("1.4.1");
        output.Text.ShouldContain("TASK [Write the version]");

        var second = await Run("deploy", "1.4.2");
        second.Outcome.ShouldBe(RunnerOutcome.Succeeded, second.Error);
        second.Result!["previous_version"]!.GetValue<string>().ShouldBe("1.4.1");
        Version("web02").ShouldBe("1.4.2");

        var rollback = await Run("rollback", version: null);
        rollback.Outcome.ShouldBe(RunnerOutcome.Succeeded, rollback.Error);
        rollback.Result!["version"]!.GetValue<string>().ShouldBe("1.4.1");
        Version("web01").ShouldBe("1.4.1");

        var status = await Run("status", version: null, extra: new JsonObject { ["target"] = "booking" });
        var row = status.Result!["deployments"]!.AsArray().ShouldHaveSingleItem()!;
        row["version"]!.GetValue<string>().ShouldBe("1.4.1");
        row["env"]!.GetValue<string>().ShouldBe("staging");
        row["kind"]!.GetValue<string>().ShouldBe("rollback");
        _store.All.Select(d => (d.Kind, d.Version, d.PreviousVersion, d.RequestedBy)).ShouldBe(
            [("deploy", "1.4.1", (string?)null, "alice"), ("deploy", "1.4.2", "1.4.1", "alice"), ("rollback", "1.4.1", "1.4.2", "alice")]);
    }

    [Fact]
    public async Task AFailingPlaybook_FailsTheDeployment_AndLeavesWhatIsDeployedAsItWas()
    {
        (await Run("deploy", "1.0.0")).Outcome.ShouldBe(RunnerOutcome.Succeeded);
        var result = await Run("deploy", "1.1.0-broken");

        result.Outcome.ShouldBe(RunnerOutcome.Failed);
        result.Error!.ShouldContain("web01 failed");
        result.Result!["hosts"]!.AsArray().Select(h => h!["status"]!.GetValue<string>()).ShouldBe(["failed", "failed"]);
        (await _store.CurrentAsync("booking", "staging", CancellationToken.None)).ShouldHaveSingleItem().Version.ShouldBe("1.0.0");
        _store.All[^1].Status.ShouldBe(DeploymentStatus.Failed);
    }

    [Fact]
    public async Task Production_IsRefusedWithoutTheSudoAction_AndAllowedWithIt()
    {
        var refused = await Run("deploy", "2.0.0", env: "prod");
        refused.Outcome.ShouldBe(RunnerOutcome.Failed);
        refused.Error!.ShouldContain("sudo");
        File.Exists(_dir.Combine("out", "prod01-prod.version")).ShouldBeFalse();

        var allowed = await Run("deploy", "2.0.0", env: "prod", extra: new JsonObject { ["production"] = true });
        allowed.Outcome.ShouldBe(RunnerOutcome.Succeeded, allowed.Error);
        File.ReadAllText(_dir.Combine("out", "prod01-prod.version")).ShouldBe("2.0.0");
    }

    [Fact]
    public async Task AHostTheRequesterMayNotTouch_StopsTheWholeDeployment()
    {
        var result = await Run("deploy", "3.0.0", policy: new NodeHostPolicy("corp/search"));

        result.Outcome.ShouldBe(RunnerOutcome.Failed);
        result.Error!.ShouldContain("Not permitted on 2 of the 2 hosts");
        File.Exists(_dir.Combine("out", "web01-staging.version")).ShouldBeFalse();
        _store.All.ShouldBeEmpty();
    }

    [Theory]
    [InlineData("1.0; rm -rf /")]
    [InlineData("$(id)")]
    [InlineData("../../etc")]
    public async Task HostileVersions_AreRefusedBeforeAnythingRuns(string version)
    {
        var result = await Run("deploy", version);

        result.Outcome.ShouldBe(RunnerOutcome.Failed);
        result.Error!.ShouldContain("'version'");
        _store.All.ShouldBeEmpty();
    }

    private string Version(string host) => File.ReadAllText(_dir.Combine("out", $"{host}-staging.version"));

    private Task<RunnerResult> Run(string operation, string? version, string env = "staging", RecordingOutput? output = null, JsonObject? extra = null, IHostAccessPolicy? policy = null)
    {
        var deploy = new DeployOptions();
        deploy.Apps["booking"] = new DeployAppOptions { Playbook = "playbooks/booking.yml", Node = "corp/booking", Key = "deploy_key" };
        var ssh = new SshOptions { KnownHostsFile = _dir.Combine("known_hosts"), KeyDirectory = _dir.Path };
        var sshOptions = Microsoft.Extensions.Options.Options.Create(ssh);
        var runner = new DeployRunner(
            Microsoft.Extensions.Options.Options.Create(deploy), sshOptions, policy ?? new NodeHostPolicy("corp/"),
            new DictionaryKeySource(new Dictionary<string, string> { ["deploy_key"] = _server.ClientPrivateKey }),
            [new AnsibleBackend(Microsoft.Extensions.Options.Options.Create(deploy), sshOptions, NullLogger<AnsibleBackend>.Instance)],
            TimeProvider.System, NullLogger<DeployRunner>.Instance, _store, _inventory);
        var parameters = new Dictionary<string, JsonNode?>(StringComparer.Ordinal) { ["operation"] = operation, ["app"] = "booking", ["env"] = env };
        if (version is not null)
        {
            parameters["version"] = version;
        }

        foreach (var (name, value) in extra ?? [])
        {
            parameters[name] = value?.DeepClone();
        }

        var action = new ActionDefinition("deploy", operation, "deploy") { PackDirectory = _dir.Combine("pack") };
        return runner.RunAsync(new RunnerContext("7", action, parameters, output ?? new RecordingOutput()) { Requester = Alice }, CancellationToken.None);
    }
}
