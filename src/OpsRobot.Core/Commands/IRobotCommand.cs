using OpsRobot.Core.Chat;

namespace OpsRobot.Core.Commands;

/// <summary>What help shows about a command.</summary>
/// <param name="Pack">The pack the command belongs to.</param>
/// <param name="Name">The word that invokes it.</param>
/// <param name="Usage">Its form, without the prefix: <c>echo TEXT</c>.</param>
/// <param name="Summary">One line saying what it does.</param>
public sealed record CommandInfo(string Pack, string Name, string Usage, string Summary)
{
    /// <summary>
    /// The permission needed to run it (and to see it in help); null when anyone may, linked or not. Commands that
    /// act on a particular resource check that too when they run.
    /// </summary>
    public string? Permission { get; init; }

    /// <summary>
    /// True when the command's only effect is its answer (echo, ping, help): the robot may then work out the
    /// answer while the command's audit record is still being written, and the answer is held back until that
    /// record is stored (<see cref="Chat.OutgoingMessage.Recorded"/>), which keeps "audited before it has any
    /// effect" while letting a burst of such lines share one commit. Anything that changes state leaves it false.
    /// </summary>
    public bool AnswerOnly { get; init; }
}

/// <summary>The line being answered, who sent it, and the robot's view of its commands.</summary>
/// <param name="Message">The chat line.</param>
/// <param name="CommandName">The command word as registered.</param>
/// <param name="Arguments">The text after the command word, trimmed.</param>
/// <param name="Commands">Every command the robot knows.</param>
/// <param name="Options">How commands are addressed (prefix, robot name).</param>
public sealed record CommandContext(
    IncomingMessage Message, string CommandName, string Arguments, CommandRegistry Commands, RobotOptions Options)
{
    /// <summary>The packs' aliases, when the engine runs actions.</summary>
    public AliasIndex? Aliases { get; init; }

    /// <summary>Who is asking, as access control sees them; null only where access control is not wired (parser tests).</summary>
    public Access.Principal? Principal { get; init; }

    /// <summary>The robot answering, for commands that run another command (<c>sudo</c>).</summary>
    public Robot? Robot { get; init; }

    /// <summary>True when the command line came through <c>sudo</c>.</summary>
    public bool Sudo { get; init; }
}

/// <summary>A command the robot answers. Built-in commands implement this; pack aliases join them later.</summary>
public interface IRobotCommand
{
    CommandInfo Info { get; }

    ValueTask<OutgoingMessage> ExecuteAsync(CommandContext context, CancellationToken cancellationToken);
}
