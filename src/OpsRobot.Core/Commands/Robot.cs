using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OpsRobot.Core.Access;
using OpsRobot.Core.Audit;
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
    private readonly AccessService? _access;
    private readonly Sensors.IChatMessageObserver? _chatObserver;

    /// <param name="registry">The built-in commands; their names are reserved and win over any alias.</param>
    /// <param name="options">Prefix, robot name, message limit.</param>
    /// <param name="logger">Where refusals and failures are logged.</param>
    /// <param name="aliases">The packs' aliases, when the engine runs actions (null: built-in commands only).</param>
    /// <param name="access">
    /// Access control. The host always wires it; it is optional only so that the command parser can be tested on
    /// its own, and without it the robot runs built-in commands only.
    /// </param>
    /// <param name="chatObserver">Sees every accepted line (the chat-message sensor, so rules can react to words in a room).</param>
    public Robot(CommandRegistry registry, IOptions<RobotOptions> options, ILogger<Robot> logger, AliasDispatcher? aliases = null, AccessService? access = null, Sensors.IChatMessageObserver? chatObserver = null)
    {
        _chatObserver = chatObserver;
        ArgumentNullException.ThrowIfNull(registry);
        ArgumentNullException.ThrowIfNull(options);
        _registry = registry;
        _options = options.Value;
        _logger = logger;
        _aliases = access is null ? null : aliases;
        _access = access;
    }

    /// <summary>Access control, when wired.</summary>
    public AccessService? Access => _access;

    /// <summary>The packs' aliases, when the engine runs actions.</summary>
    public AliasDispatcher? Aliases => _aliases;

    public RobotOptions Options => _options;

    /// <summary>
    /// Answers one chat line. Returns null when the line is not for the robot (ordinary conversation, or garbage
    /// that is only logged); otherwise the reply to post in the room the line came from.
    /// </summary>
    public async ValueTask<OutgoingMessage?> HandleAsync(IncomingMessage message, CancellationToken cancellationToken = default)
    {
        var answer = await HandleAsync(message, holdUntilRecorded: false, cancellationToken).ConfigureAwait(false);
        if (answer is not null)
        {
            await answer.Recorded.ConfigureAwait(false);
        }

        return answer;
    }

    /// <summary>
    /// Answers one chat line, as <see cref="HandleAsync(IncomingMessage, CancellationToken)"/> does, except that
    /// an answer-only command's answer may come back before its audit record is stored: the caller then shows it
    /// only once <see cref="OutgoingMessage.Recorded"/> completes. This lets a script's burst of lines share commits
    /// (the shell chat's piped mode); the line after is dispatched only after this one, as ever.
    /// </summary>
    /// <param name="message">The chat line.</param>
    /// <param name="holdUntilRecorded">True: the caller holds the answer until <see cref="OutgoingMessage.Recorded"/>.</param>
    /// <param name="cancellationToken">Stops the dispatch.</param>
    public async ValueTask<OutgoingMessage?> HandleAsync(IncomingMessage message, bool holdUntilRecorded, CancellationToken cancellationToken)
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

        _chatObserver?.Observe(message);
        var commandText = CommandAddressing.TryGetCommand(message.Text, message.Room.IsDirect, _options);
        if (commandText is null)
        {
            return null;
        }

        if (commandText.Length == 0)
        {
            return Reply(message, $"Yes? Try `{_options.CommandPrefix}help` to see what I can do.");
        }

        var principal = _access is null ? null : await _access.ForChatAsync(message, cancellationToken).ConfigureAwait(false);
        return await DispatchAsync(message, commandText, principal, sudo: false, holdUntilRecorded, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Runs a command line for <paramref name="principal"/>: a built-in command if one has its name, else a pack
    /// alias. Every line is authorized and audited here (or, for aliases, in the dispatcher) before anything runs.
    /// </summary>
    /// <param name="message">The chat line, for the room and thread to answer in.</param>
    /// <param name="commandText">The command without prefix or mention.</param>
    /// <param name="principal">Who asks; null only without access control (parser tests).</param>
    /// <param name="sudo">True when the line came through <c>sudo</c>.</param>
    /// <param name="cancellationToken">Stops the dispatch.</param>
    public async ValueTask<OutgoingMessage?> DispatchAsync(IncomingMessage message, string commandText, Principal? principal, bool sudo, CancellationToken cancellationToken)
    {
        var answer = await DispatchAsync(message, commandText, principal, sudo, holdUntilRecorded: false, cancellationToken).ConfigureAwait(false);
        if (answer is not null)
        {
            await answer.Recorded.ConfigureAwait(false);
        }

        return answer;
    }

    private async ValueTask<OutgoingMessage?> DispatchAsync(IncomingMessage message, string commandText, Principal? principal, bool sudo, bool holdUntilRecorded, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(message);
        ArgumentNullException.ThrowIfNull(commandText);
        var (name, arguments) = SplitCommand(commandText);
        var command = _registry.Find(name);
        if (command is null)
        {
            if (_aliases is not null)
            {
                var answer = await _aliases.TryHandleAsync(message, commandText, _options, principal, sudo, cancellationToken).ConfigureAwait(false);
                if (answer is not null)
                {
                    return answer with { ThreadId = answer.ThreadId ?? message.ThreadId };
                }
            }

            // Refused: the answer is the only effect, so it may be worked out while the record is written.
            var refused = AuditCommand(principal, commandText, "deny", $"no command by that name that {principal?.Name ?? "they"} may see", cancellationToken);
            return await HoldAsync(Reply(message, UnknownCommand(name, commandText, principal)), refused, holdUntilRecorded).ConfigureAwait(false);
        }

        var recorded = Task.CompletedTask;
        if (principal is not null && _access is not null)
        {
            var decision = command.Info.Permission is { } permission
                ? await _access.AuthorizeAsync(principal, permission, "*", cancellationToken).ConfigureAwait(false)
                : AccessDecision.Allow("open to everyone");

            // A command open to everyone that acts on something (a key, an execution) decides on that when it runs,
            // and records a refusal then: its line claims no "allow" it may not get.
            var decidedByTheCommand = command.Info.Permission is null && !command.Info.AnswerOnly;
            recorded = decidedByTheCommand
                ? AuditCommand(principal, commandText, null, "open to everyone; the command checks what it acts on (a refusal is its own deny record)", cancellationToken)
                : AuditCommand(principal, commandText, decision.Allowed ? "allow" : "deny", decision.Rule, cancellationToken);
            if (!decision.Allowed)
            {
                return await HoldAsync(Reply(message, decision.Explanation!), recorded, holdUntilRecorded).ConfigureAwait(false);
            }

            // A command with effects runs only once its record is stored.
            if (!command.Info.AnswerOnly)
            {
                await recorded.ConfigureAwait(false);
            }
        }

        OutgoingMessage reply;
        try
        {
            var context = new CommandContext(message, command.Info.Name, arguments, _registry, _options)
            {
                Aliases = _aliases?.Index,
                Principal = principal,
                Robot = this,
                Sudo = sudo,
            };
            reply = await command.ExecuteAsync(context, cancellationToken).ConfigureAwait(false);
            reply = reply with { ThreadId = reply.ThreadId ?? message.ThreadId };
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
            reply = Reply(message, $"`{command.Info.Name}` failed: {ex.GetType().Name}. The details are in the server log.");
        }

        // Outside the try: a store that cannot take the record is the adapter's to report, not the command's failure.
        return await HoldAsync(reply, recorded, holdUntilRecorded).ConfigureAwait(false);
    }

    /// <summary>Whether <paramref name="principal"/> may see a built-in command (help, suggestions).</summary>
    public static bool MaySee(Principal? principal, CommandInfo info)
    {
        ArgumentNullException.ThrowIfNull(info);
        return principal is null || info.Permission is null || AccessService.Check(principal, info.Permission, "*").Allowed;
    }

    /// <summary>The answer, with the record it rests on: waited for here unless the caller holds the answer itself.</summary>
    private static async ValueTask<OutgoingMessage> HoldAsync(OutgoingMessage answer, Task recorded, bool holdUntilRecorded)
    {
        if (!holdUntilRecorded)
        {
            await recorded.ConfigureAwait(false);
            return answer;
        }

        return answer with { Recorded = recorded };
    }

    /// <summary>Starts writing the command's audit record; the task completes once it is stored.</summary>
    private Task AuditCommand(Principal? principal, string commandText, string? decision, string rule, CancellationToken cancellationToken)
    {
        if (principal is null || _access is null)
        {
            return Task.CompletedTask;
        }

        return _access.Audit.WriteAsync(new AuditEntry
        {
            Kind = AuditKinds.Command,
            Actor = principal.Name,
            Door = principal.Door,
            Place = principal.Place,
            Subject = AuditLog.MaskSecrets(commandText),
            Decision = decision,
            Rule = rule,
        }, cancellationToken);
    }

    private string UnknownCommand(string name, string commandText, Principal? principal)
    {
        var prefix = _options.CommandPrefix;
        var suggestions = _registry.Suggest(name).Where(s => MaySee(principal, s.Info)).Select(s => prefix + s.Info.Usage).ToList();
        if (_aliases is not null)
        {
            // A line that starts like an alias but does not fit any of its formats: show that alias's forms.
            var index = _aliases.Index;
            var first = name.ToLowerInvariant();
            var sameStart = index.All.Where(c => c.Format.LeadingLiteral.Split(' ')[0] == first && AliasDispatcher.MaySee(principal, c.Alias, _aliases.FindAction(c.Alias))).Select(c => prefix + c.Entry.Display).Distinct(StringComparer.Ordinal).Take(5).ToList();
            if (sameStart.Count > 0)
            {
                return $"That does not fit {Markdown.Code(name)}'s form{(sameStart.Count > 1 ? "s" : string.Empty)}: {string.Join(", ", sameStart.Select(Markdown.Code))}. Say `{prefix}help {name}` for details.";
            }

            suggestions.AddRange(index.Suggest(commandText).Where(c => AliasDispatcher.MaySee(principal, c.Alias, _aliases.FindAction(c.Alias))).Select(c => prefix + c.Entry.Display));
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
