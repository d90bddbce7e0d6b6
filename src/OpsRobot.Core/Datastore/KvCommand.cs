using System.Globalization;
using OpsRobot.Core.Chat;
using OpsRobot.Core.Commands;
using OpsRobot.Core.Storage;
using OpsRobot.Core.Text;

namespace OpsRobot.Core.Datastore;

/// <summary>
/// <c>kv get|set|list|delete</c> in chat. Keys are written as templates read them: <c>system.NAME</c> for the
/// installation's keys, <c>NAME</c> or <c>user.NAME</c> for the writer's own. A secret is never shown, and is set
/// only in a direct conversation, since a room shows every line to everyone in it.
/// </summary>
public sealed class KvCommand(DatastoreService datastore, IDatastoreAccessPolicy access, TimeProvider time) : IRobotCommand
{
    private const string Usage = "kv get KEY | kv set [--secret] [--ttl 30m] KEY VALUE | kv list [system|user][.PREFIX] | kv delete KEY  (KEY: system.NAME or NAME for your own)";

    public CommandInfo Info { get; } = new("core", "kv", "kv get|set|list|delete KEY [VALUE]", "Read and change the datastore: system.NAME, or NAME for your own keys.");

    public async ValueTask<OutgoingMessage> ExecuteAsync(CommandContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var words = context.Arguments.Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (words.Length == 0)
        {
            return Say($"Usage: {Markdown.Code(context.Options.CommandPrefix + Usage)}");
        }

        // The OpsRobot user (or, unlinked, a platform label that owns nothing): never the display name, which anyone can choose.
        var user = context.Principal?.User?.Name ?? context.Principal?.Name;
        if (user is null || context.Principal?.User is null)
        {
            return Say("The datastore is for linked OpsRobot users; say `link` to see how to link this identity.");
        }

        try
        {
            return words[0].ToLowerInvariant() switch
            {
                "get" when words.Length == 2 => await GetAsync(user, words[1], cancellationToken).ConfigureAwait(false),
                "list" when words.Length <= 2 => await ListAsync(user, words.Length == 2 ? words[1] : "user", cancellationToken).ConfigureAwait(false),
                "delete" or "del" or "rm" when words.Length == 2 => await DeleteAsync(user, words[1], cancellationToken).ConfigureAwait(false),
                "set" => await SetAsync(context, user, context.Arguments, cancellationToken).ConfigureAwait(false),
                _ => Say($"Usage: {Markdown.Code(context.Options.CommandPrefix + Usage)}"),
            };
        }
        catch (DatastoreException ex)
        {
            return Say(ex.Message);
        }
        catch (StoreUnavailableException ex)
        {
            return Say($"The datastore is not reachable right now: {ex.Message}");
        }
    }

    private async Task<OutgoingMessage> GetAsync(string user, string key, CancellationToken cancellationToken)
    {
        var (scope, owner, name) = ParseKey(user, key);
        if (await access.CheckAsync(user, DatastoreDoor.Chat, DatastoreOperation.Read, scope, owner, cancellationToken).ConfigureAwait(false) is { } refusal)
        {
            return Say(refusal);
        }

        var entry = await datastore.GetAsync(scope, owner, name, cancellationToken).ConfigureAwait(false);
        return entry is null
            ? Say($"There is no key {Markdown.Code(Display(scope, name))}.")
            : Say($"{Markdown.Code(Display(scope, name))} = {Markdown.Code(entry.Value)}{Details(entry)}");
    }

    private async Task<OutgoingMessage> ListAsync(string user, string spec, CancellationToken cancellationToken)
    {
        KeyValueScope scope;
        string prefix;
        if (spec is "system" or "user")
        {
            scope = spec == "system" ? KeyValueScope.System : KeyValueScope.User;
            prefix = string.Empty;
        }
        else
        {
            (scope, _, prefix) = ParseKey(user, spec, allowEmptyName: true);
        }

        var owner = scope == KeyValueScope.System ? string.Empty : user;
        if (await access.CheckAsync(user, DatastoreDoor.Chat, DatastoreOperation.Read, scope, owner, cancellationToken).ConfigureAwait(false) is { } refusal)
        {
            return Say(refusal);
        }

        var entries = await datastore.ListAsync(scope, owner, prefix, cancellationToken).ConfigureAwait(false);
        if (entries.Count == 0)
        {
            return Say(scope == KeyValueScope.System ? "No system keys" + (prefix.Length > 0 ? $" starting with {Markdown.Code(prefix)}." : ".") : "You have no keys" + (prefix.Length > 0 ? $" starting with {Markdown.Code(prefix)}." : "."));
        }

        var rows = entries.Select(e => (IReadOnlyList<string>)[Display(scope, e.Name), e.Value, e.ExpiresAt is { } x ? x.ToString("u", CultureInfo.InvariantCulture) : "never", e.UpdatedBy]);
        return Say(Markdown.Table(["key", "value", "expires", "set by"], rows));
    }

    private async Task<OutgoingMessage> DeleteAsync(string user, string key, CancellationToken cancellationToken)
    {
        var (scope, owner, name) = ParseKey(user, key);
        if (await access.CheckAsync(user, DatastoreDoor.Chat, DatastoreOperation.Write, scope, owner, cancellationToken).ConfigureAwait(false) is { } refusal)
        {
            return Say(refusal);
        }

        return await datastore.DeleteAsync(scope, owner, name, user, cancellationToken).ConfigureAwait(false)
            ? Say($"Deleted {Markdown.Code(Display(scope, name))}.")
            : Say($"There is no key {Markdown.Code(Display(scope, name))}.");
    }

    private async Task<OutgoingMessage> SetAsync(CommandContext context, string user, string arguments, CancellationToken cancellationToken)
    {
        // set [--secret] [--ttl D] KEY VALUE…: the value is the rest of the line as typed, inner spaces kept.
        var rest = arguments.TrimStart()[3..].TrimStart();
        var secret = false;
        TimeSpan? ttl = null;
        while (rest.StartsWith("--", StringComparison.Ordinal))
        {
            var flag = NextWord(ref rest);
            if (flag == "--secret")
            {
                secret = true;
            }
            else if (flag == "--ttl")
            {
                var text = NextWord(ref rest);
                ttl = DurationText.Parse(text) ?? throw new DatastoreException(DurationText.NotADuration(text));
            }
            else
            {
                throw new DatastoreException($"Unknown option {flag}; kv set takes --secret and --ttl.");
            }
        }

        var key = NextWord(ref rest);
        if (key.Length == 0 || rest.Length == 0)
        {
            return Say($"Usage: {Markdown.Code(context.Options.CommandPrefix + "kv set [--secret] [--ttl 30m] KEY VALUE")}");
        }

        if (secret && !context.Message.Room.IsDirect)
        {
            return Say("Set secrets in a direct conversation with me, not in a room where everyone sees the line. Consider this value exposed and change it at its source.");
        }

        var (scope, owner, name) = ParseKey(user, key);
        if (await access.CheckAsync(user, DatastoreDoor.Chat, DatastoreOperation.Write, scope, owner, cancellationToken).ConfigureAwait(false) is { } refusal)
        {
            return Say(refusal);
        }

        var entry = await datastore.SetAsync(scope, owner, name, rest, secret, ttl, user, cancellationToken).ConfigureAwait(false);
        return Say($"Set {Markdown.Code(Display(scope, name))} = {Markdown.Code(entry.Value)}{Details(entry)}");
    }

    private string Details(KeyValueEntry entry)
    {
        var parts = new List<string>();
        if (entry.Secret)
        {
            parts.Add("secret");
        }

        if (entry.ExpiresAt is { } at)
        {
            var left = at - time.GetUtcNow();
            parts.Add($"expires in {(left.TotalHours >= 1 ? $"{(int)left.TotalHours}h{left.Minutes:00}m" : $"{Math.Max(0, (int)left.TotalMinutes)}m{left.Seconds:00}s")}");
        }

        return parts.Count == 0 ? string.Empty : $" ({string.Join(", ", parts)})";
    }

    private static string NextWord(ref string text)
    {
        text = text.TrimStart();
        var space = text.IndexOf(' ', StringComparison.Ordinal);
        var word = space < 0 ? text : text[..space];
        text = space < 0 ? string.Empty : text[(space + 1)..].TrimStart();
        return word;
    }

    /// <summary><c>system.NAME</c>, <c>user.NAME</c> or <c>NAME</c> (the writer's own).</summary>
    private static (KeyValueScope Scope, string Owner, string Name) ParseKey(string user, string key, bool allowEmptyName = false)
    {
        var (scope, name) = key.StartsWith("system.", StringComparison.Ordinal) ? (KeyValueScope.System, key[7..])
            : key.StartsWith("user.", StringComparison.Ordinal) ? (KeyValueScope.User, key[5..])
            : (KeyValueScope.User, key);
        if (!allowEmptyName && name.Length == 0)
        {
            throw new DatastoreException($"'{key}' names no key: write system.NAME, or NAME for your own.");
        }

        return (scope, scope == KeyValueScope.System ? string.Empty : user, name);
    }

    private static string Display(KeyValueScope scope, string name) => $"{DatastoreService.Wire(scope)}.{name}";

    private static OutgoingMessage Say(string text) => new(text);
}
