using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using OpsRobot.Core.Chat;
using OpsRobot.Core.Commands;
using OpsRobot.Core.Rooms;
using OpsRobot.Core.Users;
using OpsRobot.Tests.Support;

namespace OpsRobot.Tests;

/// <summary>
/// Access control end to end, as a security boundary: a permission matrix of users × commands × tree nodes ×
/// rooms through the shell chat and the API, and the hostile cases (another user's display name, an unlinked
/// identity, revoked and expired keys, parameters escaping their scope, an elevation that expired a second ago,
/// a whitelist change while a command is queued).
/// </summary>
public sealed class AccessControlTests : IAsyncLifetime
{
    private AccessWorld _world = null!;

    public async Task InitializeAsync() => _world = await AccessWorld.StartAsync();

    public async Task DisposeAsync() => await _world.DisposeAsync();

    [Theory]
    [InlineData("viewer runs a read-only command", "carol", "ops", "health of booking", "#1 succeeded")]
    [InlineData("viewer may not change anything", "carol", "ops", "restart booking", "You need `alias.run` on `ops.restart`")]
    [InlineData("viewer is told whom to ask", "carol", "ops", "restart booking", "ask an administrator: admin")]
    [InlineData("member of the node restarts it", "bob", "ops", "restart booking", "restarted")]
    [InlineData("member by its full path", "bob", "ops", "restart corp/hotel/booking", "restarted")]
    [InlineData("member of a sibling only", "bob", "ops", "restart search", "you need membership of `corp/hotel/search` — ask an owner of corp/hotel: alice")]
    [InlineData("owner above inherits downward", "alice", "ops", "restart search", "restarted")]
    [InlineData("owner of one branch, not another", "alice", "ops", "restart flights", "you need membership of `corp/flights` — ask an owner of corp: admin")]
    [InlineData("operator with no place in the tree", "dave", "ops", "restart booking", "you need membership of `corp/hotel/booking`")]
    [InlineData("climbing out with ..", "bob", "ops", "restart corp/hotel/booking/../search", "no '..'")]
    [InlineData("a wildcard", "bob", "ops", "restart corp/hotel/*", "wildcards are not allowed")]
    [InlineData("a case variant", "bob", "ops", "restart Booking", "node paths are lowercase")]
    [InlineData("a Unicode look-alike", "bob", "ops", "restart b\u043eoking", "plain lowercase ASCII")]
    [InlineData("a node that does not exist", "bob", "ops", "restart bookings", "there is no application node 'bookings'")]
    [InlineData("a leading slash", "bob", "ops", "restart /corp/hotel/booking", "not a node path")]
    [InlineData("sudo command without sudo", "erin", "ops", "deploy booking 1.4.2 to prod", "this is a sudo command")]
    [InlineData("sudo command outside its room", "erin", "dev", "sudo deploy booking 1.4.2 to prod", "runs only in ops")]
    [InlineData("sudo command in a direct message", "erin", null, "sudo deploy booking 1.4.2 to prod", "runs only in ops")]
    [InlineData("sudo without the sudo right", "bob", "ops", "sudo deploy booking 1.4.2 to prod", "You need `sudo` on `ops.deploy`")]
    [InlineData("sudo with a prefixed command", "erin", "ops", "sudo !deploy booking 1.4.2 to prod", "without its own `!`: `!sudo deploy booking 1.4.2 to prod`")]
    [InlineData("sudo with a prefixed built-in", "bob", "ops", "sudo !ping", "without its own `!`: `!sudo ping`")]
    [InlineData("administrative command, not on the whitelist", "alice", "ops", "purge cache", "administrative command")]
    [InlineData("role change without the right", "alice", "ops", "role grant carol operator", "You need `role.manage` on `operator`")]
    [InlineData("role change with the right, not on the whitelist", "dave", "ops", "role grant carol operator", "Only users on the administrators' whitelist may do this")]
    [InlineData("viewer cannot see the audit", "carol", "ops", "audit", "You need `audit.view`")]
    public async Task Matrix_ThroughTheShellChat(string row, string user, string? room, string line, string expected)
    {
        var output = await _world.ShellAsync(user, room, line);

        output.ShouldContain(expected, Case.Sensitive, row);
    }

    [Fact]
    public async Task Administrator_RunsAnAdministrativeCommand()
    {
        var output = await _world.ShellAsync("admin", "ops", "purge cache");

        output.ShouldContain("purged");
    }

    [Fact]
    public async Task Help_ShowsOnlyWhatTheAskerMayRun()
    {
        var carol = await _world.ShellAsync("carol", "ops", "help");
        var bob = await _world.ShellAsync("bob", "ops", "help");

        carol.ShouldContain("`!health of <app>`", Case.Sensitive, carol);
        carol.ShouldNotContain("`!restart <app>`", Case.Sensitive, carol);
        carol.ShouldNotContain("`!purge cache`", Case.Sensitive, carol);
        carol.ShouldNotContain("`!audit", Case.Sensitive, carol);
        bob.ShouldContain("`!restart <app>`", Case.Sensitive, bob);
        bob.ShouldNotContain("`!purge cache`", Case.Sensitive, bob);
        bob.ShouldNotContain("`!identity", Case.Sensitive, bob);
    }

    [Theory]
    [InlineData("bob", "booking", HttpStatusCode.Created, null)]
    [InlineData("bob", "search", HttpStatusCode.Forbidden, "membership of `corp/hotel/search`")]
    [InlineData("carol", "booking", HttpStatusCode.Forbidden, "`action.execute` on `ops.restart`")]
    [InlineData("bob", "../search", HttpStatusCode.Forbidden, "not a node path")]
    [InlineData("bob", "", HttpStatusCode.Forbidden, "the value is empty")]
    public async Task Matrix_ThroughTheApi(string user, string app, HttpStatusCode status, string? expected)
    {
        using var client = _world.KeyClient(await _world.KeyOfAsync(user));

        using var response = await client.PostAsJsonAsync("/api/v1/executions", new { action = "ops.restart", parameters = new { app } });

        var body = await response.Content.ReadAsStringAsync();
        response.StatusCode.ShouldBe(status, body);
        if (expected is not null)
        {
            body.ShouldContain(expected);
        }
    }

    [Fact]
    public async Task Api_SudoActionNeedsAnOpenElevation_AndRoomBoundActionsAreRefused()
    {
        using var client = _world.KeyClient(await _world.KeyOfAsync("erin"));

        using var plain = await client.PostAsJsonAsync("/api/v1/executions", new { action = "ops.deploy", parameters = new { app = "booking", version = "1", env = "prod" } });
        using var sudo = await client.PostAsJsonAsync("/api/v1/executions", new { action = "ops.deploy", parameters = new { app = "booking", version = "1", env = "prod" }, sudo = true });

        plain.StatusCode.ShouldBe(HttpStatusCode.Forbidden);
        (await plain.Content.ReadAsStringAsync()).ShouldContain("runs only in the room ops");
        sudo.StatusCode.ShouldBe(HttpStatusCode.Forbidden);
    }

    [Fact]
    public async Task Api_RevokedAndExpiredKeys_AreRefusedLikeNoKey()
    {
        var revoked = await _world.KeyOfAsync("bob");
        var expiring = await _world.KeyOfAsync("bob", expiresAt: _world.Server.Time.GetUtcNow().AddMinutes(5));
        using (var bob = await _world.Server.SignInAsync("bob", AccessWorld.Password))
        {
            var keys = await bob.GetFromJsonAsync<JsonElement>("/api/v1/apikeys");
            var id = keys.EnumerateArray().First(k => k.GetProperty("name").GetString() == "bob's key").GetProperty("id").GetInt64();
            (await bob.DeleteAsync($"/api/v1/apikeys/{id}")).StatusCode.ShouldBe(HttpStatusCode.NoContent);
        }

        using var withRevoked = _world.KeyClient(revoked);
        using var withExpiring = _world.KeyClient(expiring);
        (await withRevoked.GetAsync("/api/v1/executions")).StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
        (await withExpiring.GetAsync("/api/v1/executions")).StatusCode.ShouldBe(HttpStatusCode.OK);
        _world.Server.Time.Advance(TimeSpan.FromMinutes(5));
        (await withExpiring.GetAsync("/api/v1/executions")).StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
        using var garbage = _world.KeyClient("opsr_not-a-real-key-at-all");
        (await garbage.GetAsync("/api/v1/executions")).StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task Api_ScopedKey_CanDoOnlyWhatItsScopeAndItsOwnerBothAllow()
    {
        var key = await _world.KeyOfAsync("bob", scope: new[] { new { permission = "action.execute", resources = new[] { "ops.health" } } });
        using var client = _world.KeyClient(key);

        using var status = await client.PostAsJsonAsync("/api/v1/executions", new { action = "ops.health", parameters = new { app = "booking" } });
        using var restart = await client.PostAsJsonAsync("/api/v1/executions", new { action = "ops.restart", parameters = new { app = "booking" } });
        using var makeKey = await client.PostAsJsonAsync("/api/v1/apikeys", new { name = "escalate" });

        status.StatusCode.ShouldBe(HttpStatusCode.Created, await status.Content.ReadAsStringAsync());
        restart.StatusCode.ShouldBe(HttpStatusCode.Forbidden);
        (await restart.Content.ReadAsStringAsync()).ShouldContain("scope");
        makeKey.StatusCode.ShouldBe(HttpStatusCode.Forbidden);
    }

    [Fact]
    public async Task UnlinkedIdentity_WithAnotherUsersDisplayName_IsAGuest()
    {
        var robot = _world.Server.Host.App.Services.GetRequiredService<Robot>();
        var room = new ChatRoom("#ops", "#ops", IsDirect: false);
        IncomingMessage Say(string text) => new("irc", room, new ChatUser("mallory", "admin"), text, _world.Server.Time.GetUtcNow());

        var restart = (await robot.HandleAsync(Say("!restart booking")))!.Text;
        var status = await robot.HandleAsync(Say("!health of booking"));
        var whoami = (await robot.HandleAsync(Say("!whoami")))!.Text;
        var purge = (await robot.HandleAsync(Say("!purge cache")))!.Text;

        restart.ShouldContain("I don't know the command");
        purge.ShouldContain("I don't know the command");
        status!.Text.ShouldContain("Running `ops.health`");
        whoami.ShouldContain("not linked to an OpsRobot user");
        whoami.ShouldContain("guest");

        // The execution is mallory's chat identity's, not the user whose name mallory displays: a queued
        // execution is re-checked by its requester's name, so a display name must never stand for a user.
        var executions = _world.Server.Host.App.Services.GetRequiredService<OpsRobot.Core.Executions.ExecutionService>();
        var health = await executions.ListAsync(new OpsRobot.Core.Executions.ExecutionQuery { ActionRef = "ops.health", Limit = 10 }, CancellationToken.None);
        health.ShouldNotBeEmpty();
        health.ShouldAllBe(e => e.Requester.UserName == "irc:mallory");
    }

    [Fact]
    public async Task LinkCode_FromTheWebConsole_LinksTheChatIdentity_AndOnlyOnce()
    {
        var robot = _world.Server.Host.App.Services.GetRequiredService<Robot>();
        var room = new ChatRoom("#ops", "#ops", IsDirect: false);
        IncomingMessage Say(string nick, string text) => new("irc", room, new ChatUser(nick, nick), text, _world.Server.Time.GetUtcNow());
        using var bob = await _world.Server.SignInAsync("bob", AccessWorld.Password);
        var code = (await AccessWorld.JsonAsync(await bob.PostAsJsonAsync("/api/v1/me/link-code", new { }))).GetProperty("code").GetString()!;

        var before = (await robot.HandleAsync(Say("bobirc", "!restart booking")))!.Text;
        var linked = (await robot.HandleAsync(Say("bobirc", $"!link {code}")))!.Text;
        var after = (await robot.HandleAsync(Say("bobirc", "!restart booking")))!.Text;
        var again = (await robot.HandleAsync(Say("mallory", $"!link {code}")))!.Text;

        before.ShouldContain("I don't know the command");
        linked.ShouldContain("you are now bob");
        after.ShouldContain("Running `ops.restart`");
        again.ShouldContain("not valid");
        var executions = _world.Server.Host.App.Services.GetRequiredService<OpsRobot.Core.Executions.ExecutionService>();
        (await executions.ListAsync(new OpsRobot.Core.Executions.ExecutionQuery { ActionRef = "ops.restart", Limit = 10 }, CancellationToken.None))
            .ShouldContain(e => e.Requester.UserName == "bob" && e.Requester.Platform == "irc");
    }

    [Fact]
    public async Task LinkCodes_AreNotGuessable_TooManyWrongCodesAreRefused()
    {
        var robot = _world.Server.Host.App.Services.GetRequiredService<Robot>();
        var room = new ChatRoom("#ops", "#ops", IsDirect: false);
        using var bob = await _world.Server.SignInAsync("bob", AccessWorld.Password);
        var code = (await AccessWorld.JsonAsync(await bob.PostAsJsonAsync("/api/v1/me/link-code", new { }))).GetProperty("code").GetString()!;
        var wrong = code == "000000" ? "000001" : "000000";
        IncomingMessage Say(string text) => new("irc", room, new ChatUser("guesser", "guesser"), text, _world.Server.Time.GetUtcNow());

        for (var i = 0; i < 5; i++)
        {
            (await robot.HandleAsync(Say($"!link {wrong}")))!.Text.ShouldContain("not valid");
        }

        (await robot.HandleAsync(Say($"!link {code}")))!.Text.ShouldContain("Too many wrong codes");
    }

    [Fact]
    public async Task Sudo_CodeInADirectMessage_OpensAWindow_ThatExpires()
    {
        var first = await _world.ShellAsync("erin", "ops", "sudo deploy booking 1.4.2 to prod");
        first.ShouldContain("I sent you a one-time code in a direct message");
        var code = await CodeSentToAsync("erin");

        var confirmed = await _world.ShellAsync("erin", "ops", $"sudo confirm {code}");
        var within = await _world.ShellAsync("erin", "ops", "sudo deploy booking 1.4.3 to prod");
        _world.Server.Time.Advance(TimeSpan.FromMinutes(10) + TimeSpan.FromSeconds(1));
        var expired = await _world.ShellAsync("erin", "ops", "sudo deploy booking 1.4.4 to prod");
        var reused = await _world.ShellAsync("erin", "ops", $"sudo confirm {code}");

        confirmed.ShouldContain("Elevation open until");
        confirmed.ShouldContain("deployed");
        within.ShouldContain("deployed");
        within.ShouldNotContain("one-time code");
        expired.ShouldContain("one-time code");
        reused.ShouldContain("not valid");
    }

    [Fact]
    public async Task Sudo_SomeoneElsesCode_IsRefused()
    {
        await _world.ShellAsync("erin", "ops", "sudo deploy booking 1.4.2 to prod");
        var code = await CodeSentToAsync("erin");

        var stolen = await _world.ShellAsync("admin", "ops", $"sudo confirm {code}");

        stolen.ShouldContain("not valid");
        (await _world.ShellAsync("erin", "ops", $"sudo confirm {code}")).ShouldContain("not valid");
    }

    [Fact]
    public async Task Sudo_ConfirmedInTheWebConsole_RunsTheWaitingCommandInItsRoom()
    {
        await _world.ShellAsync("erin", "ops", "sudo deploy search 2.0 to prod");
        using var erin = await _world.Server.SignInAsync("erin", AccessWorld.Password);
        var pending = await erin.GetFromJsonAsync<JsonElement>("/api/v1/me/elevations");
        var id = pending.EnumerateArray().Single().GetProperty("id").GetInt64();

        using var confirm = await erin.PostAsJsonAsync($"/api/v1/me/elevations/{id}/confirm", new { });

        confirm.StatusCode.ShouldBe(HttpStatusCode.OK, await confirm.Content.ReadAsStringAsync());
        await WaitForDeployedInOpsAsync();
    }

    [Fact]
    public async Task Sudo_ConfirmedInAnotherRoom_RunsTheWaitingCommandInTheRoomItWasAskedIn()
    {
        await _world.ShellAsync("erin", "ops", "sudo deploy search 2.1 to prod");
        var code = await CodeSentToAsync("erin");

        var confirmed = await _world.ShellAsync("erin", "dev", $"sudo confirm {code}");

        confirmed.ShouldContain("Elevation open until");
        confirmed.ShouldContain("Running `deploy search 2.1 to prod` in ops.");
        confirmed.ShouldNotContain("deployed");
        await WaitForDeployedInOpsAsync();
    }

    [Fact]
    public async Task WhitelistChange_WhileACommandIsQueued_RefusesItWhenItsTurnComes()
    {
        var users = _world.Server.Host.App.Services.GetRequiredService<IUserStore>();
        using var adminKey = _world.KeyClient(await _world.Server.AdminKeyAsync());
        (await adminKey.PostAsJsonAsync("/api/v1/users/alice/administrator", new { administrator = true })).StatusCode.ShouldBe(HttpStatusCode.MethodNotAllowed);
        await AccessWorld.OkAsync(adminKey.PutAsJsonAsync("/api/v1/users/alice/administrator", new { administrator = true }));
        using var alice = _world.KeyClient(await _world.KeyOfAsync("alice"));

        var first = await AccessWorld.JsonAsync(await alice.PostAsJsonAsync("/api/v1/executions", new { action = "ops.purge" }));
        var second = await AccessWorld.JsonAsync(await alice.PostAsJsonAsync("/api/v1/executions", new { action = "ops.purge" }));
        var secondId = second.GetProperty("id").GetInt64();
        await ClientVerbPack.WaitUntilAsync(async () =>
            (await alice.GetFromJsonAsync<JsonElement>($"/api/v1/executions/{secondId}")).GetProperty("status").GetString() == "scheduled",
            TimeSpan.FromSeconds(20), "the second purge to wait for the first");
        await AccessWorld.OkAsync(adminKey.PutAsJsonAsync("/api/v1/users/alice/administrator", new { administrator = false }));

        JsonElement final = default;
        await ClientVerbPack.WaitUntilAsync(async () =>
        {
            final = await adminKey.GetFromJsonAsync<JsonElement>($"/api/v1/executions/{secondId}");
            return final.GetProperty("status").GetString() is "canceled" or "succeeded" or "failed";
        }, TimeSpan.FromSeconds(30), "the second purge to end");

        final.GetProperty("status").GetString().ShouldBe("canceled");
        final.GetProperty("error").GetString().ShouldNotBeNull().ShouldContain("administrators' whitelist");
        (await adminKey.GetFromJsonAsync<JsonElement>($"/api/v1/executions/{first.GetProperty("id").GetInt64()}")).GetProperty("status").GetString().ShouldBeOneOf("running", "succeeded");
        (await users.FindByNameAsync("alice", CancellationToken.None))!.IsAdmin.ShouldBeFalse();
    }

    [Fact]
    public async Task Audit_RecordsCommandsDecisionsAndExecutions_WithSecretsMasked()
    {
        await _world.ShellAsync("bob", "ops", "restart booking", "restart search", "login with hunter2-secret");
        using var admin = _world.KeyClient(await _world.Server.AdminKeyAsync());

        var audit = await admin.GetFromJsonAsync<JsonElement>("/api/v1/audit?limit=200");
        var records = audit.GetProperty("records").EnumerateArray().ToList();
        var text = JsonSerializer.Serialize(records);

        text.ShouldNotContain("hunter2-secret");
        records.ShouldContain(r => r.GetProperty("actor").GetString() == "bob" && r.GetProperty("subject").GetString() == "restart booking" && r.GetProperty("decision").GetString() == "allow");
        records.ShouldContain(r => r.GetProperty("actor").GetString() == "bob" && r.GetProperty("subject").GetString() == "restart search" && r.GetProperty("decision").GetString() == "deny"
            && r.GetProperty("rule").GetString()!.Contains("not a member of corp/hotel/search", StringComparison.Ordinal));
        records.ShouldContain(r => r.GetProperty("kind").GetString() == "execution.started" && r.GetProperty("subject").GetString()!.EndsWith("ops.restart", StringComparison.Ordinal));
        records.ShouldContain(r => r.GetProperty("kind").GetString() == "execution.finished" && r.GetProperty("subject").GetString()!.EndsWith("ops.login", StringComparison.Ordinal));
        records.ShouldContain(r => r.GetProperty("kind").GetString() == "tree.changed" && r.GetProperty("actor").GetString() == "admin");
        records.ShouldAllBe(r => r.GetProperty("place").ValueKind == JsonValueKind.Null || r.GetProperty("place").GetString()!.Length > 0);
    }

    [Fact]
    public async Task Audit_RefusalsInsideCommandsAndApi_AreDenyRecords_AndTheCommandLineClaimsNoAllow()
    {
        using var admin = _world.KeyClient(await _world.Server.AdminKeyAsync());
        using var started = await admin.PostAsJsonAsync("/api/v1/executions", new { action = "core.echo", parameters = new { message = "admin's" } });
        started.IsSuccessStatusCode.ShouldBeTrue(await started.Content.ReadAsStringAsync());
        var id = (await AccessWorld.JsonAsync(started)).GetProperty("id").GetInt64();
        using var carol = _world.KeyClient(await _world.KeyOfAsync("carol"));

        var chat = await _world.ShellAsync("carol", "ops", "kv set system.refused 1", $"cancel {id}");
        using var put = await carol.PutAsJsonAsync("/api/v1/kv/system/refused", new { value = "1" });

        chat.ShouldContain("You need `datastore.set`");
        chat.ShouldContain("You need `execution.cancel`");
        put.StatusCode.ShouldBe(HttpStatusCode.Forbidden);
        var records = (await admin.GetFromJsonAsync<JsonElement>("/api/v1/audit?actor=carol&limit=200")).GetProperty("records").EnumerateArray().ToList();
        Func<JsonElement, string, string, bool> denied = (r, door, subject) =>
            r.GetProperty("kind").GetString() == "decision" && r.GetProperty("decision").GetString() == "deny"
            && r.GetProperty("door").GetString() == door && r.GetProperty("subject").GetString()!.StartsWith(subject, StringComparison.Ordinal);
        records.ShouldContain(r => denied(r, "chat", "datastore.set on "), JsonSerializer.Serialize(records));
        records.ShouldContain(r => denied(r, "api", "datastore.set on "), JsonSerializer.Serialize(records));
        records.ShouldContain(r => denied(r, "chat", $"execution.cancel on execution {id} (core.echo)"), JsonSerializer.Serialize(records));
        records.Where(r => r.GetProperty("kind").GetString() == "command").ShouldAllBe(r => r.GetProperty("decision").ValueKind == JsonValueKind.Null || r.GetProperty("decision").GetString() != "allow",
            JsonSerializer.Serialize(records));
    }

    [Fact]
    public async Task WebChatEndpoints_TakeAnApiKeyOrABearerToken_AndRefuseInSentences()
    {
        using var adminKey = _world.KeyClient(await _world.Server.AdminKeyAsync());
        using var anonymous = _world.Server.NewClient();
        using var tokenResponse = await anonymous.PostAsJsonAsync("/api/v1/auth/token", new { userName = "alice", password = AccessWorld.Password });
        tokenResponse.StatusCode.ShouldBe(HttpStatusCode.OK, await tokenResponse.Content.ReadAsStringAsync());
        using var alice = _world.Server.NewClient();
        alice.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", (await AccessWorld.JsonAsync(tokenResponse)).GetProperty("token").GetString());
        using var scoped = _world.KeyClient(await _world.KeyOfAsync("bob", scope: new[] { new { permission = "action.execute", resources = new[] { "ops.health" } } }));

        // An API key: user.manage's POST /users (docs/api.md), and the rooms.
        (await adminKey.PostAsJsonAsync("/api/v1/users", new { name = "frank", password = AccessWorld.Password, roles = new[] { "viewer" } })).StatusCode.ShouldBe(HttpStatusCode.Created);
        (await adminKey.PostAsJsonAsync("/api/v1/rooms", new { name = "keyroom" })).StatusCode.ShouldBe(HttpStatusCode.Created);
        (await adminKey.GetFromJsonAsync<JsonElement>("/api/v1/me")).GetProperty("name").GetString().ShouldBe("admin");

        // A bearer token: join, post, read, list, leave.
        (await alice.PostAsJsonAsync("/api/v1/rooms/keyroom/join", new { })).StatusCode.ShouldBe(HttpStatusCode.OK);
        (await alice.PostAsJsonAsync("/api/v1/rooms/keyroom/messages", new { text = "hello from a token" })).StatusCode.ShouldBe(HttpStatusCode.Accepted);
        var messages = await alice.GetFromJsonAsync<JsonElement>("/api/v1/rooms/keyroom/messages");
        messages.GetProperty("messages").EnumerateArray().ShouldContain(m => m.GetProperty("text").GetString() == "hello from a token");
        (await alice.GetFromJsonAsync<JsonElement>("/api/v1/rooms")).EnumerateArray().ShouldContain(r => r.GetProperty("name").GetString() == "keyroom");
        (await alice.GetAsync("/api/v1/direct")).StatusCode.ShouldBe(HttpStatusCode.OK);

        // Refusals are sentences: no caller, a scoped key (its scope could not follow a line into chat), no grant.
        foreach (var (client, call, status) in new (HttpClient, Func<HttpClient, Task<HttpResponseMessage>>, HttpStatusCode)[]
        {
            (anonymous, c => c.GetAsync("/api/v1/rooms"), HttpStatusCode.Unauthorized),
            (anonymous, c => c.PostAsJsonAsync("/api/v1/users", new { name = "gina", password = AccessWorld.Password }), HttpStatusCode.Unauthorized),
            (anonymous, c => c.GetAsync("/api/v1/me"), HttpStatusCode.Unauthorized),
            (scoped, c => c.PostAsJsonAsync("/api/v1/rooms/keyroom/messages", new { text = "!kv set system.x 1" }), HttpStatusCode.Forbidden),
            (alice, c => c.PostAsJsonAsync("/api/v1/users", new { name = "gina", password = AccessWorld.Password }), HttpStatusCode.Forbidden),
        })
        {
            using var response = await call(client);
            response.StatusCode.ShouldBe(status);
            (await AccessWorld.JsonAsync(response)).GetProperty("error").GetString().ShouldNotBeNullOrWhiteSpace();
        }
    }

    [Fact]
    public async Task Audit_ApiRun_NamesTheCredentialForWhatItIs()
    {
        using var anonymous = _world.Server.NewClient();
        using var tokenResponse = await anonymous.PostAsJsonAsync("/api/v1/auth/token", new { userName = "admin", password = RunningServer.AdminPassword });
        var token = await AccessWorld.JsonAsync(tokenResponse);
        using var bearer = _world.Server.NewClient();
        bearer.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token.GetProperty("token").GetString());
        using var keyed = _world.KeyClient(await _world.Server.AdminKeyAsync());

        (await bearer.PostAsJsonAsync("/api/v1/executions", new { action = "core.echo", parameters = new { message = "by token" } })).StatusCode.ShouldBe(HttpStatusCode.Created);
        (await keyed.PostAsJsonAsync("/api/v1/executions", new { action = "core.echo", parameters = new { message = "by key" } })).StatusCode.ShouldBe(HttpStatusCode.Created);

        var runs = (await keyed.GetFromJsonAsync<JsonElement>("/api/v1/audit?kind=command&subject=run%20core.echo&limit=50")).GetProperty("records").EnumerateArray()
            .Where(r => r.GetProperty("detail").ValueKind == JsonValueKind.Object).Select(r => r.GetProperty("detail")).ToList();
        var tokenId = token.GetProperty("id").GetInt64();
        var byToken = runs.Where(d => d.TryGetProperty("token_id", out var id) && id.GetInt64() == tokenId).ToList();
        var byKey = runs.Where(d => d.TryGetProperty("api_key_id", out var id) && id.ValueKind == JsonValueKind.Number).ToList();
        byToken.ShouldNotBeEmpty(JsonSerializer.Serialize(runs));
        byToken.Count(d => d.TryGetProperty("api_key_id", out var none)).ShouldBe(0);
        byKey.ShouldNotBeEmpty(JsonSerializer.Serialize(runs));
        byKey.Count(d => d.TryGetProperty("token_id", out var none)).ShouldBe(0);
    }

    [Fact]
    public async Task Audit_IsForThoseAllowed()
    {
        using var bob = _world.KeyClient(await _world.KeyOfAsync("bob"));

        (await bob.GetAsync("/api/v1/audit")).StatusCode.ShouldBe(HttpStatusCode.Forbidden);
    }

    [Fact]
    public async Task TreeOwner_MayAddMembersBelowTheirNode_ButNotOwnersOrElsewhere()
    {
        using var alice = _world.KeyClient(await _world.KeyOfAsync("alice"));

        using var member = await alice.PutAsJsonAsync("/api/v1/tree/members", new { path = "corp/hotel/search", user = "dave", kind = "member" });
        using var owner = await alice.PutAsJsonAsync("/api/v1/tree/members", new { path = "corp/hotel/search", user = "dave", kind = "owner" });
        using var elsewhere = await alice.PutAsJsonAsync("/api/v1/tree/members", new { path = "corp/flights", user = "dave", kind = "member" });

        member.StatusCode.ShouldBe(HttpStatusCode.NoContent, await member.Content.ReadAsStringAsync());
        owner.StatusCode.ShouldBe(HttpStatusCode.Forbidden);
        elsewhere.StatusCode.ShouldBe(HttpStatusCode.Forbidden);
        (await _world.ShellAsync("dave", "ops", "restart search")).ShouldContain("restarted");
    }

    [Fact]
    public async Task RolesDefinedInChat_ApplyAtOnce_AndDeletingOneTakesItBack()
    {
        var defined = await _world.ShellAsync("admin", "ops", "role define loginer action.execute:ops.login alias.run:ops.login", "role grant carol loginer");
        var used = await _world.ShellAsync("carol", "ops", "login with abc");
        var deleted = await _world.ShellAsync("admin", "ops", "role delete loginer");
        var after = await _world.ShellAsync("carol", "ops", "login with abc");
        var builtIn = await _world.ShellAsync("admin", "ops", "role define viewer *");

        defined.ShouldContain("Role `loginer` now grants: `action.execute on ops.login`, `alias.run on ops.login`.");
        defined.ShouldContain("carol now has the role `loginer`.");
        used.ShouldContain("logged in");
        deleted.ShouldContain("deleted");
        after.ShouldContain("You need `alias.run` on `ops.login`");
        builtIn.ShouldContain("built-in role");
    }

    /// <summary>Waits for the deploy's result in the room <c>ops</c>, where the sudo command was asked.</summary>
    private async Task WaitForDeployedInOpsAsync()
    {
        var rooms = _world.Server.Host.App.Services.GetRequiredService<IRoomStore>();
        var ops = await rooms.FindAsync("ops", CancellationToken.None);
        await ClientVerbPack.WaitUntilAsync(async () =>
            (await rooms.ReadAsync(ops!.Id, new MessagePage(null, null, 100), CancellationToken.None)).Any(m => m.Text.Contains("deployed", StringComparison.Ordinal)),
            TimeSpan.FromSeconds(20), "the deploy result in ops");
    }

    private async Task<string> CodeSentToAsync(string user)
    {
        var services = _world.Server.Host.App.Services;
        var account = await services.GetRequiredService<IUserStore>().FindByNameAsync(user, CancellationToken.None);
        var rooms = services.GetRequiredService<IRoomStore>();
        var direct = await rooms.GetOrCreateDirectAsync(account!.Id, account.Name, _world.Server.Time.GetUtcNow(), CancellationToken.None);
        var messages = await rooms.ReadAsync(direct.Id, new MessagePage(null, null, 100), CancellationToken.None);
        var sent = messages.Last(m => m.Text.StartsWith("Code **", StringComparison.Ordinal)).Text;
        return sent.Substring("Code **".Length, 6);
    }
}
