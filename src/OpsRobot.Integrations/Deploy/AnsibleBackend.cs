using System.ComponentModel;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OpsRobot.Core.Actions;
using OpsRobot.Integrations.Ssh;

namespace OpsRobot.Integrations.Deploy;

/// <summary>
/// Deploys with Ansible: <c>ansible-playbook</c> runs the app's playbook against an inventory generated from the
/// CMDB (each host with <c>ansible_host</c>, <c>ansible_port</c>, <c>ansible_user</c>), with <c>app</c>,
/// <c>version</c> and <c>env</c> as extra variables from a JSON file (<c>-e @vars.json</c>), the private key from
/// the datastore in a 0600 file for the run's length, and the same strict OpenSSH options as the <c>ssh</c> runner
/// (OpsRobot's known-hosts file, the CMDB name as host-key alias). The working folder, its <c>ansible.cfg</c> and
/// every file in it are private to the run and removed after it; no <c>ansible.cfg</c> of the current folder or
/// the user is read. Output is streamed line by line.
/// </summary>
public sealed partial class AnsibleBackend(IOptions<DeployOptions> options, IOptions<SshOptions> ssh, ILogger<AnsibleBackend> logger) : IDeployBackend
{
    private static readonly TimeSpan KillWait = TimeSpan.FromSeconds(5);

    public string Name => "ansible";

    public bool UsesSsh => true;

    public async Task<DeployOutcome> DeployAsync(DeployRequest request, IRunnerOutput output, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(output);
        var (playbook, playbookError) = ResolvePlaybook(request);
        if (playbook is null)
        {
            return Failed(playbookError!);
        }

        if (OperatingSystem.IsWindows())
        {
            return Failed("The Ansible back-end needs a Unix system.");
        }

        if (request.KeyPath is null || request.Targets.Count == 0)
        {
            return Failed("The Ansible back-end was given no SSH targets or key.");
        }

        var work = Path.Combine(Path.GetTempPath(), $"opsrobot-ansible-{Guid.NewGuid():N}");
        Directory.CreateDirectory(work, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        try
        {
            Directory.CreateDirectory(Path.Combine(work, "tmp"));
            await WriteAsync(Path.Combine(work, "inventory.json"), Inventory(request).ToJsonString(), cancellationToken).ConfigureAwait(false);
            await WriteAsync(Path.Combine(work, "vars.json"), new JsonObject
            {
                ["app"] = request.App,
                ["version"] = request.Version,
                ["env"] = request.Environment,
                ["previous_version"] = request.PreviousVersion,
                ["opsrobot_execution"] = request.ExecutionId,
            }.ToJsonString(), cancellationToken).ConfigureAwait(false);
            var forks = Math.Clamp(request.Settings.Forks, 1, 100);
            await WriteAsync(Path.Combine(work, "ansible.cfg"), string.Create(CultureInfo.InvariantCulture, $"""
                [defaults]
                host_key_checking = True
                retry_files_enabled = False
                nocolor = True
                interpreter_python = auto_silent
                forks = {forks}
                local_tmp = {Path.Combine(work, "tmp")}
                [ssh_connection]
                ssh_args = -o ControlMaster=no -o ControlPath=none
                pipelining = True

                """), cancellationToken).ConfigureAwait(false);

            var startInfo = new ProcessStartInfo(options.Value.AnsiblePlaybookPath)
            {
                UseShellExecute = false,
                RedirectStandardInput = true,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                WorkingDirectory = work,
            };
            foreach (var argument in new[] { "-i", Path.Combine(work, "inventory.json"), "-e", "@" + Path.Combine(work, "vars.json"), "--forks", forks.ToString(CultureInfo.InvariantCulture), playbook })
            {
                startInfo.ArgumentList.Add(argument);
            }

            startInfo.Environment.Clear();
            startInfo.Environment["PATH"] = "/usr/local/bin:/usr/bin:/bin";
            startInfo.Environment["HOME"] = Environment.GetEnvironmentVariable("HOME") ?? work;
            startInfo.Environment["LANG"] = "C.UTF-8";
            startInfo.Environment["LC_ALL"] = "C.UTF-8";
            startInfo.Environment["ANSIBLE_CONFIG"] = Path.Combine(work, "ansible.cfg");
            startInfo.Environment["ANSIBLE_LOCAL_TEMP"] = Path.Combine(work, "tmp");
            startInfo.Environment["ANSIBLE_FORCE_COLOR"] = "0";
            startInfo.Environment["PYTHONUNBUFFERED"] = "1";

            using var process = new Process { StartInfo = startInfo };
            try
            {
                process.Start();
            }
            catch (Win32Exception ex)
            {
                return Failed($"Could not start '{options.Value.AnsiblePlaybookPath}' (Ansible): {ex.Message}");
            }

            process.StandardInput.Close();
            LogStarted(logger, request.ExecutionId, request.App, request.Version, request.Environment, request.Targets.Count);
            var recap = new Dictionary<string, string>(StringComparer.Ordinal);
            var errors = new List<string>();
            var pumps = Task.WhenAll(
                PumpAsync(process.StandardOutput, OutputKind.Stdout, output, recap),
                PumpAsync(process.StandardError, OutputKind.Stderr, output, errors: errors));
            try
            {
                await process.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                try
                {
                    process.Kill(entireProcessTree: true);
                }
                catch (InvalidOperationException)
                {
                }

                await process.WaitForExitAsync(CancellationToken.None).WaitAsync(KillWait, CancellationToken.None).ConfigureAwait(false);
                throw;
            }

            await pumps.WaitAsync(KillWait, CancellationToken.None).ConfigureAwait(false);
            if (process.ExitCode == 0)
            {
                return new DeployOutcome(true, null, recap);
            }

            var bad = recap.Where(h => h.Value != "ok").Select(h => $"{h.Key} {h.Value}").ToList();
            var why = bad.Count > 0 ? $": {string.Join(", ", bad)}" : errors.Count > 0 ? $": {errors[0]}" : string.Empty;
            return new DeployOutcome(false, string.Create(CultureInfo.InvariantCulture, $"ansible-playbook exited with code {process.ExitCode}{why}."), recap);
        }
        finally
        {
            try
            {
                Directory.Delete(work, recursive: true);
            }
            catch (IOException)
            {
            }
            catch (UnauthorizedAccessException)
            {
            }
        }
    }

    /// <summary>The inventory: every target under its CMDB name, with how to reach it and the strict SSH options.</summary>
    internal JsonObject Inventory(DeployRequest request)
    {
        var hosts = new JsonObject();
        foreach (var target in request.Targets)
        {
            hosts[target.Hostname] = new JsonObject
            {
                ["ansible_host"] = target.Address,
                ["ansible_port"] = target.Port,
                ["ansible_user"] = target.User,
                ["ansible_ssh_private_key_file"] = request.KeyPath,
                ["ansible_ssh_common_args"] = SshArgs(target.Hostname),
            };
        }

        return new JsonObject { ["all"] = new JsonObject { ["hosts"] = hosts } };
    }

    /// <summary>
    /// The strict options as one string for <c>ansible_ssh_common_args</c> (Ansible splits it like a shell would;
    /// no value holds a space). Connection sharing stays off through <c>ssh_args</c> in the run's ansible.cfg.
    /// </summary>
    private string SshArgs(string hostname)
    {
        var pairs = SshClient.CommonOptions(ssh.Value, ssh.Value.KnownHostsFile, hostname);
        var args = new List<string>();
        for (var i = 0; i + 1 < pairs.Count; i += 2)
        {
            if (!pairs[i + 1].StartsWith("ControlMaster=", StringComparison.Ordinal) && !pairs[i + 1].StartsWith("ControlPath=", StringComparison.Ordinal))
            {
                args.Add($"{pairs[i]} {pairs[i + 1]}");
            }
        }

        return string.Join(' ', args);
    }

    private static (string? Path, string? Error) ResolvePlaybook(DeployRequest request)
    {
        if (string.IsNullOrWhiteSpace(request.Settings.Playbook))
        {
            return (null, $"No playbook is set for {request.App}: set OpsRobot:Deploy:Apps:{request.App}:Playbook.");
        }

        var configured = request.Settings.Playbook;
        string path;
        if (Path.IsPathFullyQualified(configured))
        {
            path = configured;
        }
        else
        {
            var pack = Path.TrimEndingDirectorySeparator(Path.GetFullPath(request.PackDirectory)) + Path.DirectorySeparatorChar;
            path = Path.GetFullPath(Path.Combine(pack, configured));
            if (!path.StartsWith(pack, StringComparison.Ordinal))
            {
                return (null, $"The playbook '{configured}' of {request.App} points outside the deploy pack's folder; give an absolute path or one inside the pack.");
            }
        }

        return File.Exists(path) ? (path, null) : (null, $"The playbook of {request.App} does not exist (looked for {path}).");
    }

    private static async Task WriteAsync(string path, string content, CancellationToken cancellationToken)
    {
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        var stream = new FileStream(path, options);
        await using (stream.ConfigureAwait(false))
        {
            await stream.WriteAsync(System.Text.Encoding.UTF8.GetBytes(content), cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Streams lines as they come; reads Ansible's PLAY RECAP into per-host words.</summary>
    private static async Task PumpAsync(StreamReader reader, OutputKind kind, IRunnerOutput output, Dictionary<string, string>? recap = null, List<string>? errors = null)
    {
        var inRecap = false;
        try
        {
            string? line;
            while ((line = await reader.ReadLineAsync().ConfigureAwait(false)) is not null)
            {
                output.Write(kind, line + "\n");
                if (errors is not null && line.Trim().Length > 0 && errors.Count < 5)
                {
                    errors.Add(line.Trim());
                }

                if (recap is null)
                {
                    continue;
                }

                if (line.StartsWith("PLAY RECAP", StringComparison.Ordinal))
                {
                    inRecap = true;
                    continue;
                }

                if (inRecap && RecapPattern().Match(line) is { Success: true } m)
                {
                    var failed = int.Parse(m.Groups["failed"].Value, CultureInfo.InvariantCulture);
                    var unreachable = int.Parse(m.Groups["unreachable"].Value, CultureInfo.InvariantCulture);
                    recap[m.Groups["host"].Value] = unreachable > 0 ? "unreachable" : failed > 0 ? "failed" : "ok";
                }
            }
        }
        catch (IOException)
        {
        }
        catch (ObjectDisposedException)
        {
        }
    }

    private static DeployOutcome Failed(string error) => new(false, error, new Dictionary<string, string>(StringComparer.Ordinal));

    [GeneratedRegex(@"^(?<host>\S+)\s*:\s*ok=\d+\s+changed=\d+\s+unreachable=(?<unreachable>\d+)\s+failed=(?<failed>\d+)", RegexOptions.CultureInvariant | RegexOptions.ExplicitCapture, matchTimeoutMilliseconds: 100)]
    private static partial Regex RecapPattern();

    [LoggerMessage(EventId = 8401, Level = LogLevel.Information, Message = "Execution {ExecutionId}: ansible-playbook deploys {App} {Version} to {Environment} on {Count} hosts")]
    private static partial void LogStarted(ILogger logger, string executionId, string app, string version, string environment, int count);
}
