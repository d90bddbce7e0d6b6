using System.Globalization;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OpsRobot.Core.Actions;
using OpsRobot.Core.Cmdb;
using OpsRobot.Core.Templates;
using OpsRobot.Integrations.Secrets;
using OpsRobot.Runners;

namespace OpsRobot.Integrations.Ssh;

/// <summary>
/// Runs a command, or the action's pack script, on one host or on every host a CMDB selection names, through the
/// system's OpenSSH client: StackStorm's <c>remote-shell-cmd</c> and <c>remote-shell-script</c>. Runner parameters:
/// <c>hosts</c> (names) or a selection (<c>app</c>, <c>env</c>, <c>tags</c>); <c>cmd</c> (a template whose inserted
/// values are shell-quoted) or the action's <c>entry_point</c> with <c>args</c>; <c>concurrency</c>; <c>timeout</c>
/// (seconds per host); <c>user</c>; <c>port</c>; <c>key</c> (a system datastore secret's name); <c>cwd</c>;
/// <c>env</c>. Every host is checked against the requester's rights on its application node before anything
/// connects; each host gets a result (status, exit code, output, duration), streamed as a progress line when it
/// finishes.
/// </summary>
public sealed partial class SshRunner : IRunner
{
    /// <summary>The parameters the runner reads itself; none is passed to a script as an argument.</summary>
    internal static readonly IReadOnlySet<string> RunnerParameterNames = new HashSet<string>(StringComparer.Ordinal)
    {
        "hosts", "app", "env", "tags", "cmd", "args", "concurrency", "parallel", "timeout", "user", "username", "key", "port", "cwd", "env_vars",
    };

    private readonly SshOptions _options;
    private readonly IHostInventory? _inventory;
    private readonly IHostAccessPolicy _access;
    private readonly ISecretSource _keys;
    private readonly ITemplateRenderer _renderer;
    private readonly TimeProvider _time;
    private readonly ILogger<SshRunner> _logger;

    public SshRunner(IOptions<SshOptions> options, IHostAccessPolicy access, ISecretSource keys, ITemplateRenderer renderer, TimeProvider time, ILogger<SshRunner> logger, IHostInventory? inventory = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options.Value;
        _access = access;
        _keys = keys;
        _renderer = renderer;
        _time = time;
        _logger = logger;
        _inventory = inventory;
    }

    public IReadOnlyList<string> Names { get; } = ["ssh", "remote-shell-cmd", "remote-shell-script"];

    public IEnumerable<string> Validate(ActionDefinition action)
    {
        ArgumentNullException.ThrowIfNull(action);
        var cmd = action.Parameters.FirstOrDefault(p => p.Name == "cmd");
        if (cmd is null && string.IsNullOrWhiteSpace(action.EntryPoint))
        {
            yield return "An ssh action needs a 'cmd' parameter (the command line to run on each host) or an entry_point (a script in the pack).";
        }

        if (cmd is not null && !string.IsNullOrWhiteSpace(action.EntryPoint))
        {
            yield return "An ssh action runs either 'cmd' or its entry_point script, not both.";
        }

        if (cmd?.Default is JsonValue value && value.TryGetValue<string>(out var template) && _renderer.Check(template) is { } error)
        {
            yield return $"The 'cmd' template does not parse: {error.Message}";
        }

        if (action.Parameters.Any(p => p.Name is "private_key" or "password"))
        {
            yield return "The ssh runner takes no 'private_key' or 'password' parameter: keys come from datastore secrets, named by 'key'.";
        }

        if (!string.IsNullOrWhiteSpace(action.EntryPoint) && SshScript.Resolve(action).Error is { } scriptError)
        {
            yield return scriptError;
        }
    }

    public async Task<RunnerResult> RunAsync(RunnerContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (cancellationToken.IsCancellationRequested)
        {
            return new RunnerResult(RunnerOutcome.Canceled, null, null, "Canceled before it started.");
        }

        var (request, error) = SshRequest.Parse(context.Parameters, _options);
        if (request is null)
        {
            return Failed(error!);
        }

        // What to run, checked before any host is looked at.
        string remoteCommand;
        string? stdin = null;
        if (!string.IsNullOrWhiteSpace(context.Action.EntryPoint))
        {
            var (script, scriptError) = SshScript.Resolve(context.Action);
            if (script is null)
            {
                return Failed(scriptError!);
            }

            stdin = await File.ReadAllTextAsync(script, cancellationToken).ConfigureAwait(false);
            remoteCommand = SshScript.RemoteCommand(stdin, request.Arguments, request.WorkingDirectory, request.Environment);
        }
        else
        {
            if (string.IsNullOrWhiteSpace(request.Command))
            {
                return Failed("Parameter 'cmd' is required: the command line to run on each host.");
            }

            var scope = new JsonObject();
            foreach (var (name, value) in context.Parameters)
            {
                scope[name] = value?.DeepClone();
            }

            try
            {
                var rendered = _renderer.Render(request.Command, scope, TemplateEscape.Shell);
                remoteCommand = SshScript.Wrap(rendered, request.WorkingDirectory, request.Environment);
            }
            catch (TemplateException ex)
            {
                return Failed($"The 'cmd' template failed: {ex.Message}");
            }
            catch (ArgumentException ex)
            {
                return Failed($"The command cannot be sent: {ex.Message}");
            }
        }

        if (_inventory is null)
        {
            return Failed("No CMDB is configured, so no host can be looked up; the ssh runner reaches only hosts the CMDB knows.");
        }

        // Which hosts, then who may touch which.
        var (hosts, unknown, selectionError) = await SelectAsync(request, cancellationToken).ConfigureAwait(false);
        if (selectionError is not null)
        {
            return Failed(selectionError);
        }

        var results = new Dictionary<string, SshHostResult>(StringComparer.Ordinal);
        foreach (var name in unknown)
        {
            results[name] = new SshHostResult(name, SshHostStatus.UnknownHost) { Error = $"The CMDB knows no host '{name}'." };
        }

        var decisions = await _access.AuthorizeAsync(context.Requester, context.Action.Ref, hosts, cancellationToken).ConfigureAwait(false);
        var targets = new List<SshTarget>();
        foreach (var host in hosts)
        {
            var decision = decisions.FirstOrDefault(d => string.Equals(d.Hostname, host.Hostname, StringComparison.Ordinal));
            if (decision is not { Allowed: true })
            {
                results[host.Hostname] = new SshHostResult(host.Hostname, SshHostStatus.NotPermitted)
                {
                    Error = $"Not permitted: {decision?.Reason ?? "no decision was made for this host"}.",
                };
                continue;
            }

            var (target, targetError) = SshTarget.For(host, request.User, request.Port, _options.DefaultUser);
            if (target is null)
            {
                results[host.Hostname] = new SshHostResult(host.Hostname, SshHostStatus.Invalid) { Error = $"Cannot connect to {host.Hostname}: {targetError}." };
                continue;
            }

            targets.Add(target);
        }

        foreach (var refused in results.Values)
        {
            Progress(context.Output, refused);
        }

        if (targets.Count > 0)
        {
            var keyName = request.Key ?? _options.DefaultKey;
            if (keyName is null)
            {
                return Failed("No key to log in with: give 'key' (the name of a system datastore secret holding the private key) or set OpsRobot:Ssh:DefaultKey.");
            }

            var (keyText, keyError) = await _keys.GetAsync(keyName, cancellationToken).ConfigureAwait(false);
            if (keyText is null)
            {
                return Failed($"Cannot use key '{keyName}': {keyError}.");
            }

            var (keyFile, fileError) = SshKeyFile.Create(keyText, _options.KeyDirectory);
            if (keyFile is null)
            {
                return Failed($"Cannot use key '{keyName}': it {fileError}.");
            }

            using (keyFile)
            {
                var client = new SshClient(_options, _options.KnownHostsFile, _time);
                LogStarting(_logger, context.ExecutionId, context.Action.Ref, targets.Count, request.Concurrency);
                using var slots = new SemaphoreSlim(request.Concurrency);
                var runs = targets.Select(async target =>
                {
                    try
                    {
                        await slots.WaitAsync(cancellationToken).ConfigureAwait(false);
                    }
                    catch (OperationCanceledException)
                    {
                        return new SshHostResult(target.Hostname, SshHostStatus.Canceled) { Address = target.Address, Error = "Canceled before it started." };
                    }

                    try
                    {
                        var result = await client.RunAsync(target, keyFile.Path, remoteCommand, stdin, request.Timeout, cancellationToken).ConfigureAwait(false);
                        Progress(context.Output, result);
                        return result;
                    }
                    finally
                    {
                        slots.Release();
                    }
                }).ToList();
                foreach (var result in await Task.WhenAll(runs).ConfigureAwait(false))
                {
                    results[result.Hostname] = result;
                }
            }
        }

        var ordered = request.Hosts is { } named
            ? [.. named.Select(n => results[Canonical(n, hosts)])]
            : hosts.Select(h => results[h.Hostname]).ToList();
        return Summarize(ordered, cancellationToken.IsCancellationRequested);
    }

    /// <summary>The hosts to run on, the names the CMDB does not know, or a reason to refuse the whole run.</summary>
    private async Task<(List<HostRecord> Hosts, List<string> Unknown, string? Error)> SelectAsync(SshRequest request, CancellationToken cancellationToken)
    {
        var hosts = new List<HostRecord>();
        var unknown = new List<string>();
        if (request.Hosts is { } names)
        {
            foreach (var name in names)
            {
                var host = await _inventory!.FindAsync(name, cancellationToken).ConfigureAwait(false);
                if (host is null)
                {
                    unknown.Add(name);
                }
                else if (!hosts.Any(h => h.Hostname == host.Hostname))
                {
                    hosts.Add(host);
                }
            }

            return (hosts, unknown, null);
        }

        var selected = await _inventory!.QueryAsync(new HostQuery(Application: request.Application, Environment: request.EnvironmentName, Tags: request.Tags), cancellationToken).ConfigureAwait(false);
        if (selected.Count == 0)
        {
            return (hosts, unknown, $"No host in the CMDB matches {request.DescribeSelection()}.");
        }

        if (selected.Count > _options.MaxHosts)
        {
            return (hosts, unknown, string.Create(CultureInfo.InvariantCulture,
                $"{request.DescribeSelection()} selects {selected.Count} hosts; one run may touch at most {_options.MaxHosts} (OpsRobot:Ssh:MaxHosts). Narrow the selection."));
        }

        hosts.AddRange(selected);
        return (hosts, unknown, null);
    }

    /// <summary>A name as typed, mapped to the CMDB's spelling of it when the CMDB knows it.</summary>
    private static string Canonical(string name, List<HostRecord> hosts) =>
        hosts.FirstOrDefault(h => string.Equals(h.Hostname, name, StringComparison.OrdinalIgnoreCase))?.Hostname ?? name;

    private static RunnerResult Summarize(List<SshHostResult> results, bool canceled)
    {
        var counts = new JsonObject { ["total"] = results.Count };
        foreach (var group in results.GroupBy(r => r.StatusName, StringComparer.Ordinal))
        {
            counts[group.Key] = group.Count();
        }

        var bad = results.Where(r => r.Status != SshHostStatus.Ok).ToList();
        var json = new JsonObject
        {
            ["hosts"] = new JsonArray([.. results.Select(r => r.ToJson())]),
            ["summary"] = counts,
            ["succeeded"] = bad.Count == 0,
            ["failed"] = bad.Count > 0,
        };
        if (canceled)
        {
            return new RunnerResult(RunnerOutcome.Canceled, json, null, "Canceled; hosts still running were disconnected.");
        }

        if (bad.Count == 0)
        {
            return new RunnerResult(RunnerOutcome.Succeeded, json, 0, null);
        }

        var error = string.Create(CultureInfo.InvariantCulture, $"{bad.Count} of {results.Count} hosts did not succeed: ")
            + string.Join(", ", bad.Take(10).Select(r => $"{r.Hostname} {r.StatusName}")) + (bad.Count > 10 ? ", …" : string.Empty) + ".";
        json["error"] = error;
        var exit = results.Count == 1 ? results[0].ExitCode : null;
        return new RunnerResult(RunnerOutcome.Failed, json, exit, error);
    }

    private static void Progress(IRunnerOutput output, SshHostResult result)
    {
        var exit = result.ExitCode is { } code ? string.Create(CultureInfo.InvariantCulture, $" exit {code},") : string.Empty;
        var line = string.Create(CultureInfo.InvariantCulture, $"{result.Hostname}: {result.StatusName} ({exit.TrimStart()}{(exit.Length > 0 ? " " : string.Empty)}{result.Duration.TotalSeconds:0.0} s)");
        var summary = result.Summary;
        output.Write(OutputKind.Stdout, (summary.Length > 0 ? $"{line} {summary}" : line) + "\n");
    }

    private static RunnerResult Failed(string error) => new(RunnerOutcome.Failed, new JsonObject { ["error"] = error }, null, error);

    [LoggerMessage(EventId = 8301, Level = LogLevel.Information, Message = "Execution {ExecutionId} of {ActionRef}: ssh to {Count} hosts, {Concurrency} at a time")]
    private static partial void LogStarting(ILogger logger, string executionId, string actionRef, int count, int concurrency);
}

/// <summary>The runner parameters of one run, checked.</summary>
internal sealed record SshRequest
{
    public IReadOnlyList<string>? Hosts { get; init; }

    public string? Application { get; init; }

    public string? EnvironmentName { get; init; }

    public IReadOnlyList<string>? Tags { get; init; }

    public string? Command { get; init; }

    public IReadOnlyList<string> Arguments { get; init; } = [];

    public int Concurrency { get; init; }

    public TimeSpan Timeout { get; init; }

    public string? User { get; init; }

    public int? Port { get; init; }

    public string? Key { get; init; }

    public string? WorkingDirectory { get; init; }

    public IReadOnlyList<KeyValuePair<string, string>> Environment { get; init; } = [];

    public string DescribeSelection() => string.Join(", ", new[]
    {
        Application is null ? null : $"app={Application}",
        EnvironmentName is null ? null : $"env={EnvironmentName}",
        Tags is null or { Count: 0 } ? null : $"tags={string.Join(',', Tags)}",
    }.Where(s => s is not null));

    public static (SshRequest? Request, string? Error) Parse(IReadOnlyDictionary<string, JsonNode?> parameters, SshOptions options)
    {
        if (RunnerParameters.Get(parameters, "private_key") is not null || RunnerParameters.Get(parameters, "password") is not null)
        {
            return (null, "The ssh runner takes no key or password in its parameters: store the private key as a datastore secret and name it with 'key'.");
        }

        if (!RunnerParameters.TryGetStringList(parameters, "hosts", commaSeparated: true, out var hosts, out var error)
            || !TryString(parameters, "app", out var app, out error)
            || !TryString(parameters, "env", out var env, out error)
            || !RunnerParameters.TryGetStringList(parameters, "tags", commaSeparated: true, out var tags, out error)
            || !TryString(parameters, "cmd", out var cmd, out error)
            || !RunnerParameters.TryGetStringList(parameters, "args", commaSeparated: false, out var args, out error)
            || !TryString(parameters, "user", out var user, out error)
            || !TryString(parameters, "key", out var key, out error)
            || !TryString(parameters, "cwd", out var cwd, out error)
            || !RunnerParameters.TryGetNumber(parameters, "concurrency", out var concurrency, out error)
            || !RunnerParameters.TryGetNumber(parameters, "timeout", out var timeout, out error)
            || !RunnerParameters.TryGetNumber(parameters, "port", out var port, out error))
        {
            return (null, error);
        }

        // StackStorm's names for the same things.
        if (user is null && !TryString(parameters, "username", out user, out error))
        {
            return (null, error);
        }

        if (concurrency is null && !RunnerParameters.TryGetNumber(parameters, "parallel", out concurrency, out error))
        {
            return (null, error);
        }

        hosts = hosts?.Select(h => h.Trim()).Where(h => h.Length > 0).ToList();
        var selecting = app is not null || env is not null || tags is { Count: > 0 };
        if (hosts is { Count: > 0 } && selecting)
        {
            return (null, "Give either 'hosts' or a CMDB selection ('app', 'env', 'tags'), not both.");
        }

        if (hosts is not { Count: > 0 } && !selecting)
        {
            return (null, "Name the hosts: 'hosts' (host names), or a CMDB selection with 'app', 'env' and/or 'tags'.");
        }

        if (hosts is { Count: > 0 } && hosts.Count > options.MaxHosts)
        {
            return (null, string.Create(CultureInfo.InvariantCulture, $"{hosts.Count} hosts were named; one run may touch at most {options.MaxHosts}."));
        }

        if (hosts?.FirstOrDefault(h => !SshTarget.IsHostname(h)) is { } badHost)
        {
            return (null, $"'{Shorten(badHost)}' is not a host name (letters, digits, '.', '-', '_').");
        }

        var parallel = concurrency ?? options.DefaultConcurrency;
        if (parallel is < 1 || parallel != Math.Floor(parallel))
        {
            return (null, "Parameter 'concurrency' must be a whole number of at least 1.");
        }

        if (timeout is { } t && !(t > 0 && t <= 86_400))
        {
            return (null, "Parameter 'timeout' must be a positive number of seconds (at most a day): the time each host gets.");
        }

        if (port is { } p && (p is < 1 or > 65535 || p != Math.Floor(p)))
        {
            return (null, "Parameter 'port' must be a TCP port, 1-65535.");
        }

        if (user is not null && !SshTarget.IsUser(user))
        {
            return (null, "Parameter 'user' must be a plain login name (lower-case letters, digits, '_', '.', '-').");
        }

        if (cwd is not null && (cwd.Length == 0 || cwd.Contains('\0', StringComparison.Ordinal)))
        {
            return (null, "Parameter 'cwd' must be a folder path on the hosts.");
        }

        var environment = new List<KeyValuePair<string, string>>();
        if (RunnerParameters.Get(parameters, "env_vars") is { } envVars)
        {
            if (envVars is not JsonObject map)
            {
                return (null, "Parameter 'env_vars' must be an object of variable names to values.");
            }

            foreach (var (name, value) in map)
            {
                if (!IsVariableName(name))
                {
                    return (null, $"'{Shorten(name)}' in 'env_vars' is not a variable name (letters, digits and '_', not starting with a digit).");
                }

                environment.Add(new(name, value is null ? string.Empty : RunnerParameters.ToText(value)));
            }
        }

        return (new SshRequest
        {
            Hosts = hosts is { Count: > 0 } ? hosts.Select(h => h.ToLowerInvariant()).Distinct(StringComparer.Ordinal).ToList() : null,
            Application = app,
            EnvironmentName = env,
            Tags = tags,
            Command = cmd,
            Arguments = args ?? [],
            Concurrency = (int)Math.Min(parallel, options.MaxConcurrency),
            Timeout = timeout is { } seconds ? TimeSpan.FromSeconds(seconds) : options.DefaultHostTimeout,
            User = user,
            Port = port is { } pp ? (int)pp : null,
            Key = key,
            WorkingDirectory = cwd,
            Environment = environment,
        }, null);
    }

    private static bool IsVariableName(string name) =>
        name.Length is > 0 and <= 128 && (char.IsAsciiLetter(name[0]) || name[0] == '_') && name.All(c => char.IsAsciiLetterOrDigit(c) || c == '_');

    private static string Shorten(string text) => text.Length > 40 ? string.Concat(text.AsSpan(0, 39), "…") : text;

    /// <summary>
    /// A string parameter, where an empty string counts as not given: an alias's optional <c>{{user}}</c> renders as
    /// an empty string, and that must mean "the default user", not a login named "".
    /// </summary>
    private static bool TryString(IReadOnlyDictionary<string, JsonNode?> parameters, string name, out string? value, out string? error)
    {
        if (!RunnerParameters.TryGetString(parameters, name, out value, out error))
        {
            return false;
        }

        value = string.IsNullOrEmpty(value) ? null : value;
        return true;
    }
}
