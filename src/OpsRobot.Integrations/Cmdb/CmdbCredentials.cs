using Microsoft.Extensions.DependencyInjection;
using OpsRobot.Core.Datastore;

namespace OpsRobot.Integrations.Cmdb;

/// <summary>Where the HTTP CMDB's credential comes from: a secret in the datastore, never the configuration file.</summary>
public interface ICmdbCredentials
{
    /// <summary>The clear value of the system datastore key <paramref name="key"/>, or null when there is none.</summary>
    Task<string?> GetAsync(string key, CancellationToken cancellationToken);
}

/// <summary>Reads the credential from the system scope of the datastore (encrypted at rest).</summary>
public sealed class DatastoreCmdbCredentials(IServiceProvider services) : ICmdbCredentials
{
    public Task<string?> GetAsync(string key, CancellationToken cancellationToken) =>
        // Resolved when first needed, not injected: the datastore sits on the events and rules side of the
        // container, which reaches access control, which reaches the inventory through IHostDirectory.
        services.GetRequiredService<DatastoreService>().GetClearValueAsync(KeyValueScope.System, string.Empty, key, cancellationToken);
}
