using Microsoft.Extensions.Logging;
using OpsRobot.Core.Access;

namespace OpsRobot.Core.Cmdb;

/// <summary>The built-in CMDB as <see cref="IHostInventory"/>: the hosts in OpsRobot's own store, unfiltered by rights.</summary>
public sealed class StoreHostInventory(IHostStore store) : IHostInventory
{
    public Task<HostRecord?> FindAsync(string hostname, CancellationToken cancellationToken) =>
        HostRules.CanonicalHostname(hostname?.Trim()) is { } name ? store.FindAsync(name, cancellationToken) : Task.FromResult<HostRecord?>(null);

    public Task<IReadOnlyList<HostRecord>> QueryAsync(HostQuery query, CancellationToken cancellationToken) => store.QueryAsync(query, cancellationToken);
}

/// <summary>
/// Maps a host to its application node for parameters scoped as <c>host</c>, through whichever CMDB serves
/// <see cref="IHostInventory"/>. A host that is unknown, has no application, or cannot be looked up (the remote
/// CMDB is down) maps to nothing, so the command is refused: access control fails closed.
/// </summary>
public sealed partial class InventoryHostDirectory(IHostInventory inventory, ILogger<InventoryHostDirectory> logger) : IHostDirectory
{
    public async Task<string?> FindApplicationAsync(string host, CancellationToken cancellationToken)
    {
        if (HostRules.CanonicalHostname(host?.Trim()) is not { } name)
        {
            return null;
        }

        try
        {
            var record = await inventory.FindAsync(name, cancellationToken).ConfigureAwait(false);
            return record?.Application?.Trim('/') is { Length: > 0 } app ? app : null;
        }
        catch (CmdbException ex)
        {
            LogLookupFailed(logger, name, ex.Message);
            return null;
        }
    }

    [LoggerMessage(EventId = 8202, Level = LogLevel.Warning, Message = "Cannot look up host {Host} for a host-scoped command, so it is refused: {Problem}")]
    private static partial void LogLookupFailed(ILogger logger, string host, string problem);
}
