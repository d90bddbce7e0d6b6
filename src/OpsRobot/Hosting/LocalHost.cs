namespace OpsRobot.Hosting;

/// <summary>
/// The engine without a web server, for verbs that work on the store directly (the shell chat, user
/// administration). Same configuration sources and services as the server.
/// </summary>
internal static class LocalHost
{
    public static IHost Build(string[] args, IDictionary<string, string?> settings)
    {
        var home = OpsRobotPaths.ResolveHome();
        HostApplicationBuilder builder;
        try
        {
            builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { Args = Composition.HostArgs(args), ContentRootPath = home });
            builder.Configuration.AddInMemoryCollection(settings);
        }
        catch (InvalidDataException ex)
        {
            throw new StartupException($"{ex.Message} {ex.InnerException?.Message} Fix the file (it must be valid JSON) and start again.", ex);
        }

        var (opsSettings, robot) = Composition.LoadSettings(builder.Configuration);
        var paths = OpsRobotPaths.Resolve(home, opsSettings);
        ServerHost.ConfigureLogging(builder.Logging, forShell: true);
        builder.Services.AddOpsRobot(builder.Configuration, paths, robot, TimeProvider.System);
        builder.Services.AddSingleton(opsSettings);
        return builder.Build();
    }
}
