using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OpsRobot.Core.Events;
using OpsRobot.Core.Executions;
using OpsRobot.Core.Rules;

namespace OpsRobot.Core.Datastore;

/// <summary>
/// The key-value datastore as chat, the API, the CLI and templates use it: names checked, secrets encrypted before
/// they reach the store and masked in everything it returns to people, TTLs applied, and every change announced as
/// a <c>core.kv_changed</c> event. Who may read or write what is decided by the caller (see
/// <see cref="IDatastoreAccessPolicy"/>): this service trusts the scope and owner it is given.
/// </summary>
public sealed partial class DatastoreService(
    IKeyValueStore store,
    ISecretProtector protector,
    EventPublisher events,
    TimeProvider time,
    IOptions<DatastoreOptions> options,
    ILogger<DatastoreService> logger) : IKeyValueViewSource
{
    private readonly DatastoreOptions _options = options.Value;

    [GeneratedRegex("^[A-Za-z0-9_][A-Za-z0-9_.:-]{0,199}$", RegexOptions.CultureInvariant, matchTimeoutMilliseconds: 100)]
    private static partial Regex NamePattern();

    /// <summary>Whether <paramref name="name"/> is a valid key name: letters, digits, <c>_ . : -</c>, at most 200, not starting with punctuation.</summary>
    public static bool IsValidName(string? name) => name is not null && NamePattern().IsMatch(name);

    public async Task<KeyValueEntry?> GetAsync(KeyValueScope scope, string owner, string name, CancellationToken cancellationToken)
    {
        CheckKey(scope, ref owner, name);
        var record = await store.GetAsync(scope, owner, name, time.GetUtcNow(), cancellationToken).ConfigureAwait(false);
        return record is null ? null : Shown(record);
    }

    /// <summary>The clear value of a key, secrets decrypted: for the engine's own use (templates, webhook signatures), never for display.</summary>
    public async Task<string?> GetClearValueAsync(KeyValueScope scope, string owner, string name, CancellationToken cancellationToken)
    {
        CheckKey(scope, ref owner, name);
        var record = await store.GetAsync(scope, owner, name, time.GetUtcNow(), cancellationToken).ConfigureAwait(false);
        return record is null ? null : Clear(record);
    }

    public async Task<IReadOnlyList<KeyValueEntry>> ListAsync(KeyValueScope scope, string owner, string? prefix, CancellationToken cancellationToken)
    {
        owner = OwnerFor(scope, owner);
        var records = await store.ListAsync(scope, owner, prefix ?? string.Empty, time.GetUtcNow(), _options.MaxList, cancellationToken).ConfigureAwait(false);
        return [.. records.Select(Shown)];
    }

    /// <summary>Creates or replaces a key; returns it as shown (a secret masked).</summary>
    /// <exception cref="DatastoreException">A bad name, a value too long, a TTL that is not positive.</exception>
    public async Task<KeyValueEntry> SetAsync(
        KeyValueScope scope, string owner, string name, string value, bool secret, TimeSpan? ttl, string by, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(value);
        ArgumentNullException.ThrowIfNull(by);
        CheckKey(scope, ref owner, name);
        if (value.Length > _options.MaxValueLength)
        {
            throw new DatastoreException($"The value is {value.Length:N0} characters; the datastore takes at most {_options.MaxValueLength:N0}.");
        }

        if (ttl is { } t && (t <= TimeSpan.Zero || t > TimeSpan.FromDays(3650)))
        {
            throw new DatastoreException("A TTL must be positive and at most ten years.");
        }

        var now = time.GetUtcNow();
        var record = new KeyValueRecord
        {
            Scope = scope,
            Owner = owner,
            Name = name,
            Value = secret ? protector.Protect(value, Context(scope, owner, name)) : value,
            Secret = secret,
            ExpiresAt = ttl is { } span ? now + span : null,
            UpdatedAt = now,
            UpdatedBy = by,
        };
        await store.SetAsync(record, cancellationToken).ConfigureAwait(false);
        LogSet(logger, Describe(scope, owner, name), secret, by);
        await AnnounceAsync("set", record, cancellationToken).ConfigureAwait(false);
        return Shown(record);
    }

    /// <summary>Deletes a key; false when there was none.</summary>
    public async Task<bool> DeleteAsync(KeyValueScope scope, string owner, string name, string by, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(by);
        CheckKey(scope, ref owner, name);
        var existing = await store.GetAsync(scope, owner, name, time.GetUtcNow(), cancellationToken).ConfigureAwait(false);
        if (existing is null || !await store.DeleteAsync(scope, owner, name, time.GetUtcNow(), cancellationToken).ConfigureAwait(false))
        {
            return false;
        }

        LogDeleted(logger, Describe(scope, owner, name), by);
        await AnnounceAsync("deleted", existing with { UpdatedBy = by }, cancellationToken).ConfigureAwait(false);
        return true;
    }

    /// <summary>Removes expired keys from the store (reads already ignore them).</summary>
    public Task<int> PurgeExpiredAsync(CancellationToken cancellationToken) => store.PurgeExpiredAsync(time.GetUtcNow(), cancellationToken);

    /// <summary>
    /// What templates see as <c>kv</c> for someone acting as <paramref name="userName"/>: every system key and
    /// that user's keys, secrets decrypted (templates pass them to actions), and the secret values so that records
    /// of rendered parameters can mask them.
    /// </summary>
    public async Task<KeyValueView> GetViewAsync(string userName, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(userName);
        var now = time.GetUtcNow();
        var secrets = new List<string>();
        var system = await ViewOfAsync(KeyValueScope.System, string.Empty, now, secrets, cancellationToken).ConfigureAwait(false);
        var user = userName.Length == 0 ? [] : await ViewOfAsync(KeyValueScope.User, userName, now, secrets, cancellationToken).ConfigureAwait(false);
        return new KeyValueView(new JsonObject { ["system"] = system, ["user"] = user }, secrets);
    }

    private async Task<JsonObject> ViewOfAsync(KeyValueScope scope, string owner, DateTimeOffset now, List<string> secrets, CancellationToken cancellationToken)
    {
        var obj = new JsonObject();
        foreach (var record in await store.ListAsync(scope, owner, string.Empty, now, _options.MaxList, cancellationToken).ConfigureAwait(false))
        {
            string value;
            try
            {
                value = Clear(record);
            }
            catch (DatastoreException ex)
            {
                // One undecryptable secret must not take every rule down; it is left out, and said so.
                LogUndecryptable(logger, Describe(scope, owner, record.Name), ex.Message);
                continue;
            }

            if (record.Secret)
            {
                secrets.Add(value);
            }

            obj[record.Name] = value;
        }

        return obj;
    }

    private string Clear(KeyValueRecord record) =>
        record.Secret ? protector.Unprotect(record.Value, Context(record.Scope, record.Owner, record.Name)) : record.Value;

    private static KeyValueEntry Shown(KeyValueRecord r) =>
        new(r.Scope, r.Owner, r.Name, r.Secret ? SecretMask.Mask : r.Value, r.Secret, r.ExpiresAt, r.UpdatedAt, r.UpdatedBy);

    private async Task AnnounceAsync(string change, KeyValueRecord record, CancellationToken cancellationToken)
    {
        var payload = new JsonObject
        {
            ["change"] = change,
            ["scope"] = Wire(record.Scope),
            ["name"] = record.Name,
            ["secret"] = record.Secret,
            ["by"] = record.UpdatedBy,
        };
        if (record.Scope == KeyValueScope.User)
        {
            payload["user"] = record.Owner;
        }

        if (change == "set")
        {
            payload["value"] = record.Secret ? SecretMask.Mask : record.Value;
        }

        try
        {
            await events.PublishAsync(BuiltInTriggers.KeyValueChanged, payload, "datastore", cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is Storage.StoreUnavailableException or EventRejectedException)
        {
            // The change is made; only its announcement is lost, and the log says so.
            LogAnnounceFailed(logger, Describe(record.Scope, record.Owner, record.Name), ex.Message);
        }
    }

    /// <summary>The scope's wire name: <c>system</c> or <c>user</c>.</summary>
    public static string Wire(KeyValueScope scope) => scope == KeyValueScope.System ? "system" : "user";

    /// <summary>Reads a scope's wire name.</summary>
    public static bool TryParseScope(string? text, out KeyValueScope scope)
    {
        switch (text)
        {
            case "system":
                scope = KeyValueScope.System;
                return true;
            case "user":
                scope = KeyValueScope.User;
                return true;
            default:
                scope = KeyValueScope.System;
                return false;
        }
    }

    private static string OwnerFor(KeyValueScope scope, string owner)
    {
        if (scope == KeyValueScope.System)
        {
            return string.Empty;
        }

        return string.IsNullOrWhiteSpace(owner) ? throw new DatastoreException("A user-scope key needs its owner's name.") : owner;
    }

    private static void CheckKey(KeyValueScope scope, ref string owner, string name)
    {
        owner = OwnerFor(scope, owner);
        if (!IsValidName(name))
        {
            throw new DatastoreException($"'{Shorten(name)}' is not a valid key name: use letters, digits, '_', '.', ':' and '-' (at most 200), starting with a letter, digit or '_'.");
        }
    }

    private static string Shorten(string? text) => text is null ? string.Empty : text.Length <= 40 ? text : text[..40] + "...";

    private static string Context(KeyValueScope scope, string owner, string name) => $"{Wire(scope)}/{owner}/{name}";

    private static string Describe(KeyValueScope scope, string owner, string name) =>
        scope == KeyValueScope.System ? $"system.{name}" : $"user({owner}).{name}";

    [LoggerMessage(EventId = 1550, Level = LogLevel.Information, Message = "Datastore key {Key} set (secret: {Secret}) by {By}")]
    private static partial void LogSet(ILogger logger, string key, bool secret, string by);

    [LoggerMessage(EventId = 1551, Level = LogLevel.Information, Message = "Datastore key {Key} deleted by {By}")]
    private static partial void LogDeleted(ILogger logger, string key, string by);

    [LoggerMessage(EventId = 1552, Level = LogLevel.Error, Message = "Datastore secret {Key} cannot be decrypted and is left out of templates: {Reason}")]
    private static partial void LogUndecryptable(ILogger logger, string key, string reason);

    [LoggerMessage(EventId = 1553, Level = LogLevel.Warning, Message = "The change of datastore key {Key} was made but not announced as an event: {Reason}")]
    private static partial void LogAnnounceFailed(ILogger logger, string key, string reason);
}

/// <summary>Removes expired keys from the store every hour (reads ignore them already; this reclaims the space).</summary>
public sealed partial class DatastoreJanitor(DatastoreService datastore, TimeProvider time, ILogger<DatastoreJanitor> logger) : Microsoft.Extensions.Hosting.BackgroundService
{
    public static readonly TimeSpan Interval = TimeSpan.FromHours(1);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                try
                {
                    var purged = await datastore.PurgeExpiredAsync(stoppingToken).ConfigureAwait(false);
                    if (purged > 0)
                    {
                        LogPurged(logger, purged);
                    }
                }
                catch (Storage.StoreUnavailableException ex)
                {
                    LogFailed(logger, ex.Message);
                }

                await Task.Delay(Interval, time, stoppingToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping.
        }
    }

    [LoggerMessage(EventId = 1554, Level = LogLevel.Information, Message = "Purged {Count} expired datastore key(s)")]
    private static partial void LogPurged(ILogger logger, int count);

    [LoggerMessage(EventId = 1555, Level = LogLevel.Warning, Message = "Could not purge expired datastore keys, will retry: {Reason}")]
    private static partial void LogFailed(ILogger logger, string reason);
}
