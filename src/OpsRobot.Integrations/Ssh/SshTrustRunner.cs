using System.ComponentModel;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OpsRobot.Core.Actions;
using OpsRobot.Core.Cmdb;
using OpsRobot.Runners;

namespace OpsRobot.Integrations.Ssh;

/// <summary>
/// The explicit, administrative way a host key enters OpsRobot's known-hosts file (runner <c>ssh-trust</c>, the
/// action <c>ssh.trust</c>): <c>ssh-keyscan</c> fetches the keys the host offers at its CMDB address, the run shows
/// their fingerprints, and they are written under the CMDB host name. Parameters: <c>host</c>; <c>fingerprint</c>
/// (optional: the SHA-256 fingerprint checked out of band; the keys are written only if one of them has it);
/// <c>replace</c> (a host that already has other keys keeps them unless this is true); <c>port</c>.
/// </summary>
public sealed partial class SshTrustRunner(IOptions<SshOptions> options, TimeProvider time, ILogger<SshTrustRunner> logger, IHostInventory? inventory = null) : IRunner
{
    /// <summary>One writer of the known-hosts file at a time in this process.</summary>
    private static readonly SemaphoreSlim Writer = new(1, 1);

    private readonly SshOptions _options = options.Value;

    public IReadOnlyList<string> Names { get; } = ["ssh-trust"];

    public IEnumerable<string> Validate(ActionDefinition action)
    {
        ArgumentNullException.ThrowIfNull(action);
        if (!action.Guards.Administrative)
        {
            yield return "An ssh-trust action changes which servers OpsRobot believes; mark it 'admin: true' so only whitelisted administrators run it.";
        }
    }

    public async Task<RunnerResult> RunAsync(RunnerContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var parameters = context.Parameters;
        var hostname = RunnerParameters.GetString(parameters, "host")?.Trim().ToLowerInvariant();
        var expected = RunnerParameters.GetString(parameters, "fingerprint")?.Trim();
        var replace = RunnerParameters.IsTrue(parameters, "replace");
        if (hostname is null || !SshTarget.IsHostname(hostname))
        {
            return Failed("Parameter 'host' must name one host of the CMDB.");
        }

        if (expected is not null && !expected.StartsWith("SHA256:", StringComparison.Ordinal))
        {
            return Failed("Parameter 'fingerprint' must be an OpenSSH SHA-256 fingerprint (SHA256:…), as ssh-keygen -lf prints it on the host.");
        }

        if (inventory is null)
        {
            return Failed("No CMDB is configured, so the host's address cannot be looked up.");
        }

        var host = await inventory.FindAsync(hostname, cancellationToken).ConfigureAwait(false);
        if (host is null)
        {
            return Failed($"The CMDB knows no host '{hostname}'.");
        }

        int? port = null;
        if (RunnerParameters.Get(parameters, "port") is { } p)
        {
            if (!int.TryParse(RunnerParameters.ToText(p), NumberStyles.None, CultureInfo.InvariantCulture, out var parsed))
            {
                return Failed("Parameter 'port' must be a TCP port, 1-65535.");
            }

            port = parsed;
        }

        var (target, targetError) = SshTarget.For(host, user: null, port, defaultUser: "root");
        if (target is null)
        {
            return Failed($"Cannot scan {hostname}: {targetError}.");
        }

        var (scanned, scanError) = await ScanAsync(target, cancellationToken).ConfigureAwait(false);
        if (scanned is null)
        {
            return cancellationToken.IsCancellationRequested ? new RunnerResult(RunnerOutcome.Canceled, null, null, "Canceled.") : Failed(scanError!);
        }

        var offered = string.Join("\n", scanned.Select(k => $"  {k.KeyType} {k.Fingerprint}"));
        context.Output.Write(OutputKind.Stdout, $"{hostname} ({target.Address} port {target.Port}) offers:\n{offered}\n");
        if (expected is not null && !scanned.Any(k => string.Equals(k.Fingerprint, expected, StringComparison.Ordinal)))
        {
            return Failed($"None of the keys {hostname} offers has the fingerprint {expected}; nothing was trusted. Offered:\n{offered}");
        }

        await Writer.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var path = _options.KnownHostsFile;
            var existing = KnownHosts.For(await KnownHosts.ReadAsync(path, cancellationToken).ConfigureAwait(false), hostname);
            var same = existing.Count > 0 && existing.Select(k => k.KeyBase64).ToHashSet(StringComparer.Ordinal).SetEquals(scanned.Select(k => k.KeyBase64));
            var result = new JsonObject
            {
                ["host"] = hostname,
                ["address"] = target.Address,
                ["port"] = target.Port,
                ["keys"] = new JsonArray([.. scanned.Select(k => new JsonObject { ["type"] = k.KeyType, ["fingerprint"] = k.Fingerprint })]),
                ["previous"] = new JsonArray([.. existing.Select(k => new JsonObject { ["type"] = k.KeyType, ["fingerprint"] = k.Fingerprint })]),
            };
            if (same)
            {
                result["changed"] = false;
                context.Output.Write(OutputKind.Stdout, $"Already trusted: the known-hosts file has exactly these keys for {hostname}.\n");
                return new RunnerResult(RunnerOutcome.Succeeded, result, 0, null);
            }

            if (existing.Count > 0 && !replace)
            {
                var known = string.Join(", ", existing.Select(k => $"{k.KeyType} {k.Fingerprint}"));
                return Failed($"{hostname} now offers other keys than the ones trusted for it ({known}). A changed host key can mean someone is in the middle: check the new fingerprint on the host itself (ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub), then run ssh.trust again with replace=true fingerprint=SHA256:…. Offered:\n{offered}");
            }

            await KnownHosts.ReplaceAsync(path, hostname, scanned, cancellationToken).ConfigureAwait(false);
            result["changed"] = true;
            LogTrusted(logger, hostname, target.Address, target.Port, string.Join(", ", scanned.Select(k => k.Fingerprint)), context.Requester?.UserName ?? "unknown");
            context.Output.Write(OutputKind.Stdout, existing.Count > 0 ? $"Replaced the keys trusted for {hostname}.\n" : $"Trusted {hostname}.\n");
            return new RunnerResult(RunnerOutcome.Succeeded, result, 0, null);
        }
        finally
        {
            Writer.Release();
        }
    }

    /// <summary>The keys the host offers, read with <c>ssh-keyscan</c> (an argument vector, a time limit).</summary>
    private async Task<(IReadOnlyList<KnownHostKey>? Keys, string? Error)> ScanAsync(SshTarget target, CancellationToken cancellationToken)
    {
        var seconds = Math.Max(1, (int)Math.Ceiling(_options.ConnectTimeout.TotalSeconds));
        var startInfo = new ProcessStartInfo(_options.KeyscanPath)
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var argument in new[] { "-T", seconds.ToString(CultureInfo.InvariantCulture), "-p", target.Port.ToString(CultureInfo.InvariantCulture), "-t", "ed25519,ecdsa,rsa", "--", target.Address })
        {
            startInfo.ArgumentList.Add(argument);
        }

        using var process = new Process { StartInfo = startInfo };
        try
        {
            process.Start();
        }
        catch (Win32Exception ex)
        {
            return (null, $"Could not start '{_options.KeyscanPath}' (OpenSSH's ssh-keyscan): {ex.Message}");
        }

        var stdout = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
        using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(seconds * 3 + 5), time);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, limit.Token);
        try
        {
            await process.WaitForExitAsync(stop.Token).ConfigureAwait(false);
            var keys = KnownHosts.Parse(await stdout.ConfigureAwait(false));
            if (keys.Count == 0)
            {
                var why = (await stderr.ConfigureAwait(false)).Split('\n').Select(l => l.Trim()).FirstOrDefault(l => l.Length > 0 && !l.StartsWith('#'));
                return (null, $"{target.Hostname} ({target.Address} port {target.Port}) offered no host key{(why is null ? " (is an SSH server listening there?)" : $": {why}")}.");
            }

            return (keys, null);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            return (null, $"ssh-keyscan got no answer from {target.Address} port {target.Port} in time.");
        }
    }

    private static RunnerResult Failed(string error) => new(RunnerOutcome.Failed, new JsonObject { ["error"] = error }, null, error);

    [LoggerMessage(EventId = 8310, Level = LogLevel.Warning, Message = "Trusted the host keys of {Host} ({Address} port {Port}): {Fingerprints}, asked by {User}")]
    private static partial void LogTrusted(ILogger logger, string host, string address, int port, string fingerprints, string user);
}
