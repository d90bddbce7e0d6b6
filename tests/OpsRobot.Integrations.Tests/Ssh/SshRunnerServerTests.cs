using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging.Abstractions;
using OpsRobot.Core.Actions;
using OpsRobot.Core.Executions;
using OpsRobot.Core.Templates;
using OpsRobot.Integrations.Ssh;
using OpsRobot.Integrations.Tests.Support;
using OpsRobot.Testing;

namespace OpsRobot.Integrations.Tests.Ssh;

/// <summary>
/// One real sshd on loopback, reached under several CMDB names: web01 and web02 (trusted), untrusted01 (never
/// trusted), changed01 (the known-hosts file holds another key for it), down01 (a port nothing listens on),
/// slow01 (accepts TCP, never speaks) and other01 (an application the requester is not a member of).
/// </summary>
public sealed class SshServerFixture : IAsyncLifetime
{
    public SshServer Server { get; private set; } = null!;

    public SilentListener Silent { get; } = new();

    public TempDirectory Data { get; } = new("opsrobot-ssh-data");

    public InMemoryHostInventory Inventory { get; } = new();

    public string KnownHosts => Data.Combine("known_hosts");

    public async Task InitializeAsync()
    {
        Server = await SshServer.StartAsync();
        var user = SshServer.User;
        Inventory
            .Add("web01", "127.0.0.1", Server.Port, "corp/web", "prod", user, "web")
            .Add("web02", "localhost", Server.Port, "corp/web", "prod", user, "web")
            .Add("untrusted01", "127.0.0.1", Server.Port, "corp/web", "staging", user)
            .Add("changed01", "127.0.0.1", Server.Port, "corp/web", "staging", user)
            .Add("down01", "127.0.0.1", SshServer.FreePort(), "corp/web", "staging", user)
            .Add("slow01", "127.0.0.1", Silent.Port, "corp/web", "staging", user)
            .Add("other01", "127.0.0.1", Server.Port, "corp/other", "prod", user);
        var other = Server.OtherPublicKey.Split(' ');
        File.WriteAllText(KnownHosts, $"changed01 {other[0]} {other[1]}\n");
    }

    public async Task DisposeAsync()
    {
        await Server.DisposeAsync();
        Silent.Dispose();
        Data.Dispose();
    }
}

public sealed class SshRunnerServerTests(SshServerFixture fixture) : IClassFixture<SshServerFixture>
{
    private static readonly ExecutionRequester Alice = new() { Door = ExecutionDoor.Chat, UserName = "alice" };

    private readonly TempDirectory _keys = new("opsrobot-ssh-keys");

    private SshOptions Options => new()
    {
        KnownHostsFile = fixture.KnownHosts,
        KeyDirectory = _keys.Path,
        DefaultKey = "ssh_key",
        ConnectTimeout = TimeSpan.FromSeconds(30),
    };

    [Fact]
    public async Task Trust_ShowsTheFingerprintSshKeygenPrints_AndLetsTheHostBeUsed()
    {
        var output = new RecordingOutput();
        var result = await Trust("web01", output);

        result.Outcome.ShouldBe(RunnerOutcome.Succeeded, result.Error);
        output.Text.ShouldContain(fixture.Server.HostFingerprint);
        (await Trust("web01", new RecordingOutput())).Result!["changed"]!.GetValue<bool>().ShouldBeFalse();
        File.ReadAllText(fixture.KnownHosts).ShouldContain("web01 ssh-ed25519 ");
    }

    [Fact]
    public async Task Trust_WithAFingerprintNoOfferedKeyHas_TrustsNothing()
    {
        var result = await Trust("untrusted01", new RecordingOutput(), new JsonObject { ["fingerprint"] = fixture.Server.OtherFingerprint });

        result.Outcome.ShouldBe(RunnerOutcome.Failed);
        result.Error!.ShouldContain(fixture.Server.OtherFingerprint);
        File.ReadAllText(fixture.KnownHosts).ShouldNotContain("untrusted01");
    }

    [Fact]
    public async Task Trust_AHostWhoseKeyChanged_IsRefusedUnlessReplaceIsAsked()
    {
        var result = await Trust("changed01", new RecordingOutput());

        result.Outcome.ShouldBe(RunnerOutcome.Failed);
        result.Error!.ShouldContain(fixture.Server.OtherFingerprint);
        result.Error!.ShouldContain("replace=true");
        File.ReadAllText(fixture.KnownHosts).ShouldContain("changed01 ssh-ed25519 " + fixture.Server.OtherPublicKey.Split(' ')[1]);
    }

    [Theory]
    [InlineData("; rm -rf /tmp/opsrobot-never")]
    [InlineData("$(id -u) `id -u` ${HOME}")]
    [InlineData("it's \"quoted\" \\ and | piped & backgrounded")]
    [InlineData("two\nlines")]
    [InlineData("-n leading dash")]
    public async Task Cmd_WithHostileValues_ReachesTheRemoteCommandAsData(string message)
    {
        await TrustedAsync("web01", "web02");
        var result = await Run(Parameters(hosts: ["web01", "web02"], cmd: "printf '%s' {{ message }}", extra: new JsonObject { ["message"] = message }));

        result.Outcome.ShouldBe(RunnerOutcome.Succeeded, result.Error);
        var hosts = result.Result!["hosts"]!.AsArray();
        hosts.Count.ShouldBe(2);
        foreach (var host in hosts)
        {
            host!["status"]!.GetValue<string>().ShouldBe("ok");
            host["stdout"]!.GetValue<string>().ShouldBe(message);
        }
    }

    [Fact]
    public async Task ManyHosts_EachGetsItsOwnStatus_AndRefusedHostsAreReported()
    {
        await TrustedAsync("web01", "web02");
        var output = new RecordingOutput();
        var result = await Run(
            Parameters(hosts: ["web01", "web02", "untrusted01", "changed01", "down01", "slow01", "other01", "nosuch01"], cmd: "echo hello from $(hostname); exit 0", extra: new JsonObject { ["timeout"] = 8, ["concurrency"] = 8 }),
            output,
            new NodeHostPolicy("corp/web"));

        result.Outcome.ShouldBe(RunnerOutcome.Failed);
        var byHost = result.Result!["hosts"]!.AsArray().ToDictionary(h => h!["host"]!.GetValue<string>(), h => h!);
        byHost.Keys.ShouldBe(["web01", "web02", "untrusted01", "changed01", "down01", "slow01", "other01", "nosuch01"]);
        byHost["web01"]["status"]!.GetValue<string>().ShouldBe("ok");
        byHost["web01"]["return_code"]!.GetValue<int>().ShouldBe(0);
        byHost["web02"]["stdout"]!.GetValue<string>().ShouldStartWith("hello from ");
        byHost["untrusted01"]["status"]!.GetValue<string>().ShouldBe("host_key_unknown");
        byHost["changed01"]["status"]!.GetValue<string>().ShouldBe("host_key_mismatch");
        byHost["changed01"]["error"]!.GetValue<string>().ShouldContain(fixture.Server.HostFingerprint);
        byHost["down01"]["status"]!.GetValue<string>().ShouldBe("unreachable");
        byHost["slow01"]["status"]!.GetValue<string>().ShouldBe("timeout");
        byHost["other01"]["status"]!.GetValue<string>().ShouldBe("not_permitted");
        byHost["other01"]["error"]!.GetValue<string>().ShouldContain("corp/other");
        byHost["nosuch01"]["status"]!.GetValue<string>().ShouldBe("unknown_host");
        result.Result["summary"]!["ok"]!.GetValue<int>().ShouldBe(2);
        result.Result["summary"]!["total"]!.GetValue<int>().ShouldBe(8);
        result.Error!.ShouldContain("6 of 8 hosts did not succeed");

        // Progress: one line per host as it finishes.
        foreach (var host in byHost.Keys)
        {
            output.Text.ShouldContain(host + ": ");
        }
    }

    [Fact]
    public async Task CmdbSelection_RunsOnEveryHostOfTheApplicationAndEnvironment_CheckingEachForTheRequester()
    {
        await TrustedAsync("web01", "web02");
        var policy = new NodeHostPolicy("corp/web");
        var result = await Run(Parameters(hosts: null, cmd: "echo $((6 * 7))", extra: new JsonObject { ["app"] = "corp", ["env"] = "prod" }), policy: policy);

        var byHost = result.Result!["hosts"]!.AsArray().ToDictionary(h => h!["host"]!.GetValue<string>(), h => h!);
        byHost.Keys.ShouldBe(["other01", "web01", "web02"], ignoreOrder: true);
        byHost["web01"]["stdout"]!.GetValue<string>().ShouldBe("42");
        byHost["other01"]["status"]!.GetValue<string>().ShouldBe("not_permitted");
        policy.Asked.Select(a => a.Host).ShouldBe(["other01", "web01", "web02"], ignoreOrder: true);
        policy.Asked.ShouldAllBe(a => a.Requester == Alice);
    }

    [Fact]
    public async Task ExitCodes_AreReportedPerHost_AndTheKeyFileIsGoneAfterTheRun()
    {
        await TrustedAsync("web01");
        var result = await Run(Parameters(hosts: ["web01"], cmd: "echo out; echo err >&2; ls -d {{ probe }}; exit 3", extra: new JsonObject { ["probe"] = _keys.Path }));

        result.Outcome.ShouldBe(RunnerOutcome.Failed);
        result.ExitCode.ShouldBe(3);
        var host = result.Result!["hosts"]![0]!;
        host["status"]!.GetValue<string>().ShouldBe("failed");
        host["return_code"]!.GetValue<int>().ShouldBe(3);
        host["stderr"]!.GetValue<string>().ShouldBe("err");

        // The remote side (the same machine) saw the key folder while the command ran; nothing is left of it now.
        host["stdout"]!.GetValue<string>().ShouldContain("out");
        Directory.EnumerateFileSystemEntries(_keys.Path).ShouldBeEmpty();
    }

    [Fact]
    public async Task Script_IsSentOnStdin_AndRunWithQuotedArguments()
    {
        await TrustedAsync("web01");
        using var pack = new TempDirectory("opsrobot-ssh-pack");
        pack.Write("actions/show.sh", "#!/bin/sh\nfor a in \"$@\"; do printf '[%s]' \"$a\"; done\necho\nread -r line && echo \"stdin was not empty: $line\"\nexit 0\n");
        var action = new ActionDefinition("demo", "show", "remote-shell-script") { EntryPoint = "show.sh", PackDirectory = pack.Path };

        var parameters = Parameters(hosts: ["web01"], cmd: null, extra: new JsonObject { ["args"] = new JsonArray("a b", "$(id)", "'q'") });
        var result = await Run(parameters, action: action);

        result.Outcome.ShouldBe(RunnerOutcome.Succeeded, result.Error);
        result.Result!["hosts"]![0]!["stdout"]!.GetValue<string>().ShouldBe("[a b][$(id)]['q']");
    }

    [Fact]
    public async Task AMissingKeySecret_FailsTheRunBeforeAnyConnection()
    {
        var result = await Run(Parameters(hosts: ["web01"], cmd: "true", extra: new JsonObject { ["key"] = "nosuch" }));

        result.Outcome.ShouldBe(RunnerOutcome.Failed);
        result.Error!.ShouldContain("Cannot use key 'nosuch'");
    }

    private async Task TrustedAsync(params string[] hosts)
    {
        foreach (var host in hosts)
        {
            var result = await Trust(host, new RecordingOutput());
            result.Outcome.ShouldBe(RunnerOutcome.Succeeded, result.Error);
        }
    }

    private Task<RunnerResult> Trust(string host, RecordingOutput output, JsonObject? extra = null)
    {
        var runner = new SshTrustRunner(Microsoft.Extensions.Options.Options.Create(Options), TimeProvider.System, NullLogger<SshTrustRunner>.Instance, fixture.Inventory);
        var parameters = new Dictionary<string, JsonNode?>(StringComparer.Ordinal) { ["host"] = host };
        foreach (var (name, value) in extra ?? [])
        {
            parameters[name] = value?.DeepClone();
        }

        var action = new ActionDefinition("ssh", "trust", "ssh-trust") { Guards = new Core.Access.CommandGuards { Administrative = true } };
        return runner.RunAsync(new RunnerContext("1", action, parameters, output) { Requester = Alice }, CancellationToken.None);
    }

    private Task<RunnerResult> Run(Dictionary<string, JsonNode?> parameters, RecordingOutput? output = null, Integrations.Ssh.IHostAccessPolicy? policy = null, ActionDefinition? action = null)
    {
        var runner = Runner(policy ?? new NodeHostPolicy("corp/"));
        var context = new RunnerContext("1", action ?? CmdAction(), parameters, output ?? new RecordingOutput()) { Requester = Alice };
        return runner.RunAsync(context, CancellationToken.None);
    }

    private SshRunner Runner(Integrations.Ssh.IHostAccessPolicy policy) =>
        new(Microsoft.Extensions.Options.Options.Create(Options), policy, new DictionaryKeySource(new Dictionary<string, string> { ["ssh_key"] = fixture.Server.ClientPrivateKey }),
            new TemplateRenderer(), TimeProvider.System, NullLogger<SshRunner>.Instance, fixture.Inventory);

    private static ActionDefinition CmdAction() => new("demo", "remote", "ssh");

    private static Dictionary<string, JsonNode?> Parameters(string[]? hosts, string? cmd, JsonObject? extra = null)
    {
        var parameters = new Dictionary<string, JsonNode?>(StringComparer.Ordinal);
        if (hosts is not null)
        {
            parameters["hosts"] = new JsonArray([.. hosts.Select(h => JsonValue.Create(h))]);
        }

        if (cmd is not null)
        {
            parameters["cmd"] = cmd;
        }

        foreach (var (name, value) in extra ?? [])
        {
            parameters[name] = value?.DeepClone();
        }

        return parameters;
    }
}
