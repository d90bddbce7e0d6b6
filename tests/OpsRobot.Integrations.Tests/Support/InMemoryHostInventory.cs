using OpsRobot.Core.Cmdb;

namespace OpsRobot.Integrations.Tests.Support;

/// <summary>
/// A CMDB for tests until the real one is merged: hosts in a list, queried with the contract's rules (application
/// matches the node and below, every tag must be present, names case-insensitive).
/// </summary>
public sealed class InMemoryHostInventory : IHostInventory
{
    private readonly List<HostRecord> _hosts = [];

    public InMemoryHostInventory Add(string hostname, string address, int port, string application, string environment = "prod", string user = "", params string[] tags)
    {
        var attributes = new Dictionary<string, string>(StringComparer.Ordinal) { ["ssh_port"] = port.ToString(System.Globalization.CultureInfo.InvariantCulture) };
        if (user.Length > 0)
        {
            attributes["ssh_user"] = user;
        }

        _hosts.Add(new HostRecord(hostname, [address], environment, application, tags, null, "active", attributes));
        return this;
    }

    public Task<HostRecord?> FindAsync(string hostname, CancellationToken cancellationToken) =>
        Task.FromResult(_hosts.FirstOrDefault(h => string.Equals(h.Hostname, hostname, StringComparison.OrdinalIgnoreCase)));

    public Task<IReadOnlyList<HostRecord>> QueryAsync(HostQuery query, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        IReadOnlyList<HostRecord> found = [.. _hosts
            .Where(h => query.Application is null || h.Application is { } app && (app == query.Application || app.StartsWith(query.Application.TrimEnd('/') + "/", StringComparison.Ordinal)))
            .Where(h => query.Environment is null || h.Environment == query.Environment)
            .Where(h => query.Tags is null || query.Tags.All(t => h.Tags.Contains(t)))
            .OrderBy(h => h.Hostname, StringComparer.Ordinal)];
        return Task.FromResult(found);
    }
}
