using OpsRobot.Core.Events;
using OpsRobot.Core.Packs;
using OpsRobot.Core.Status;
using OpsRobot.Core.Storage;

namespace OpsRobot.Core.Rules;

/// <summary>
/// The rules' line in <c>!status</c> and <c>/health</c>: how many rules are loaded and enabled, how many events the
/// engine has evaluated, and the backlog of pending events, degraded when the engine is falling behind.
/// </summary>
public sealed class RulesStatusSource(PackCatalog packs, IEventStore store, RuleEngine engine) : IStatusSource
{
    /// <summary>A backlog from which the rules are reported degraded: the engine is not keeping up.</summary>
    public const int BacklogWarning = 5000;

    public async ValueTask<ComponentStatus> GetStatusAsync(CancellationToken cancellationToken)
    {
        var rules = packs.Current.Rules;
        var enabled = rules.Count(r => r.Enabled);
        int pending;
        try
        {
            pending = (await store.ListPendingAsync(0, BacklogWarning, cancellationToken).ConfigureAwait(false)).Count;
        }
        catch (StoreUnavailableException ex)
        {
            return new ComponentStatus("rules", HealthState.Degraded, $"{enabled} of {rules.Count} rule(s) enabled; pending events unknown: {ex.Message}");
        }

        var backlog = pending >= BacklogWarning ? $"{BacklogWarning}+" : pending.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return new ComponentStatus(
            "rules",
            pending >= BacklogWarning ? HealthState.Degraded : HealthState.Healthy,
            $"{enabled} of {rules.Count} rule(s) enabled, {engine.Processed} event(s) evaluated since start, {backlog} pending");
    }
}
