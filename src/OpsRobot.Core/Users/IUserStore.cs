using System.Text.RegularExpressions;

namespace OpsRobot.Core.Users;

/// <summary>An OpsRobot user: the person behind every door (web, shell, chat identities, API keys).</summary>
public sealed record UserRecord(
    long Id,
    string Name,
    string DisplayName,
    bool IsAdmin,
    string? PasswordHash,
    int FailedSignIns,
    DateTimeOffset? LockedUntil,
    DateTimeOffset CreatedAt,
    DateTimeOffset? LastSignInAt);

/// <summary>The users' records.</summary>
public interface IUserStore
{
    Task<UserRecord?> FindByNameAsync(string name, CancellationToken cancellationToken);

    Task<UserRecord?> FindByIdAsync(long id, CancellationToken cancellationToken);

    Task<long> CountAsync(CancellationToken cancellationToken);

    /// <summary>How many administrators exist; zero means the first start has not made one yet.</summary>
    Task<long> CountAdminsAsync(CancellationToken cancellationToken);

    /// <summary>The names of the users on the administrators' whitelist, alphabetically, at most <paramref name="limit"/>.</summary>
    Task<IReadOnlyList<string>> ListAdminNamesAsync(int limit, CancellationToken cancellationToken);

    /// <summary>Every user, by name.</summary>
    Task<IReadOnlyList<UserRecord>> ListAsync(CancellationToken cancellationToken);

    /// <summary>Makes an existing user an administrator.</summary>
    Task SetAdminAsync(long id, bool isAdmin, CancellationToken cancellationToken);

    /// <summary>Creates a user. Throws <see cref="Storage.StoreConflictException"/> when the name is taken (names compare case-insensitively).</summary>
    Task<UserRecord> CreateAsync(string name, string displayName, bool isAdmin, string? passwordHash, CancellationToken cancellationToken);

    Task SetPasswordHashAsync(long id, string passwordHash, CancellationToken cancellationToken);

    /// <summary>Records a failed sign-in: the new failure count and, when it crossed the limit, until when the account is locked.</summary>
    Task RecordSignInFailureAsync(long id, int failedSignIns, DateTimeOffset? lockedUntil, CancellationToken cancellationToken);

    Task RecordSignInSuccessAsync(long id, DateTimeOffset at, CancellationToken cancellationToken);
}

/// <summary>The rule for user names, shared by every door that creates one.</summary>
public static partial class UserNames
{
    [GeneratedRegex("^[a-zA-Z0-9][a-zA-Z0-9._-]{0,63}$", RegexOptions.CultureInvariant, matchTimeoutMilliseconds: 100)]
    private static partial Regex Pattern();

    public const string Rule = "1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit";

    public static bool IsValid(string? name) => name is not null && Pattern().IsMatch(name);
}
