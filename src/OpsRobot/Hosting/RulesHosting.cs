using OpsRobot.Core.Datastore;
using OpsRobot.Core.Rules;
using OpsRobot.Web;

namespace OpsRobot.Hosting;

/// <summary>How the host wires events, rules, sensors, webhooks and the datastore (kept here so ServerHost gains one line each).</summary>
internal static partial class RulesHosting
{
    /// <summary>For every process that opens the store (server and shell): the datastore and the event publisher, configured.</summary>
    public static IServiceCollection AddOpsRobotDatastore(this IServiceCollection services, IConfiguration configuration, OpsRobotPaths paths)
    {
        services.AddOpsRobotEventsAndDatastore();
        services.Configure<DatastoreOptions>(configuration.GetSection("OpsRobot:Datastore"));
        services.PostConfigure<DatastoreOptions>(o => o.KeyFile = Path.Combine(paths.DataDir, o.KeyFile));
        return services;
    }

    /// <summary>For the server: the rule engine, timers and sensors in the background, and the webhooks' limits.</summary>
    public static IServiceCollection AddOpsRobotRulesHosting(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOpsRobotRuleEngine();
        services.Configure<RuleEngineOptions>(configuration.GetSection("OpsRobot:Rules"));
        services.Configure<WebhookOptions>(configuration.GetSection("OpsRobot:Webhooks"));
        return services;
    }

    /// <summary>Maps webhooks, the datastore API and the events, rules and enforcements API.</summary>
    public static IEndpointRouteBuilder MapOpsRobotRulesApi(this IEndpointRouteBuilder app)
    {
        app.MapWebhooks();
        app.MapKeyValueApi();
        app.MapEventApi();
        app.MapAlertIntake();
        return app;
    }

    /// <summary>
    /// Opens the datastore's key file before serving, creating it (mode 0600) on first start, so a damaged or
    /// unreadable key stops the start with its fix rather than failing the first secret later.
    /// </summary>
    public static void PrepareDatastore(IServiceProvider services, ILogger logger)
    {
        var keyFile = services.GetRequiredService<Microsoft.Extensions.Options.IOptions<DatastoreOptions>>().Value.KeyFile;
        var existed = File.Exists(keyFile);
        try
        {
            services.GetRequiredService<ISecretProtector>();
        }
        catch (DatastoreException ex)
        {
            throw new StartupException(ex.Message, ex);
        }

        if (!existed)
        {
            LogKeyCreated(logger, keyFile);
        }

        if (AesGcmSecretProtector.IsTooOpen(keyFile))
        {
            LogKeyTooOpen(logger, keyFile);
        }
    }

    [LoggerMessage(EventId = 4100, Level = LogLevel.Warning, Message = "Created the datastore key {KeyFile}. Back it up apart from the database: without it the datastore's secrets cannot be read")]
    private static partial void LogKeyCreated(ILogger logger, string keyFile);

    [LoggerMessage(EventId = 4201, Level = LogLevel.Warning, Message = "The datastore key {KeyFile} can be read by other users; restrict it with: chmod 600")]
    private static partial void LogKeyTooOpen(ILogger logger, string keyFile);
}
