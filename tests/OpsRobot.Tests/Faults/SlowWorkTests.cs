using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text.Json;
using OpsRobot.Testing;
using OpsRobot.Tests.Support;

namespace OpsRobot.Tests.Faults;

/// <summary>
/// Work that misbehaves: an HTTP endpoint that never answers, a process that ignores SIGTERM, 100 MB of output.
/// Each ends within its limit with a clear result, and meanwhile another room's commands answer in seconds.
/// </summary>
public sealed class SlowWorkTests
{
    private static void WritePack(TestHome home)
    {
        home.Write("packs/slow/pack.yaml", "name: slow\nversion: 0.1.0\ndescription: Misbehaving work\n");
        home.Write("packs/slow/actions/hang.yaml", """
            name: hang
            runner_type: http
            timeout: 3
            parameters:
              url: {type: string, required: true}
            """);
        home.Write("packs/slow/aliases/hang.yaml", """
            name: hang
            action_ref: slow.hang
            formats: ["hang {{ url }}"]
            """);
        home.Write("packs/slow/actions/stubborn.yaml", """
            name: stubborn
            runner_type: shell
            timeout: 2
            parameters:
              cmd: {type: string, immutable: true, default: "trap '' TERM; echo stubborn-begun; sleep 97; echo never"}
            """);
        home.Write("packs/slow/aliases/stubborn.yaml", """
            name: stubborn
            action_ref: slow.stubborn
            formats: ["stubborn"]
            """);
        home.Write("packs/slow/actions/flood.yaml", """
            name: flood
            runner_type: shell
            timeout: 120
            parameters:
              cmd: {type: string, immutable: true, default: "yes 0123456789012345678901234567890123456789012345678901234567890123456789 | head -c 100000000"}
            """);
        home.Write("packs/slow/aliases/flood.yaml", """
            name: flood
            action_ref: slow.flood
            formats: ["flood"]
            """);
    }

    [Fact]
    public async Task HungHttp_TermIgnoringProcess_HundredMegabytes_EachEndsWithinItsLimit_WhileOtherRoomsAnswer()
    {
        using var hung = new HungEndpoint();
        var home = new TestHome();
        WritePack(home);
        // The grace between SIGTERM and SIGKILL is ProcessRunnerOptions.KillGracePeriod, 5 s by default.
        await using var server = await RunningServer.StartAsync(home: home);
        using var api = await server.SignInAsync();
        (await api.PostAsJsonAsync("/api/v1/rooms", new { name = "ops" })).EnsureSuccessStatusCode();
        (await api.PostAsJsonAsync("/api/v1/rooms", new { name = "dev" })).EnsureSuccessStatusCode();

        try
        {
            var clock = Stopwatch.StartNew();
            await SayAsync(api, "ops", $"!hang {hung.Url}");
            await SayAsync(api, "ops", "!stubborn");
            await SayAsync(api, "ops", "!flood");
            var ids = await WaitForExecutionsAsync(api, 3);

            // While the three run, another room is answered promptly, again and again.
            var slowest = TimeSpan.Zero;
            for (var i = 0; i < 5; i++)
            {
                var answered = await EchoAsync(api, "dev", $"still-here-{i}");
                slowest = answered > slowest ? answered : slowest;
            }

            slowest.ShouldBeLessThan(TimeSpan.FromSeconds(10), "another room waited too long for !echo while the misbehaving work ran");

            var hang = await WaitFinishedAsync(api, ids["slow.hang"]);
            hang.GetProperty("status").GetString().ShouldBe("timeout", hang.ToString());
            hang.GetProperty("error").GetString()!.ShouldContain("Timed out after 3");
            hung.Connections.ShouldBeGreaterThan(0, "the request reached the endpoint that never answers");

            var stubborn = await WaitFinishedAsync(api, ids["slow.stubborn"]);
            stubborn.GetProperty("status").GetString().ShouldBe("timeout", stubborn.ToString());
            stubborn.GetProperty("elapsedSeconds").GetDouble().ShouldBeLessThan(30, "SIGKILL follows the grace period");
            await ExecutionFlowTests.WaitUntilAsync(() => !Running("sleep 97"), TimeSpan.FromSeconds(20));

            var flood = await WaitFinishedAsync(api, ids["slow.flood"]);
            flood.GetProperty("status").GetString().ShouldBe("succeeded", flood.ToString());
            var stdout = flood.GetProperty("result").GetProperty("stdout").GetString()!;
            stdout.Length.ShouldBeLessThan(2 * 1024 * 1024, "the result keeps a bounded part of the output");
            stdout.ShouldContain("more characters");
            clock.Elapsed.ShouldBeLessThan(TimeSpan.FromSeconds(150));

            // The room that asked hears each outcome.
            var ops = await RoomAsync(api, "ops");
            ops.ShouldContain(t => t.Contains($"#{ids["slow.hang"]} **timeout**", StringComparison.Ordinal), string.Join("\n", ops));
            ops.ShouldContain(t => t.Contains($"#{ids["slow.stubborn"]} **timeout**", StringComparison.Ordinal), string.Join("\n", ops));
            (await EchoAsync(api, "dev", "after")).ShouldBeLessThan(TimeSpan.FromSeconds(10));
        }
        finally
        {
            KillAll("sleep 97");
        }
    }

    private static async Task SayAsync(HttpClient api, string room, string text) =>
        (await api.PostAsJsonAsync($"/api/v1/rooms/{room}/messages", new { text })).StatusCode.ShouldBe(HttpStatusCode.Accepted);

    /// <summary>Says <c>!echo</c> in a room and returns how long the robot took to answer there.</summary>
    private static async Task<TimeSpan> EchoAsync(HttpClient api, string room, string word)
    {
        var clock = Stopwatch.StartNew();
        await SayAsync(api, room, $"!echo {word}");
        await ExecutionFlowTests.WaitUntilAsync(async () =>
            (await RoomAsync(api, room)).Any(t => t == word), TimeSpan.FromSeconds(60));
        return clock.Elapsed;
    }

    private static async Task<IReadOnlyList<string>> RoomAsync(HttpClient api, string room)
    {
        var history = await api.GetFromJsonAsync<JsonElement>($"/api/v1/rooms/{room}/messages?limit=200");
        return [.. history.GetProperty("messages").EnumerateArray()
            .Where(m => m.GetProperty("author").GetProperty("kind").GetString() == "robot")
            .Select(m => m.GetProperty("text").GetString() ?? string.Empty)];
    }

    private static async Task<Dictionary<string, long>> WaitForExecutionsAsync(HttpClient api, int count)
    {
        var ids = new Dictionary<string, long>(StringComparer.Ordinal);
        await ExecutionFlowTests.WaitUntilAsync(async () =>
        {
            var list = await api.GetFromJsonAsync<JsonElement>("/api/v1/executions?limit=50");
            foreach (var e in list.GetProperty("executions").EnumerateArray())
            {
                ids[e.GetProperty("action").GetString()!] = e.GetProperty("id").GetInt64();
            }

            return ids.Count >= count;
        }, TimeSpan.FromSeconds(30));
        return ids;
    }

    private static async Task<JsonElement> WaitFinishedAsync(HttpClient api, long id)
    {
        JsonElement execution = default;
        await ExecutionFlowTests.WaitUntilAsync(async () =>
        {
            execution = await api.GetFromJsonAsync<JsonElement>($"/api/v1/executions/{id}");
            return execution.GetProperty("status").GetString() is "succeeded" or "failed" or "timeout" or "canceled" or "abandoned";
        }, TimeSpan.FromSeconds(120));
        return execution;
    }

    private static bool Running(string commandLine) => Processes().Any(p => p.Command == commandLine);

    private static void KillAll(string commandLine)
    {
        foreach (var (pid, _) in Processes().Where(p => p.Command == commandLine))
        {
            try
            {
                Process.GetProcessById(pid).Kill();
            }
            catch (Exception ex) when (ex is ArgumentException or InvalidOperationException)
            {
                // Gone already.
            }
        }
    }

    private static List<(int Pid, string Command)> Processes()
    {
        var list = new List<(int, string)>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (int.TryParse(Path.GetFileName(dir), out var pid))
            {
                try
                {
                    list.Add((pid, File.ReadAllText(Path.Combine(dir, "cmdline")).Replace('\0', ' ').Trim()));
                }
                catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
                {
                    // Gone meanwhile.
                }
            }
        }

        return list;
    }

    /// <summary>An HTTP server that accepts connections, reads the request, and never answers.</summary>
    private sealed class HungEndpoint : IDisposable
    {
        private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
        private readonly CancellationTokenSource _stop = new();
        private readonly List<TcpClient> _clients = [];
        private int _connections;

        public HungEndpoint()
        {
            _listener.Start();
            _ = AcceptAsync();
        }

        public string Url => $"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}/never";

        public int Connections => Volatile.Read(ref _connections);

        public void Dispose()
        {
            _stop.Cancel();
            _listener.Stop();
            lock (_clients)
            {
                foreach (var client in _clients)
                {
                    client.Dispose();
                }
            }

            _stop.Dispose();
        }

        private async Task AcceptAsync()
        {
            try
            {
                while (!_stop.IsCancellationRequested)
                {
                    var client = await _listener.AcceptTcpClientAsync(_stop.Token);
                    Interlocked.Increment(ref _connections);
                    lock (_clients)
                    {
                        _clients.Add(client);
                    }

                    // Read and drop whatever is sent; never write a byte back.
                    _ = client.GetStream().CopyToAsync(Stream.Null, _stop.Token);
                }
            }
            catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                // Stopped.
            }
        }
    }
}
