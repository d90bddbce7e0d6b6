using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.Extensions.DependencyInjection;
using OpsRobot.Core.Alerts;
using OpsRobot.Testing;
using OpsRobot.Tests.Support;

namespace OpsRobot.Tests;

/// <summary>
/// The alerts pack end to end: a real <c>prometheus-alertmanager</c> sends its webhooks to a real OpsRobot server,
/// the alerts appear in a web chat room, <c>!silence</c> makes a real silence in Alertmanager, and a resolution is
/// posted with how long it fired. And a flood of 10,000 deliveries through the intake: all on the board, the room
/// told a bounded number of times.
/// </summary>
public sealed partial class AlertsEndToEndTests
{
    private const string Token = "alertmanager-token-for-tests";
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(90);

    private static async Task<(RunningServer Server, ApiClient Admin)> StartOpsRobotAsync(params (string Key, string Value)[] settings)
    {
        var all = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase)
        {
            ["OpsRobot:Alerts:DefaultRoom"] = "web:ops",
            ["OpsRobot:Alerts:GroupWindow"] = "00:00:00",
            ["OpsRobot:Alerts:PollInterval"] = "00:00:00.100",
        };
        foreach (var (key, value) in settings)
        {
            all[key] = value;
        }

        var server = await RunningServer.StartAsync(all);

        // Alertmanager keeps real time, and silences are checked against it.
        server.Time.Set(TimeProvider.System.GetUtcNow());
        var admin = await server.SignInAsync();
        (await admin.PutAsJsonAsync("/api/v1/kv/system/alerts.alertmanager.token", new { value = Token, secret = true })).EnsureSuccessStatusCode();
        (await admin.PostAsJsonAsync("/api/v1/rooms", new { name = "ops" })).StatusCode.ShouldBe(HttpStatusCode.Created);
        return (server, admin);
    }

    [Fact]
    public async Task Alertmanager_WebhookPostedInTheRoom_SilenceFromChatReachesIt_ResolutionPosted()
    {
        // Routed by label (as configured in appsettings.json), not by the default room, which does not exist.
        var (server, admin) = await StartOpsRobotAsync(
            ("OpsRobot:Alerts:DefaultRoom", "web:nowhere"), ("OpsRobot:Alerts:Routes:0:Labels:severity", "*"), ("OpsRobot:Alerts:Routes:0:Rooms:0", "web:ops"));
        await using var _ = server;
        using var __ = admin;
        await using var alertmanager = await AlertmanagerServer.StartAsync(new Uri(server.BaseAddress, "/api/v1/alerts/alertmanager"), Token);
        (await admin.PutAsJsonAsync("/api/v1/kv/system/alertmanager.url", new { value = alertmanager.Address.AbsoluteUri })).EnsureSuccessStatusCode();
        using var am = new HttpClient { BaseAddress = alertmanager.Address, Timeout = TimeSpan.FromSeconds(30) };

        await PostToAlertmanagerAsync(am, "DiskFull", "db1:9100", "critical", "/ is 97% full", endsAt: null);
        // Fired seven and a half minutes ago by Alertmanager's clock: the room counts from then, not from its arrival.
        await PostToAlertmanagerAsync(am, "LoadHigh", "web3:9100", "warning", "load 31 for 10m", endsAt: null, startsAt: TimeProvider.System.GetUtcNow().AddSeconds(-450));
        var fired = await WaitForRoomAsync(admin, all => all.Contains("`DiskFull`", StringComparison.Ordinal) && all.Contains("`LoadHigh`", StringComparison.Ordinal), alertmanager);
        var disk = FiringId(fired, "DiskFull");
        var load = FiringId(fired, "LoadHigh");
        fired.ShouldContain($"**{disk} FIRING** [critical] `DiskFull` on `db1:9100`: / is 97% full");

        var answer = await SayAsync(admin, $"!silence {disk} 1h replacing the disk");
        answer.ShouldStartWith($"admin silenced {disk} `DiskFull` on `db1:9100` for 1h, until ");
        answer.ShouldContain("(replacing the disk). alertmanager: silence ");

        var silences = await am.GetFromJsonAsync<JsonElement>("api/v2/silences");
        var silence = silences.EnumerateArray().ShouldHaveSingleItem();
        silence.GetProperty("createdBy").GetString().ShouldBe("admin");
        silence.GetProperty("status").GetProperty("state").GetString().ShouldBe("active");
        silence.GetProperty("comment").GetString().ShouldBe("Silenced from OpsRobot by admin in web:ops: replacing the disk");
        var matchers = silence.GetProperty("matchers").EnumerateArray().ToDictionary(m => m.GetProperty("name").GetString()!, m => m.GetProperty("value").GetString()!);
        matchers["alertname"].ShouldBe("DiskFull");
        matchers["instance"].ShouldBe("db1:9100");
        (await am.GetFromJsonAsync<JsonElement>("api/v2/alerts")).EnumerateArray()
            .Single(a => a.GetProperty("labels").GetProperty("alertname").GetString() == "DiskFull")
            .GetProperty("status").GetProperty("state").GetString().ShouldBe("suppressed");

        // The other one resolves at Alertmanager: the room hears it, with how long it fired (by the source's times).
        server.Time.Advance(TimeSpan.FromMinutes(7));
        await PostToAlertmanagerAsync(am, "LoadHigh", "web3:9100", "warning", "load 31 for 10m", endsAt: TimeProvider.System.GetUtcNow().AddSeconds(-1));
        var resolved = await WaitForRoomAsync(admin, all => all.Contains($"{load} RESOLVED", StringComparison.Ordinal), alertmanager);
        resolved.ShouldContain($"**{load} RESOLVED** `LoadHigh` on `web3:9100` · fired for 7m");

        var list = await SayAsync(admin, "!alerts");
        list.ShouldStartWith("1 alert firing:");
        list.ShouldContain($"**{disk}** [critical] `DiskFull`");
        list.ShouldContain("silenced by admin until");
    }

    [Fact]
    public async Task Flood_TenThousandDeliveries_AllOnTheBoard_RoomGetsABoundedNumberOfMessages()
    {
        var (server, admin) = await StartOpsRobotAsync(("OpsRobot:Alerts:RoomRateLimit", "6"), ("OpsRobot:Alerts:MaxAlertsPerMessage", "10"));
        await using var _ = server;
        using var __ = admin;
        using var intake = server.NewClient();
        intake.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", Token);

        // 10,000 alerts in 20 deliveries of 500: 2,500 distinct alerts, each sent firing, re-sent firing, resolved, fired again.
        const int distinct = 2500;
        var rounds = new[] { "firing", "firing", "resolved", "firing" };
        var clock = Stopwatch.StartNew();
        foreach (var status in rounds)
        {
            for (var start = 0; start < distinct; start += 500)
            {
                var alerts = new JsonArray();
                for (var i = start; i < start + 500; i++)
                {
                    alerts.Add(new JsonObject
                    {
                        ["status"] = status,
                        ["labels"] = new JsonObject { ["alertname"] = "Storm", ["instance"] = $"host{i}:9100", ["severity"] = "warning" },
                        ["annotations"] = new JsonObject { ["summary"] = "storm" },
                        ["fingerprint"] = $"storm-{i}",
                    });
                }

                var body = new JsonObject { ["version"] = "4", ["status"] = status, ["receiver"] = "opsrobot", ["alerts"] = alerts };
                using var response = await intake.PostAsync("/api/v1/alerts/alertmanager", new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json"));
                response.StatusCode.ShouldBe(HttpStatusCode.Accepted, await response.Content.ReadAsStringAsync());
            }
        }

        var service = server.Host.App.Services.GetRequiredService<AlertService>();
        var store = server.Host.App.Services.GetRequiredService<IAlertStore>();
        while (service.Applied < 10_000 && clock.Elapsed < TimeSpan.FromMinutes(5))
        {
            await Task.Delay(200);
        }

        service.Applied.ShouldBe(10_000);
        (await store.CountAsync(CancellationToken.None)).ShouldBe((distinct, distinct));
        var sample = (await store.ListFiringAsync(10, CancellationToken.None))[0];
        sample.Events.ShouldBe(4);
        sample.Flaps.ShouldBe(2);

        // The room's clock does not move in this test: the rate limit allows 6 messages, whatever the flood.
        await Task.Delay(TimeSpan.FromSeconds(1));
        var history = await admin.GetFromJsonAsync<JsonElement>("/api/v1/rooms/ops/messages?limit=200");
        var messages = history.GetProperty("messages").EnumerateArray().Select(m => m.GetProperty("text").GetString()!).ToList();
        messages.Count.ShouldBeInRange(1, 6);
        messages.ShouldAllBe(m => m.Length < 4000);
        // However the flood falls into grouping windows, a message lists at most 10 alerts (the rest are counted and
        // left to `!alerts`), so the room sees at most 60 alert lines for 2,000 alerts.
        messages.Sum(m => System.Text.RegularExpressions.Regex.Count(m, @"\*\*A\d+ ")).ShouldBeInRange(1, 60);
        messages.Where(m => m.Contains("more", StringComparison.Ordinal)).ShouldAllBe(m => m.Contains("see `!alerts`", StringComparison.Ordinal));
    }

    private static async Task PostToAlertmanagerAsync(HttpClient am, string name, string instance, string severity, string summary, DateTimeOffset? endsAt, DateTimeOffset? startsAt = null)
    {
        var alert = new JsonObject
        {
            ["labels"] = new JsonObject { ["alertname"] = name, ["instance"] = instance, ["severity"] = severity },
            ["annotations"] = new JsonObject { ["summary"] = summary },
            ["generatorURL"] = "http://prometheus.example/graph?g0.expr=up",
        };
        if (startsAt is { } start)
        {
            alert["startsAt"] = start.ToString("O", System.Globalization.CultureInfo.InvariantCulture);
        }

        if (endsAt is { } end)
        {
            alert["startsAt"] = end.AddMinutes(-7).ToString("O", System.Globalization.CultureInfo.InvariantCulture);
            alert["endsAt"] = end.ToString("O", System.Globalization.CultureInfo.InvariantCulture);
        }

        using var response = await am.PostAsync("api/v2/alerts", new StringContent(new JsonArray(alert).ToJsonString(), Encoding.UTF8, "application/json"));
        response.StatusCode.ShouldBe(HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
    }

    private static async Task<string> SayAsync(ApiClient client, string text)
    {
        var before = await LastIdAsync(client);
        (await client.PostAsJsonAsync("/api/v1/rooms/ops/messages", new { text })).StatusCode.ShouldBe(HttpStatusCode.Accepted);
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < Patience)
        {
            var page = await client.GetFromJsonAsync<JsonElement>($"/api/v1/rooms/ops/messages?after={before}&limit=50");
            var reply = page.GetProperty("messages").EnumerateArray().FirstOrDefault(m => m.GetProperty("author").GetProperty("kind").GetString() == "robot"
                && !m.GetProperty("text").GetString()!.Contains(" FIRING** ", StringComparison.Ordinal) && !m.GetProperty("text").GetString()!.Contains(" RESOLVED** ", StringComparison.Ordinal));
            if (reply.ValueKind != JsonValueKind.Undefined)
            {
                return reply.GetProperty("text").GetString()!;
            }

            await Task.Delay(100);
        }

        throw new TimeoutException($"No answer to {text}.");
    }

    private static async Task<long> LastIdAsync(ApiClient client)
    {
        var page = await client.GetFromJsonAsync<JsonElement>("/api/v1/rooms/ops/messages?limit=1");
        return page.GetProperty("messages").EnumerateArray().Select(m => m.GetProperty("id").GetInt64()).DefaultIfEmpty(0).Last();
    }

    private static async Task<string> WaitForRoomAsync(ApiClient client, Func<string, bool> done, AlertmanagerServer alertmanager)
    {
        var deadline = Stopwatch.StartNew();
        var all = string.Empty;
        while (deadline.Elapsed < Patience)
        {
            var page = await client.GetFromJsonAsync<JsonElement>("/api/v1/rooms/ops/messages?limit=200");
            all = string.Join("\n", page.GetProperty("messages").EnumerateArray().Select(m => m.GetProperty("text").GetString()));
            if (done(all))
            {
                return all;
            }

            await Task.Delay(100);
        }

        throw new TimeoutException($"The room never showed what was expected. It has:\n{all}\nAlertmanager said:\n{alertmanager.Log}");
    }

    private static string FiringId(string text, string name) =>
        FiringPattern().Matches(text).Single(m => m.Groups["name"].Value == name).Groups["id"].Value;

    [GeneratedRegex(@"\*\*(?<id>A\d+) FIRING\*\* \[[a-z]+\] `(?<name>[A-Za-z]+)`", RegexOptions.CultureInvariant, matchTimeoutMilliseconds: 1000)]
    private static partial Regex FiringPattern();
}
