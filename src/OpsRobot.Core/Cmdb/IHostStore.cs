using System.Text.Json.Nodes;

namespace OpsRobot.Core.Cmdb;

/// <summary>Who changed the hosts, through which door, and when: what the history records.</summary>
public sealed record HostActor(string Name, string Door, DateTimeOffset At);

/// <summary>What a write did to one host.</summary>
public enum HostChangeKind
{
    Unchanged,
    Created,
    Updated,
    Deleted,
}

/// <summary>One host's change: its kind and the fields that differ, as <c>{"field": {"from": …, "to": …}}</c>.</summary>
public sealed record HostChange(HostChangeKind Kind, string Hostname, JsonObject Diff)
{
    /// <summary>The names of the fields that differ (<c>status</c>, <c>attr.os</c>).</summary>
    public IReadOnlyList<string> Fields => [.. Diff.Select(p => p.Key)];
}

/// <summary>A host written through <see cref="CmdbService.SetAsync"/>: what changed, and the host as it is stored now.</summary>
public sealed record HostWrite(HostChange Change, HostRecord Host);

/// <summary>One entry of a host's history.</summary>
public sealed record HostHistoryEntry(long Id, string Hostname, DateTimeOffset At, string Actor, string Door, HostChangeKind Kind, JsonObject Diff);

/// <summary>
/// The built-in CMDB's storage. Records arrive already checked and canonical (<see cref="HostRules.Normalize"/>);
/// every write that changes something appends to the history in the same transaction, and a write that changes
/// nothing appends nothing.
/// </summary>
public interface IHostStore
{
    /// <summary>The host named <paramref name="hostname"/> (canonical, lower case), or null.</summary>
    Task<HostRecord?> FindAsync(string hostname, CancellationToken cancellationToken);

    /// <summary>
    /// The hosts among <paramref name="hostnames"/> (canonical, lower case) that exist, by name: one read for many
    /// names (an import's), not one a host. Names that are not there are left out.
    /// </summary>
    Task<IReadOnlyDictionary<string, HostRecord>> FindManyAsync(IReadOnlyCollection<string> hostnames, CancellationToken cancellationToken);

    /// <summary>Every host that matches <paramref name="query"/> (as <see cref="HostRules.Matches"/> decides), by host name.</summary>
    Task<IReadOnlyList<HostRecord>> QueryAsync(HostQuery query, CancellationToken cancellationToken);

    /// <summary>
    /// Writes <paramref name="upserts"/> (created or replaced whole) and removes <paramref name="deletes"/>, all in
    /// one transaction, and returns one change per host named (unchanged ones included; a delete of a host that is
    /// not there is left out).
    /// </summary>
    Task<IReadOnlyList<HostChange>> ApplyAsync(IReadOnlyList<HostRecord> upserts, IReadOnlyList<string> deletes, HostActor actor, CancellationToken cancellationToken);

    /// <summary>The latest <paramref name="limit"/> history entries of a host, newest first; kept after the host is deleted.</summary>
    Task<IReadOnlyList<HostHistoryEntry>> HistoryAsync(string hostname, int limit, CancellationToken cancellationToken);
}

/// <summary>Compares two versions of a host field by field.</summary>
public static class HostDiff
{
    /// <summary>
    /// The fields that differ between <paramref name="before"/> and <paramref name="after"/> (either may be null:
    /// a creation or a deletion), each as <c>{"from": …, "to": …}</c>; attributes as <c>attr.NAME</c>.
    /// </summary>
    public static JsonObject Compute(HostRecord? before, HostRecord? after)
    {
        var diff = new JsonObject();
        Scalar(diff, "environment", before?.Environment, after?.Environment);
        Scalar(diff, "application", before?.Application, after?.Application);
        Scalar(diff, "owner", before?.Owner, after?.Owner);
        Scalar(diff, "status", before?.Status, after?.Status);
        List(diff, "addresses", before?.Addresses, after?.Addresses);
        List(diff, "tags", before?.Tags, after?.Tags);
        var keys = (before?.Attributes.Keys ?? []).Union(after?.Attributes.Keys ?? [], StringComparer.Ordinal).Order(StringComparer.Ordinal);
        foreach (var key in keys)
        {
            Scalar(diff, "attr." + key, before?.Attributes.GetValueOrDefault(key), after?.Attributes.GetValueOrDefault(key));
        }

        return diff;
    }

    private static void Scalar(JsonObject diff, string field, string? from, string? to)
    {
        if (!string.Equals(from, to, StringComparison.Ordinal))
        {
            diff[field] = new JsonObject { ["from"] = from, ["to"] = to };
        }
    }

    private static void List(JsonObject diff, string field, IReadOnlyList<string>? from, IReadOnlyList<string>? to)
    {
        if (!(from ?? []).SequenceEqual(to ?? [], StringComparer.Ordinal))
        {
            diff[field] = new JsonObject
            {
                ["from"] = from is null ? null : new JsonArray([.. from.Select(x => JsonValue.Create(x))]),
                ["to"] = to is null ? null : new JsonArray([.. to.Select(x => JsonValue.Create(x))]),
            };
        }
    }
}
