using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OpsRobot.Core.Actions;
using OpsRobot.Core.Cmdb;
using OpsRobot.Core.Deployments;
using OpsRobot.Integrations.Secrets;
using OpsRobot.Integrations.Ssh;
using OpsRobot.Runners;

namespace OpsRobot.Integrations.Deploy;

/// <summary>
/// The deploy action family (runner <c>deploy</c>), by its <c>operation</c> parameter: <c>deploy</c> an application
/// version to an environment, <c>rollback</c> (deploy the version that was there before), <c>status</c> (what is
/// deployed where). A deployment goes to every host of the app's node in that environment, all of which the
/// requester must hold; it is recorded (who, when, back-end, previous version, outcome) before the back-end starts.
/// Production environments (<see cref="DeployOptions.ProductionEnvironments"/>) are refused unless the action says
/// <c>production: true</c>, which the pack's sudo actions do.
/// </summary>
public sealed partial class DeployRunner : IRunner
{
    private readonly DeployOptions _options;
    private readonly SshOptions _ssh;
    private readonly IDeploymentStore? _store;
    private readonly IHostInventory? _inventory;
    private readonly IHostAccessPolicy _access;
    private readonly ISecretSource _keys;
    private readonly IReadOnlyList<IDeployBackend> _backends;
    private readonly TimeProvider _time;
    private readonly ILogger<DeployRunner> _logger;

    public DeployRunner(
        IOptions<DeployOptions> options, IOptions<SshOptions> ssh, IHostAccessPolicy access, ISecretSource keys, IEnumerable<IDeployBackend> backends,
        TimeProvider time, ILogger<DeployRunner> logger, IDeploymentStore? store = null, IHostInventory? inventory = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(ssh);
        _options = options.Value;
        _ssh = ssh.Value;
        _access = access;
        _keys = keys;
        _backends = [.. backends];
        _time = time;
        _logger = logger;
        _store = store;
        _inventory = inventory;
    }

    public IReadOnlyList<string> Names { get; } = ["deploy"];

    public IEnumerable<string> Validate(ActionDefinition action)
    {
        ArgumentNullException.ThrowIfNull(action);
        var operation = action.Parameters.FirstOrDefault(p => p.Name == "operation");
        if (operation?.Default is not JsonValue value || !value.TryGetValue<string>(out var name) || name is not ("deploy" or "rollback" or "status") || !operation.Immutable)
        {
            yield return "A deploy action needs an immutable 'operation' parameter whose default is deploy, rollback or status.";
        }
    }

    public async Task<RunnerResult> RunAsync(RunnerContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (_store is null)
        {
            return Failed("Deployments cannot be recorded in this process (no deployment store), so none is run.");
        }

        var operation = Text(context.Parameters, "operation");
        return operation switch
        {
            "status" => await StatusAsync(context, cancellationToken).ConfigureAwait(false),
            "deploy" or "rollback" => await DeployAsync(context, operation, cancellationToken).ConfigureAwait(false),
            _ => Failed("Parameter 'operation' must be deploy, rollback or status."),
        };
    }

    private async Task<RunnerResult> StatusAsync(RunnerContext context, CancellationToken cancellationToken)
    {
        var target = Text(context.Parameters, "target") ?? Text(context.Parameters, "app");
        if (target is not null && !IsName(target))
        {
            return Failed("Give an application or an environment name (lower-case letters, digits, '-', '_').");
        }

        var rows = await _store!.CurrentAsync(target, null, cancellationToken).ConfigureAwait(false);
        var by = "app";
        if (rows.Count == 0 && target is not null)
        {
            rows = await _store.CurrentAsync(null, target, cancellationToken).ConfigureAwait(false);
            by = "env";
        }

        var list = new JsonArray([.. rows.Select(r => new JsonObject
        {
            ["app"] = r.App,
            ["env"] = r.Environment,
            ["version"] = r.Version,
            ["previous_version"] = r.PreviousVersion,
            ["kind"] = r.Kind,
            ["backend"] = r.Backend,
            ["by"] = r.RequestedBy,
            ["at"] = r.EndedAt?.ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture),
            ["execution_id"] = r.ExecutionId,
        })]);
        foreach (var r in rows)
        {
            context.Output.Write(OutputKind.Stdout, $"{r.App} {r.Environment}: {r.Version}\n");
        }

        return new RunnerResult(RunnerOutcome.Succeeded, new JsonObject { ["query"] = target, ["by"] = target is null ? null : by, ["deployments"] = list }, 0, null);
    }

    private async Task<RunnerResult> DeployAsync(RunnerContext context, string operation, CancellationToken cancellationToken)
    {
        var app = Text(context.Parameters, "app");
        var environment = Text(context.Parameters, "env");
        var version = Text(context.Parameters, "version");
        var production = RunnerParameters.IsTrue(context.Parameters, "production");
        if (app is null || !IsName(app))
        {
            return Failed("Parameter 'app' must name an application (lower-case letters, digits, '-', '_').");
        }

        if (environment is null || !IsName(environment))
        {
            return Failed("Parameter 'env' must name an environment (lower-case letters, digits, '-', '_').");
        }

        var isProduction = _options.ProductionEnvironments.Contains(environment, StringComparer.Ordinal);
        if (isProduction && !production)
        {
            return Failed($"{environment} is a production environment: this is a sudo command. Say `!sudo {(operation == "deploy" ? $"deploy {app} {version} to" : $"rollback {app} in")} {environment}`.");
        }

        if (!isProduction && production)
        {
            return Failed($"{environment} is not a production environment ({string.Join(", ", _options.ProductionEnvironments)}); use the plain {operation} command.");
        }

        if (!_options.Apps.TryGetValue(app, out var settings))
        {
            return Failed($"{app} is not a deployable application: configure it under OpsRobot:Deploy:Apps:{app} (back-end, playbook).");
        }

        var backend = _backends.FirstOrDefault(b => string.Equals(b.Name, settings.Backend, StringComparison.Ordinal));
        if (backend is null)
        {
            return Failed($"{app} is set to deploy with '{settings.Backend}', which this OpsRobot does not have (available: {string.Join(", ", _backends.Select(b => b.Name))}).");
        }

        var history = await _store!.HistoryAsync(app, environment, 200, cancellationToken).ConfigureAwait(false);
        var current = history.FirstOrDefault(h => h.Status == DeploymentStatus.Succeeded);
        if (operation == "rollback")
        {
            if (current is null)
            {
                return Failed($"Nothing was ever deployed of {app} in {environment}, so there is nothing to roll back.");
            }

            // After a rollback, the next one goes one step further back: to what preceded the deploy it restored.
            var basis = current.Kind == "rollback"
                ? history.FirstOrDefault(h => h.Status == DeploymentStatus.Succeeded && h.Kind == "deploy" && h.Version == current.Version) ?? current
                : current;
            version = basis.PreviousVersion;
            if (version is null)
            {
                return Failed($"{app} {current.Version} is the first version recorded in {environment}; there is no earlier version to roll back to.");
            }
        }
        else if (version is null || !VersionPattern().IsMatch(version))
        {
            return Failed("Parameter 'version' must be a version (letters, digits, '.', '-', '+', '_'; at most 64 characters).");
        }

        if (_inventory is null)
        {
            return Failed("No CMDB is configured, so the hosts to deploy to cannot be found.");
        }

        var node = settings.Node ?? app;
        var hosts = await _inventory.QueryAsync(new HostQuery(Application: node, Environment: environment), cancellationToken).ConfigureAwait(false);
        if (hosts.Count == 0)
        {
            return Failed($"The CMDB has no host of {node} in {environment}.");
        }

        // All or nothing: a deployment to part of an environment leaves it inconsistent.
        var decisions = await _access.AuthorizeAsync(context.Requester, context.Action.Ref, hosts, cancellationToken).ConfigureAwait(false);
        var refused = hosts.Where(h => decisions.FirstOrDefault(d => d.Hostname == h.Hostname) is not { Allowed: true }).ToList();
        if (refused.Count > 0)
        {
            var reasons = string.Join("; ", refused.Take(5).Select(h => $"{h.Hostname}: {decisions.FirstOrDefault(d => d.Hostname == h.Hostname)?.Reason ?? "no decision"}"));
            return Failed($"Not permitted on {refused.Count} of the {hosts.Count} hosts of {app} in {environment} ({reasons}); nothing was deployed.");
        }

        var targets = new List<SshTarget>();
        SshKeyFile? keyFile = null;
        if (backend.UsesSsh)
        {
            foreach (var host in hosts)
            {
                var (target, error) = SshTarget.For(host, settings.User, port: null, _ssh.DefaultUser);
                if (target is null)
                {
                    return Failed($"Cannot deploy to {host.Hostname}: {error}. Nothing was deployed.");
                }

                targets.Add(target);
            }

            var keyName = settings.Key ?? _ssh.DefaultKey;
            if (keyName is null)
            {
                return Failed($"No SSH key for {app}: set OpsRobot:Deploy:Apps:{app}:Key or OpsRobot:Ssh:DefaultKey to a datastore secret's name.");
            }

            var (keyText, keyError) = await _keys.GetAsync(keyName, cancellationToken).ConfigureAwait(false);
            if (keyText is null)
            {
                return Failed($"Cannot use key '{keyName}': {keyError}.");
            }

            (keyFile, var fileError) = SshKeyFile.Create(keyText, _ssh.KeyDirectory);
            if (keyFile is null)
            {
                return Failed($"Cannot use key '{keyName}': it {fileError}.");
            }
        }

        using (keyFile)
        {
            var previous = current?.Version;
            var id = await _store.StartAsync(new DeploymentRecord
            {
                App = app,
                Version = version,
                Environment = environment,
                Kind = operation,
                Backend = backend.Name,
                Status = DeploymentStatus.Running,
                RequestedBy = context.Requester?.UserName ?? "unknown",
                ExecutionId = long.TryParse(context.ExecutionId, NumberStyles.None, CultureInfo.InvariantCulture, out var executionId) ? executionId : null,
                PreviousVersion = previous,
                StartedAt = _time.GetUtcNow(),
            }, cancellationToken).ConfigureAwait(false);
            var verb = operation == "deploy" ? "Deploying" : "Rolling back";
            context.Output.Write(OutputKind.Stdout, string.Create(CultureInfo.InvariantCulture,
                $"{verb} {app} to {version} in {environment} on {hosts.Count} hosts ({string.Join(", ", hosts.Take(10).Select(h => h.Hostname))}{(hosts.Count > 10 ? ", …" : string.Empty)}) with {backend.Name}; was {previous ?? "nothing"}.\n"));
            LogDeploying(_logger, context.ExecutionId, app, version, environment, backend.Name);

            DeployOutcome outcome;
            try
            {
                outcome = await backend.DeployAsync(new DeployRequest(app, version, environment, previous, hosts, settings)
                {
                    ExecutionId = context.ExecutionId,
                    PackDirectory = context.Action.PackDirectory,
                    Targets = targets,
                    KeyPath = keyFile?.Path,
                }, context.Output, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                await _store.FinishAsync(id, DeploymentStatus.Failed, _time.GetUtcNow(), "Canceled while it ran.", CancellationToken.None).ConfigureAwait(false);
                return new RunnerResult(RunnerOutcome.Canceled, null, null, "Canceled while it ran; the hosts may be part way through.");
            }

            await _store.FinishAsync(id, outcome.Succeeded ? DeploymentStatus.Succeeded : DeploymentStatus.Failed, _time.GetUtcNow(), outcome.Error, CancellationToken.None).ConfigureAwait(false);
            var result = new JsonObject
            {
                ["deployment_id"] = id,
                ["operation"] = operation,
                ["app"] = app,
                ["version"] = version,
                ["env"] = environment,
                ["previous_version"] = previous,
                ["backend"] = backend.Name,
                ["succeeded"] = outcome.Succeeded,
                ["hosts"] = new JsonArray([.. hosts.Select(h => new JsonObject
                {
                    ["host"] = h.Hostname,
                    ["status"] = outcome.Hosts.TryGetValue(h.Hostname, out var word) ? word : outcome.Succeeded ? "ok" : "unknown",
                })]),
            };
            if (outcome.Error is not null)
            {
                result["error"] = outcome.Error;
            }

            return new RunnerResult(outcome.Succeeded ? RunnerOutcome.Succeeded : RunnerOutcome.Failed, result, outcome.Succeeded ? 0 : null, outcome.Error);
        }
    }

    private static bool IsName(string text) => NamePattern().IsMatch(text);

    /// <summary>A string parameter, trimmed; null when absent, empty or not a string (the caller then says what it needs).</summary>
    private static string? Text(IReadOnlyDictionary<string, JsonNode?> parameters, string name) =>
        RunnerParameters.GetString(parameters, name) is { Length: > 0 } text ? text.Trim() : null;

    private static RunnerResult Failed(string error) => new(RunnerOutcome.Failed, new JsonObject { ["error"] = error }, null, error);

    [GeneratedRegex("^[a-z0-9][a-z0-9_-]{0,62}$", RegexOptions.CultureInvariant, matchTimeoutMilliseconds: 100)]
    private static partial Regex NamePattern();

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._+-]{0,63}$", RegexOptions.CultureInvariant, matchTimeoutMilliseconds: 100)]
    private static partial Regex VersionPattern();

    [LoggerMessage(EventId = 8402, Level = LogLevel.Information, Message = "Execution {ExecutionId}: deploying {App} {Version} to {Environment} with {Backend}")]
    private static partial void LogDeploying(ILogger logger, string executionId, string app, string version, string environment, string backend);
}
