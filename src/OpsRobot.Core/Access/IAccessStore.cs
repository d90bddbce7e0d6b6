namespace OpsRobot.Core.Access;

/// <summary>A chat identity linked to a user.</summary>
public sealed record ChatIdentityLink(string Platform, string PlatformUserId, long UserId, string DisplayName, string LinkedBy, DateTimeOffset LinkedAt);

/// <summary>A role given to a user in the store.</summary>
public sealed record UserRoleAssignment(long UserId, string Role, string GrantedBy, DateTimeOffset GrantedAt);

/// <summary>A node of the application tree, by its full path.</summary>
public sealed record TreeNodeRecord(string Path, string Description, string CreatedBy, DateTimeOffset CreatedAt);

/// <summary>Whether a person owns a node or is a member of it.</summary>
public enum TreeMemberKind
{
    Member,
    Owner,
}

/// <summary>Someone's place at a node; it holds for every node below too.</summary>
public sealed record TreeMemberRecord(string Path, long UserId, TreeMemberKind Kind, string AddedBy, DateTimeOffset AddedAt);

/// <summary>An API key or a bearer token, without its secret.</summary>
public sealed record ApiKeyRecord
{
    public required long Id { get; init; }

    /// <summary><c>key</c> (made by people) or <c>token</c> (from signing in).</summary>
    public required string Kind { get; init; }

    public required long UserId { get; init; }

    public required string Name { get; init; }

    /// <summary>The grants the key is limited to (on top of its owner's), or null for the owner's full rights.</summary>
    public IReadOnlyList<Grant>? Scope { get; init; }

    public required string CreatedBy { get; init; }

    public required DateTimeOffset CreatedAt { get; init; }

    public DateTimeOffset? ExpiresAt { get; init; }

    public DateTimeOffset? RevokedAt { get; init; }

    public string? RevokedBy { get; init; }

    public DateTimeOffset? LastUsedAt { get; init; }

    public string? LastUsedFrom { get; init; }
}

/// <summary>A one-time code as stored: only its hash.</summary>
public sealed record OneTimeCodeRecord(long Id, string Purpose, long UserId, string Payload, DateTimeOffset CreatedAt, DateTimeOffset ExpiresAt, DateTimeOffset? UsedAt);

/// <summary>An open sudo window.</summary>
public sealed record ElevationRecord(long UserId, DateTimeOffset OpenedAt, DateTimeOffset ExpiresAt, string ConfirmedVia);

/// <summary>Everything access control keeps: identities, role assignments, store roles, the tree, keys, codes, elevations.</summary>
public interface IAccessStore
{
    Task<IReadOnlyList<ChatIdentityLink>> ListIdentitiesAsync(CancellationToken cancellationToken);

    /// <summary>Links (or re-links) a chat identity to a user; returns the link it replaced, if any.</summary>
    Task<ChatIdentityLink?> LinkIdentityAsync(ChatIdentityLink link, CancellationToken cancellationToken);

    Task<bool> UnlinkIdentityAsync(string platform, string platformUserId, CancellationToken cancellationToken);

    Task<IReadOnlyList<UserRoleAssignment>> ListUserRolesAsync(CancellationToken cancellationToken);

    Task<bool> AssignRoleAsync(UserRoleAssignment assignment, CancellationToken cancellationToken);

    Task<bool> UnassignRoleAsync(long userId, string role, CancellationToken cancellationToken);

    Task<IReadOnlyList<Role>> ListRolesAsync(CancellationToken cancellationToken);

    Task SaveRoleAsync(Role role, string by, CancellationToken cancellationToken);

    Task<bool> DeleteRoleAsync(string name, CancellationToken cancellationToken);

    Task<IReadOnlyList<TreeNodeRecord>> ListNodesAsync(CancellationToken cancellationToken);

    Task<IReadOnlyList<TreeMemberRecord>> ListMembersAsync(CancellationToken cancellationToken);

    /// <summary>Adds a node; false when it exists already.</summary>
    Task<bool> AddNodeAsync(TreeNodeRecord node, CancellationToken cancellationToken);

    /// <summary>Removes a node and everything below it, with their members; the number of nodes removed.</summary>
    Task<int> RemoveNodeAsync(string path, CancellationToken cancellationToken);

    Task SetMemberAsync(TreeMemberRecord member, CancellationToken cancellationToken);

    Task<bool> RemoveMemberAsync(string path, long userId, CancellationToken cancellationToken);

    Task<ApiKeyRecord> CreateApiKeyAsync(ApiKeyRecord key, string secretHash, CancellationToken cancellationToken);

    Task<(ApiKeyRecord Key, string SecretHash)?> FindApiKeyBySecretHashAsync(string secretHash, CancellationToken cancellationToken);

    Task<IReadOnlyList<ApiKeyRecord>> ListApiKeysAsync(long? userId, CancellationToken cancellationToken);

    Task<ApiKeyRecord?> GetApiKeyAsync(long id, CancellationToken cancellationToken);

    Task<bool> RevokeApiKeyAsync(long id, string by, DateTimeOffset at, CancellationToken cancellationToken);

    Task RecordApiKeyUseAsync(long id, DateTimeOffset at, string? from, CancellationToken cancellationToken);

    /// <summary>Stores a code; returns its id, or 0 when an open code of the same purpose has the same hash (make another).</summary>
    Task<long> CreateCodeAsync(string purpose, long userId, string codeHash, string payload, DateTimeOffset createdAt, DateTimeOffset expiresAt, CancellationToken cancellationToken);

    /// <summary>The unused, unexpired codes of one purpose a user has.</summary>
    Task<IReadOnlyList<OneTimeCodeRecord>> ListOpenCodesAsync(string purpose, long userId, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>Like <see cref="UseCodeAsync"/>, by the code's id, for its owner only.</summary>
    Task<OneTimeCodeRecord?> UseCodeByIdAsync(string purpose, long id, long userId, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>
    /// Marks the unused, unexpired code with this hash used and returns it, in one step so that a code is never
    /// used twice; null when there is none.
    /// </summary>
    Task<OneTimeCodeRecord?> UseCodeAsync(string purpose, string codeHash, DateTimeOffset now, CancellationToken cancellationToken);

    Task<ElevationRecord?> GetElevationAsync(long userId, CancellationToken cancellationToken);

    Task OpenElevationAsync(ElevationRecord elevation, CancellationToken cancellationToken);

    Task CloseElevationAsync(long userId, CancellationToken cancellationToken);
}
