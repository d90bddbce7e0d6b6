using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using OpsRobot.Testing;
using OpsRobot.Tests.Support;

namespace OpsRobot.Tests.Faults;

/// <summary>
/// SIGTERM (systemctl stop, docker stop): running executions get StopGrace; what ends in it ends as it would have;
/// the rest has its process tree killed and is marked abandoned, and the rooms are told, before the server exits.
/// </summary>
public sealed class StopTests
{
    [Fact]
    public async Task SigTerm_WhileExecutionsRun_GivesThemTheGrace_ThenKillsAndAbandonsTheRest_AndTellsTheRoom()
    {
        using var home = new TestHome();
        var marker = Path.Combine(home.Path, "stop.marker");
        SecondProcessTests.WriteSleepPack(home, marker);
        var port = CliTests.FreePort();
        var settings = new Dictionary<string, string> { ["OpsRobot__Executions__StopGrace"] = "00:00:15" };
        long longOne, shortOne;
        try
        {
            await using (var server = await ServerChild.StartAsync(home.Path, port, settings))
            {
                using var api = await ServerChild.SignInAsync(port);
                (await api.PostAsJsonAsync("/api/v1/rooms", new { name = "ops" })).EnsureSuccessStatusCode();
                await SayAsync(api, "!nap 300");
                longOne = await WaitRunningAsync(api, 1, server);
                await SayAsync(api, "!nap 4");
                shortOne = await WaitRunningAsync(api, 2, server);

                var clock = Stopwatch.StartNew();
                using (var kill = Process.Start(new ProcessStartInfo("kill", ["-TERM", server.ProcessId.ToString(CultureInfo.InvariantCulture)]) { UseShellExecute = false })!)
                {
                    await kill.WaitForExitAsync();
                }

                await server.WaitForExitAsync(TimeSpan.FromSeconds(120));
                clock.Elapsed.ShouldBeGreaterThan(TimeSpan.FromSeconds(3), "it waited for the grace:\n" + server.Output);
                server.Output.ShouldNotContain("Unhandled");
            }

            // Nothing of the killed execution's process tree is left.
            await ExecutionFlowTests.WaitUntilAsync(() => !Mentioning(marker, "sleep 300"), TimeSpan.FromSeconds(10));

            await using var again = await ServerChild.StartAsync(home.Path, port, settings);
            using var client = await ServerChild.SignInAsync(port);
            var stopped = await client.GetFromJsonAsync<JsonElement>($"/api/v1/executions/{longOne}");
            stopped.GetProperty("status").GetString().ShouldBe("abandoned", stopped.ToString());
            stopped.GetProperty("error").GetString().ShouldBe("OpsRobot stopped while this execution was running; its process tree was killed.");
            var finished = await client.GetFromJsonAsync<JsonElement>($"/api/v1/executions/{shortOne}");
            finished.GetProperty("status").GetString().ShouldBe("succeeded", "it ended within the grace: " + finished);

            var room = await client.GetFromJsonAsync<JsonElement>("/api/v1/rooms/ops/messages?limit=200");
            var texts = room.GetProperty("messages").EnumerateArray().Select(m => m.GetProperty("text").GetString() ?? string.Empty).ToList();
            texts.ShouldContain(t => t.Contains($"#{longOne} **abandoned**", StringComparison.Ordinal), string.Join("\n", texts));
            texts.ShouldContain(t => t.Contains($"#{shortOne} **succeeded**", StringComparison.Ordinal), string.Join("\n", texts));
        }
        finally
        {
            Orphans.KillGroupsMentioning(marker);
        }
    }

    private static async Task SayAsync(HttpClient api, string text) =>
        (await api.PostAsJsonAsync("/api/v1/rooms/ops/messages", new { text })).EnsureSuccessStatusCode();

    /// <summary>Waits until <paramref name="count"/> executions of life.nap run; returns the newest.</summary>
    private static async Task<long> WaitRunningAsync(HttpClient api, int count, ServerChild server)
    {
        long newest = 0;
        try
        {
            await ExecutionFlowTests.WaitUntilAsync(async () =>
            {
                var list = await api.GetFromJsonAsync<JsonElement>("/api/v1/executions?action=life.nap&status=running");
                var ids = list.GetProperty("executions").EnumerateArray().Select(e => e.GetProperty("id").GetInt64()).ToList();
                newest = ids.Count == 0 ? 0 : ids.Max();
                return ids.Count == count;
            }, TimeSpan.FromSeconds(60));
        }
        catch (TimeoutException ex)
        {
            throw new TimeoutException($"{count} nap(s) were not running in time. Server:\n{server.Output}", ex);
        }

        return newest;
    }

    /// <summary>Whether a process runs whose command line holds both texts.</summary>
    private static bool Mentioning(string text, string and)
    {
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            try
            {
                var cmd = File.ReadAllText(Path.Combine(dir, "cmdline")).Replace('\0', ' ');
                if (cmd.Contains(text, StringComparison.Ordinal) && cmd.Contains(and, StringComparison.Ordinal))
                {
                    return true;
                }
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                // Gone meanwhile.
            }
        }

        return false;
    }
}
