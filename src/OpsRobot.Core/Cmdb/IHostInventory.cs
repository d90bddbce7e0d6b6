namespace OpsRobot.Core.Cmdb;

/// <summary>
/// The hosts OpsRobot knows: the built-in CMDB, or a team's own CMDB behind the HTTP connector. SSH, deployment
/// and host-scoped access control read hosts only through this.
/// </summary>
public interface IHostInventory
{
    /// <summary>The host named <paramref name="hostname"/> (case-insensitive), or null when there is none.</summary>
    Task<HostRecord?> FindAsync(string hostname, CancellationToken cancellationToken);

    /// <summary>The hosts that match every condition of <paramref name="query"/>, ordered by hostname.</summary>
    Task<IReadOnlyList<HostRecord>> QueryAsync(HostQuery query, CancellationToken cancellationToken);
}

/// <summary>One host.</summary>
/// <param name="Hostname">Its unique name (lower case).</param>
/// <param name="Addresses">IP addresses or DNS names to reach it by, the first preferred.</param>
/// <param name="Environment">prod, staging, … or null.</param>
/// <param name="Application">Its application-tree node path (<c>/booking/api</c>), or null.</param>
/// <param name="Tags">Free tags.</param>
/// <param name="Owner">The owning team or person, or null.</param>
/// <param name="Status">active, maintenance, retired, …</param>
/// <param name="Attributes">Free-form attributes (<c>ssh_port</c>, <c>ssh_user</c>, <c>os</c>, …).</param>
public sealed record HostRecord(
    string Hostname,
    IReadOnlyList<string> Addresses,
    string? Environment,
    string? Application,
    IReadOnlyList<string> Tags,
    string? Owner,
    string Status,
    IReadOnlyDictionary<string, string> Attributes);

/// <summary>
/// A host selection; null or empty fields do not constrain. <see cref="Application"/> matches the node and every
/// node below it. <see cref="Name"/> may hold <c>*</c> wildcards.
/// </summary>
public sealed record HostQuery(
    string? Name = null,
    string? Application = null,
    string? Environment = null,
    IReadOnlyList<string>? Tags = null,
    string? Status = null,
    string? Owner = null);
