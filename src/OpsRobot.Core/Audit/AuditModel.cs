using System.Text.Json.Nodes;

namespace OpsRobot.Core.Audit;

/// <summary>What an audit record is about.</summary>
public static class AuditKinds
{
    /// <summary>A command typed in chat, or a call that asks to run something, with the decision on it.</summary>
    public const string Command = "command";

    /// <summary>An allow or deny decision taken on its own (an API call, a re-check before a queued execution starts).</summary>
    public const string Decision = "decision";

    public const string ExecutionStarted = "execution.started";
    public const string ExecutionFinished = "execution.finished";
    public const string SignIn = "auth.sign_in";
    public const string Elevation = "auth.elevation";
    public const string IdentityLinked = "identity.linked";
    public const string IdentityUnlinked = "identity.unlinked";
    public const string UserChanged = "user.changed";
    public const string RoleChanged = "role.changed";
    public const string GrantChanged = "grant.changed";
    public const string TreeChanged = "tree.changed";
    public const string ApiKeyChanged = "apikey.changed";
    public const string PacksChanged = "packs.changed";
}

/// <summary>A record to append: who, through which door, from where, about what, and what was decided.</summary>
public sealed record AuditEntry
{
    public required string Kind { get; init; }

    /// <summary>The user's name, or a label for who else acted (<c>irc:nick (unlinked)</c>, <c>rule:pack.name</c>).</summary>
    public required string Actor { get; init; }

    /// <summary>chat, api, cli, shell, rule, workflow, system.</summary>
    public required string Door { get; init; }

    /// <summary>The room (<c>platform:room</c>) or the network address the request came from.</summary>
    public string? Place { get; init; }

    /// <summary>What it is about: the command line, the action ref, the user or role changed.</summary>
    public string? Subject { get; init; }

    /// <summary><c>allow</c> or <c>deny</c>, for records that carry a decision.</summary>
    public string? Decision { get; init; }

    /// <summary>The rule that decided, in words (<c>role operator: action.execute on *</c>).</summary>
    public string? Rule { get; init; }

    /// <summary>Anything else worth keeping, secrets already masked.</summary>
    public JsonObject? Detail { get; init; }
}

/// <summary>An audit record as stored, with its place in the chain.</summary>
public sealed record AuditRecord
{
    public required long Id { get; init; }

    public required DateTimeOffset At { get; init; }

    public required string Kind { get; init; }

    public required string Actor { get; init; }

    public required string Door { get; init; }

    public string? Place { get; init; }

    public string? Subject { get; init; }

    public string? Decision { get; init; }

    public string? Rule { get; init; }

    /// <summary>The detail as stored (canonical JSON text).</summary>
    public required string Detail { get; init; }

    public required string PreviousHash { get; init; }

    public required string Hash { get; init; }
}

/// <summary>Filters for reading the trail; every one is optional.</summary>
public sealed record AuditQuery
{
    public string? Actor { get; init; }

    /// <summary>A kind, or a prefix ending in <c>.</c> or <c>*</c> (<c>execution.*</c>).</summary>
    public string? Kind { get; init; }

    public string? Decision { get; init; }

    /// <summary>Text the subject contains.</summary>
    public string? Subject { get; init; }

    public DateTimeOffset? Since { get; init; }

    public DateTimeOffset? Until { get; init; }

    /// <summary>Only records older than this id (paging backwards).</summary>
    public long? BeforeId { get; init; }

    public int Limit { get; init; } = 50;
}

/// <summary>The stored trail. Append-only: there is no way to change or remove a record through it.</summary>
public interface IAuditStore
{
    /// <summary>
    /// Appends records in order, each chained to the one before: <paramref name="hash"/> computes a record's hash
    /// from the previous hash and the record. Atomic: all are stored, or none.
    /// </summary>
    Task<IReadOnlyList<AuditRecord>> AppendAsync(IReadOnlyList<(DateTimeOffset At, AuditEntry Entry, string Detail)> entries, Func<string, AuditRecord, string> hash, CancellationToken cancellationToken);

    Task<IReadOnlyList<AuditRecord>> QueryAsync(AuditQuery query, CancellationToken cancellationToken);

    /// <summary>Records in id order from <paramref name="afterId"/>, for verifying the chain.</summary>
    Task<IReadOnlyList<AuditRecord>> ReadAsync(long afterId, int limit, CancellationToken cancellationToken);
}
