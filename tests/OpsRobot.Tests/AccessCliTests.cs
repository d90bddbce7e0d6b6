using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Data.Sqlite;
using OpsRobot.Tests.Support;

namespace OpsRobot.Tests;

/// <summary>The access-control verbs of the real executable, against a real server: login, keys, roles, the tree, the audit.</summary>
public sealed class AccessCliTests : IAsyncLifetime
{
    private AccessWorld _world = null!;

    public async Task InitializeAsync() => _world = await AccessWorld.StartAsync();

    public async Task DisposeAsync() => await _world.DisposeAsync();

    [Fact]
    public async Task Login_KeepsAToken_OtherVerbsUseIt_LogoutRevokesIt()
    {
        var login = await CliAsync(["login", "--user", "bob"], "password-for-tests\n");
        var whoami = await CliAsync(["whoami"]);
        var credentials = Path.Combine(_world.Server.Home.Path, "cli-credentials.json");
        var saved = await File.ReadAllTextAsync(credentials);
        var token = JsonDocument.Parse(saved).RootElement.EnumerateObject().Single().Value.GetProperty("token").GetString()!;
        var logout = await CliAsync(["logout"]);
        var after = await CliAsync(["whoami"]);

        login.ExitCode.ShouldBe(0, login.StandardError);
        login.StandardOutput.ShouldContain("as bob until");
        whoami.ExitCode.ShouldBe(0, whoami.StandardError);
        whoami.StandardOutput.ShouldContain("\"user\": \"bob\"");
        File.GetUnixFileMode(credentials).ShouldBe(UnixFileMode.UserRead | UnixFileMode.UserWrite);
        logout.ExitCode.ShouldBe(0, logout.StandardError);
        after.ExitCode.ShouldBe(2);
        after.StandardError.ShouldContain("not signed in");
        using var stale = _world.KeyClient(token);
        (await stale.GetAsync("/api/v1/me/access")).StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task Login_WrongPassword_ExitsTwoAndSavesNothing()
    {
        var login = await CliAsync(["login", "--user", "bob"], "not-the-password\n");

        login.ExitCode.ShouldBe(2);
        login.StandardError.ShouldContain("Wrong user name or password");
        File.Exists(Path.Combine(_world.Server.Home.Path, "cli-credentials.json")).ShouldBeFalse();
    }

    [Fact]
    public async Task ApiKeyCreate_PrintsTheSecretOnce_AndItWorks()
    {
        await CliAsync(["login", "--user", "bob"], "password-for-tests\n");

        var created = await CliAsync(["apikey", "create", "nagios notifications", "--expires", "30d", "--scope", "execution.view"]);
        var listed = await CliAsync(["apikey", "list"]);

        created.ExitCode.ShouldBe(0, created.StandardError);
        var secret = created.StandardOutput.Trim();
        secret.ShouldStartWith("opsr_");
        listed.StandardOutput.ShouldContain("nagios notifications");
        listed.StandardOutput.ShouldNotContain(secret);
        using var client = _world.KeyClient(secret);
        (await client.GetAsync("/api/v1/executions")).StatusCode.ShouldBe(HttpStatusCode.OK);
        (await client.PostAsJsonAsync("/api/v1/executions", new { action = "ops.health", parameters = new { app = "booking" } })).StatusCode.ShouldBe(HttpStatusCode.Forbidden);
    }

    [Fact]
    public async Task TreeImport_DryRunShowsChanges_ThenApplies_ThenIsIdempotent()
    {
        var file = Path.Combine(_world.Server.Home.Path, "tree.yaml");
        await File.WriteAllTextAsync(file, """
            nodes:
              - path: corp/cars
                description: Car rental
                owners: [alice]
              - path: corp/cars/api
                members: [carol]
            """);
        var env = new Dictionary<string, string> { ["OPSROBOT_URL"] = _world.Server.BaseAddress.ToString().TrimEnd('/'), ["OPSROBOT_API_KEY"] = await _world.Server.AdminKeyAsync() };

        var dry = await OpsRobotProcess.RunAsync(_world.Server.Home.Path, ["tree", "import", file, "--dry-run"], environment: env);
        var treeAfterDry = await _world.Admin.GetFromJsonAsync<JsonElement>("/api/v1/tree");
        var applied = await OpsRobotProcess.RunAsync(_world.Server.Home.Path, ["tree", "import", file], environment: env);
        var again = await OpsRobotProcess.RunAsync(_world.Server.Home.Path, ["tree", "import", file], environment: env);
        var shown = await OpsRobotProcess.RunAsync(_world.Server.Home.Path, ["tree", "show"], environment: env);

        dry.ExitCode.ShouldBe(0, dry.StandardError);
        dry.StandardOutput.ShouldContain("Would change:");
        dry.StandardOutput.ShouldContain("add node corp/cars/api");
        treeAfterDry.EnumerateArray().ShouldNotContain(n => n.GetProperty("path").GetString() == "corp/cars");
        applied.StandardOutput.ShouldContain("owner alice at corp/cars");
        again.StandardOutput.ShouldContain("Nothing to change.");
        shown.StandardOutput.ShouldContain("corp/cars  owners: alice");
        shown.StandardOutput.ShouldContain("corp/cars/api  members: carol");
    }

    [Fact]
    public async Task AuditVerify_IntactTrail_ExitsZero_EditedBehindTheStoresBack_NamesTheRecord()
    {
        await _world.ShellAsync("bob", "ops", "restart booking", "restart search");
        var intact = await VerifyAsync();
        var database = Path.Combine(_world.Server.Home.Path, "data", "opsrobot.db");
        long target;
        await using (var connection = new SqliteConnection($"Data Source={database};Pooling=False"))
        {
            await connection.OpenAsync();
            await using var find = connection.CreateCommand();
            find.CommandText = "SELECT id FROM audit WHERE subject = 'restart search' AND actor = 'bob'";
            target = (long)(await find.ExecuteScalarAsync())!;
            await using var tamper = connection.CreateCommand();
            tamper.CommandText = "DROP TRIGGER audit_no_update; UPDATE audit SET decision = 'allow' WHERE id = $id;";
            tamper.Parameters.AddWithValue("$id", target);
            await tamper.ExecuteNonQueryAsync();
        }

        var broken = await VerifyAsync();

        intact.ExitCode.ShouldBe(0, intact.StandardError);
        intact.StandardOutput.ShouldContain("The audit trail is intact");
        broken.ExitCode.ShouldBe(1);
        broken.StandardError.ShouldContain($"broken at record {target} ");
        broken.StandardError.ShouldContain("does not match its hash");
    }

    [Fact]
    public async Task AuditList_ThroughTheApi_FiltersDenials()
    {
        await _world.ShellAsync("carol", "ops", "restart booking");
        var env = new Dictionary<string, string> { ["OPSROBOT_URL"] = _world.Server.BaseAddress.ToString().TrimEnd('/'), ["OPSROBOT_API_KEY"] = await _world.Server.AdminKeyAsync() };

        var list = await OpsRobotProcess.RunAsync(_world.Server.Home.Path, ["audit", "list", "--decision", "deny", "--user", "carol"], environment: env);

        list.ExitCode.ShouldBe(0, list.StandardError);
        list.StandardOutput.ShouldContain("carol  chat  command  deny  restart booking");
    }

    private Task<ProcessResult> VerifyAsync() => OpsRobotProcess.RunAsync(_world.Server.Home.Path, ["audit", "verify"]);

    private Task<ProcessResult> CliAsync(string[] args, string? input = null) =>
        OpsRobotProcess.RunAsync(_world.Server.Home.Path, args, input, new Dictionary<string, string> { ["OPSROBOT_URL"] = _world.Server.BaseAddress.ToString().TrimEnd('/') });
}
