using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text;
namespace OpsRobot.Tests.Support;

/// <summary>
/// The real opsrobot server as a child process on a loopback port, for tests that must kill it the hard way.
/// Its output is drained (a full pipe would stall it) and kept for failure messages.
/// </summary>
internal sealed class ServerChild : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private IReadOnlyCollection<int> _leftBehind = [];

    private ServerChild(Process process) => _process = process;

    public int ProcessId => _process.Id;

    /// <summary>Everything the server printed so far, for assertion messages.</summary>
    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    public static async Task<ServerChild> StartAsync(string home, int port, IDictionary<string, string>? environment = null)
    {
        var env = new Dictionary<string, string>(environment ?? new Dictionary<string, string>())
        {
            ["OPSROBOT__ADMIN__PASSWORD"] = RunningServer.AdminPassword,
        };
        var process = Process.Start(OpsRobotProcess.StartInfo(home, ["serve", "--listen", $"http://127.0.0.1:{port.ToString(CultureInfo.InvariantCulture)}"], env))!;
        var child = new ServerChild(process);
        process.OutputDataReceived += (_, e) => child.Append(e.Data);
        process.ErrorDataReceived += (_, e) => child.Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        process.StandardInput.Close();

        using var probe = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port.ToString(CultureInfo.InvariantCulture)}"), Timeout = TimeSpan.FromSeconds(10) };
        var clock = Stopwatch.StartNew();
        while (true)
        {
            if (process.HasExited)
            {
                throw new InvalidOperationException($"The server exited with {process.ExitCode} before it was healthy:\n{child.Output}");
            }

            try
            {
                if ((await probe.GetAsync("/health")).IsSuccessStatusCode)
                {
                    return child;
                }
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
            {
                // Not listening yet.
            }

            if (clock.Elapsed > TimeSpan.FromSeconds(60))
            {
                await child.DisposeAsync();
                throw new TimeoutException($"The server was not healthy within 60 s:\n{child.Output}");
            }

            await Task.Delay(100);
        }
    }

    /// <summary>SIGKILL: no shutdown hook, no flush, no goodbye. The process groups it started live on, as in production.</summary>
    public async Task KillNineAsync()
    {
        // Noted before the kill: afterwards the orphans belong to init and nothing ties them to this server.
        _leftBehind = Orphans.GroupsBelow(_process.Id);
        _process.Kill();
        await _process.WaitForExitAsync();
    }

    /// <summary>Waits for the server to exit by itself (after a signal); throws with its output when it does not in time.</summary>
    public async Task WaitForExitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException ex)
        {
            throw new TimeoutException($"The server did not exit within {timeout}:\n{Output}", ex);
        }
    }

    /// <summary>
    /// Stops the process groups the server had started when it was killed (they outlive it, as in production), so
    /// only a restarted server acts. Only this server's groups: a test running beside it keeps its own.
    /// </summary>
    public void KillLeftBehind() => Orphans.KillGroups(_leftBehind);

    public static async Task<ApiClient> SignInAsync(int port)
    {
        var client = new ApiClient(new System.Net.CookieContainer())
        {
            BaseAddress = new Uri($"http://127.0.0.1:{port.ToString(CultureInfo.InvariantCulture)}"),
            Timeout = TimeSpan.FromSeconds(30),
        };
        (await client.PostAsJsonAsync("/api/v1/auth/login", new { userName = "admin", password = RunningServer.AdminPassword })).EnsureSuccessStatusCode();
        return client;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_output)
        {
            // Enough to explain a failure; a chatty server must not grow the test's memory without bound.
            if (_output.Length < 200_000)
            {
                _output.AppendLine(line);
            }
        }
    }
}

/// <summary>Stops the process groups a killed server left behind (identified by text in a member's command line).</summary>
internal static class Orphans
{
    public static void KillGroupsMentioning(string text)
    {
        var ownGroup = GroupOf(Environment.ProcessId);
        var groups = new HashSet<int>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), NumberStyles.None, CultureInfo.InvariantCulture, out var pid) || pid == Environment.ProcessId)
            {
                continue;
            }

            try
            {
                var cmd = File.ReadAllText(Path.Combine(dir, "cmdline")).Replace('\0', ' ');
                if (cmd.Contains(text, StringComparison.Ordinal) && GroupOf(pid) is { } group && group != ownGroup && group > 1)
                {
                    groups.Add(group);
                }
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                // Gone meanwhile.
            }
        }

        KillGroups(groups);
    }

    /// <summary>The process groups of <paramref name="pid"/>'s descendants, other than its own and the test runner's.</summary>
    public static IReadOnlyCollection<int> GroupsBelow(int pid)
    {
        var children = new Dictionary<int, List<int>>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (int.TryParse(Path.GetFileName(dir), NumberStyles.None, CultureInfo.InvariantCulture, out var child) && Stat(child) is { } stat)
            {
                (children.TryGetValue(stat.Parent, out var list) ? list : children[stat.Parent] = []).Add(child);
            }
        }

        var excluded = new HashSet<int> { GroupOf(pid) ?? 0, GroupOf(Environment.ProcessId) ?? 0, 0, 1 };
        var groups = new HashSet<int>();
        var pending = new Stack<int>([pid]);
        while (pending.TryPop(out var next))
        {
            foreach (var child in children.GetValueOrDefault(next) ?? [])
            {
                if (GroupOf(child) is { } group && !excluded.Contains(group))
                {
                    groups.Add(group);
                }

                pending.Push(child);
            }
        }

        return groups;
    }

    public static void KillGroups(IEnumerable<int> groups)
    {
        foreach (var group in groups)
        {
            using var kill = Process.Start(new ProcessStartInfo("kill", ["-KILL", "--", "-" + group.ToString(CultureInfo.InvariantCulture)]) { UseShellExecute = false })!;
            kill.WaitForExit(10_000);
        }
    }

    private static int? GroupOf(int pid) => Stat(pid)?.Group;

    private static (int Parent, int Group)? Stat(int pid)
    {
        try
        {
            // /proc/PID/stat: "pid (comm) state ppid pgrp ..."; comm may hold spaces and parentheses, so split after the last ')'.
            var stat = File.ReadAllText($"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/stat");
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            return (int.Parse(fields[1], CultureInfo.InvariantCulture), int.Parse(fields[2], CultureInfo.InvariantCulture));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException or ArgumentOutOfRangeException)
        {
            return null;
        }
    }
}
