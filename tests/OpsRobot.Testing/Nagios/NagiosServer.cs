using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace OpsRobot.Testing.Nagios;

/// <summary>What the test Nagios monitors and where it sends notifications.</summary>
public sealed record NagiosServerOptions
{
    /// <summary>The monitored host (on 127.0.0.1).</summary>
    public string Host { get; init; } = "web01";

    /// <summary>A service whose check always fails: CRITICAL "disk full".</summary>
    public string FailingService { get; init; } = "disk";

    /// <summary>Services whose check always passes (a two-word one, to test names with spaces).</summary>
    public IReadOnlyList<string> OkServices { get; init; } = ["load", "Disk Space"];

    /// <summary>OpsRobot's Nagios intake (<c>http://127.0.0.1:PORT/api/v1/alerts/nagios</c>); null for no notifications to OpsRobot.</summary>
    public Uri? NotifyUrl { get; init; }

    /// <summary>
    /// Seconds between scheduled checks. Nagios checks everything once at start; a long interval keeps later
    /// checks from moving <c>last_check</c>, so a test can see that a forced re-check did.
    /// </summary>
    public int CheckIntervalSeconds { get; init; } = 300;

    /// <summary>The bearer token the notification command sends (written to a file the command reads, as docs/integrations/nagios.md says).</summary>
    public string? NotifyToken { get; init; }
}

/// <summary>
/// A real Nagios 4 (Debian's <c>nagios4-core</c> and <c>monitoring-plugins-basic</c>) run for one test from a
/// configuration in a temporary folder: one host on 127.0.0.1 with a failing service and passing ones, a contact
/// whose notifications are logged to a file and, when asked, posted to OpsRobot with curl (the command documented
/// for operators). Checks run every few seconds (<c>interval_length=1</c>), status is written every second. It runs
/// as the current user (root in CI: <c>nagios_user=root</c>), never as a daemon, and is killed on dispose.
/// A missing binary is an error, not a skip.
/// </summary>
public sealed class NagiosServer : IAsyncDisposable
{
    public const string Binary = "/usr/sbin/nagios4";
    public const string CheckDummy = "/usr/lib/nagios/plugins/check_dummy";
    public const string Curl = "/usr/bin/curl";

    private readonly TempDirectory _dir;
    private readonly StringBuilder _console = new();
    private Process? _process;

    private NagiosServer(TempDirectory dir, NagiosServerOptions options)
    {
        _dir = dir;
        Options = options;
    }

    public NagiosServerOptions Options { get; }

    public string Directory => _dir.Path;

    /// <summary>The external command file (a named pipe Nagios reads).</summary>
    public string CommandFile => _dir.Combine("rw", "nagios.cmd");

    public string StatusFile => _dir.Combine("status.dat");

    public string LogFile => _dir.Combine("nagios.log");

    /// <summary>One line per notification Nagios sent: <c>TYPE;HOST;SERVICE;STATE;AUTHOR;COMMENT</c>.</summary>
    public string NotificationsFile => _dir.Combine("notifications.log");

    public bool HasExited => _process?.HasExited != false;

    /// <summary>Writes the configuration and starts Nagios; returns once the failing service has been checked.</summary>
    public static async Task<NagiosServer> StartAsync(NagiosServerOptions? options = null)
    {
        var server = Create(options);
        try
        {
            await server.StartAsync();
            return server;
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// Writes the configuration without starting Nagios, so a test can hand the paths (command file, status file)
    /// to OpsRobot before Nagios sends its first notification.
    /// </summary>
    public static NagiosServer Create(NagiosServerOptions? options = null)
    {
        options ??= new NagiosServerOptions();
        foreach (var needed in new[] { Binary, CheckDummy, Curl })
        {
            if (!File.Exists(needed))
            {
                throw new InvalidOperationException($"{needed} is missing: install nagios4-core, monitoring-plugins-basic and curl (./build.sh installs the test dependencies).");
            }
        }

        var dir = new TempDirectory("opsrobot-nagios");
        System.IO.Directory.CreateDirectory(dir.Combine("rw"));
        System.IO.Directory.CreateDirectory(dir.Combine("checkresults"));
        if (options.NotifyToken is not null)
        {
            dir.Write("opsrobot.token", options.NotifyToken);
        }

        dir.Write("resource.cfg", string.Empty);
        dir.Write("objects.cfg", Objects(dir, options));
        dir.Write("nagios.cfg", MainConfig(dir));
        return new NagiosServer(dir, options);
    }

    /// <summary>Starts nagios4; returns once the failing service has been checked and the command pipe exists.</summary>
    public async Task StartAsync()
    {
        if (_process is not null)
        {
            throw new InvalidOperationException("This Nagios has been started already.");
        }

        var start = new ProcessStartInfo(Binary) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(_dir.Combine("nagios.cfg"));
        _process = Process.Start(start) ?? throw new InvalidOperationException("nagios4 did not start.");
        _process.OutputDataReceived += (_, e) => Capture(e.Data);
        _process.ErrorDataReceived += (_, e) => Capture(e.Data);
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        await WaitForStatusAsync(
            text => File.Exists(CommandFile) && ServiceBlock(text, Options.Host, Options.FailingService)?.Contains("has_been_checked=1", StringComparison.Ordinal) == true,
            TimeSpan.FromSeconds(60));
    }

    /// <summary>Waits until status.dat satisfies <paramref name="condition"/>; fails with Nagios's log after <paramref name="timeout"/>.</summary>
    public async Task<string> WaitForStatusAsync(Func<string, bool> condition, TimeSpan timeout)
    {
        ArgumentNullException.ThrowIfNull(condition);
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            if (_process is null || _process.HasExited)
            {
                throw new InvalidOperationException($"nagios4 is not running (exit code {_process?.ExitCode}):\n{Diagnostics()}");
            }

            var text = ReadStatus();
            if (text is not null && condition(text))
            {
                return text;
            }

            if (deadline.Elapsed > timeout)
            {
                throw new TimeoutException($"Nagios's status did not reach the expected state in {timeout.TotalSeconds} s.\nLast status:\n{text}\n{Diagnostics()}");
            }

            await Task.Delay(200);
        }
    }

    /// <summary>Waits until the notifications log has a line containing <paramref name="fragment"/>.</summary>
    public async Task<string> WaitForNotificationAsync(string fragment, TimeSpan timeout)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            var lines = File.Exists(NotificationsFile) ? await File.ReadAllLinesAsync(NotificationsFile) : [];
            if (lines.FirstOrDefault(l => l.Contains(fragment, StringComparison.Ordinal)) is { } line)
            {
                return line;
            }

            if (deadline.Elapsed > timeout)
            {
                throw new TimeoutException($"No notification with '{fragment}' in {timeout.TotalSeconds} s. Sent:\n{string.Join('\n', lines)}\n{Diagnostics()}");
            }

            await Task.Delay(200);
        }
    }

    /// <summary>The <c>servicestatus</c> block of one service in status text, or null.</summary>
    public static string? ServiceBlock(string status, string host, string service) =>
        Block(status, "servicestatus", $"\thost_name={host}\n", $"\tservice_description={service}\n");

    /// <summary>The <c>hoststatus</c> block of a host in status text, or null.</summary>
    public static string? HostBlock(string status, string host) => Block(status, "hoststatus", $"\thost_name={host}\n");

    /// <summary>Every block of a type (<c>servicedowntime</c>, <c>servicecomment</c>…) in status text.</summary>
    public static IEnumerable<string> Blocks(string status, string type)
    {
        ArgumentNullException.ThrowIfNull(status);
        var at = 0;
        while ((at = status.IndexOf(type + " {\n", at, StringComparison.Ordinal)) >= 0)
        {
            var end = status.IndexOf("\t}", at, StringComparison.Ordinal);
            if (end < 0)
            {
                yield break;
            }

            yield return status[at..end];
            at = end;
        }
    }

    /// <summary>Nagios's log and console output, for failure messages.</summary>
    public string Diagnostics()
    {
        var log = File.Exists(LogFile) ? File.ReadAllText(LogFile) : "(no log)";
        lock (_console)
        {
            return $"--- nagios.log ---\n{log}\n--- console ---\n{_console}";
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (_process is { HasExited: false })
            {
                // SIGTERM first: Nagios then stops and reaps its worker processes itself; SIGKILL only if it hangs.
                using (var term = Process.Start("/bin/kill", ["-TERM", _process.Id.ToString(CultureInfo.InvariantCulture)]))
                {
                    await term.WaitForExitAsync();
                }

                using var graceful = new CancellationTokenSource(TimeSpan.FromSeconds(15));
                try
                {
                    await _process.WaitForExitAsync(graceful.Token);
                }
                catch (OperationCanceledException)
                {
                    _process.Kill(entireProcessTree: true);
                    using var killed = new CancellationTokenSource(TimeSpan.FromSeconds(30));
                    await _process.WaitForExitAsync(killed.Token);
                }
            }
        }
        catch (InvalidOperationException)
        {
        }
        finally
        {
            _process?.Dispose();
            _dir.Dispose();
        }
    }

    private static string? Block(string status, string type, params string[] lines) =>
        Blocks(status, type).FirstOrDefault(b => lines.All(l => b.Contains(l, StringComparison.Ordinal)));

    private string? ReadStatus()
    {
        try
        {
            return File.Exists(StatusFile) ? File.ReadAllText(StatusFile) : null;
        }
        catch (IOException)
        {
            return null;
        }
    }

    private void Capture(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_console)
        {
            _console.AppendLine(line);
        }
    }

    private static string MainConfig(TempDirectory dir)
    {
        var user = Environment.UserName;
        string P(params string[] parts) => dir.Combine(parts);
        return string.Join('\n',
        [
            $"log_file={P("nagios.log")}",
            $"cfg_file={P("objects.cfg")}",
            $"object_cache_file={P("objects.cache")}",
            $"precached_object_file={P("objects.precache")}",
            $"resource_file={P("resource.cfg")}",
            $"status_file={P("status.dat")}",
            $"command_file={P("rw", "nagios.cmd")}",
            $"query_socket={P("rw", "nagios.qh")}",
            $"lock_file={P("nagios.lock")}",
            $"temp_file={P("nagios.tmp")}",
            $"temp_path={P()}",
            $"check_result_path={P("checkresults")}",
            $"state_retention_file={P("retention.dat")}",
            $"nagios_user={user}",
            $"nagios_group={user}",
            "status_update_interval=1",
            "check_external_commands=1",
            "retain_state_information=0",
            "use_syslog=0",
            "log_notifications=1",
            "log_external_commands=1",
            "check_for_updates=0",
            "bare_update_check=1",
            "interval_length=1",
            "service_inter_check_delay_method=n",
            "host_inter_check_delay_method=n",
            "max_service_check_spread=1",
            "max_host_check_spread=1",
            "enable_notifications=1",
            "execute_service_checks=1",
            "execute_host_checks=1",
            "enable_flap_detection=0",
            "illegal_object_name_chars=`~!$%^&*|'\"<>?,()=",
            "illegal_macro_output_chars=`~$&|'\"<>",
            string.Empty,
        ]);
    }

    private static string Objects(TempDirectory dir, NagiosServerOptions o)
    {
        var log = dir.Combine("notifications.log");
        var commands = o.NotifyUrl is null ? "notify-log" : "notify-log,notify-opsrobot-service";
        var hostCommands = o.NotifyUrl is null ? "notify-log" : "notify-log,notify-opsrobot-host";
        var auth = o.NotifyToken is null ? string.Empty : $"-H \"Authorization: Bearer $$(cat {dir.Combine("opsrobot.token")})\" ";
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $$"""
            define command {
                command_name    check_dummy
                command_line    {{CheckDummy}} $ARG1$ "$ARG2$"
            }
            define command {
                command_name    notify-log
                command_line    /bin/sh -c 'printf "%s\n" "$NOTIFICATIONTYPE$\;$HOSTNAME$\;$SERVICEDESC$\;$SERVICESTATE$\;$NOTIFICATIONAUTHOR$\;$NOTIFICATIONCOMMENT$" >> {{log}}'
            }
            define command {
                command_name    notify-opsrobot-service
                command_line    {{Curl}} -sS --max-time 10 {{auth}}--data-urlencode "type=$NOTIFICATIONTYPE$" --data-urlencode "host=$HOSTNAME$" --data-urlencode "service=$SERVICEDESC$" --data-urlencode "state=$SERVICESTATE$" --data-urlencode "output=$SERVICEOUTPUT$" {{o.NotifyUrl}}
            }
            define command {
                command_name    notify-opsrobot-host
                command_line    {{Curl}} -sS --max-time 10 {{auth}}--data-urlencode "type=$NOTIFICATIONTYPE$" --data-urlencode "host=$HOSTNAME$" --data-urlencode "state=$HOSTSTATE$" --data-urlencode "output=$HOSTOUTPUT$" {{o.NotifyUrl}}
            }
            define timeperiod {
                timeperiod_name always
                alias           Always
                sunday          00:00-24:00
                monday          00:00-24:00
                tuesday         00:00-24:00
                wednesday       00:00-24:00
                thursday        00:00-24:00
                friday          00:00-24:00
                saturday        00:00-24:00
            }
            define contact {
                contact_name                    opsrobot
                alias                           OpsRobot
                host_notifications_enabled      1
                service_notifications_enabled   1
                host_notification_period        always
                service_notification_period     always
                host_notification_options       d,u,r
                service_notification_options    w,u,c,r
                host_notification_commands      {{hostCommands}}
                service_notification_commands   {{commands}}
            }
            define host {
                host_name               {{o.Host}}
                alias                   {{o.Host}}
                address                 127.0.0.1
                check_command           check_dummy!0!up
                max_check_attempts      1
                check_interval          {{o.CheckIntervalSeconds}}
                retry_interval          1
                check_period            always
                notification_interval   0
                notification_period     always
                contacts                opsrobot
            }

            """);
        foreach (var (service, state, output) in o.OkServices.Select(s => (s, 0, "fine")).Prepend((o.FailingService, 2, "disk full")))
        {
            text.Append(CultureInfo.InvariantCulture, $$"""
                define service {
                    host_name               {{o.Host}}
                    service_description     {{service}}
                    check_command           check_dummy!{{state}}!{{output}}
                    max_check_attempts      1
                    check_interval          {{o.CheckIntervalSeconds}}
                    retry_interval          1
                    check_period            always
                    notification_interval   0
                    notification_period     always
                    notification_options    w,u,c,r
                    contacts                opsrobot
                }

                """);
        }

        return text.ToString();
    }
}
