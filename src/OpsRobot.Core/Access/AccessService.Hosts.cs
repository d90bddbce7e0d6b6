using System.Globalization;
using System.Text.Json.Nodes;
using OpsRobot.Core.Audit;
using OpsRobot.Core.Cmdb;
using OpsRobot.Core.Executions;

namespace OpsRobot.Core.Access;

/// <summary>Whether a requester may act on one host, and why not.</summary>
/// <param name="Hostname">The host.</param>
/// <param name="Allowed">True when the requester holds the host's application node (or acts tree-wide).</param>
/// <param name="Reason">For a refusal, a sentence for the person; for an allowance, the rule that allowed it.</param>
public sealed record HostAccessDecision(string Hostname, bool Allowed, string Reason);

public sealed partial class AccessService
{
    /// <summary>
    /// Whether the requester of an execution may act on each of <paramref name="hosts"/>, decided like a
    /// <c>scope: {param: host}</c> parameter: the host's application node must exist in the tree and the requester
    /// must be a member or owner of it or of a node above it. Runners that resolve their targets at run time (a CMDB
    /// selection for <c>ssh</c>) call this host by host, so hosts added to a selection after the command was accepted
    /// are checked too. Rules (and workflows they started) act tree-wide, as they do for scoped parameters. A
    /// refusal of any host is written to the audit trail, with every refused host named.
    /// </summary>
    public async Task<IReadOnlyList<HostAccessDecision>> AuthorizeHostsAsync(ExecutionRequester? requester, string actionRef, IReadOnlyList<HostRecord> hosts, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(hosts);
        if (hosts.Count == 0)
        {
            return [];
        }

        var snapshot = await SnapshotAsync(cancellationToken).ConfigureAwait(false);
        List<HostAccessDecision> answers;
        if (requester is null)
        {
            answers = [.. hosts.Select(h => new HostAccessDecision(h.Hostname, false, "nobody is known to have asked for this run, so no host can be checked"))];
        }
        else if (requester.Door == ExecutionDoor.Rule || requester.UserName.StartsWith("rule:", StringComparison.Ordinal))
        {
            // Rules are configuration written by pack authors and act on any node their grants cover (docs/access.md).
            answers = [.. hosts.Select(h => NodeOf(snapshot.Tree, h) is { } path
                ? new HostAccessDecision(h.Hostname, true, $"{requester.UserName} acts on the whole tree ({path})")
                : NoNode(h))];
        }
        else
        {
            var user = await _users.FindByNameAsync(requester.UserName, cancellationToken).ConfigureAwait(false);
            answers = [];
            foreach (var host in hosts)
            {
                if (user is null)
                {
                    answers.Add(new HostAccessDecision(host.Hostname, false, $"the requester {requester.UserName} is not a known user"));
                    continue;
                }

                if (NodeOf(snapshot.Tree, host) is not { } path)
                {
                    answers.Add(NoNode(host));
                    continue;
                }

                var place = snapshot.Tree.PlaceOf(user.Id, path);
                if (place is null)
                {
                    var owners = await OwnerNamesAsync(snapshot, path, cancellationToken).ConfigureAwait(false);
                    var ask = owners is { } o ? $"; ask an owner of {o.Path}: {string.Join(", ", o.Names)}" : "; nobody owns it yet, ask an administrator";
                    answers.Add(new HostAccessDecision(host.Hostname, false, $"{user.Name} is not a member of `{path}`, the application of {host.Hostname}{ask}"));
                    continue;
                }

                answers.Add(new HostAccessDecision(host.Hostname, true, $"{place.Value.ToString().ToLowerInvariant()} of {path}"));
            }
        }

        var refused = answers.Where(a => !a.Allowed).ToList();
        if (refused.Count > 0)
        {
            await _audit.WriteAsync(new AuditEntry
            {
                Kind = AuditKinds.Decision,
                Actor = requester?.UserName ?? "unknown",
                Door = requester?.Door.ToString().ToLowerInvariant() ?? Doors.System,
                Place = requester?.RoomName is { } room ? $"{requester.Platform}:{room}" : requester?.Address,
                Subject = string.Create(CultureInfo.InvariantCulture, $"{actionRef} on {refused.Count} of {answers.Count} hosts"),
                Decision = "deny",
                Rule = string.Join("; ", refused.Select(r => $"{r.Hostname}: {r.Reason}")),
                Detail = new JsonObject { ["refused"] = new JsonArray([.. refused.Select(r => JsonValue.Create(r.Hostname))]) },
            }, cancellationToken).ConfigureAwait(false);
        }

        return answers;
    }

    /// <summary>
    /// The tree node of a host's application. The CMDB may write nodes with a leading slash (<c>/booking/api</c>);
    /// the tree without. A unique leaf name resolves as it does for application-scoped parameters.
    /// </summary>
    private static string? NodeOf(ApplicationTree tree, HostRecord host)
    {
        if (host.Application is not { } application)
        {
            return null;
        }

        var path = application.Trim('/');
        return tree.Contains(path) ? path : tree.Resolve(path).Path;
    }

    private static HostAccessDecision NoNode(HostRecord host) =>
        new(host.Hostname, false, host.Application is null
            ? $"{host.Hostname} belongs to no application in the CMDB, so nobody's rights on it can be checked"
            : $"{host.Hostname}'s application `{host.Application}` is not a node of the application tree");
}
