using Dapper;
using OpsRobot.Core.Storage;
using OpsRobot.Core.Users;

namespace OpsRobot.Storage.Sqlite;

/// <summary>Users in SQLite.</summary>
public sealed class SqliteUserStore(SqliteDatabase database, TimeProvider time) : SqliteStoreBase(database), IUserStore
{
    private const string Columns =
        "id AS Id, name AS Name, display_name AS DisplayName, is_admin AS IsAdmin, password_hash AS PasswordHash, " +
        "failed_sign_ins AS FailedSignIns, locked_until AS LockedUntil, created_at AS CreatedAt, last_sign_in_at AS LastSignInAt";

    public Task<UserRecord?> FindByNameAsync(string name, CancellationToken cancellationToken) =>
        WithConnectionAsync(async c => Map(await c.QuerySingleOrDefaultAsync<UserRow>(
            new CommandDefinition($"SELECT {Columns} FROM users WHERE name = @name", new { name }, cancellationToken: cancellationToken)).ConfigureAwait(false)),
            cancellationToken);

    public Task<UserRecord?> FindByIdAsync(long id, CancellationToken cancellationToken) =>
        WithConnectionAsync(async c => Map(await c.QuerySingleOrDefaultAsync<UserRow>(
            new CommandDefinition($"SELECT {Columns} FROM users WHERE id = @id", new { id }, cancellationToken: cancellationToken)).ConfigureAwait(false)),
            cancellationToken);

    public Task<long> CountAsync(CancellationToken cancellationToken) =>
        WithConnectionAsync(c => c.ExecuteScalarAsync<long>(new CommandDefinition("SELECT COUNT(*) FROM users", cancellationToken: cancellationToken)),
            cancellationToken);

    public Task<long> CountAdminsAsync(CancellationToken cancellationToken) =>
        WithConnectionAsync(c => c.ExecuteScalarAsync<long>(new CommandDefinition("SELECT COUNT(*) FROM users WHERE is_admin = 1", cancellationToken: cancellationToken)),
            cancellationToken);

    public Task<IReadOnlyList<string>> ListAdminNamesAsync(int limit, CancellationToken cancellationToken) =>
        WithConnectionAsync(async c => (IReadOnlyList<string>)(await c.QueryAsync<string>(new CommandDefinition(
            "SELECT name FROM users WHERE is_admin = 1 ORDER BY name LIMIT @limit", new { limit }, cancellationToken: cancellationToken)).ConfigureAwait(false)).AsList(),
            cancellationToken);

    public Task<IReadOnlyList<UserRecord>> ListAsync(CancellationToken cancellationToken) =>
        WithConnectionAsync(async c => (IReadOnlyList<UserRecord>)(await c.QueryAsync<UserRow>(new CommandDefinition(
            $"SELECT {Columns} FROM users ORDER BY name", cancellationToken: cancellationToken)).ConfigureAwait(false)).Select(r => Map(r)!).ToList(),
            cancellationToken);

    public Task SetAdminAsync(long id, bool isAdmin, CancellationToken cancellationToken) =>
        WithConnectionAsync(c => c.ExecuteAsync(new CommandDefinition(
            "UPDATE users SET is_admin = @isAdmin WHERE id = @id", new { id, isAdmin }, cancellationToken: cancellationToken)), cancellationToken);

    public async Task<UserRecord> CreateAsync(string name, string displayName, bool isAdmin, string? passwordHash, CancellationToken cancellationToken)
    {
        if (!UserNames.IsValid(name))
        {
            throw new ArgumentException($"'{name}' is not a valid user name: {UserNames.Rule}.", nameof(name));
        }

        try
        {
            var id = await WithConnectionAsync(c => c.ExecuteScalarAsync<long>(new CommandDefinition(
                "INSERT INTO users (name, display_name, is_admin, password_hash, created_at) VALUES (@name, @displayName, @isAdmin, @passwordHash, @now) RETURNING id",
                new { name, displayName, isAdmin, passwordHash, now = ToUnixMs(time.GetUtcNow()) }, cancellationToken: cancellationToken)), cancellationToken).ConfigureAwait(false);
            return (await FindByIdAsync(id, cancellationToken).ConfigureAwait(false))!;
        }
        catch (StoreConflictException ex)
        {
            throw new StoreConflictException($"A user named '{name}' already exists.", ex);
        }
    }

    public Task SetPasswordHashAsync(long id, string passwordHash, CancellationToken cancellationToken) =>
        WithConnectionAsync(c => c.ExecuteAsync(new CommandDefinition(
            "UPDATE users SET password_hash = @passwordHash, failed_sign_ins = 0, locked_until = NULL WHERE id = @id",
            new { id, passwordHash }, cancellationToken: cancellationToken)), cancellationToken);

    public Task RecordSignInFailureAsync(long id, int failedSignIns, DateTimeOffset? lockedUntil, CancellationToken cancellationToken) =>
        WithConnectionAsync(c => c.ExecuteAsync(new CommandDefinition(
            "UPDATE users SET failed_sign_ins = @failedSignIns, locked_until = @lockedUntil WHERE id = @id",
            new { id, failedSignIns, lockedUntil = lockedUntil?.ToUnixTimeMilliseconds() }, cancellationToken: cancellationToken)), cancellationToken);

    public Task RecordSignInSuccessAsync(long id, DateTimeOffset at, CancellationToken cancellationToken) =>
        WithConnectionAsync(c => c.ExecuteAsync(new CommandDefinition(
            "UPDATE users SET failed_sign_ins = 0, locked_until = NULL, last_sign_in_at = @at WHERE id = @id",
            new { id, at = ToUnixMs(at) }, cancellationToken: cancellationToken)), cancellationToken);

    private static UserRecord? Map(UserRow? row) => row is null
        ? null
        : new UserRecord(row.Id, row.Name, row.DisplayName, row.IsAdmin, row.PasswordHash, (int)row.FailedSignIns,
            FromUnixMs(row.LockedUntil), FromUnixMs(row.CreatedAt), FromUnixMs(row.LastSignInAt));

    private sealed class UserRow
    {
        public long Id { get; set; }

        public string Name { get; set; } = "";

        public string DisplayName { get; set; } = "";

        public bool IsAdmin { get; set; }

        public string? PasswordHash { get; set; }

        public long FailedSignIns { get; set; }

        public long? LockedUntil { get; set; }

        public long CreatedAt { get; set; }

        public long? LastSignInAt { get; set; }
    }
}
