using OpsRobot.Chat.BuiltIn;
using OpsRobot.Core.Rooms;
using OpsRobot.Core.Storage;
using OpsRobot.Core.Users;

namespace OpsRobot.Chat.Shell;

/// <summary>How a shell session starts.</summary>
/// <param name="UserName">Who is typing; created as a user without a password on first use.</param>
/// <param name="RoomName">The room to talk in; null for the user's direct conversation with the robot.</param>
/// <param name="Interactive">True when a person is at a terminal: show a greeting and a prompt.</param>
public sealed record ShellSession(string UserName, string? RoomName, bool Interactive);

/// <summary>
/// The shell chat: talks to the robot from a terminal or a pipe, through the built-in chat, on the same packs and
/// store as the server, without a server running. In a pipe it reads one line per message, writes every reply,
/// and returns after the last reply is written.
/// </summary>
public sealed class ShellChat(BuiltInChat chat, IUserStore users, IRoomStore rooms, TimeProvider time)
{
    public const string Platform = "shell";

    public async Task<int> RunAsync(ShellSession session, TextReader input, TextWriter output, TextWriter error, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(session);
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(error);

        if (!UserNames.IsValid(session.UserName))
        {
            await error.WriteLineAsync($"'{session.UserName}' is not a valid user name: {UserNames.Rule}. Pass --user NAME.").ConfigureAwait(false);
            return 2;
        }

        if (session.RoomName is not null && !RoomNames.IsValid(session.RoomName))
        {
            await error.WriteLineAsync($"'{session.RoomName}' is not a valid room name: {RoomNames.Rule}.").ConfigureAwait(false);
            return 2;
        }

        var user = await users.FindByNameAsync(session.UserName, cancellationToken).ConfigureAwait(false)
            ?? await CreateUserAsync(session.UserName, cancellationToken).ConfigureAwait(false);
        var room = session.RoomName is null
            ? await rooms.GetOrCreateDirectAsync(user.Id, user.Name, time.GetUtcNow(), cancellationToken).ConfigureAwait(false)
            : await OpenRoomAsync(session.RoomName, user, cancellationToken).ConfigureAwait(false);

        var prompt = $"{user.Name}@{(room.Kind == RoomKind.Direct ? chat.Options.RobotName : room.Name)}> ";
        if (session.Interactive)
        {
            var how = room.Kind == RoomKind.Direct
                ? "every line is a command, no prefix needed"
                : $"address the robot with {chat.Options.CommandPrefix}command or \"{chat.Options.RobotName}: command\"";
            await output.WriteLineAsync($"OpsRobot shell: you are {user.Name} in {room.Name} ({how}). Try help; Ctrl-D or exit to leave.").ConfigureAwait(false);
        }

        while (!cancellationToken.IsCancellationRequested)
        {
            if (session.Interactive)
            {
                await output.WriteAsync(prompt).ConfigureAwait(false);
                await output.FlushAsync(cancellationToken).ConfigureAwait(false);
            }

            var line = await input.ReadLineAsync(cancellationToken).ConfigureAwait(false);
            if (line is null)
            {
                break;
            }

            if (session.Interactive && line.Trim() is "exit" or "quit")
            {
                break;
            }

            if (line.Trim().Length == 0)
            {
                continue;
            }

            try
            {
                var result = await chat.PostAsync(user, room, line, Platform, cancellationToken).ConfigureAwait(false);
                if (result.Reply is not null)
                {
                    await output.WriteLineAsync(TerminalText.Render(result.Reply.Text)).ConfigureAwait(false);
                }
            }
            catch (ChatRefusedException ex)
            {
                await output.WriteLineAsync(ex.Message).ConfigureAwait(false);
            }
            catch (StoreUnavailableException ex)
            {
                await error.WriteLineAsync($"The store refused the message: {ex.Message}").ConfigureAwait(false);
                if (!session.Interactive)
                {
                    return 1;
                }
            }
        }

        if (session.Interactive)
        {
            await output.WriteLineAsync().ConfigureAwait(false);
        }

        await output.FlushAsync(cancellationToken).ConfigureAwait(false);
        return 0;
    }

    private async Task<UserRecord> CreateUserAsync(string name, CancellationToken cancellationToken)
    {
        try
        {
            return await users.CreateAsync(name, name, isAdmin: false, passwordHash: null, cancellationToken).ConfigureAwait(false);
        }
        catch (StoreConflictException)
        {
            // Another process created the same user between our look-up and our insert.
            return (await users.FindByNameAsync(name, cancellationToken).ConfigureAwait(false))!;
        }
    }

    private async Task<RoomRecord> OpenRoomAsync(string name, UserRecord user, CancellationToken cancellationToken)
    {
        var room = await rooms.FindAsync(name, cancellationToken).ConfigureAwait(false);
        if (room is null)
        {
            try
            {
                return await rooms.CreateAsync(name, string.Empty, user.Id, time.GetUtcNow(), cancellationToken).ConfigureAwait(false);
            }
            catch (StoreConflictException)
            {
                room = (await rooms.FindAsync(name, cancellationToken).ConfigureAwait(false))!;
            }
        }

        await rooms.JoinAsync(room.Id, user.Id, time.GetUtcNow(), cancellationToken).ConfigureAwait(false);
        return room;
    }
}
