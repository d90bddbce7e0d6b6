using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace OpsRobot.Testing;

/// <summary>
/// A real OpenSSH server (Debian's <c>/usr/sbin/sshd</c>) on 127.0.0.1 and a free port, with its own host key, a
/// client key pair allowed to log in as the current user (through <c>AuthorizedKeysFile</c> in a temporary folder),
/// no PAM and no passwords. A second, unrelated host key stands in for "the key this host had before". Fails (never
/// skips) when OpenSSH is missing: <c>build.sh</c> installs <c>openssh-server</c> and <c>openssh-client</c>.
/// </summary>
public sealed class SshServer : IAsyncDisposable
{
    public const string SshdPath = "/usr/sbin/sshd";
    public const string KeygenPath = "/usr/bin/ssh-keygen";

    private readonly TempDirectory _folder;
    private readonly Process _process;
    private readonly StringBuilder _log;

    private SshServer(TempDirectory folder, Process process, StringBuilder log, int port)
    {
        _folder = folder;
        _process = process;
        _log = log;
        Port = port;
    }

    public int Port { get; }

    /// <summary>The user the client key logs in as (the user the tests run as).</summary>
    public static string User => Environment.UserName;

    /// <summary>The client's private key (OpenSSH format, no passphrase), as a datastore secret would hold it.</summary>
    public string ClientPrivateKey => File.ReadAllText(_folder.Combine("client_key"));

    /// <summary>The server's public host key line (<c>ssh-ed25519 AAAA…</c>).</summary>
    public string HostPublicKey => File.ReadAllText(_folder.Combine("host_key.pub")).Trim();

    /// <summary>Another ed25519 public key, not this server's: what a known-hosts file holds for a host whose key changed.</summary>
    public string OtherPublicKey => File.ReadAllText(_folder.Combine("other_key.pub")).Trim();

    /// <summary>What sshd printed (with <c>-e</c>), for failure messages.</summary>
    public string Log
    {
        get
        {
            lock (_log)
            {
                return _log.ToString();
            }
        }
    }

    /// <summary>The SHA-256 fingerprint of a public key file, as <c>ssh-keygen -lf</c> prints it (independent of the code under test).</summary>
    public string HostFingerprint => Fingerprint(_folder.Combine("host_key.pub"));

    public string OtherFingerprint => Fingerprint(_folder.Combine("other_key.pub"));

    public static async Task<SshServer> StartAsync()
    {
        if (!File.Exists(SshdPath) || !File.Exists(KeygenPath))
        {
            throw new InvalidOperationException($"OpenSSH is not installed ({SshdPath}, {KeygenPath}); install openssh-server and openssh-client (./build.sh does).");
        }

        var folder = new TempDirectory("opsrobot-sshd");
        try
        {
            foreach (var key in new[] { "host_key", "client_key", "other_key" })
            {
                Run(KeygenPath, "-q", "-t", "ed25519", "-N", string.Empty, "-C", key, "-f", folder.Combine(key));
            }

            File.Copy(folder.Combine("client_key.pub"), folder.Combine("authorized_keys"));
            File.SetUnixFileMode(folder.Combine("authorized_keys"), UnixFileMode.UserRead | UnixFileMode.UserWrite);
            if (Environment.UserName == "root")
            {
                Directory.CreateDirectory("/run/sshd");
            }

            var port = FreePort();
            var config = $"""
                Port {port}
                ListenAddress 127.0.0.1
                HostKey {folder.Combine("host_key")}
                PidFile none
                UsePAM no
                PasswordAuthentication no
                KbdInteractiveAuthentication no
                PubkeyAuthentication yes
                PermitRootLogin prohibit-password
                AuthorizedKeysFile {folder.Combine("authorized_keys")}
                StrictModes no
                AllowAgentForwarding no
                X11Forwarding no
                PrintMotd no
                LogLevel ERROR
                MaxStartups 100
                MaxSessions 100
                """;
            File.WriteAllText(folder.Combine("sshd_config"), config.ReplaceLineEndings("\n") + "\n");

            var log = new StringBuilder();
            var startInfo = new ProcessStartInfo(SshdPath) { UseShellExecute = false, RedirectStandardError = true, RedirectStandardOutput = true };
            foreach (var argument in new[] { "-D", "-e", "-f", folder.Combine("sshd_config") })
            {
                startInfo.ArgumentList.Add(argument);
            }

            var process = Process.Start(startInfo)!;
            process.ErrorDataReceived += (_, e) =>
            {
                lock (log)
                {
                    log.AppendLine(e.Data);
                }
            };
            process.BeginErrorReadLine();
            process.BeginOutputReadLine();
            var server = new SshServer(folder, process, log, port);
            await server.WaitForBannerAsync().ConfigureAwait(false);
            return server;
        }
        catch
        {
            folder.Dispose();
            throw;
        }
    }

    /// <summary>A loopback port nothing listens on (a "host that is down").</summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10)).ConfigureAwait(false);
            }
        }
        catch (InvalidOperationException)
        {
        }
        finally
        {
            _process.Dispose();
            _folder.Dispose();
        }
    }

    private static string Fingerprint(string publicKeyFile)
    {
        // "256 SHA256:abc… comment (ED25519)"
        var output = Run(KeygenPath, "-l", "-E", "sha256", "-f", publicKeyFile);
        return output.Split(' ')[1];
    }

    private async Task WaitForBannerAsync()
    {
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < TimeSpan.FromSeconds(30))
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"sshd exited with code {_process.ExitCode.ToString(CultureInfo.InvariantCulture)}: {Log}");
            }

            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync(IPAddress.Loopback, Port).ConfigureAwait(false);
                using var stream = client.GetStream();
                var buffer = new byte[64];
                using var readLimit = new CancellationTokenSource(TimeSpan.FromSeconds(5));
                var read = await stream.ReadAsync(buffer, readLimit.Token).ConfigureAwait(false);
                if (Encoding.ASCII.GetString(buffer, 0, read).StartsWith("SSH-2.0", StringComparison.Ordinal))
                {
                    return;
                }
            }
            catch (SocketException)
            {
            }
            catch (OperationCanceledException)
            {
            }

            await Task.Delay(50).ConfigureAwait(false);
        }

        throw new InvalidOperationException($"sshd did not answer on port {Port.ToString(CultureInfo.InvariantCulture)} within 30 s: {Log}");
    }

    private static string Run(string program, params string[] arguments)
    {
        var startInfo = new ProcessStartInfo(program) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in arguments)
        {
            startInfo.ArgumentList.Add(argument);
        }

        using var process = Process.Start(startInfo)!;
        var output = process.StandardOutput.ReadToEnd();
        var error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{program} {string.Join(' ', arguments)} failed: {error}");
        }

        return output;
    }
}

/// <summary>A TCP listener that accepts connections and never says a word: a host that "times out".</summary>
public sealed class SilentListener : IDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly List<TcpClient> _accepted = [];
    private readonly CancellationTokenSource _stop = new();

    public SilentListener()
    {
        _listener.Start();
        Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
        _ = AcceptAsync();
    }

    public int Port { get; }

    public void Dispose()
    {
        _stop.Cancel();
        _listener.Stop();
        lock (_accepted)
        {
            foreach (var client in _accepted)
            {
                client.Dispose();
            }
        }

        _stop.Dispose();
    }

    private async Task AcceptAsync()
    {
        try
        {
            while (!_stop.IsCancellationRequested)
            {
                var client = await _listener.AcceptTcpClientAsync(_stop.Token).ConfigureAwait(false);
                lock (_accepted)
                {
                    _accepted.Add(client);
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
        catch (SocketException)
        {
        }
        catch (ObjectDisposedException)
        {
        }
    }
}
