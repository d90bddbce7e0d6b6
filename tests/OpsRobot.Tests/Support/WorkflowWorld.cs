using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using OpsRobot.Testing;

namespace OpsRobot.Tests.Support;

/// <summary>
/// One test's world for the workflow end-to-end tests (workflows, inquiries, pause/resume/re-run): a real server whose
/// own home holds the <c>wf</c> pack (<see cref="WorkflowPacks.WriteFlow"/>) and whatever else the test class writes,
/// the administrator signed in, a step log and a flag file in that home, and the waits these tests share. Each test
/// starts its own (xunit makes a class instance per test), so no test sees another's executions, files or rooms.
/// </summary>
internal sealed class WorkflowWorld : IAsyncDisposable
{
    /// <summary>The statuses an execution ends in.</summary>
    private static readonly string[] Ended = ["succeeded", "failed", "canceled", "abandoned", "timeout"];

    private WorkflowWorld(RunningServer server, ApiClient admin, string log, string flag)
    {
        Server = server;
        Admin = admin;
        Log = log;
        Flag = flag;
    }

    public RunningServer Server { get; }

    /// <summary>The administrator, signed in.</summary>
    public ApiClient Admin { get; }

    /// <summary>The file the <c>wf</c> pack's steps append their names to (absent until a step runs).</summary>
    public string Log { get; }

    /// <summary>The file whose existence lets a gate or check step through (absent at first).</summary>
    public string Flag { get; }

    /// <summary>
    /// Starts a server over a new home with the <c>wf</c> pack, after <paramref name="arrange"/> has written more into
    /// that home (packs, roles); the flag file is named <paramref name="flagName"/>.
    /// </summary>
    public static async Task<WorkflowWorld> StartAsync(Action<TestHome>? arrange = null, string flagName = "gate.open")
    {
        var home = new TestHome();
        WorkflowPacks.WriteFlow(home);
        arrange?.Invoke(home);
        var server = await RunningServer.StartAsync(home: home);
        var admin = await server.SignInAsync();
        return new WorkflowWorld(server, admin, Path.Combine(home.Path, "steps.log"), Path.Combine(home.Path, flagName));
    }

    /// <summary>Starts <paramref name="action"/> through the API as the administrator; its execution id.</summary>
    public async Task<long> StartAsync(string action, object? parameters = null)
    {
        var created = await Admin.PostAsJsonAsync("/api/v1/executions", new { action, parameters = parameters ?? new { } });
        created.IsSuccessStatusCode.ShouldBeTrue(await created.Content.ReadAsStringAsync());
        return (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetInt64();
    }

    /// <summary>Starts <c>wf.flow</c> (step1, the gate that waits for <see cref="Flag"/>, step3).</summary>
    public Task<long> StartFlowAsync() => StartAsync("wf.flow", new { log = Log, flag = Flag });

    public async Task<JsonElement> ExecutionAsync(long id) =>
        await Admin.GetFromJsonAsync<JsonElement>($"/api/v1/executions/{id}");

    public async Task<string?> StatusAsync(long id) => (await ExecutionAsync(id)).GetProperty("status").GetString();

    /// <summary>Waits (a minute: the machine may be loaded) for the execution to end; its record.</summary>
    public async Task<JsonElement> WaitFinishedAsync(long id)
    {
        JsonElement execution = default;
        await ExecutionFlowTests.WaitUntilAsync(async () =>
        {
            execution = await ExecutionAsync(id);
            return Ended.Contains(execution.GetProperty("status").GetString());
        }, TimeSpan.FromSeconds(60));
        return execution;
    }

    public Task WaitForStatusAsync(long id, string status) =>
        ExecutionFlowTests.WaitUntilAsync(async () => await StatusAsync(id) == status, TimeSpan.FromSeconds(30));

    /// <summary>Waits until the gate step has started (the workflow is in its middle).</summary>
    public Task WaitForGateAsync() =>
        ExecutionFlowTests.WaitUntilAsync(() => Task.FromResult(File.Exists(Log) && File.ReadAllText(Log).Contains("gate-start", StringComparison.Ordinal)), TimeSpan.FromSeconds(30));

    /// <summary>The executions of <paramref name="action"/> (up to 100), newest first.</summary>
    public async Task<IReadOnlyList<JsonElement>> ExecutionsOfAsync(string action)
    {
        var list = await Admin.GetFromJsonAsync<JsonElement>($"/api/v1/executions?action={action}&limit=100");
        return [.. list.GetProperty("executions").EnumerateArray()];
    }

    /// <summary>The executions of <paramref name="action"/> that the workflow execution <paramref name="parent"/> started.</summary>
    public async Task<IReadOnlyList<JsonElement>> ChildrenAsync(long parent, string action) =>
        [.. (await ExecutionsOfAsync(action)).Where(e => ParentOf(e) == parent)];

    public static long? ParentOf(JsonElement execution) =>
        execution.TryGetProperty("parentId", out var p) && p.ValueKind == JsonValueKind.Number ? p.GetInt64() : null;

    /// <summary>Creates the web chat room <c>ops</c>.</summary>
    public async Task CreateRoomAsync() =>
        (await Admin.PostAsJsonAsync("/api/v1/rooms", new { name = "ops" })).EnsureSuccessStatusCode();

    /// <summary>Says <paramref name="text"/> in the room <c>ops</c> as <paramref name="who"/>.</summary>
    public static async Task SayAsync(ApiClient who, string text) =>
        (await who.PostAsJsonAsync("/api/v1/rooms/ops/messages", new { text })).StatusCode.ShouldBe(HttpStatusCode.Accepted);

    /// <summary>Waits until the robot has said at least <paramref name="count"/> messages in <c>ops</c>; all it said, oldest first.</summary>
    public async Task<IReadOnlyList<string>> RobotSaidAsync(int count)
    {
        List<string> robot = [];
        await ExecutionFlowTests.WaitUntilAsync(async () =>
        {
            var history = await Admin.GetFromJsonAsync<JsonElement>("/api/v1/rooms/ops/messages?limit=200");
            robot = [.. history.GetProperty("messages").EnumerateArray()
                .Where(m => m.GetProperty("author").GetProperty("kind").GetString() == "robot")
                .Select(m => m.GetProperty("text").GetString()!)];
            return robot.Count >= count;
        }, TimeSpan.FromSeconds(30));
        return robot;
    }

    /// <summary>The environment for the command-line client as the administrator (API key made once per server).</summary>
    public async Task<IDictionary<string, string>> CliEnvironmentAsync() => new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["OPSROBOT_URL"] = Server.BaseAddress.ToString().TrimEnd('/'),
        ["OPSROBOT_API_KEY"] = await Server.AdminKeyAsync(),
    };

    /// <summary>Re-reads the packs from the home (after a test wrote more actions into it).</summary>
    public async Task ReloadPacksAsync() =>
        (await Admin.PostAsJsonAsync("/api/v1/packs/reload", new { })).EnsureSuccessStatusCode();

    public async ValueTask DisposeAsync()
    {
        Admin.Dispose();
        await Server.DisposeAsync();
    }
}
