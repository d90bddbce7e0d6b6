using System.Globalization;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Options;
using OpsRobot.Core.Access;
using OpsRobot.Core.Audit;
using OpsRobot.Core.Users;

namespace OpsRobot.Core.Cmdb;

/// <summary>Why a CMDB request failed, so each door can answer in its own way (404, 403, a chat sentence).</summary>
public enum CmdbErrorKind
{
    /// <summary>No such host, or one the asker may not see (the two are answered alike).</summary>
    NotFound,

    /// <summary>The input breaks a rule; the message names the field (and the line, for an import).</summary>
    Invalid,

    /// <summary>The asker may not make this change.</summary>
    Forbidden,

    /// <summary>Hosts come from a team's CMDB over HTTP; OpsRobot does not change them.</summary>
    ReadOnly,

    /// <summary>The CMDB (the store, or the remote one) cannot answer now.</summary>
    Unavailable,
}

/// <summary>A CMDB request that cannot be done, with a sentence for the operator.</summary>
public sealed class CmdbException : Exception
{
    public CmdbException()
    {
    }

    public CmdbException(string message)
        : base(message)
    {
    }

    public CmdbException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public CmdbException(CmdbErrorKind kind, string message, Exception? innerException = null)
        : base(message, innerException)
    {
        Kind = kind;
    }

    public CmdbErrorKind Kind { get; }
}

/// <summary>A host read from an import file, with the line it starts on.</summary>
/// <param name="Line">The line in the file.</param>
/// <param name="Host">The host as the file gives it.</param>
/// <param name="Fields">
/// The fields the file gives (CSV: the header's columns, <c>attr.NAME</c> per attribute; JSON: the object's
/// members, <c>attributes</c> for all of them); the others keep their stored value. Null: every field.
/// </param>
public sealed record ImportedHost(int Line, HostRecord Host, IReadOnlySet<string>? Fields = null)
{
    /// <summary>The host with the fields the file leaves out taken from <paramref name="existing"/>.</summary>
    public HostRecord MergedOver(HostRecord? existing)
    {
        if (existing is null || Fields is null)
        {
            return Host;
        }

        var attributes = new Dictionary<string, string>(StringComparer.Ordinal);
        if (Fields.Contains("attributes"))
        {
            foreach (var (key, value) in Host.Attributes)
            {
                attributes[key] = value;
            }
        }
        else
        {
            foreach (var (key, value) in existing.Attributes)
            {
                attributes[key] = value;
            }

            foreach (var field in Fields.Where(f => f.StartsWith(HostFiles.AttributePrefix, StringComparison.Ordinal)))
            {
                var key = field[HostFiles.AttributePrefix.Length..];
                if (Host.Attributes.TryGetValue(key, out var value) && value.Length > 0)
                {
                    attributes[key] = value;
                }
                else
                {
                    attributes.Remove(key);
                }
            }
        }

        return new HostRecord(
            Host.Hostname,
            Fields.Contains("addresses") ? Host.Addresses : existing.Addresses,
            Fields.Contains("environment") ? Host.Environment : existing.Environment,
            Fields.Contains("application") ? Host.Application : existing.Application,
            Fields.Contains("tags") ? Host.Tags : existing.Tags,
            Fields.Contains("owner") ? Host.Owner : existing.Owner,
            Fields.Contains("status") ? Host.Status : existing.Status,
            attributes);
    }
}

/// <summary>Something wrong with one line of an import file.</summary>
public sealed record ImportProblem(int Line, string Message)
{
    public override string ToString() => Line > 0 ? string.Create(CultureInfo.InvariantCulture, $"line {Line}: {Message}") : Message;
}

/// <summary>What an import did (or, in a dry run, would do) to one host.</summary>
/// <param name="Hostname">The host.</param>
/// <param name="Line">Where it is in the file; null for a host pruned because the file does not name it.</param>
/// <param name="Action"><c>create</c>, <c>update</c>, <c>unchanged</c> or <c>delete</c>.</param>
/// <param name="Changes">The fields that differ, each with its old and new value.</param>
public sealed record ImportItem(string Hostname, int? Line, string Action, JsonObject Changes);

/// <summary>The outcome of an import: per host what happens, or the problems that stopped it (then nothing changed).</summary>
public sealed record ImportReport(bool DryRun, bool Applied, IReadOnlyList<ImportItem> Items, IReadOnlyList<ImportProblem> Problems)
{
    public int Count(string action) => Items.Count(i => string.Equals(i.Action, action, StringComparison.Ordinal));
}

/// <summary>Who answers for a host: its owner, its application, and the application node's nearest owners.</summary>
public sealed record HostOwnership(HostRecord Host, string? OwnersNode, IReadOnlyList<string> NodeOwners);

/// <summary>
/// The CMDB as people use it, through chat, the API and the CLI: every read is limited to the hosts the asker may
/// see, every change is authorized, recorded in the host's history and written to the audit.
/// <para>
/// Who sees a host: someone holding <c>host.view</c> on its name <b>and</b> a place (member or owner) at its
/// application node or above; administrators (the whitelist) and rules (tree-wide) see every host. A host with no
/// application belongs to no team, so only administrators see it until one is given. Changing a host needs
/// <c>host.manage</c> on its name and a place at both its old and its new application. A host someone may not see
/// is answered as "not found", never "forbidden", so names do not leak.
/// </para>
/// </summary>
public sealed class CmdbService(IHostStore store, IHostInventory inventory, AccessService access, IUserStore users, TimeProvider time, IOptions<CmdbOptions> options)
{
    public const string AuditKind = "host.changed";

    private const int HistoryLimit = 200;

    private readonly CmdbOptions _options = options.Value;

    /// <summary>True when hosts come from a remote CMDB, which OpsRobot reads and never changes.</summary>
    public bool IsReadOnly => _options.Source == CmdbSource.Http;

    public CmdbOptions Options => _options;

    /// <summary>The application tree as access control sees it now.</summary>
    public Task<ApplicationTree> TreeAsync(CancellationToken cancellationToken) => access.TreeAsync(cancellationToken);

    /// <summary>The host, when it exists and <paramref name="principal"/> may see it; else null.</summary>
    public async Task<HostRecord?> FindAsync(Principal principal, string hostname, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(principal);
        if (HostRules.CanonicalHostname(hostname?.Trim()) is not { } name)
        {
            return null;
        }

        var host = await ReadAsync(() => inventory.FindAsync(name, cancellationToken)).ConfigureAwait(false);
        return host is not null && MaySee(principal, host, await access.TreeAsync(cancellationToken).ConfigureAwait(false)) ? host : null;
    }

    /// <summary>The hosts that match <paramref name="query"/> among those <paramref name="principal"/> may see, by name.</summary>
    public async Task<IReadOnlyList<HostRecord>> QueryAsync(Principal principal, HostQuery query, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(principal);
        ArgumentNullException.ThrowIfNull(query);
        var hosts = await ReadAsync(() => inventory.QueryAsync(query, cancellationToken)).ConfigureAwait(false);
        var tree = await access.TreeAsync(cancellationToken).ConfigureAwait(false);
        return [.. hosts.Where(h => HostRules.Matches(h, query) && MaySee(principal, h, tree)).OrderBy(h => h.Hostname, StringComparer.Ordinal)];
    }

    /// <summary>The host with its owner, its application and that node's nearest owners (by user name).</summary>
    public async Task<HostOwnership?> WhoOwnsAsync(Principal principal, string hostname, CancellationToken cancellationToken)
    {
        if (await FindAsync(principal, hostname, cancellationToken).ConfigureAwait(false) is not { } host)
        {
            return null;
        }

        var tree = await access.TreeAsync(cancellationToken).ConfigureAwait(false);
        if (host.Application is not { } app || tree.NearestOwners(app) is not { } owners)
        {
            return new HostOwnership(host, null, []);
        }

        var names = new List<string>();
        foreach (var id in owners.Owners)
        {
            if (await users.FindByIdAsync(id, cancellationToken).ConfigureAwait(false) is { } user)
            {
                names.Add(user.Name);
            }
        }

        return new HostOwnership(host, owners.Path, [.. names.Order(StringComparer.Ordinal)]);
    }

    /// <summary>A visible host's history, newest first; null when the host is not visible (or never existed).</summary>
    public async Task<IReadOnlyList<HostHistoryEntry>?> HistoryAsync(Principal principal, string hostname, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(principal);
        if (HostRules.CanonicalHostname(hostname?.Trim()) is not { } name)
        {
            return null;
        }

        var tree = await access.TreeAsync(cancellationToken).ConfigureAwait(false);
        var current = await store.FindAsync(name, cancellationToken).ConfigureAwait(false);
        var history = await store.HistoryAsync(name, HistoryLimit, cancellationToken).ConfigureAwait(false);

        // A deleted host's history is shown to whoever could see it as it last was.
        var last = current ?? LastKnown(name, history);
        return last is not null && MaySee(principal, last, tree) ? history : null;
    }

    /// <summary>
    /// Creates or replaces a host whole. Returns what changed (nothing, for the same host written twice) and the host
    /// as stored: the input normalized, which the store writes whole, so there is no need to read it back.
    /// </summary>
    public async Task<HostWrite> SetAsync(Principal principal, HostRecord input, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(principal);
        ArgumentNullException.ThrowIfNull(input);
        EnsureWritable();
        var tree = await access.TreeAsync(cancellationToken).ConfigureAwait(false);
        var (host, problems) = HostRules.Normalize(input, tree);
        if (host is null)
        {
            throw new CmdbException(CmdbErrorKind.Invalid, Capitalize(string.Join("; ", problems)) + ".");
        }

        var existing = await store.FindAsync(host.Hostname, cancellationToken).ConfigureAwait(false);
        if (ManageRefusal(principal, host.Hostname, existing, host, tree) is { } refusal)
        {
            await AuditAsync(principal, $"set host {host.Hostname}", "deny", refusal, null, cancellationToken).ConfigureAwait(false);
            throw new CmdbException(CmdbErrorKind.Forbidden, refusal);
        }

        var change = (await store.ApplyAsync([host], [], Actor(principal), cancellationToken).ConfigureAwait(false))[0];
        if (change.Kind != HostChangeKind.Unchanged)
        {
            await AuditAsync(principal, $"set host {host.Hostname}", "allow", RuleFor(principal), new JsonObject
            {
                ["hostname"] = host.Hostname,
                ["change"] = Wire(change.Kind),
                ["diff"] = change.Diff.DeepClone(),
            }, cancellationToken).ConfigureAwait(false);
        }

        return new HostWrite(change, host);
    }

    /// <summary>Deletes a host; false when there is none the asker may see.</summary>
    public async Task<bool> DeleteAsync(Principal principal, string hostname, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(principal);
        EnsureWritable();
        if (HostRules.CanonicalHostname(hostname?.Trim()) is not { } name)
        {
            return false;
        }

        var tree = await access.TreeAsync(cancellationToken).ConfigureAwait(false);
        var existing = await store.FindAsync(name, cancellationToken).ConfigureAwait(false);
        if (existing is null || !MaySee(principal, existing, tree))
        {
            return false;
        }

        if (ManageRefusal(principal, name, existing, null, tree) is { } refusal)
        {
            await AuditAsync(principal, $"delete host {name}", "deny", refusal, null, cancellationToken).ConfigureAwait(false);
            throw new CmdbException(CmdbErrorKind.Forbidden, refusal);
        }

        var changes = await store.ApplyAsync([], [name], Actor(principal), cancellationToken).ConfigureAwait(false);
        await AuditAsync(principal, $"delete host {name}", "allow", RuleFor(principal), new JsonObject { ["hostname"] = name, ["change"] = "deleted" }, cancellationToken).ConfigureAwait(false);
        return changes.Count > 0;
    }

    /// <summary>
    /// Imports hosts: each is created, updated or left unchanged, and with <paramref name="prune"/> the hosts the
    /// asker may manage that the file does not name are deleted. All or nothing: any problem (a bad line, a host
    /// the asker may not change) stops the whole import, and the report lists every problem with its line. A dry
    /// run reports the same and changes nothing. Importing the same file twice changes nothing the second time.
    /// </summary>
    public async Task<ImportReport> ImportAsync(Principal principal, IReadOnlyList<ImportedHost> hosts, IReadOnlyList<ImportProblem> parseProblems, bool dryRun, bool prune, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(principal);
        ArgumentNullException.ThrowIfNull(hosts);
        ArgumentNullException.ThrowIfNull(parseProblems);
        EnsureWritable();
        var tree = await access.TreeAsync(cancellationToken).ConfigureAwait(false);
        var problems = new List<ImportProblem>(parseProblems);
        var items = new List<ImportItem>();
        var upserts = new List<HostRecord>();
        var seen = new Dictionary<string, int>(StringComparer.Ordinal);
        var refused = new List<string>();

        // The stored hosts are read once for the whole file: every host when pruning (which needs them all anyway),
        // else those the file names.
        var all = prune ? await store.QueryAsync(new HostQuery(), cancellationToken).ConfigureAwait(false) : null;
        var known = all is not null
            ? all.ToDictionary(h => h.Hostname, StringComparer.Ordinal)
            : await store.FindManyAsync([.. hosts.Select(h => HostRules.CanonicalHostname(h.Host.Hostname?.Trim())).OfType<string>()], cancellationToken).ConfigureAwait(false);
        foreach (var imported in hosts)
        {
            var line = imported.Line;
            var stored = HostRules.CanonicalHostname(imported.Host.Hostname?.Trim()) is { } canonical ? known.GetValueOrDefault(canonical) : null;
            var (host, hostProblems) = HostRules.Normalize(imported.MergedOver(stored), tree);
            if (host is null)
            {
                problems.AddRange(hostProblems.Select(p => new ImportProblem(line, p)));
                continue;
            }

            if (seen.TryGetValue(host.Hostname, out var first))
            {
                problems.Add(new ImportProblem(line, string.Create(CultureInfo.InvariantCulture, $"host {host.Hostname} is already on line {first}")));
                continue;
            }

            seen[host.Hostname] = line;
            var existing = stored;
            if (ManageRefusal(principal, host.Hostname, existing, host, tree) is { } refusal)
            {
                problems.Add(new ImportProblem(line, refusal));
                refused.Add(host.Hostname);
                continue;
            }

            var diff = HostDiff.Compute(existing, host);
            items.Add(new ImportItem(host.Hostname, line, existing is null ? "create" : diff.Count == 0 ? "unchanged" : "update", diff));
            upserts.Add(host);
        }

        var deletes = new List<string>();
        if (all is not null)
        {
            foreach (var host in all)
            {
                if (!seen.ContainsKey(host.Hostname) && MaySee(principal, host, tree) && ManageRefusal(principal, host.Hostname, host, null, tree) is null)
                {
                    items.Add(new ImportItem(host.Hostname, null, "delete", HostDiff.Compute(host, null)));
                    deletes.Add(host.Hostname);
                }
            }
        }

        if (refused.Count > 0)
        {
            // Hosts the asker may not change are access attempts, refused: audited as a deny, a dry run's too (it
            // asks the same question), with the hosts named.
            await AuditAsync(principal, dryRun ? "import hosts (dry run)" : "import hosts", "deny",
                $"{refused.Count.ToString(CultureInfo.InvariantCulture)} host(s) the asker may not change (host.manage and membership of their application node)",
                new JsonObject { ["refused"] = new JsonArray([.. refused.Take(100).Select(h => JsonValue.Create(h))]) }, cancellationToken).ConfigureAwait(false);
        }

        if (problems.Count > 0 || dryRun)
        {
            return new ImportReport(dryRun, false, items, [.. problems.OrderBy(p => p.Line)]);
        }

        await store.ApplyAsync(upserts, deletes, Actor(principal), cancellationToken).ConfigureAwait(false);
        var changed = items.Where(i => i.Action != "unchanged").ToList();
        if (changed.Count > 0)
        {
            await AuditAsync(principal, "import hosts", "allow", RuleFor(principal), new JsonObject
            {
                ["created"] = changed.Count(i => i.Action == "create"),
                ["updated"] = changed.Count(i => i.Action == "update"),
                ["deleted"] = changed.Count(i => i.Action == "delete"),
                ["hosts"] = new JsonArray([.. changed.Take(100).Select(i => JsonValue.Create($"{i.Action} {i.Hostname}"))]),
            }, cancellationToken).ConfigureAwait(false);
        }

        return new ImportReport(false, true, items, []);
    }

    /// <summary>Whether <paramref name="principal"/> may see <paramref name="host"/> (see the class remarks).</summary>
    public static bool MaySee(Principal principal, HostRecord host, ApplicationTree tree)
    {
        ArgumentNullException.ThrowIfNull(principal);
        ArgumentNullException.ThrowIfNull(host);
        ArgumentNullException.ThrowIfNull(tree);
        return AccessService.Check(principal, Permissions.HostView, host.Hostname).Allowed && InReach(principal, host.Application, tree);
    }

    private static bool InReach(Principal principal, string? application, ApplicationTree tree) =>
        principal.IsAdministrator || principal.TreeWide
        || (application is not null && principal.User is { } user && tree.Contains(application) && tree.PlaceOf(user.Id, application) is not null);

    /// <summary>Null when the change is allowed; else the sentence, worded alike whether or not the host exists.</summary>
    private static string? ManageRefusal(Principal principal, string hostname, HostRecord? before, HostRecord? after, ApplicationTree tree)
    {
        var permission = AccessService.Check(principal, Permissions.HostManage, hostname);
        if (!permission.Allowed)
        {
            return $"You may not change host {hostname}: {permission.Explanation}";
        }

        if ((before is not null && !InReach(principal, before.Application, tree)) || (after is not null && !InReach(principal, after.Application, tree)))
        {
            return $"You may not change host {hostname}: you need membership of its application node (hosts without an application are for administrators)";
        }

        return null;
    }

    private void EnsureWritable()
    {
        if (IsReadOnly)
        {
            throw new CmdbException(CmdbErrorKind.ReadOnly,
                "Hosts come from your team's CMDB over HTTP (OpsRobot:Cmdb:Source = http); change them there, OpsRobot only reads them.");
        }
    }

    private static async Task<T> ReadAsync<T>(Func<Task<T>> read)
    {
        try
        {
            return await read().ConfigureAwait(false);
        }
        catch (Storage.StoreUnavailableException ex)
        {
            throw new CmdbException(CmdbErrorKind.Unavailable, ex.Message, ex);
        }
    }

    private static HostRecord? LastKnown(string hostname, IReadOnlyList<HostHistoryEntry> history)
    {
        // Newest first: a deletion's diff holds every field's last value ("from"); an update's holds the new one ("to").
        foreach (var entry in history)
        {
            if (entry.Kind == HostChangeKind.Deleted)
            {
                return Ghost(hostname, (entry.Diff["application"] as JsonObject)?["from"]?.GetValue<string>());
            }

            if (entry.Diff["application"] is JsonObject app)
            {
                return Ghost(hostname, app["to"]?.GetValue<string>());
            }
        }

        return history.Count > 0 ? Ghost(hostname, null) : null;
    }

    private static HostRecord Ghost(string hostname, string? application) =>
        new(hostname, [], null, application, [], null, HostStatuses.Retired, new Dictionary<string, string>(StringComparer.Ordinal));

    private HostActor Actor(Principal principal) => new(principal.Name, principal.Door, time.GetUtcNow());

    private static string RuleFor(Principal principal) =>
        principal.IsAdministrator ? "host.manage; on the administrators' whitelist" : "host.manage; member of the host's application";

    private async Task AuditAsync(Principal principal, string subject, string decision, string rule, JsonObject? detail, CancellationToken cancellationToken) =>
        await access.Audit.WriteAsync(new AuditEntry
        {
            Kind = AuditKind,
            Actor = principal.Name,
            Door = principal.Door,
            Place = principal.Place,
            Subject = subject,
            Decision = decision,
            Rule = rule,
            Detail = detail,
        }, cancellationToken).ConfigureAwait(false);

    /// <summary>The change kind as the API, the CLI and the history show it.</summary>
    public static string Wire(HostChangeKind kind) => kind.ToString().ToLowerInvariant();

    private static string Capitalize(string text) => text.Length == 0 ? text : char.ToUpperInvariant(text[0]) + text[1..];
}
