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
public sealed class ShellChat(BuiltInChat chat, RoomFeed feed, IUserStore users, IRoomStore rooms, TimeProvider time)
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

        // The robot's messages in this room reach the terminal through the live feed: answers, and the results
        // of executions that arrive later.
        using var subscription = feed.Subscribe(user.Id);
        if (!session.Interactive)
        {
            return await RunPipedAsync(user, room, subscription, input, output, error, cancellationToken).ConfigureAwait(false);
        }

        using var printing = new CancellationTokenSource();
        var printer = new LivePrinter(subscription, room.Id, output, prompt);
        var printerTask = printer.RunAsync(printing.Token);
        var pending = new List<Task>();

        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                await output.WriteAsync(prompt).ConfigureAwait(false);
                await output.FlushAsync(cancellationToken).ConfigureAwait(false);

                var line = await input.ReadLineAsync(cancellationToken).ConfigureAwait(false);
                if (line is null)
                {
                    break;
                }

                if (line.Trim() is "exit" or "quit")
                {
                    break;
                }

                if (line.Trim().Length == 0)
                {
                    continue;
                }

                pending.RemoveAll(t => t.IsCompleted);
                try
                {
                    printer.BeginAnswer();
                    PostResult result;
                    try
                    {
                        result = await chat.PostAsync(user, room, line, Platform, cancellationToken).ConfigureAwait(false);
                        if (result.Reply is not null)
                        {
                            // Show the immediate answer before the next prompt; later ones interrupt the prompt.
                            await printer.WaitPrintedAsync(result.Reply.Id, cancellationToken).ConfigureAwait(false);
                        }
                    }
                    finally
                    {
                        printer.EndAnswer();
                    }

                    pending.Add(result.FollowUp);
                }
                catch (ChatRefusedException ex)
                {
                    await output.WriteLineAsync(ex.Message).ConfigureAwait(false);
                }
                catch (StoreUnavailableException ex)
                {
                    await error.WriteLineAsync($"The store refused the message: {ex.Message}").ConfigureAwait(false);
                }
            }

            // Leaving: wait for the results still on their way, so none is lost.
            await Task.WhenAll(pending).ConfigureAwait(false);
            await printer.WaitIdleAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            await printing.CancelAsync().ConfigureAwait(false);
            await printerTask.ConfigureAwait(false);
        }

        await DrainAsync(subscription, room.Id, output).ConfigureAwait(false);
        await output.WriteLineAsync().ConfigureAwait(false);
        await output.FlushAsync(cancellationToken).ConfigureAwait(false);
        return 0;
    }

    /// <summary>The most lines of a piped script dispatched but not yet stored and printed.</summary>
    internal const int PipedWindow = 128;

    /// <summary>
    /// A script on standard input: each line is dispatched after the one before, as typed, but the storing of a
    /// line, its audit record and its answer are not waited for one by one: up to <see cref="PipedWindow"/> lines are
    /// in flight and share the store's commits. Answers are printed in order, each only once it and its record are
    /// stored. A line that starts an execution is waited for, result included, before the next line is read, so a
    /// script still sees each action finish before the next one starts.
    /// </summary>
    private async Task<int> RunPipedAsync(UserRecord user, RoomRecord room, RoomFeed.Subscription subscription, TextReader input, TextWriter output, TextWriter error, CancellationToken cancellationToken)
    {
        var inFlight = new Queue<Task<PostResult>>();
        Task tail = Task.CompletedTask;

        // Waits for the oldest lines until at most `keep` are in flight, printing what they delivered.
        async Task<bool> SettleAsync(int keep)
        {
            while (inFlight.Count > keep)
            {
                try
                {
                    await inFlight.Dequeue().ConfigureAwait(false);
                }
                catch (StoreUnavailableException ex)
                {
                    await DrainAsync(subscription, room.Id, output).ConfigureAwait(false);
                    await error.WriteLineAsync($"The store refused the message: {ex.Message}").ConfigureAwait(false);
                    return false;
                }

                await DrainAsync(subscription, room.Id, output).ConfigureAwait(false);
            }

            return true;
        }

        var pipe = input as PipedLineReader;
        while (!cancellationToken.IsCancellationRequested)
        {
            string? line = null;
            if (pipe is null || !pipe.TryReadBufferedLine(out line))
            {
                // About to wait for input: first print every answer due, so a script that waits for one gets it.
                if (pipe is not null)
                {
                    if (!await SettleAsync(0).ConfigureAwait(false))
                    {
                        return 1;
                    }

                    await DrainAsync(subscription, room.Id, output).ConfigureAwait(false);
                    await output.FlushAsync(cancellationToken).ConfigureAwait(false);
                }

                line = await input.ReadLineAsync(cancellationToken).ConfigureAwait(false);
            }

            if (line is null)
            {
                break;
            }

            if (line.Trim().Length == 0)
            {
                continue;
            }

            try
            {
                var post = await chat.PostPipelinedAsync(user, room, line, Platform, tail, cancellationToken).ConfigureAwait(false);
                tail = post.Completion;
                inFlight.Enqueue(post.Completion);
                if (!post.FollowUp.IsCompleted)
                {
                    // An execution started: everything before it printed, then its result, before the next line.
                    if (!await SettleAsync(0).ConfigureAwait(false))
                    {
                        return 1;
                    }

                    await post.FollowUp.ConfigureAwait(false);
                    await DrainAsync(subscription, room.Id, output).ConfigureAwait(false);
                    await output.FlushAsync(cancellationToken).ConfigureAwait(false);
                }
                else if (!await SettleAsync(PipedWindow).ConfigureAwait(false))
                {
                    return 1;
                }
            }
            catch (ChatRefusedException ex)
            {
                // Printed where the line was, after the answers to the lines before it.
                if (!await SettleAsync(0).ConfigureAwait(false))
                {
                    return 1;
                }

                await output.WriteLineAsync(ex.Message).ConfigureAwait(false);
            }
            catch (StoreUnavailableException ex)
            {
                await SettleAsync(0).ConfigureAwait(false);
                await error.WriteLineAsync($"The store refused the message: {ex.Message}").ConfigureAwait(false);
                return 1;
            }
        }

        if (!await SettleAsync(0).ConfigureAwait(false))
        {
            return 1;
        }

        await DrainAsync(subscription, room.Id, output).ConfigureAwait(false);
        await output.FlushAsync(cancellationToken).ConfigureAwait(false);
        return 0;
    }

    private static async Task DrainAsync(RoomFeed.Subscription subscription, long roomId, TextWriter output)
    {
        while (subscription.Messages.TryRead(out var message))
        {
            if (message.RoomId == roomId && message.AuthorKind == AuthorKind.Robot)
            {
                await output.WriteLineAsync(TerminalText.Render(message.Text)).ConfigureAwait(false);
            }
        }
    }

    /// <summary>
    /// Prints the robot's messages in an interactive session as they arrive. An answer the prompt waits for is
    /// printed plainly; a later one (an execution's result) clears the prompt line, prints, and shows the prompt again.
    /// </summary>
    private sealed class LivePrinter(RoomFeed.Subscription subscription, long roomId, TextWriter output, string prompt)
    {
        private static readonly TimeSpan AnswerWait = TimeSpan.FromSeconds(10);
        private readonly Lock _gate = new();
        private long _waitingFor;
        private long _lastPrinted;
        private bool _answering;

        /// <summary>A line is being posted: what arrives until <see cref="EndAnswer"/> is its answer, printed plainly.</summary>
        public void BeginAnswer()
        {
            lock (_gate)
            {
                _answering = true;
            }
        }

        public void EndAnswer()
        {
            lock (_gate)
            {
                _answering = false;
            }
        }
        private TaskCompletionSource? _printed;

        public async Task WaitPrintedAsync(long messageId, CancellationToken cancellationToken)
        {
            Task wait;
            lock (_gate)
            {
                if (_lastPrinted >= messageId)
                {
                    return;
                }

                _waitingFor = messageId;
                _printed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                wait = _printed.Task;
            }

            try
            {
                await wait.WaitAsync(AnswerWait, cancellationToken).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                // The live feed dropped it (a very slow terminal); the answer is in the room's history.
            }
        }

        /// <summary>Gives messages already published a moment to be printed before the session ends.</summary>
        public async Task WaitIdleAsync(CancellationToken cancellationToken)
        {
            for (var i = 0; i < 20 && subscription.Messages.TryPeek(out _); i++)
            {
                await Task.Delay(25, cancellationToken).ConfigureAwait(false);
            }
        }

        public async Task RunAsync(CancellationToken cancellationToken)
        {
            try
            {
                await foreach (var message in subscription.Messages.ReadAllAsync(cancellationToken).ConfigureAwait(false))
                {
                    if (message.RoomId != roomId || message.AuthorKind != AuthorKind.Robot)
                    {
                        continue;
                    }

                    bool awaited;
                    lock (_gate)
                    {
                        awaited = _answering || message.Id <= _waitingFor;
                    }

                    var text = TerminalText.Render(message.Text);
                    if (awaited)
                    {
                        await output.WriteLineAsync(text).ConfigureAwait(false);
                    }
                    else
                    {
                        // Clear the prompt line (ANSI erase-line), print, then show the prompt again.
                        await output.WriteAsync("\r\u001b[K" + text + "\n" + prompt).ConfigureAwait(false);
                    }

                    await output.FlushAsync(cancellationToken).ConfigureAwait(false);
                    lock (_gate)
                    {
                        _lastPrinted = Math.Max(_lastPrinted, message.Id);
                        if (_lastPrinted >= _waitingFor)
                        {
                            _printed?.TrySetResult();
                        }
                    }
                }
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
            }
        }
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
