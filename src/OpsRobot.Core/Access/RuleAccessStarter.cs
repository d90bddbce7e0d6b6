using System.Text.Json.Nodes;
using OpsRobot.Core.Audit;
using OpsRobot.Core.Events;
using OpsRobot.Core.Executions;
using OpsRobot.Core.Packs;
using OpsRobot.Core.Rules;

namespace OpsRobot.Core.Access;

/// <summary>
/// Rules act under their own identity, <c>rule:pack.name</c>, with the grants of <see cref="AccessOptions.RuleRole"/>
/// (operator by default): each firing is authorized like a command and audited before its action starts. Rules
/// are configuration written by pack authors, so they act on any node of the application tree their grants cover;
/// rooms and sudo do not apply to them (there is no room and nobody to confirm).
/// </summary>
public sealed class RuleAccessStarter(AccessService access, PackCatalog packs, ExecutionService executions) : IRuleActionStarter
{
    private readonly ExecutionServiceRuleActionStarter _inner = new(executions);

    public async Task<long> StartAsync(RuleDefinition rule, JsonObject parameters, EventRecord trigger, IReadOnlyCollection<string> secretValues, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(rule);
        ArgumentNullException.ThrowIfNull(parameters);
        ArgumentNullException.ThrowIfNull(trigger);
        var roles = await access.RolesAsync(cancellationToken).ConfigureAwait(false);
        var principal = new Principal
        {
            Name = rule.Identity,
            Roles = [.. roles.Where(r => string.Equals(r.Name, access.Options.RuleRole, StringComparison.OrdinalIgnoreCase))],
            Door = Doors.Rule,
            Place = "event #" + trigger.Id.ToString(System.Globalization.CultureInfo.InvariantCulture),
            TreeWide = true,
        };
        var decision = packs.Current.FindAction(rule.ActionRef) is { } action
            ? await access.AuthorizeRunAsync(principal, new RunRequest(action, null, parameters.ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal)) { Sudo = true }, cancellationToken).ConfigureAwait(false)
            : AccessDecision.Allow("unknown action: the execution service refuses it");
        if (decision.Kind is DenialKind.SudoRequired or DenialKind.ElevationRequired or DenialKind.Room)
        {
            decision = AccessDecision.Allow($"rule {rule.Identity}: sudo and rooms do not apply to rules");
        }

        await access.Audit.WriteAsync(new AuditEntry
        {
            Kind = AuditKinds.Command,
            Actor = rule.Identity,
            Door = Doors.Rule,
            Place = principal.Place,
            Subject = $"run {rule.ActionRef}",
            Decision = decision.Allowed ? "allow" : "deny",
            Rule = decision.Rule,
            Detail = new JsonObject { ["event_id"] = trigger.Id, ["trigger"] = trigger.TriggerType },
        }, cancellationToken).ConfigureAwait(false);
        if (!decision.Allowed)
        {
            throw new ExecutionRequestException($"Rule {rule.Identity} may not run {rule.ActionRef}: {decision.Rule}.");
        }

        return await _inner.StartAsync(rule, parameters, trigger, secretValues, cancellationToken).ConfigureAwait(false);
    }
}
