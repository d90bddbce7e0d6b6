using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using OpsRobot.Core.Actions;
using OpsRobot.Core.Executions;
using OpsRobot.Core.Text;
using OpsRobot.Runners;

namespace OpsRobot.Integrations.Nagios;

/// <summary>
/// The <c>nagios</c> runner behind the nagios pack: each action names its <c>operation</c> (an immutable parameter)
/// and the runner calls <see cref="INagiosClient"/>, answering with a readable card in <c>result.text</c> and the
/// data it showed. The author Nagios records is the OpsRobot user who asked (from the execution record), never a
/// value the caller types.
/// </summary>
public sealed class NagiosRunner(INagiosClient nagios, IOptionsMonitor<NagiosOptions> options, TimeProvider time, IServiceProvider services) : IRunner
{
    /// <summary>What a nagios action can do: the values of its <c>operation</c> parameter.</summary>
    public static readonly IReadOnlyList<string> Operations = ["status", "problems", "ack", "unack", "downtime", "downtime_cancel", "recheck", "notifications"];

    public IReadOnlyList<string> Names { get; } = ["nagios"];

    public IEnumerable<string> Validate(ActionDefinition action)
    {
        ArgumentNullException.ThrowIfNull(action);
        var operation = action.Parameters.FirstOrDefault(p => string.Equals(p.Name, "operation", StringComparison.Ordinal));
        if (operation is null || !operation.Immutable || operation.Default?.GetValueKind() != JsonValueKind.String)
        {
            yield return $"A nagios action needs an immutable string parameter 'operation' whose default is one of: {string.Join(", ", Operations)}.";
        }
        else if (!Operations.Contains(operation.Default.GetValue<string>(), StringComparer.Ordinal))
        {
            yield return $"Unknown nagios operation '{operation.Default.GetValue<string>()}'; the runner knows: {string.Join(", ", Operations)}.";
        }
    }

    public async Task<RunnerResult> RunAsync(RunnerContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        try
        {
            cancellationToken.ThrowIfCancellationRequested();
            var p = new Parameters(context.Parameters);
            var result = p.String("operation") switch
            {
                "status" => await StatusAsync(p, cancellationToken).ConfigureAwait(false),
                "problems" => await ProblemsAsync(cancellationToken).ConfigureAwait(false),
                "ack" => await AcknowledgeAsync(context, p, cancellationToken).ConfigureAwait(false),
                "unack" => await RemoveAcknowledgementAsync(p, cancellationToken).ConfigureAwait(false),
                "downtime" => await DowntimeAsync(context, p, cancellationToken).ConfigureAwait(false),
                "downtime_cancel" => await CancelDowntimeAsync(p, cancellationToken).ConfigureAwait(false),
                "recheck" => await RecheckAsync(p, cancellationToken).ConfigureAwait(false),
                "notifications" => await NotificationsAsync(p, cancellationToken).ConfigureAwait(false),
                var other => throw new NagiosException($"Unknown nagios operation '{other}'; the runner knows: {string.Join(", ", Operations)}."),
            };
            context.Output.Write(OutputKind.Stdout, result["text"]!.GetValue<string>() + "\n");
            return new RunnerResult(RunnerOutcome.Succeeded, result, null, null);
        }
        catch (NagiosException ex)
        {
            context.Output.Write(OutputKind.Stderr, ex.Message + "\n");
            return new RunnerResult(RunnerOutcome.Failed, new JsonObject { ["error"] = ex.Message }, null, ex.Message);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return new RunnerResult(RunnerOutcome.Canceled, null, null, "Canceled.");
        }
        catch (IOException ex)
        {
            var message = $"Reading Nagios's status failed: {ex.Message}";
            context.Output.Write(OutputKind.Stderr, message + "\n");
            return new RunnerResult(RunnerOutcome.Failed, new JsonObject { ["error"] = message }, null, message);
        }
    }

    private async Task<JsonObject> StatusAsync(Parameters p, CancellationToken cancellationToken)
    {
        var status = await nagios.ReadStatusAsync(cancellationToken).ConfigureAwait(false);
        var cards = new NagiosCards(options.CurrentValue, time.GetUtcNow());
        var host = p.OptionalString("host");
        if (host is null)
        {
            return new JsonObject { ["text"] = cards.Overview(status), ["hosts"] = status.Hosts.Count, ["services"] = status.Services.Count };
        }

        var target = NagiosTarget.Of(host, p.OptionalString("service"));
        var known = status.FindHost(target.Host)
            ?? throw new NagiosException($"Nagios has no host '{target.Host}'.");
        if (target.Service is null)
        {
            return new JsonObject
            {
                ["text"] = cards.Host(status, known),
                ["host"] = known.Name,
                ["state"] = known.StateName,
                ["acknowledged"] = known.Acknowledged,
                ["in_downtime"] = known.DowntimeDepth > 0,
            };
        }

        var service = status.FindService(target.Host, target.Service)
            ?? throw new NagiosException($"Host '{target.Host}' has no service '{target.Service}' in Nagios.");
        var ack = status.AcknowledgementOf(service.Host, service.Description);
        return new JsonObject
        {
            ["text"] = cards.Service(status, service),
            ["host"] = service.Host,
            ["service"] = service.Description,
            ["state"] = service.StateName,
            ["output"] = service.Output,
            ["last_check"] = service.LastCheck?.ToString("O", CultureInfo.InvariantCulture),
            ["acknowledged"] = service.Acknowledged,
            ["acknowledged_by"] = service.Acknowledged ? ack?.Author : null,
            ["in_downtime"] = service.DowntimeDepth > 0,
            ["notifications"] = service.NotificationsEnabled,
        };
    }

    private async Task<JsonObject> ProblemsAsync(CancellationToken cancellationToken)
    {
        var status = await nagios.ReadStatusAsync(cancellationToken).ConfigureAwait(false);
        var cards = new NagiosCards(options.CurrentValue, time.GetUtcNow());
        var (text, count) = cards.Problems(status);
        return new JsonObject { ["text"] = text, ["count"] = count };
    }

    private async Task<JsonObject> AcknowledgeAsync(RunnerContext context, Parameters p, CancellationToken cancellationToken)
    {
        var (target, comment, status) = await TargetAndRestAsync(p, cancellationToken, restIsComment: true).ConfigureAwait(false);
        var author = await AuthorAsync(context, cancellationToken).ConfigureAwait(false);
        comment ??= p.OptionalString("comment") ?? "Acknowledged from OpsRobot";
        await nagios.AcknowledgeAsync(target, author, comment, status, cancellationToken).ConfigureAwait(false);
        return Done($"Acknowledged {target} in Nagios as {author}: {comment}", target);
    }

    private async Task<JsonObject> RemoveAcknowledgementAsync(Parameters p, CancellationToken cancellationToken)
    {
        var (target, _, status) = await TargetAndRestAsync(p, cancellationToken).ConfigureAwait(false);
        await nagios.RemoveAcknowledgementAsync(target, status, cancellationToken).ConfigureAwait(false);
        return Done($"Removed the acknowledgement of {target} in Nagios.", target);
    }

    private async Task<JsonObject> DowntimeAsync(RunnerContext context, Parameters p, CancellationToken cancellationToken)
    {
        NagiosTarget target;
        TimeSpan duration;
        string? comment;
        if (p.OptionalString("text") is { } text)
        {
            // From chat: "[service] DURATION [comment]". The first word that reads as a duration ends the service.
            var host = NagiosInput.Host(p.OptionalString("host"));
            var words = text.Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            var at = Array.FindIndex(words, w => DurationText.TryParse(w, out _));
            if (at < 0 || !DurationText.TryParse(words[at], out duration))
            {
                throw new NagiosException("Say how long the downtime lasts, like 30m, 2h or 1d: `!nagios downtime web01 [service] 2h comment`.");
            }

            target = NagiosTarget.Of(host, at == 0 ? null : Unquote(string.Join(' ', words[..at])));
            comment = at + 1 < words.Length ? string.Join(' ', words[(at + 1)..]) : null;
        }
        else
        {
            target = NagiosTarget.Of(p.OptionalString("host"), p.OptionalString("service"));
            var given = p.OptionalString("duration") ?? throw new NagiosException("Give the downtime's duration, like 30m, 2h or 1d.");
            if (!DurationText.TryParse(given, out duration))
            {
                throw new NagiosException(DurationText.NotADuration(given));
            }

            comment = p.OptionalString("comment");
        }

        var author = await AuthorAsync(context, cancellationToken).ConfigureAwait(false);
        comment ??= "Downtime from OpsRobot";
        var request = await nagios.ScheduleDowntimeAsync(target, duration, author, comment, status: null, cancellationToken).ConfigureAwait(false);
        var result = Done(
            $"Scheduled a {DurationText.Format(duration)} downtime for {target} in Nagios, until {request.End.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture)} UTC ({author}: {comment}). `!nagios status {target.Host}` shows its id once Nagios has written its status.",
            target);
        result["start"] = request.Start.ToString("O", CultureInfo.InvariantCulture);
        result["end"] = request.End.ToString("O", CultureInfo.InvariantCulture);
        return result;
    }

    private async Task<JsonObject> CancelDowntimeAsync(Parameters p, CancellationToken cancellationToken)
    {
        var id = NagiosInput.DowntimeId(p.OptionalString("id"));
        var downtime = await nagios.CancelDowntimeAsync(id, cancellationToken).ConfigureAwait(false);
        var what = downtime.Service is null ? downtime.Host : $"{downtime.Host}/{downtime.Service}";
        return new JsonObject
        {
            ["text"] = $"Cancelled downtime #{id} of {what} ({downtime.Author}: {downtime.Comment}).",
            ["id"] = id,
            ["host"] = downtime.Host,
            ["service"] = downtime.Service,
        };
    }

    private async Task<JsonObject> RecheckAsync(Parameters p, CancellationToken cancellationToken)
    {
        var (target, _, status) = await TargetAndRestAsync(p, cancellationToken).ConfigureAwait(false);
        await nagios.RecheckAsync(target, status, cancellationToken).ConfigureAwait(false);
        return Done($"Asked Nagios to check {target} now; `!nagios status {target.Host}{(target.Service is null ? string.Empty : " " + target.Service)}` shows the result in a moment.", target);
    }

    private async Task<JsonObject> NotificationsAsync(Parameters p, CancellationToken cancellationToken)
    {
        var state = p.OptionalString("state")?.ToLowerInvariant();
        var enabled = state switch
        {
            "on" or "enable" or "enabled" => true,
            "off" or "disable" or "disabled" => false,
            _ => throw new NagiosException("Say on or off: `!nagios notifications off web01 [service]`."),
        };
        var (target, _, status) = await TargetAndRestAsync(p, cancellationToken).ConfigureAwait(false);
        await nagios.SetNotificationsAsync(target, enabled, status, cancellationToken).ConfigureAwait(false);
        return Done($"Turned notifications {(enabled ? "on" : "off")} for {target} in Nagios.", target);
    }

    /// <summary>
    /// The host and service from <c>host</c>/<c>service</c>, or from chat's free text after the host: the longest
    /// run of leading words that names one of the host's services is the service (quotes allowed), the rest is the
    /// comment. So <c>!nagios ack web01 Disk Space looking</c> acknowledges "Disk Space", and
    /// <c>!nagios ack web01 looking into it</c> the host. The status data read for that comes back too, for the
    /// client's check of the target (null when nothing was read).
    /// </summary>
    private async Task<(NagiosTarget Target, string? Remainder, NagiosStatus? Status)> TargetAndRestAsync(Parameters p, CancellationToken cancellationToken, bool restIsComment = false)
    {
        if (p.OptionalString("text") is not { } text)
        {
            return (NagiosTarget.Of(p.OptionalString("host"), p.OptionalString("service")), null, null);
        }

        var host = NagiosInput.Host(p.OptionalString("host"));
        var status = await nagios.ReadStatusAsync(cancellationToken).ConfigureAwait(false);
        var known = status.ServicesOf(host).Select(s => s.Description).ToHashSet(StringComparer.Ordinal);
        var (service, rest) = SplitService(text, known);
        var listed = known.Count == 0 ? string.Empty : $" (it has: {string.Join(", ", known.Order(StringComparer.Ordinal).Take(10))})";
        if (service is null && text.TrimStart().StartsWith('"'))
        {
            throw new NagiosException($"Host '{host}' has no service '{NagiosInput.Shown(Unquote(text.Split('"', StringSplitOptions.RemoveEmptyEntries)[0]))}' in Nagios{listed}.");
        }

        if (service is null && restIsComment && status.FindHost(host) is { IsProblem: false } upHost)
        {
            // "!nagios ack web01 dsik looking": the host is fine, so the first word was most likely a mistyped service.
            throw new NagiosException($"{host} is {upHost.StateName}, so there is nothing to acknowledge on the host, and '{NagiosInput.Shown(text.Split(' ', StringSplitOptions.RemoveEmptyEntries)[0])}' is not one of its services{listed}.");
        }

        if (!restIsComment && rest is not null)
        {
            throw service is null
                ? new NagiosException($"Host '{host}' has no service '{NagiosInput.Shown(Unquote(rest))}' in Nagios{listed}.")
                : new NagiosException($"Unexpected words after the service '{service}': '{NagiosInput.Shown(rest)}'.");
        }

        return (NagiosTarget.Of(host, service), rest, status);
    }

    internal static (string? Service, string? Remainder) SplitService(string text, IReadOnlySet<string> services)
    {
        var trimmed = text.Trim();

        // A quoted service ("Disk Space" rest), or the alias parser's leftover of one (Disk Space" rest).
        foreach (var quote in new[] { '"', '\'' })
        {
            var start = trimmed.StartsWith(quote) ? 1 : 0;
            var end = trimmed.IndexOf(quote, start);
            if (end > start && services.Contains(trimmed[start..end].Trim()))
            {
                return (trimmed[start..end].Trim(), NullIfEmpty(trimmed[(end + 1)..]));
            }
        }

        var words = trimmed.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        for (var n = words.Length; n > 0; n--)
        {
            var candidate = string.Join(' ', words[..n]);
            if (services.Contains(candidate))
            {
                return (candidate, NullIfEmpty(string.Join(' ', words[n..])));
            }
        }

        return (null, NullIfEmpty(trimmed));
    }

    private static string? NullIfEmpty(string text) => string.IsNullOrWhiteSpace(text) ? null : text.Trim();

    private static string Unquote(string text) => text.Trim().Trim('"', '\'').Trim();

    private static JsonObject Done(string text, NagiosTarget target) =>
        new() { ["text"] = text, ["host"] = target.Host, ["service"] = target.Service };

    /// <summary>The OpsRobot user who asked for this execution: the author Nagios records.</summary>
    private async Task<string> AuthorAsync(RunnerContext context, CancellationToken cancellationToken)
    {
        // Resolved here, not in the constructor: `packs validate` builds the runners without a store.
        var store = services.GetService<IExecutionStore>();
        if (store is not null && long.TryParse(context.ExecutionId, NumberStyles.None, CultureInfo.InvariantCulture, out var id)
            && await store.GetAsync(id, cancellationToken).ConfigureAwait(false) is { } execution)
        {
            return execution.Requester.UserName;
        }

        throw new NagiosException("Cannot tell who asked for this execution, and Nagios records an author for every change.");
    }

    /// <summary>The execution's parameters, read as the pack declares them (all strings).</summary>
    private sealed class Parameters(IReadOnlyDictionary<string, JsonNode?> values)
    {
        public string String(string name) => OptionalString(name) ?? throw new NagiosException($"The parameter '{name}' is missing.");

        public string? OptionalString(string name)
        {
            if (RunnerParameters.Get(values, name) is not { } node)
            {
                return null;
            }

            if (node.GetValueKind() is JsonValueKind.Array or JsonValueKind.Object)
            {
                throw new NagiosException($"The parameter '{name}' must be text, not {RunnerParameters.Describe(node)}.");
            }

            var text = RunnerParameters.ToText(node);
            return string.IsNullOrWhiteSpace(text) ? null : text.Trim();
        }
    }
}
