using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using OpsRobot.Core.Actions;
using OpsRobot.Core.Deployments;
using OpsRobot.Core.Executions;
using OpsRobot.Integrations.Deploy;
using OpsRobot.Integrations.Tests.Support;
using MsOptions = Microsoft.Extensions.Options.Options;

namespace OpsRobot.Integrations.Tests.Deploy;

/// <summary>
/// The Salt back-end against a fake salt-api on loopback that speaks rest_cherrypy's documented requests and
/// answers: <c>POST /login</c> (eauth) → token; <c>POST /</c> with lowstate (<c>local_async</c>) → jid and minions;
/// <c>GET /jobs/{jid}</c> → <c>info[0].Result</c> per minion, filling in over successive lookups.
/// </summary>
public sealed class SaltDeployTests : IAsyncLifetime
{
    private const string Token = "6e3f1c2a9b8d4e7f";
    private const string Jid = "20261121164100123456";
    private static readonly ExecutionRequester Alice = new() { Door = ExecutionDoor.Chat, UserName = "alice" };

    private readonly ConcurrentQueue<JsonNode> _lowstates = new();
    private readonly InMemoryDeploymentStore _store = new();
    private readonly InMemoryHostInventory _inventory = new InMemoryHostInventory()
        .Add("web01", "10.0.0.1", 22, "corp/booking", "staging")
        .Add("web02", "10.0.0.2", 22, "corp/booking", "staging")
        .Add("web03", "10.0.0.3", 22, "corp/booking", "staging");

    private WebApplication _app = null!;
    private Uri _url = null!;
    private int _lookups;
    private bool _web02Fails;
    private string? _lastLoginPassword;

    public async Task InitializeAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        _app = builder.Build();
        _app.MapPost("/api/login", async (HttpContext context) =>
        {
            var body = await JsonNode.ParseAsync(context.Request.Body);
            _lastLoginPassword = body?["password"]?.GetValue<string>();
            if (body?["username"]?.GetValue<string>() != "opsrobot" || _lastLoginPassword != "salt-secret" || body?["eauth"]?.GetValue<string>() != "pam")
            {
                return Results.Unauthorized();
            }

            return Results.Json(new JsonObject
            {
                ["return"] = new JsonArray(new JsonObject { ["token"] = Token, ["expire"] = 1.7e9, ["start"] = 1.7e9, ["user"] = "opsrobot", ["eauth"] = "pam", ["perms"] = new JsonArray(".*") }),
            });
        });
        _app.MapPost("/api/", async (HttpContext context) =>
        {
            if (context.Request.Headers["X-Auth-Token"] != Token)
            {
                return Results.Unauthorized();
            }

            var lowstate = (await JsonNode.ParseAsync(context.Request.Body))!;
            _lowstates.Enqueue(lowstate);
            var known = new[] { "web01", "web02" };
            var minions = lowstate[0]!["tgt"]!.AsArray().Select(t => t!.GetValue<string>()).Where(known.Contains).ToArray();
            return Results.Json(new JsonObject
            {
                ["_links"] = new JsonObject { ["jobs"] = new JsonArray(new JsonObject { ["href"] = "/jobs/" + Jid }) },
                ["return"] = new JsonArray(new JsonObject { ["jid"] = Jid, ["minions"] = new JsonArray([.. minions.Select(m => JsonValue.Create(m))]) }),
            });
        });
        _app.MapGet("/api/jobs/{jid}", (HttpContext context, string jid) =>
        {
            if (context.Request.Headers["X-Auth-Token"] != Token)
            {
                return Results.Unauthorized();
            }

            // The first lookup finds web01 done; later ones web02 as well.
            var lookup = Interlocked.Increment(ref _lookups);
            var result = new JsonObject { ["web01"] = Minion(ok: true) };
            if (lookup > 1)
            {
                result["web02"] = Minion(ok: !_web02Fails);
            }

            return Results.Json(new JsonObject
            {
                ["info"] = new JsonArray(new JsonObject { ["jid"] = jid, ["Function"] = "state.apply", ["Minions"] = new JsonArray("web01", "web02"), ["Result"] = result }),
                ["return"] = new JsonArray(new JsonObject()),
            });
        });
        await _app.StartAsync();
        var address = _app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        _url = new Uri(address + "/api");
    }

    public async Task DisposeAsync() => await _app.DisposeAsync();

    [Fact]
    public async Task Deploy_LogsIn_StartsStateApplyWithThePillar_AndFollowsTheJobMinionByMinion()
    {
        var output = new RecordingOutput();
        var result = await Run(output, "staging", hosts: "web01,web02");

        result.Outcome.ShouldBe(RunnerOutcome.Succeeded, result.Error);
        var lowstate = _lowstates.ShouldHaveSingleItem()[0]!;
        lowstate["client"]!.GetValue<string>().ShouldBe("local_async");
        lowstate["fun"]!.GetValue<string>().ShouldBe("state.apply");
        lowstate["tgt_type"]!.GetValue<string>().ShouldBe("list");
        lowstate["tgt"]!.AsArray().Select(t => t!.GetValue<string>()).ShouldBe(["web01", "web02"]);
        lowstate["arg"]![0]!.GetValue<string>().ShouldBe("booking.deploy");
        lowstate["kwarg"]!["pillar"]!["version"]!.GetValue<string>().ShouldBe("1.4.2");
        lowstate["kwarg"]!["pillar"]!["env"]!.GetValue<string>().ShouldBe("staging");
        output.Text.ShouldContain($"salt job {Jid}: state.apply booking.deploy on 2 minions");
        output.Text.IndexOf("web01: ok", StringComparison.Ordinal).ShouldBeLessThan(output.Text.IndexOf("web02: ok", StringComparison.Ordinal));
        output.Text.ShouldNotContain("salt-secret");
        _lookups.ShouldBeGreaterThanOrEqualTo(2);
        (await _store.CurrentAsync("booking", "staging", CancellationToken.None)).ShouldHaveSingleItem().Backend.ShouldBe("salt");
    }

    [Fact]
    public async Task AFailedStateOnOneMinion_FailsTheDeployment_NamingTheStateAndItsComment()
    {
        _web02Fails = true;
        var result = await Run(new RecordingOutput(), "staging", hosts: "web01,web02");

        result.Outcome.ShouldBe(RunnerOutcome.Failed);
        result.Error!.ShouldContain("did not succeed on web02");
        result.Error!.ShouldContain("booking-package: Package booking=1.4.2 not found");
        result.Result!["hosts"]!.AsArray().Select(h => h!["status"]!.GetValue<string>()).ShouldBe(["ok", "failed"]);
        _store.All.ShouldHaveSingleItem().Status.ShouldBe(DeploymentStatus.Failed);
    }

    [Fact]
    public async Task AMinionSaltDoesNotKnow_IsReportedUnreachable()
    {
        var result = await Run(new RecordingOutput(), "staging", hosts: null);

        result.Outcome.ShouldBe(RunnerOutcome.Failed);
        result.Result!["hosts"]!.AsArray().Single(h => h!["host"]!.GetValue<string>() == "web03")!["status"]!.GetValue<string>().ShouldBe("unreachable");
    }

    [Fact]
    public async Task AWrongPassword_IsAClearRefusal()
    {
        var result = await Run(new RecordingOutput(), "staging", hosts: "web01,web02", password: "wrong");

        result.Outcome.ShouldBe(RunnerOutcome.Failed);
        result.Error!.ShouldContain("salt-api refused the login of opsrobot (pam)");
        result.Error!.ShouldNotContain("wrong");
        _lowstates.ShouldBeEmpty();
    }

    private static JsonObject Minion(bool ok) => new()
    {
        ["retcode"] = ok ? 0 : 2,
        ["success"] = ok,
        ["return"] = new JsonObject
        {
            ["pkg_|-booking-package_|-booking_|-installed"] = new JsonObject
            {
                ["__id__"] = "booking-package",
                ["result"] = ok,
                ["comment"] = ok ? "The following packages were installed/updated: booking" : "Package booking=1.4.2 not found",
                ["changes"] = new JsonObject(),
            },
        },
    };

    private Task<RunnerResult> Run(RecordingOutput output, string env, string? hosts, string password = "salt-secret")
    {
        var inventory = hosts is null ? _inventory : FilteredInventory(hosts.Split(','));
        var deploy = new DeployOptions();
        deploy.Salt.Url = _url;
        deploy.Salt.Username = "opsrobot";
        deploy.Salt.PasswordKey = "salt_password";
        deploy.Salt.PollInterval = TimeSpan.FromMilliseconds(50);
        deploy.Apps["booking"] = new DeployAppOptions { Backend = "salt", Node = "corp/booking", State = "booking.deploy" };
        var options = MsOptions.Create(deploy);
        var secrets = new DictionaryKeySource(new Dictionary<string, string> { ["salt_password"] = password });
        var salt = new SaltBackend(new SimpleHttpClientFactory(), options, secrets, TimeProvider.System, NullLogger<SaltBackend>.Instance);
        var runner = new DeployRunner(options, MsOptions.Create(new Integrations.Ssh.SshOptions()), new NodeHostPolicy("corp/"), secrets, [salt],
            TimeProvider.System, NullLogger<DeployRunner>.Instance, _store, inventory);
        var parameters = new Dictionary<string, JsonNode?>(StringComparer.Ordinal) { ["operation"] = "deploy", ["app"] = "booking", ["version"] = "1.4.2", ["env"] = env };
        return runner.RunAsync(new RunnerContext("9", new ActionDefinition("deploy", "deploy", "deploy"), parameters, output) { Requester = Alice }, CancellationToken.None);
    }

    private static InMemoryHostInventory FilteredInventory(string[] names)
    {
        var inventory = new InMemoryHostInventory();
        foreach (var name in names)
        {
            inventory.Add(name, "10.0.0.1", 22, "corp/booking", "staging");
        }

        return inventory;
    }

    private sealed class SimpleHttpClientFactory : IHttpClientFactory
    {
        public HttpClient CreateClient(string name) => new(new SocketsHttpHandler(), disposeHandler: true);
    }
}
