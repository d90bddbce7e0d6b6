using System.Globalization;
using System.Text;
using Microsoft.Extensions.Options;
using OpsRobot.Core.Access;
using OpsRobot.Core.Chat;
using OpsRobot.Core.Commands;
using OpsRobot.Core.Text;

namespace OpsRobot.Core.Cmdb;

/// <summary>
/// The CMDB's chat commands, in the <c>cmdb</c> pack. They are built into OpsRobot rather than aliases over a
/// runner because every answer depends on who is asking (the hosts of their application nodes only), and only
/// built-in commands receive the asker as access control established them.
/// </summary>
internal static class HostChat
{
    public const string Pack = "cmdb";

    public static string NotFound(string name) =>
        $"I know no host {Markdown.Code(name.Length > 80 ? name[..80] + "…" : name)}.";

    public static async Task<OutgoingMessage> GuardAsync(Func<Task<string>> work)
    {
        try
        {
            return new OutgoingMessage(await work().ConfigureAwait(false));
        }
        catch (CmdbException ex)
        {
            return new OutgoingMessage(ex.Message);
        }
    }

    public static string Usage(CommandContext context, CommandInfo info) => $"Usage: {Markdown.Code(context.Options.CommandPrefix + info.Usage)}";
}

/// <summary><c>!host web01</c>: a card with the host's facts and its application.</summary>
public sealed class HostCommand(CmdbService cmdb) : IRobotCommand
{
    public CommandInfo Info { get; } = new(HostChat.Pack, "host", "host HOSTNAME", "Show a host: addresses, environment, application, owner, status, tags, attributes.") { Permission = Permissions.HostView };

    public ValueTask<OutgoingMessage> ExecuteAsync(CommandContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var words = context.Arguments.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (words.Length != 1)
        {
            return ValueTask.FromResult(new OutgoingMessage(HostChat.Usage(context, Info)));
        }

        return new ValueTask<OutgoingMessage>(HostChat.GuardAsync(async () =>
            await cmdb.FindAsync(context.Principal!, words[0], cancellationToken).ConfigureAwait(false) is { } host
                ? Card(host)
                : HostChat.NotFound(words[0])));
    }

    /// <summary>The host as a short Markdown card; every value from the CMDB sits in a code span.</summary>
    public static string Card(HostRecord host)
    {
        ArgumentNullException.ThrowIfNull(host);
        var sb = new StringBuilder();
        // A remote CMDB's status is free text: only the known ones are written bare.
        sb.Append(CultureInfo.InvariantCulture, $"**{Markdown.Code(host.Hostname)}** — {(HostStatuses.IsKnown(host.Status) ? host.Status : Markdown.Code(host.Status))}");
        if (host.Environment is { } env)
        {
            sb.Append(CultureInfo.InvariantCulture, $" · {Markdown.Code(env)}");
        }

        sb.Append('\n');
        sb.Append(CultureInfo.InvariantCulture, $"Application: {(host.Application is { } app ? Markdown.Code(app) : "none")} · Owner: {(host.Owner is { } owner ? Markdown.Code(owner) : "none")}\n");
        sb.Append(CultureInfo.InvariantCulture, $"Addresses: {(host.Addresses.Count == 0 ? "none" : string.Join(", ", host.Addresses.Select(Markdown.Code)))}\n");
        if (host.Tags.Count > 0)
        {
            sb.Append(CultureInfo.InvariantCulture, $"Tags: {string.Join(", ", host.Tags.Select(Markdown.Code))}\n");
        }

        if (host.Attributes.Count > 0)
        {
            sb.Append(CultureInfo.InvariantCulture, $"Attributes: {string.Join(", ", host.Attributes.OrderBy(a => a.Key, StringComparer.Ordinal).Select(a => Markdown.Code($"{a.Key}={a.Value}")))}\n");
        }

        return sb.ToString().TrimEnd('\n');
    }
}

/// <summary><c>!hosts app=booking env=prod [page N]</c>: the matching hosts the asker may see, as a paged table.</summary>
public sealed class HostsCommand(CmdbService cmdb, IOptions<CmdbOptions> options) : IRobotCommand
{
    public CommandInfo Info { get; } = new(HostChat.Pack, "hosts", "hosts [app=NODE] [env=ENV] [status=STATUS] [tag=TAG] [owner=OWNER] [name=PATTERN] [page N]",
        "List the hosts of your applications, filtered, a page at a time.")
    { Permission = Permissions.HostView };

    public ValueTask<OutgoingMessage> ExecuteAsync(CommandContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        return new ValueTask<OutgoingMessage>(HostChat.GuardAsync(() => ListAsync(context, cancellationToken)));
    }

    private async Task<string> ListAsync(CommandContext context, CancellationToken cancellationToken)
    {
        var words = context.Arguments.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        string? app = null, env = null, status = null, owner = null, name = null;
        var tags = new List<string>();
        var page = 1;
        for (var i = 0; i < words.Length; i++)
        {
            var word = words[i];
            if (string.Equals(word, "page", StringComparison.OrdinalIgnoreCase) && i + 1 < words.Length)
            {
                if (!int.TryParse(words[++i], NumberStyles.None, CultureInfo.InvariantCulture, out page) || page < 1 || page > 100_000)
                {
                    return $"The page is a number from 1. {HostChat.Usage(context, Info)}";
                }

                continue;
            }

            var eq = word.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0 || eq == word.Length - 1)
            {
                return HostChat.Usage(context, Info);
            }

            var value = word[(eq + 1)..];
            switch (word[..eq].ToLowerInvariant())
            {
                case "app" or "application":
                    app = value;
                    break;
                case "env" or "environment":
                    env = value;
                    break;
                case "status":
                    status = value;
                    break;
                case "tag" or "tags":
                    tags.AddRange(value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
                    break;
                case "owner":
                    owner = value;
                    break;
                case "name":
                    name = value;
                    break;
                default:
                    return $"I do not know the filter {Markdown.Code(word[..eq])}. {HostChat.Usage(context, Info)}";
            }
        }

        if (app is not null)
        {
            // Same rules as a scoped parameter: the exact path, or a leaf only one node has.
            var resolution = (await cmdb.TreeAsync(cancellationToken).ConfigureAwait(false)).Resolve(app.TrimStart('/'));
            if (resolution.Path is null)
            {
                return $"{Markdown.Code("app")} refused: {resolution.Problem}.";
            }

            app = resolution.Path;
        }

        var hosts = await cmdb.QueryAsync(context.Principal!, new HostQuery(name, app, env, tags, status, owner), cancellationToken).ConfigureAwait(false);
        if (hosts.Count == 0)
        {
            return "No host you may see matches.";
        }

        var size = Math.Clamp(options.Value.ChatPageSize, 1, 200);
        var pages = (hosts.Count + size - 1) / size;
        if (page > pages)
        {
            return string.Create(CultureInfo.InvariantCulture, $"There are only {pages} page{(pages == 1 ? string.Empty : "s")} ({hosts.Count} hosts).");
        }

        var shown = hosts.Skip((page - 1) * size).Take(size).ToList();
        var table = Markdown.Table(["host", "environment", "application", "status", "owner", "address"],
            shown.Select(h => (IReadOnlyList<string>)[h.Hostname, h.Environment ?? string.Empty, h.Application ?? string.Empty, h.Status, h.Owner ?? string.Empty, h.Addresses.Count > 0 ? h.Addresses[0] : string.Empty]));
        var first = ((page - 1) * size) + 1;
        var head = string.Create(CultureInfo.InvariantCulture, $"Hosts {first}–{first + shown.Count - 1} of {hosts.Count} (page {page} of {pages})");
        var next = page < pages
            ? $"\nSay {Markdown.Code($"{context.Options.CommandPrefix}hosts {string.Join(' ', words.Where((w, i) => !IsPageWord(words, i)))} page {page + 1}".Replace("  ", " ", StringComparison.Ordinal))} for more."
            : string.Empty;
        return $"{head}\n{table}{next}";
    }

    private static bool IsPageWord(string[] words, int i) =>
        string.Equals(words[i], "page", StringComparison.OrdinalIgnoreCase) || (i > 0 && string.Equals(words[i - 1], "page", StringComparison.OrdinalIgnoreCase));
}

/// <summary><c>!whoowns web01</c>: the host's owner, its application, and that node's owners.</summary>
public sealed class WhoOwnsCommand(CmdbService cmdb) : IRobotCommand
{
    public CommandInfo Info { get; } = new(HostChat.Pack, "whoowns", "whoowns HOSTNAME", "Who answers for a host: its owner, its application and the application's owners.") { Permission = Permissions.HostView };

    public ValueTask<OutgoingMessage> ExecuteAsync(CommandContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var words = context.Arguments.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (words.Length != 1)
        {
            return ValueTask.FromResult(new OutgoingMessage(HostChat.Usage(context, Info)));
        }

        return new ValueTask<OutgoingMessage>(HostChat.GuardAsync(async () =>
        {
            if (await cmdb.WhoOwnsAsync(context.Principal!, words[0], cancellationToken).ConfigureAwait(false) is not { } who)
            {
                return HostChat.NotFound(words[0]);
            }

            var host = who.Host;
            var owner = host.Owner is { } o ? $"owned by {Markdown.Code(o)}" : "no owner recorded";
            var app = host.Application is { } a ? $"application {Markdown.Code(a)}" : "no application";
            var nodeOwners = who.OwnersNode is { } node && who.NodeOwners.Count > 0
                ? $"; {string.Join(", ", who.NodeOwners)} own{(who.NodeOwners.Count == 1 ? "s" : string.Empty)} {Markdown.Code(node)}"
                : host.Application is null ? string.Empty : "; nobody owns its node yet";
            return $"**{Markdown.Code(host.Hostname)}**: {owner}, {app}{nodeOwners}.";
        }));
    }
}
