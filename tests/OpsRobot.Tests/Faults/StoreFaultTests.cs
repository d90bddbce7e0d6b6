using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Data.Sqlite;
using OpsRobot.Tests.Support;

namespace OpsRobot.Tests.Faults;

/// <summary>
/// The store fails under the server: another process holds the database's write lock, or its disk fills up.
/// Commands are refused with a clear answer within the busy timeout, the server stays up and answers what needs no
/// write, and everything works again once the condition clears.
/// </summary>
public sealed class StoreFaultTests
{
    private static readonly TimeSpan BusyTimeout = TimeSpan.FromSeconds(2);

    [Fact]
    public async Task DatabaseLockedByAnotherProcess_CommandsAreRefusedClearly_ServerStaysUp_AndRecovers()
    {
        await using var server = await RunningServer.StartAsync(new Dictionary<string, string?>
        {
            ["OpsRobot:Storage:Sqlite:BusyTimeout"] = BusyTimeout.ToString(),
        });
        using var api = await server.SignInAsync();
        (await api.PostAsJsonAsync("/api/v1/rooms", new { name = "ops" })).EnsureSuccessStatusCode();
        (await api.PostAsJsonAsync("/api/v1/rooms", new { name = "dev" })).EnsureSuccessStatusCode();
        (await api.PostAsJsonAsync("/api/v1/rooms/dev/messages", new { text = "before the lock" })).EnsureSuccessStatusCode();

        // A second process's connection (here: the test's) takes the write lock and keeps it.
        await using (var holder = new SqliteConnection($"Data Source={Path.Combine(server.Home.DataDir, "opsrobot.db")};Pooling=False"))
        {
            await holder.OpenAsync();
            await using (var begin = holder.CreateCommand())
            {
                begin.CommandText = "BEGIN EXCLUSIVE";
                await begin.ExecuteNonQueryAsync();
            }

            var clock = Stopwatch.StartNew();
            var refused = await api.PostAsJsonAsync("/api/v1/rooms/ops/messages", new { text = "!status" });
            var took = clock.Elapsed;
            var error = await refused.Content.ReadAsStringAsync();

            refused.StatusCode.ShouldBe(HttpStatusCode.ServiceUnavailable, error);
            JsonDocument.Parse(error).RootElement.GetProperty("error").GetString()!.ShouldContain("locked by another process");
            took.ShouldBeGreaterThanOrEqualTo(BusyTimeout - TimeSpan.FromMilliseconds(200), "the write waits the busy timeout before it gives up");
            took.ShouldBeLessThan(BusyTimeout + TimeSpan.FromSeconds(20), "the refusal comes soon after the busy timeout");

            // Meanwhile the server answers: health, and what other rooms already hold (reads need no lock in WAL mode).
            (await api.GetAsync("/health")).StatusCode.ShouldBe(HttpStatusCode.OK);
            var dev = await api.GetFromJsonAsync<JsonElement>("/api/v1/rooms/dev/messages");
            dev.GetProperty("messages").EnumerateArray().Select(m => m.GetProperty("text").GetString()).ShouldContain("before the lock");

            await using var rollback = holder.CreateCommand();
            rollback.CommandText = "ROLLBACK";
            await rollback.ExecuteNonQueryAsync();
        }

        // The lock is gone: the next command works, without a restart.
        var answered = await api.PostAsJsonAsync("/api/v1/rooms/ops/messages", new { text = "!status" });
        answered.StatusCode.ShouldBe(HttpStatusCode.Accepted, await answered.Content.ReadAsStringAsync());
        await WaitForRobotAsync(api, "ops");
    }

    [Fact]
    public async Task DiskFull_CommandsAreRefusedClearly_ServerStaysUp_AndRecoversWhenSpaceIsFreed()
    {
        using var mount = await SmallDisk.MountAsync(megabytes: 8);
        await using var server = await RunningServer.StartAsync(new Dictionary<string, string?>
        {
            ["OpsRobot:Storage:Sqlite:Path"] = Path.Combine(mount.Path, "opsrobot.db"),
            ["OpsRobot:Storage:Sqlite:BusyTimeout"] = BusyTimeout.ToString(),
        });
        using var api = await server.SignInAsync();
        (await api.PostAsJsonAsync("/api/v1/rooms", new { name = "ops" })).EnsureSuccessStatusCode();

        // Fill the disk to the last byte.
        var filler = Path.Combine(mount.Path, "filler");
        await FillAsync(filler);

        // Writes that still fit in pages SQLite already holds may pass; within a few, one needs a new page and is refused.
        HttpResponseMessage? refused = null;
        for (var i = 0; i < 200 && refused is null; i++)
        {
            var response = await api.PostAsJsonAsync("/api/v1/rooms/ops/messages", new { text = $"filling {i} " + new string('x', 3900) });
            if (!response.IsSuccessStatusCode)
            {
                refused = response;
            }
        }

        refused.ShouldNotBeNull("no write was refused on a full disk");
        var error = await refused.Content.ReadAsStringAsync();
        refused.StatusCode.ShouldBe(HttpStatusCode.ServiceUnavailable, error);
        JsonDocument.Parse(error).RootElement.GetProperty("error").GetString()!.ShouldContain("disk holding the database is full");
        (await api.GetAsync("/health")).StatusCode.ShouldBe(HttpStatusCode.OK);

        // Free the space: the next command works, without a restart.
        File.Delete(filler);
        var answered = await api.PostAsJsonAsync("/api/v1/rooms/ops/messages", new { text = "!status" });
        answered.StatusCode.ShouldBe(HttpStatusCode.Accepted, await answered.Content.ReadAsStringAsync());
        await WaitForRobotAsync(api, "ops");
    }

    private static async Task FillAsync(string path)
    {
        var block = new byte[64 * 1024];
        await using var stream = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1);
        try
        {
            while (true)
            {
                await stream.WriteAsync(block);
                await stream.FlushAsync();
            }
        }
        catch (IOException)
        {
            // ENOSPC: full. Top up byte by byte so not even a small write fits.
        }

        try
        {
            while (true)
            {
                stream.WriteByte(0);
                await stream.FlushAsync();
            }
        }
        catch (IOException)
        {
            // Full to the byte.
        }
    }

    private static async Task WaitForRobotAsync(HttpClient api, string room)
    {
        await ExecutionFlowTests.WaitUntilAsync(async () =>
        {
            var history = await api.GetFromJsonAsync<JsonElement>($"/api/v1/rooms/{room}/messages");
            return history.GetProperty("messages").EnumerateArray().LastOrDefault() is { ValueKind: JsonValueKind.Object } last
                && last.GetProperty("author").GetProperty("kind").GetString() == "robot";
        }, TimeSpan.FromSeconds(30));
    }

    /// <summary>A small tmpfs of its own, so filling it fills nothing else. Needs root (CI and this machine run tests as root).</summary>
    private sealed class SmallDisk : IDisposable
    {
        private SmallDisk(string path) => Path = path;

        public string Path { get; }

        public static async Task<SmallDisk> MountAsync(int megabytes)
        {
            var path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "opsrobot-full-" + Guid.NewGuid().ToString("N"));
            Directory.CreateDirectory(path);
            var result = await RunAsync("mount", "-t", "tmpfs", "-o", $"size={megabytes}m", "tmpfs", path);
            if (result.ExitCode != 0)
            {
                Directory.Delete(path);
                throw new InvalidOperationException($"This test needs to mount a small tmpfs (root, and a container that allows mount): mount said {result.Output}");
            }

            return new SmallDisk(path);
        }

        public void Dispose()
        {
            RunAsync("umount", "-l", Path).GetAwaiter().GetResult();
            Directory.Delete(Path, recursive: true);
        }

        private static async Task<(int ExitCode, string Output)> RunAsync(string file, params string[] args)
        {
            using var process = Process.Start(new ProcessStartInfo(file, args) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false })!;
            var output = await process.StandardOutput.ReadToEndAsync() + await process.StandardError.ReadToEndAsync();
            await process.WaitForExitAsync();
            return (process.ExitCode, output);
        }
    }
}
