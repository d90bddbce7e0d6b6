using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using OpsRobot.Chat.BuiltIn;
using OpsRobot.Chat.Connected;
using OpsRobot.Chat.Slack;
using OpsRobot.Core.Status;

// In the DI namespace (as YARP and ASP.NET do) so the host registers the adapter with one line and no new using.
namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registration of the Slack adapter.</summary>
public static class SlackServiceCollectionExtensions
{
    /// <summary>
    /// Reads <c>OpsRobot:Chat:Slack</c>; when <c>Enabled</c>, adds the adapter (a hosted service), its reply sender
    /// for platform <c>slack</c> and its status (<c>chat:slack</c>). A setting that cannot work throws here, at
    /// start, naming the key.
    /// </summary>
    public static IServiceCollection AddOpsRobotSlack(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        var options = SlackOptions.FromConfiguration(configuration.GetSection(SlackOptions.Section));
        services.TryAddSingleton(Microsoft.Extensions.Options.Options.Create(options));
        if (!options.Enabled)
        {
            return services;
        }

        options.Validate();
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<SlackAdapter>();
        services.AddHostedService(sp => sp.GetRequiredService<SlackAdapter>());
        services.AddSingleton(sp => new ReplySenderRegistration(new ChatAdapterReplySender(sp.GetRequiredService<SlackAdapter>())));
        services.AddSingleton<IStatusSource>(sp => new ChatAdapterStatus(sp.GetRequiredService<SlackAdapter>()));
        return services;
    }
}
