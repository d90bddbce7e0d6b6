using System.Text.Json;
using Dapper;
using OpsRobot.Core.Access;

namespace OpsRobot.Storage.Sqlite;

/// <summary>Access control's records in SQLite.</summary>
public sealed class SqliteAccessStore(SqliteDatabase database, TimeProvider time) : SqliteStoreBase(database), IAccessStore
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public Task<IReadOnlyList<ChatIdentityLink>> ListIdentitiesAsync(CancellationToken cancellationToken) =>
        WithConnectionAsync(async c => (IReadOnlyList<ChatIdentityLink>)(await c.QueryAsync<IdentityRow>(new CommandDefinition(
            "SELECT platform AS Platform, platform_user_id AS PlatformUserId, user_id AS UserId, display_name AS DisplayName, linked_by AS LinkedBy, linked_at AS LinkedAt FROM chat_identities",
            cancellationToken: cancellationToken)).ConfigureAwait(false))
            .Select(r => new ChatIdentityLink(r.Platform, r.PlatformUserId, r.UserId, r.DisplayName, r.LinkedBy, FromUnixMs(r.LinkedAt))).ToList(), cancellationToken);

    public Task<ChatIdentityLink?> LinkIdentityAsync(ChatIdentityLink link, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(link);
        return InTransactionAsync(async (c, tx) =>
        {
            var old = await c.QuerySingleOrDefaultAsync<IdentityRow>(new CommandDefinition(
                "SELECT platform AS Platform, platform_user_id AS PlatformUserId, user_id AS UserId, display_name AS DisplayName, linked_by AS LinkedBy, linked_at AS LinkedAt FROM chat_identities WHERE platform = @Platform AND platform_user_id = @PlatformUserId",
                new { link.Platform, link.PlatformUserId }, tx, cancellationToken: cancellationToken)).ConfigureAwait(false);
            await c.ExecuteAsync(new CommandDefinition(
                "INSERT INTO chat_identities (platform, platform_user_id, user_id, display_name, linked_by, linked_at) VALUES (@Platform, @PlatformUserId, @UserId, @DisplayName, @LinkedBy, @at) " +
                "ON CONFLICT (platform, platform_user_id) DO UPDATE SET user_id = excluded.user_id, display_name = excluded.display_name, linked_by = excluded.linked_by, linked_at = excluded.linked_at",
                new { link.Platform, link.PlatformUserId, link.UserId, link.DisplayName, link.LinkedBy, at = ToUnixMs(link.LinkedAt) }, tx, cancellationToken: cancellationToken)).ConfigureAwait(false);
            return old is null ? null : new ChatIdentityLink(old.Platform, old.PlatformUserId, old.UserId, old.DisplayName, old.LinkedBy, FromUnixMs(old.LinkedAt));
        }, cancellationToken);
    }

    public Task<bool> UnlinkIdentityAsync(string platform, string platformUserId, CancellationToken cancellationToken) =>
        WithConnectionAsync(async c => await c.ExecuteAsync(new CommandDefinition(
            "DELETE FROM chat_identities WHERE platform = @platform AND platform_user_id = @platformUserId", new { platform, platformUserId }, cancellationToken: cancellationToken)).ConfigureAwait(false) > 0,
            cancellationToken);

    public Task<IReadOnlyList<UserRoleAssignment>> ListUserRolesAsync(CancellationToken cancellationToken) =>
        WithConnectionAsync(async c => (IReadOnlyList<UserRoleAssignment>)(await c.QueryAsync<AssignmentRow>(new CommandDefinition(
            "SELECT user_id AS UserId, role AS Role, granted_by AS GrantedBy, granted_at AS GrantedAt FROM user_roles", cancellationToken: cancellationToken)).ConfigureAwait(false))
            .Select(r => new UserRoleAssignment(r.UserId, r.Role, r.GrantedBy, FromUnixMs(r.GrantedAt))).ToList(), cancellationToken);

    public Task<bool> AssignRoleAsync(UserRoleAssignment assignment, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(assignment);
        return WithConnectionAsync(async c => await c.ExecuteAsync(new CommandDefinition(
            "INSERT INTO user_roles (user_id, role, granted_by, granted_at) VALUES (@UserId, @Role, @GrantedBy, @at) ON CONFLICT DO NOTHING",
            new { assignment.UserId, assignment.Role, assignment.GrantedBy, at = ToUnixMs(assignment.GrantedAt) }, cancellationToken: cancellationToken)).ConfigureAwait(false) > 0, cancellationToken);
    }

    public Task<bool> UnassignRoleAsync(long userId, string role, CancellationToken cancellationToken) =>
        WithConnectionAsync(async c => await c.ExecuteAsync(new CommandDefinition(
            "DELETE FROM user_roles WHERE user_id = @userId AND role = @role", new { userId, role }, cancellationToken: cancellationToken)).ConfigureAwait(false) > 0, cancellationToken);

    public Task<IReadOnlyList<Role>> ListRolesAsync(CancellationToken cancellationToken) =>
        WithConnectionAsync(async c => (IReadOnlyList<Role>)(await c.QueryAsync<RoleRow>(new CommandDefinition(
            "SELECT name AS Name, description AS Description, grants AS Grants FROM roles", cancellationToken: cancellationToken)).ConfigureAwait(false))
            .Select(r => new Role(r.Name, r.Description, ReadGrants(r.Grants) ?? [], RoleOrigin.Store)).ToList(), cancellationToken);

    public Task SaveRoleAsync(Role role, string by, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(role);
        return WithConnectionAsync(c => c.ExecuteAsync(new CommandDefinition(
            "INSERT INTO roles (name, description, grants, updated_by, updated_at) VALUES (@Name, @Description, @grants, @by, @at) " +
            "ON CONFLICT (name) DO UPDATE SET description = excluded.description, grants = excluded.grants, updated_by = excluded.updated_by, updated_at = excluded.updated_at",
            new { role.Name, role.Description, grants = WriteGrants(role.Grants), by, at = ToUnixMs(time.GetUtcNow()) }, cancellationToken: cancellationToken)), cancellationToken);
    }

    public Task<bool> DeleteRoleAsync(string name, CancellationToken cancellationToken) =>
        InTransactionAsync(async (c, tx) =>
        {
            await c.ExecuteAsync(new CommandDefinition("DELETE FROM user_roles WHERE role = @name", new { name }, tx, cancellationToken: cancellationToken)).ConfigureAwait(false);
            return await c.ExecuteAsync(new CommandDefinition("DELETE FROM roles WHERE name = @name", new { name }, tx, cancellationToken: cancellationToken)).ConfigureAwait(false) > 0;
        }, cancellationToken);

    public Task<IReadOnlyList<TreeNodeRecord>> ListNodesAsync(CancellationToken cancellationToken) =>
        WithConnectionAsync(async c => (IReadOnlyList<TreeNodeRecord>)(await c.QueryAsync<NodeRow>(new CommandDefinition(
            "SELECT path AS Path, description AS Description, created_by AS CreatedBy, created_at AS CreatedAt FROM tree_nodes ORDER BY path", cancellationToken: cancellationToken)).ConfigureAwait(false))
            .Select(r => new TreeNodeRecord(r.Path, r.Description, r.CreatedBy, FromUnixMs(r.CreatedAt))).ToList(), cancellationToken);

    public Task<IReadOnlyList<TreeMemberRecord>> ListMembersAsync(CancellationToken cancellationToken) =>
        WithConnectionAsync(async c => (IReadOnlyList<TreeMemberRecord>)(await c.QueryAsync<MemberRow>(new CommandDefinition(
            "SELECT path AS Path, user_id AS UserId, kind AS Kind, added_by AS AddedBy, added_at AS AddedAt FROM tree_members", cancellationToken: cancellationToken)).ConfigureAwait(false))
            .Select(r => new TreeMemberRecord(r.Path, r.UserId, r.Kind == "owner" ? TreeMemberKind.Owner : TreeMemberKind.Member, r.AddedBy, FromUnixMs(r.AddedAt))).ToList(), cancellationToken);

    public Task<bool> AddNodeAsync(TreeNodeRecord node, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(node);
        return WithConnectionAsync(async c => await c.ExecuteAsync(new CommandDefinition(
            "INSERT INTO tree_nodes (path, description, created_by, created_at) VALUES (@Path, @Description, @CreatedBy, @at) ON CONFLICT DO NOTHING",
            new { node.Path, node.Description, node.CreatedBy, at = ToUnixMs(node.CreatedAt) }, cancellationToken: cancellationToken)).ConfigureAwait(false) > 0, cancellationToken);
    }

    public Task<int> RemoveNodeAsync(string path, CancellationToken cancellationToken) =>
        InTransactionAsync(async (c, tx) =>
        {
            var below = path + "/";
            await c.ExecuteAsync(new CommandDefinition(
                "DELETE FROM tree_members WHERE path = @path OR substr(path, 1, length(@below)) = @below", new { path, below }, tx, cancellationToken: cancellationToken)).ConfigureAwait(false);
            return await c.ExecuteAsync(new CommandDefinition(
                "DELETE FROM tree_nodes WHERE path = @path OR substr(path, 1, length(@below)) = @below", new { path, below }, tx, cancellationToken: cancellationToken)).ConfigureAwait(false);
        }, cancellationToken);

    public Task SetMemberAsync(TreeMemberRecord member, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(member);
        return WithConnectionAsync(c => c.ExecuteAsync(new CommandDefinition(
            "INSERT INTO tree_members (path, user_id, kind, added_by, added_at) VALUES (@Path, @UserId, @kind, @AddedBy, @at) " +
            "ON CONFLICT (path, user_id) DO UPDATE SET kind = excluded.kind, added_by = excluded.added_by, added_at = excluded.added_at",
            new { member.Path, member.UserId, kind = member.Kind == TreeMemberKind.Owner ? "owner" : "member", member.AddedBy, at = ToUnixMs(member.AddedAt) },
            cancellationToken: cancellationToken)), cancellationToken);
    }

    public Task<bool> RemoveMemberAsync(string path, long userId, CancellationToken cancellationToken) =>
        WithConnectionAsync(async c => await c.ExecuteAsync(new CommandDefinition(
            "DELETE FROM tree_members WHERE path = @path AND user_id = @userId", new { path, userId }, cancellationToken: cancellationToken)).ConfigureAwait(false) > 0, cancellationToken);

    private const string KeyColumns =
        "id AS Id, kind AS Kind, user_id AS UserId, name AS Name, secret_hash AS SecretHash, scope AS Scope, created_by AS CreatedBy, created_at AS CreatedAt, " +
        "expires_at AS ExpiresAt, revoked_at AS RevokedAt, revoked_by AS RevokedBy, last_used_at AS LastUsedAt, last_used_from AS LastUsedFrom";

    public async Task<ApiKeyRecord> CreateApiKeyAsync(ApiKeyRecord key, string secretHash, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(key);
        var id = await WithConnectionAsync(c => c.ExecuteScalarAsync<long>(new CommandDefinition(
            "INSERT INTO api_keys (kind, user_id, name, secret_hash, scope, created_by, created_at, expires_at) VALUES (@Kind, @UserId, @Name, @secretHash, @scope, @CreatedBy, @created, @expires) RETURNING id",
            new { key.Kind, key.UserId, key.Name, secretHash, scope = key.Scope is null ? null : WriteGrants(key.Scope), key.CreatedBy, created = ToUnixMs(key.CreatedAt), expires = key.ExpiresAt?.ToUnixTimeMilliseconds() },
            cancellationToken: cancellationToken)), cancellationToken).ConfigureAwait(false);
        return key with { Id = id };
    }

    public Task<(ApiKeyRecord Key, string SecretHash)?> FindApiKeyBySecretHashAsync(string secretHash, CancellationToken cancellationToken) =>
        WithConnectionAsync(async c =>
        {
            var row = await c.QuerySingleOrDefaultAsync<KeyRow>(new CommandDefinition(
                $"SELECT {KeyColumns} FROM api_keys WHERE secret_hash = @secretHash", new { secretHash }, cancellationToken: cancellationToken)).ConfigureAwait(false);
            return row is null ? ((ApiKeyRecord, string)?)null : (Map(row), row.SecretHash);
        }, cancellationToken);

    public Task<IReadOnlyList<ApiKeyRecord>> ListApiKeysAsync(long? userId, CancellationToken cancellationToken) =>
        WithConnectionAsync(async c => (IReadOnlyList<ApiKeyRecord>)(await c.QueryAsync<KeyRow>(new CommandDefinition(
            $"SELECT {KeyColumns} FROM api_keys WHERE (@userId IS NULL OR user_id = @userId) ORDER BY id", new { userId }, cancellationToken: cancellationToken)).ConfigureAwait(false))
            .Select(Map).ToList(), cancellationToken);

    public Task<ApiKeyRecord?> GetApiKeyAsync(long id, CancellationToken cancellationToken) =>
        WithConnectionAsync(async c =>
        {
            var row = await c.QuerySingleOrDefaultAsync<KeyRow>(new CommandDefinition($"SELECT {KeyColumns} FROM api_keys WHERE id = @id", new { id }, cancellationToken: cancellationToken)).ConfigureAwait(false);
            return row is null ? null : Map(row);
        }, cancellationToken);

    public Task<bool> RevokeApiKeyAsync(long id, string by, DateTimeOffset at, CancellationToken cancellationToken) =>
        WithConnectionAsync(async c => await c.ExecuteAsync(new CommandDefinition(
            "UPDATE api_keys SET revoked_at = @at, revoked_by = @by WHERE id = @id AND revoked_at IS NULL", new { id, by, at = ToUnixMs(at) }, cancellationToken: cancellationToken)).ConfigureAwait(false) > 0,
            cancellationToken);

    // Every API call with a key records its use. Through the group-committing writer: an UPDATE takes SQLite's write
    // lock even when it changes no row, and on its own connection each call raced the other writers for it (a burst
    // of 1,000 API calls spent most of its time there). At most one change a second per key and address.
    public Task RecordApiKeyUseAsync(long id, DateTimeOffset at, string? from, CancellationToken cancellationToken) =>
        Database.Writer.WriteAsync(c =>
        {
            c.Statement(
                "UPDATE api_keys SET last_used_at = ?1, last_used_from = ?2 WHERE id = ?3 AND (last_used_at IS NULL OR last_used_at < ?1 - 1000 OR last_used_from IS NOT ?2)")
                .Bind(1, ToUnixMs(at)).Bind(2, from).Bind(3, id).Execute();
            return true;
        }, cancellationToken);

    public Task<long> CreateCodeAsync(string purpose, long userId, string codeHash, string payload, DateTimeOffset createdAt, DateTimeOffset expiresAt, CancellationToken cancellationToken) =>
        InTransactionAsync(async (c, tx) =>
        {
            var now = ToUnixMs(createdAt);
            var clash = await c.ExecuteScalarAsync<long>(new CommandDefinition(
                "SELECT COUNT(*) FROM one_time_codes WHERE purpose = @purpose AND code_hash = @codeHash AND used_at IS NULL AND expires_at > @now",
                new { purpose, codeHash, now }, tx, cancellationToken: cancellationToken)).ConfigureAwait(false);
            if (clash > 0)
            {
                return 0L;
            }

            return await c.ExecuteScalarAsync<long>(new CommandDefinition(
                "INSERT INTO one_time_codes (purpose, user_id, code_hash, payload, created_at, expires_at) VALUES (@purpose, @userId, @codeHash, @payload, @now, @expires) RETURNING id",
                new { purpose, userId, codeHash, payload, now, expires = ToUnixMs(expiresAt) }, tx, cancellationToken: cancellationToken)).ConfigureAwait(false);
        }, cancellationToken);

    private const string CodeColumns = "id AS Id, purpose AS Purpose, user_id AS UserId, payload AS Payload, created_at AS CreatedAt, expires_at AS ExpiresAt, used_at AS UsedAt";

    public Task<IReadOnlyList<OneTimeCodeRecord>> ListOpenCodesAsync(string purpose, long userId, DateTimeOffset now, CancellationToken cancellationToken) =>
        WithConnectionAsync(async c => (IReadOnlyList<OneTimeCodeRecord>)(await c.QueryAsync<CodeRow>(new CommandDefinition(
            $"SELECT {CodeColumns} FROM one_time_codes WHERE purpose = @purpose AND user_id = @userId AND used_at IS NULL AND expires_at > @now ORDER BY id",
            new { purpose, userId, now = ToUnixMs(now) }, cancellationToken: cancellationToken)).ConfigureAwait(false)).Select(Map).ToList(), cancellationToken);

    public Task<OneTimeCodeRecord?> UseCodeAsync(string purpose, string codeHash, DateTimeOffset now, CancellationToken cancellationToken) =>
        WithConnectionAsync(async c =>
        {
            var row = await c.QuerySingleOrDefaultAsync<CodeRow>(new CommandDefinition(
                $"UPDATE one_time_codes SET used_at = @now WHERE id = (SELECT id FROM one_time_codes WHERE purpose = @purpose AND code_hash = @codeHash AND used_at IS NULL AND expires_at > @now ORDER BY id LIMIT 1) RETURNING {CodeColumns}",
                new { purpose, codeHash, now = ToUnixMs(now) }, cancellationToken: cancellationToken)).ConfigureAwait(false);
            return row is null ? null : Map(row);
        }, cancellationToken);

    public Task<OneTimeCodeRecord?> UseCodeByIdAsync(string purpose, long id, long userId, DateTimeOffset now, CancellationToken cancellationToken) =>
        WithConnectionAsync(async c =>
        {
            var row = await c.QuerySingleOrDefaultAsync<CodeRow>(new CommandDefinition(
                $"UPDATE one_time_codes SET used_at = @now WHERE id = @id AND purpose = @purpose AND user_id = @userId AND used_at IS NULL AND expires_at > @now RETURNING {CodeColumns}",
                new { purpose, id, userId, now = ToUnixMs(now) }, cancellationToken: cancellationToken)).ConfigureAwait(false);
            return row is null ? null : Map(row);
        }, cancellationToken);

    public Task<ElevationRecord?> GetElevationAsync(long userId, CancellationToken cancellationToken) =>
        WithConnectionAsync(async c =>
        {
            var row = await c.QuerySingleOrDefaultAsync<ElevationRow>(new CommandDefinition(
                "SELECT user_id AS UserId, opened_at AS OpenedAt, expires_at AS ExpiresAt, confirmed_via AS ConfirmedVia FROM elevations WHERE user_id = @userId",
                new { userId }, cancellationToken: cancellationToken)).ConfigureAwait(false);
            return row is null ? null : new ElevationRecord(row.UserId, FromUnixMs(row.OpenedAt), FromUnixMs(row.ExpiresAt), row.ConfirmedVia);
        }, cancellationToken);

    public Task OpenElevationAsync(ElevationRecord elevation, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(elevation);
        return WithConnectionAsync(c => c.ExecuteAsync(new CommandDefinition(
            "INSERT INTO elevations (user_id, opened_at, expires_at, confirmed_via) VALUES (@UserId, @opened, @expires, @ConfirmedVia) " +
            "ON CONFLICT (user_id) DO UPDATE SET opened_at = excluded.opened_at, expires_at = excluded.expires_at, confirmed_via = excluded.confirmed_via",
            new { elevation.UserId, opened = ToUnixMs(elevation.OpenedAt), expires = ToUnixMs(elevation.ExpiresAt), elevation.ConfirmedVia }, cancellationToken: cancellationToken)), cancellationToken);
    }

    public Task CloseElevationAsync(long userId, CancellationToken cancellationToken) =>
        WithConnectionAsync(c => c.ExecuteAsync(new CommandDefinition("DELETE FROM elevations WHERE user_id = @userId", new { userId }, cancellationToken: cancellationToken)), cancellationToken);

    private static string WriteGrants(IReadOnlyList<Grant> grants) =>
        JsonSerializer.Serialize(grants.Select(g => new GrantJson { Permission = g.Permission, Resources = [.. g.Resources], ReadOnly = g.ReadOnlyOnly }), Json);

    private static List<Grant>? ReadGrants(string? json) => json is null
        ? null
        : (JsonSerializer.Deserialize<List<GrantJson>>(json, Json) ?? []).Select(g => new Grant(g.Permission, g.Resources) { ReadOnlyOnly = g.ReadOnly }).ToList();

    private static ApiKeyRecord Map(KeyRow r) => new()
    {
        Id = r.Id,
        Kind = r.Kind,
        UserId = r.UserId,
        Name = r.Name,
        Scope = ReadGrants(r.Scope),
        CreatedBy = r.CreatedBy,
        CreatedAt = FromUnixMs(r.CreatedAt),
        ExpiresAt = FromUnixMs(r.ExpiresAt),
        RevokedAt = FromUnixMs(r.RevokedAt),
        RevokedBy = r.RevokedBy,
        LastUsedAt = FromUnixMs(r.LastUsedAt),
        LastUsedFrom = r.LastUsedFrom,
    };

    private static OneTimeCodeRecord Map(CodeRow r) => new(r.Id, r.Purpose, r.UserId, r.Payload, FromUnixMs(r.CreatedAt), FromUnixMs(r.ExpiresAt), FromUnixMs(r.UsedAt));

    private sealed class GrantJson
    {
        public string Permission { get; set; } = "";

        public List<string> Resources { get; set; } = [];

        public bool ReadOnly { get; set; }
    }

    private sealed class IdentityRow
    {
        public string Platform { get; set; } = "";

        public string PlatformUserId { get; set; } = "";

        public long UserId { get; set; }

        public string DisplayName { get; set; } = "";

        public string LinkedBy { get; set; } = "";

        public long LinkedAt { get; set; }
    }

    private sealed class AssignmentRow
    {
        public long UserId { get; set; }

        public string Role { get; set; } = "";

        public string GrantedBy { get; set; } = "";

        public long GrantedAt { get; set; }
    }

    private sealed class RoleRow
    {
        public string Name { get; set; } = "";

        public string Description { get; set; } = "";

        public string Grants { get; set; } = "[]";
    }

    private sealed class NodeRow
    {
        public string Path { get; set; } = "";

        public string Description { get; set; } = "";

        public string CreatedBy { get; set; } = "";

        public long CreatedAt { get; set; }
    }

    private sealed class MemberRow
    {
        public string Path { get; set; } = "";

        public long UserId { get; set; }

        public string Kind { get; set; } = "";

        public string AddedBy { get; set; } = "";

        public long AddedAt { get; set; }
    }

    private sealed class KeyRow
    {
        public long Id { get; set; }

        public string Kind { get; set; } = "";

        public long UserId { get; set; }

        public string Name { get; set; } = "";

        public string SecretHash { get; set; } = "";

        public string? Scope { get; set; }

        public string CreatedBy { get; set; } = "";

        public long CreatedAt { get; set; }

        public long? ExpiresAt { get; set; }

        public long? RevokedAt { get; set; }

        public string? RevokedBy { get; set; }

        public long? LastUsedAt { get; set; }

        public string? LastUsedFrom { get; set; }
    }

    private sealed class CodeRow
    {
        public long Id { get; set; }

        public string Purpose { get; set; } = "";

        public long UserId { get; set; }

        public string Payload { get; set; } = "{}";

        public long CreatedAt { get; set; }

        public long ExpiresAt { get; set; }

        public long? UsedAt { get; set; }
    }

    private sealed class ElevationRow
    {
        public long UserId { get; set; }

        public long OpenedAt { get; set; }

        public long ExpiresAt { get; set; }

        public string ConfirmedVia { get; set; } = "";
    }
}
