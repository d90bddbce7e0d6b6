using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using OpsRobot.Benchmarks;

// Two figures of the issue on benchmarks, against a real OpsRobot server on loopback, through its REST API:
// 1. the overhead of a local shell action over the process's own run time (p50, p99): SEQUENTIAL runs of
//    core.local `true`, each measured from its record (created to ended) minus the median run time of /bin/true
//    started directly by this program;
// 2. CONCURRENT executions that each sleep 5 seconds (StackStorm's users report 77 s for 1,000 on 17 runner nodes):
//    from the first request to the last execution's end, every one required to succeed;
// 3. a WORKFLOW through the server, as its users run one: with-items over 1,000 `core.noop` items, ten at a time
//    (each item a child execution with its own record), from the request to the workflow's end.
// Usage: dotnet run --project bench/OpsRobot.ExecBench -c Release -- [path/to/opsrobot.dll] [sequential=300] [concurrent=1000] [items=1000]
var dll = BenchServer.ResolveDll(args);
var sequential = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 300;
var concurrent = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 1000;
var items = args.Length > 3 ? int.Parse(args[3], CultureInfo.InvariantCulture) : 1000;

await using var server = await BenchServer.StartAsync(dll, "opsrobot-exec-bench", home =>
{
    BenchServer.CopyDirectory(Path.Combine(BenchServer.RepositoryRoot(), "packs", "core"), Path.Combine(home, "packs", "core"));
    var pack = Path.Combine(home, "packs", "benchwf");
    Directory.CreateDirectory(Path.Combine(pack, "actions", "workflows"));
    File.WriteAllText(Path.Combine(pack, "pack.yaml"), "name: benchwf\nversion: 0.1.0\ndescription: Workflow benchmark\n");
    File.WriteAllText(Path.Combine(pack, "actions", "items.yaml"), "name: items\nrunner_type: workflow\nentry_point: workflows/items.yaml\ntimeout: 3600\n");
    File.WriteAllText(Path.Combine(pack, "actions", "workflows", "items.yaml"), string.Create(CultureInfo.InvariantCulture,
        $"version: 1.0\nvars:\n  - xs: <% range({items}) %>\ntasks:\n  each:\n    with:\n      items: <% ctx(xs) %>\n      concurrency: 10\n    action: core.noop\n"));
});
using var http = server.CreateClient(timeout: TimeSpan.FromSeconds(120));
await BenchServer.UseBearerTokenAsync(http);

// The reference: /bin/true's own run time, started from here the way a runner starts it.
var reference = new List<double>();
for (var i = 0; i < 50; i++)
{
    var clock = Stopwatch.StartNew();
    using var p = Process.Start(new ProcessStartInfo("/bin/sh", ["-c", "true"]) { UseShellExecute = false })!;
    await p.WaitForExitAsync();
    reference.Add(clock.Elapsed.TotalMilliseconds);
}

var processMs = Percentile(reference, 50);

// 1. Sequential: one at a time, so each is measured alone.
var totals = new List<double>();
var roundTrips = new List<double>();
for (var i = 0; i < sequential; i++)
{
    var clock = Stopwatch.StartNew();
    var id = await StartAsync(http, "true");
    var record = await WaitDoneAsync(http, id, TimeSpan.FromSeconds(60));
    roundTrips.Add(clock.Elapsed.TotalMilliseconds);
    Require(record, id);
    totals.Add((record.GetProperty("endedAt").GetDateTimeOffset() - record.GetProperty("createdAt").GetDateTimeOffset()).TotalMilliseconds);
}

// 2. Concurrent: every request sent as fast as 16 senders can, each execution sleeping 5 s.
var ids = new long[concurrent];
var next = -1;
var burst = Stopwatch.StartNew();
var firstRequest = TimeProvider.System.GetUtcNow();
await Task.WhenAll(Enumerable.Range(0, 16).Select(async _ =>
{
    int n;
    while ((n = Interlocked.Increment(ref next)) < concurrent)
    {
        ids[n] = await StartAsync(http, "sleep 5");
    }
}));
var sentSeconds = burst.Elapsed.TotalSeconds;
var lastEnd = DateTimeOffset.MinValue;
foreach (var id in ids)
{
    var record = await WaitDoneAsync(http, id, TimeSpan.FromMinutes(10));
    Require(record, id);
    var ended = record.GetProperty("endedAt").GetDateTimeOffset();
    lastEnd = ended > lastEnd ? ended : lastEnd;
}

var burstSeconds = (lastEnd - firstRequest).TotalSeconds;
var peakKb = server.PeakRssKb();

// 3. A with-items workflow, its items run ten at a time.
var flowClock = Stopwatch.StartNew();
using (var response = await http.PostAsJsonAsync("/api/v1/executions", new { action = "benchwf.items", parameters = new { } }))
{
    if (response.StatusCode != HttpStatusCode.Created)
    {
        throw new InvalidOperationException($"POST /api/v1/executions: HTTP {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
    }

    var flowId = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetInt64();
    Require(await WaitDoneAsync(http, flowId, TimeSpan.FromMinutes(10)), flowId);
}

var flowSeconds = flowClock.Elapsed.TotalSeconds;

Console.WriteLine(Row("process run time, /bin/sh -c true started directly (p50, ms)", processMs));
Console.WriteLine(Row($"local action, created to ended, p50 of {sequential} (ms)", Percentile(totals, 50)));
Console.WriteLine(Row($"local action, created to ended, p99 of {sequential} (ms)", Percentile(totals, 99)));
Console.WriteLine(Row("overhead over the process, p50 (ms)", Percentile(totals, 50) - processMs));
Console.WriteLine(Row("overhead over the process, p99 (ms)", Percentile(totals, 99) - processMs));
Console.WriteLine(Row("client round trip, POST to seeing it succeeded, p50 (ms)", Percentile(roundTrips, 50)));
Console.WriteLine(Row($"{concurrent} concurrent `sleep 5`, requests sent in (s)", sentSeconds));
Console.WriteLine(Row($"{concurrent} concurrent `sleep 5`, first request to last end (s)", burstSeconds));
Console.WriteLine(Row("server peak memory (VmHWM, MiB)", peakKb / 1024.0));
Console.WriteLine(Row($"workflow, with-items over {items} `core.noop` items ten at a time, request to end (s)", flowSeconds));
Console.WriteLine("result\tok: every execution succeeded");
return 0;

static string Row(string name, double value) => string.Create(CultureInfo.InvariantCulture, $"{name}\t{value:0.0}");

static void Require(JsonElement record, long id)
{
    var status = record.GetProperty("status").GetString();
    if (status != "succeeded")
    {
        throw new InvalidOperationException($"execution {id} ended {status}: {record.GetProperty("error")}");
    }
}

static async Task<long> StartAsync(HttpClient http, string cmd)
{
    using var response = await http.PostAsJsonAsync("/api/v1/executions", new { action = "core.local", parameters = new { cmd } });
    if (response.StatusCode != HttpStatusCode.Created)
    {
        throw new InvalidOperationException($"POST /api/v1/executions: HTTP {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
    }

    return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetInt64();
}

static async Task<JsonElement> WaitDoneAsync(HttpClient http, long id, TimeSpan limit)
{
    var clock = Stopwatch.StartNew();
    while (clock.Elapsed < limit)
    {
        var record = await http.GetFromJsonAsync<JsonElement>($"/api/v1/executions/{id}");
        if (record.GetProperty("endedAt").ValueKind != JsonValueKind.Null)
        {
            return record;
        }

        await Task.Delay(1);
    }

    throw new TimeoutException($"execution {id} did not end within {limit}");
}

static double Percentile(List<double> values, int p)
{
    var sorted = values.Order().ToList();
    return sorted[Math.Clamp((int)Math.Ceiling(p / 100.0 * sorted.Count) - 1, 0, sorted.Count - 1)];
}
