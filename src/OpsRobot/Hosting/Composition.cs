using System.Globalization;
using System.Reflection;
using Microsoft.Extensions.Options;
using OpsRobot.Chat;
using OpsRobot.Core;
using OpsRobot.Core.Commands;
using OpsRobot.Core.Executions;
using OpsRobot.Core.Packs;
using OpsRobot.Core.Status;
using OpsRobot.Core.Storage;
using OpsRobot.Integrations;
using OpsRobot.Runners;
using OpsRobot.Storage;
using OpsRobot.Storage.Sqlite;

namespace OpsRobot.Hosting;

/// <summary>What the server and the shell chat share: settings, services, and the checks made before either starts.</summary>
internal static partial class Composition
{
    public static string ProductVersion { get; } =
        typeof(Composition).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "0.0.0";

    /// <summary>Binds and checks the settings; a bad value becomes a <see cref="StartupException"/> that names the key.</summary>
    public static (OpsRobotSettings Settings, RobotOptions Robot) LoadSettings(IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var section = configuration.GetSection(OpsRobotSettings.Section);
        var settings = new OpsRobotSettings();
        var robot = new RobotOptions();
        try
        {
            section.Bind(settings);
            section.Bind(robot);
        }
        catch (InvalidOperationException ex)
        {
            throw new StartupException($"Invalid configuration: {ex.Message} {ex.InnerException?.Message} Fix the value in appsettings.json, the OPSROBOT__… environment variable or the command line.", ex);
        }

        if (robot.MaxMessageLength is < 1 or > 1_000_000)
        {
            throw new StartupException($"OpsRobot:MaxMessageLength is {robot.MaxMessageLength}; it must be between 1 and 1000000.");
        }

        if (robot.CommandPrefix.Any(char.IsWhiteSpace) || robot.CommandPrefix.Length > 8)
        {
            throw new StartupException($"OpsRobot:CommandPrefix '{robot.CommandPrefix}' must be at most 8 characters with no spaces (for example '!' or '.').");
        }

        if (!RobotNamePattern().IsMatch(robot.RobotName))
        {
            throw new StartupException($"OpsRobot:RobotName '{robot.RobotName}' must be 1 to 32 letters, digits, '-' or '_'.");
        }

        if (settings.SignIn.MaxFailedAttempts < 1)
        {
            throw new StartupException("OpsRobot:SignIn:MaxFailedAttempts must be at least 1.");
        }

        return (settings, robot);
    }

    [System.Text.RegularExpressions.GeneratedRegex("^[A-Za-z0-9_-]{1,32}$", System.Text.RegularExpressions.RegexOptions.CultureInvariant, matchTimeoutMilliseconds: 100)]
    private static partial System.Text.RegularExpressions.Regex RobotNamePattern();

    /// <summary>
    /// The host's arguments, plus one: appsettings.json is read once at start, not watched. Watching it means a
    /// recursive file watcher on the whole home folder, the database included, woken by every write to it (a
    /// tenth of the processor under chat load, measured); settings take effect on restart, as docs/configuration.md says.
    /// </summary>
    public static string[] HostArgs(string[] args) => [.. args ?? [], "--hostBuilder:reloadConfigOnChange=false"];

    /// <summary>Registers the engine, the store and the built-in chat.</summary>
    public static IServiceCollection AddOpsRobot(this IServiceCollection services, IConfiguration configuration, OpsRobotPaths paths, RobotOptions robot, TimeProvider time)
    {
        services.AddSingleton(time);
        services.AddSingleton(paths);
        services.AddSingleton(Options.Create(robot));
        services.AddSingleton(new RobotInfo(ProductVersion, time.GetUtcNow()));
        services.AddOpsRobotCore();
        services.Configure<Core.Executions.ExecutionOptions>(configuration.GetSection("OpsRobot:Executions"));
        services.Configure<Core.Commands.ChatNotifyOptions>(configuration.GetSection("OpsRobot:Chat"));
        services.Configure<Core.Access.AccessOptions>(configuration.GetSection("OpsRobot:Access"));
        services.Configure<Core.Cmdb.CmdbOptions>(configuration.GetSection("OpsRobot:Cmdb"));
        services.AddOpsRobotRunners();
        services.AddOpsRobotIntegrations();
        services.AddOpsRobotAlertsHosting(configuration);
        services.Configure<Integrations.Ssh.SshOptions>(configuration.GetSection("OpsRobot:Ssh"));
        services.PostConfigure<Integrations.Ssh.SshOptions>(o => o.KnownHostsFile = Path.Combine(paths.DataDir, o.KnownHostsFile));
        services.Configure<Integrations.Deploy.DeployOptions>(configuration.GetSection("OpsRobot:Deploy"));
        services.AddSingleton<IStatusSource, ExecutionStatusSource>();
        services.AddOpsRobotSqlite(o =>
        {
            configuration.GetSection("OpsRobot:Storage:Sqlite").Bind(o);
            o.Path = Path.Combine(paths.DataDir, o.Path);
        });
        services.AddOpsRobotBuiltInChat();
        services.AddOpsRobotDatastore(configuration, paths);
        return services;
    }

    /// <summary>
    /// The checks and work that come before serving: the data folder is writable, the packs folder exists, the
    /// schema is current, the packs are loaded. Each failure is a <see cref="StartupException"/> naming its fix.
    /// </summary>
    public static Task<PackLoadResult> PrepareAsync(IServiceProvider services, ILogger logger, CancellationToken cancellationToken) =>
        PrepareAsync(services, logger, StartupRecovery.TakeOver, cancellationToken);

    /// <inheritdoc cref="PrepareAsync(IServiceProvider, ILogger, CancellationToken)"/>
    /// <param name="services">The host's services.</param>
    /// <param name="logger">Where start-up problems are logged.</param>
    /// <param name="recovery">What this process does with the work of processes that are gone.</param>
    /// <param name="cancellationToken">Stops the preparation.</param>
    public static async Task<PackLoadResult> PrepareAsync(IServiceProvider services, ILogger logger, StartupRecovery recovery, CancellationToken cancellationToken)
    {
        var paths = services.GetRequiredService<OpsRobotPaths>();
        EnsureWritable(paths.DataDir);
        if (!Directory.Exists(paths.PacksDir))
        {
            throw new StartupException(
                $"The packs folder {paths.PacksDir} does not exist. Create it, or point OpsRobot:PacksDir at your packs (--packs DIR, or OPSROBOT__PACKSDIR).");
        }

        await MigrateOnlyAsync(services, cancellationToken).ConfigureAwait(false);

        RulesHosting.PrepareDatastore(services, logger);
        var packs = services.GetRequiredService<PackCatalog>().Load(paths.PacksDir);
        foreach (var error in packs.Errors)
        {
            LogPackError(logger, error.ToString());
        }

        var access = services.GetRequiredService<Core.Access.AccessService>();
        RoleFileLoader.Reload(access, paths, logger);
        await EnsureWhitelistAsync(services, access, logger, cancellationToken).ConfigureAwait(false);

        if (recovery != StartupRecovery.None)
        {
            await TellAbandonedAsync(services, logger, recovery == StartupRecovery.TakeOver, cancellationToken).ConfigureAwait(false);
        }

        return packs;
    }

    /// <summary>
    /// Executions left unfinished by a process that is gone (a crash, a kill -9): those that had started are marked
    /// abandoned, those still queued run now (see <see cref="Core.Executions.ExecutionService.RecoverAsync(bool, CancellationToken)"/>), and
    /// each room that asked for one is told, so nothing stays "running" forever and nobody waits in vain.
    /// </summary>
    private static async Task TellAbandonedAsync(IServiceProvider services, ILogger logger, bool takeOverQueued, CancellationToken cancellationToken)
    {
        // A workflow whose run is stored is the server's to resume (WorkflowResumer), not to abandon, in any process.
        var workflows = services.GetService<Core.Workflows.Runtime.WorkflowRecovery>();
        var recovery = await services.GetRequiredService<Core.Executions.ExecutionService>()
            .RecoverAsync(takeOverQueued, workflows is null ? null : workflows.IsResumableAsync, cancellationToken).ConfigureAwait(false);
        var sender = services.GetRequiredService<Core.Chat.IChatReplySender>();
        foreach (var e in recovery.Abandoned)
        {
            var text = $"`{e.ActionRef}` #{e.Id.ToString(CultureInfo.InvariantCulture)} was **abandoned**: {e.Error}";
            await TellRoomAsync(sender, e.Requester, text, cancellationToken).ConfigureAwait(false);
        }

        var dispatcher = services.GetRequiredService<AliasDispatcher>();
        foreach (var handle in recovery.Resumed)
        {
            var e = handle.Execution;
            var text = $"`{e.ActionRef}` #{e.Id.ToString(CultureInfo.InvariantCulture)} was queued when OpsRobot stopped and had not started, so it **runs now**.";
            await TellRoomAsync(sender, e.Requester, text, cancellationToken).ConfigureAwait(false);
            _ = ReportResumedAsync(sender, dispatcher, handle, logger);
        }
    }

    /// <summary>The result of an execution taken over at start goes to the room that asked, as the request's own would have.</summary>
    internal static async Task ReportResumedAsync(Core.Chat.IChatReplySender sender, AliasDispatcher dispatcher, Core.Executions.ExecutionHandle handle, ILogger logger)
    {
        try
        {
            var final = await handle.Outcome.ConfigureAwait(false);
            if (!final.Status.IsFinished())
            {
                // OpsRobot stopped first: the work carries on at the next start, which reports it then.
                return;
            }

            await TellRoomAsync(sender, final.Requester, await dispatcher.DescribeResultAsync(final).ConfigureAwait(false), CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // The execution's record holds the outcome; a room that cannot be told is no reason to fail anything else.
            LogResumedReportFailed(logger, ex, handle.Execution.Id);
        }
    }

    private static async Task TellRoomAsync(Core.Chat.IChatReplySender sender, Core.Executions.ExecutionRequester requester, string text, CancellationToken cancellationToken)
    {
        if (requester is { Platform: { } platform, RoomId: { } roomId })
        {
            await sender.SendAsync(platform, new Core.Chat.ChatRoom(roomId, requester.RoomName ?? roomId, false),
                new Core.Chat.OutgoingMessage(text) { ThreadId = requester.ThreadId }, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Opens the database and brings its schema up to date; nothing else.</summary>
    public static async Task MigrateOnlyAsync(IServiceProvider services, CancellationToken cancellationToken)
    {
        EnsureWritable(services.GetRequiredService<OpsRobotPaths>().DataDir);
        var database = services.GetRequiredService<SqliteDatabase>();
        try
        {
            await database.MigrateAsync(services.GetRequiredService<TimeProvider>(), cancellationToken).ConfigureAwait(false);
        }
        catch (StoreUnavailableException ex)
        {
            throw new StartupException($"Cannot open the database {database.FilePath}: {ex.Message}", ex);
        }
        catch (Microsoft.Data.Sqlite.SqliteException ex)
        {
            throw new StartupException($"Cannot open the database {database.FilePath}: {ex.Message} If the file is damaged, restore it from a backup or move it aside to start afresh.", ex);
        }

    }

    /// <summary>Puts the users named in <c>OpsRobot:Access:Administrators</c> on the administrators' whitelist.</summary>
    private static async Task EnsureWhitelistAsync(IServiceProvider services, Core.Access.AccessService access, ILogger logger, CancellationToken cancellationToken)
    {
        var users = services.GetRequiredService<Core.Users.IUserStore>();
        foreach (var name in access.Options.Administrators)
        {
            if (await users.FindByNameAsync(name, cancellationToken).ConfigureAwait(false) is not { } user)
            {
                LogUnknownAdministrator(logger, name);
                continue;
            }

            if (!user.IsAdmin)
            {
                await users.SetAdminAsync(user.Id, true, cancellationToken).ConfigureAwait(false);
                await access.Audit.WriteAsync(new Core.Audit.AuditEntry
                {
                    Kind = Core.Audit.AuditKinds.UserChanged,
                    Actor = "configuration",
                    Door = Core.Access.Doors.System,
                    Subject = user.Name,
                    Detail = new System.Text.Json.Nodes.JsonObject { ["administrator"] = true, ["from"] = "OpsRobot:Access:Administrators" },
                }, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    [LoggerMessage(EventId = 4009, Level = LogLevel.Warning, Message = "Could not tell the room the result of execution {ExecutionId}, taken over at start")]
    private static partial void LogResumedReportFailed(ILogger logger, Exception exception, long executionId);

    [LoggerMessage(EventId = 4002, Level = LogLevel.Warning, Message = "OpsRobot:Access:Administrators names {UserName}, who does not exist; create the user, and the next start puts them on the whitelist")]
    private static partial void LogUnknownAdministrator(ILogger logger, string userName);

    /// <summary>Creates the data folder if needed and proves it can be written, or says how to fix it.</summary>
    internal static void EnsureWritable(string dataDir)
    {
        try
        {
            Directory.CreateDirectory(dataDir);
            var probe = Path.Combine(dataDir, $".write-check-{Environment.ProcessId.ToString(CultureInfo.InvariantCulture)}");
            File.WriteAllText(probe, "ok");
            File.Delete(probe);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new StartupException(
                $"The data folder {dataDir} is not writable ({ex.Message}). Fix its permissions, or choose another folder with --data DIR (or OpsRobot:DataDir, OPSROBOT__DATADIR).", ex);
        }
    }

    [LoggerMessage(EventId = 4001, Level = LogLevel.Warning, Message = "Pack not loaded: {Error}")]
    private static partial void LogPackError(ILogger logger, string error);
}

/// <summary>What a process does at start with the work that processes now gone left unfinished.</summary>
internal enum StartupRecovery
{
    /// <summary>The server: abandons what had started, runs what was queued; workflows are resumed once it serves.</summary>
    TakeOver,

    /// <summary>The shell chat: abandons what had started; queued executions and stored workflows wait for the next server.</summary>
    AbandonStarted,

    /// <summary>Administrative verbs (<c>opsrobot user …</c>): touch no execution.</summary>
    None,
}
