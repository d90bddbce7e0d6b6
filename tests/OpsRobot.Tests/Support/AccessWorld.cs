using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using OpsRobot.Chat.Shell;
using OpsRobot.Testing;

namespace OpsRobot.Tests.Support;

/// <summary>
/// A server with a pack of commands that exercise every access rule, an application tree and a cast of users:
/// <list type="bullet">
/// <item>alice: operator, owner of corp/hotel; bob: operator, member of corp/hotel/booking; carol: viewer;
/// dave: operator and keeper (role.manage, not on the whitelist) with no place in the tree; erin: operator and deployer (sudo on ops.deploy), member of corp;
/// admin: the first administrator (admin role, on the whitelist), owner of corp.</item>
/// <item>ops.health (read-only), ops.restart (scoped by app), ops.deploy (sudo, scoped, only in the ops room),
/// ops.purge (administrative, one at a time, slow), ops.login (a secret parameter).</item>
/// </list>
/// </summary>
public sealed class AccessWorld : IAsyncDisposable
{
    public const string Password = "password-for-tests";

    private AccessWorld(RunningServer server, ApiClient admin)
    {
        Server = server;
        Admin = admin;
    }

    public RunningServer Server { get; }

    /// <summary>The administrator's signed-in client.</summary>
    public ApiClient Admin { get; }

    public static async Task<AccessWorld> StartAsync()
    {
        var home = new TestHome();
        WritePack(home);
        home.Write("roles/deployer.yaml", """
            name: deployer
            description: Deploys applications, with sudo
            grants:
              - permission: sudo
                resources: [ops.deploy]
            users: [erin]
            """);
        home.Write("roles/keeper.yaml", """
            name: keeper
            description: May give roles, but is not on the whitelist
            grants:
              - permission: role.manage
            users: [dave]
            """);
        var server = await RunningServer.StartAsync(home: home);
        var admin = await server.SignInAsync();
        var world = new AccessWorld(server, admin);
        foreach (var (name, role) in new[] { ("alice", "operator"), ("bob", "operator"), ("carol", "viewer"), ("dave", "operator"), ("erin", "operator") })
        {
            (await admin.PostAsJsonAsync("/api/v1/users", new { name, password = Password, roles = new[] { role } })).StatusCode.ShouldBe(HttpStatusCode.Created);
        }

        foreach (var path in new[] { "corp", "corp/hotel", "corp/hotel/booking", "corp/hotel/search", "corp/flights" })
        {
            await OkAsync(admin.PostAsJsonAsync("/api/v1/tree/nodes", new { path }));
        }

        await OkAsync(admin.PutAsJsonAsync("/api/v1/tree/members", new { path = "corp", user = "admin", kind = "owner" }));
        await OkAsync(admin.PutAsJsonAsync("/api/v1/tree/members", new { path = "corp/hotel", user = "alice", kind = "owner" }));
        await OkAsync(admin.PutAsJsonAsync("/api/v1/tree/members", new { path = "corp/hotel/booking", user = "bob", kind = "member" }));
        await OkAsync(admin.PutAsJsonAsync("/api/v1/tree/members", new { path = "corp", user = "erin", kind = "member" }));
        return world;
    }

    /// <summary>
    /// Types <paramref name="lines"/> into the shell chat as <paramref name="user"/> in <paramref name="room"/> (null: a
    /// direct message) and returns everything printed. In a room each line gets the <c>!</c> prefix.
    /// </summary>
    public async Task<string> ShellAsync(string user, string? room, params string[] lines)
    {
        lines = room is null ? lines : [.. lines.Select(l => "!" + l)];
        var shell = Server.Host.App.Services.GetRequiredService<ShellChat>();
        using var output = new StringWriter();
        using var error = new StringWriter();
        var code = await shell.RunAsync(new ShellSession(user, room, Interactive: false), new StringReader(string.Join('\n', lines) + "\n"), output, error, CancellationToken.None);
        code.ShouldBe(0, error.ToString());
        return output.ToString();
    }

    /// <summary>An API client that sends <paramref name="key"/> as X-Api-Key.</summary>
    public HttpClient KeyClient(string key)
    {
        var client = Server.NewClient();
        client.DefaultRequestHeaders.Add("X-Api-Key", key);
        return client;
    }

    /// <summary>An API key of <paramref name="user"/>'s, made by them after signing in.</summary>
    public async Task<string> KeyOfAsync(string user, object? scope = null, DateTimeOffset? expiresAt = null)
    {
        using var client = await Server.SignInAsync(user, user == "admin" ? RunningServer.AdminPassword : Password);
        return await RunningServer.CreateApiKeyAsync(client, $"{user}'s key", scope, expiresAt);
    }

    public static async Task OkAsync(Task<HttpResponseMessage> call)
    {
        using var response = await call;
        response.IsSuccessStatusCode.ShouldBeTrue(await response.Content.ReadAsStringAsync());
    }

    public static async Task<JsonElement> JsonAsync(HttpResponseMessage response) =>
        await response.Content.ReadFromJsonAsync<JsonElement>();

    public async ValueTask DisposeAsync()
    {
        Admin.Dispose();
        await Server.DisposeAsync();
    }

    private static void WritePack(TestHome home)
    {
        home.Write("packs/ops/pack.yaml", "name: ops\nversion: 0.1.0\ndescription: Commands guarded in every way\n");
        home.Write("packs/ops/actions/health.yaml", """
            name: health
            runner_type: echo
            description: Status of an application (changes nothing)
            read_only: true
            parameters:
              message: {type: string, default: all green}
              app: {type: string, required: true}
            """);
        home.Write("packs/ops/aliases/health.yaml", "name: health\naction_ref: ops.health\ndescription: Application health\nformats: [\"health of {{ app }}\"]\n");
        home.Write("packs/ops/actions/restart.yaml", """
            name: restart
            runner_type: echo
            description: Restart an application
            scope: {app: application}
            parameters:
              message: {type: string, default: restarted}
              app: {type: string, required: true}
            """);
        home.Write("packs/ops/aliases/restart.yaml", "name: restart\naction_ref: ops.restart\ndescription: Restart an application\nformats: [\"restart {{ app }}\"]\n");
        home.Write("packs/ops/actions/deploy.yaml", """
            name: deploy
            runner_type: echo
            description: Deploy a version of an application
            sudo: true
            allow_rooms: [ops]
            scope: {app: application}
            parameters:
              message: {type: string, default: deployed}
              app: {type: string, required: true}
              version: {type: string, required: true}
              env: {type: string, required: true}
            """);
        home.Write("packs/ops/aliases/deploy.yaml", "name: deploy\naction_ref: ops.deploy\ndescription: Deploy\nformats: [\"deploy {{ app }} {{ version }} to {{ env }}\"]\n");
        home.Write("packs/ops/actions/purge.yaml", """
            name: purge
            runner_type: shell
            description: Purge every cache (slow, one at a time)
            admin: true
            parameters:
              cmd: {type: string, immutable: true, default: "sleep 2; echo purged"}
            """);
        home.Write("packs/ops/policies/purge.yaml", "name: purge-one\nresource_ref: ops.purge\npolicy_type: action.concurrency\nparameters: {threshold: 1}\n");
        home.Write("packs/ops/aliases/purge.yaml", "name: purge\naction_ref: ops.purge\ndescription: Purge caches\nformats: [\"purge cache\"]\n");
        home.Write("packs/ops/actions/login.yaml", """
            name: login
            runner_type: echo
            description: Use a token
            parameters:
              message: {type: string, default: logged in}
              token: {type: string, required: true, secret: true}
            """);
        home.Write("packs/ops/aliases/login.yaml", "name: login\naction_ref: ops.login\ndescription: Log in somewhere\nformats: [\"login with {{ token }}\"]\n");
    }
}
