using System.Globalization;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Options;
using OpsRobot.Core.Access;
using OpsRobot.Core.Audit;
using OpsRobot.Core.Chat;
using OpsRobot.Core.Commands;
using OpsRobot.Core.Text;

namespace OpsRobot.Core.Alerts;

/// <summary>
/// Who may see and act on an alert. The resource of <c>alert.view</c>, <c>alert.ack</c> and <c>alert.silence</c> is
/// the alert's application node path (<c>(none)</c> when it has no node). Acting on an alert that has a node also
/// needs membership (or ownership) of that node or one above it, as scoped actions do: an operator silences only
/// the alerts of the applications they belong to.
/// </summary>
public sealed class AlertAccess(AccessService access)
{
    /// <summary>The resource an alert's permissions are matched against.</summary>
    public static string Resource(AlertState alert)
    {
        ArgumentNullException.ThrowIfNull(alert);
        return alert.Node ?? "(none)";
    }

    public static bool MaySee(Principal principal, AlertState alert) => AccessService.Check(principal, Permissions.AlertView, Resource(alert)).Allowed;

    /// <summary>Whether <paramref name="principal"/> may ack or silence <paramref name="alert"/>; the refusal explains what is missing.</summary>
    public async Task<AccessDecision> MayActAsync(Principal principal, AlertState alert, string permission, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(principal);
        ArgumentNullException.ThrowIfNull(alert);
        var grant = await access.AuthorizeAsync(principal, permission, Resource(alert), cancellationToken).ConfigureAwait(false);
        if (!grant.Allowed || alert.Node is not { } node || principal.TreeWide)
        {
            return grant;
        }

        var tree = await access.TreeAsync(cancellationToken).ConfigureAwait(false);
        var place = principal.User is null ? null : tree.PlaceOf(principal.User.Id, node);
        if (place is null)
        {
            var owners = tree.NearestOwners(node) is { } o ? $" (its owners are at {o.Path})" : string.Empty;
            return AccessDecision.Deny(DenialKind.Scope, $"{principal.Name} is not a member of {node} or above",
                $"{alert.ShortId} belongs to `{node}`, and you need membership of it{owners} to {permission.Split('.')[1]} its alerts");
        }

        return AccessDecision.Allow($"{grant.Rule}; {place.Value.ToString().ToLowerInvariant()} of {node}");
    }
}

/// <summary>Reads what people type after <c>!ack</c> and <c>!silence</c>.</summary>
public static class AlertArguments
{
    /// <summary>Reads <c>A12</c>, <c>a12</c> or <c>12</c>.</summary>
    public static bool TryParseId(string text, out long id)
    {
        ArgumentNullException.ThrowIfNull(text);
        var t = text.Trim();
        if (t.StartsWith('A') || t.StartsWith('a'))
        {
            t = t[1..];
        }

        return long.TryParse(t, NumberStyles.None, CultureInfo.InvariantCulture, out id) && id > 0;
    }

    /// <summary>Splits off the first word.</summary>
    public static (string First, string Remainder) Split(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var t = text.Trim();
        var space = t.IndexOfAny([' ', '\t']);
        return space < 0 ? (t, string.Empty) : (t[..space], t[(space + 1)..].Trim());
    }
}

/// <summary><c>alerts [node|label=value]</c>: what is firing now, among the alerts the asker may see.</summary>
public sealed class AlertsCommand(IAlertStore store, TimeProvider time) : IRobotCommand
{
    /// <summary>The most alerts listed in one answer.</summary>
    public const int MaxListed = 25;

    public CommandInfo Info { get; } = new("alerts", "alerts", "alerts [NODE|LABEL=VALUE]", "Show the alerts firing now (those you may see), with the ids to ack or silence them.");

    public async ValueTask<OutgoingMessage> ExecuteAsync(CommandContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var filter = context.Arguments.Trim();
        if (filter.Length > 200 || filter.Any(char.IsControl))
        {
            return new OutgoingMessage($"Usage: {Markdown.Code(context.Options.CommandPrefix + Info.Usage)}");
        }

        var now = time.GetUtcNow();
        var firing = await store.ListFiringAsync(10_000, cancellationToken).ConfigureAwait(false);
        var mayShow = firing.Where(a => context.Principal is null || AlertAccess.MaySee(context.Principal, a)).ToList();
        var hidden = firing.Count - mayShow.Count;
        var visible = mayShow.Where(a => Matches(a, filter)).ToList();
        if (visible.Count == 0)
        {
            var none = filter.Length == 0 ? "Nothing is firing" : $"Nothing matching {Markdown.Code(filter)} is firing";
            return new OutgoingMessage(hidden > 0 ? $"{none} that you may see ({hidden.ToString(CultureInfo.InvariantCulture)} firing elsewhere)." : none + ".");
        }

        var lines = visible.OrderByDescending(a => Rank(a.Severity)).ThenBy(a => a.Since).Take(MaxListed).Select(a => "- " + AlertText.Row(a, now)).ToList();
        var head = $"{visible.Count.ToString(CultureInfo.InvariantCulture)} alert{(visible.Count == 1 ? string.Empty : "s")} firing{(filter.Length > 0 ? " matching " + Markdown.Code(filter) : string.Empty)}:";
        if (visible.Count > MaxListed)
        {
            lines.Add($"…and {(visible.Count - MaxListed).ToString(CultureInfo.InvariantCulture)} more; narrow it with {Markdown.Code(context.Options.CommandPrefix + "alerts NODE")} or {Markdown.Code(context.Options.CommandPrefix + "alerts label=value")}.");
        }

        var p = context.Options.CommandPrefix;
        lines.Add($"Act on one with {Markdown.Code(p + "ack A1 [comment]")} or {Markdown.Code(p + "silence A1 2h [comment]")}.");
        return new OutgoingMessage(head + "\n" + string.Join("\n", lines));
    }

    private static bool Matches(AlertState a, string filter)
    {
        if (filter.Length == 0)
        {
            return true;
        }

        var eq = filter.IndexOf('=', StringComparison.Ordinal);
        if (eq > 0)
        {
            return a.Labels.TryGetValue(filter[..eq], out var v) && string.Equals(v, filter[(eq + 1)..], StringComparison.Ordinal);
        }

        return a.Node is { } node && (node == filter || node.StartsWith(filter + "/", StringComparison.Ordinal) || node.EndsWith("/" + filter, StringComparison.Ordinal));
    }

    private static int Rank(string? severity) => severity?.ToLowerInvariant() switch
    {
        "critical" or "page" or "down" or "unreachable" => 3,
        "error" or "high" => 2,
        "warning" or "warn" => 1,
        _ => 0,
    };
}

/// <summary>The shared part of <c>ack</c> and <c>silence</c>: find the alert, check the asker may act on it, call its source, audit, answer.</summary>
public abstract class AlertActionCommand(IAlertStore store, AlertAccess alertAccess, IEnumerable<IAlertSource> sources, TimeProvider time) : IRobotCommand
{
    /// <summary>How long a source may take to answer before the room is told it did not.</summary>
    public static readonly TimeSpan SourceTimeout = TimeSpan.FromSeconds(30);

    private readonly Dictionary<string, IAlertSource> _sources = sources.GroupBy(s => s.Name, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.First(), StringComparer.Ordinal);

    public abstract CommandInfo Info { get; }

    protected abstract string Permission { get; }

    protected TimeProvider Time => time;

    protected IAlertStore Store => store;

    public abstract ValueTask<OutgoingMessage> ExecuteAsync(CommandContext context, CancellationToken cancellationToken);

    /// <summary>Finds the alert and checks the asker; returns the alert and source, or the answer that refuses.</summary>
    protected async Task<(AlertState? Alert, IAlertSource? Source, string? Refusal)> PrepareAsync(CommandContext context, string idText, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (!AlertArguments.TryParseId(idText, out var id))
        {
            return (null, null, $"Usage: {Markdown.Code(context.Options.CommandPrefix + Info.Usage)} (the id the alert was posted with, e.g. A12)");
        }

        var alert = await store.GetAsync(id, cancellationToken).ConfigureAwait(false);
        if (alert is null || (context.Principal is { } viewer && !AlertAccess.MaySee(viewer, alert)))
        {
            return (null, null, $"There is no alert A{id.ToString(CultureInfo.InvariantCulture)} that you may see. Say {Markdown.Code(context.Options.CommandPrefix + "alerts")} for those firing now.");
        }

        if (context.Principal is { } principal)
        {
            var decision = await alertAccess.MayActAsync(principal, alert, Permission, cancellationToken).ConfigureAwait(false);
            await AuditAsync(context, alert, decision.Allowed ? "allow" : "deny", decision.Rule, null, cancellationToken).ConfigureAwait(false);
            if (!decision.Allowed)
            {
                return (null, null, decision.Explanation);
            }
        }

        if (!_sources.TryGetValue(alert.Source, out var source))
        {
            return (null, null, $"{alert.ShortId} came from {Markdown.Code(alert.Source)}, and OpsRobot has no connection back to it configured, so I cannot {Permission.Split('.')[1]} it there. See docs/alerts.md.");
        }

        return (alert, source, null);
    }

    /// <summary>Calls the source with a time limit; a failure becomes an answer, never an exception in the room.</summary>
    protected static async Task<AlertCallbackResult> CallAsync(IAlertSource source, Func<CancellationToken, Task<AlertCallbackResult>> call, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(call);
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        limit.CancelAfter(SourceTimeout);
        try
        {
            return await call(limit.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return new AlertCallbackResult(false, $"{source.Name} did not answer within {AlertText.Span(SourceTimeout)}.");
        }
    }

    protected static AlertActor Actor(CommandContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var who = context.Principal?.User?.Name ?? context.Principal?.Name ?? $"{context.Message.Platform}:{context.Message.Sender.Name}";
        return new AlertActor(who, context.Principal?.Place ?? $"{context.Message.Platform}:{context.Message.Room.Name}");
    }

    /// <summary>Writes what was decided, and what the source answered, to the audit trail.</summary>
    protected static async Task AuditAsync(CommandContext context, AlertState alert, string decision, string rule, AlertCallbackResult? result, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(alert);
        if (context.Principal is not { } principal || context.Robot?.Access is not { } access)
        {
            return;
        }

        var detail = new JsonObject
        {
            ["alert"] = alert.ShortId,
            ["source"] = alert.Source,
            ["fingerprint"] = alert.Fingerprint,
            ["node"] = alert.Node,
        };
        if (result is not null)
        {
            detail["succeeded"] = result.Succeeded;
            detail["answer"] = result.Message;
            detail["external_id"] = result.ExternalId;
        }

        await access.Audit.WriteAsync(new AuditEntry
        {
            Kind = result is null ? AuditKinds.Decision : AuditKinds.Command,
            Actor = principal.Name,
            Door = principal.Door,
            Place = principal.Place,
            Subject = AuditLog.MaskSecrets($"{context.CommandName} {context.Arguments}"),
            Decision = decision,
            Rule = rule,
            Detail = detail,
        }, cancellationToken).ConfigureAwait(false);
    }
}

/// <summary><c>ack ID [comment]</c>: someone is on it. Recorded on the board, told to the source and to the room.</summary>
public sealed class AckCommand(IAlertStore store, AlertAccess alertAccess, IEnumerable<IAlertSource> sources, TimeProvider time)
    : AlertActionCommand(store, alertAccess, sources, time)
{
    public override CommandInfo Info { get; } = new("alerts", "ack", "ack ID [COMMENT]", "Acknowledge an alert: you are on it. The source and the room are told.");

    protected override string Permission => Permissions.AlertAck;

    public override async ValueTask<OutgoingMessage> ExecuteAsync(CommandContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var (idText, comment) = AlertArguments.Split(context.Arguments);
        var (alert, source, refusal) = await PrepareAsync(context, idText, cancellationToken).ConfigureAwait(false);
        if (alert is null || source is null)
        {
            return new OutgoingMessage(refusal!);
        }

        var actor = Actor(context);
        var note = comment.Length == 0 ? null : comment[..Math.Min(comment.Length, 500)];
        var answer = await CallAsync(source, ct => source.AcknowledgeAsync(alert.ToReference(), actor, note, ct), cancellationToken).ConfigureAwait(false);
        await AuditAsync(context, alert, answer.Succeeded ? "allow" : "deny", answer.Succeeded ? "acknowledged at the source" : "the source refused", answer, cancellationToken).ConfigureAwait(false);
        if (!answer.Succeeded)
        {
            return new OutgoingMessage($"Could not acknowledge {alert.ShortId} {Markdown.Code(alert.Name)} at {alert.Source}: {answer.Message}");
        }

        await Store.SetAckAsync(alert.Id, actor.UserName, Time.GetUtcNow(), note, cancellationToken).ConfigureAwait(false);
        var why = note is null ? string.Empty : $" ({AlertText.Escape(note)})";
        return new OutgoingMessage($"{AlertText.Escape(actor.UserName)} acknowledged {alert.ShortId} {Markdown.Code(alert.Name)}{(alert.Host is { } h ? " on " + Markdown.Code(h) : string.Empty)}{why}. {alert.Source}: {answer.Message}");
    }
}

/// <summary><c>silence ID DURATION [comment]</c>: a silence at the source for a bounded time, announced in the room.</summary>
public sealed class SilenceCommand(IAlertStore store, AlertAccess alertAccess, IEnumerable<IAlertSource> sources, TimeProvider time, IOptions<AlertOptions> options)
    : AlertActionCommand(store, alertAccess, sources, time)
{
    /// <summary>The shortest silence: anything shorter is a typo more likely than a wish.</summary>
    public static readonly TimeSpan MinSilence = TimeSpan.FromMinutes(1);

    public override CommandInfo Info { get; } = new("alerts", "silence", "silence ID DURATION [COMMENT]", "Silence an alert at its source for a while (30m, 2h, 1d); the room is told who and until when.");

    protected override string Permission => Permissions.AlertSilence;

    public override async ValueTask<OutgoingMessage> ExecuteAsync(CommandContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var (idText, rest) = AlertArguments.Split(context.Arguments);
        var (durationText, comment) = AlertArguments.Split(rest);
        var max = options.Value.MaxSilence;
        var parsed = DurationText.Parse(durationText);
        if (parsed is not { } duration || duration < MinSilence || duration > max)
        {
            var problem = parsed is null && durationText.Length > 0 ? DurationText.NotADuration(durationText, max) + " " : string.Empty;
            return new OutgoingMessage(
                $"{problem}Usage: {Markdown.Code(context.Options.CommandPrefix + Info.Usage)}, with a duration from {AlertText.Span(MinSilence)} to {AlertText.Span(max)} such as 30m, 2h or 1d.");
        }

        var (alert, source, refusal) = await PrepareAsync(context, idText, cancellationToken).ConfigureAwait(false);
        if (alert is null || source is null)
        {
            return new OutgoingMessage(refusal!);
        }

        var actor = Actor(context);
        var note = comment.Length == 0 ? null : comment[..Math.Min(comment.Length, 500)];
        var answer = await CallAsync(source, ct => source.SilenceAsync(alert.ToReference(), duration, actor, note, ct), cancellationToken).ConfigureAwait(false);
        await AuditAsync(context, alert, answer.Succeeded ? "allow" : "deny", answer.Succeeded ? "silenced at the source" : "the source refused", answer, cancellationToken).ConfigureAwait(false);
        if (!answer.Succeeded)
        {
            return new OutgoingMessage($"Could not silence {alert.ShortId} {Markdown.Code(alert.Name)} at {alert.Source}: {answer.Message}");
        }

        var until = Time.GetUtcNow() + duration;
        await Store.SetSilenceAsync(alert.Id, actor.UserName, until, answer.ExternalId, cancellationToken).ConfigureAwait(false);
        var why = note is null ? string.Empty : $" ({AlertText.Escape(note)})";
        return new OutgoingMessage(
            $"{AlertText.Escape(actor.UserName)} silenced {alert.ShortId} {Markdown.Code(alert.Name)}{(alert.Host is { } h ? " on " + Markdown.Code(h) : string.Empty)} for {AlertText.Span(duration)}, until {until.UtcDateTime.ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture)}{why}. {alert.Source}: {answer.Message}");
    }
}
