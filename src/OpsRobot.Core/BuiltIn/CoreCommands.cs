using System.Globalization;
using System.Text;
using OpsRobot.Core.Chat;
using OpsRobot.Core.Commands;
using OpsRobot.Core.Status;
using OpsRobot.Core.Text;

namespace OpsRobot.Core.BuiltIn;

/// <summary><c>help</c> and <c>help COMMAND</c>: the commands grouped by pack, or one command's forms and parameters.</summary>
public sealed class HelpCommand : IRobotCommand
{
    public CommandInfo Info { get; } = new("core", "help", "help [COMMAND]", "List the commands, or show how to use one.") { AnswerOnly = true };

    public ValueTask<OutgoingMessage> ExecuteAsync(CommandContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        return ValueTask.FromResult(new OutgoingMessage(context.Arguments.Length > 0 ? One(context) : All(context)));
    }

    private static string All(CommandContext context)
    {
        var prefix = context.Options.CommandPrefix;
        var sb = new StringBuilder();
        sb.Append(CultureInfo.InvariantCulture, $"Commands start with `{prefix}` or with my name (`{context.Options.RobotName}: ping`). In a direct message, no prefix is needed.\n");
        var rows = context.Commands.All
            .Where(c => Robot.MaySee(context.Principal, c.Info))
            .Select(c => (Pack: c.Info.Pack, Usage: prefix + c.Info.Usage, c.Info.Summary))
            .Concat((context.Aliases?.All ?? []).Where(c => MayRun(context, c.Alias)).DistinctBy(c => (c.Alias.Ref, c.Entry.Display)).Select(c => (c.Alias.Pack, Usage: prefix + c.Entry.Display, Summary: c.Alias.Description)));
        foreach (var pack in rows.GroupBy(r => r.Pack, StringComparer.Ordinal).OrderBy(g => g.Key == "core" ? 0 : 1).ThenBy(g => g.Key, StringComparer.Ordinal))
        {
            sb.Append(CultureInfo.InvariantCulture, $"\n**{pack.Key}**\n");
            sb.Append(Markdown.Table(["command", "what it does"], pack.Select(r => (IReadOnlyList<string>)[Markdown.Code(r.Usage), r.Summary])));
            sb.Append('\n');
        }

        sb.Append(CultureInfo.InvariantCulture, $"\n`{prefix}help COMMAND` shows one command in detail. This list holds what you may run; `{prefix}whoami` shows your roles.");
        return sb.ToString();
    }

    private static bool MayRun(CommandContext context, Packs.AliasDefinition alias) =>
        AliasDispatcher.MayRun(context.Principal, alias, context.Aliases?.Snapshot.FindAction(alias.ActionRef));

    private static bool MaySee(CommandContext context, Packs.AliasDefinition alias) =>
        AliasDispatcher.MaySee(context.Principal, alias, context.Aliases?.Snapshot.FindAction(alias.ActionRef));

    private static string One(CommandContext context)
    {
        var prefix = context.Options.CommandPrefix;
        var wanted = context.Arguments.Split((char[]?)null, 2, StringSplitOptions.RemoveEmptyEntries)[0].TrimStart(prefix.ToCharArray());
        var builtIn = context.Commands.Find(wanted);
        if (builtIn is not null && Robot.MaySee(context.Principal, builtIn.Info))
        {
            var info = builtIn.Info;
            return $"**{prefix}{info.Name}** ({info.Pack})\n{info.Summary}\n\nUsage: {Markdown.Code(prefix + info.Usage)}";
        }

        var lowered = wanted.ToLowerInvariant();
        var aliases = (context.Aliases?.All ?? [])
            .Where(c => c.Format.LeadingLiteral.Split(' ')[0] == lowered || c.Alias.Name.Equals(wanted, StringComparison.OrdinalIgnoreCase) || c.Alias.Ref.Equals(wanted, StringComparison.OrdinalIgnoreCase))
            .Where(c => MaySee(context, c.Alias))
            .GroupBy(c => c.Alias.Ref, StringComparer.Ordinal)
            .ToList();
        if (aliases.Count == 0)
        {
            var suggestions = context.Commands.Suggest(wanted).Where(s => Robot.MaySee(context.Principal, s.Info)).Select(s => s.Info.Name)
                .Concat(context.Aliases?.Suggest(wanted).Where(c => MaySee(context, c.Alias)).Select(c => c.Format.LeadingLiteral) ?? [])
                .Distinct(StringComparer.Ordinal).Take(3).ToList();
            var hint = suggestions.Count == 0 ? string.Empty : " Did you mean " + string.Join(", ", suggestions.Select(Markdown.Code)) + "?";
            return $"There is no command {Markdown.Code(wanted)}.{hint} Say `{prefix}help` for the list.";
        }

        var sb = new StringBuilder();
        foreach (var group in aliases)
        {
            var alias = group.First().Alias;
            var guards = context.Aliases!.Snapshot.FindAction(alias.ActionRef)?.Guards.Combine(alias.Guards) ?? alias.Guards;
            sb.Append(CultureInfo.InvariantCulture, $"**{alias.Ref}** runs {Markdown.Code(alias.ActionRef)}");
            if (guards.Sudo)
            {
                sb.Append(CultureInfo.InvariantCulture, $" (sudo: say {Markdown.Code(prefix + "sudo …")})");
            }

            if (guards.AllowRooms.Count > 0)
            {
                sb.Append(CultureInfo.InvariantCulture, $" (only in {string.Join(", ", guards.AllowRooms)})");
            }
            if (alias.Description.Length > 0)
            {
                sb.Append(": ").Append(alias.Description);
            }

            sb.Append("\n\nUsage:\n");
            foreach (var display in group.Select(c => c.Entry.Display).Distinct(StringComparer.Ordinal))
            {
                sb.Append("- ").Append(Markdown.Code(prefix + display)).Append('\n');
            }

            var action = context.Aliases!.Snapshot.FindAction(alias.ActionRef);
            var parameters = action?.Parameters.Where(p => !p.Immutable && !alias.ImmutableParameters.ContainsKey(p.Name)).ToList() ?? [];
            if (parameters.Count > 0)
            {
                sb.Append('\n').Append(Markdown.Table(
                    ["parameter", "type", "required", "default", "what it is"],
                    parameters.Select(p => (IReadOnlyList<string>)[
                        Markdown.Code(p.Name),
                        p.Type.ToString().ToLowerInvariant() + (p.Enum is { Count: > 0 } e ? ": " + string.Join(" | ", e.Select(v => v?.ToJsonString())) : string.Empty),
                        p.Required && p.Default is null ? "yes" : "no",
                        p.Secret ? "(secret)" : p.Default?.ToJsonString() ?? string.Empty,
                        p.Description,
                    ])));
                sb.Append("\nExtra parameters can follow as `key=value`.\n");
            }

            sb.Append('\n');
        }

        return sb.ToString().TrimEnd();
    }
}

/// <summary><c>ping</c>: is the robot there?</summary>
public sealed class PingCommand : IRobotCommand
{
    public CommandInfo Info { get; } = new("core", "ping", "ping", "Check that the robot is listening.") { AnswerOnly = true };

    public ValueTask<OutgoingMessage> ExecuteAsync(CommandContext context, CancellationToken cancellationToken) =>
        ValueTask.FromResult(new OutgoingMessage("pong"));
}

/// <summary><c>echo TEXT</c>: says the text back.</summary>
public sealed class EchoCommand : IRobotCommand
{
    public CommandInfo Info { get; } = new("core", "echo", "echo TEXT", "Say TEXT back.") { AnswerOnly = true };

    public ValueTask<OutgoingMessage> ExecuteAsync(CommandContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        return ValueTask.FromResult(new OutgoingMessage(context.Arguments.Length == 0
            ? $"Usage: {Markdown.Code(context.Options.CommandPrefix + Info.Usage)}"
            : context.Arguments));
    }
}

/// <summary><c>whoami</c>: who the robot thinks is asking, and from where.</summary>
public sealed class WhoAmICommand : IRobotCommand
{
    public CommandInfo Info { get; } = new("core", "whoami", "whoami", "Show who the robot thinks you are.") { AnswerOnly = true };

    public ValueTask<OutgoingMessage> ExecuteAsync(CommandContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var m = context.Message;
        var where = m.Room.IsDirect ? "a direct message" : $"room {Markdown.Code(m.Room.Name)}";
        var text = $"You are **{Escape(m.Sender.Name)}** (user id {Markdown.Code(m.Sender.Id)} on {Markdown.Code(m.Platform)}), writing in {where}.";
        if (context.Principal is { } p)
        {
            var roles = string.Join(", ", p.Roles.Select(r => r.Name));
            text += p.User is { } user
                ? $"\nOpsRobot user: **{Escape(user.Name)}**; roles: {roles}{(p.IsAdministrator ? "; on the administrators' whitelist" : string.Empty)}."
                : $"\nThis identity is not linked to an OpsRobot user, so you have the {roles} role. To link it: sign in to the web console, ask for a link code, and say {Markdown.Code(context.Options.CommandPrefix + "link CODE")} here.";
        }

        return ValueTask.FromResult(new OutgoingMessage(text));
    }

    private static string Escape(string text) =>
        text.Replace("*", "\\*", StringComparison.Ordinal).Replace("_", "\\_", StringComparison.Ordinal).Replace("`", "\\`", StringComparison.Ordinal);
}

/// <summary><c>version</c>: which OpsRobot is answering.</summary>
public sealed class VersionCommand(RobotInfo info) : IRobotCommand
{
    public CommandInfo Info { get; } = new("core", "version", "version", "Show the version of OpsRobot that is answering.") { AnswerOnly = true };

    public ValueTask<OutgoingMessage> ExecuteAsync(CommandContext context, CancellationToken cancellationToken) =>
        ValueTask.FromResult(new OutgoingMessage(
            $"OpsRobot {info.Version} on .NET {Environment.Version} ({System.Runtime.InteropServices.RuntimeInformation.OSDescription.Trim()})"));
}

/// <summary><c>status</c>: uptime and the state of each part (store, packs, chat adapters).</summary>
public sealed class StatusCommand(RobotInfo info, IEnumerable<IStatusSource> sources, TimeProvider time) : IRobotCommand
{
    public CommandInfo Info { get; } = new("core", "status", "status", "Show uptime and the health of the store, packs and chat adapters.") { Permission = Access.Permissions.PackView };

    public async ValueTask<OutgoingMessage> ExecuteAsync(CommandContext context, CancellationToken cancellationToken)
    {
        var rows = new List<IReadOnlyList<string>>();
        var worst = HealthState.Healthy;
        foreach (var source in sources)
        {
            var status = await source.GetStatusAsync(cancellationToken).ConfigureAwait(false);
            worst = (HealthState)Math.Max((int)worst, (int)status.State);
            rows.Add([status.Component, status.State.ToString().ToLowerInvariant(), status.Detail]);
        }

        var uptime = time.GetUtcNow() - info.StartedAt;
        var head = string.Create(CultureInfo.InvariantCulture,
            $"OpsRobot {info.Version}: **{worst.ToString().ToLowerInvariant()}**, up {FormatUptime(uptime)} (since {info.StartedAt.UtcDateTime:yyyy-MM-dd HH:mm:ss} UTC).");
        return new OutgoingMessage(rows.Count == 0 ? head : head + "\n\n" + Markdown.Table(["component", "state", "detail"], rows));
    }

    internal static string FormatUptime(TimeSpan uptime)
    {
        if (uptime < TimeSpan.Zero)
        {
            uptime = TimeSpan.Zero;
        }

        return uptime.TotalDays >= 1
            ? string.Create(CultureInfo.InvariantCulture, $"{(int)uptime.TotalDays}d {uptime.Hours}h {uptime.Minutes}m")
            : uptime.TotalHours >= 1
                ? string.Create(CultureInfo.InvariantCulture, $"{uptime.Hours}h {uptime.Minutes}m")
                : string.Create(CultureInfo.InvariantCulture, $"{uptime.Minutes}m {uptime.Seconds}s");
    }
}
