using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace OpsRobot.Testing;

/// <summary>
/// A real Prometheus Alertmanager (Debian's <c>prometheus-alertmanager</c>) on a free loopback port, no gossip,
/// with one webhook receiver and a route that sends at once (group_wait 0s). Fails, never skips, when the binary is
/// missing: CI installs it (build.sh).
/// </summary>
public sealed class AlertmanagerServer : IAsyncDisposable
{
    public const string Binary = "/usr/bin/prometheus-alertmanager";

    private readonly Process _process;
    private readonly TempDirectory _dir;
    private readonly List<string> _log = [];

    private AlertmanagerServer(Process process, TempDirectory dir, Uri address)
    {
        _process = process;
        _dir = dir;
        Address = address;
    }

    /// <summary>Its base address, <c>http://127.0.0.1:PORT/</c>.</summary>
    public Uri Address { get; }

    /// <summary>What it printed, for failure messages.</summary>
    public string Log
    {
        get
        {
            lock (_log)
            {
                return string.Join("\n", _log);
            }
        }
    }

    /// <summary>Starts Alertmanager with a webhook receiver posting to <paramref name="webhook"/> with <paramref name="bearerToken"/>.</summary>
    public static async Task<AlertmanagerServer> StartAsync(Uri webhook, string? bearerToken = null)
    {
        ArgumentNullException.ThrowIfNull(webhook);
        if (!File.Exists(Binary))
        {
            throw new InvalidOperationException($"{Binary} is missing: install Debian's prometheus-alertmanager (build.sh does it).");
        }

        var dir = new TempDirectory("opsrobot-alertmanager");
        var auth = bearerToken is null ? string.Empty : $"""

                    http_config:
                      authorization:
                        type: Bearer
                        credentials: '{bearerToken}'
            """;
        var config = dir.Write("alertmanager.yml", $"""
            route:
              receiver: opsrobot
              group_by: ['alertname', 'instance']
              group_wait: 0s
              group_interval: 1s
              repeat_interval: 1h
            receivers:
              - name: opsrobot
                webhook_configs:
                  - url: '{webhook.AbsoluteUri}'
                    send_resolved: true{auth}
            """);
        var port = FreePort();
        var start = new ProcessStartInfo(Binary)
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        foreach (var arg in new[]
        {
            "--config.file=" + config, "--storage.path=" + dir.Combine("data"),
            string.Create(CultureInfo.InvariantCulture, $"--web.listen-address=127.0.0.1:{port}"), "--cluster.listen-address=",
        })
        {
            start.ArgumentList.Add(arg);
        }

        var process = Process.Start(start) ?? throw new InvalidOperationException("Alertmanager did not start.");
        var server = new AlertmanagerServer(process, dir, new Uri(string.Create(CultureInfo.InvariantCulture, $"http://127.0.0.1:{port}/")));
        process.ErrorDataReceived += (_, e) => server.Keep(e.Data);
        process.OutputDataReceived += (_, e) => server.Keep(e.Data);
        process.BeginErrorReadLine();
        process.BeginOutputReadLine();
        await server.WaitReadyAsync().ConfigureAwait(false);
        return server;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync().ConfigureAwait(false);
        }

        _process.Dispose();
        _dir.Dispose();
    }

    private void Keep(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_log)
        {
            _log.Add(line);
        }
    }

    private async Task WaitReadyAsync()
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < TimeSpan.FromSeconds(60))
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"Alertmanager exited with {_process.ExitCode}:\n{Log}");
            }

            try
            {
                using var response = await http.GetAsync(new Uri(Address, "-/ready")).ConfigureAwait(false);
                if (response.StatusCode == HttpStatusCode.OK)
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
                // Slow on a loaded machine; try again.
            }

            await Task.Delay(100).ConfigureAwait(false);
        }

        throw new TimeoutException($"Alertmanager was not ready after 60 s:\n{Log}");
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
