using System.Globalization;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging.Abstractions;
using OpsRobot.Core.Access;
using OpsRobot.Core.Alerts;
using OpsRobot.Core.Audit;
using OpsRobot.Core.Chat;
using OpsRobot.Core.Commands;
using OpsRobot.Core.Events;
using OpsRobot.Storage.Sqlite;
using OpsRobot.Storage.Tests.Sqlite;
using OpsRobot.Testing;

namespace OpsRobot.Storage.Tests.Alerts;

/// <summary>
/// The alert board wired as the host wires it, on a real SQLite file: events published through the real publisher
/// into the events table, the real access service and tree, the real poster. Only the chat adapter is a recorder
/// (it speaks <see cref="IChatReplySender"/>) and the CMDB a dictionary (it speaks <see cref="IHostDirectory"/>).
/// </summary>
internal sealed class AlertWorld : IAsyncDisposable
{
    private readonly TempDirectory _dir = new("opsrobot-alerts");

    private AlertWorld(AlertOptions options)
    {
        Options = options;
        Database = SqliteTestDatabase.Create(_dir.Combine("opsrobot.db"));
        Store = new SqliteAlertStore(Database);
        Events = new EventPublisher(new SqliteEventStore(Database), Time, NullLogger<EventPublisher>.Instance);
        Users = new SqliteUserStore(Database, Time);
        Audit = new AuditLog(new SqliteAuditStore(Database), Time);
        Access = new AccessService(new SqliteAccessStore(Database, Time), Users, Audit, Time, Microsoft.Extensions.Options.Options.Create(new AccessOptions()), NullLogger<AccessService>.Instance, Hosts);
        var wrapped = Microsoft.Extensions.Options.Options.Create(options);
        Router = new AlertRouter(Access, wrapped, Hosts);
        Board = new AlertBoard(Store, Router, Time, wrapped);
        Poster = new AlertPoster(Router, Chat, Store, Time, wrapped, Microsoft.Extensions.Options.Options.Create(new RobotOptions()), NullLogger<AlertPoster>.Instance);
        Service = new AlertService(Board, Poster, Time, wrapped, NullLogger<AlertService>.Instance);
    }

    public TestTimeProvider Time { get; } = new();

    public AlertOptions Options { get; }

    public SqliteDatabase Database { get; }

    public SqliteAlertStore Store { get; }

    public EventPublisher Events { get; }

    public SqliteUserStore Users { get; }

    public AuditLog Audit { get; }

    public AccessService Access { get; }

    public MapHostDirectory Hosts { get; } = new();

    public AlertRouter Router { get; }

    public AlertBoard Board { get; }

    public AlertPoster Poster { get; }

    public AlertService Service { get; }

    public RecordingChat Chat { get; } = new();

    /// <summary>
    /// What a restart builds over the same database: a new board, poster and service (nothing kept in memory); the
    /// poster writes through <paramref name="posterStore"/> when given (a store that fails on cue).
    /// </summary>
    public AlertService Restart(IChatReplySender? chat = null, IAlertStore? posterStore = null)
    {
        var wrapped = Microsoft.Extensions.Options.Options.Create(Options);
        var poster = new AlertPoster(Router, chat ?? Chat, posterStore ?? Store, Time, wrapped, Microsoft.Extensions.Options.Options.Create(new RobotOptions()), NullLogger<AlertPoster>.Instance);
        return new AlertService(new AlertBoard(Store, Router, Time, wrapped), poster, Time, wrapped, NullLogger<AlertService>.Instance);
    }

    public static async Task<AlertWorld> StartAsync(Action<AlertOptions>? configure = null)
    {
        var options = new AlertOptions { DefaultRoom = "irc:#alerts", GroupWindow = TimeSpan.FromSeconds(5) };
        configure?.Invoke(options);
        var world = new AlertWorld(options);
        await world.Database.MigrateAsync(world.Time, CancellationToken.None);
        return world;
    }

    /// <summary>Publishes a <c>core.alert</c> event shaped as the Alertmanager intake shapes it.</summary>
    public Task<EventRecord> AlertAsync(string name, string status = "firing", string? host = "web1:9100", string severity = "critical", string? summary = null, params (string Key, string Value)[] labels) =>
        AlertAsync(name, status, host, severity, summary, null, labels);

    /// <summary>As above, with the payload changed by <paramref name="change"/> before it is published.</summary>
    public Task<EventRecord> AlertAsync(string name, string status, string? host, string severity, string? summary, Action<JsonObject>? change, params (string Key, string Value)[] labels)
    {
        var all = new JsonObject { ["alertname"] = name };
        if (host is not null)
        {
            all["instance"] = host;
        }

        foreach (var (key, value) in labels)
        {
            all[key] = value;
        }

        var payload = new JsonObject
        {
            ["source"] = "alertmanager",
            ["status"] = status,
            ["name"] = name,
            ["severity"] = severity,
            ["host"] = host,
            ["summary"] = summary ?? $"{name} is bad",
            ["labels"] = all,
            ["annotations"] = new JsonObject(),
            ["fingerprint"] = "fp-" + name + "-" + host,
        };
        change?.Invoke(payload);
        return Events.PublishAsync(BuiltInTriggers.Alert, payload, "alerts:alertmanager", CancellationToken.None);
    }

    /// <summary>Applies what was published, then lets the gathering window pass and posts.</summary>
    public async Task SettleRoomsAsync()
    {
        await Service.RunOnceAsync(CancellationToken.None);
        Time.Advance(Options.GroupWindow);
        await Service.RunOnceAsync(CancellationToken.None);
    }

    public async Task<Principal> UserAsync(string name, string role, params string[] memberOf)
    {
        var admin = new Principal { Name = "root", Roles = [BuiltInRoles.AdminRole], Door = Doors.System, IsAdministrator = true };
        var user = await Users.CreateAsync(name, name, isAdmin: false, passwordHash: null, CancellationToken.None);
        await Access.AssignRoleAsync(admin, name, role, CancellationToken.None);
        foreach (var node in memberOf)
        {
            await Access.SetMemberAsync(admin, node, name, TreeMemberKind.Member, CancellationToken.None);
        }

        return await Access.ForUserAsync(user, Doors.Chat, "web:ops", CancellationToken.None);
    }

    public async Task AddNodesAsync(params string[] paths)
    {
        var admin = new Principal { Name = "root", Roles = [BuiltInRoles.AdminRole], Door = Doors.System, IsAdministrator = true };
        foreach (var path in paths)
        {
            await Access.AddNodeAsync(admin, path, path, CancellationToken.None);
        }
    }

    public async ValueTask DisposeAsync()
    {
        Access.Dispose();
        await SqliteTestDatabase.ClosePoolAsync(Database);
        _dir.Dispose();
    }
}

/// <summary>A chat adapter that records what it was asked to post.</summary>
internal sealed class RecordingChat : IChatReplySender
{
    private readonly Lock _gate = new();
    private readonly List<(string Room, string Text)> _sent = [];

    public IReadOnlyList<(string Room, string Text)> Sent
    {
        get
        {
            lock (_gate)
            {
                return [.. _sent];
            }
        }
    }

    public IReadOnlyList<string> To(string room) => [.. Sent.Where(s => s.Room == room).Select(s => s.Text)];

    public Task<bool> SendAsync(string platform, ChatRoom room, OutgoingMessage message, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            _sent.Add(($"{platform}:{room.Name}", message.Text));
        }

        return Task.FromResult(true);
    }
}

/// <summary>A CMDB that knows the hosts the test gives it.</summary>
internal sealed class MapHostDirectory : IHostDirectory
{
    public Dictionary<string, string> Nodes { get; } = new(StringComparer.Ordinal);

    public Task<string?> FindApplicationAsync(string host, CancellationToken cancellationToken) =>
        Task.FromResult(Nodes.GetValueOrDefault(host));
}

/// <summary>An alert source that records the calls and answers as the test says.</summary>
internal sealed class RecordingSource(string name) : IAlertSource
{
    public List<string> Calls { get; } = [];

    public AlertCallbackResult Answer { get; set; } = new(true, "done.", "silence-1");

    public string Name => name;

    public Task<AlertCallbackResult> AcknowledgeAsync(AlertReference alert, AlertActor actor, string? comment, CancellationToken cancellationToken)
    {
        Calls.Add($"ack {alert.Name} by {actor.UserName}: {comment}");
        return Task.FromResult(Answer);
    }

    public Task<AlertCallbackResult> SilenceAsync(AlertReference alert, TimeSpan duration, AlertActor actor, string? comment, CancellationToken cancellationToken)
    {
        Calls.Add(string.Create(CultureInfo.InvariantCulture, $"silence {alert.Name} for {duration.TotalMinutes}m by {actor.UserName}: {comment}"));
        return Task.FromResult(Answer);
    }
}
