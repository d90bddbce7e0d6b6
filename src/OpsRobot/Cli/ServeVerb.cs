using System.Globalization;
using System.Text;
using OpsRobot.Hosting;

namespace OpsRobot.Cli;

/// <summary><c>opsrobot serve</c>: the server, on its embedded default unless configured otherwise.</summary>
internal static partial class ServeVerb
{
    public const string PasswordFileName = "initial-admin-password";

    public static async Task<int> RunAsync(string[] configArgs, IDictionary<string, string?> settings, CancellationToken cancellationToken)
    {
        await using var server = await ServerHost.CreateAsync(configArgs, new ServerOverrides { Settings = settings }, cancellationToken);
        await server.StartAsync(cancellationToken);
        var logger = server.App.Services.GetRequiredService<ILoggerFactory>().CreateLogger("OpsRobot");
        var addresses = string.Join(", ", server.Addresses);
        var interactive = !Console.IsOutputRedirected;
        if (!interactive)
        {
            // On a terminal the banner below says it; in a log collector this line does.
            LogReady(logger, Composition.ProductVersion, addresses, server.Paths.DataDir, server.Paths.PacksDir, server.Packs.Packs.Count);
        }

        if (interactive)
        {
            var banner = new StringBuilder()
                .AppendLine()
                .AppendLine(CultureInfo.InvariantCulture, $"  OpsRobot {Composition.ProductVersion} is ready: open {string.Join(" or ", server.Addresses)}")
                .AppendLine(CultureInfo.InvariantCulture, $"  data:  {server.Paths.DataDir}")
                .AppendLine(CultureInfo.InvariantCulture, $"  packs: {server.Paths.PacksDir} ({server.Packs.Packs.Count} loaded{(server.Packs.Errors.Count > 0 ? $", {server.Packs.Errors.Count} error(s) logged above" : string.Empty)})");
            Console.Out.Write(banner.ToString());
        }

        if (server.FirstAdmin is { } admin)
        {
            ShowFirstAdmin(admin.UserName, admin.GeneratedPassword, server.Paths.DataDir, interactive, logger);
        }

        if (interactive)
        {
            Console.Out.WriteLine("  Stop with Ctrl+C.");
            Console.Out.WriteLine();
        }

        await server.App.WaitForShutdownAsync(cancellationToken);
        return 0;
    }

    /// <summary>
    /// Shows the first administrator's sign-in once. On a terminal the password is printed; otherwise (a service
    /// manager, a log collector) it goes to a file only its owner can read, and the log says where, never what.
    /// </summary>
    private static void ShowFirstAdmin(string userName, string? password, string dataDir, bool interactive, ILogger logger)
    {
        if (password is null)
        {
            LogAdminConfigured(logger, userName);
            if (interactive)
            {
                Console.Out.WriteLine($"  First start: sign in as '{userName}' with the password from OpsRobot:Admin:Password.");
            }

            return;
        }

        if (interactive)
        {
            Console.Out.WriteLine($"  First start: sign in as '{userName}' with password {password}");
            Console.Out.WriteLine($"  (shown only this once; change it with: ./opsrobot user passwd {userName})");
            return;
        }

        var file = Path.Combine(dataDir, PasswordFileName);
        File.WriteAllText(file, password + "\n");
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(file, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }

        LogAdminPasswordFile(logger, userName, file);
    }

    [LoggerMessage(EventId = 7001, Level = LogLevel.Information,
        Message = "OpsRobot {Version} is ready at {Addresses} (data {DataDir}, packs {PacksDir}, {PackCount} pack(s) loaded)")]
    private static partial void LogReady(ILogger logger, string version, string addresses, string dataDir, string packsDir, int packCount);

    [LoggerMessage(EventId = 7002, Level = LogLevel.Warning,
        Message = "First start: administrator {UserName} created; its generated password is in {File} (readable by this account only). Sign in, then change it with 'opsrobot user passwd'.")]
    private static partial void LogAdminPasswordFile(ILogger logger, string userName, string file);

    [LoggerMessage(EventId = 7003, Level = LogLevel.Information,
        Message = "First start: administrator {UserName} created with the password from OpsRobot:Admin:Password")]
    private static partial void LogAdminConfigured(ILogger logger, string userName);
}
