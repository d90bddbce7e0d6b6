using System.ComponentModel;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace OpsRobot.Integrations.Ssh;

/// <summary>
/// Runs one command on one host through the system's OpenSSH client, started with an argument vector (never a
/// shell). Host keys are checked strictly against OpsRobot's known-hosts file under the CMDB host name
/// (<c>HostKeyAlias</c>); no user or system <c>ssh_config</c>, no agent, no forwarding, no password prompts.
/// </summary>
public sealed partial class SshClient(SshOptions options, string knownHostsFile, TimeProvider time)
{
    /// <summary>OpenSSH exits 255 for its own errors (connection, host key, authentication).</summary>
    private const int SshErrorExit = 255;

    /// <summary>How long to wait for the client to go after it was killed.</summary>
    private static readonly TimeSpan KillWait = TimeSpan.FromSeconds(5);

    /// <summary>
    /// The options every connection OpsRobot opens is made with, for <c>ssh</c> and for tools that drive it
    /// (Ansible's <c>ssh_args</c>), as <c>-o Name=value</c> pairs.
    /// </summary>
    public static IReadOnlyList<string> CommonOptions(SshOptions options, string knownHostsFile, string hostKeyAlias)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(knownHostsFile);
        if (knownHostsFile.Any(c => char.IsWhiteSpace(c) || c is '"' or '\'' or '\\' or '%'))
        {
            // OpenSSH splits option values on spaces and expands % tokens in file names.
            throw new ArgumentException("The known-hosts file path may not contain spaces, quotes, backslashes or '%'.", nameof(knownHostsFile));
        }

        if (!SshTarget.IsHostname(hostKeyAlias))
        {
            throw new ArgumentException("The host key alias is not a host name.", nameof(hostKeyAlias));
        }

        var connectSeconds = Math.Max(1, (int)Math.Ceiling(options.ConnectTimeout.TotalSeconds));
        return
        [
            "-o", "BatchMode=yes",
            "-o", "StrictHostKeyChecking=yes",
            "-o", "UserKnownHostsFile=" + knownHostsFile,
            "-o", "GlobalKnownHostsFile=/dev/null",
            "-o", "HostKeyAlias=" + hostKeyAlias,
            "-o", "CheckHostIP=no",
            "-o", "UpdateHostKeys=no",
            "-o", "ForwardAgent=" + (options.ForwardAgent ? "yes" : "no"),
            "-o", "ForwardX11=no",
            "-o", "ClearAllForwardings=yes",
            "-o", "IdentitiesOnly=yes",
            "-o", "PasswordAuthentication=no",
            "-o", "KbdInteractiveAuthentication=no",
            "-o", "PermitLocalCommand=no",
            "-o", "ControlMaster=no",
            "-o", "ControlPath=none",
            "-o", string.Create(CultureInfo.InvariantCulture, $"ConnectTimeout={connectSeconds}"),
            "-o", "ServerAliveInterval=15",
            "-o", "ServerAliveCountMax=3",
            "-o", "LogLevel=ERROR",
        ];
    }

    /// <summary>The whole argument vector after the program: options, key, port, user, then the host and the command.</summary>
    public IReadOnlyList<string> Arguments(SshTarget target, string keyPath, string remoteCommand)
    {
        ArgumentNullException.ThrowIfNull(target);
        var args = new List<string> { "-F", "/dev/null", "-T" };
        if (!options.ForwardAgent)
        {
            args.AddRange(["-o", "IdentityAgent=none"]);
        }

        args.AddRange(CommonOptions(options, knownHostsFile, target.Hostname));
        args.AddRange(["-i", keyPath, "-p", target.Port.ToString(CultureInfo.InvariantCulture), "-l", target.User]);

        // "--" ends OpenSSH's options: neither the address nor the command can be read as one.
        args.AddRange(["--", target.Address, remoteCommand]);
        return args;
    }

    /// <summary>
    /// Runs <paramref name="remoteCommand"/> on the target; <paramref name="stdin"/> (a script's text), if any, is
    /// written to the remote command's standard input. Never throws for the host's failures: they are the result.
    /// </summary>
    public async Task<SshHostResult> RunAsync(SshTarget target, string keyPath, string remoteCommand, string? stdin, TimeSpan timeout, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(target);
        var started = time.GetTimestamp();
        var startInfo = new ProcessStartInfo(options.SshPath)
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = "/",
        };
        foreach (var argument in Arguments(target, keyPath, remoteCommand))
        {
            startInfo.ArgumentList.Add(argument);
        }

        // An empty environment but for the basics: OpsRobot's own variables may hold secrets, and SSH_AUTH_SOCK
        // would offer an agent.
        startInfo.Environment.Clear();
        startInfo.Environment["PATH"] = "/usr/local/bin:/usr/bin:/bin";
        startInfo.Environment["HOME"] = Environment.GetEnvironmentVariable("HOME") ?? "/";
        startInfo.Environment["LANG"] = "C.UTF-8";

        using var process = new Process { StartInfo = startInfo };
        try
        {
            process.Start();
        }
        catch (Win32Exception ex)
        {
            return new SshHostResult(target.Hostname, SshHostStatus.Failed)
            {
                Address = target.Address,
                Error = $"Could not start the OpenSSH client '{options.SshPath}': {ex.Message}",
            };
        }

        var stdout = new BoundedCapture(options.OutputLimitPerHost);
        var stderr = new BoundedCapture(options.OutputLimitPerHost);
        var pumps = Task.WhenAll(
            PumpAsync(process.StandardOutput, stdout),
            PumpAsync(process.StandardError, stderr),
            FeedAsync(process.StandardInput, stdin));

        using var timeoutSource = new CancellationTokenSource(timeout, time);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeoutSource.Token);
        var stopped = false;
        try
        {
            await process.WaitForExitAsync(stop.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            stopped = true;
            try
            {
                process.Kill(entireProcessTree: true);
            }
            catch (InvalidOperationException)
            {
                // Already gone.
            }

            await process.WaitForExitAsync(CancellationToken.None).WaitAsync(KillWait, time, CancellationToken.None).ConfigureAwait(false);
        }

        await pumps.WaitAsync(KillWait, time, CancellationToken.None).ConfigureAwait(false);
        var duration = time.GetElapsedTime(started);
        var result = new SshHostResult(target.Hostname, SshHostStatus.Ok)
        {
            Address = target.Address,
            Stdout = stdout.ToString(),
            Stderr = stderr.ToString(),
            Duration = duration,
        };

        if (stopped)
        {
            return cancellationToken.IsCancellationRequested
                ? result with { Status = SshHostStatus.Canceled, Error = "Canceled while it ran; the connection was closed." }
                : result with
                {
                    Status = SshHostStatus.Timeout,
                    Error = string.Create(CultureInfo.InvariantCulture, $"No answer within {timeout.TotalSeconds:0.###} s (per-host timeout); the connection was closed."),
                };
        }

        var exit = process.ExitCode;
        return exit == SshErrorExit ? Classify(result, stderr.ToString()) : result with
        {
            Status = exit == 0 ? SshHostStatus.Ok : SshHostStatus.Failed,
            ExitCode = exit,
            Error = exit == 0 ? null : string.Create(CultureInfo.InvariantCulture, $"The command exited with code {exit}."),
        };
    }

    /// <summary>Tells OpenSSH's own failures (exit 255) from a command that exited 255, by what OpenSSH printed.</summary>
    internal static SshHostResult Classify(SshHostResult result, string stderr)
    {
        if (stderr.Contains("REMOTE HOST IDENTIFICATION HAS CHANGED", StringComparison.Ordinal)
            || stderr.Contains("Host key for", StringComparison.Ordinal) && stderr.Contains("has changed", StringComparison.Ordinal))
        {
            var offered = FingerprintPattern().Match(stderr) is { Success: true } m ? m.Value : "an unknown fingerprint";
            return result with
            {
                Status = SshHostStatus.HostKeyMismatch,
                Error = $"The host key of {result.Hostname} has changed: it now offers {offered}, which is not the key trusted for it. Refused; if the change is expected, an administrator checks that fingerprint and runs ssh.trust {result.Hostname} again.",
            };
        }

        if (stderr.Contains("Host key verification failed", StringComparison.Ordinal)
            || stderr.Contains("host key is known for", StringComparison.Ordinal))
        {
            return result with
            {
                Status = SshHostStatus.HostKeyUnknown,
                Error = $"No host key is trusted for {result.Hostname}: an administrator runs ssh.trust {result.Hostname} (and checks the fingerprint) first.",
            };
        }

        if (stderr.Contains("Permission denied", StringComparison.Ordinal))
        {
            return result with { Status = SshHostStatus.AuthFailed, Error = $"{result.Hostname} refused the key for this user ({FirstLine(stderr)})." };
        }

        if (stderr.Contains("banner exchange", StringComparison.Ordinal) && stderr.Contains("timed out", StringComparison.OrdinalIgnoreCase))
        {
            return result with { Status = SshHostStatus.Timeout, Error = $"{result.Hostname} accepted the connection but never answered ({FirstLine(stderr)})." };
        }

        string[] unreachable =
        [
            "Connection refused", "No route to host", "Could not resolve hostname", "Network is unreachable", "Connection timed out",
            "Connection closed by", "Connection reset", "kex_exchange_identification", "Name or service not known",
        ];
        if (unreachable.Any(u => stderr.Contains(u, StringComparison.Ordinal)))
        {
            return result with { Status = SshHostStatus.Unreachable, Error = $"{result.Hostname} is unreachable: {FirstLine(stderr)}" };
        }

        return result with { Status = SshHostStatus.Failed, ExitCode = SshErrorExit, Error = "The command (or OpenSSH) exited with code 255." };
    }

    private static string FirstLine(string text) => text.Split('\n').Select(l => l.Trim()).FirstOrDefault(l => l.Length > 0) ?? string.Empty;

    private static async Task PumpAsync(StreamReader reader, BoundedCapture capture)
    {
        var buffer = new char[8192];
        try
        {
            int read;
            while ((read = await reader.ReadAsync(buffer.AsMemory()).ConfigureAwait(false)) > 0)
            {
                capture.Append(buffer.AsSpan(0, read));
            }
        }
        catch (IOException)
        {
            // The pipe closed under us (the client was killed): what was read is kept.
        }
        catch (ObjectDisposedException)
        {
        }
    }

    private static async Task FeedAsync(StreamWriter writer, string? text)
    {
        try
        {
            if (text is not null)
            {
                await writer.WriteAsync(text.AsMemory()).ConfigureAwait(false);
                await writer.FlushAsync().ConfigureAwait(false);
            }

            writer.Close();
        }
        catch (IOException)
        {
            // The client went away before reading everything (a host that is down): its result says why.
        }
        catch (ObjectDisposedException)
        {
        }
    }

    [GeneratedRegex("SHA256:[A-Za-z0-9+/]{43}", RegexOptions.CultureInvariant, matchTimeoutMilliseconds: 100)]
    private static partial Regex FingerprintPattern();

    /// <summary>Keeps the first characters of a stream and counts the rest. Not thread-safe: one per stream.</summary>
    private sealed class BoundedCapture(int limit)
    {
        private readonly StringBuilder _kept = new();
        private long _dropped;

        public void Append(ReadOnlySpan<char> text)
        {
            var room = Math.Max(0, limit - _kept.Length);
            if (room >= text.Length)
            {
                _kept.Append(text);
                return;
            }

            if (room > 0 && char.IsHighSurrogate(text[room - 1]))
            {
                room--;
            }

            _kept.Append(text[..room]);
            _dropped += text.Length - room;
        }

        public override string ToString() => _dropped > 0
            ? string.Create(CultureInfo.InvariantCulture, $"{_kept}\n[… {_dropped} more characters were not kept]")
            : _kept.ToString();
    }
}
