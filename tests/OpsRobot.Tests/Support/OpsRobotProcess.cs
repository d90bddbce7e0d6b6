using System.Diagnostics;
using System.Text;

namespace OpsRobot.Tests.Support;

/// <summary>The result of running the opsrobot executable.</summary>
public sealed record ProcessResult(int ExitCode, string StandardOutput, string StandardError);

/// <summary>
/// Runs the real opsrobot executable (the build copied next to the tests) as a child process, the way an operator
/// or a script runs it.
/// </summary>
public static class OpsRobotProcess
{
    public static string Dll => Path.Combine(AppContext.BaseDirectory, "opsrobot.dll");

    public static ProcessStartInfo StartInfo(string home, IEnumerable<string> args, IDictionary<string, string>? environment = null)
    {
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = home,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
        };
        info.ArgumentList.Add(Dll);
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        // The child must not inherit the test runner's own settings.
        foreach (var key in info.Environment.Keys.Where(k => k.StartsWith("OPSROBOT", StringComparison.OrdinalIgnoreCase)).ToList())
        {
            info.Environment.Remove(key);
        }

        info.Environment["OPSROBOT_HOME"] = home;

        // Never read or write the real user's saved credentials.
        info.Environment["OPSROBOT_CREDENTIALS"] = Path.Combine(home, "cli-credentials.json");
        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            info.Environment[key] = value;
        }

        return info;
    }

    /// <summary>Runs to completion with <paramref name="input"/> on standard input; kills the process tree after <paramref name="timeout"/>.</summary>
    public static async Task<ProcessResult> RunAsync(string home, IEnumerable<string> args, string? input = null, IDictionary<string, string>? environment = null, TimeSpan? timeout = null)
    {
        using var process = Process.Start(StartInfo(home, args, environment))!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (input is not null)
        {
            await process.StandardInput.WriteAsync(input);
        }

        process.StandardInput.Close();
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(60));
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException ex)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"opsrobot {string.Join(' ', args)} did not exit in time. stdout: {await stdout} stderr: {await stderr}", ex);
        }

        return new ProcessResult(process.ExitCode, await stdout, await stderr);
    }
}
