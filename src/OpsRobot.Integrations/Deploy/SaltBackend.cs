using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OpsRobot.Core.Actions;
using OpsRobot.Integrations.Secrets;

namespace OpsRobot.Integrations.Deploy;

/// <summary>
/// Deploys with SaltStack through salt-api's REST interface, as documented for <c>rest_cherrypy</c>:
/// <c>POST /login</c> (external auth) for a token; <c>POST /</c> with the <c>local_async</c> client running
/// <c>state.apply STATE</c> on the CMDB's hosts as a list of minion ids, with <c>app</c>, <c>version</c>,
/// <c>env</c> and <c>previous_version</c> as pillar data; then <c>GET /jobs/{jid}</c> until every minion has
/// returned, streaming a line per minion as it does. A minion fails when its return code is not 0, salt says it
/// did not succeed, or any state in its return has <c>result: false</c>.
/// </summary>
public sealed partial class SaltBackend(IHttpClientFactory clients, IOptions<DeployOptions> options, ISecretSource secrets, TimeProvider time, ILogger<SaltBackend> logger) : IDeployBackend
{
    /// <summary>The named HTTP client (its logging removed: URLs and headers carry the token).</summary>
    public const string ClientName = "opsrobot-salt-api";

    public string Name => "salt";

    public bool UsesSsh => false;

    public async Task<DeployOutcome> DeployAsync(DeployRequest request, IRunnerOutput output, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(output);
        var salt = options.Value.Salt;
        if (salt.Url is null || salt.Username is null || salt.PasswordKey is null)
        {
            return Failed("salt-api is not configured: set OpsRobot:Deploy:Salt:Url, Username and PasswordKey (a datastore secret's name).");
        }

        var (password, passwordError) = await secrets.GetAsync(salt.PasswordKey, cancellationToken).ConfigureAwait(false);
        if (password is null)
        {
            return Failed($"Cannot use the salt-api password '{salt.PasswordKey}': {passwordError}.");
        }

        // Relative paths (login, jobs/…) resolve under the configured base, which may carry a path of its own.
        var baseUri = salt.Url.AbsoluteUri.EndsWith('/') ? salt.Url : new Uri(salt.Url.AbsoluteUri + "/");
        using var http = clients.CreateClient(ClientName);
        var minions = request.Hosts.Select(h => h.Hostname).ToList();
        try
        {
            // 1. Log in.
            var login = await SendAsync(http, HttpMethod.Post, new Uri(baseUri, "login"), null,
                new JsonObject { ["username"] = salt.Username, ["password"] = password, ["eauth"] = salt.Eauth }, salt, cancellationToken).ConfigureAwait(false);
            if (login.Status == HttpStatusCode.Unauthorized)
            {
                return Failed($"salt-api refused the login of {salt.Username} ({salt.Eauth}): check the user, its password secret and its external-auth permissions.");
            }

            var token = (login.Body?["return"] as JsonArray)?.FirstOrDefault()?["token"]?.GetValue<string>();
            if (login.Status != HttpStatusCode.OK || string.IsNullOrEmpty(token))
            {
                return Failed(string.Create(CultureInfo.InvariantCulture, $"salt-api's login answered {(int)login.Status} without a token: check that OpsRobot:Deploy:Salt:Url points at salt-api (rest_cherrypy) and see its log."));
            }

            // 2. Start state.apply on the minions, asynchronously.
            var state = request.Settings.State ?? request.App;
            var lowstate = new JsonArray(new JsonObject
            {
                ["client"] = "local_async",
                ["tgt"] = new JsonArray([.. minions.Select(m => JsonValue.Create(m))]),
                ["tgt_type"] = "list",
                ["fun"] = "state.apply",
                ["arg"] = new JsonArray(state),
                ["kwarg"] = new JsonObject
                {
                    ["pillar"] = new JsonObject
                    {
                        ["app"] = request.App,
                        ["version"] = request.Version,
                        ["env"] = request.Environment,
                        ["previous_version"] = request.PreviousVersion,
                        ["opsrobot_execution"] = request.ExecutionId,
                    },
                },
            });
            var started = await SendAsync(http, HttpMethod.Post, baseUri, token, lowstate, salt, cancellationToken).ConfigureAwait(false);
            var job = (started.Body?["return"] as JsonArray)?.FirstOrDefault() as JsonObject;
            var jid = job?["jid"]?.GetValue<string>();
            if (started.Status != HttpStatusCode.OK || string.IsNullOrEmpty(jid))
            {
                return Failed(string.Create(CultureInfo.InvariantCulture, $"salt-api did not start the job (HTTP {(int)started.Status}{(started.Status == HttpStatusCode.Unauthorized ? ": the user may not run state.apply on these minions" : "; see salt-api's log")})."));
            }

            var targeted = (job!["minions"] as JsonArray)?.Select(m => m?.GetValue<string>()).OfType<string>().ToList() ?? [];
            var missing = minions.Except(targeted, StringComparer.Ordinal).ToList();
            output.Write(OutputKind.Stdout, $"salt job {jid}: state.apply {state} on {targeted.Count} minions{(missing.Count > 0 ? $"; not answering to salt: {string.Join(", ", missing)}" : string.Empty)}\n");
            LogStarted(logger, request.ExecutionId, jid, targeted.Count);
            if (targeted.Count == 0)
            {
                return Failed($"No minion matched: salt knows none of {string.Join(", ", minions)} (minion ids must be the CMDB host names).");
            }

            // 3. Follow the job until every minion has returned (the action's timeout ends the wait).
            var results = new Dictionary<string, string>(StringComparer.Ordinal);
            var problems = new List<string>();
            while (true)
            {
                var lookup = await SendAsync(http, HttpMethod.Get, new Uri(baseUri, "jobs/" + Uri.EscapeDataString(jid)), token, null, salt, cancellationToken).ConfigureAwait(false);
                if (lookup.Status != HttpStatusCode.OK)
                {
                    return new DeployOutcome(false, string.Create(CultureInfo.InvariantCulture, $"salt-api's job lookup for {jid} answered HTTP {(int)lookup.Status}; the job may still be running in Salt: check it there (salt-run jobs.lookup_jid {jid}) before deploying again."), results);
                }

                var info = (lookup.Body?["info"] as JsonArray)?.FirstOrDefault() as JsonObject;
                var returned = info?["Result"] as JsonObject ?? new JsonObject();
                foreach (var (minion, value) in returned)
                {
                    if (results.ContainsKey(minion) || !targeted.Contains(minion, StringComparer.Ordinal))
                    {
                        continue;
                    }

                    var (ok, detail) = Judge(value);
                    results[minion] = ok ? "ok" : "failed";
                    if (!ok)
                    {
                        problems.Add($"{minion}: {detail}");
                    }

                    output.Write(OutputKind.Stdout, $"{minion}: {(ok ? "ok" : "failed")}{(detail.Length > 0 ? $" ({detail})" : string.Empty)}\n");
                }

                if (targeted.All(results.ContainsKey))
                {
                    break;
                }

                await Task.Delay(salt.PollInterval, time, cancellationToken).ConfigureAwait(false);
            }

            foreach (var minion in missing)
            {
                results[minion] = "unreachable";
            }

            var bad = results.Where(r => r.Value != "ok").Select(r => r.Key).ToList();
            return bad.Count == 0
                ? new DeployOutcome(true, null, results)
                : new DeployOutcome(false, $"salt job {jid} did not succeed on {string.Join(", ", bad)}{(problems.Count > 0 ? ": " + string.Join("; ", problems.Take(5)) : string.Empty)}.", results);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return Failed(string.Create(CultureInfo.InvariantCulture, $"salt-api at {salt.Url} did not answer within {salt.RequestTimeout.TotalSeconds:0} s."));
        }
        catch (HttpRequestException ex)
        {
            return Failed($"Cannot reach salt-api at {salt.Url}: {ex.Message}");
        }
        catch (JsonException)
        {
            return Failed($"salt-api at {salt.Url} answered something that is not its JSON.");
        }
        catch (InvalidOperationException ex)
        {
            return Failed($"salt-api at {salt.Url} answered in an unexpected shape: {ex.Message}");
        }
    }

    /// <summary>A minion's return: its retcode and success flag, and any state that says <c>result: false</c>.</summary>
    internal static (bool Ok, string Detail) Judge(JsonNode? value)
    {
        if (value is not JsonObject minion)
        {
            return (false, "no return");
        }

        var retcode = minion["retcode"] is JsonValue r && r.TryGetValue<int>(out var code) ? code : 0;
        var success = minion["success"] is not JsonValue s || !s.TryGetValue<bool>(out var flag) || flag;
        var failed = new List<string>();
        switch (minion["return"])
        {
            case JsonObject states:
                foreach (var (id, chunk) in states)
                {
                    if (chunk is JsonObject st && st["result"] is JsonValue result && result.TryGetValue<bool>(out var ok) && !ok)
                    {
                        failed.Add($"{(st["__id__"]?.GetValue<string>() ?? id)}: {st["comment"]?.ToString() ?? "failed"}");
                    }
                }

                break;
            case JsonArray errors:
                // A state that does not compile returns a list of error strings.
                failed.AddRange(errors.Select(e => e?.ToString() ?? string.Empty).Where(e => e.Length > 0));
                break;
            case JsonValue text when text.TryGetValue<string>(out var message) && retcode != 0:
                failed.Add(message);
                break;
            default:
                break;
        }

        var good = retcode == 0 && success && failed.Count == 0;
        var detail = failed.Count > 0 ? string.Join("; ", failed.Take(3)) : good ? string.Empty : string.Create(CultureInfo.InvariantCulture, $"retcode {retcode}");
        return (good, detail);
    }

    private static async Task<(HttpStatusCode Status, JsonNode? Body)> SendAsync(HttpClient http, HttpMethod method, Uri uri, string? token, JsonNode? body, SaltApiOptions salt, CancellationToken cancellationToken)
    {
        using var message = new HttpRequestMessage(method, uri);
        message.Headers.Accept.ParseAdd("application/json");
        if (token is not null)
        {
            message.Headers.Add("X-Auth-Token", token);
        }

        if (body is not null)
        {
            message.Content = JsonContent.Create(body);
        }

        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        limit.CancelAfter(salt.RequestTimeout);
        using var response = await http.SendAsync(message, limit.Token).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode)
        {
            return (response.StatusCode, null);
        }

        var json = await response.Content.ReadFromJsonAsync<JsonNode>(limit.Token).ConfigureAwait(false);
        return (response.StatusCode, json);
    }

    private static DeployOutcome Failed(string error) => new(false, error, new Dictionary<string, string>(StringComparer.Ordinal));

    [LoggerMessage(EventId = 8410, Level = LogLevel.Information, Message = "Execution {ExecutionId}: salt job {Jid} started on {Count} minions")]
    private static partial void LogStarted(ILogger logger, string executionId, string jid, int count);
}
