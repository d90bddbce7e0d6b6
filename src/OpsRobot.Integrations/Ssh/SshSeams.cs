using OpsRobot.Core.Access;
using OpsRobot.Core.Cmdb;
using OpsRobot.Core.Executions;

namespace OpsRobot.Integrations.Ssh;

/// <summary>Decides, host by host, whether the requester of a run may act on each selected host.</summary>
public interface IHostAccessPolicy
{
    Task<IReadOnlyList<HostAccessDecision>> AuthorizeAsync(ExecutionRequester? requester, string actionRef, IReadOnlyList<HostRecord> hosts, CancellationToken cancellationToken);
}

/// <summary>
/// The production policy: <see cref="AccessService.AuthorizeHostsAsync"/> (application-tree membership, audited).
/// In a process without access control (offline pack validation) every host is refused: it fails closed.
/// </summary>
public sealed class AccessServiceHostPolicy(AccessService? access) : IHostAccessPolicy
{
    public Task<IReadOnlyList<HostAccessDecision>> AuthorizeAsync(ExecutionRequester? requester, string actionRef, IReadOnlyList<HostRecord> hosts, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(hosts);
        return access is not null
            ? access.AuthorizeHostsAsync(requester, actionRef, hosts, cancellationToken)
            : Task.FromResult<IReadOnlyList<HostAccessDecision>>([.. hosts.Select(h => new HostAccessDecision(h.Hostname, false, "access control is not running in this process"))]);
    }
}
