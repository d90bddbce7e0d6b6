using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using OpsRobot.Benchmarks;

// A burst of signed webhooks against a real OpsRobot server on loopback: every one must be stored (202), every one
// evaluated by the rules, the matching ones enforced exactly once, with the server's memory bounded. Then the alerts
// path: the same number of alerts through Alertmanager's intake, every one applied to the alert board, the room
// told a bounded number of times (grouping and the per-room rate limit hold).
// Between the two, a tenth as many webhooks that all match, to measure executions started by the rules.
// Usage: dotnet run --project bench/OpsRobot.EventsBench -c Release -- [path/to/opsrobot.dll] [events] [senders]
var dll = BenchServer.ResolveDll(args);
var total = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 10_000;
var senders = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 16;
const string Secret = "bench-secret";
const int SampleEvery = 100;

await using var server = await BenchServer.StartAsync(dll, "opsrobot-events-bench", home =>
{
    BenchServer.WriteFile(home, "packs/loadtest/pack.yaml", "name: loadtest\nversion: 1.0.0\ndescription: Webhook load test.\n");
    BenchServer.WriteFile(home, "packs/loadtest/actions/noop.yaml", "name: noop\nrunner_type: noop\ndescription: Nothing.\nparameters:\n  n: {type: integer}\n");
    BenchServer.WriteFile(home, "packs/loadtest/rules/sample.yaml", """
        name: sample
        trigger: {type: core.webhook, parameters: {url: load, secret_key: load_secret}}
        criteria:
          trigger.body.kind: {type: equals, pattern: sample}
          trigger.body.host: {type: matchwildcard, pattern: "web-*"}
        action: {ref: loadtest.noop, parameters: {n: "{{ trigger.body.n }}"}}
        """);
    BenchServer.WriteFile(home, "packs/loadtest/rules/never.yaml", """
        name: never
        trigger: {type: core.webhook, parameters: {url: load, secret_key: load_secret}}
        criteria:
          trigger.body.alerts:
            type: search
            condition: any
            pattern:
              item.severity: {type: equals, pattern: critical}
        action: {ref: loadtest.noop}
        """);
},
new Dictionary<string, string>(StringComparer.Ordinal) { ["OPSROBOT__ALERTS__DEFAULTROOM"] = "web:ops" },
line => line.Contains("fail", StringComparison.OrdinalIgnoreCase) || line.Contains("exception", StringComparison.OrdinalIgnoreCase));
using var http = server.CreateClient(cookies: true);

// The API needs a known caller: the administrator's session.
await BenchServer.SignInAsync(http);
(await http.PutAsJsonAsync("/api/v1/kv/system/load_secret", new { value = Secret, secret = true })).EnsureSuccessStatusCode();

// The burst.
var failures = 0;
var next = -1;
var clock = Stopwatch.StartNew();
await Task.WhenAll(Enumerable.Range(0, senders).Select(async _ =>
{
    int n;
    while ((n = Interlocked.Increment(ref next)) < total)
    {
        var body = Encoding.UTF8.GetBytes(JsonSerializer.Serialize(new
        {
            n,
            kind = n % SampleEvery == 0 ? "sample" : "noise",
            host = $"web-{n % 50}",
            alerts = new[] { new { severity = "warning", name = "DiskFull" } },
        }));
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/webhooks/load") { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
        request.Headers.Add("X-OpsRobot-Signature", "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(Secret), body)));
        using var response = await http.SendAsync(request);
        if (response.StatusCode != HttpStatusCode.Accepted)
        {
            if (Interlocked.Increment(ref failures) <= 5)
            {
                Console.Error.WriteLine($"webhook {n}: HTTP {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
            }
        }
    }
}));
var acceptSeconds = clock.Elapsed.TotalSeconds;

// The catch-up: every event processed.
while (true)
{
    var pending = await http.GetFromJsonAsync<JsonElement>("/api/v1/events?status=pending&limit=1");
    if (pending.GetProperty("events").GetArrayLength() == 0)
    {
        break;
    }

    if (clock.Elapsed > TimeSpan.FromMinutes(10))
    {
        throw new TimeoutException("the rule engine did not catch up within 10 minutes");
    }

    await Task.Delay(100);
}

var processSeconds = clock.Elapsed.TotalSeconds;
var fires = await FiringPhaseAsync(http, total, Math.Max(1, total / 10), senders, Secret, expected: ((total - 1) / SampleEvery) + 1);
var alerts = await AlertsPhaseAsync(server, total, senders);
var stored = await CountAsync(http, "/api/v1/events?trigger=core.webhook", "events");
var enforced = await CountAsync(http, "/api/v1/enforcements?rule=loadtest.sample", "enforcements");
var neverEnforced = await CountAsync(http, "/api/v1/enforcements?rule=loadtest.never", "enforcements");
var peakKb = server.PeakRssKb();
await server.StopAsync();

var expectedSamples = ((total - 1) / SampleEvery) + 1;
var ok = failures == 0 && stored == total + fires.Sent && enforced == expectedSamples + fires.Sent && neverEnforced == 0 && fires.Ok && alerts.Ok;
Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"webhooks sent\t{total}"));
Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"refused or failed\t{failures}"));
Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"accepted (stored) per second\t{total / acceptSeconds:0}"));
Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"evaluated per second, burst to last processed\t{total / processSeconds:0}"));
Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"events stored\t{stored}"));
Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"enforcements (expected {expectedSamples + fires.Sent})\t{enforced}"));
Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"enforcements of the rule that never matches\t{neverEnforced}"));
Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"rule-started executions, webhooks that all match\t{fires.Sent}"));
Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"rule-started executions per second, first webhook to last execution succeeded\t{fires.Sent / fires.Seconds:0}"));
Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"server peak memory (VmHWM, MiB)\t{peakKb / 1024.0:0}"));
Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"alert events sent (intake)\t{alerts.Sent}"));
Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"alert deliveries refused or failed\t{alerts.Failures}"));
Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"alert events per second, intake to board caught up\t{alerts.Sent / alerts.Seconds:0}"));
Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"distinct alerts on the board\t{alerts.Distinct}"));
Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"alert messages posted to the room\t{alerts.Messages}"));
Console.WriteLine(ok ? "result\tok: nothing lost, nothing enforced twice, the room not flooded" : "result\tFAILED");
return ok ? 0 : 1;

// Executions started by the rules: `count` webhooks that all match the sample rule, from `senders` at once; done
// when every one has an execution of its action that succeeded. The first burst's `expected` executions are there before.
static async Task<(bool Ok, int Sent, double Seconds)> FiringPhaseAsync(HttpClient http, int first, int count, int senders, string secret, int expected)
{
    var failures = 0;
    var next = -1;
    var clock = Stopwatch.StartNew();
    await Task.WhenAll(Enumerable.Range(0, senders).Select(async _ =>
    {
        int i;
        while ((i = Interlocked.Increment(ref next)) < count)
        {
            var body = Encoding.UTF8.GetBytes(JsonSerializer.Serialize(new { n = first + i, kind = "sample", host = $"web-{i % 50}", alerts = Array.Empty<object>() }));
            using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/webhooks/load") { Content = new ByteArrayContent(body) };
            request.Content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
            request.Headers.Add("X-OpsRobot-Signature", "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), body)));
            using var response = await http.SendAsync(request);
            if (response.StatusCode != HttpStatusCode.Accepted && Interlocked.Increment(ref failures) <= 5)
            {
                Console.Error.WriteLine($"firing webhook {i}: HTTP {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
            }
        }
    }));

    while (await CountAsync(http, "/api/v1/executions?action=loadtest.noop&status=succeeded", "executions") < expected + count)
    {
        if (clock.Elapsed > TimeSpan.FromMinutes(10))
        {
            throw new TimeoutException("the rules' executions did not all succeed within 10 minutes");
        }

        await Task.Delay(100);
    }

    return (failures == 0, count, clock.Elapsed.TotalSeconds);
}

// The alerts path: `total` alert events in deliveries of 100 (Alertmanager's webhook shape), in five rounds over
// total/5 distinct alerts (firing, firing again, resolved, firing, resolved), rounds one after the other and the
// deliveries of a round from `senders` at once. The board has caught up when `!alerts` lists only a sentinel sent after the rounds: the
// last round resolves every alert, and the board applies events in the order they were stored.
static async Task<(bool Ok, int Sent, int Failures, double Seconds, int Distinct, int Messages)> AlertsPhaseAsync(BenchServer server, int total, int senders)
{
    const string Token = "bench-alert-token";
    const int PerDelivery = 100;
    var distinct = Math.Max(PerDelivery, total / 5 / PerDelivery * PerDelivery);
    using var web = server.CreateClient(cookies: true);
    await BenchServer.SignInAsync(web);
    (await web.PutAsJsonAsync("/api/v1/kv/system/alerts.alertmanager.token", new { value = Token, secret = true })).EnsureSuccessStatusCode();
    (await web.PostAsJsonAsync("/api/v1/rooms", new { name = "ops" })).EnsureSuccessStatusCode();
    using var intake = server.CreateClient();
    intake.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", Token);

    var failures = 0;
    var sent = 0;
    var clock = Stopwatch.StartNew();
    foreach (var status in new[] { "firing", "firing", "resolved", "firing", "resolved" })
    {
        var next = -1;
        await Task.WhenAll(Enumerable.Range(0, senders).Select(async _ =>
        {
            int d;
            while ((d = Interlocked.Increment(ref next)) < distinct / PerDelivery)
            {
                var alerts = Enumerable.Range(d * PerDelivery, PerDelivery).Select(i => new
                {
                    status,
                    labels = new Dictionary<string, string>(StringComparer.Ordinal) { ["alertname"] = "BenchStorm", ["instance"] = $"host{i}:9100", ["severity"] = "warning" },
                    annotations = new Dictionary<string, string>(StringComparer.Ordinal) { ["summary"] = "bench" },
                    fingerprint = $"bench-{i}",
                }).ToArray();
                using var response = await intake.PostAsJsonAsync("/api/v1/alerts/alertmanager", new { version = "4", status, receiver = "opsrobot", alerts });
                if (response.StatusCode == HttpStatusCode.Accepted)
                {
                    Interlocked.Add(ref sent, PerDelivery);
                }
                else if (Interlocked.Increment(ref failures) <= 5)
                {
                    Console.Error.WriteLine($"alert delivery {d}: HTTP {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
                }
            }
        }));
    }

    // A sentinel after the last round: the board applies events in the order they were stored, so it has caught up
    // when `!alerts` lists the sentinel firing and nothing of the storm. ("Nothing is firing" alone is not enough: a
    // board still behind the first round says the same.)
    using (var sentinel = await intake.PostAsJsonAsync("/api/v1/alerts/alertmanager", new
    {
        version = "4",
        status = "firing",
        receiver = "opsrobot",
        alerts = new[]
        {
            new
            {
                status = "firing",
                labels = new Dictionary<string, string>(StringComparer.Ordinal) { ["alertname"] = "BenchSentinel", ["instance"] = "sentinel:9100", ["severity"] = "warning" },
                annotations = new Dictionary<string, string>(StringComparer.Ordinal) { ["summary"] = "bench sentinel" },
                fingerprint = "bench-sentinel",
            },
        },
    }))
    {
        sentinel.EnsureSuccessStatusCode();
    }

    var asked = 0;
    while (true)
    {
        asked++;
        (await web.PostAsJsonAsync("/api/v1/rooms/ops/messages", new { text = "!alerts" })).EnsureSuccessStatusCode();
        var last = await web.GetFromJsonAsync<JsonElement>("/api/v1/rooms/ops/messages?limit=1");
        var answer = last.GetProperty("messages")[0].GetProperty("text").GetString() ?? string.Empty;
        if (answer.Contains("BenchSentinel", StringComparison.Ordinal) && !answer.Contains("BenchStorm", StringComparison.Ordinal))
        {
            break;
        }

        if (clock.Elapsed > TimeSpan.FromMinutes(10))
        {
            throw new TimeoutException("the alert board did not catch up within 10 minutes");
        }

        await Task.Delay(250);
    }

    var seconds = clock.Elapsed.TotalSeconds;

    // Let the last gathering window close, then count what the robot posted besides its answers to !alerts.
    await Task.Delay(TimeSpan.FromSeconds(6));
    var robot = 0;
    long after = 0;
    while (true)
    {
        var page = (await web.GetFromJsonAsync<JsonElement>($"/api/v1/rooms/ops/messages?after={after}&limit=200")).GetProperty("messages");
        if (page.GetArrayLength() == 0)
        {
            break;
        }

        // The robot's messages, less those about the sentinel alone (its own notice).
        robot += page.EnumerateArray().Count(m => m.GetProperty("author").GetProperty("kind").GetString() == "robot"
            && !(m.GetProperty("text").GetString() is { } text && text.Contains("BenchSentinel", StringComparison.Ordinal) && !text.Contains("BenchStorm", StringComparison.Ordinal)));
        after = page[page.GetArrayLength() - 1].GetProperty("id").GetInt64();
    }

    var messages = robot - (asked - 1); // the last answer to !alerts (the sentinel alone) is already left out
    var ok = failures == 0 && sent == distinct * 5 && messages <= 6 * (int)Math.Ceiling((seconds + 6) / 60) + 1;
    return (ok, sent, failures, seconds, distinct, messages);
}

static async Task<int> CountAsync(HttpClient http, string query, string property)
{
    var count = 0;
    long? before = null;
    while (true)
    {
        var page = await http.GetFromJsonAsync<JsonElement>(query + "&limit=1000" + (before is { } b ? "&before=" + b.ToString(CultureInfo.InvariantCulture) : string.Empty));
        var items = page.GetProperty(property);
        if (items.GetArrayLength() == 0)
        {
            return count;
        }

        count += items.GetArrayLength();
        before = items[items.GetArrayLength() - 1].GetProperty("id").GetInt64();
    }
}
