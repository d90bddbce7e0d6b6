using System.Globalization;
using System.Text;
using OpsRobot.Core.Chat;
using OpsRobot.Core.Commands;
using OpsRobot.Core.Status;
using OpsRobot.Core.Text;

namespace OpsRobot.Core.BuiltIn;

/// <summary><c>help</c> and <c>help COMMAND</c>: the commands grouped by pack, or one command's usage.</summary>
public sealed class HelpCommand : IRobotCommand
{
    public CommandInfo Info { get; } = new("core", "help", "help [COMMAND]", "List the commands, or show how to use one.");

    public ValueTask<OutgoingMessage> ExecuteAsync(CommandContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var prefix = context.Options.CommandPrefix;
        if (context.Arguments.Length > 0)
        {
            var wanted = context.Arguments.Split((char[]?)null, 2, StringSplitOptions.RemoveEmptyEntries)[0].TrimStart(prefix.ToCharArray());
            var command = context.Commands.Find(wanted);
            if (command is null)
            {
                var suggestions = context.Commands.Suggest(wanted);
                var hint = suggestions.Count == 0
                    ? string.Empty
                    : " Did you mean " + string.Join(", ", suggestions.Select(s => Markdown.Code(s.Info.Name))) + "?";
                return ValueTask.FromResult(new OutgoingMessage($"There is no command {Markdown.Code(wanted)}.{hint} Say `{prefix}help` for the list."));
            }

            var info = command.Info;
            return ValueTask.FromResult(new OutgoingMessage(
                $"**{prefix}{info.Name}** ({info.Pack})\n{info.Summary}\n\nUsage: {Markdown.Code(prefix + info.Usage)}"));
        }

        var sb = new StringBuilder();
        sb.Append(CultureInfo.InvariantCulture, $"Commands start with `{prefix}` or with my name (`{context.Options.RobotName}: ping`). In a direct message, no prefix is needed.\n");
        foreach (var pack in context.Commands.All.GroupBy(c => c.Info.Pack, StringComparer.Ordinal))
        {
            sb.Append(CultureInfo.InvariantCulture, $"\n**{pack.Key}**\n");
            sb.Append(Markdown.Table(
                ["command", "what it does"],
                pack.Select(c => (IReadOnlyList<string>)[Markdown.Code(prefix + c.Info.Usage), c.Info.Summary])));
            sb.Append('\n');
        }

        sb.Append(CultureInfo.InvariantCulture, $"\n`{prefix}help COMMAND` shows one command in detail.");
        return ValueTask.FromResult(new OutgoingMessage(sb.ToString()));
    }
}

/// <summary><c>ping</c>: is the robot there?</summary>
public sealed class PingCommand : IRobotCommand
{
    public CommandInfo Info { get; } = new("core", "ping", "ping", "Check that the robot is listening.");

    public ValueTask<OutgoingMessage> ExecuteAsync(CommandContext context, CancellationToken cancellationToken) =>
        ValueTask.FromResult(new OutgoingMessage("pong"));
}

/// <summary><c>echo TEXT</c>: says the text back.</summary>
public sealed class EchoCommand : IRobotCommand
{
    public CommandInfo Info { get; } = new("core", "echo", "echo TEXT", "Say TEXT back.");

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
    public CommandInfo Info { get; } = new("core", "whoami", "whoami", "Show who the robot thinks you are.");

    public ValueTask<OutgoingMessage> ExecuteAsync(CommandContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var m = context.Message;
        var where = m.Room.IsDirect ? "a direct message" : $"room {Markdown.Code(m.Room.Name)}";
        return ValueTask.FromResult(new OutgoingMessage(
            $"You are **{Escape(m.Sender.Name)}** (user id {Markdown.Code(m.Sender.Id)} on {Markdown.Code(m.Platform)}), writing in {where}."));
    }

    private static string Escape(string text) =>
        text.Replace("*", "\\*", StringComparison.Ordinal).Replace("_", "\\_", StringComparison.Ordinal).Replace("`", "\\`", StringComparison.Ordinal);
}

/// <summary><c>version</c>: which OpsRobot is answering.</summary>
public sealed class VersionCommand(RobotInfo info) : IRobotCommand
{
    public CommandInfo Info { get; } = new("core", "version", "version", "Show the version of OpsRobot that is answering.");

    public ValueTask<OutgoingMessage> ExecuteAsync(CommandContext context, CancellationToken cancellationToken) =>
        ValueTask.FromResult(new OutgoingMessage(
            $"OpsRobot {info.Version} on .NET {Environment.Version} ({System.Runtime.InteropServices.RuntimeInformation.OSDescription.Trim()})"));
}

/// <summary><c>status</c>: uptime and the state of each part (store, packs, chat adapters).</summary>
public sealed class StatusCommand(RobotInfo info, IEnumerable<IStatusSource> sources, TimeProvider time) : IRobotCommand
{
    public CommandInfo Info { get; } = new("core", "status", "status", "Show uptime and the health of the store, packs and chat adapters.");

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
