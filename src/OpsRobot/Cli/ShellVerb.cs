using OpsRobot.Chat.Shell;
using OpsRobot.Hosting;

namespace OpsRobot.Cli;

/// <summary><c>opsrobot shell</c>: the shell chat, on the same packs and store as the server, without a server.</summary>
internal static class ShellVerb
{
    public static async Task<int> RunAsync(string[] configArgs, IDictionary<string, string?> settings, string? user, string? room, CancellationToken cancellationToken)
    {
        using var host = LocalHost.Build(configArgs, settings);
        var logger = host.Services.GetRequiredService<ILoggerFactory>().CreateLogger("OpsRobot.Shell");
        // A shell session ends when its script or its person does: executions a crashed server left queued are left
        // for the next server, which runs them, instead of being started here and abandoned when the shell exits.
        await Composition.PrepareAsync(host.Services, logger, StartupRecovery.AbandonStarted, cancellationToken);

        var shell = host.Services.GetRequiredService<ShellChat>();
        var interactive = !Console.IsInputRedirected;
        var session = new ShellSession(user ?? DefaultUserName(), room, interactive);
        if (interactive)
        {
            return await shell.RunAsync(session, Console.In, Console.Out, Console.Error, cancellationToken);
        }

        // A pipe: read in blocks, and write answers in blocks too (the shell flushes before it waits for input, after
        // each execution's result, and at the end), instead of one system call per line each way.
        using var input = new PipedLineReader(Console.OpenStandardInput());
        var output = new StreamWriter(Console.OpenStandardOutput(), new System.Text.UTF8Encoding(encoderShouldEmitUTF8Identifier: false), 64 * 1024) { AutoFlush = false };
        await using (output)
        {
            try
            {
                return await shell.RunAsync(session, input, output, Console.Error, cancellationToken);
            }
            finally
            {
                await output.FlushAsync(CancellationToken.None);
            }
        }
    }

    /// <summary>The operating-system account's name when it is a valid user name, else "shell".</summary>
    internal static string DefaultUserName()
    {
        var name = Environment.UserName;
        return Core.Users.UserNames.IsValid(name) ? name : "shell";
    }
}
