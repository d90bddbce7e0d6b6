using Dapper;
using OpsRobot.Core.Rooms;
using OpsRobot.Core.Storage;

namespace OpsRobot.Storage.Sqlite;

/// <summary>The built-in chat's rooms and history in SQLite.</summary>
public sealed class SqliteRoomStore(SqliteDatabase database) : SqliteStoreBase(database), IRoomStore
{
    private const string RoomColumns = "r.id AS Id, r.name AS Name, r.topic AS Topic, r.kind AS Kind, r.owner_user_id AS OwnerUserId, r.created_at AS CreatedAt";

    private const string MessageColumns =
        "m.id AS Id, m.room_id AS RoomId, r.name AS RoomName, m.author_kind AS AuthorKind, m.user_id AS UserId, m.author_name AS AuthorName, m.text AS Text, m.created_at AS CreatedAt";

    /// <summary>The most messages one read returns, whatever the caller asks for.</summary>
    public const int MaxPage = 500;

    /// <summary>The writer's fact holding the room names this transaction has read (<see cref="RoomName"/>).</summary>
    private const string RoomNamesFact = "rooms.names";

    public Task<RoomRecord?> FindAsync(string name, CancellationToken cancellationToken) =>
        WithConnectionAsync(async c => Map(await c.QuerySingleOrDefaultAsync<RoomRow>(new CommandDefinition(
            $"SELECT {RoomColumns} FROM rooms r WHERE r.name = @name", new { name }, cancellationToken: cancellationToken)).ConfigureAwait(false)),
            cancellationToken);

    public async Task<RoomRecord> CreateAsync(string name, string topic, long creatorUserId, DateTimeOffset at, CancellationToken cancellationToken)
    {
        if (!RoomNames.IsValid(name))
        {
            throw new ArgumentException($"'{name}' is not a valid room name: {RoomNames.Rule}.", nameof(name));
        }

        try
        {
            return await InTransactionAsync(async (c, tx) =>
            {
                var id = await c.ExecuteScalarAsync<long>(new CommandDefinition(
                    "INSERT INTO rooms (name, topic, kind, owner_user_id, created_at) VALUES (@name, @topic, 'room', @creatorUserId, @at) RETURNING id",
                    new { name, topic, creatorUserId, at = ToUnixMs(at) }, tx, cancellationToken: cancellationToken)).ConfigureAwait(false);
                await c.ExecuteAsync(new CommandDefinition(
                    "INSERT INTO room_members (room_id, user_id, joined_at) VALUES (@id, @creatorUserId, @at)",
                    new { id, creatorUserId, at = ToUnixMs(at) }, tx, cancellationToken: cancellationToken)).ConfigureAwait(false);
                return new RoomRecord(id, name, topic, RoomKind.Room, creatorUserId, FromUnixMs(ToUnixMs(at)));
            }, cancellationToken).ConfigureAwait(false);
        }
        catch (StoreConflictException ex)
        {
            throw new StoreConflictException($"A room named '{name}' already exists.", ex);
        }
    }

    public async Task<RoomRecord> GetOrCreateDirectAsync(long userId, string userName, DateTimeOffset at, CancellationToken cancellationToken)
    {
        var name = RoomNames.Direct(userName);
        return await InTransactionAsync(async (c, tx) =>
        {
            var row = await c.QuerySingleOrDefaultAsync<RoomRow>(new CommandDefinition(
                $"SELECT {RoomColumns} FROM rooms r WHERE r.name = @name", new { name }, tx, cancellationToken: cancellationToken)).ConfigureAwait(false);
            if (row is not null)
            {
                return Map(row)!;
            }

            var id = await c.ExecuteScalarAsync<long>(new CommandDefinition(
                "INSERT INTO rooms (name, topic, kind, owner_user_id, created_at) VALUES (@name, 'Direct messages with the robot', 'direct', @userId, @at) RETURNING id",
                new { name, userId, at = ToUnixMs(at) }, tx, cancellationToken: cancellationToken)).ConfigureAwait(false);
            await c.ExecuteAsync(new CommandDefinition(
                "INSERT INTO room_members (room_id, user_id, joined_at) VALUES (@id, @userId, @at)",
                new { id, userId, at = ToUnixMs(at) }, tx, cancellationToken: cancellationToken)).ConfigureAwait(false);
            return new RoomRecord(id, name, "Direct messages with the robot", RoomKind.Direct, userId, FromUnixMs(ToUnixMs(at)));
        }, cancellationToken).ConfigureAwait(false);
    }

    public Task<IReadOnlyList<RoomSummary>> ListForUserAsync(long userId, CancellationToken cancellationToken) =>
        WithConnectionAsync<IReadOnlyList<RoomSummary>>(async c =>
        {
            var rows = await c.QueryAsync<RoomListRow>(new CommandDefinition(
                $"""
                SELECT {RoomColumns},
                       EXISTS (SELECT 1 FROM room_members x WHERE x.room_id = r.id AND x.user_id = @userId) AS Joined,
                       (SELECT COUNT(*) FROM room_members x WHERE x.room_id = r.id) AS MemberCount
                FROM rooms r
                WHERE r.kind = 'room' OR (r.kind = 'direct' AND r.owner_user_id = @userId)
                ORDER BY r.kind DESC, r.name
                """, new { userId }, cancellationToken: cancellationToken)).ConfigureAwait(false);
            return [.. rows.Select(r => new RoomSummary(Map(r)!, r.Joined, (int)r.MemberCount))];
        }, cancellationToken);

    public Task JoinAsync(long roomId, long userId, DateTimeOffset at, CancellationToken cancellationToken) =>
        WithConnectionAsync(c => c.ExecuteAsync(new CommandDefinition(
            "INSERT OR IGNORE INTO room_members (room_id, user_id, joined_at) VALUES (@roomId, @userId, @at)",
            new { roomId, userId, at = ToUnixMs(at) }, cancellationToken: cancellationToken)), cancellationToken);

    public Task LeaveAsync(long roomId, long userId, CancellationToken cancellationToken) =>
        WithConnectionAsync(c => c.ExecuteAsync(new CommandDefinition(
            "DELETE FROM room_members WHERE room_id = @roomId AND user_id = @userId",
            new { roomId, userId }, cancellationToken: cancellationToken)), cancellationToken);

    public Task<bool> IsMemberAsync(long roomId, long userId, CancellationToken cancellationToken) =>
        WithConnectionAsync(c => c.ExecuteScalarAsync<bool>(new CommandDefinition(
            "SELECT EXISTS (SELECT 1 FROM room_members WHERE room_id = @roomId AND user_id = @userId)",
            new { roomId, userId }, cancellationToken: cancellationToken)), cancellationToken);

    public Task<IReadOnlyList<long>> GetMemberIdsAsync(long roomId, CancellationToken cancellationToken) =>
        WithConnectionAsync<IReadOnlyList<long>>(async c => [.. await c.QueryAsync<long>(new CommandDefinition(
            "SELECT user_id FROM room_members WHERE room_id = @roomId", new { roomId }, cancellationToken: cancellationToken)).ConfigureAwait(false)],
            cancellationToken);

    public Task<StoredMessage> AppendAsync(NewMessage message, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(message);

        // Through the group-committing writer: a burst of lines from many rooms shares one commit.
        return Database.Writer.WriteAsync(context =>
        {
            var id = context.Statement(
                """
                INSERT INTO messages (room_id, author_kind, user_id, author_name, text, created_at)
                VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                """)
                .Bind(1, message.RoomId)
                .Bind(2, message.AuthorKind == AuthorKind.Robot ? "robot" : "user")
                .Bind(3, message.UserId)
                .Bind(4, message.AuthorName)
                .Bind(5, message.Text)
                .Bind(6, ToUnixMs(message.CreatedAt))
                .ExecuteInsert() ?? throw new InvalidOperationException("The message insert stored no row.");
            return new StoredMessage(id, message.RoomId, RoomName(context, message.RoomId), message.AuthorKind, message.UserId, message.AuthorName, message.Text,
                FromUnixMs(ToUnixMs(message.CreatedAt)));
        }, cancellationToken);
    }

    /// <summary>
    /// A room's name, read once per transaction (a burst of lines in one room shares one read); the insert's foreign
    /// key has just checked that the room exists.
    /// </summary>
    private static string RoomName(SqliteWriteContext context, long roomId)
    {
        var names = context.Fact<Dictionary<long, string>>(RoomNamesFact);
        if (names is null)
        {
            names = [];
            context.Remember(RoomNamesFact, names);
        }
        else if (names.TryGetValue(roomId, out var known))
        {
            return known;
        }

        var select = context.Statement("SELECT name FROM rooms WHERE id = ?1").Bind(1, roomId);
        var name = select.Step() ? select.ColumnText(0) ?? string.Empty : string.Empty;
        names[roomId] = name;
        return name;
    }

    public Task<IReadOnlyList<StoredMessage>> ReadAsync(long roomId, MessagePage page, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(page);
        var limit = Math.Clamp(page.Limit, 1, MaxPage);
        return WithConnectionAsync<IReadOnlyList<StoredMessage>>(async c =>
        {
            IEnumerable<MessageRow> rows;
            if (page.AfterId is { } after)
            {
                rows = await c.QueryAsync<MessageRow>(new CommandDefinition(
                    $"SELECT {MessageColumns} FROM messages m JOIN rooms r ON r.id = m.room_id WHERE m.room_id = @roomId AND m.id > @after ORDER BY m.id LIMIT @limit",
                    new { roomId, after, limit }, cancellationToken: cancellationToken)).ConfigureAwait(false);
                return [.. rows.Select(Map)];
            }

            rows = await c.QueryAsync<MessageRow>(new CommandDefinition(
                $"SELECT {MessageColumns} FROM messages m JOIN rooms r ON r.id = m.room_id WHERE m.room_id = @roomId AND m.id < @before ORDER BY m.id DESC LIMIT @limit",
                new { roomId, before = page.BeforeId ?? long.MaxValue, limit }, cancellationToken: cancellationToken)).ConfigureAwait(false);
            return [.. rows.Select(Map).Reverse()];
        }, cancellationToken);
    }

    private static RoomRecord? Map(RoomRow? row) => row is null
        ? null
        : new RoomRecord(row.Id, row.Name, row.Topic, row.Kind == "direct" ? RoomKind.Direct : RoomKind.Room, row.OwnerUserId, FromUnixMs(row.CreatedAt));

    private static StoredMessage Map(MessageRow row) => new(
        row.Id, row.RoomId, row.RoomName, row.AuthorKind == "robot" ? AuthorKind.Robot : AuthorKind.User, row.UserId, row.AuthorName, row.Text, FromUnixMs(row.CreatedAt));

    private class RoomRow
    {
        public long Id { get; set; }

        public string Name { get; set; } = "";

        public string Topic { get; set; } = "";

        public string Kind { get; set; } = "";

        public long? OwnerUserId { get; set; }

        public long CreatedAt { get; set; }
    }

    private sealed class RoomListRow : RoomRow
    {
        public bool Joined { get; set; }

        public long MemberCount { get; set; }
    }

    private sealed class MessageRow
    {
        public long Id { get; set; }

        public long RoomId { get; set; }

        public string RoomName { get; set; } = "";

        public string AuthorKind { get; set; } = "";

        public long? UserId { get; set; }

        public string AuthorName { get; set; } = "";

        public string Text { get; set; } = "";

        public long CreatedAt { get; set; }
    }
}
