using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OpsRobot.Core.Chat;
using OpsRobot.Core.Text;

namespace OpsRobot.Core.Commands;

/// <summary>
/// The one place every chat line goes through, whatever adapter brought it: screen it, decide whether it is
/// addressed to the robot, find the command, run it, and hand back what to say.
/// </summary>
public sealed partial class Robot
{
    private readonly CommandRegistry _registry;
    private readonly RobotOptions _options;
    private readonly ILogger<Robot> _logger;
    private readonly AliasDispatcher? _aliases;

    /// <param name="registry">The built-in commands; their names are reserved and win over any alias.</param>
    /// <param name="options">Prefix, robot name, message limit.</param>
    /// <param name="logger">Where refusals and failures are logged.</param>
    /// <param name="aliases">The packs' aliases, when the engine runs actions (null: built-in commands only).</param>
    public Robot(CommandRegistry registry, IOptions<RobotOptions> options, ILogger<Robot> logger, AliasDispatcher? aliases = null)
    {
        ArgumentNullException.ThrowIfNull(registry);
        ArgumentNullException.ThrowIfNull(options);
        _registry = registry;
        _options = options.Value;
        _logger = logger;
        _aliases = aliases;
    }

    /// <summary>The packs' aliases, when the engine runs actions.</summary>
    public AliasDispatcher? Aliases => _aliases;

    public RobotOptions Options => _options;

    /// <summary>
    /// Answers one chat line. Returns null when the line is not for the robot (ordinary conversation, or garbage
    /// that is only logged); otherwise the reply to post in the room the line came from.
    /// </summary>
    public async ValueTask<OutgoingMessage?> HandleAsync(IncomingMessage message, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(message);

        var verdict = MessageScreen.Check(message.Text, _options.MaxMessageLength);
        if (verdict == ScreenVerdict.Empty)
        {
            return null;
        }

        if (verdict != ScreenVerdict.Accepted)
        {
            // Only answer refusals for lines that look addressed to us (judged on their start, the way any line is);
            // a room's chatter is none of our business.
            var head = message.Text.Length > 256 ? message.Text[..256] : message.Text;
            var looksAddressed = message.Room.IsDirect || CommandAddressing.TryGetCommand(head, isDirect: false, _options) is not null;
            LogRefused(_logger, message.Platform, message.Room.Name, message.Sender.Name, verdict, message.Text.Length);
            return looksAddressed
                ? Reply(message, MessageScreen.Explain(verdict, message.Text.Length, _options.MaxMessageLength))
                : null;
        }

        var commandText = CommandAddressing.TryGetCommand(message.Text, message.Room.IsDirect, _options);
        if (commandText is null)
        {
            return null;
        }

        if (commandText.Length == 0)
        {
            return Reply(message, $"Yes? Try `{_options.CommandPrefix}help` to see what I can do.");
        }

        var (name, arguments) = SplitCommand(commandText);
        var command = _registry.Find(name);
        if (command is null)
        {
            if (_aliases is not null)
            {
                var answer = await _aliases.TryHandleAsync(message, commandText, _options, cancellationToken).ConfigureAwait(false);
                if (answer is not null)
                {
                    return answer with { ThreadId = answer.ThreadId ?? message.ThreadId };
                }
            }

            return Reply(message, UnknownCommand(name, commandText));
        }

        try
        {
            var reply = await command.ExecuteAsync(new CommandContext(message, command.Info.Name, arguments, _registry, _options) { Aliases = _aliases?.Index }, cancellationToken).ConfigureAwait(false);
            return reply with { ThreadId = reply.ThreadId ?? message.ThreadId };
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
#pragma warning disable CA1031 // A failing command must answer the room, never take the adapter down.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            LogCommandFailed(_logger, ex, command.Info.Name, message.Platform, message.Room.Name);
            return Reply(message, $"`{command.Info.Name}` failed: {ex.GetType().Name}. The details are in the server log.");
        }
    }

    private string UnknownCommand(string name, string commandText)
    {
        var prefix = _options.CommandPrefix;
        var suggestions = _registry.Suggest(name).Select(s => prefix + s.Info.Usage).ToList();
        if (_aliases is not null)
        {
            // A line that starts like an alias but does not fit any of its formats: show that alias's forms.
            var index = _aliases.Index;
            var first = name.ToLowerInvariant();
            var sameStart = index.All.Where(c => c.Format.LeadingLiteral.Split(' ')[0] == first).Select(c => prefix + c.Entry.Display).Distinct(StringComparer.Ordinal).Take(5).ToList();
            if (sameStart.Count > 0)
            {
                return $"That does not fit {Markdown.Code(name)}'s form{(sameStart.Count > 1 ? "s" : string.Empty)}: {string.Join(", ", sameStart.Select(Markdown.Code))}. Say `{prefix}help {name}` for details.";
            }

            suggestions.AddRange(index.Suggest(commandText).Select(c => prefix + c.Entry.Display));
        }

        var shown = Markdown.Code(name.Length > 40 ? name[..40] + "…" : name);
        if (suggestions.Count == 0)
        {
            return $"I don't know the command {shown}. Say `{prefix}help` for the list of commands.";
        }

        var list = string.Join(", ", suggestions.Take(3).Select(Markdown.Code));
        return $"I don't know the command {shown}. Did you mean {list}? Say `{prefix}help` for the list of commands.";
    }

    private static (string Name, string Arguments) SplitCommand(string commandText)
    {
        var end = 0;
        while (end < commandText.Length && !char.IsWhiteSpace(commandText[end]))
        {
            end++;
        }

        return (commandText[..end], commandText[end..].Trim());
    }

    private static OutgoingMessage Reply(IncomingMessage message, string text) => new(text) { ThreadId = message.ThreadId };

    [LoggerMessage(EventId = 1001, Level = LogLevel.Information,
        Message = "Refused a chat line on {Platform} in {Room} from {Sender}: {Verdict} ({Length} chars)")]
    private static partial void LogRefused(ILogger logger, string platform, string room, string sender, ScreenVerdict verdict, int length);

    [LoggerMessage(EventId = 1002, Level = LogLevel.Error,
        Message = "Command {Command} failed on {Platform} in {Room}")]
    private static partial void LogCommandFailed(ILogger logger, Exception exception, string command, string platform, string room);
}
