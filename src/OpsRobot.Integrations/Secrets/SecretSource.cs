using OpsRobot.Core.Datastore;

namespace OpsRobot.Integrations.Secrets;

/// <summary>
/// Where private keys, passwords and API credentials come from: named secrets, never parameters or the
/// configuration file. The one secret-reading seam of the integrations (SSH, deploy backends, the HTTP CMDB).
/// </summary>
public interface ISecretSource
{
    /// <summary>The secret's text, or null and a sentence that names the problem (never the secret).</summary>
    Task<(string? Key, string? Error)> GetAsync(string name, CancellationToken cancellationToken);
}

/// <summary>System secrets of the datastore (<c>opsrobot kv set --secret system.ssh_key - &lt; KEYFILE</c>); a key stored in clear is refused.</summary>
public sealed class DatastoreSecretSource(IServiceProvider services) : ISecretSource
{
    public async Task<(string? Key, string? Error)> GetAsync(string name, CancellationToken cancellationToken)
    {
        // Resolved when first needed, not injected: the datastore sits on the events and rules side of the
        // container, which reaches access control, which reaches the HTTP CMDB (a user of this) through IHostDirectory.
        if (services.GetService(typeof(DatastoreService)) is not DatastoreService datastore)
        {
            return (null, "the datastore is not available in this process, so no key can be read");
        }

        if (!DatastoreService.IsValidName(name))
        {
            return (null, $"'{name}' is not a valid datastore key name");
        }

        var entry = await datastore.GetAsync(KeyValueScope.System, string.Empty, name, cancellationToken).ConfigureAwait(false);
        if (entry is null)
        {
            return (null, $"there is no system datastore key '{name}' (store it with: opsrobot kv set --secret system.{name} -)");
        }

        if (!entry.Secret)
        {
            // A key stored in clear would be shown by every kv list; refuse it rather than use it.
            return (null, $"datastore key '{name}' is not a secret; store keys and passwords as secrets only (kv set --secret)");
        }

        var text = await datastore.GetClearValueAsync(KeyValueScope.System, string.Empty, name, cancellationToken).ConfigureAwait(false);
        return text is null ? (null, $"datastore key '{name}' disappeared while it was read") : (text, null);
    }
}
