using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using OpsRobot.Core.Audit;
using OpsRobot.Core.Users;

namespace OpsRobot.Core.Access;

public sealed partial class AccessService
{
    /// <summary>Every API key and token starts with this, so secret scanners and the audit's masking recognise them.</summary>
    public const string KeyPrefix = "opsr_";

    /// <summary>
    /// Makes an API key for <paramref name="ownerName"/> (anyone may make keys for themselves; for others it takes
    /// <c>apikey.manage</c> and the whitelist). The clear key is returned once and stored only as a hash.
    /// </summary>
    public async Task<(ApiKeyRecord Key, string Secret)> CreateApiKeyAsync(Principal actor, string ownerName, string name, IReadOnlyList<Grant>? scope, DateTimeOffset? expiresAt, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(actor);
        var owner = await RequireUserAsync(ownerName, cancellationToken).ConfigureAwait(false);
        if (actor.User?.Id != owner.Id)
        {
            await RequireAsync(actor, Permissions.ApiKeyManage, owner.Name, cancellationToken).ConfigureAwait(false);
        }
        else if (actor.KeyScope is not null)
        {
            throw new AccessChangeException("An API key cannot make other API keys; sign in (opsrobot login) to make one.") { Forbidden = true };
        }

        if (string.IsNullOrWhiteSpace(name) || name.Length > 100 || name.Any(char.IsControl))
        {
            throw new AccessChangeException("An API key needs a name of 1 to 100 characters, saying what it is for.");
        }

        foreach (var grant in scope ?? [])
        {
            if (BuiltInRoles.CheckGrant(grant) is { } problem)
            {
                throw new AccessChangeException($"The key's scope: {problem}.");
            }
        }

        var now = _time.GetUtcNow();
        if (expiresAt is { } e && e <= now)
        {
            throw new AccessChangeException("The expiry is in the past.");
        }

        var (record, secret) = await IssueAsync("key", owner, name, scope, expiresAt, actor.Name, cancellationToken).ConfigureAwait(false);
        await AuditChangeAsync(actor, AuditKinds.ApiKeyChanged, owner.Name, new JsonObject
        {
            ["change"] = "created",
            ["key_id"] = record.Id,
            ["name"] = name,
            ["scope"] = scope is null ? null : new JsonArray([.. scope.Select(g => (JsonNode?)JsonValue.Create(g.ToString()))]),
            ["expires_at"] = expiresAt?.ToString("O", CultureInfo.InvariantCulture),
        }, cancellationToken).ConfigureAwait(false);
        return (record, secret);
    }

    /// <summary>A bearer token for a user who just signed in with their password (<c>opsrobot login</c>).</summary>
    public async Task<(ApiKeyRecord Token, string Secret)> IssueTokenAsync(UserRecord user, string name, string? from, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(user);
        var (record, secret) = await IssueAsync("token", user, name, null, _time.GetUtcNow() + _options.TokenLifetime, user.Name, cancellationToken).ConfigureAwait(false);
        await _audit.WriteAsync(new AuditEntry
        {
            Kind = AuditKinds.SignIn,
            Actor = user.Name,
            Door = Doors.Cli,
            Place = from,
            Subject = "bearer token",
            Decision = "allow",
            Rule = "password",
            Detail = new JsonObject { ["token_id"] = record.Id, ["expires_at"] = record.ExpiresAt?.ToString("O", CultureInfo.InvariantCulture) },
        }, cancellationToken).ConfigureAwait(false);
        return (record, secret);
    }

    private async Task<(ApiKeyRecord Key, string Secret)> IssueAsync(string kind, UserRecord owner, string name, IReadOnlyList<Grant>? scope, DateTimeOffset? expiresAt, string by, CancellationToken cancellationToken)
    {
        var secret = KeyPrefix + Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        var record = await _store.CreateApiKeyAsync(new ApiKeyRecord
        {
            Id = 0,
            Kind = kind,
            UserId = owner.Id,
            Name = name,
            Scope = scope,
            CreatedBy = by,
            CreatedAt = _time.GetUtcNow(),
            ExpiresAt = expiresAt,
        }, HashSecret(secret), cancellationToken).ConfigureAwait(false);
        return (record, secret);
    }

    /// <summary>
    /// Who an API key or bearer token belongs to. Null (with the reason, for the log and the audit, never the
    /// caller) when it is unknown, revoked or expired. Records the use.
    /// </summary>
    public async Task<(Principal? Principal, string? Problem)> AuthenticateKeyAsync(string secret, string door, string? from, CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(secret) || secret.Length > 200 || !secret.StartsWith(KeyPrefix, StringComparison.Ordinal))
        {
            return (null, "not an OpsRobot key");
        }

        var found = await _store.FindApiKeyBySecretHashAsync(HashSecret(secret), cancellationToken).ConfigureAwait(false);
        if (found is not { } f)
        {
            return (null, "unknown key");
        }

        var key = f.Key;
        var now = _time.GetUtcNow();
        if (key.RevokedAt is not null)
        {
            return (null, $"key #{key.Id} was revoked");
        }

        if (key.ExpiresAt is { } expires && expires <= now)
        {
            return (null, $"key #{key.Id} expired");
        }

        var user = await _users.FindByIdAsync(key.UserId, cancellationToken).ConfigureAwait(false);
        if (user is null)
        {
            return (null, $"key #{key.Id}'s owner no longer exists");
        }

        await _store.RecordApiKeyUseAsync(key.Id, now, from, cancellationToken).ConfigureAwait(false);
        var principal = await ForUserAsync(user, door, from, cancellationToken).ConfigureAwait(false);
        return (principal with { KeyScope = key.Scope, ApiKeyId = key.Id, IsBearerToken = key.Kind == "token" }, null);
    }

    public async Task<IReadOnlyList<ApiKeyRecord>> ListApiKeysAsync(Principal actor, string? ownerName, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(actor);
        UserRecord? owner = null;
        if (ownerName is not null)
        {
            owner = await RequireUserAsync(ownerName, cancellationToken).ConfigureAwait(false);
        }

        if (owner is null || owner.Id != actor.User?.Id)
        {
            var decision = Check(actor, Permissions.ApiKeyView, owner?.Name ?? "*");
            if (!decision.Allowed)
            {
                return owner is null && actor.User is { } self
                    ? await _store.ListApiKeysAsync(self.Id, cancellationToken).ConfigureAwait(false)
                    : throw new AccessChangeException(await ExplainAsync(actor, decision.Explanation!, null, cancellationToken).ConfigureAwait(false)) { Forbidden = true };
            }
        }

        return await _store.ListApiKeysAsync(owner?.Id, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Revokes a key: its owner may, and so may those with <c>apikey.manage</c> on the owner.</summary>
    public async Task<bool> RevokeApiKeyAsync(Principal actor, long id, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(actor);
        var key = await _store.GetApiKeyAsync(id, cancellationToken).ConfigureAwait(false);
        if (key is null)
        {
            return false;
        }

        var owner = await _users.FindByIdAsync(key.UserId, cancellationToken).ConfigureAwait(false);
        if (actor.User?.Id != key.UserId)
        {
            await RequireAsync(actor, Permissions.ApiKeyManage, owner?.Name ?? "*", cancellationToken).ConfigureAwait(false);
        }

        var revoked = await _store.RevokeApiKeyAsync(id, actor.Name, _time.GetUtcNow(), cancellationToken).ConfigureAwait(false);
        if (revoked)
        {
            await AuditChangeAsync(actor, AuditKinds.ApiKeyChanged, owner?.Name ?? key.UserId.ToString(CultureInfo.InvariantCulture),
                new JsonObject { ["change"] = "revoked", ["key_id"] = id, ["name"] = key.Name }, cancellationToken).ConfigureAwait(false);
        }

        return revoked;
    }

    private static string HashSecret(string secret) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(secret)));
}
