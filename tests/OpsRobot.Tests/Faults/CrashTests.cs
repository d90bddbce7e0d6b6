using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using OpsRobot.Testing;
using OpsRobot.Tests.Support;

namespace OpsRobot.Tests.Faults;

/// <summary>
/// kill -9 of a busy server: executions running and queued, a workflow half-way, webhooks arriving. After the
/// restart nothing accepted is lost, nothing that ran runs again, and the rooms are told.
/// </summary>
public sealed class CrashTests
{
    private static void WritePack(TestHome home, string runs)
    {
        home.Write("packs/crash/pack.yaml", "name: crash\nversion: 0.1.0\ndescription: Crash test\n");
        home.Write("packs/crash/actions/one.yaml", $$$"""
            name: one
            runner_type: shell
            timeout: 120
            parameters:
              cmd:
                type: string
                immutable: true
                default: "echo {{ tag }} >> {{{runs}}}; sleep {{ seconds }}"
              tag: {type: string, required: true}
              seconds: {type: integer, default: 0}
            """);
        home.Write("packs/crash/policies/one.yaml", """
            name: one.concurrency
            resource_ref: crash.one
            policy_type: action.concurrency
            parameters:
              threshold: 1
              action: delay
            """);
        home.Write("packs/crash/aliases/one.yaml", """
            name: one
            action_ref: crash.one
            description: One at a time
            formats: ["one {{ tag }} {{ seconds=0 }}"]
            """);
        home.Write("packs/crash/rules/tick.yaml", """
            name: tick
            trigger: {type: core.webhook, parameters: {url: tick}}
            action: {ref: core.noop}
            """);
    }

    [Fact]
    public async Task KillNine_WhileBusy_RestartLosesNothingRunsNothingTwiceAndTellsTheRoom()
    {
        using var home = new TestHome();
        var runs = Path.Combine(home.Path, "runs.log");
        var steps = Path.Combine(home.Path, "steps.log");
        var flag = Path.Combine(home.Path, "gate.open");
        WritePack(home, runs);
        WorkflowPacks.WriteFlow(home);
        var port = CliTests.FreePort();
        var accepted = new List<long>();
        long running, workflow;
        long[] queued;

        try
        {
            await using (var first = await ServerChild.StartAsync(home.Path, port))
            {
                using var api = await ServerChild.SignInAsync(port);
                (await api.PostAsJsonAsync("/api/v1/rooms", new { name = "ops" })).EnsureSuccessStatusCode();

                // A workflow in its middle step.
                var created = await api.PostAsJsonAsync("/api/v1/executions", new { action = "wf.flow", parameters = new { log = steps, flag } });
                created.EnsureSuccessStatusCode();
                workflow = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetInt64();

                // One execution running, three queued behind it (concurrency limit 1).
                await SayAsync(api, "!one r 61");
                running = (await WaitForAsync(api, "crash.one", "running", 1, first)).Single();
                foreach (var tag in new[] { "q1", "q2", "q3" })
                {
                    await SayAsync(api, $"!one {tag}");
                }

                queued = [.. await WaitForAsync(api, "crash.one", "scheduled", 3, first)];
                await ExecutionFlowTests.WaitUntilAsync(() => File.Exists(steps) && File.ReadAllText(steps).Contains("gate-start", StringComparison.Ordinal), TimeSpan.FromSeconds(60));

                // Webhooks arrive from a loop while the server dies under them.
                using var stop = new CancellationTokenSource();
                var problems = new List<string>();
                var loop = PostWebhooksAsync(port, accepted, problems, stop.Token);
                try
                {
                    await ExecutionFlowTests.WaitUntilAsync(() => loop.IsFaulted || Count(accepted) >= 20, TimeSpan.FromSeconds(60));
                }
                catch (TimeoutException ex)
                {
                    throw new TimeoutException($"Only {Count(accepted)} webhooks accepted in 60 s; {string.Join("; ", problems.TakeLast(5))}", ex);
                }

                loop.IsFaulted.ShouldBeFalse(loop.Exception?.ToString());
                await first.KillNineAsync();
                await Task.Delay(300);
                await stop.CancelAsync();
                await loop;
            }

            // The dead server's process groups live on, as they would in production; stop them so only the restarted server acts.
            Orphans.KillGroupsMentioning(runs);
            Orphans.KillGroupsMentioning(flag);
            await File.WriteAllTextAsync(flag, "open");

            await using var second = await ServerChild.StartAsync(home.Path, port);
            using var client = await ServerChild.SignInAsync(port);

            // The running execution is marked, truthfully.
            var abandoned = await client.GetFromJsonAsync<JsonElement>($"/api/v1/executions/{running}");
            abandoned.GetProperty("status").GetString().ShouldBe("abandoned");
            abandoned.GetProperty("error").GetString()!.ShouldContain("OpsRobot stopped while this execution was running");

            // The queued ones never started: they run now, once each, and the room hears of it.
            foreach (var id in queued)
            {
                var final = await WaitFinishedAsync(client, id);
                final.GetProperty("status").GetString().ShouldBe("succeeded", final.ToString());
            }

            var lines = await File.ReadAllLinesAsync(runs);
            lines.Order(StringComparer.Ordinal).ToArray().ShouldBe(["q1", "q2", "q3", "r"], string.Join(", ", lines));

            var room = await WaitForRoomAsync(client, texts => queued.All(id => texts.Any(t => t.Contains($"#{id} **succeeded**", StringComparison.Ordinal))));
            room.ShouldContain(t => t.Contains($"#{running} was **abandoned**", StringComparison.Ordinal));
            foreach (var id in queued)
            {
                room.ShouldContain(t => t.Contains($"#{id} was queued when OpsRobot stopped and had not started, so it **runs now**", StringComparison.Ordinal));
            }

            // The workflow carries on from its middle step.
            var flow = await WaitFinishedAsync(client, workflow);
            flow.GetProperty("status").GetString().ShouldBe("succeeded", flow.ToString());
            var stepLines = await File.ReadAllLinesAsync(steps);
            stepLines.Count(l => l == "step1").ShouldBe(1, string.Join(", ", stepLines));
            stepLines.Count(l => l == "step3").ShouldBe(1, string.Join(", ", stepLines));

            // Every webhook answered 202 was stored and evaluated exactly once.
            accepted.Count.ShouldBeGreaterThanOrEqualTo(20);
            foreach (var eventId in accepted)
            {
                JsonElement answer = default;
                await ExecutionFlowTests.WaitUntilAsync(async () =>
                {
                    answer = await client.GetFromJsonAsync<JsonElement>($"/api/v1/events/{eventId}");
                    return answer.GetProperty("event").GetProperty("status").GetString() == "processed";
                }, TimeSpan.FromSeconds(60));
                answer.GetProperty("enforcements").GetArrayLength().ShouldBe(1, answer.ToString());
            }

            // The audit chain is whole across the crash.
            var verify = await OpsRobotProcess.RunAsync(home.Path, ["audit", "verify"]);
            verify.ExitCode.ShouldBe(0, verify.StandardOutput + verify.StandardError);
        }
        finally
        {
            Orphans.KillGroupsMentioning(runs);
            Orphans.KillGroupsMentioning(flag);
        }
    }

    [Fact]
    public async Task KillNine_WhileAnAlertNoticeWaitsForItsMessage_TheRoomIsToldAfterTheRestart()
    {
        using var home = new TestHome();
        var port = CliTests.FreePort();
        var settings = new Dictionary<string, string>
        {
            ["OpsRobot__Alerts__DefaultRoom"] = "web:ops",
            ["OpsRobot__Alerts__PollInterval"] = "00:00:00.100",
            ["OpsRobot__Alerts__GroupWindow"] = "00:10:00", // the notice waits for its message when the server dies
        };
        await using (var first = await ServerChild.StartAsync(home.Path, port, settings))
        {
            using var api = await ServerChild.SignInAsync(port);
            using var intake = await AlertIntakeAsync(api, port, "ops");
            (await intake.PostAsJsonAsync("/api/v1/alerts/alertmanager", AlertmanagerBody("DiskFull", "fp-diskfull"))).StatusCode.ShouldBe(HttpStatusCode.Accepted);

            // On the board (the robot lists it when asked; the board polls every 100 ms), not yet told: the server dies.
            await ExecutionFlowTests.WaitUntilAsync(async () =>
            {
                await SayAsync(api, "!alerts");
                await Task.Delay(300);
                return (await WaitForRoomAsync(api, _ => true)).Any(t => t.Contains("DiskFull", StringComparison.Ordinal));
            }, TimeSpan.FromSeconds(60));
            (await WaitForRoomAsync(api, _ => true)).ShouldNotContain(t => t.Contains("FIRING", StringComparison.Ordinal));
            await first.KillNineAsync();
        }

        settings["OpsRobot__Alerts__GroupWindow"] = "00:00:00";
        await using var second = await ServerChild.StartAsync(home.Path, port, settings);
        using var client = await ServerChild.SignInAsync(port);
        static bool Told(string t) => t.Contains("FIRING", StringComparison.Ordinal) && t.Contains("DiskFull", StringComparison.Ordinal);
        await WaitForRoomAsync(client, texts => texts.Any(Told));

        // Told once: the notice is gone from the store, so no later turn says it again.
        await Task.Delay(TimeSpan.FromSeconds(1));
        (await WaitForRoomAsync(client, _ => true)).Count(Told).ShouldBe(1);
    }

    [Fact]
    public async Task KillNine_AfterOneOfAnAlertsTwoRoomsWasTold_TheRestartTellsOnlyTheOther()
    {
        using var home = new TestHome();
        var port = CliTests.FreePort();
        var settings = new Dictionary<string, string>
        {
            // Team db's alerts go to ops and db; paged ones to db only. One message per room per hour, so db, told of
            // the page, holds DiskFull back while ops is told of it.
            ["OpsRobot__Alerts__Routes__0__Labels__team"] = "db",
            ["OpsRobot__Alerts__Routes__0__Rooms__0"] = "web:ops",
            ["OpsRobot__Alerts__Routes__0__Rooms__1"] = "web:db",
            ["OpsRobot__Alerts__Routes__1__Labels__pager"] = "*",
            ["OpsRobot__Alerts__Routes__1__Rooms__0"] = "web:db",
            ["OpsRobot__Alerts__PollInterval"] = "00:00:00.100",
            ["OpsRobot__Alerts__GroupWindow"] = "00:00:00",
            ["OpsRobot__Alerts__RoomRateLimit"] = "1",
            ["OpsRobot__Alerts__RoomRatePeriod"] = "01:00:00",
        };
        static bool Told(string t, string name) => t.Contains("FIRING", StringComparison.Ordinal) && t.Contains(name, StringComparison.Ordinal);
        await using (var first = await ServerChild.StartAsync(home.Path, port, settings))
        {
            using var api = await ServerChild.SignInAsync(port);
            using var intake = await AlertIntakeAsync(api, port, "ops", "db");
            (await intake.PostAsJsonAsync("/api/v1/alerts/alertmanager", AlertmanagerBody("Paged", "fp-paged", ("pager", "night")))).StatusCode.ShouldBe(HttpStatusCode.Accepted);
            await WaitForRoomAsync(api, texts => texts.Any(t => Told(t, "Paged")), "db");
            (await intake.PostAsJsonAsync("/api/v1/alerts/alertmanager", AlertmanagerBody("DiskFull", "fp-diskfull", ("team", "db")))).StatusCode.ShouldBe(HttpStatusCode.Accepted);
            await WaitForRoomAsync(api, texts => texts.Any(t => Told(t, "DiskFull")));

            // Recorded as told in ops (the flush's write follows its posts), db still waiting: the server dies.
            var database = Path.Combine(home.Path, "data", "opsrobot.db");
            await ExecutionFlowTests.WaitUntilAsync(async () =>
            {
                await using var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={database};Mode=ReadOnly;Pooling=False");
                await connection.OpenAsync();
                await using var command = connection.CreateCommand();
                command.CommandText = "SELECT COUNT(*) FROM alert_notice_rooms WHERE platform = 'web' AND room = 'ops'";
                return (long)(await command.ExecuteScalarAsync())! == 1;
            }, TimeSpan.FromSeconds(60));
            (await WaitForRoomAsync(api, _ => true, "db")).ShouldNotContain(t => t.Contains("DiskFull", StringComparison.Ordinal));
            await first.KillNineAsync();
        }

        await using var second = await ServerChild.StartAsync(home.Path, port, settings);
        using var client = await ServerChild.SignInAsync(port);
        await WaitForRoomAsync(client, texts => texts.Any(t => Told(t, "DiskFull")), "db");

        // ops heard it before the crash and not again; db heard it once.
        await Task.Delay(TimeSpan.FromSeconds(1));
        (await WaitForRoomAsync(client, _ => true)).Count(t => Told(t, "DiskFull")).ShouldBe(1);
        (await WaitForRoomAsync(client, _ => true, "db")).Count(t => Told(t, "DiskFull")).ShouldBe(1);
    }

    /// <summary>Makes the web rooms and the Alertmanager token; returns a client that posts to the alert intake with it.</summary>
    private static async Task<HttpClient> AlertIntakeAsync(HttpClient api, int port, params string[] rooms)
    {
        foreach (var room in rooms)
        {
            (await api.PostAsJsonAsync("/api/v1/rooms", new { name = room })).EnsureSuccessStatusCode();
        }

        (await api.PutAsJsonAsync("/api/v1/kv/system/alerts.alertmanager.token", new { value = "am-token-for-tests", secret = true })).EnsureSuccessStatusCode();
        var intake = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
        intake.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", "am-token-for-tests");
        return intake;
    }

    /// <summary>An Alertmanager webhook body with one firing alert on db1:9100.</summary>
    private static object AlertmanagerBody(string name, string fingerprint, params (string Key, string Value)[] labels)
    {
        var all = new Dictionary<string, string>(StringComparer.Ordinal) { ["alertname"] = name, ["instance"] = "db1:9100", ["severity"] = "critical" };
        foreach (var (key, value) in labels)
        {
            all[key] = value;
        }

        return new
        {
            version = "4",
            status = "firing",
            receiver = "opsrobot",
            alerts = new[] { new { status = "firing", labels = all, annotations = new { summary = name + " is bad" }, fingerprint } },
        };
    }

    private static async Task SayAsync(HttpClient api, string text) =>
        (await api.PostAsJsonAsync("/api/v1/rooms/ops/messages", new { text })).EnsureSuccessStatusCode();

    private static async Task<IReadOnlyList<long>> WaitForAsync(HttpClient api, string action, string status, int count, ServerChild server)
    {
        IReadOnlyList<long> ids = [];
        try
        {
            await ExecutionFlowTests.WaitUntilAsync(async () =>
            {
                var list = await api.GetFromJsonAsync<JsonElement>($"/api/v1/executions?action={action}&status={status}");
                ids = [.. list.GetProperty("executions").EnumerateArray().Select(e => e.GetProperty("id").GetInt64()).Order()];
                return ids.Count == count;
            }, TimeSpan.FromSeconds(60));
        }
        catch (TimeoutException ex)
        {
            throw new TimeoutException($"{count} execution(s) of {action} were not {status} in time (saw {ids.Count}). Server:\n{server.Output}", ex);
        }

        return ids;
    }

    private static async Task<JsonElement> WaitFinishedAsync(HttpClient api, long id)
    {
        JsonElement execution = default;
        await ExecutionFlowTests.WaitUntilAsync(async () =>
        {
            execution = await api.GetFromJsonAsync<JsonElement>($"/api/v1/executions/{id}");
            return execution.GetProperty("status").GetString() is "succeeded" or "failed" or "timeout" or "canceled" or "abandoned";
        }, TimeSpan.FromSeconds(90));
        return execution;
    }

    private static async Task<IReadOnlyList<string>> WaitForRoomAsync(HttpClient api, Func<IReadOnlyList<string>, bool> done, string room = "ops")
    {
        IReadOnlyList<string> texts = [];
        try
        {
            await ExecutionFlowTests.WaitUntilAsync(async () =>
            {
                var history = await api.GetFromJsonAsync<JsonElement>($"/api/v1/rooms/{room}/messages?limit=200");
                texts = [.. history.GetProperty("messages").EnumerateArray().Select(m => m.GetProperty("text").GetString() ?? string.Empty)];
                return done(texts);
            }, TimeSpan.FromSeconds(60));
        }
        catch (TimeoutException ex)
        {
            throw new TimeoutException($"The room {room} did not show what was expected:\n" + string.Join("\n", texts), ex);
        }

        return texts;
    }

    /// <summary>Posts webhooks one after another until canceled; keeps the ids of those answered 202 (accepted).</summary>
    private static int Count(List<long> accepted)
    {
        lock (accepted)
        {
            return accepted.Count;
        }
    }

    private static async Task PostWebhooksAsync(int port, List<long> accepted, List<string> problems, CancellationToken stop)
    {
        using var api = await ServerChild.SignInAsync(port);
        for (var n = 0; !stop.IsCancellationRequested; n++)
        {
            try
            {
                using var response = await api.PostAsJsonAsync("/api/v1/webhooks/tick", new { n }, CancellationToken.None);
                if (response.StatusCode == HttpStatusCode.Accepted)
                {
                    var id = (await response.Content.ReadFromJsonAsync<JsonElement>(CancellationToken.None)).GetProperty("eventId").GetInt64();
                    lock (accepted)
                    {
                        accepted.Add(id);
                    }
                }
                else
                {
                    var problem = $"{(int)response.StatusCode}: {await response.Content.ReadAsStringAsync(CancellationToken.None)}";
                    lock (accepted)
                    {
                        problems.Add(problem);
                    }
                }
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or IOException or JsonException)
            {
                // The server died mid-request: this one was not accepted, so nothing is owed for it.
                await Task.Delay(20, CancellationToken.None);
            }
        }
    }
}
