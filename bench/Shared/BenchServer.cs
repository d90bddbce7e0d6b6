using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text.Json;

namespace OpsRobot.Benchmarks;

/// <summary>
/// A real OpsRobot server for a benchmark: <c>opsrobot.dll serve</c> as a child process in a temporary home, on a
/// free loopback port, with a known administrator password, ready once <c>/health</c> answers. The benchmarks that
/// drive a server through HTTP (bench/OpsRobot.ExecBench, bench/OpsRobot.EventsBench) share it as a source file, so
/// each stays a black box that sees only HTTP and <c>/proc</c>, as a monitoring system would.
/// </summary>
internal sealed class BenchServer : IAsyncDisposable
{
    /// <summary>The administrator's password in every benchmark's server.</summary>
    public const string AdminPassword = "bench-admin-password";

    private readonly Process _process;

    private BenchServer(string home, int port, Process process)
    {
        Home = home;
        Port = port;
        BaseAddress = new Uri(string.Create(CultureInfo.InvariantCulture, $"http://127.0.0.1:{port}"));
        _process = process;
    }

    /// <summary>The server's home folder (data, packs), deleted when the server is disposed.</summary>
    public string Home { get; }

    public int Port { get; }

    public Uri BaseAddress { get; }

    /// <summary>
    /// The opsrobot.dll to run: the first command-line argument when there is one (bench/run passes its Release
    /// build), else the repository's own Release or Debug build.
    /// </summary>
    public static string ResolveDll(string[] args)
    {
        ArgumentNullException.ThrowIfNull(args);
        if (args.Length > 0)
        {
            return Path.GetFullPath(args[0]);
        }

        foreach (var config in new[] { "Release", "Debug" })
        {
            var path = Path.Combine(RepositoryRoot(), "src", "OpsRobot", "bin", config, "net10.0", "opsrobot.dll");
            if (File.Exists(path))
            {
                return path;
            }
        }

        throw new FileNotFoundException("Build src/OpsRobot first, or pass the path of opsrobot.dll.");
    }

    /// <summary>The repository this benchmark was built in (where OpsRobot.slnx is).</summary>
    public static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "OpsRobot.slnx")))
            {
                return dir.FullName;
            }
        }

        throw new DirectoryNotFoundException($"Run the benchmark from the repository it was built in ({AppContext.BaseDirectory} is not in one).");
    }

    /// <summary>
    /// Makes a temporary home, lets <paramref name="prepareHome"/> put packs in it, starts the server there and waits
    /// until it answers. <paramref name="environment"/> adds settings; the server's stderr is passed on, and the stdout
    /// lines <paramref name="showOutput"/> picks (none by default).
    /// </summary>
    public static async Task<BenchServer> StartAsync(
        string dll, string name, Action<string> prepareHome, IReadOnlyDictionary<string, string>? environment = null, Func<string, bool>? showOutput = null)
    {
        ArgumentNullException.ThrowIfNull(prepareHome);
        var home = Directory.CreateTempSubdirectory(name).FullName;
        try
        {
            prepareHome(home);
            var port = FreePort();
            var info = new ProcessStartInfo("dotnet") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = home };
            foreach (var a in new[] { dll, "serve", "--listen", $"http://127.0.0.1:{port}", "--data", Path.Combine(home, "data"), "--packs", Path.Combine(home, "packs") })
            {
                info.ArgumentList.Add(a);
            }

            info.Environment["OPSROBOT_HOME"] = home;
            info.Environment["OPSROBOT__ADMIN__PASSWORD"] = AdminPassword;
            info.Environment["Logging__LogLevel__Default"] = "Warning";
            foreach (var (key, value) in environment ?? new Dictionary<string, string>(StringComparer.Ordinal))
            {
                info.Environment[key] = value;
            }

            var process = Process.Start(info) ?? throw new InvalidOperationException("dotnet did not start.");
            process.OutputDataReceived += (_, e) =>
            {
                if (e.Data is { } line && showOutput?.Invoke(line) == true)
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

            var server = new BenchServer(home, port, process);
            try
            {
                await server.WaitUntilUpAsync();
            }
            catch
            {
                await server.DisposeAsync();
                throw;
            }

            return server;
        }
        catch
        {
            DeleteHome(home);
            throw;
        }
    }

    /// <summary>A client of this server; with <paramref name="cookies"/>, one that keeps a signed-in session.</summary>
    public HttpClient CreateClient(bool cookies = false, TimeSpan? timeout = null) =>
        new(cookies ? new HttpClientHandler { CookieContainer = new CookieContainer() } : new HttpClientHandler())
        {
            BaseAddress = BaseAddress,
            Timeout = timeout ?? TimeSpan.FromSeconds(60),
        };

    /// <summary>Signs the administrator in on <paramref name="client"/> (a client made with cookies).</summary>
    public static async Task SignInAsync(HttpClient client)
    {
        ArgumentNullException.ThrowIfNull(client);
        (await client.PostAsJsonAsync("/api/v1/auth/login", new { userName = "admin", password = AdminPassword })).EnsureSuccessStatusCode();
    }

    /// <summary>Gets the administrator a bearer token and sends it with every request of <paramref name="client"/>.</summary>
    public static async Task UseBearerTokenAsync(HttpClient client)
    {
        ArgumentNullException.ThrowIfNull(client);
        using var response = await client.PostAsJsonAsync("/api/v1/auth/token", new { userName = "admin", password = AdminPassword });
        response.EnsureSuccessStatusCode();
        var token = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("token").GetString();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
    }

    /// <summary>The server's peak resident memory so far (VmHWM), in KiB.</summary>
    public long PeakRssKb()
    {
        foreach (var line in File.ReadLines(string.Create(CultureInfo.InvariantCulture, $"/proc/{_process.Id}/status")))
        {
            if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
            {
                return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture);
            }
        }

        return 0;
    }

    /// <summary>Stops the server (and whatever it started), at once.</summary>
    public async Task StopAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
        }

        await _process.WaitForExitAsync();
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await StopAsync();
        }
        finally
        {
            _process.Dispose();
            DeleteHome(Home);
        }
    }

    /// <summary>Writes <paramref name="text"/> to <paramref name="relative"/> under <paramref name="root"/>, making folders.</summary>
    public static void WriteFile(string root, string relative, string text)
    {
        var path = Path.Combine(root, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, text);
    }

    public static void CopyDirectory(string from, string to)
    {
        foreach (var file in Directory.EnumerateFiles(from, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(to, Path.GetRelativePath(from, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
    }

    private async Task WaitUntilUpAsync()
    {
        using var http = CreateClient(timeout: TimeSpan.FromSeconds(10));
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(60))
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"the server exited with {_process.ExitCode}");
            }

            try
            {
                using var response = await http.GetAsync("/health");
                if (response.IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }
            catch (TaskCanceledException)
            {
                // Listening, not answering yet.
            }

            await Task.Delay(100);
        }

        throw new TimeoutException("the server did not start within 60 s");
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static void DeleteHome(string home)
    {
        try
        {
            if (Directory.Exists(home))
            {
                Directory.Delete(home, recursive: true);
            }
        }
        catch (IOException ex)
        {
            Console.Error.WriteLine($"bench: could not delete {home}: {ex.Message}");
        }
    }
}
