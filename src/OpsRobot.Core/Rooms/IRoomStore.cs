using System.Text.RegularExpressions;

namespace OpsRobot.Core.Rooms;

/// <summary>A room of OpsRobot's built-in chat (used by the web chat and the shell chat).</summary>
public enum RoomKind
{
    /// <summary>A named room anyone signed in may list and join.</summary>
    Room,

    /// <summary>One user's direct conversation with the robot: every line is a command.</summary>
    Direct,
}

/// <summary>Who wrote a message.</summary>
public enum AuthorKind
{
    User,
    Robot,
}

public sealed record RoomRecord(long Id, string Name, string Topic, RoomKind Kind, long? OwnerUserId, DateTimeOffset CreatedAt);

/// <summary>A room as one user sees it in the room list.</summary>
public sealed record RoomSummary(RoomRecord Room, bool Joined, int MemberCount);

public sealed record StoredMessage(
    long Id, long RoomId, string RoomName, AuthorKind AuthorKind, long? UserId, string AuthorName, string Text, DateTimeOffset CreatedAt);

/// <summary>A message to append to a room.</summary>
public sealed record NewMessage(long RoomId, AuthorKind AuthorKind, long? UserId, string AuthorName, string Text, DateTimeOffset CreatedAt);

/// <summary>Which slice of a room's history to read. At most one of <see cref="BeforeId"/> and <see cref="AfterId"/>.</summary>
public sealed record MessagePage(long? BeforeId, long? AfterId, int Limit);

/// <summary>The built-in chat's rooms, their members and their history.</summary>
public interface IRoomStore
{
    Task<RoomRecord?> FindAsync(string name, CancellationToken cancellationToken);

    /// <summary>Creates a named room with its creator as first member. Throws <see cref="Storage.StoreConflictException"/> when the name is taken.</summary>
    Task<RoomRecord> CreateAsync(string name, string topic, long creatorUserId, DateTimeOffset at, CancellationToken cancellationToken);

    /// <summary>The user's direct room with the robot, created on first use.</summary>
    Task<RoomRecord> GetOrCreateDirectAsync(long userId, string userName, DateTimeOffset at, CancellationToken cancellationToken);

    /// <summary>Every named room, with whether the user joined it, and the user's own direct room if it exists.</summary>
    Task<IReadOnlyList<RoomSummary>> ListForUserAsync(long userId, CancellationToken cancellationToken);

    Task JoinAsync(long roomId, long userId, DateTimeOffset at, CancellationToken cancellationToken);

    Task LeaveAsync(long roomId, long userId, CancellationToken cancellationToken);

    Task<bool> IsMemberAsync(long roomId, long userId, CancellationToken cancellationToken);

    Task<IReadOnlyList<long>> GetMemberIdsAsync(long roomId, CancellationToken cancellationToken);

    /// <summary>Appends a message; it is durable when the task completes.</summary>
    Task<StoredMessage> AppendAsync(NewMessage message, CancellationToken cancellationToken);

    /// <summary>A page of history, in ascending id order.</summary>
    Task<IReadOnlyList<StoredMessage>> ReadAsync(long roomId, MessagePage page, CancellationToken cancellationToken);
}

/// <summary>The rule for room names.</summary>
public static partial class RoomNames
{
    [GeneratedRegex("^[a-z0-9][a-z0-9._-]{0,63}$", RegexOptions.CultureInvariant, matchTimeoutMilliseconds: 100)]
    private static partial Regex Pattern();

    public const string Rule = "1 to 64 lowercase letters, digits, '.', '_' or '-', starting with a letter or digit";

    public static bool IsValid(string? name) => name is not null && Pattern().IsMatch(name);

    /// <summary>The name of a user's direct room with the robot.</summary>
    public static string Direct(string userName)
    {
        ArgumentNullException.ThrowIfNull(userName);
        return "@" + userName.ToLowerInvariant();
    }
}
