using System.Globalization;
using System.Text;
using OpsRobot.Core.Access;
using OpsRobot.Core.Audit;
using OpsRobot.Core.Chat;
using OpsRobot.Core.Commands;
using OpsRobot.Core.Text;

namespace OpsRobot.Core.BuiltIn;

/// <summary><c>link CODE</c>: ties this chat identity to the OpsRobot user who asked the web console for the code.</summary>
public sealed class LinkCommand(AccessService access) : IRobotCommand
{
    public CommandInfo Info { get; } = new("core", "link", "link CODE", "Link your chat identity to your OpsRobot user with a code from the web console.");

    public async ValueTask<OutgoingMessage> ExecuteAsync(CommandContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (context.Principal is not { } principal)
        {
            return new OutgoingMessage("Linking needs access control, which is not running here.");
        }

        if (context.Arguments.Length == 0)
        {
            return new OutgoingMessage(
                $"Sign in to the web console, open **Link a chat identity** to get a six-digit code, then say {Markdown.Code(context.Options.CommandPrefix + "link CODE")} here. The code works once, for {(int)access.Options.LinkCodeLifetime.TotalMinutes} minutes.");
        }

        return new OutgoingMessage(await access.UseLinkCodeAsync(principal, context.Arguments.Trim(), context.Message.Sender.Name, cancellationToken).ConfigureAwait(false));
    }
}

/// <summary>
/// <c>sudo COMMAND</c> runs a sudo command under a confirmed elevation; <c>sudo confirm CODE</c> confirms one
/// with the code sent through a second channel; <c>sudo off</c> closes the elevation; <c>sudo</c> shows it.
/// </summary>
public sealed class SudoCommand(AccessService access, IChatReplySender sender, TimeProvider time) : IRobotCommand
{
    public CommandInfo Info { get; } = new("core", "sudo", "sudo COMMAND | sudo confirm CODE | sudo off", "Run a sudo command after confirming who you are through a second channel.");

    public async ValueTask<OutgoingMessage> ExecuteAsync(CommandContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (context.Principal is not { } principal || context.Robot is not { } robot)
        {
            return new OutgoingMessage("Sudo needs access control, which is not running here.");
        }

        var args = context.Arguments;
        var words = args.Split(' ', 3, StringSplitOptions.RemoveEmptyEntries);
        if (words.Length == 0 || (words.Length == 1 && words[0] == "status"))
        {
            var open = principal.User is { } u ? await access.ElevationOfAsync(u.Id, cancellationToken).ConfigureAwait(false) : null;
            return new OutgoingMessage(open is null
                ? $"You have no open elevation. Usage: {Markdown.Code(context.Options.CommandPrefix + Info.Usage)}"
                : string.Create(CultureInfo.InvariantCulture, $"Your elevation is open until {open.ExpiresAt.UtcDateTime:HH:mm:ss} UTC (confirmed via {open.ConfirmedVia}). {Markdown.Code(context.Options.CommandPrefix + "sudo off")} closes it."));
        }

        if (words.Length == 1 && words[0] == "off")
        {
            await access.DropElevationAsync(principal, cancellationToken).ConfigureAwait(false);
            return new OutgoingMessage("Elevation closed.");
        }

        if (words[0] == "confirm")
        {
            return await ConfirmAsync(context, principal, robot, words.Length > 1 ? words[1] : string.Empty, cancellationToken).ConfigureAwait(false);
        }

        if (robot.Access is null)
        {
            return new OutgoingMessage("Sudo needs access control, which is not running here.");
        }

        // "!sudo !deploy …": the command after sudo is written without a prefix of its own, which would make it an
        // unknown command whose closest match ("Did you mean `!deploy`?") is the very thing typed.
        var prefix = context.Options.CommandPrefix;
        if (prefix.Length > 0 && args.StartsWith(prefix, StringComparison.Ordinal))
        {
            var bare = args[prefix.Length..].TrimStart();
            return new OutgoingMessage($"Write the command after {Markdown.Code(prefix + "sudo")} without its own {Markdown.Code(prefix)}: {Markdown.Code(prefix + "sudo " + (bare.Length > 60 ? bare[..60] + "…" : bare))}.");
        }

        var reply = await robot.DispatchAsync(context.Message, args, principal, sudo: true, cancellationToken).ConfigureAwait(false);
        return reply ?? new OutgoingMessage(string.Empty);
    }

    private async Task<OutgoingMessage> ConfirmAsync(CommandContext context, Principal principal, Robot robot, string code, CancellationToken cancellationToken)
    {
        var (pending, problem) = await access.ConfirmElevationAsync(principal, code, $"code in chat ({context.Message.Platform})", cancellationToken).ConfigureAwait(false);
        if (pending is null)
        {
            return new OutgoingMessage(problem!);
        }

        var window = time.GetUtcNow() + access.Options.ElevationWindow;
        var head = string.Create(CultureInfo.InvariantCulture, $"Elevation open until {window.UtcDateTime:HH:mm:ss} UTC.");
        var m = context.Message;
        var sameRoom = pending.Platform == m.Platform && pending.RoomId == m.Room.Id;
        if (pending.Platform != m.Platform)
        {
            return new OutgoingMessage($"{head} The command was asked on {pending.Platform}; say it there again with {Markdown.Code(context.Options.CommandPrefix + "sudo")}.");
        }

        var reply = await access.RunConfirmedElevationAsync(pending, m, replyToCaller: sameRoom, robot, sender, cancellationToken).ConfigureAwait(false);
        if (sameRoom)
        {
            return reply is null ? new OutgoingMessage(head) : reply with { Text = reply.Text.Length == 0 ? head : head + "\n" + reply.Text };
        }

        return new OutgoingMessage($"{head} Running {Markdown.Code(AuditLog.MaskSecrets(pending.Command))} in {pending.RoomName}.");
    }
}

/// <summary><c>audit [user=NAME] [kind=KIND] [decision=allow|deny] [limit=N]</c>: the latest audit records.</summary>
public sealed class AuditCommand(AuditLog audit) : IRobotCommand
{
    public CommandInfo Info { get; } = new("core", "audit", "audit [user=NAME] [kind=KIND] [decision=deny] [limit=N]", "Show the latest audit records.") { Permission = Permissions.AuditView };

    public async ValueTask<OutgoingMessage> ExecuteAsync(CommandContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var query = new AuditQuery { Limit = 10 };
        foreach (var word in context.Arguments.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            var eq = word.IndexOf('=', StringComparison.Ordinal);
            var key = eq < 0 ? word : word[..eq];
            var value = eq < 0 ? string.Empty : word[(eq + 1)..];
            switch (key)
            {
                case "user":
                    query = query with { Actor = value };
                    break;
                case "kind":
                    query = query with { Kind = value };
                    break;
                case "decision" when value is "allow" or "deny":
                    query = query with { Decision = value };
                    break;
                case "limit" when int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n is > 0 and <= 50:
                    query = query with { Limit = n };
                    break;
                default:
                    return new OutgoingMessage($"Usage: {Markdown.Code(context.Options.CommandPrefix + Info.Usage)} (limit at most 50)");
            }
        }

        var records = await audit.QueryAsync(query, cancellationToken).ConfigureAwait(false);
        if (records.Count == 0)
        {
            return new OutgoingMessage("No audit records match.");
        }

        var rows = records.Select(r => (IReadOnlyList<string>)[
            r.Id.ToString(CultureInfo.InvariantCulture),
            r.At.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture),
            r.Actor,
            r.Kind,
            Cut(r.Subject ?? string.Empty, 60),
            r.Decision ?? string.Empty,
            Cut(r.Rule ?? string.Empty, 60),
        ]);
        var sb = new StringBuilder();
        sb.Append(Markdown.Table(["#", "when (UTC)", "who", "what", "subject", "decision", "rule"], rows));
        sb.Append("\nAll of it: `opsrobot audit list` or GET /api/v1/audit.");
        return new OutgoingMessage(sb.ToString());
    }

    private static string Cut(string text, int max) => text.Length <= max ? text : text[..(max - 1)] + "…";
}
