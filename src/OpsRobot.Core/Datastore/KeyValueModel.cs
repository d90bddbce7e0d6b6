namespace OpsRobot.Core.Datastore;

/// <summary>Whose a key is: the whole installation's (<c>kv.system.x</c>) or one user's (<c>kv.user.x</c>).</summary>
public enum KeyValueScope
{
    System,
    User,
}

/// <summary>A key as stored: a secret's <see cref="Value"/> is ciphertext, never the clear text.</summary>
public sealed record KeyValueRecord
{
    public required KeyValueScope Scope { get; init; }

    /// <summary>The owning user's name for the user scope; empty for the system scope.</summary>
    public required string Owner { get; init; }

    public required string Name { get; init; }

    public required string Value { get; init; }

    public required bool Secret { get; init; }

    /// <summary>When it stops existing; null for never.</summary>
    public DateTimeOffset? ExpiresAt { get; init; }

    public required DateTimeOffset UpdatedAt { get; init; }

    public required string UpdatedBy { get; init; }
}

/// <summary>A key as shown to people and API callers: a secret's value is always the mask.</summary>
public sealed record KeyValueEntry(KeyValueScope Scope, string Owner, string Name, string Value, bool Secret, DateTimeOffset? ExpiresAt, DateTimeOffset UpdatedAt, string UpdatedBy);

/// <summary>The datastore's records. Expired keys are invisible to every read, whether or not they were purged yet.</summary>
public interface IKeyValueStore
{
    Task<KeyValueRecord?> GetAsync(KeyValueScope scope, string owner, string name, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>Keys of one scope and owner whose name starts with <paramref name="prefix"/>, by name.</summary>
    Task<IReadOnlyList<KeyValueRecord>> ListAsync(KeyValueScope scope, string owner, string prefix, DateTimeOffset now, int limit, CancellationToken cancellationToken);

    /// <summary>Creates or replaces a key.</summary>
    Task SetAsync(KeyValueRecord record, CancellationToken cancellationToken);

    /// <summary>Deletes a key; false when there was none (or it had expired).</summary>
    Task<bool> DeleteAsync(KeyValueScope scope, string owner, string name, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>Removes keys expired before <paramref name="now"/>; returns how many.</summary>
    Task<int> PurgeExpiredAsync(DateTimeOffset now, CancellationToken cancellationToken);
}

/// <summary>The datastore's limits and where its encryption key lives.</summary>
public sealed class DatastoreOptions
{
    /// <summary>
    /// The AES-256 key file that encrypts secrets, created (mode 0600) on first start. Losing it loses every secret;
    /// back it up apart from the database (see docs/datastore.md). Relative paths resolve against the data folder.
    /// </summary>
    public string KeyFile { get; set; } = "datastore.key";

    /// <summary>The longest value accepted, in characters.</summary>
    public int MaxValueLength { get; set; } = 64 * 1024;

    /// <summary>The most keys one list returns.</summary>
    public int MaxList { get; set; } = 1000;
}

/// <summary>A datastore request refused (a bad name, a value too long, not allowed). The message is for people.</summary>
public sealed class DatastoreException : Exception
{
    public DatastoreException()
    {
    }

    public DatastoreException(string message)
        : base(message)
    {
    }

    public DatastoreException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
