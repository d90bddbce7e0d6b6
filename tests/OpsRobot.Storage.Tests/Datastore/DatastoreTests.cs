using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using OpsRobot.Core.Chat;
using OpsRobot.Core.Commands;
using OpsRobot.Core.Datastore;
using OpsRobot.Core.Events;
using OpsRobot.Core.Text;
using OpsRobot.Storage.Sqlite;
using OpsRobot.Storage.Tests.Sqlite;
using OpsRobot.Testing;

namespace OpsRobot.Storage.Tests.Datastore;

/// <summary>The datastore service, its encryption and its chat command, on a real SQLite file and a real key file.</summary>
public sealed class DatastoreTests : IAsyncLifetime
{
    private static readonly CancellationToken None = CancellationToken.None;

    private readonly TempDirectory _dir = new("opsrobot-kv");
    private readonly TestTimeProvider _time = new();
    private readonly DatastoreOptions _options = new();
    private SqliteDatabase _database = null!;
    private SqliteEventStore _events = null!;
    private AesGcmSecretProtector _protector = null!;
    private DatastoreService _kv = null!;

    public async Task InitializeAsync()
    {
        _database = SqliteTestDatabase.Create(_dir.Combine("opsrobot.db"));
        await _database.MigrateAsync(_time, None);
        _events = new SqliteEventStore(_database);
        _protector = AesGcmSecretProtector.FromKeyFile(_dir.Combine("datastore.key"), out _);
        _kv = NewService(_protector);
    }

    public async Task DisposeAsync()
    {
        _protector.Dispose();
        await SqliteTestDatabase.ClosePoolAsync(_database);
        _dir.Dispose();
    }

    private DatastoreService NewService(ISecretProtector protector) => new(
        new SqliteKeyValueStore(_database), protector, new EventPublisher(_events, _time, NullLogger<EventPublisher>.Instance),
        _time, Options.Create(_options), NullLogger<DatastoreService>.Instance);

    [Fact]
    public async Task SetGetList_PlainValues_RoundTripByScopeAndOwner()
    {
        await _kv.SetAsync(KeyValueScope.System, "", "disk_limit", "90", false, null, "alice", None);
        await _kv.SetAsync(KeyValueScope.System, "", "disk_path", "/var", false, null, "alice", None);
        await _kv.SetAsync(KeyValueScope.User, "bob", "disk_limit", "50", false, null, "bob", None);

        (await _kv.GetAsync(KeyValueScope.System, "", "disk_limit", None))!.Value.ShouldBe("90");
        (await _kv.GetAsync(KeyValueScope.User, "bob", "disk_limit", None))!.Value.ShouldBe("50");
        (await _kv.GetAsync(KeyValueScope.User, "carol", "disk_limit", None)).ShouldBeNull();
        (await _kv.ListAsync(KeyValueScope.System, "", "disk_", None)).Select(e => e.Name).ShouldBe(["disk_limit", "disk_path"]);
        (await _kv.ListAsync(KeyValueScope.System, "", "disk_l", None)).Select(e => e.Name).ShouldBe(["disk_limit"]);
        (await _kv.ListAsync(KeyValueScope.System, "", "%", None)).ShouldBeEmpty("a prefix is literal, not a LIKE pattern");
    }

    [Fact]
    public async Task Secret_IsEncryptedAtRest_MaskedWhenShown_ClearOnlyForTheEngine()
    {
        var shown = await _kv.SetAsync(KeyValueScope.System, "", "api_token", "tok-123456", true, null, "alice", None);

        shown.Value.ShouldBe("********");
        (await _kv.GetAsync(KeyValueScope.System, "", "api_token", None))!.Value.ShouldBe("********");
        (await _kv.ListAsync(KeyValueScope.System, "", null, None)).Single().Value.ShouldBe("********");
        var raw = (string)(await SqliteTestDatabase.ScalarAsync(_database, "SELECT value FROM kv_pairs WHERE name = 'api_token'"))!;
        raw.ShouldStartWith("v1:");
        raw.ShouldNotContain("tok-123456");
        (await _kv.GetClearValueAsync(KeyValueScope.System, "", "api_token", None)).ShouldBe("tok-123456");

        var view = await _kv.GetViewAsync("rule:ops.r", None);
        view.Kv["system"]!["api_token"]!.GetValue<string>().ShouldBe("tok-123456");
        view.SecretValues.ShouldBe(["tok-123456"]);
    }

    [Fact]
    public async Task Secret_WithAnotherKeyFile_CannotBeRead_AndIsLeftOutOfTemplates()
    {
        await _kv.SetAsync(KeyValueScope.System, "", "api_token", "tok-123456", true, null, "alice", None);
        await _kv.SetAsync(KeyValueScope.System, "", "plain", "p", false, null, "alice", None);
        using var other = AesGcmSecretProtector.FromKeyFile(_dir.Combine("other.key"), out var created);
        created.ShouldBeTrue();
        var wrongKey = NewService(other);

        (await Should.ThrowAsync<DatastoreException>(() => wrongKey.GetClearValueAsync(KeyValueScope.System, "", "api_token", None)))
            .Message.ShouldContain("another key file");
        var view = await wrongKey.GetViewAsync("x", None);
        view.Kv["system"]!.AsObject().Select(p => p.Key).ShouldBe(["plain"]);
    }

    [Fact]
    public async Task Secret_MovedToAnotherKeyName_DoesNotDecrypt()
    {
        await _kv.SetAsync(KeyValueScope.System, "", "a", "secret-a", true, null, "alice", None);
        await SqliteTestDatabase.ScalarAsync(_database, "INSERT INTO kv_pairs SELECT scope, owner, 'b', value, secret, expires_at, updated_at, updated_by FROM kv_pairs WHERE name = 'a'");

        await Should.ThrowAsync<DatastoreException>(() => _kv.GetClearValueAsync(KeyValueScope.System, "", "b", None));
    }

    [Fact]
    public void KeyFile_IsCreatedOwnerOnly_AndReadBackTheSame()
    {
        var path = _dir.Combine("fresh", "datastore.key");

        using var first = AesGcmSecretProtector.FromKeyFile(path, out var created);
        using var second = AesGcmSecretProtector.FromKeyFile(path, out var createdAgain);

        created.ShouldBeTrue();
        createdAgain.ShouldBeFalse();
        File.GetUnixFileMode(path).ShouldBe(UnixFileMode.UserRead | UnixFileMode.UserWrite);
        AesGcmSecretProtector.IsTooOpen(path).ShouldBeFalse();
        second.Unprotect(first.Protect("x", "ctx"), "ctx").ShouldBe("x");
        Should.Throw<DatastoreException>(() => second.Unprotect(first.Protect("x", "ctx"), "other-ctx"));
    }

    [Fact]
    public async Task Protector_UsedByManyThreadsAtOnce_NeverFails()
    {
        var cipher = _protector.Protect("webhook-secret", "system//hook");

        await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(() =>
        {
            for (var i = 0; i < 2000; i++)
            {
                _protector.Unprotect(cipher, "system//hook").ShouldBe("webhook-secret");
                _protector.Unprotect(_protector.Protect("x", "c"), "c").ShouldBe("x");
            }
        })));
    }

    [Theory]
    [InlineData("not a key file")]
    [InlineData("opsrobot-datastore-key-v1 !!!")]
    [InlineData("opsrobot-datastore-key-v1 AAAA")]
    public void KeyFile_Damaged_IsRefusedWithAdvice(string content)
    {
        var path = _dir.Write("bad.key", content);

        Should.Throw<DatastoreException>(() => AesGcmSecretProtector.FromKeyFile(path, out _)).Message.ShouldContain("backup");
    }

    [Fact]
    public async Task Ttl_KeyDisappearsWhenItExpires()
    {
        await _kv.SetAsync(KeyValueScope.System, "", "maintenance", "on", false, TimeSpan.FromMinutes(30), "alice", None);

        (await _kv.GetAsync(KeyValueScope.System, "", "maintenance", None))!.ExpiresAt.ShouldBe(_time.GetUtcNow().AddMinutes(30));
        _time.Advance(TimeSpan.FromMinutes(31));

        (await _kv.GetAsync(KeyValueScope.System, "", "maintenance", None)).ShouldBeNull();
        (await _kv.ListAsync(KeyValueScope.System, "", null, None)).ShouldBeEmpty();
        (await _kv.GetViewAsync("x", None)).Kv["system"]!.AsObject().Count.ShouldBe(0);
        (await _kv.DeleteAsync(KeyValueScope.System, "", "maintenance", "alice", None)).ShouldBeFalse();
        (await _kv.PurgeExpiredAsync(None)).ShouldBe(1);
    }

    [Fact]
    public async Task Changes_AreAnnouncedAsEvents_WithSecretsMasked()
    {
        await _kv.SetAsync(KeyValueScope.User, "bob", "token", "hunter2", true, null, "bob", None);
        (await _kv.DeleteAsync(KeyValueScope.User, "bob", "token", "bob", None)).ShouldBeTrue();

        var events = await _events.ListAsync(new EventQuery { TriggerType = BuiltInTriggers.KeyValueChanged }, None);

        events.Count.ShouldBe(2);
        events[1].Payload.ToJsonString().ShouldBe("""{"change":"set","scope":"user","name":"token","secret":true,"by":"bob","user":"bob","value":"********"}""");
        events[0].Payload["change"]!.GetValue<string>().ShouldBe("deleted");
        events.ShouldAllBe(e => !e.Payload.ToJsonString().Contains("hunter2"));
    }

    [Theory]
    [InlineData("")]
    [InlineData(".hidden")]
    [InlineData("a b")]
    [InlineData("a/b")]
    [InlineData("ключ")]
    public async Task Set_BadName_IsRefused(string name) =>
        (await Should.ThrowAsync<DatastoreException>(() => _kv.SetAsync(KeyValueScope.System, "", name, "v", false, null, "a", None))).Message.ShouldContain("not a valid key name");

    [Fact]
    public async Task Set_TooLongValueOrBadTtl_IsRefused()
    {
        (await Should.ThrowAsync<DatastoreException>(() => _kv.SetAsync(KeyValueScope.System, "", "k", new string('x', _options.MaxValueLength + 1), false, null, "a", None)))
            .Message.ShouldContain("at most");
        await Should.ThrowAsync<DatastoreException>(() => _kv.SetAsync(KeyValueScope.System, "", "k", "v", false, TimeSpan.Zero, "a", None));
        await Should.ThrowAsync<DatastoreException>(() => _kv.SetAsync(KeyValueScope.User, "", "k", "v", false, null, "a", None));
    }

    // ---- chat ----

    private async Task<string> SayAsync(string arguments, string user = "bob", bool direct = false)
    {
        var command = new KvCommand(_kv, new OwnKeysPolicy(), _time);
        var message = new IncomingMessage("test", new ChatRoom(direct ? "d1" : "r1", direct ? "@bob" : "ops", direct), new ChatUser("u1", user), "!kv " + arguments, _time.GetUtcNow());
        var principal = new OpsRobot.Core.Access.Principal
        {
            Name = user,
            User = new OpsRobot.Core.Users.UserRecord(1, user, user, false, null, 0, null, _time.GetUtcNow(), null),
            Roles = [],
            Door = OpsRobot.Core.Access.Doors.Chat,
        };
        var reply = await command.ExecuteAsync(new CommandContext(message, "kv", arguments, new CommandRegistry([command]), new RobotOptions()) { Principal = principal }, None);
        return reply.Text;
    }

    [Fact]
    public async Task Chat_UnlinkedIdentity_IsRefused_WhateverItsDisplayName()
    {
        var command = new KvCommand(_kv, new OwnKeysPolicy(), _time);
        var message = new IncomingMessage("irc", new ChatRoom("#ops", "#ops", false), new ChatUser("mallory", "bob"), "!kv get note", _time.GetUtcNow());
        var guest = new OpsRobot.Core.Access.Principal { Name = "irc:mallory", Roles = [], Door = OpsRobot.Core.Access.Doors.Chat };

        var reply = await command.ExecuteAsync(new CommandContext(message, "kv", "get note", new CommandRegistry([command]), new RobotOptions()) { Principal = guest }, None);

        reply.Text.ShouldContain("linked OpsRobot users");
    }

    [Fact]
    public async Task Chat_SetGetListDelete_OwnKeys()
    {
        (await SayAsync("set --ttl 2h note deploy freeze until friday")).ShouldBe("Set `user.note` = `deploy freeze until friday` (expires in 2h00m)");
        (await SayAsync("get note")).ShouldStartWith("`user.note` = `deploy freeze until friday`");
        (await SayAsync("get note", user: "carol")).ShouldContain("There is no key");
        (await SayAsync("list")).ShouldContain("deploy freeze until friday");
        (await SayAsync("delete user.note")).ShouldBe("Deleted `user.note`.");
        (await SayAsync("get note")).ShouldContain("There is no key");
    }

    [Fact]
    public async Task Chat_Secret_RefusedInARoom_MaskedInADirectConversation()
    {
        (await SayAsync("set --secret token hunter2")).ShouldContain("direct conversation");
        (await _kv.GetAsync(KeyValueScope.User, "bob", "token", None)).ShouldBeNull();

        var set = await SayAsync("set --secret token hunter2", direct: true);
        var got = await SayAsync("get token", direct: true);
        var list = await SayAsync("list", direct: true);

        set.ShouldBe("Set `user.token` = `********` (secret)");
        got.ShouldNotContain("hunter2");
        list.ShouldNotContain("hunter2");
        got.ShouldContain("********");
    }

    [Theory]
    [InlineData("")]
    [InlineData("get")]
    [InlineData("frobnicate x")]
    [InlineData("set onlykey")]
    public async Task Chat_BadUsage_ShowsUsage(string arguments) => (await SayAsync(arguments)).ShouldContain("Usage");

    [Theory]
    [InlineData("set --ttl soon k v", "not a duration")]
    [InlineData("set --bogus k v", "Unknown option")]
    [InlineData("get system.", "names no key")]
    [InlineData("get bad/name", "not a valid key name")]
    public async Task Chat_BadInput_SaysWhy(string arguments, string message) => (await SayAsync(arguments)).ShouldContain(message);

    [Theory]
    [InlineData("90s", 90)]
    [InlineData("30m", 1800)]
    [InlineData("2h", 7200)]
    [InlineData("7d", 604800)]
    public void ParseDuration_Units(string text, int seconds) => DurationText.Parse(text).ShouldBe(TimeSpan.FromSeconds(seconds));

    [Theory]
    [InlineData("")]
    [InlineData("5")]
    [InlineData("-5m")]
    [InlineData("0m")]
    [InlineData("5y")]
    public void ParseDuration_Invalid_IsNull(string text) => DurationText.Parse(text).ShouldBeNull();

    /// <summary>
    /// The chat command's mechanics apart from access control (tested with its grants in the access tests): a user's
    /// keys are theirs alone, system keys open to all.
    /// </summary>
    private sealed class OwnKeysPolicy : IDatastoreAccessPolicy
    {
        public ValueTask<string?> CheckAsync(string userName, DatastoreDoor door, DatastoreOperation operation, KeyValueScope scope, string owner, CancellationToken cancellationToken) =>
            ValueTask.FromResult(scope == KeyValueScope.User && !string.Equals(owner, userName, StringComparison.Ordinal) ? "A user's keys are theirs alone." : null);
    }
}
