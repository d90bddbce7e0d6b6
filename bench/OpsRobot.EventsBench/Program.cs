using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

// A burst of signed webhooks against a real OpsRobot server on loopback: every one must be stored (202), every one
// evaluated by the rules, the matching ones enforced exactly once, with the server's memory bounded. Then the alerts
// path: the same number of alerts through Alertmanager's intake, every one applied to the alert board, the room
// told a bounded number of times (grouping and the per-room rate limit hold).
// Usage: dotnet run --project bench/OpsRobot.EventsBench -c Release -- [path/to/opsrobot.dll] [events] [senders]
var dll = args.Length > 0 ? Path.GetFullPath(args[0]) : FindDll();
var total = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 10_000;
var senders = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 16;
const string Secret = "bench-secret";
const int SampleEvery = 100;

var home = Directory.CreateTempSubdirectory("opsrobot-events-bench").FullName;
try
{
    Write(home, "packs/loadtest/pack.yaml", "name: loadtest\nversion: 1.0.0\ndescription: Webhook load test.\n");
    Write(home, "packs/loadtest/actions/noop.yaml", "name: noop\nrunner_type: noop\ndescription: Nothing.\nparameters:\n  n: {type: integer}\n");
    Write(home, "packs/loadtest/rules/sample.yaml", """
        name: sample
        trigger: {type: core.webhook, parameters: {url: load, secret_key: load_secret}}
        criteria:
          trigger.body.kind: {type: equals, pattern: sample}
          trigger.body.host: {type: matchwildcard, pattern: "web-*"}
        action: {ref: loadtest.noop, parameters: {n: "{{ trigger.body.n }}"}}
        """);
    Write(home, "packs/loadtest/rules/never.yaml", """
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

    var port = FreePort();
    var server = StartServer(dll, home, port);
    using var http = new HttpClient(new HttpClientHandler { CookieContainer = new CookieContainer() }) { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(60) };
    await WaitUntilUpAsync(http, server);

    // The API needs a known caller: the administrator's session.
    (await http.PostAsJsonAsync("/api/v1/auth/login", new { userName = "admin", password = "bench-admin-password" })).EnsureSuccessStatusCode();
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
    var alerts = await AlertsPhaseAsync(port, total, senders);
    var stored = await CountAsync(http, "/api/v1/events?trigger=core.webhook", "events");
    var enforced = await CountAsync(http, "/api/v1/enforcements?rule=loadtest.sample", "enforcements");
    var neverEnforced = await CountAsync(http, "/api/v1/enforcements?rule=loadtest.never", "enforcements");
    var peakKb = PeakRssKb(server.Id);
    server.Kill(entireProcessTree: true);
    await server.WaitForExitAsync();

    var expectedSamples = ((total - 1) / SampleEvery) + 1;
    var ok = failures == 0 && stored == total && enforced == expectedSamples && neverEnforced == 0 && alerts.Ok;
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"webhooks sent\t{total}"));
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"refused or failed\t{failures}"));
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"accepted (stored) per second\t{total / acceptSeconds:0}"));
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"evaluated per second, burst to last processed\t{total / processSeconds:0}"));
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"events stored\t{stored}"));
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"enforcements (expected {expectedSamples})\t{enforced}"));
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"enforcements of the rule that never matches\t{neverEnforced}"));
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"server peak memory (VmHWM, MiB)\t{peakKb / 1024.0:0}"));
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"alert events sent (intake)\t{alerts.Sent}"));
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"alert deliveries refused or failed\t{alerts.Failures}"));
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"alert events per second, intake to board caught up\t{alerts.Sent / alerts.Seconds:0}"));
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"distinct alerts on the board\t{alerts.Distinct}"));
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"alert messages posted to the room\t{alerts.Messages}"));
    Console.WriteLine(ok ? "result\tok: nothing lost, nothing enforced twice, the room not flooded" : "result\tFAILED");
    return ok ? 0 : 1;
}
finally
{
    Directory.Delete(home, recursive: true);
}

// The alerts path: `total` alert events in deliveries of 100 (Alertmanager's webhook shape), in five rounds over
// total/5 distinct alerts (firing, firing again, resolved, firing, resolved), rounds one after the other and the
// deliveries of a round from `senders` at once. The board has caught up when `!alerts` says nothing is firing: the
// last round resolves every alert, and the board applies events in the order they were stored.
static async Task<(bool Ok, int Sent, int Failures, double Seconds, int Distinct, int Messages)> AlertsPhaseAsync(int port, int total, int senders)
{
    const string Token = "bench-alert-token";
    const int PerDelivery = 100;
    var distinct = Math.Max(PerDelivery, total / 5 / PerDelivery * PerDelivery);
    var cookies = new CookieContainer();
    using var web = new HttpClient(new HttpClientHandler { CookieContainer = cookies }) { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(60) };
    (await web.PostAsJsonAsync("/api/v1/auth/login", new { userName = "admin", password = "bench-admin-password" })).EnsureSuccessStatusCode();
    (await web.PutAsJsonAsync("/api/v1/kv/system/alerts.alertmanager.token", new { value = Token, secret = true })).EnsureSuccessStatusCode();
    (await web.PostAsJsonAsync("/api/v1/rooms", new { name = "ops" })).EnsureSuccessStatusCode();
    using var intake = new HttpClient { BaseAddress = web.BaseAddress, Timeout = TimeSpan.FromSeconds(60) };
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

    var asked = 0;
    while (true)
    {
        asked++;
        (await web.PostAsJsonAsync("/api/v1/rooms/ops/messages", new { text = "!alerts" })).EnsureSuccessStatusCode();
        var last = await web.GetFromJsonAsync<JsonElement>("/api/v1/rooms/ops/messages?limit=1");
        if (last.GetProperty("messages")[0].GetProperty("text").GetString() == "Nothing is firing.")
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

        robot += page.EnumerateArray().Count(m => m.GetProperty("author").GetProperty("kind").GetString() == "robot");
        after = page[page.GetArrayLength() - 1].GetProperty("id").GetInt64();
    }

    var messages = robot - asked;
    var ok = failures == 0 && sent == distinct * 5 && messages <= 6 * (int)Math.Ceiling((seconds + 6) / 60) + 1;
    return (ok, sent, failures, seconds, distinct, messages);
}

static string FindDll()
{
    foreach (var config in new[] { "Release", "Debug" })
    {
        var path = Path.GetFullPath(Path.Combine(AppContext.BaseDirectory, "../../../../../src/OpsRobot/bin", config, "net10.0/opsrobot.dll"));
        if (File.Exists(path))
        {
            return path;
        }
    }

    throw new FileNotFoundException("Build src/OpsRobot first, or pass the path of opsrobot.dll.");
}

static void Write(string root, string relative, string text)
{
    var path = Path.Combine(root, relative);
    Directory.CreateDirectory(Path.GetDirectoryName(path)!);
    File.WriteAllText(path, text);
}

static int FreePort()
{
    using var listener = new TcpListener(IPAddress.Loopback, 0);
    listener.Start();
    return ((IPEndPoint)listener.LocalEndpoint).Port;
}

static Process StartServer(string dll, string home, int port)
{
    var info = new ProcessStartInfo("dotnet") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = home };
    foreach (var a in new[] { dll, "serve", "--listen", $"http://127.0.0.1:{port}", "--data", Path.Combine(home, "data"), "--packs", Path.Combine(home, "packs") })
    {
        info.ArgumentList.Add(a);
    }

    info.Environment["OPSROBOT_HOME"] = home;
    info.Environment["OPSROBOT__ADMIN__PASSWORD"] = "bench-admin-password";
    info.Environment["Logging__LogLevel__Default"] = "Warning";
    info.Environment["OPSROBOT__ALERTS__DEFAULTROOM"] = "web:ops";
    var process = Process.Start(info)!;
    process.OutputDataReceived += (_, e) =>
    {
        if (e.Data is { } line && (line.Contains("fail", StringComparison.OrdinalIgnoreCase) || line.Contains("exception", StringComparison.OrdinalIgnoreCase)))
        {
            Console.Error.WriteLine("server: " + line);
        }
    };
    process.ErrorDataReceived += (_, e) =>
    {
        if (e.Data is not null)
        {
            Console.Error.WriteLine("server: " + e.Data);
        }
    };
    process.BeginOutputReadLine();
    process.BeginErrorReadLine();
    return process;
}

static async Task WaitUntilUpAsync(HttpClient http, Process server)
{
    var clock = Stopwatch.StartNew();
    while (clock.Elapsed < TimeSpan.FromSeconds(60))
    {
        if (server.HasExited)
        {
            throw new InvalidOperationException($"the server exited with {server.ExitCode}");
        }

        try
        {
            if ((await http.GetAsync("/health")).IsSuccessStatusCode || (await http.GetAsync("/api/v1/rules")).IsSuccessStatusCode)
            {
                return;
            }
        }
        catch (HttpRequestException)
        {
            // Not listening yet.
        }

        await Task.Delay(200);
    }

    throw new TimeoutException("the server did not start within 60 s");
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

static long PeakRssKb(int pid)
{
    foreach (var line in File.ReadLines($"/proc/{pid}/status"))
    {
        if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
        {
            return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture);
        }
    }

    return 0;
}
