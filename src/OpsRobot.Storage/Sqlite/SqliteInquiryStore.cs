using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.Json.Nodes;
using Dapper;
using OpsRobot.Core.Inquiries;

namespace OpsRobot.Storage.Sqlite;

/// <summary>Inquiries in SQLite (table <c>inquiries</c>, migration 0010).</summary>
public sealed class SqliteInquiryStore(SqliteDatabase database) : SqliteStoreBase(database), IInquiryStore
{
    private const string Columns =
        "id AS Id, execution_id AS ExecutionId, parent_id AS ParentId, parameters_hash AS ParametersHash, question AS Question, schema AS Schema, " +
        "users AS Users, roles AS Roles, platform AS Platform, room_id AS RoomId, room_name AS RoomName, thread_id AS ThreadId, " +
        "created_at AS CreatedAt, expires_at AS ExpiresAt, status AS Status, response AS Response, responded_by AS RespondedBy, responded_at AS RespondedAt";

    private const int MaxLimit = 1000;

    /// <summary>The most parsed schemas <see cref="ParseSchema"/> keeps.</summary>
    private const int MaxParsedSchemas = 256;

    /// <summary>
    /// Schemas parsed, by their stored text. An inquiry's schema never changes once stored, and a waiting ask is read
    /// every two seconds by its runner: each distinct schema is parsed once, not at every read. Cleared when full (a
    /// handful of distinct schemas is the usual case: the same workflow asks the same question).
    /// </summary>
    private static readonly ConcurrentDictionary<string, InquirySchema> ParsedSchemas = new(StringComparer.Ordinal);

    public Task<InquiryRecord> CreateAsync(InquiryRecord inquiry, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(inquiry);
        var args = new
        {
            inquiry.ExecutionId,
            inquiry.ParentId,
            inquiry.ParametersHash,
            inquiry.Question,
            Schema = inquiry.Schema.ToJson().ToJsonString(),
            Users = JsonSerializer.Serialize(inquiry.Users),
            Roles = JsonSerializer.Serialize(inquiry.Roles),
            inquiry.Platform,
            inquiry.RoomId,
            inquiry.RoomName,
            inquiry.ThreadId,
            CreatedAt = ToUnixMs(inquiry.CreatedAt),
            ExpiresAt = ToUnixMs(inquiry.ExpiresAt),
            Status = InquiryStatuses.Pending,
        };
        return WithConnectionAsync(async c =>
        {
            var id = await c.ExecuteScalarAsync<long>(new CommandDefinition(
                """
                INSERT INTO inquiries (execution_id, parent_id, parameters_hash, question, schema, users, roles, platform, room_id, room_name, thread_id,
                                       created_at, expires_at, status)
                VALUES (@ExecutionId, @ParentId, @ParametersHash, @Question, @Schema, @Users, @Roles, @Platform, @RoomId, @RoomName, @ThreadId,
                        @CreatedAt, @ExpiresAt, @Status)
                RETURNING id
                """, args, cancellationToken: cancellationToken)).ConfigureAwait(false);
            return inquiry with { Id = id, Status = InquiryStatuses.Pending, Response = null, RespondedBy = null, RespondedAt = null };
        }, cancellationToken);
    }

    public Task<InquiryRecord?> GetAsync(long id, CancellationToken cancellationToken) =>
        WithConnectionAsync(async c =>
        {
            var row = await c.QuerySingleOrDefaultAsync<Row>(new CommandDefinition(
                $"SELECT {Columns} FROM inquiries WHERE id = @id", new { id }, cancellationToken: cancellationToken)).ConfigureAwait(false);
            return row?.ToRecord();
        }, cancellationToken);

    public Task<IReadOnlyList<InquiryRecord>> ListAsync(InquiryQuery query, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        var args = new { query.Status, Limit = Math.Clamp(query.Limit, 1, MaxLimit) };
        return WithConnectionAsync(async c =>
        {
            var rows = await c.QueryAsync<Row>(new CommandDefinition(
                $"SELECT {Columns} FROM inquiries WHERE (@Status IS NULL OR status = @Status) ORDER BY id DESC LIMIT @Limit",
                args, cancellationToken: cancellationToken)).ConfigureAwait(false);
            return (IReadOnlyList<InquiryRecord>)[.. rows.Select(r => r.ToRecord())];
        }, cancellationToken);
    }

    public Task<IReadOnlyList<InquiryRecord>> FindByParentAsync(long parentId, string parametersHash, CancellationToken cancellationToken) =>
        WithConnectionAsync(async c =>
        {
            var rows = await c.QueryAsync<Row>(new CommandDefinition(
                $"SELECT {Columns} FROM inquiries WHERE parent_id = @parentId AND parameters_hash = @parametersHash ORDER BY id DESC LIMIT 100",
                new { parentId, parametersHash }, cancellationToken: cancellationToken)).ConfigureAwait(false);
            return (IReadOnlyList<InquiryRecord>)[.. rows.Select(r => r.ToRecord())];
        }, cancellationToken);

    public Task<bool> AdoptAsync(long id, long oldExecutionId, long newExecutionId, CancellationToken cancellationToken) =>
        WithConnectionAsync(async c => await c.ExecuteAsync(new CommandDefinition(
            "UPDATE inquiries SET execution_id = @newExecutionId WHERE id = @id AND execution_id = @oldExecutionId",
            new { id, oldExecutionId, newExecutionId }, cancellationToken: cancellationToken)).ConfigureAwait(false) == 1, cancellationToken);

    public Task<bool> CloseAsync(long id, string status, JsonObject? response, string? respondedBy, DateTimeOffset at, CancellationToken cancellationToken)
    {
        if (status == InquiryStatuses.Pending || !InquiryStatuses.All.Contains(status, StringComparer.Ordinal))
        {
            throw new ArgumentOutOfRangeException(nameof(status), status, "An inquiry closes as responded, denied, expired or canceled.");
        }

        var args = new { id, status, Response = response?.ToJsonString(), respondedBy, At = ToUnixMs(at), Pending = InquiryStatuses.Pending };
        return WithConnectionAsync(async c => await c.ExecuteAsync(new CommandDefinition(
            """
            UPDATE inquiries SET status = @status, response = @Response, responded_by = @respondedBy, responded_at = @At
            WHERE id = @id AND status = @Pending
            """, args, cancellationToken: cancellationToken)).ConfigureAwait(false) == 1, cancellationToken);
    }

    private static InquirySchema ParseSchema(string text)
    {
        if (ParsedSchemas.TryGetValue(text, out var schema))
        {
            return schema;
        }

        schema = InquirySchema.Parse(JsonNode.Parse(text));
        if (ParsedSchemas.Count >= MaxParsedSchemas)
        {
            ParsedSchemas.Clear();
        }

        ParsedSchemas[text] = schema;
        return schema;
    }

    private sealed class Row
    {
        public long Id { get; set; }

        public long ExecutionId { get; set; }

        public long? ParentId { get; set; }

        public string ParametersHash { get; set; } = string.Empty;

        public string? Question { get; set; }

        public string Schema { get; set; } = string.Empty;

        public string Users { get; set; } = "[]";

        public string Roles { get; set; } = "[]";

        public string? Platform { get; set; }

        public string? RoomId { get; set; }

        public string? RoomName { get; set; }

        public string? ThreadId { get; set; }

        public long CreatedAt { get; set; }

        public long ExpiresAt { get; set; }

        public string Status { get; set; } = InquiryStatuses.Pending;

        public string? Response { get; set; }

        public string? RespondedBy { get; set; }

        public long? RespondedAt { get; set; }

        public InquiryRecord ToRecord() => new()
        {
            Id = Id,
            ExecutionId = ExecutionId,
            ParentId = ParentId,
            ParametersHash = ParametersHash,
            Question = Question,
            Schema = ParseSchema(Schema),
            Users = JsonSerializer.Deserialize<List<string>>(Users) ?? [],
            Roles = JsonSerializer.Deserialize<List<string>>(Roles) ?? [],
            Platform = Platform,
            RoomId = RoomId,
            RoomName = RoomName,
            ThreadId = ThreadId,
            CreatedAt = FromUnixMs(CreatedAt),
            ExpiresAt = FromUnixMs(ExpiresAt),
            Status = Status,
            Response = Response is null ? null : JsonNode.Parse(Response) as JsonObject,
            RespondedBy = RespondedBy,
            RespondedAt = FromUnixMs(RespondedAt),
        };
    }
}
