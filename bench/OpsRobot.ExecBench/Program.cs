using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text.Json;

// Two figures of the issue on benchmarks, against a real OpsRobot server on loopback, through its REST API:
// 1. the overhead of a local shell action over the process's own run time (p50, p99): SEQUENTIAL runs of
//    core.local `true`, each measured from its record (created to ended) minus the median run time of /bin/true
//    started directly by this program;
// 2. CONCURRENT executions that each sleep 5 seconds (StackStorm's users report 77 s for 1,000 on 17 runner nodes):
//    from the first request to the last execution's end, every one required to succeed.
// Usage: dotnet run --project bench/OpsRobot.ExecBench -c Release -- [path/to/opsrobot.dll] [sequential=300] [concurrent=1000]
var dll = args.Length > 0 ? Path.GetFullPath(args[0]) : FindDll();
var sequential = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 300;
var concurrent = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 1000;
const string Password = "bench-admin-password";

var home = Directory.CreateTempSubdirectory("opsrobot-exec-bench").FullName;
Process? server = null;
try
{
    CopyDirectory(Path.Combine(RepositoryRoot(dll), "packs", "core"), Path.Combine(home, "packs", "core"));
    var port = FreePort();
    server = StartServer(dll, home, port);
    using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(120) };
    await WaitUntilUpAsync(http, server);
    var token = await http.PostAsJsonAsync("/api/v1/auth/token", new { userName = "admin", password = Password });
    token.EnsureSuccessStatusCode();
    http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", (await token.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("token").GetString());

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
    var peakKb = PeakRssKb(server.Id);

    Console.WriteLine(Row("process run time, /bin/sh -c true started directly (p50, ms)", processMs));
    Console.WriteLine(Row($"local action, created to ended, p50 of {sequential} (ms)", Percentile(totals, 50)));
    Console.WriteLine(Row($"local action, created to ended, p99 of {sequential} (ms)", Percentile(totals, 99)));
    Console.WriteLine(Row("overhead over the process, p50 (ms)", Percentile(totals, 50) - processMs));
    Console.WriteLine(Row("overhead over the process, p99 (ms)", Percentile(totals, 99) - processMs));
    Console.WriteLine(Row("client round trip, POST to seeing it succeeded, p50 (ms)", Percentile(roundTrips, 50)));
    Console.WriteLine(Row($"{concurrent} concurrent `sleep 5`, requests sent in (s)", sentSeconds));
    Console.WriteLine(Row($"{concurrent} concurrent `sleep 5`, first request to last end (s)", burstSeconds));
    Console.WriteLine(Row("server peak memory (VmHWM, MiB)", peakKb / 1024.0));
    Console.WriteLine("result\tok: every execution succeeded");
    return 0;
}
finally
{
    if (server is { HasExited: false })
    {
        server.Kill(entireProcessTree: true);
        await server.WaitForExitAsync();
    }

    Directory.Delete(home, recursive: true);
}

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

static string RepositoryRoot(string dll)
{
    for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
    {
        if (File.Exists(Path.Combine(dir.FullName, "OpsRobot.slnx")))
        {
            return dir.FullName;
        }
    }

    throw new DirectoryNotFoundException($"Run from the repository (the packs are copied from it); {dll} is not in one.");
}

static void CopyDirectory(string from, string to)
{
    foreach (var file in Directory.EnumerateFiles(from, "*", SearchOption.AllDirectories))
    {
        var target = Path.Combine(to, Path.GetRelativePath(from, file));
        Directory.CreateDirectory(Path.GetDirectoryName(target)!);
        File.Copy(file, target);
    }
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
    var process = Process.Start(info)!;
    process.OutputDataReceived += (_, _) => { };
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
            if ((await http.GetAsync("/health")).IsSuccessStatusCode)
            {
                return;
            }
        }
        catch (HttpRequestException)
        {
            // Not listening yet.
        }

        await Task.Delay(100);
    }

    throw new TimeoutException("the server did not start within 60 s");
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
