using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using OpsRobot.Chat.BuiltIn;
using OpsRobot.Chat.Irc;
using OpsRobot.Core.Status;

// In the DI namespace (as YARP and ASP.NET do) so the host registers the adapter with one line and no new using.
namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registration of the IRC adapter.</summary>
public static class IrcServiceCollectionExtensions
{
    /// <summary>
    /// Reads <c>OpsRobot:Chat:Irc</c>; when <c>Enabled</c>, adds the adapter (a hosted service), its reply sender
    /// for platform <c>irc</c> and its status. A setting that cannot work throws here, at start, naming the key.
    /// </summary>
    public static IServiceCollection AddOpsRobotIrc(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        var options = IrcOptions.FromConfiguration(configuration.GetSection(IrcOptions.Section));
        services.TryAddSingleton(Microsoft.Extensions.Options.Options.Create(options));
        if (!options.Enabled)
        {
            return services;
        }

        options.Validate();
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<IrcAdapter>();
        services.AddHostedService(sp => sp.GetRequiredService<IrcAdapter>());
        services.TryAddSingleton<IrcReplySender>();
        services.AddSingleton(sp => new ReplySenderRegistration(sp.GetRequiredService<IrcReplySender>()));
        services.AddSingleton<IStatusSource, IrcStatusSource>();
        return services;
    }
}
